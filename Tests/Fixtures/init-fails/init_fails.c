/* A plugin whose init hook fails with a reason the loader must report. */
#include "devserve.h"

#include <string.h>

static int init(void *context, const devserve_host *host, char *error, size_t capacity) {
    (void)context; (void)host;
    strncpy(error, "database at /nonexistent is unreachable", capacity - 1);
    error[capacity - 1] = 0;
    return 1;
}

static int call(void *context, devserve_request *request, const devserve_host *host, devserve_body *body) {
    (void)context; (void)request; (void)host; (void)body;
    return DEVSERVE_APP_OK;
}

static const devserve_plugin plugin = {
    .size = sizeof(devserve_plugin), .abi_major = DEVSERVE_ABI_MAJOR, .abi_minor = DEVSERVE_ABI_MINOR,
    .swift_version = 0, .name = "init-fails", .init = init, .call = call,
};

const devserve_plugin *devserve_plugin_entry(void) { return &plugin; }

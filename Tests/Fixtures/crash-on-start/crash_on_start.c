/* A plugin whose init aborts while the file named by $DEVSERVE_FIXTURE_CRASH_FILE exists:
 * the supervisor's backoff for workers that die on start-up, and its wait for a new build. */
#include "devserve.h"

#include <stdlib.h>
#include <unistd.h>

static int init(void *context, const devserve_host *host, char *error, size_t capacity) {
    (void)context; (void)host; (void)error; (void)capacity;
    const char *marker = getenv("DEVSERVE_FIXTURE_CRASH_FILE");
    if (marker != NULL && access(marker, F_OK) == 0) abort();
    return 0;
}

static int call(void *context, devserve_request *request, const devserve_host *host, devserve_body *body) {
    (void)context; (void)body;
    static const devserve_header headers[] = {{"Content-Type", 12, "text/plain", 10}};
    host->start_response(request, "200 OK", 6, headers, 1, NULL, NULL);
    return DEVSERVE_APP_OK;
}

static const devserve_plugin plugin = {
    .size = sizeof(devserve_plugin), .abi_major = DEVSERVE_ABI_MAJOR, .abi_minor = DEVSERVE_ABI_MINOR,
    .swift_version = 0, .name = "crash-on-start", .init = init, .call = call,
};

const devserve_plugin *devserve_plugin_entry(void) { return &plugin; }

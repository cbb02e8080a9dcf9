/* A plugin built against an imaginary future ABI major: the loader must refuse it. */
#include "devserve.h"

static int call(void *context, devserve_request *request, const devserve_host *host, devserve_body *body) {
    (void)context; (void)request; (void)host; (void)body;
    return DEVSERVE_APP_OK;
}

static const devserve_plugin plugin = {
    .size = sizeof(devserve_plugin), .abi_major = 99, .abi_minor = 0,
    .swift_version = 0, .name = "wrong-major", .call = call,
};

const devserve_plugin *devserve_plugin_entry(void) { return &plugin; }

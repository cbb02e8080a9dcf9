/* A plugin claiming Swift code built by Swift 5.9.0: the loader must refuse it. */
#include "devserve.h"

static int call(void *context, devserve_request *request, const devserve_host *host, devserve_body *body) {
    (void)context; (void)request; (void)host; (void)body;
    return DEVSERVE_APP_OK;
}

static const devserve_plugin plugin = {
    .size = sizeof(devserve_plugin), .abi_major = DEVSERVE_ABI_MAJOR, .abi_minor = DEVSERVE_ABI_MINOR,
    .swift_version = 50900, .name = "wrong-toolchain", .call = call,
};

const devserve_plugin *devserve_plugin_entry(void) { return &plugin; }

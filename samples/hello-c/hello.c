/* hello-c: the hello sample in plain C, proving the gateway interface needs no Swift. */
#include "devserve.h"

#include <stdlib.h>

static const char greeting[] = "Hello world!\n";

/* Per-request state: whether the one chunk has been produced. Allocated in call(), freed in
 * close(), which the host calls exactly once. */
typedef struct hello_body { int sent; } hello_body;

static int next_chunk(void *context, devserve_request *request, const uint8_t **chunk, size_t *length) {
    hello_body *state = context;
    (void)request;
    if (state->sent) return 0;
    state->sent = 1;
    *chunk = (const uint8_t *)greeting;
    *length = sizeof greeting - 1;
    return 1;
}

static void close_body(void *context, devserve_request *request) {
    (void)request;
    free(context);
}

static int call(void *context, devserve_request *request, const devserve_host *host, devserve_body *body) {
    (void)context;
    static const devserve_header headers[] = {
        {"Content-Type", 12, "text/plain; charset=utf-8", 25},
        {"Content-Length", 14, "13", 2},
    };
    if (host->start_response(request, "200 OK", 6, headers, 2, NULL, NULL) != DEVSERVE_OK) {
        static const char message[] = "start_response refused the response";
        host->raise(request, "RuntimeError", 12, message, sizeof message - 1);
        return DEVSERVE_APP_ERROR;
    }
    hello_body *state = calloc(1, sizeof *state);
    if (state == NULL) {
        static const char message[] = "out of memory";
        host->raise(request, "MemoryError", 11, message, sizeof message - 1);
        return DEVSERVE_APP_ERROR;
    }
    body->context = state;
    body->next = next_chunk;
    body->close = close_body;
    body->chunk_count = 1;
    return DEVSERVE_APP_OK;
}

static const devserve_plugin plugin = {
    .size = sizeof(devserve_plugin),
    .abi_major = DEVSERVE_ABI_MAJOR,
    .abi_minor = DEVSERVE_ABI_MINOR,
    .swift_version = DEVSERVE_SWIFT_VERSION,
    .name = "hello-c",
    .context = NULL,
    .init = NULL,
    .shutdown = NULL,
    .call = call,
};

const devserve_plugin *devserve_plugin_entry(void) { return &plugin; }

/* One PATH_INFO per rule of the gateway contract, for the conformance tests: some keep a rule
 * in a way that is easy to get wrong (empty chunks, write() before the body, input lines),
 * the rest break one (violations). Each route says what it does. */
#include "devserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many times close() has run, over the life of the process: /close-count reports it. */
static _Atomic long close_calls;

typedef struct body_state {
    const char *const *chunks;   /* NULL-terminated list of static chunks */
    size_t index;
    int write_in_close;          /* calls host->write from close(): use after close */
    int fail_at;                 /* next() raises when index reaches this (0 = never) */
    int report_calls;            /* close() writes how many times next() was called */
    int calls;
    const devserve_host *host;
    char owned[256];             /* a chunk built at run time (/close-count, /lines) */
    const char *owned_list[2];   /* {owned, NULL} */
} body_state;

static int next_chunk(void *context, devserve_request *request, const uint8_t **chunk, size_t *length) {
    body_state *state = context;
    (void)request;
    state->calls++;
    if (state->fail_at && state->index + 1 == (size_t)state->fail_at) {
        static const char message[] = "next() failed on purpose";
        state->host->raise(request, "FixtureError", 12, message, sizeof message - 1);
        return -1;
    }
    const char *text = state->chunks[state->index];
    if (text == NULL) return 0;
    state->index++;
    *chunk = (const uint8_t *)text;
    *length = strlen(text);
    return 1;
}

static void close_body(void *context, devserve_request *request) {
    body_state *state = context;
    if (state->write_in_close) state->host->write(request, (const uint8_t *)"late", 4);
    if (state->report_calls) {
        char text[64];
        snprintf(text, sizeof text, "next() called %d times\n", state->calls);
        state->host->errors_write(request, text, strlen(text));
    }
    close_calls++;
    free(state);
}

static body_state *give_body_state(devserve_body *body, const devserve_host *host, const char *const *chunks, int64_t count, int write_in_close) {
    body_state *state = calloc(1, sizeof *state);
    state->chunks = chunks;
    state->host = host;
    state->write_in_close = write_in_close;
    body->context = state;
    body->next = next_chunk;
    body->close = close_body;
    body->chunk_count = count;
    return state;
}

static int give_body(devserve_body *body, const devserve_host *host, const char *const *chunks, int64_t count, int write_in_close) {
    give_body_state(body, host, chunks, count, write_in_close);
    return DEVSERVE_APP_OK;
}

/* A body of one chunk held in the state itself. */
static int give_owned(devserve_body *body, const devserve_host *host, const char *text) {
    body_state *state = give_body_state(body, host, NULL, 1, 0);
    strncpy(state->owned, text, sizeof state->owned - 1);
    state->owned_list[0] = state->owned;
    state->owned_list[1] = NULL;
    state->chunks = state->owned_list;
    return DEVSERVE_APP_OK;
}

static int is_path(const uint8_t *path, size_t length, const char *expected) {
    return length == strlen(expected) && memcmp(path, expected, length) == 0;
}

static int start(devserve_request *r, const devserve_host *host, const char *status, const devserve_header *headers, size_t count) {
    return host->start_response(r, status, strlen(status), headers, count, NULL, NULL);
}

typedef struct lines_context { char *text; size_t *used; size_t capacity; } lines_context;

static void collect_line(void *context, const uint8_t *line, size_t length) {
    lines_context *lines = context;
    int shown = (int)(length > 0 && line[length - 1] == '\n' ? length - 1 : length);
    *lines->used += snprintf(lines->text + *lines->used, lines->capacity - *lines->used, " readlines=[%.*s]", shown, line);
}

#define H(name, value) {name, sizeof(name) - 1, value, sizeof(value) - 1}

static const char *const ok_chunks[] = {"ok\n", NULL};
static const char *const ten_bytes[] = {"0123456789", NULL};
static const char *const one_chunk[] = {"only one\n", NULL};

static int call(void *context, devserve_request *r, const devserve_host *host, devserve_body *body) {
    (void)context;
    const uint8_t *path = NULL;
    size_t length = 0;
    host->environ_get(r, (const uint8_t *)"PATH_INFO", 9, &path, &length);
    static const devserve_header plain[] = {H("Content-Type", "text/plain")};

    if (is_path(path, length, "/twice")) {            /* second start_response, no exc_info */
        start(r, host, "200 OK", plain, 1);
        int second = start(r, host, "201 Created", plain, 1);
        /* Tell the test what the host answered, through the body. */
        static const char *const refused[] = {"refused\n", NULL};
        static const char *const accepted[] = {"accepted\n", NULL};
        return give_body(body, host, second == DEVSERVE_ALREADY_STARTED ? refused : accepted, 1, 0);
    }
    if (is_path(path, length, "/write-before")) {     /* write() before start_response */
        int result = host->write(r, (const uint8_t *)"early", 5);
        start(r, host, "200 OK", plain, 1);
        static const char *const refused[] = {"write refused\n", NULL};
        static const char *const accepted[] = {"write accepted\n", NULL};
        return give_body(body, host, result == DEVSERVE_NOT_STARTED ? refused : accepted, 1, 0);
    }
    if (is_path(path, length, "/body-before")) {      /* a body, and no start_response at all */
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/no-start")) {         /* an empty body, no start_response */
        return DEVSERVE_APP_OK;
    }
    if (is_path(path, length, "/bad-status")) {       /* "20 OK": not three digits */
        int result = start(r, host, "20 OK", plain, 1);
        if (result == DEVSERVE_INVALID_STATUS) {
            static const char message[] = "start_response refused the status";
            host->raise(r, "AssertionError", 14, message, sizeof message - 1);
            return DEVSERVE_APP_ERROR;
        }
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/bad-name")) {         /* a header name that is not a token */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("Bad Name", "x")};
        size_t bad = 99;
        int result = start(r, host, "200 OK", headers, 2);
        (void)result;
        host->start_response(r, "200 OK", 6, headers, 2, NULL, &bad); /* also a second call */
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/crlf")) {             /* header injection attempt */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("X-Note", "a\r\nInjected: yes")};
        start(r, host, "200 OK", headers, 2);
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/non-latin1")) {       /* U+20AC EURO SIGN in a value */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("X-Price", "5 \xe2\x82\xac")};
        start(r, host, "200 OK", headers, 2);
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/latin1")) {           /* U+00E9: allowed, sent as the byte E9 */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("X-Name", "caf\xc3\xa9")};
        start(r, host, "200 OK", headers, 2);
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/hop")) {              /* a hop-by-hop header */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("Transfer-Encoding", "chunked")};
        start(r, host, "200 OK", headers, 2);
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/cl-long")) {          /* Content-Length 5, body of 10 */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("Content-Length", "5")};
        start(r, host, "200 OK", headers, 2);
        return give_body(body, host, ten_bytes, 1, 0);
    }
    if (is_path(path, length, "/cl-write")) {         /* Content-Length 5, write() twice: the second fails */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("Content-Length", "5")};
        start(r, host, "200 OK", headers, 2);
        int first = host->write(r, (const uint8_t *)"12345", 5);
        int second = host->write(r, (const uint8_t *)"67890", 5);
        char text[64];
        snprintf(text, sizeof text, "write: %d then %d\n", first, second);
        host->errors_write(r, text, strlen(text));
        return DEVSERVE_APP_OK;
    }
    if (is_path(path, length, "/cl-chunks")) {        /* Content-Length 1, chunks abc, def: next() once */
        static const char *const chunks[] = {"abc", "def", NULL};
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("Content-Length", "1")};
        start(r, host, "200 OK", headers, 2);
        body_state *state = give_body_state(body, host, chunks, -1, 0);
        state->report_calls = 1;
        return DEVSERVE_APP_OK;
    }
    if (is_path(path, length, "/fd-zero")) {          /* clears the body as the old header said: fd 0 */
        start(r, host, "200 OK", plain, 1);
        memset(body, 0, sizeof *body);
        body->size = sizeof *body;
        return DEVSERVE_APP_OK;
    }
    if (is_path(path, length, "/fill-then-fail")) {   /* a body filled in, then an error: close() still runs */
        start(r, host, "200 OK", plain, 1);
        give_body(body, host, ok_chunks, 1, 0);
        static const char message[] = "failed after filling the body";
        host->raise(r, "FixtureError", 12, message, sizeof message - 1);
        return DEVSERVE_APP_ERROR;
    }
    if (is_path(path, length, "/read-zero")) {        /* input_read with capacity 0 */
        uint8_t byte;
        long result = (long)host->input_read(r, &byte, 0);
        char text[64];
        snprintf(text, sizeof text, "read(0): %ld\n", result);
        start(r, host, "200 OK", plain, 1);
        return give_owned(body, host, text);
    }
    if (is_path(path, length, "/no-content")) {       /* 204 with the application's Content-Length: 0 */
        static const devserve_header headers[] = {H("Content-Length", "0")};
        start(r, host, "204 No Content", headers, 1);
        return DEVSERVE_APP_OK;
    }
    if (is_path(path, length, "/euro-status")) {      /* a status outside Latin-1 */
        int result = start(r, host, "200 Price \xe2\x82\xac", plain, 1);
        char text[64];
        snprintf(text, sizeof text, "start_response: %d\n", result);
        host->errors_write(r, text, strlen(text));
        start(r, host, "200 Caf\xc3\xa9", plain, 1);
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/cl-short")) {         /* Content-Length 20, body of 10 */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("Content-Length", "20")};
        start(r, host, "200 OK", headers, 2);
        return give_body(body, host, ten_bytes, 1, 0);
    }
    if (is_path(path, length, "/after-close")) {      /* write() from inside close() */
        start(r, host, "200 OK", plain, 1);
        return give_body(body, host, ok_chunks, 1, 1);
    }
    if (is_path(path, length, "/count-mismatch")) {   /* says 3 chunks, yields 1 */
        start(r, host, "200 OK", plain, 1);
        return give_body(body, host, one_chunk, 3, 0);
    }
    if (is_path(path, length, "/environ-edit")) {     /* sets, removes and lists environ keys */
        host->environ_set(r, (const uint8_t *)"fixture.added", 13, (const uint8_t *)"yes\0bytes", 9);
        host->environ_remove(r, (const uint8_t *)"QUERY_STRING", 12);
        const uint8_t *value = NULL;
        size_t value_length = 0;
        int found = host->environ_get(r, (const uint8_t *)"fixture.added", 13, &value, &value_length);
        int gone = host->environ_get(r, (const uint8_t *)"QUERY_STRING", 12, &value, &value_length);
        static const char *const good[] = {"environ edits visible\n", NULL};
        static const char *const bad[] = {"environ edits lost\n", NULL};
        start(r, host, "200 OK", plain, 1);
        int ok = found == DEVSERVE_OK && gone == DEVSERVE_NOT_FOUND;
        return give_body(body, host, ok ? good : bad, 1, 0);
    }
    if (is_path(path, length, "/empty-first")) {      /* an empty chunk, then data */
        static const char *const chunks[] = {"", "data after an empty chunk\n", NULL};
        start(r, host, "200 OK", plain, 1);
        return give_body(body, host, chunks, -1, 0);
    }
    if (is_path(path, length, "/own-date-server")) {  /* sets Date and Server itself */
        static const devserve_header headers[] = {H("Content-Type", "text/plain"), H("date", "Thu, 01 Jan 2026 00:00:00 GMT"), H("Server", "fixture/1")};
        start(r, host, "200 OK", headers, 3);
        return give_body(body, host, ok_chunks, 1, 0);
    }
    if (is_path(path, length, "/empty")) {            /* started, and an empty body */
        static const char *const none[] = {NULL};
        start(r, host, "200 OK", plain, 1);
        return give_body(body, host, none, 0, 0);
    }
    if (is_path(path, length, "/write-then-body")) {  /* write() data, then the iterable */
        static const char *const rest[] = {"from the iterable\n", NULL};
        start(r, host, "200 OK", plain, 1);
        host->write(r, (const uint8_t *)"from write\n", 11);
        return give_body(body, host, rest, -1, 0);
    }
    if (is_path(path, length, "/close-count")) {      /* how many times close() ran so far */
        char text[64];
        snprintf(text, sizeof text, "%ld\n", (long)close_calls);
        start(r, host, "200 OK", plain, 1);
        return give_owned(body, host, text);
    }
    if (is_path(path, length, "/next-fails")) {       /* next() raises on the second chunk */
        static const char *const chunks[] = {"one\n", "two\n", NULL};
        start(r, host, "200 OK", plain, 1);
        body_state *state = give_body_state(body, host, chunks, -1, 0);
        state->fail_at = 2;
        return DEVSERVE_APP_OK;
    }
    if (is_path(path, length, "/raise")) {            /* raises before start_response */
        static const char message[] = "raised in call()";
        host->raise(r, "FixtureError", 12, message, sizeof message - 1);
        return DEVSERVE_APP_ERROR;
    }
    if (is_path(path, length, "/read-after-headers")) { /* sends data, then reads wsgi.input */
        start(r, host, "200 OK", plain, 1);
        host->write(r, (const uint8_t *)"sent first\n", 11);
        uint8_t buffer[64];
        ssize_t count = host->input_read(r, buffer, sizeof buffer);
        char text[96];
        snprintf(text, sizeof text, "read %zd bytes\n", count);
        return give_owned(body, host, text);
    }
    if (is_path(path, length, "/lines")) {            /* read(3), readline(), readlines() */
        uint8_t buffer[128];
        char text[256];
        size_t used = 0;
        ssize_t n = host->input_read(r, buffer, 3);
        used += snprintf(text + used, sizeof text - used, "read3=[%.*s]", (int)(n > 0 ? n : 0), buffer);
        n = host->input_readline(r, buffer, sizeof buffer);
        used += snprintf(text + used, sizeof text - used, " line=[%.*s]", (int)(n > 0 ? n - 1 : 0), buffer);
        n = host->input_readline(r, buffer, 4);
        used += snprintf(text + used, sizeof text - used, " limited=[%.*s]", (int)(n > 0 ? n : 0), buffer);
        lines_context lines = {text, &used, sizeof text};
        host->input_readlines(r, 0, collect_line, &lines);
        n = host->input_read(r, buffer, sizeof buffer);
        used += snprintf(text + used, sizeof text - used, " after-end=%zd\n", n);
        start(r, host, "200 OK", plain, 1);
        return give_owned(body, host, text);
    }
    static const devserve_header not_found[] = {H("Content-Type", "text/plain")};
    start(r, host, "404 Not Found", not_found, 1);
    return give_body(body, host, ok_chunks, 1, 0);
}

static const devserve_plugin plugin = {
    .size = sizeof(devserve_plugin), .abi_major = DEVSERVE_ABI_MAJOR, .abi_minor = DEVSERVE_ABI_MINOR,
    .swift_version = 0, .name = "conformance", .call = call,
};

const devserve_plugin *devserve_plugin_entry(void) { return &plugin; }

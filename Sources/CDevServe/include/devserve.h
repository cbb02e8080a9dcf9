/*
 * devserve.h: the native gateway interface between devserve and an application plugin.
 *
 * The model is PEP 3333 (WSGI) expressed in plain C, so that a plugin can be written in C, in
 * Swift (through the DevServeSDK module, which wraps this header), or in anything that speaks C.
 * See docs/GATEWAY.md for the contract in prose; each declaration below names the PEP 3333
 * section it stands for.
 *
 * The environ is bytes to bytes. PEP 3333's Python values are written as text: wsgi.version is
 * "1.0"; wsgi.multithread, wsgi.multiprocess, wsgi.run_once and wsgi.input_terminated are
 * "true" or "false"; wsgi.url_scheme is "http". wsgi.input, wsgi.errors and wsgi.file_wrapper
 * are not environ entries: they are the host functions input_*, errors_* and the body's
 * file_descriptor below.
 *
 * Shape (after sqlite3ext.h, lua.h and Apache's ap_mmn.h):
 *  - every name starts with devserve_ / DEVSERVE_;
 *  - the plugin exports exactly one symbol, DEVSERVE_ENTRY_SYMBOL, returning a descriptor;
 *  - the host passes the plugin a table of function pointers (devserve_host) that only ever
 *    grows at its end, so a plugin links no host symbols and keeps loading on newer hosts;
 *  - structs that may grow begin with their size, and the reader checks it;
 *  - handles are opaque; every pointer says who owns it and for how long.
 *
 * Version bump log (major = incompatible, minor = added at the end of a struct):
 *   1.0  2026-11-21  first version.
 *   1.1  2026-11-28  devserve_host gains violation() (a plugin reports a contract breach it
 *                    detected, e.g. a bridge's validator), watch_file() (a file whose change
 *                    reloads the application, e.g. an imported Python module) and
 *                    application_environ() (the environ as a bridge's application saw it),
 *                    application_traceback() (the frames of the exception it raised);
 *                    write() returns DEVSERVE_CONTENT_LENGTH_EXCEEDED past Content-Length
 *                    (1.0 hosts returned OK and dropped the excess); input_read with capacity
 *                    0 and host calls after the request ended say so (INVALID_ARGUMENT,
 *                    REQUEST_ENDED) instead of 0 and NOT_FOUND.
 */
#ifndef DEVSERVE_H
#define DEVSERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DEVSERVE_ABI_MAJOR 1
#define DEVSERVE_ABI_MINOR 1

/* The one symbol a plugin exports: `const devserve_plugin *devserve_plugin_entry(void);` */
#define DEVSERVE_ENTRY_SYMBOL "devserve_plugin_entry"

/* The Swift compiler that compiled the including translation unit, as major*10000 +
 * minor*100 + patch (60301 for Swift 6.3.1), or 0 when compiled by a plain C compiler.
 * Swift's C importer defines __swift__; a C compiler does not. A Swift plugin records this in
 * its descriptor; the host refuses one built by another Swift toolchain, because Swift has no
 * stable ABI on Linux. */
#ifdef __swift__
#define DEVSERVE_SWIFT_VERSION __swift__
#else
#define DEVSERVE_SWIFT_VERSION 0
#endif

/* Returns DEVSERVE_SWIFT_VERSION as seen by whoever compiles the caller. */
static inline uint32_t devserve_compiled_swift_version(void) { return DEVSERVE_SWIFT_VERSION; }

/* Result codes returned by host functions. Zero is success; the rest say what the application
 * can do about the failure. */
typedef enum devserve_result {
    DEVSERVE_OK = 0,
    /* start_response with exc_info after the headers were sent: the application must re-raise
     * (return DEVSERVE_APP_ERROR) and the server aborts the response.
     * PEP 3333, "The start_response() Callable", exc_info. */
    DEVSERVE_HEADERS_ALREADY_SENT = 1,
    /* start_response called a second time without exc_info. */
    DEVSERVE_ALREADY_STARTED = 2,
    /* status is not "NNN Reason". */
    DEVSERVE_INVALID_STATUS = 3,
    /* a header is not acceptable; its index is stored in *bad_header_index. */
    DEVSERVE_INVALID_HEADER = 4,
    /* write() before start_response. */
    DEVSERVE_NOT_STARTED = 5,
    /* the client went away: stop producing the body; close() still follows. */
    DEVSERVE_CLIENT_GONE = 6,
    /* environ_get / environ_remove: no such key. */
    DEVSERVE_NOT_FOUND = 7,
    /* the request has already ended (close() was called): using it is a violation. */
    DEVSERVE_REQUEST_ENDED = 8,
    /* index out of range, NULL where a pointer is required, or a similar misuse. */
    DEVSERVE_INVALID_ARGUMENT = 9,
    /* reading wsgi.input failed (the client sent a malformed body or went away). */
    DEVSERVE_IO_ERROR = 10,
    /* 1.1: write() or a chunk went past the Content-Length the application set: the excess
     * was not sent, and the host asks the iterable for nothing more. PEP 3333, "Handling the
     * Content-Length Header". */
    DEVSERVE_CONTENT_LENGTH_EXCEEDED = 11
} devserve_result;

/* One request in flight. Opaque; owned by the host; valid from the application's call until
 * the host calls the body's close() (or, if the application returned no body, until call()
 * returns). Host functions may be called from any thread while it is valid, one at a time. */
typedef struct devserve_request devserve_request;

/* A response header as the application gives it. Both pointers are owned by the application
 * and need stay valid only for the duration of the start_response call that receives them (the
 * host copies). Names are HTTP tokens; values are UTF-8 text whose code points must all be
 * U+0000-U+00FF (PEP 3333's Latin-1 rule for native strings); the host sends them as Latin-1. */
typedef struct devserve_header {
    const char *name;
    size_t name_length;
    const char *value;
    size_t value_length;
} devserve_header;

/* The exception passed as exc_info to start_response (PEP 3333, "Error Handling"). Owned by the
 * application, valid for the duration of the call. */
typedef struct devserve_exc_info {
    const char *type_name;      /* e.g. "ValueError" or a Swift type name; UTF-8 */
    size_t type_name_length;
    const char *message;        /* UTF-8 */
    size_t message_length;
} devserve_exc_info;

/* The response body the application returns: PEP 3333's iterable.
 *
 * Filled in by the application inside call(). The host iterates it with next() until it
 * returns 0 or -1, then calls close() exactly once, on every path (success, application error,
 * client gone), and also when call() returns DEVSERVE_APP_ERROR after filling it in. If
 * `file_descriptor` is >= 0 the body is a file (wsgi.file_wrapper): the host sends the file's
 * bytes from its current offset to its end, in blocks of `file_block_size`, possibly with
 * sendfile, and does not call next(). Descriptors 0, 1 and 2 are the host's own: giving one is
 * a violation and it is ignored. */
typedef struct devserve_body {
    /* sizeof(devserve_body) as the application knows it. Before call() the host zero-fills the
     * struct, then sets this, `chunk_count` to -1 and `file_descriptor` to -1: a plugin that
     * clears the struct itself must set file_descriptor back to -1. The host reads only fields
     * that fit in the size the plugin sets. */
    uint32_t size;
    /* Application-owned state handed back to next() and close(); the application frees it in
     * close(). */
    void *context;
    /* Produces the next chunk: returns 1 and sets *chunk / *length (memory owned by the
     * application, valid until the next call to next() or close()), 0 at the end, or -1 if the
     * application raised (after calling host->raise). A zero-length chunk is allowed. NULL means
     * an empty body. */
    int (*next)(void *context, devserve_request *request, const uint8_t **chunk, size_t *length);
    /* The iterable's close(): called exactly once after the last next(). May be NULL. */
    void (*close)(void *context, devserve_request *request);
    /* PEP 3333 len(iterable): the exact number of chunks next() will produce, or -1 if unknown.
     * With exactly 1, the host may compute Content-Length. */
    int64_t chunk_count;
    /* wsgi.file_wrapper: an open, readable file descriptor, or -1. The host owns and closes
     * it once it has been handed over, even when the request fails. */
    int file_descriptor;
    /* Preferred block size for a file body; 0 means the host chooses. */
    uint32_t file_block_size;
} devserve_body;

/* What the application's call returns. */
typedef enum devserve_app_result {
    DEVSERVE_APP_OK = 0,     /* *body is filled in (or left zeroed: an empty body) */
    DEVSERVE_APP_ERROR = 1   /* the application raised; it called host->raise first */
} devserve_app_result;

/* The host's services, passed to init() and to every call(). Owned by the host and valid for
 * the life of the process. Append-only: new functions go at the end, with a minor bump; a
 * plugin checks `size` before using a function newer than its header's minor version. Every
 * function taking a request may be called from any thread, but not concurrently for the same
 * request. */
typedef struct devserve_host {
    uint32_t size;               /* sizeof(devserve_host) as the host was compiled */
    uint16_t abi_major;          /* DEVSERVE_ABI_MAJOR of the host */
    uint16_t abi_minor;          /* DEVSERVE_ABI_MINOR of the host */

    /* --- environ (PEP 3333, "environ Variables"): bytes in, bytes out, no NUL assumptions --- */

    /* Looks a key up. On success *value / *value_length point at host memory valid until this
     * key is next set or removed, or the request ends. Returns DEVSERVE_NOT_FOUND if absent,
     * DEVSERVE_REQUEST_ENDED once the iterable's close() has returned. */
    int (*environ_get)(devserve_request *request, const uint8_t *key, size_t key_length,
                       const uint8_t **value, size_t *value_length);
    /* Sets a key (adding it or replacing its value). The host copies both. */
    int (*environ_set)(devserve_request *request, const uint8_t *key, size_t key_length,
                       const uint8_t *value, size_t value_length);
    /* Removes a key. Returns DEVSERVE_NOT_FOUND if absent. */
    int (*environ_remove)(devserve_request *request, const uint8_t *key, size_t key_length);
    /* The number of keys, for iteration with environ_entry. */
    size_t (*environ_count)(devserve_request *request);
    /* The index-th entry, 0 <= index < environ_count; order is stable until the environ is
     * changed. Pointers as for environ_get. */
    int (*environ_entry)(devserve_request *request, size_t index, const uint8_t **key,
                         size_t *key_length, const uint8_t **value, size_t *value_length);

    /* --- wsgi.input (PEP 3333, "Input and Error Streams") --- */

    /* read(n): up to `capacity` bytes into `buffer` (application-owned). Returns the count,
     * 0 at end of stream (never blocks past CONTENT_LENGTH or a chunked body's last chunk), or
     * -DEVSERVE_IO_ERROR (-DEVSERVE_INVALID_ARGUMENT for a capacity of 0, which would look like
     * the end). The first read sends "100 Continue" when the client asked for it. */
    ssize_t (*input_read)(devserve_request *request, uint8_t *buffer, size_t capacity);
    /* readline(limit): one line including its "\n", at most `capacity` bytes. Returns the
     * count, 0 at end of stream, or a negative devserve_result. */
    ssize_t (*input_readline)(devserve_request *request, uint8_t *buffer, size_t capacity);
    /* readlines(hint): calls `each` once per line until end of stream, or until the lines
     * given add up to at least `hint` bytes when hint > 0. `line` is host memory valid during
     * the callback only. Returns DEVSERVE_OK or a devserve_result. */
    int (*input_readlines)(devserve_request *request, size_t hint,
                           void (*each)(void *each_context, const uint8_t *line, size_t length),
                           void *each_context);

    /* --- wsgi.errors --- */

    /* write(text): the application's error output, UTF-8. The host copies it. PEP 3333's
     * writelines(seq) is this, once per line (the SDK's `writelines` does exactly that). */
    int (*errors_write)(devserve_request *request, const char *text, size_t length);
    /* flush(): makes what was written visible (the host forwards it at once anyway). */
    int (*errors_flush)(devserve_request *request);

    /* --- start_response and write (PEP 3333, "The start_response() Callable") --- */

    /* start_response(status, headers, exc_info). Stores status and headers; sends nothing.
     * `status` is "NNN Reason" (UTF-8, application-owned, copied). `exc_info` is NULL on a
     * first call; a second call must pass it. On DEVSERVE_INVALID_HEADER, *bad_header_index
     * (if not NULL) receives the index of the first refused header; the response is still
     * started without it. On DEVSERVE_HEADERS_ALREADY_SENT the application must return
     * DEVSERVE_APP_ERROR. */
    int (*start_response)(devserve_request *request, const char *status, size_t status_length,
                          const devserve_header *headers, size_t header_count,
                          const devserve_exc_info *exc_info, size_t *bad_header_index);
    /* write(data): the imperative body callable start_response returns in PEP 3333. When it
     * returns, the bytes are sent or queued (it blocks while the client is slow). Valid after
     * start_response, from call() and from next() (as wsgiref allows), not after close()
     * began. DEVSERVE_CLIENT_GONE means stop producing; DEVSERVE_CONTENT_LENGTH_EXCEEDED (1.1)
     * that the bytes went past the application's Content-Length and the excess was dropped. */
    int (*write)(devserve_request *request, const uint8_t *data, size_t length);

    /* --- errors raised by the application --- */

    /* Records the exception the application is about to raise by returning DEVSERVE_APP_ERROR
     * from call() or -1 from next(). Both strings are copied. */
    int (*raise)(devserve_request *request, const char *type_name, size_t type_name_length,
                 const char *message, size_t message_length);

    /* --- 1.1: check `size` covers these before calling them --- */

    /* Reports a breach of the gateway contract that the plugin itself detected (a language
     * bridge sees what the C ABI cannot: a str chunk, an assertion of wsgiref.validate).
     * `rule` names it in kebab-case ("non-bytes-chunk", "validator"); `message` says what
     * happened. Both UTF-8, copied. The request goes on; the record is marked. */
    int (*violation)(devserve_request *request, const char *rule, size_t rule_length,
                     const char *message, size_t message_length);
    /* Asks devserve to start a new generation when the file at `path` (absolute, UTF-8,
     * copied) is written, as when the plugin itself is rebuilt. Process-wide, not tied to a
     * request: valid from init() on, from any thread, repeated calls are cheap. A language
     * bridge reports the source files the application imported. */
    int (*watch_file)(const char *path, size_t path_length);
    /* For a bridge whose application gets an environ of its own (a Python dict): that environ
     * as the application left it, for the record, beside the one the host built. `text` is
     * UTF-8 lines "KEY\tDESCRIPTION\n": the bridge's description of each value ("True (bool)",
     * "<devserve_bridge.Input object>", "(removed)" for a key the application deleted), with
     * tab, newline and backslash in keys and descriptions written \t, \n and \\. A bridge
     * may send only what differs from the host's environ. Copied; at most once per request.
     * One text rather than an array of entries: the host keeps it as it came and splits it
     * only when someone looks. */
    int (*application_environ)(devserve_request *request, const char *text, size_t length);
    /* The frames of the exception the application raised, innermost last, to go with raise():
     * UTF-8 lines "FILE\tLINE\tFUNCTION\n", escaped as for application_environ. Copied. */
    int (*application_traceback)(devserve_request *request, const char *text, size_t length);
} devserve_host;

/* The descriptor a plugin's entry symbol returns. Owned by the plugin; must stay valid for the
 * life of the process (a static). */
typedef struct devserve_plugin {
    /* sizeof(devserve_plugin) as the plugin was compiled; the host refuses anything smaller
     * than the 1.0 layout. */
    uint32_t size;
    /* DEVSERVE_ABI_MAJOR / DEVSERVE_ABI_MINOR the plugin was built against. The host refuses
     * another major, and a minor newer than its own. */
    uint16_t abi_major;
    uint16_t abi_minor;
    /* DEVSERVE_SWIFT_VERSION of the compiler that built the plugin's Swift code, or 0 for a
     * plugin with no Swift in it. */
    uint32_t swift_version;
    /* A short human name, NUL-terminated UTF-8, plugin-owned static storage. */
    const char *name;
    /* Plugin-owned state passed back to init, shutdown and call. */
    void *context;
    /* Optional: called once, before any request. Return 0 on success; otherwise write a
     * NUL-terminated reason into `error` (host-owned, `error_capacity` bytes) and return
     * non-zero: the host refuses the plugin with that reason. */
    int (*init)(void *context, const devserve_host *host, char *error, size_t error_capacity);
    /* Optional: called once when the host stops serving, after the last request. */
    void (*shutdown)(void *context);
    /* The application (PEP 3333, "The Application/Framework Side"): called once per request,
     * from any of the host's threads, concurrently. Fills *body (zeroed by the host, with its
     * size set) and returns DEVSERVE_APP_OK, or calls host->raise and returns
     * DEVSERVE_APP_ERROR. */
    int (*call)(void *context, devserve_request *request, const devserve_host *host,
                devserve_body *body);
} devserve_plugin;

/* The type of the entry symbol. */
typedef const devserve_plugin *(*devserve_entry_function)(void);

#ifdef __cplusplus
}
#endif

#endif /* DEVSERVE_H */

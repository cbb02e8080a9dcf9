/*
 * devserve's Python bridge: a devserve plugin (devserve.h) that embeds CPython and serves a
 * PEP 3333 application. The C half: the interpreter, threads and the GIL, the environ dict,
 * and the host functions the Python half (glue.py.inc) calls.
 *
 * No Python header is needed to build it (the build must work on a machine without
 * python3-dev, docs/DECISIONS.md): libpython is opened at run time, RTLD_GLOBAL so that
 * CPython's own extension modules (which do not link libpython) find its symbols, and every
 * function used is looked up with dlsym. Only functions whose signatures are the same in
 * CPython 3.9 to 3.13 are used, and no struct layout is touched, so one binary serves any of
 * them.
 *
 * Configuration comes from the environment the supervisor gives the worker:
 *   DEVSERVE_PYTHON_LIBRARY   the interpreter's shared libpython
 *   DEVSERVE_PYTHON_HOME      sys.base_prefix[:sys.base_exec_prefix] (finds the stdlib)
 *   DEVSERVE_PYTHON_EXECUTABLE, _PREFIX, _EXEC_PREFIX   sys.executable, sys.prefix (a venv's)
 *   DEVSERVE_PYTHON_PATH      sys.path as the interpreter has it, entries joined by \x1f
 *   DEVSERVE_PYTHON_APP       the application, e.g. "app.py:create_app()"
 *   DEVSERVE_PYTHON_VALIDATE  "1": wrap it in wsgiref.validate.validator
 *   DEVSERVE_PYTHON_WATCH     extra directories whose modules reload too, joined by \x1f
 *   DEVSERVE_PYTHON_CAPTURE   "0" with --no-capture: the environ as the app left it is not sent
 */
#include "devserve.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

extern "C" {

/* --- The slice of the CPython API we use, declared here instead of Python.h --- */

typedef struct _object PyObject;
typedef struct _ts PyThreadState;
typedef ssize_t Py_ssize_t;
typedef PyObject *(*PyCFunction)(PyObject *self, PyObject *args);
typedef struct PyMethodDef {
    const char *ml_name;
    PyCFunction ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;
#define METH_VARARGS 0x0001

static struct python_api {
    void (*Py_InitializeEx)(int);
    int (*Py_IsInitialized)(void);
    void (*Py_SetProgramName)(const wchar_t *);
    void (*Py_SetPythonHome)(const wchar_t *);
    wchar_t *(*Py_DecodeLocale)(const char *, size_t *);
    PyThreadState *(*PyEval_SaveThread)(void);
    void (*PyEval_RestoreThread)(PyThreadState *);
    int (*PyGILState_Ensure)(void);
    PyThreadState *(*PyGILState_GetThisThreadState)(void);
    void (*Py_IncRef)(PyObject *);
    void (*Py_DecRef)(PyObject *);
    PyObject *(*PyImport_ImportModule)(const char *);
    PyObject *(*PyObject_GetAttrString)(PyObject *, const char *);
    PyObject *(*PyObject_Call)(PyObject *, PyObject *, PyObject *);
    PyObject *(*PyObject_CallFunctionObjArgs)(PyObject *, ...);
    PyObject *(*PyDict_New)(void);
    int (*PyDict_SetItem)(PyObject *, PyObject *, PyObject *);
    int (*PyDict_SetItemString)(PyObject *, const char *, PyObject *);
    PyObject *(*PyDict_GetItemString)(PyObject *, const char *);
    PyObject *(*PyList_New)(Py_ssize_t);
    int (*PyList_SetItem)(PyObject *, Py_ssize_t, PyObject *);
    Py_ssize_t (*PyList_Size)(PyObject *);
    PyObject *(*PyList_GetItem)(PyObject *, Py_ssize_t);
    PyObject *(*PyTuple_New)(Py_ssize_t);
    int (*PyTuple_SetItem)(PyObject *, Py_ssize_t, PyObject *);
    PyObject *(*PyTuple_GetItem)(PyObject *, Py_ssize_t);
    Py_ssize_t (*PyTuple_Size)(PyObject *);
    PyObject *(*PyUnicode_FromString)(const char *);
    PyObject *(*PyUnicode_FromStringAndSize)(const char *, Py_ssize_t);
    PyObject *(*PyUnicode_DecodeLatin1)(const char *, Py_ssize_t, const char *);
    void (*PyUnicode_InternInPlace)(PyObject **);
    PyObject *(*PyUnicode_DecodeUTF8)(const char *, Py_ssize_t, const char *);
    const char *(*PyUnicode_AsUTF8AndSize)(PyObject *, Py_ssize_t *);
    PyObject *(*PyBytes_FromStringAndSize)(const char *, Py_ssize_t);
    int (*PyBytes_AsStringAndSize)(PyObject *, char **, Py_ssize_t *);
    PyObject *(*PyLong_FromSsize_t)(Py_ssize_t);
    Py_ssize_t (*PyLong_AsSsize_t)(PyObject *);
    PyObject *(*PyLong_FromVoidPtr)(void *);
    void *(*PyLong_AsVoidPtr)(PyObject *);
    PyObject *(*PyCFunction_NewEx)(PyMethodDef *, PyObject *, PyObject *);
    PyObject *(*PyErr_Occurred)(void);
    void (*PyErr_Fetch)(PyObject **, PyObject **, PyObject **);
    void (*PyErr_NormalizeException)(PyObject **, PyObject **, PyObject **);
    void (*PyErr_Clear)(void);
    void (*PyErr_Print)(void);
    void (*PyErr_SetString)(PyObject *, const char *);
    PyObject *(*PyObject_Str)(PyObject *);
    int (*PyObject_IsTrue)(PyObject *);
    PyObject *(*PyModule_New)(const char *);
    int (*PyDict_Next)(PyObject *, Py_ssize_t *, PyObject **, PyObject **);
    PyObject *(*PyDict_GetItem)(PyObject *, PyObject *);
    int (*PyDict_Contains)(PyObject *, PyObject *);
    Py_ssize_t (*PyDict_Size)(PyObject *);
    PyObject *(*PyObject_Type)(PyObject *);
    PyObject *(*PyObject_Repr)(PyObject *);
    int (*PyObject_RichCompareBool)(PyObject *, PyObject *, int);
    PyObject *(*PyIter_Next)(PyObject *);
    PyObject **PyExc_TypeError;
    PyObject **PyExc_ValueError;
    PyObject **PyExc_OSError;
    PyObject *None;
    PyObject *True;
    PyObject *False;
    PyObject *UnicodeType;
    PyObject *BytesType;
} py;

/* --- State --- */

static const devserve_host *host;
static void *libpython;
/* The Python half's functions. */
static PyObject *glue_call, *glue_chunk, *glue_iteration_failed, *glue_close, *glue_shutdown;
static PyObject *wsgi_version;   /* (1, 0) */
/* Each application thread's Python thread state, made on its first request and kept. */
static __thread PyThreadState *thread_state;

/* One request as the bridge keeps it. Host calls for one request never overlap: Python code on
 * two threads (a print from a helper thread while the body is written) takes `lock` first,
 * and always with the GIL released, so neither can wait for the other while holding it. */
typedef struct bridge_request {
    devserve_request *request;
    pthread_mutex_t lock;
    PyObject *response;      /* glue.Response, owned */
    PyObject *iterator;      /* iter() of the application's iterable, owned, or NULL */
    PyObject *chunk;         /* the last chunk handed to the host, owned until the next one */
    PyObject *chunks;        /* a list body's chunks (a tuple of bytes), owned, or NULL */
    Py_ssize_t next_index;   /* the next of `chunks` to hand out */
    Py_ssize_t chunk_total;
    struct { const uint8_t *data; size_t length; } *spans;  /* each of `chunks`, read with the GIL */
} bridge_request;

/* References to drop the next time a thread holds the GIL: a list body is sent and closed
 * without entering Python, so its objects are released by the next request instead. */
static pthread_mutex_t release_lock = PTHREAD_MUTEX_INITIALIZER;
static PyObject **release_list;
static size_t release_count, release_capacity;

static void release_later(PyObject *object) {
    if (!object) return;
    pthread_mutex_lock(&release_lock);
    if (release_count == release_capacity) {
        release_capacity = release_capacity ? release_capacity * 2 : 256;
        release_list = (PyObject **)realloc(release_list, release_capacity * sizeof *release_list);
    }
    release_list[release_count++] = object;
    pthread_mutex_unlock(&release_lock);
}

/* --- The GIL --- */

static void enter_python(void) {
    if (thread_state) {
        py.PyEval_RestoreThread(thread_state);
    } else {
        py.PyGILState_Ensure();   /* creates this thread's state; never released */
        thread_state = py.PyGILState_GetThisThreadState();
    }
}

static void leave_python(void) { py.PyEval_SaveThread(); }

/* Drops the references release_later() kept; the caller holds the GIL. */
static void release_pending(void) {
    if (release_count == 0) return;   /* read without the lock: a late one waits for the next call */
    pthread_mutex_lock(&release_lock);
    PyObject **pending = release_list;
    size_t count = release_count;
    release_list = NULL;
    release_count = release_capacity = 0;
    pthread_mutex_unlock(&release_lock);
    for (size_t index = 0; index < count; index++) py.Py_DecRef(pending[index]);
    free(pending);
}

/* A host call for `r` that may block (reading the body, writing to a slow client): the GIL is
 * released first, then the request's lock taken; the lock is never held while waiting for the
 * GIL, so no two threads can wait for each other. */
#define HOST_CALL(r, result, expression)        \
    do {                                         \
        PyThreadState *saved_ = py.PyEval_SaveThread(); \
        pthread_mutex_lock(&(r)->lock);          \
        result = (expression);                   \
        pthread_mutex_unlock(&(r)->lock);        \
        py.PyEval_RestoreThread(saved_);         \
    } while (0)

/* A host call that does not block (start_response stores, errors are queued): made with the
 * GIL held when the request's lock is free, which saves a GIL hand-over per call (each one a
 * futex wake under load); when another thread is in a blocking call for the same request, it
 * waits as HOST_CALL does. */
#define QUICK_HOST_CALL(r, result, expression)   \
    do {                                          \
        if (pthread_mutex_trylock(&(r)->lock) == 0) { \
            result = (expression);                \
            pthread_mutex_unlock(&(r)->lock);     \
        } else {                                  \
            HOST_CALL(r, result, expression);     \
        }                                         \
    } while (0)

/* --- Loading libpython --- */

static int resolve(char *error, size_t capacity) {
#define NEED(name)                                                                          \
    do {                                                                                    \
        *(void **)&py.name = dlsym(libpython, #name);                                       \
        if (!py.name) {                                                                     \
            snprintf(error, capacity, "the Python library lacks %s: not a CPython 3.9-3.13", #name); \
            return -1;                                                                      \
        }                                                                                   \
    } while (0)
    NEED(Py_InitializeEx); NEED(Py_IsInitialized); NEED(Py_SetProgramName); NEED(Py_SetPythonHome);
    NEED(Py_DecodeLocale); NEED(PyEval_SaveThread); NEED(PyEval_RestoreThread); NEED(PyGILState_Ensure);
    NEED(PyGILState_GetThisThreadState); NEED(Py_IncRef); NEED(Py_DecRef); NEED(PyImport_ImportModule);
    NEED(PyObject_GetAttrString); NEED(PyObject_Call); NEED(PyObject_CallFunctionObjArgs); NEED(PyDict_New);
    NEED(PyDict_SetItem); NEED(PyDict_SetItemString); NEED(PyDict_GetItemString); NEED(PyList_New);
    NEED(PyList_SetItem); NEED(PyList_Size); NEED(PyList_GetItem); NEED(PyTuple_New); NEED(PyTuple_SetItem);
    NEED(PyTuple_GetItem); NEED(PyTuple_Size); NEED(PyUnicode_FromString); NEED(PyUnicode_FromStringAndSize);
    NEED(PyUnicode_DecodeLatin1); NEED(PyUnicode_InternInPlace); NEED(PyUnicode_DecodeUTF8); NEED(PyUnicode_AsUTF8AndSize);
    NEED(PyBytes_FromStringAndSize); NEED(PyBytes_AsStringAndSize); NEED(PyLong_FromSsize_t);
    NEED(PyLong_AsSsize_t); NEED(PyLong_FromVoidPtr); NEED(PyLong_AsVoidPtr); NEED(PyCFunction_NewEx);
    NEED(PyErr_Occurred); NEED(PyErr_Fetch); NEED(PyErr_NormalizeException); NEED(PyErr_Clear); NEED(PyErr_Print);
    NEED(PyErr_SetString); NEED(PyObject_Str); NEED(PyObject_IsTrue); NEED(PyModule_New);
    NEED(PyDict_Next); NEED(PyDict_GetItem); NEED(PyDict_Contains); NEED(PyDict_Size); NEED(PyObject_Type); NEED(PyObject_Repr);
    NEED(PyObject_RichCompareBool); NEED(PyIter_Next);
    NEED(PyExc_TypeError); NEED(PyExc_ValueError); NEED(PyExc_OSError);
#undef NEED
    py.None = (PyObject *)dlsym(libpython, "_Py_NoneStruct");
    py.True = (PyObject *)dlsym(libpython, "_Py_TrueStruct");
    py.False = (PyObject *)dlsym(libpython, "_Py_FalseStruct");
    py.UnicodeType = (PyObject *)dlsym(libpython, "PyUnicode_Type");
    py.BytesType = (PyObject *)dlsym(libpython, "PyBytes_Type");
    if (!py.None || !py.True || !py.False || !py.UnicodeType || !py.BytesType) {
        snprintf(error, capacity, "the Python library lacks None, True, False, str or bytes: not a CPython 3.9-3.13");
        return -1;
    }
    return 0;
}

/* --- Host functions for the Python half: _host.NAME(ctx, ...) --- */

static bridge_request *request_of(PyObject *args) {
    return (bridge_request *)py.PyLong_AsVoidPtr(py.PyTuple_GetItem(args, 0));
}

static PyObject *new_reference(PyObject *object) {
    py.Py_IncRef(object);
    return object;
}

/* A str argument as UTF-8 (pointer into the str object, valid while it lives), or NULL with
 * TypeError set. None gives NULL with *length 0 and no error when `optional`. */
static const char *text_argument(PyObject *object, Py_ssize_t *length, int optional) {
    if (optional && object == py.None) {
        *length = 0;
        return NULL;
    }
    const char *text = py.PyUnicode_AsUTF8AndSize(object, length);
    return text;
}

/* What read() and readline() return: the bytes gathered, or OSError when the host failed
 * before any arrived (`count` is the host's last answer). Frees `buffer`. */
static PyObject *input_result(uint8_t *buffer, size_t filled, ssize_t count) {
    if (count < 0 && filled == 0) {
        free(buffer);
        py.PyErr_SetString(*py.PyExc_OSError, count == -DEVSERVE_REQUEST_ENDED
            ? "wsgi.input read after the response ended"
            : "wsgi.input: the request body could not be read (the client sent a malformed body, went away, or was too slow)");
        return NULL;
    }
    PyObject *bytes = py.PyBytes_FromStringAndSize((const char *)buffer, (Py_ssize_t)filled);
    free(buffer);
    return bytes;
}

/* read(ctx, size): size < 0 reads to the end. */
static PyObject *host_read(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    Py_ssize_t size = py.PyLong_AsSsize_t(py.PyTuple_GetItem(args, 1));
    if (size == -1 && py.PyErr_Occurred()) return NULL;
    size_t capacity = size < 0 ? 65536 : (size_t)size;
    if (capacity == 0) return py.PyBytes_FromStringAndSize("", 0);
    uint8_t *buffer = (uint8_t *)malloc(capacity);
    size_t filled = 0;
    ssize_t count = 0;
    for (;;) {
        HOST_CALL(r, count, host->input_read(r->request, buffer + filled, capacity - filled));
        if (count <= 0) break;
        filled += (size_t)count;
        /* read(n) returns n bytes unless the body ends first (a file's read, which Django's
         * LimitedStream and others rely on). */
        if (size >= 0) {
            if (filled == capacity) break;
            continue;
        }
        if (filled == capacity) {
            capacity *= 2;
            buffer = (uint8_t *)realloc(buffer, capacity);
        }
    }
    return input_result(buffer, filled, count);
}

/* readline(ctx, size): one line with its "\n", at most size bytes when size >= 0. */
static PyObject *host_readline(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    Py_ssize_t size = py.PyLong_AsSsize_t(py.PyTuple_GetItem(args, 1));
    if (size == -1 && py.PyErr_Occurred()) return NULL;
    if (size == 0) return py.PyBytes_FromStringAndSize("", 0);
    size_t capacity = size < 0 ? 8192 : (size_t)size;
    uint8_t *buffer = (uint8_t *)malloc(capacity);
    size_t filled = 0;
    ssize_t count = 0;
    for (;;) {
        HOST_CALL(r, count, host->input_readline(r->request, buffer + filled, capacity - filled));
        if (count <= 0) break;
        filled += (size_t)count;
        if (buffer[filled - 1] == '\n' || size >= 0 || filled < capacity) break;
        capacity *= 2;   /* a line longer than the buffer, with no limit: go on reading it */
        buffer = (uint8_t *)realloc(buffer, capacity);
    }
    return input_result(buffer, filled, count);
}

/* errors_write(ctx, text) */
static PyObject *host_errors_write(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    Py_ssize_t length;
    const char *text = text_argument(py.PyTuple_GetItem(args, 1), &length, 0);
    if (!text) return NULL;
    int result;
    QUICK_HOST_CALL(r, result, host->errors_write(r->request, text, (size_t)length));
    (void)result;
    return new_reference(py.None);
}

/* start_response(ctx, status, headers, exc_type or None, exc_message or None) -> code */
static PyObject *host_start_response(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    Py_ssize_t status_length, type_length, message_length;
    const char *status = text_argument(py.PyTuple_GetItem(args, 1), &status_length, 0);
    if (!status) return NULL;
    PyObject *list = py.PyTuple_GetItem(args, 2);
    Py_ssize_t count = py.PyList_Size(list);
    if (count < 0) return NULL;
    devserve_header stack[32];
    devserve_header *headers = count <= 32 ? stack : (devserve_header *)malloc(sizeof(devserve_header) * (size_t)count);
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *pair = py.PyList_GetItem(list, index);
        Py_ssize_t name_length, value_length;
        const char *name = text_argument(py.PyTuple_GetItem(pair, 0), &name_length, 0);
        const char *value = name ? text_argument(py.PyTuple_GetItem(pair, 1), &value_length, 0) : NULL;
        if (!name || !value) {
            if (headers != stack) free(headers);
            return NULL;
        }
        headers[index] = (devserve_header){name, (size_t)name_length, value, (size_t)value_length};
    }
    const char *type_name = text_argument(py.PyTuple_GetItem(args, 3), &type_length, 1);
    const char *message = text_argument(py.PyTuple_GetItem(args, 4), &message_length, 1);
    devserve_exc_info info = {type_name, (size_t)type_length, message, (size_t)message_length};
    int result;
    QUICK_HOST_CALL(r, result, host->start_response(r->request, status, (size_t)status_length, headers, (size_t)count,
                                              type_name ? &info : NULL, NULL));
    if (headers != stack) free(headers);
    return py.PyLong_FromSsize_t(result);
}

/* write(ctx, bytes) -> code */
static PyObject *host_write(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    char *data;
    Py_ssize_t length;
    if (py.PyBytes_AsStringAndSize(py.PyTuple_GetItem(args, 1), &data, &length) != 0) return NULL;
    int result;
    HOST_CALL(r, result, host->write(r->request, (const uint8_t *)data, (size_t)length));
    return py.PyLong_FromSsize_t(result);
}

/* raise_(ctx, type_name, message) */
static PyObject *host_raise(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    Py_ssize_t type_length, message_length;
    const char *type_name = text_argument(py.PyTuple_GetItem(args, 1), &type_length, 0);
    const char *message = type_name ? text_argument(py.PyTuple_GetItem(args, 2), &message_length, 0) : NULL;
    if (!message) return NULL;
    int result;
    QUICK_HOST_CALL(r, result, host->raise(r->request, type_name, (size_t)type_length, message, (size_t)message_length));
    (void)result;
    return new_reference(py.None);
}

/* violation(ctx, rule, message) */
static PyObject *host_violation(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    Py_ssize_t rule_length, message_length;
    const char *rule = text_argument(py.PyTuple_GetItem(args, 1), &rule_length, 0);
    const char *message = rule ? text_argument(py.PyTuple_GetItem(args, 2), &message_length, 0) : NULL;
    if (!message) return NULL;
    int result = 0;
    if (host->size >= offsetof(devserve_host, violation) + sizeof host->violation && host->violation) {
        QUICK_HOST_CALL(r, result, host->violation(r->request, rule, (size_t)rule_length, message, (size_t)message_length));
    }
    (void)result;
    return new_reference(py.None);
}

/* A host function taking one text for the request, called only when the host has it (1.1). */
typedef int (*host_text_function)(devserve_request *, const char *, size_t);

static PyObject *call_with_text(PyObject *args, host_text_function function) {
    bridge_request *r = request_of(args);
    if (!function) return new_reference(py.None);
    Py_ssize_t length;
    const char *text = text_argument(py.PyTuple_GetItem(args, 1), &length, 0);
    if (!text) return NULL;
    int result;
    QUICK_HOST_CALL(r, result, function(r->request, text, (size_t)length));
    (void)result;
    return new_reference(py.None);
}

#define HOST_HAS(field) (host->size >= offsetof(devserve_host, field) + sizeof host->field)

/* application_traceback(ctx, text): "FILE\tLINE\tFUNCTION\n" lines. */
static PyObject *host_application_traceback(PyObject *self, PyObject *args) {
    (void)self;
    return call_with_text(args, HOST_HAS(application_traceback) ? host->application_traceback : NULL);
}

/* watch(path): not tied to a request. */
static PyObject *host_watch(PyObject *self, PyObject *args) {
    (void)self;
    Py_ssize_t length;
    const char *path = text_argument(py.PyTuple_GetItem(args, 0), &length, 0);
    if (!path) return NULL;
    if (host->size >= offsetof(devserve_host, watch_file) + sizeof host->watch_file && host->watch_file) {
        host->watch_file(path, (size_t)length);
    }
    return new_reference(py.None);
}

/* --- The environ as the application left it (issue 11, "Capture shows the Python side") --- */

/* A growing byte buffer for the lines. */
typedef struct text_buffer {
    char *data;
    size_t length, capacity;
} text_buffer;

static void text_append(text_buffer *buffer, const char *bytes, size_t length) {
    if (buffer->length + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 1024;
        while (capacity < buffer->length + length) capacity *= 2;
        buffer->data = (char *)realloc(buffer->data, capacity);
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
}

/* Appends `bytes` with tab, newline and backslash escaped (the lines' format, devserve.h). */
static void text_append_escaped(text_buffer *buffer, const char *bytes, size_t length) {
    size_t start = 0;
    for (size_t index = 0; index < length; index++) {
        const char *escape = bytes[index] == '\t' ? "\\t" : bytes[index] == '\n' ? "\\n" : bytes[index] == '\\' ? "\\\\" : NULL;
        if (!escape) continue;
        text_append(buffer, bytes + start, index - start);
        text_append(buffer, escape, 2);
        start = index + 1;
    }
    text_append(buffer, bytes + start, length - start);
}

/* Appends a str as UTF-8, escaped; one that cannot be encoded (a lone surrogate) as its repr. */
static void text_append_str(text_buffer *buffer, PyObject *text) {
    Py_ssize_t length;
    const char *bytes = py.PyUnicode_AsUTF8AndSize(text, &length);
    if (bytes) return text_append_escaped(buffer, bytes, (size_t)length);
    py.PyErr_Clear();
    PyObject *repr = py.PyObject_Repr(text);
    bytes = repr ? py.PyUnicode_AsUTF8AndSize(repr, &length) : NULL;
    if (bytes) {
        text_append_escaped(buffer, bytes, (size_t)length);
    } else {
        py.PyErr_Clear();
        text_append(buffer, "(unprintable)", 13);
    }
    py.Py_DecRef(repr);
}

/* Descriptions that depend only on the value's type ("<werkzeug...Request object>"), by type;
 * the types are kept alive so a pointer never names another. Used with the GIL held. */
static struct { PyObject *type; char *text; size_t length; } type_descriptions[64];
static size_t type_description_count;

/* Whether `object` is exactly a str (a subclass is described by its type, as glue._describe
 * does). */
static int is_str(PyObject *object) {
    PyObject *type = py.PyObject_Type(object);
    py.Py_DecRef(type);
    return type == py.UnicodeType;
}

/* Appends the description of a value that is not a str: bool and None, wsgi.version, a
 * type-only description from the cache, else what glue._describe says. */
static void text_append_description(text_buffer *buffer, PyObject *value, PyObject *describe_by_type, PyObject *describe) {
    if (value == py.True) return text_append(buffer, "True (bool)", 11);
    if (value == py.False) return text_append(buffer, "False (bool)", 12);
    if (value == py.None) return text_append(buffer, "None (NoneType)", 15);
    if (value == wsgi_version) return text_append(buffer, "(1, 0) (tuple)", 14);
    PyObject *type = py.PyObject_Type(value);
    for (size_t index = 0; index < type_description_count; index++) {
        if (type_descriptions[index].type == type) {
            py.Py_DecRef(type);
            return text_append_escaped(buffer, type_descriptions[index].text, type_descriptions[index].length);
        }
    }
    PyObject *by_type = py.PyObject_CallFunctionObjArgs(describe_by_type, type, NULL);
    Py_ssize_t length;
    const char *text = by_type && by_type != py.None ? py.PyUnicode_AsUTF8AndSize(by_type, &length) : NULL;
    if (text && type_description_count < sizeof type_descriptions / sizeof type_descriptions[0]) {
        type_descriptions[type_description_count].type = new_reference(type);
        type_descriptions[type_description_count].text = strndup(text, (size_t)length);
        type_descriptions[type_description_count].length = (size_t)length;
        type_description_count++;
    }
    if (text) {
        text_append_escaped(buffer, text, (size_t)length);
    } else {
        py.PyErr_Clear();
        PyObject *described = py.PyObject_CallFunctionObjArgs(describe, value, NULL);
        if (described) {
            text_append_str(buffer, described);
        } else {
            py.PyErr_Clear();
            text_append(buffer, "(undescribable)", 15);
        }
        py.Py_DecRef(described);
    }
    py.Py_DecRef(by_type);
    py.Py_DecRef(type);
}

/* Whether environ[key] is `value` where the server's environ (`built`) had none or a value not
 * equal to it. */
static int value_changed(PyObject *built, PyObject *key, PyObject *value) {
    PyObject *before = py.PyDict_GetItem(built, key);
    if (!before) return 1;
    if (before == value) return 0;
    int equal = py.PyObject_RichCompareBool(value, before, 2 /* Py_EQ */);
    if (equal < 0) py.PyErr_Clear();
    return equal != 1;
}

/* environ_changes(ctx, environ, built, describe_by_type, describe): sends the environ as the
 * application left it, where it differs from the one the server built (`built`, a copy taken
 * before the call): added, replaced (a value not equal) and removed keys, plus the wsgi.*
 * values with their Python types for reference, as "KEY\tDESCRIPTION\n" lines. Nothing is sent
 * for an environ left as it was. In C because in Python it cost 5 µs of each Flask request. */
static PyObject *host_environ_changes(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = request_of(args);
    PyObject *environ = py.PyTuple_GetItem(args, 1), *built = py.PyTuple_GetItem(args, 2);
    PyObject *describe_by_type = py.PyTuple_GetItem(args, 3), *describe = py.PyTuple_GetItem(args, 4);
    if (!HOST_HAS(application_environ) || !host->application_environ) return new_reference(py.None);
    /* First whether anything changed at all (most requests: nothing), comparing the values'
     * pointers and, where they differ, the values; only then the lines. */
    int changed = py.PyDict_Size(environ) != py.PyDict_Size(built);
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (!changed && py.PyDict_Next(environ, &position, &key, &value)) changed = value_changed(built, key, value);
    if (!changed) return new_reference(py.None);
    text_buffer lines = {NULL, 0, 0};
    position = 0;
    while (py.PyDict_Next(environ, &position, &key, &value)) {
        int differs = value_changed(built, key, value);
        Py_ssize_t key_length = 0;
        const char *key_text = py.PyUnicode_AsUTF8AndSize(key, &key_length);
        if (!key_text) py.PyErr_Clear();
        int wsgi = key_text && key_length > 5 && memcmp(key_text, "wsgi.", 5) == 0;
        if (!differs && !wsgi) continue;
        text_append_str(&lines, key);
        text_append(&lines, "\t", 1);
        if (is_str(value)) {
            text_append_str(&lines, value);
        } else {
            text_append_description(&lines, value, describe_by_type, describe);
        }
        text_append(&lines, "\n", 1);
    }
    position = 0;
    while (py.PyDict_Next(built, &position, &key, &value)) {
        int present = py.PyDict_Contains(environ, key);
        if (present < 0) py.PyErr_Clear();
        if (present == 1) continue;
        text_append_str(&lines, key);
        text_append(&lines, "\t(removed)\n", 11);
    }
    int result;
    QUICK_HOST_CALL(r, result, host->application_environ(r->request, lines.data, lines.length));
    (void)result;
    free(lines.data);
    return new_reference(py.None);
}

/* --- print() during a request (issue 11, "Errors belong to their request") --- */

/* The request this thread is running application code for (the call, an iteration, close), or
 * NULL; and the text it printed after its last newline. */
static __thread bridge_request *current_request;
static __thread text_buffer pending_output;

/* Sends the printed text still waiting for its newline; the request's code has returned. */
static void end_output(bridge_request *r) {
    if (pending_output.length == 0) return;
    int result;
    QUICK_HOST_CALL(r, result, host->errors_write(r->request, pending_output.data, pending_output.length));
    (void)result;
    pending_output.length = 0;
}

/* output(text) -> bool: sys.stdout and sys.stderr while this thread runs a request's code: the
 * text joins that request's wsgi.errors a line at a time (False: no request, the caller writes
 * to the real stream). */
static PyObject *host_output(PyObject *self, PyObject *args) {
    (void)self;
    bridge_request *r = current_request;
    if (!r) return new_reference(py.False);
    Py_ssize_t length;
    const char *text = text_argument(py.PyTuple_GetItem(args, 0), &length, 0);
    if (!text) {
        py.PyErr_Clear();
        py.PyErr_SetString(*py.PyExc_TypeError, "write() argument must be a str (encodable as UTF-8)");
        return NULL;
    }
    const char *newline = (const char *)memrchr(text, '\n', (size_t)length);
    if (!newline) {
        text_append(&pending_output, text, (size_t)length);
        return new_reference(py.True);
    }
    size_t through = (size_t)(newline - text) + 1;
    int result;
    if (pending_output.length > 0) {
        text_append(&pending_output, text, through);
        QUICK_HOST_CALL(r, result, host->errors_write(r->request, pending_output.data, pending_output.length));
        pending_output.length = 0;
    } else {
        QUICK_HOST_CALL(r, result, host->errors_write(r->request, text, through));
    }
    (void)result;
    text_append(&pending_output, newline + 1, (size_t)length - through);
    return new_reference(py.True);
}

/* end_output(ctx): the partial line goes out now (before a traceback). */
static PyObject *host_end_output(PyObject *self, PyObject *args) {
    (void)self;
    if (current_request == request_of(args)) end_output(current_request);
    return new_reference(py.None);
}

/* current() -> ctx or None: the request this thread runs code for. */
static PyObject *host_current(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return current_request ? py.PyLong_FromVoidPtr(current_request) : new_reference(py.None);
}

static PyMethodDef host_methods[] = {
    {"read", host_read, METH_VARARGS, "wsgi.input read(size)"},
    {"readline", host_readline, METH_VARARGS, "wsgi.input readline(size)"},
    {"errors_write", host_errors_write, METH_VARARGS, "wsgi.errors write(text)"},
    {"start_response", host_start_response, METH_VARARGS, "start_response(status, headers, exc type, exc message)"},
    {"write", host_write, METH_VARARGS, "write(data)"},
    {"raise_", host_raise, METH_VARARGS, "record the exception the application raised"},
    {"violation", host_violation, METH_VARARGS, "record a gateway contract violation"},
    {"watch", host_watch, METH_VARARGS, "reload when this file changes"},
    {"output", host_output, METH_VARARGS, "print() text while a request runs"},
    {"end_output", host_end_output, METH_VARARGS, "send the request's printed partial line"},
    {"current", host_current, METH_VARARGS, "the request this thread runs code for"},
    {"environ_changes", host_environ_changes, METH_VARARGS, "record the environ as the application left it, where it changed"},
    {"application_traceback", host_application_traceback, METH_VARARGS, "record the raised exception's frames"},
    {NULL, NULL, 0, NULL},
};

/* --- init: libpython, the interpreter, the Python half, the application --- */

#include "glue.h"

static const char *setting(const char *name) {
    const char *value = getenv(name);
    return value ? value : "";
}

/* A \x1f-separated setting as a list of str. */
static PyObject *list_setting(const char *name) {
    const char *value = setting(name);
    PyObject *list = py.PyList_New(0);
    PyObject *append = py.PyObject_GetAttrString(list, "append");
    const char *start = value;
    while (*start) {
        const char *end = strchr(start, '\x1f');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        if (length > 0) {
            PyObject *item = py.PyUnicode_DecodeUTF8(start, (Py_ssize_t)length, "surrogateescape");
            PyObject *ignored = py.PyObject_CallFunctionObjArgs(append, item, NULL);
            py.Py_DecRef(ignored);
            py.Py_DecRef(item);
        }
        if (!end) break;
        start = end + 1;
    }
    py.Py_DecRef(append);
    return list;
}

/* The pending Python exception as the one-line reason (into `error`) and the traceback (to
 * stderr, which the supervisor shows in the event log). */
static void describe_exception(PyObject *glue, char *error, size_t capacity) {
    PyObject *type, *value, *traceback;
    py.PyErr_Fetch(&type, &value, &traceback);
    py.PyErr_NormalizeException(&type, &value, &traceback);
    PyObject *describe = glue ? py.PyObject_GetAttrString(glue, "describe_load_error") : NULL;
    PyObject *pair = describe && value ? py.PyObject_CallFunctionObjArgs(describe, value, NULL) : NULL;
    if (pair) {
        Py_ssize_t length;
        const char *line = py.PyUnicode_AsUTF8AndSize(py.PyTuple_GetItem(pair, 0), &length);
        const char *text = py.PyUnicode_AsUTF8AndSize(py.PyTuple_GetItem(pair, 1), &length);
        if (text && *text) fprintf(stderr, "%s", text);
        snprintf(error, capacity, "%s", line ? line : "the application could not be loaded");
        py.Py_DecRef(pair);
    } else {
        py.PyErr_Clear();
        PyObject *text = value ? py.PyObject_Str(value) : NULL;
        Py_ssize_t length;
        const char *line = text ? py.PyUnicode_AsUTF8AndSize(text, &length) : NULL;
        snprintf(error, capacity, "%s", line ? line : "the application could not be loaded");
        py.Py_DecRef(text);
    }
    py.PyErr_Clear();
    if (describe) py.Py_DecRef(describe);
    fflush(stderr);
}

static int bridge_init(void *context, const devserve_host *given, char *error, size_t capacity) {
    (void)context;
    host = given;
    const char *library = setting("DEVSERVE_PYTHON_LIBRARY");
    if (!*library) {
        snprintf(error, capacity, "no Python library given (DEVSERVE_PYTHON_LIBRARY): run a Python application as `devserve app.py`");
        return 1;
    }
    /* Already mapped (the worker never links it, but be exact): make it global all the same. */
    libpython = dlopen(library, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    if (!libpython) libpython = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (!libpython) {
        snprintf(error, capacity, "cannot load the Python library %s: %s", library, dlerror());
        return 1;
    }
    if (resolve(error, capacity) != 0) return 1;
    if (py.Py_IsInitialized()) {
        snprintf(error, capacity, "Python is already initialized in this process");
        return 1;
    }
    /* The interpreter's home finds the stdlib whatever the layout; the program name makes
     * sys.executable the chosen interpreter (a venv's python). Both before initialization. */
    static wchar_t *home, *program;
    if (*setting("DEVSERVE_PYTHON_HOME")) {
        home = py.Py_DecodeLocale(setting("DEVSERVE_PYTHON_HOME"), NULL);
        py.Py_SetPythonHome(home);
    }
    if (*setting("DEVSERVE_PYTHON_EXECUTABLE")) {
        program = py.Py_DecodeLocale(setting("DEVSERVE_PYTHON_EXECUTABLE"), NULL);
        py.Py_SetProgramName(program);
    }
    /* 0: no Python signal handlers. The worker blocks SIGINT and SIGTERM in its threads and
     * stops through sigwait; Python's SIGINT handler would be inert anyway. */
    py.Py_InitializeEx(0);
    thread_state = py.PyGILState_GetThisThreadState();

    int failed = 1;
    PyObject *glue = py.PyModule_New("devserve_bridge");
    PyObject *namespace_ = py.PyObject_GetAttrString(glue, "__dict__");
    PyObject *builtins = py.PyImport_ImportModule("builtins");
    PyObject *exec = builtins ? py.PyObject_GetAttrString(builtins, "exec") : NULL;
    PyObject *compile = builtins ? py.PyObject_GetAttrString(builtins, "compile") : NULL;
    PyObject *source = py.PyUnicode_FromString(devserve_glue_source);
    PyObject *file_name = py.PyUnicode_FromString("<devserve python bridge>");
    PyObject *mode = py.PyUnicode_FromString("exec");
    /* A file name of its own, so tracebacks through the bridge say what they are. */
    PyObject *code = compile ? py.PyObject_CallFunctionObjArgs(compile, source, file_name, mode, NULL) : NULL;
    PyObject *ran = code && exec ? py.PyObject_CallFunctionObjArgs(exec, code, namespace_, NULL) : NULL;
    py.Py_DecRef(code);
    py.Py_DecRef(mode);
    py.Py_DecRef(file_name);
    py.Py_DecRef(compile);
    PyObject *sys_modules = NULL, *setup = NULL, *host_namespace = NULL, *result = NULL;
    if (!ran) {
        describe_exception(NULL, error, capacity);
        goto done;
    }
    {
        PyObject *sys = py.PyImport_ImportModule("sys");
        sys_modules = py.PyObject_GetAttrString(sys, "modules");
        py.PyDict_SetItemString(sys_modules, "devserve_bridge", glue);
        py.Py_DecRef(sys);
    }
    /* _host: a module whose attributes are the C functions above. */
    host_namespace = py.PyModule_New("devserve_bridge._host");
    for (PyMethodDef *method = host_methods; method->ml_name; method++) {
        PyObject *function = py.PyCFunction_NewEx(method, NULL, NULL);
        PyObject *dict = py.PyObject_GetAttrString(host_namespace, "__dict__");
        py.PyDict_SetItemString(dict, method->ml_name, function);
        py.Py_DecRef(dict);
        py.Py_DecRef(function);
    }
    glue_call = py.PyObject_GetAttrString(glue, "call");
    glue_chunk = py.PyObject_GetAttrString(glue, "chunk_of");
    glue_iteration_failed = py.PyObject_GetAttrString(glue, "iteration_failed");
    glue_close = py.PyObject_GetAttrString(glue, "close");
    glue_shutdown = py.PyObject_GetAttrString(glue, "shutdown");
    setup = py.PyObject_GetAttrString(glue, "setup");
    {
        PyObject *arguments = py.PyTuple_New(9);
        py.PyTuple_SetItem(arguments, 0, new_reference(host_namespace));
        py.PyTuple_SetItem(arguments, 1, py.PyUnicode_FromString(setting("DEVSERVE_PYTHON_APP")));
        py.PyTuple_SetItem(arguments, 2, list_setting("DEVSERVE_PYTHON_PATH"));
        py.PyTuple_SetItem(arguments, 3, py.PyUnicode_FromString(setting("DEVSERVE_PYTHON_EXECUTABLE")));
        py.PyTuple_SetItem(arguments, 4, py.PyUnicode_FromString(setting("DEVSERVE_PYTHON_PREFIX")));
        py.PyTuple_SetItem(arguments, 5, py.PyUnicode_FromString(setting("DEVSERVE_PYTHON_EXEC_PREFIX")));
        py.PyTuple_SetItem(arguments, 6, new_reference(strcmp(setting("DEVSERVE_PYTHON_VALIDATE"), "1") == 0 ? py.True : py.False));
        py.PyTuple_SetItem(arguments, 7, list_setting("DEVSERVE_PYTHON_WATCH"));
        py.PyTuple_SetItem(arguments, 8, new_reference(strcmp(setting("DEVSERVE_PYTHON_CAPTURE"), "0") == 0 ? py.False : py.True));
        result = py.PyObject_Call(setup, arguments, NULL);
        py.Py_DecRef(arguments);
    }
    if (!result) {
        describe_exception(glue, error, capacity);
        goto done;
    }
    {
        PyObject *one = py.PyLong_FromSsize_t(1), *zero = py.PyLong_FromSsize_t(0);
        wsgi_version = py.PyTuple_New(2);
        py.PyTuple_SetItem(wsgi_version, 0, one);
        py.PyTuple_SetItem(wsgi_version, 1, zero);
    }
    failed = 0;
done:
    py.Py_DecRef(result);
    py.Py_DecRef(setup);
    py.Py_DecRef(host_namespace);
    py.Py_DecRef(sys_modules);
    py.Py_DecRef(ran);
    py.Py_DecRef(source);
    py.Py_DecRef(exec);
    py.Py_DecRef(builtins);
    py.Py_DecRef(namespace_);
    py.Py_DecRef(glue);
    leave_python();
    return failed;
}

static void bridge_shutdown(void *context) {
    (void)context;
    if (!glue_shutdown) return;
    enter_python();
    release_pending();
    PyObject *result = py.PyObject_CallFunctionObjArgs(glue_shutdown, NULL);
    if (!result) py.PyErr_Print();
    py.Py_DecRef(result);
    leave_python();
}

/* --- environ keys and values, made once --- */

/* Every request's environ has the same keys (REQUEST_METHOD, PATH_INFO, HTTP_HOST...) and mostly
 * the same short values ("GET", "HTTP/1.1", "", the server's name and port). Each was decoded
 * into a new str per request, and hashed again when the dict took it. Here a key's str is made
 * once and interned (the application's literal "PATH_INFO" then finds it by identity), and the
 * last short value seen under each key is kept and given again while the bytes are the same (a
 * str cannot change). Open addressing on the bytes' FNV-1a hash; guarded by the GIL (only
 * build_environ uses it, holding it). Full at ``ENVIRON_TEXT_LIMIT`` keys (a client inventing
 * header names only stops new ones from being kept). */
enum { ENVIRON_TEXT_SLOTS = 256, ENVIRON_TEXT_LIMIT = 192, ENVIRON_VALUE_KEPT = 48 };

typedef struct environ_text {
    uint64_t hash;
    size_t length;
    uint8_t *bytes;           /* the key's bytes, malloc'd; NULL: an empty slot */
    PyObject *key;            /* the key's str, interned, owned */
    size_t value_length;
    uint8_t value_bytes[ENVIRON_VALUE_KEPT];
    PyObject *value;          /* the last value under this key when it was short, owned, or NULL */
} environ_text;

static environ_text environ_texts[ENVIRON_TEXT_SLOTS];
static size_t environ_text_count;

static uint64_t fnv1a(const uint8_t *bytes, size_t length) {
    uint64_t hash = 14695981039346656037ull;
    for (size_t index = 0; index < length; index++) hash = (hash ^ bytes[index]) * 1099511628211ull;
    return hash;
}

/* The kept entry for this key, made on first sight; NULL when the table is full. */
static environ_text *environ_text_of(const uint8_t *key, size_t length) {
    uint64_t hash = fnv1a(key, length);
    for (size_t probe = 0; probe < ENVIRON_TEXT_SLOTS; probe++) {
        environ_text *slot = &environ_texts[(hash + probe) % ENVIRON_TEXT_SLOTS];
        if (!slot->bytes) {
            if (environ_text_count >= ENVIRON_TEXT_LIMIT) return NULL;
            PyObject *text = py.PyUnicode_DecodeLatin1((const char *)key, (Py_ssize_t)length, NULL);
            if (!text) return NULL;
            py.PyUnicode_InternInPlace(&text);
            slot->bytes = (uint8_t *)malloc(length ? length : 1);
            memcpy(slot->bytes, key, length);
            slot->hash = hash;
            slot->length = length;
            slot->key = text;
            environ_text_count++;
            return slot;
        }
        if (slot->hash == hash && slot->length == length && memcmp(slot->bytes, key, length) == 0) return slot;
    }
    return NULL;
}

/* A new reference to the str of `value` under `entry`'s key: the kept one when the bytes are
 * the same, else a new one, kept in its place when short. */
static PyObject *environ_value(environ_text *entry, const uint8_t *value, size_t length) {
    if (entry->value && entry->value_length == length && memcmp(entry->value_bytes, value, length) == 0)
        return new_reference(entry->value);
    PyObject *text = py.PyUnicode_DecodeLatin1((const char *)value, (Py_ssize_t)length, NULL);
    if (text && length <= ENVIRON_VALUE_KEPT) {
        py.Py_DecRef(entry->value);
        entry->value = new_reference(text);
        entry->value_length = length;
        memcpy(entry->value_bytes, value, length);
    }
    return text;
}

/* --- Requests --- */

/* The environ dict (PEP 3333, "environ Variables"): native strings read as Latin-1 from the
 * host's bytes, so every byte survives; wsgi.version and the flags as Python values. Holding
 * the GIL. */
static PyObject *build_environ(devserve_request *request) {
    PyObject *environ = py.PyDict_New();
    size_t count = host->environ_count(request);
    for (size_t index = 0; index < count; index++) {
        const uint8_t *key, *value;
        size_t key_length, value_length;
        if (host->environ_entry(request, index, &key, &key_length, &value, &value_length) != DEVSERVE_OK) continue;
        environ_text *entry = environ_text_of(key, key_length);
        int wsgi = key_length > 5 && memcmp(key, "wsgi.", 5) == 0;
        PyObject *item;
        if (wsgi && key_length == 12 && memcmp(key, "wsgi.version", 12) == 0) {
            item = new_reference(wsgi_version);
        } else if (wsgi && value_length == 4 && memcmp(value, "true", 4) == 0) {
            item = new_reference(py.True);
        } else if (wsgi && value_length == 5 && memcmp(value, "false", 5) == 0) {
            item = new_reference(py.False);
        } else if (entry) {
            item = environ_value(entry, value, value_length);
        } else {
            item = py.PyUnicode_DecodeLatin1((const char *)value, (Py_ssize_t)value_length, NULL);
        }
        PyObject *name = entry ? new_reference(entry->key) : py.PyUnicode_DecodeLatin1((const char *)key, (Py_ssize_t)key_length, NULL);
        py.PyDict_SetItem(environ, name, item);
        py.Py_DecRef(name);
        py.Py_DecRef(item);
    }
    return environ;
}

static void free_request(bridge_request *r) {
    pthread_mutex_destroy(&r->lock);
    free(r->spans);
    free(r);
}

/* next() of a list body: the chunks were taken apart in call(), so no GIL is needed. */
static int sequence_next(void *context, devserve_request *request, const uint8_t **chunk, size_t *length) {
    (void)request;
    bridge_request *r = (bridge_request *)context;
    if (r->next_index >= r->chunk_total) return 0;
    *chunk = r->spans[r->next_index].data;
    *length = r->spans[r->next_index].length;
    r->next_index++;
    return 1;
}

static void sequence_close(void *context, devserve_request *request) {
    (void)request;
    bridge_request *r = (bridge_request *)context;
    release_later(r->chunks);
    release_later(r->response);
    free_request(r);
}

/* Reports an error of the bridge itself (not the application's) on the request. */
static void bridge_failure(devserve_request *request, const char *what) {
    py.PyErr_Print();
    host->raise(request, "devserve.BridgeError", 20, what, strlen(what));
}

/* The application's iterable, one chunk per call (PEP 3333, "Buffering and Streaming"): next()
 * in C, with this thread marked as running the request's code (print() goes to the request);
 * a chunk that is not exactly bytes, and an exception, go to the Python half. */
static int body_next(void *context, devserve_request *request, const uint8_t **chunk, size_t *length) {
    bridge_request *r = (bridge_request *)context;
    enter_python();
    py.Py_DecRef(r->chunk);
    r->chunk = NULL;
    current_request = r;
    PyObject *next = py.PyIter_Next(r->iterator);
    int result;
    PyObject *type = next ? py.PyObject_Type(next) : NULL;
    py.Py_DecRef(type);   /* compared by identity only; the chunk keeps its type alive */
    if (next && type != py.BytesType) {
        PyObject *converted = py.PyObject_CallFunctionObjArgs(glue_chunk, r->response, next, NULL);
        py.Py_DecRef(next);
        next = converted;
        if (!next) {
            bridge_failure(request, "the bridge failed to iterate the response");
            next = new_reference(py.False);
        }
    } else if (!next && py.PyErr_Occurred()) {
        PyObject *kind, *value, *traceback;
        py.PyErr_Fetch(&kind, &value, &traceback);
        py.PyErr_NormalizeException(&kind, &value, &traceback);
        PyObject *reported = py.PyObject_CallFunctionObjArgs(glue_iteration_failed, r->response, value, traceback ? traceback : py.None, NULL);
        if (!reported) py.PyErr_Print();
        py.Py_DecRef(reported);
        py.Py_DecRef(kind);
        py.Py_DecRef(value);
        py.Py_DecRef(traceback);
        next = new_reference(py.False);   /* the application raised; reported */
    }
    current_request = NULL;
    end_output(r);
    if (!next) {
        result = 0;
    } else if (next == py.False) {
        result = -1;
    } else {
        char *data;
        Py_ssize_t size;
        py.PyBytes_AsStringAndSize(next, &data, &size);
        r->chunk = new_reference(next);
        *chunk = (const uint8_t *)data;
        *length = (size_t)size;
        result = 1;
    }
    py.Py_DecRef(next);
    leave_python();
    return result;
}

static void body_close(void *context, devserve_request *request) {
    (void)request;
    bridge_request *r = (bridge_request *)context;
    enter_python();
    py.Py_DecRef(r->chunk);
    py.Py_DecRef(r->iterator);
    current_request = r;
    PyObject *result = py.PyObject_CallFunctionObjArgs(glue_close, r->response, NULL);
    if (!result) py.PyErr_Print();
    current_request = NULL;
    end_output(r);
    py.Py_DecRef(result);
    py.Py_DecRef(r->response);
    leave_python();
    free_request(r);
}

static int bridge_call(void *context, devserve_request *request, const devserve_host *given, devserve_body *body) {
    (void)context;
    (void)given;
    bridge_request *r = (bridge_request *)calloc(1, sizeof *r);
    r->request = request;
    pthread_mutex_init(&r->lock, NULL);
    enter_python();
    release_pending();
    PyObject *environ = build_environ(request);
    PyObject *handle = py.PyLong_FromVoidPtr(r);
    current_request = r;
    PyObject *outcome = py.PyObject_CallFunctionObjArgs(glue_call, environ, handle, NULL);
    current_request = NULL;
    end_output(r);
    py.Py_DecRef(handle);
    py.Py_DecRef(environ);
    if (!outcome || outcome == py.None) {
        if (!outcome) bridge_failure(request, "the bridge failed to call the application");
        py.Py_DecRef(outcome);
        leave_python();
        free_request(r);
        return DEVSERVE_APP_ERROR;   /* the iterable, if any, was closed by the Python half */
    }
    r->response = new_reference(py.PyTuple_GetItem(outcome, 0));
    r->iterator = py.PyObject_GetAttrString(r->response, "iterator");
    if (r->iterator == py.None) {
        py.Py_DecRef(r->iterator);
        r->iterator = NULL;
    }
    Py_ssize_t descriptor = py.PyLong_AsSsize_t(py.PyTuple_GetItem(outcome, 1));
    Py_ssize_t count = py.PyLong_AsSsize_t(py.PyTuple_GetItem(outcome, 2));
    PyObject *chunks = py.PyTuple_GetItem(outcome, 3);
    if (chunks != py.None) {
        r->chunks = new_reference(chunks);
        r->chunk_total = count;
        r->spans = (decltype(r->spans))malloc(sizeof *r->spans * (size_t)(count > 0 ? count : 1));
        for (Py_ssize_t index = 0; index < count; index++) {
            char *data;
            Py_ssize_t size;
            py.PyBytes_AsStringAndSize(py.PyTuple_GetItem(chunks, index), &data, &size);
            r->spans[index].data = (const uint8_t *)data;
            r->spans[index].length = (size_t)size;
        }
    }
    py.Py_DecRef(outcome);
    leave_python();
    body->context = r;
    if (r->chunks) {
        body->next = sequence_next;
        body->close = sequence_close;
        body->file_descriptor = -1;
        body->chunk_count = count;
        return DEVSERVE_APP_OK;
    }
    body->close = body_close;
    if (descriptor >= 0) {
        body->file_descriptor = (int)descriptor;
        body->next = NULL;
    } else {
        body->next = body_next;
        body->file_descriptor = -1;
    }
    body->chunk_count = count;
    return DEVSERVE_APP_OK;
}

static devserve_plugin plugin;

__attribute__((visibility("default"))) const devserve_plugin *devserve_plugin_entry(void) {
    plugin.size = sizeof(devserve_plugin);
    plugin.abi_major = DEVSERVE_ABI_MAJOR;
    plugin.abi_minor = DEVSERVE_ABI_MINOR;
    plugin.swift_version = 0;
    plugin.name = "python";
    plugin.context = NULL;
    plugin.init = bridge_init;
    plugin.shutdown = bridge_shutdown;
    plugin.call = bridge_call;
    return &plugin;
}

}  /* extern "C" */

#define _GNU_SOURCE
#include "devserve_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wchar.h>
#include <langinfo.h>

int devserve_shim_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int devserve_shim_set_pipe_size(int fd, int bytes) { return fcntl(fd, F_SETPIPE_SZ, bytes); }

int devserve_shim_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

void *devserve_shim_dlopen_now_local(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }

int devserve_shim_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}
int devserve_shim_set_thread_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

int devserve_shim_malloc_trim(void) { return malloc_trim(0); }

size_t devserve_shim_free_heap_bytes(void) { return mallinfo2().fordblks; }

void devserve_shim_keep_large_allocations(size_t bytes) {
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
    mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes));
}

int devserve_shim_peer_credentials(int fd, unsigned int *uid, int *pid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    *pid = credentials.pid;
    return 0;
}

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *volatile events_bytes;
static volatile size_t events_length;
static size_t events_capacity;
static int events_crash_fd = -1;

/* The pending and spare event buffers are mappings of their own, not malloc'd: after a burst
 * (a 1 MiB echo grows them to tens of MiB) they are given back a step at a time, by unmapping
 * their tail, where freeing one whole cost the writer thread 0.5 ms of kernel time at once on
 * the CPU the event loop shares (a streamed chunk waited behind it; issue 14). */
static const size_t events_minimum = 65536;
static const size_t events_release_step = 1u << 20;

static unsigned char *events_map(size_t capacity) {
    void *mapped = mmap(NULL, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return mapped == MAP_FAILED ? NULL : mapped;
}

/* With events_lock held: room for `length` more bytes. */
static int events_reserve(size_t length) {
    if (events_length + length <= events_capacity) return 1;
    size_t capacity = events_capacity ? events_capacity : events_minimum;
    while (capacity < events_length + length) capacity *= 2;
    unsigned char *grown = events_map(capacity);
    if (grown == NULL) return 0;
    if (events_length) memcpy(grown, events_bytes, events_length);
    unsigned char *old = events_bytes;
    size_t old_capacity = events_capacity;
    events_bytes = grown;  /* the crash handler always sees a whole buffer */
    events_capacity = capacity;
    if (old) munmap(old, old_capacity);
    return 1;
}

void devserve_shim_events_append2(const void *first, size_t first_length, const void *second, size_t second_length) {
    pthread_mutex_lock(&events_lock);
    if (events_reserve(first_length + second_length)) {
        if (first_length) memcpy(events_bytes + events_length, first, first_length);
        if (second_length) memcpy(events_bytes + events_length + first_length, second, second_length);
        events_length += first_length + second_length;
    }
    pthread_mutex_unlock(&events_lock);
}

/* Held while pending bytes are taken and written, by the writer thread or the crash handler:
 * whoever holds it owns those bytes, so none is written twice and frames never interleave. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

/* The buffer the writer wrote last, kept to become the pending buffer at the next write: the
 * two are swapped, never copied (issue 14: a copy of the whole pending buffer per write, into
 * fresh memory, was 96% of a 1 MiB echo's page faults). Guarded by write_lock. */
static unsigned char *spare_bytes;
static size_t spare_capacity;

int devserve_shim_events_write(int fd) {
    pthread_mutex_lock(&write_lock);
    pthread_mutex_lock(&events_lock);
    unsigned char *taken = events_bytes;
    size_t length = events_length, taken_capacity = events_capacity;
    events_bytes = spare_bytes;
    events_capacity = spare_capacity;
    events_length = 0;
    pthread_mutex_unlock(&events_lock);
    int result = 0;
    size_t offset = 0;
    while (taken != NULL && offset < length) {
        ssize_t written = write(fd, taken + offset, length - offset);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) { result = -1; break; }
        offset += (size_t)written;
    }
    /* Kept while the load needs it (a 1 MiB echo's pending bytes reach tens of MiB, and
     * growing a fresh buffer again each time faulted in every page: worker CPU per request
     * 2.5 ms when buffers over 8 MiB were freed, 1.45 ms kept). A buffer whose write used less
     * than an eighth of it gives back its last MiB (about 20 µs of unmapping per write), so
     * after a burst it shrinks over the next writes instead of all at once, and a steady load
     * keeps between one and eight times what it writes. */
    if (taken != NULL && taken_capacity > events_minimum && length < taken_capacity / 8) {
        size_t kept = taken_capacity > events_minimum + events_release_step ? taken_capacity - events_release_step : events_minimum;
        munmap(taken + kept, taken_capacity - kept);
        taken_capacity = kept;
    }
    spare_bytes = taken;
    spare_capacity = taken_capacity;
    pthread_mutex_unlock(&write_lock);
    return result;
}

size_t devserve_shim_events_capacity(void) {
    pthread_mutex_lock(&write_lock);
    pthread_mutex_lock(&events_lock);
    size_t capacity = events_capacity + spare_capacity;
    pthread_mutex_unlock(&events_lock);
    pthread_mutex_unlock(&write_lock);
    return capacity;
}

/* Tries `lock` for up to about 200 ms (nanosleep is async-signal-safe). */
static int lock_for_crash(pthread_mutex_t *lock) {
    struct timespec pause = {0, 200000};
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (pthread_mutex_trylock(lock) == 0) return 1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

static __thread char current_request[64];
static __thread size_t current_request_length;

void devserve_shim_set_current_request(const char *id, size_t length) {
    if (length > sizeof current_request - 1) length = sizeof current_request - 1;
    if (length) memcpy(current_request, id, length);
    current_request_length = length;
}

static void put_u32(unsigned char *at, uint32_t value) {
    for (int index = 0; index < 4; index++) at[index] = (unsigned char)(value >> (8 * index));
}

/* The frame header's check byte, as EventFrame.headerCheck computes it. */
static unsigned char header_check(uint32_t length, unsigned char kind) {
    return (unsigned char)(0x5A ^ length ^ (length >> 8) ^ (length >> 16) ^ (length >> 24)) ^ kind;
}

size_t devserve_shim_encode_crash_frame(unsigned char *buffer, int signal, const char *id, size_t id_length) {
    if (id_length > 63) id_length = 63;
    size_t body = 1 + 8 + 4 + id_length;
    put_u32(buffer, (uint32_t)body);
    buffer[4] = header_check((uint32_t)body, DEVSERVE_EVENT_KIND_CRASHED);
    buffer[5] = DEVSERVE_EVENT_KIND_CRASHED;
    int64_t value = signal;
    for (int index = 0; index < 8; index++) buffer[6 + index] = (unsigned char)((uint64_t)value >> (8 * index));
    put_u32(buffer + 14, (uint32_t)id_length);
    for (size_t index = 0; index < id_length; index++) buffer[18 + index] = (unsigned char)id[index];
    return 5 + body;
}

static void write_all(int fd, const unsigned char *bytes, size_t length) {
    size_t offset = 0;
    while (bytes != NULL && offset < length) {
        ssize_t written = write(fd, bytes + offset, length - offset);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) break;
        offset += (size_t)written;
    }
}

static struct sigaction previous_actions[32];
static const int crash_signals[] = {SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGTRAP};

static _Atomic int worker_crashed;

int devserve_shim_worker_crashed(void) { return atomic_load(&worker_crashed); }

int devserve_shim_crash_signal(void) { return SIGRTMIN + 3; }

static void flush_on_crash(int signal, siginfo_t *info, void *context) {
    atomic_store(&worker_crashed, 1);
    /* The writer thread may be writing bytes it took: wait for it (briefly) so that what it
     * took is not written again and frames do not interleave. If it cannot be had (the
     * crashing thread holds it), write anyway: the process is dying. */
    int have_write = lock_for_crash(&write_lock);
    int have_events = lock_for_crash(&events_lock);
    write_all(events_crash_fd, events_bytes, events_length);
    events_length = 0;
    /* Then the crash itself, naming the request this thread was serving: the supervisor
     * blames that request alone and starts a replacement at once, without waiting for the
     * backtracer that runs next. */
    unsigned char frame[96];
    size_t size = devserve_shim_encode_crash_frame(frame, signal, current_request, current_request_length);
    write_all(events_crash_fd, frame, size);
    if (have_events) pthread_mutex_unlock(&events_lock);
    devserve_shim_answer_connections(signal, current_request, current_request_length);
    /* The worker's main thread waits for this signal: it stops accepting, so no connection
     * is taken by a process that is about to die while the backtracer runs. */
    kill(getpid(), devserve_shim_crash_signal());
    /* The backtracer that runs next (the Swift runtime's, a process spawned from this thread)
     * symbolicates for tens of milliseconds to seconds: at the lowest priority it does not
     * take the CPU from the replacement worker starting beside it (on one CPU the new worker
     * took 74 ms to serve instead of a few). Linux applies this to the calling thread, and the
     * backtracer's process inherits it. */
    setpriority(PRIO_PROCESS, 0, 19);
    if (have_write) pthread_mutex_unlock(&write_lock);
    struct sigaction *previous = &previous_actions[signal];
    sigaction(signal, previous, NULL);
    if (previous->sa_flags & SA_SIGINFO) {
        if (previous->sa_sigaction != NULL) { previous->sa_sigaction(signal, info, context); return; }
    } else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(signal);
        return;
    }
    raise(signal);
}

/* exit() called while a request runs (a plugin calling exit, or a library doing it for it):
 * its events are flushed and the request named, as for a crash, with signal 0. exit() from
 * anywhere else (the worker's own shutdown) adds nothing. */
static void flush_at_exit(void) {
    if (current_request_length == 0 || events_crash_fd < 0) return;
    atomic_store(&worker_crashed, 1);
    pthread_mutex_lock(&write_lock);
    pthread_mutex_lock(&events_lock);
    write_all(events_crash_fd, events_bytes, events_length);
    events_length = 0;
    unsigned char frame[96];
    size_t size = devserve_shim_encode_crash_frame(frame, 0, current_request, current_request_length);
    write_all(events_crash_fd, frame, size);
    pthread_mutex_unlock(&events_lock);
    pthread_mutex_unlock(&write_lock);
    devserve_shim_answer_connections(0, current_request, current_request_length);
}

void devserve_shim_flush_events_on_crash(int fd) {
    events_crash_fd = fd;
    atexit(flush_at_exit);
    for (size_t index = 0; index < sizeof crash_signals / sizeof crash_signals[0]; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = flush_on_crash;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(crash_signals[index], &action, &previous_actions[crash_signals[index]]);
    }
}

int devserve_shim_wcwidth(unsigned int scalar) { return wcwidth((wchar_t)scalar); }

int devserve_shim_codeset_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && strcmp(codeset, "UTF-8") == 0;
}

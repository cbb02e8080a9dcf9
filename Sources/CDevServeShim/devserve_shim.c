#define _GNU_SOURCE
#include "devserve_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
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
#include <sys/stat.h>
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

int devserve_shim_set_thread_batch_scheduling(void) {
    struct sched_param parameters = {0};
    return sched_setscheduler(0, SCHED_BATCH, &parameters);
}

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

/* With events_lock held: appends two pieces as one; 0 when there is no room. */
static int events_append_locked(const void *first, size_t first_length, const void *second, size_t second_length) {
    if (!events_reserve(first_length + second_length)) return 0;
    if (first_length) memcpy(events_bytes + events_length, first, first_length);
    if (second_length) memcpy(events_bytes + events_length + first_length, second, second_length);
    events_length += first_length + second_length;
    return 1;
}

void devserve_shim_events_append2(const void *first, size_t first_length, const void *second, size_t second_length) {
    pthread_mutex_lock(&events_lock);
    events_append_locked(first, first_length, second, second_length);
    pthread_mutex_unlock(&events_lock);
}

/* The shared body ring (issue 14): captured body bytes of 4 KiB and more go into a memfd the
 * supervisor maps too, and their frame carries the ring position instead of the bytes, so a
 * 1 MiB echo's 2 MiB of capture cross no pipe (the pipe copied them twice, in the kernel, and
 * allocated and freed their pages). Positions grow without wrapping; a body lies contiguous at
 * position % size, skipping the ring's end when it would not fit there. The supervisor stores
 * how far it has copied bodies out in the ring's header. Guarded by events_lock, so bodies lie
 * in the ring in the order of their frames. */
static unsigned char *ring_base;
static uint64_t ring_size;
static uint64_t ring_head;
/* When a body was last placed, and where the ring's pages were last all given back. */
static double ring_last_placed;
static uint64_t ring_released_head = UINT64_MAX;
static uint64_t ring_release_offset;

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int devserve_shim_ring_attach(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0 || info.st_size <= DEVSERVE_RING_HEADER) return -1;
    void *mapped = mmap(NULL, (size_t)info.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED) return -1;
    pthread_mutex_lock(&events_lock);
    ring_base = mapped;
    ring_size = (uint64_t)info.st_size - DEVSERVE_RING_HEADER;
    ring_head = 0;
    pthread_mutex_unlock(&events_lock);
    return 0;
}

int devserve_shim_events_append_shared(void *frame, size_t frame_length, const void *body, size_t body_length) {
    int placed = 0;
    pthread_mutex_lock(&events_lock);
    if (ring_base != NULL && frame_length >= 8 && body_length > 0 && body_length <= ring_size) {
        uint64_t consumed = atomic_load_explicit((_Atomic uint64_t *)ring_base, memory_order_acquire);
        uint64_t start = ring_head;
        uint64_t offset = start % ring_size;
        if (offset + body_length > ring_size) start += ring_size - offset;  /* skip the end */
        if (start + body_length - consumed <= ring_size && events_reserve(frame_length)) {
            memcpy(ring_base + DEVSERVE_RING_HEADER + start % ring_size, body, body_length);
            ring_head = start + body_length;
            ring_last_placed = monotonic_seconds();
            for (int index = 0; index < 8; index++) ((unsigned char *)frame)[frame_length - 8 + index] = (unsigned char)(start >> (8 * index));
            placed = events_append_locked(frame, frame_length, NULL, 0);
        }
    }
    pthread_mutex_unlock(&events_lock);
    return placed;
}

void devserve_shim_ring_release_if_idle(void) {
    static const uint64_t step = 1u << 20;
    for (;;) {
        pthread_mutex_lock(&events_lock);
        int idle = ring_base != NULL && ring_head != ring_released_head && monotonic_seconds() - ring_last_placed >= 1.0
            && atomic_load_explicit((_Atomic uint64_t *)ring_base, memory_order_acquire) == ring_head;
        if (idle) {
            uint64_t length = ring_size - ring_release_offset < step ? ring_size - ring_release_offset : step;
            madvise(ring_base + DEVSERVE_RING_HEADER + ring_release_offset, (size_t)length, MADV_REMOVE);
            ring_release_offset += length;
            if (ring_release_offset >= ring_size) {
                ring_release_offset = 0;
                ring_released_head = ring_head;
            }
        }
        pthread_mutex_unlock(&events_lock);
        if (!idle) return;
    }
}

void *devserve_shim_ring_create(size_t size, int *fd) {
    int descriptor = memfd_create("devserve-bodies", MFD_CLOEXEC);
    if (descriptor < 0) return NULL;
    if (ftruncate(descriptor, (off_t)(size + DEVSERVE_RING_HEADER)) != 0) { close(descriptor); return NULL; }
    void *mapped = mmap(NULL, size + DEVSERVE_RING_HEADER, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0);
    if (mapped == MAP_FAILED) { close(descriptor); return NULL; }
    *fd = descriptor;
    return mapped;
}

void devserve_shim_ring_consumed(void *ring, uint64_t position) {
    atomic_store_explicit((_Atomic uint64_t *)ring, position, memory_order_release);
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

/* A request the event loop took while the first pass ran sees the crash flag and is refused
 * by the loop, but the backtracer that runs next pauses every thread, perhaps before that
 * refusal is written, and the client would get an empty reply when the process dies; and an
 * accept batch the loop was in the middle of still hands it connections. So more passes follow,
 * a millisecond apart, until one finds nothing to answer (at least two, at most eight): each
 * answers what became waiting (the loop marks its refusals waiting too; whichever claims the
 * slot first answers) or arrived unread since the last. */
static void answer_late_connections(int signal) {
    for (int pass = 0; pass < 8; pass++) {
        struct timespec moment = {0, 1000 * 1000};
        while (nanosleep(&moment, &moment) != 0 && errno == EINTR) {}
        if (devserve_shim_answer_connections(signal, current_request, current_request_length) == 0 && pass > 0) break;
    }
}

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
    answer_late_connections(signal);
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
    answer_late_connections(0);
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

long devserve_shim_last_index(const void *bytes, size_t count, int byte) {
    const unsigned char *found = memrchr(bytes, byte, count);
    return found ? (long)(found - (const unsigned char *)bytes) : -1;
}

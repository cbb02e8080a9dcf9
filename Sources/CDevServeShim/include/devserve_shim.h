/*
 * devserve_shim.h: thin wrappers for C calls that Swift cannot reach directly on Linux.
 * Glibc's Swift module map hides pipe2, accept4 and posix_spawn_file_actions_addclosefrom_np
 * (they need _GNU_SOURCE), and dlopen's flags and dlerror are simpler to use from here.
 */
#ifndef DEVSERVE_SHIM_H
#define DEVSERVE_SHIM_H

#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>

/* Sets a pipe's capacity (fcntl F_SETPIPE_SZ); returns the new size or -1. */
int devserve_shim_set_pipe_size(int fd, int bytes);

/* pipe2(2) with O_CLOEXEC; returns 0 or -1 with errno set. */
int devserve_shim_pipe_cloexec(int fds[2]);

/* posix_spawn_file_actions_addclosefrom_np(3): close every fd >= from in the child. */
int devserve_shim_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/* dlopen(path, RTLD_NOW | RTLD_LOCAL). */
void *devserve_shim_dlopen_now_local(const char *path);

/* Serves allocations up to `bytes` from the heap instead of a fresh mmap each (glibc's
 * mallopt M_MMAP_THRESHOLD, and M_TRIM_THRESHOLD twice that so a freed body is reused, not
 * returned and faulted in again). */
void devserve_shim_keep_large_allocations(size_t bytes);

/* Bytes free in glibc's heap (mallinfo2 fordblks): what malloc_trim could hand back. */
size_t devserve_shim_free_heap_bytes(void);

/* malloc_trim(0): returns free heap pages to the kernel. */
int devserve_shim_malloc_trim(void);

/* Names the calling thread (prctl PR_SET_NAME; 15 bytes at most), as top and gdb show it. */
int devserve_shim_set_thread_name(const char *name);
/* Puts the calling thread in SCHED_BATCH (sched(7): woken, it does not preempt the running
 * thread). Returns 0, or -1 with errno. */
int devserve_shim_set_thread_batch_scheduling(void);

/* Sets the calling thread's parent-death signal (prctl PR_SET_PDEATHSIG). */
int devserve_shim_set_parent_death_signal(int signal);

/* The worker's pending event bytes, kept in C so that a crash handler can flush them.
 * append2: copies two pieces in as one (a frame's prefix and its body bytes; thread-safe).
 * write: takes everything pending and writes it to fd,
 * whole and in order, under the lock the crash handler also takes (so no byte is written twice
 * and frames never interleave); returns 0, or -1 when the pipe is broken. */
void devserve_shim_events_append2(const void *first, size_t first_length, const void *second, size_t second_length);
int devserve_shim_events_write(int fd);
/* The shared body ring: a memfd of DEVSERVE_RING_HEADER bytes (the supervisor's consumed
 * position, a uint64) then the ring. Supervisor: create (returns the mapping, sets *fd; NULL
 * on failure) and consumed (stores how far bodies were copied out). Worker: attach (maps fd;
 * 0 or -1) and append_shared: with room in the ring, copies `body` into it, writes its
 * position into the last 8 bytes of `frame` (little-endian) and appends the frame like
 * append2; returns 1, or 0 (nothing appended) when there is no ring or no room. The pages
 * are shared: once touched they count in both processes' resident memory until released. */
#define DEVSERVE_RING_HEADER 4096
void *devserve_shim_ring_create(size_t size, int *fd);
void devserve_shim_ring_consumed(void *ring, uint64_t position);

/* The offset of the last `byte` in the `count` bytes at `bytes`, or -1: glibc's memrchr
 * (vectorized), which Swift's Glibc module does not export. */
long devserve_shim_last_index(const void *bytes, size_t count, int byte);
int devserve_shim_ring_attach(int fd);
int devserve_shim_events_append_shared(void *frame, size_t frame_length, const void *body, size_t body_length);
/* Worker: when every body placed in the ring has been taken and none was placed for a second,
 * gives the ring's pages back (MADV_REMOVE), a MiB at a time under the lock, so that a burst
 * of uploads does not leave its pages resident in both processes. */
void devserve_shim_ring_release_if_idle(void);
/* Bytes mapped for the pending and spare event buffers together. */
size_t devserve_shim_events_capacity(void);
/* Installs handlers for SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGFPE and SIGTRAP that write the
 * pending event bytes to `fd` and then run whatever handler was there before (the Swift
 * backtracer), so a crash never loses the events of the requests it takes down; and an atexit
 * handler that does the same, with signal 0, when exit() is called on a request's thread. */
void devserve_shim_flush_events_on_crash(int fd);

/* The request the calling thread is serving (its worker id, e.g. "1.7"), for the crash
 * handler: a synchronous crash signal is delivered on the thread that faulted, so the handler
 * knows which request caused it. Length 0 clears it. Thread-local; ids longer than 63 bytes
 * are cut. */
void devserve_shim_set_current_request(const char *id, size_t length);

/* The event kind of the crash frame (EventFrame's `crashed`): the two must agree. */
#define DEVSERVE_EVENT_KIND_CRASHED 17

/* Writes the crash frame for `signal` and request `id` into `buffer` (at least 96 bytes):
 * [u32 length][u8 check][u8 kind][i64 signal][u32 id length][id], little-endian, as EventFrame encodes
 * WorkerEvent.crashed. Async-signal-safe. Returns the frame's size. */
size_t devserve_shim_encode_crash_frame(unsigned char *buffer, int signal, const char *id, size_t id_length);

/* The signal the crash handler sends its own process; the worker's main thread waits for it
 * and stops accepting. A real-time signal (SIGRTMIN + 3): the Swift runtime's backtracer
 * pauses every thread with SIGUSR2, so a thread blocking or waiting for SIGUSR2 would never
 * pause and the backtrace (and the process's death) would never come. */
int devserve_shim_crash_signal(void);
/* Whether the crash handler (or exit() during a request) has run: requests that reach the
 * event loop after it are answered 503 rather than started. */
int devserve_shim_worker_crashed(void);

/* The worker's open connections, for the crash handler's answers (crash_answers.c). A
 * connection is known by its local and peer addresses (struct sockaddr bytes, up to 28).
 * open returns its slot, or -1 when the table is full (that connection then gets no answer);
 * request records the request it waits on (its id); head is called before a response head is
 * written and returns 0 when the crash handler has already answered (write nothing then);
 * idle after the response; close when the connection closes. */
int devserve_shim_connection_open(const void *local, size_t local_length, const void *peer, size_t peer_length);
void devserve_shim_connection_request(int slot, const char *id, size_t length);
int devserve_shim_connection_head(int slot);
void devserve_shim_connection_idle(int slot);
void devserve_shim_connection_close(int slot);
/* The worker's listening socket, which the crash handler takes out of the event loops' epoll
 * sets so that a dying worker accepts nothing more. */
void devserve_shim_set_listening_descriptor(int fd);
/* Answers every connection whose request has not started its response: 500 for request
 * `culprit_id`, 503 with Retry-After: 0 for the others, then shuts its writing side; and stops the process accepting. For the
 * crash handler and exit() during a request (signal 0). Async-signal-safe. Returns how many
 * connections it answered. */
int devserve_shim_answer_connections(int signal, const char *culprit_id, size_t culprit_length);

/// Columns a Unicode scalar takes on a terminal (wcwidth; -1 for non-printable). Glibc's
/// header hides wcwidth from Swift.
int devserve_shim_wcwidth(unsigned int scalar);

/// Whether LC_CTYPE's codeset is UTF-8.
int devserve_shim_codeset_is_utf8(void);

/// The uid and pid of the process on the other end of a unix socket (SO_PEERCRED, unix(7)),
/// which Glibc's module map hides (struct ucred needs _GNU_SOURCE). Returns 0 or -1 with errno.
int devserve_shim_peer_credentials(int fd, unsigned int *uid, int *pid);

#endif

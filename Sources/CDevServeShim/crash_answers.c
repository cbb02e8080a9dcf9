/*
 * crash_answers.c: the worker's table of open connections, kept so that its crash handler can
 * answer their clients before the process dies (issue 12, section 4).
 *
 * NIO does not expose a channel's descriptor, so each connection is known by its two
 * addresses; the handler lists the process's descriptors (/proc/self/fd), asks each socket
 * for its addresses (getsockname and getpeername are async-signal-safe, POSIX.1-2008 2.4.3)
 * and answers those whose request had not started its response: 500 for the request that
 * crashed, 503 with Retry-After: 0 for the others, Connection: close on both (RFC 9110
 * sections 15.6.1, 15.6.4 and 10.2.3).
 *
 * A slot's state moves with compare-and-swap so that the event loop and the handler never
 * both write to one connection: the event loop takes WAITING to SENDING before it writes a
 * response head; the handler takes WAITING to ANSWERED before it writes its answer.
 */
#define _GNU_SOURCE
#include "devserve_shim.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_IDLE, SLOT_WAITING, SLOT_SENDING, SLOT_ANSWERED, SLOT_UPDATING };
#define SLOT_COUNT 4096
#define ADDRESS_MAX 28 /* sizeof(struct sockaddr_in6) */
#define ID_MAX 63

struct connection_slot {
    _Atomic int state;
    unsigned char local[ADDRESS_MAX];
    unsigned char peer[ADDRESS_MAX];
    unsigned char local_length, peer_length;
    char id[ID_MAX + 1];
    unsigned char id_length;
};

static struct connection_slot slots[SLOT_COUNT];
static int listening_descriptor = -1;

void devserve_shim_set_listening_descriptor(int fd) { listening_descriptor = fd; }
/* Slots below this index have been used; the handler looks no further. */
static _Atomic int slots_used;

int devserve_shim_connection_open(const void *local, size_t local_length, const void *peer, size_t peer_length) {
    if (local_length > ADDRESS_MAX || peer_length > ADDRESS_MAX) return -1;
    for (int index = 0; index < SLOT_COUNT; index++) {
        int expected = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&slots[index].state, &expected, SLOT_UPDATING)) continue;
        struct connection_slot *slot = &slots[index];
        memcpy(slot->local, local, local_length);
        slot->local_length = (unsigned char)local_length;
        memcpy(slot->peer, peer, peer_length);
        slot->peer_length = (unsigned char)peer_length;
        slot->id_length = 0;
        int used = atomic_load(&slots_used);
        while (used <= index && !atomic_compare_exchange_weak(&slots_used, &used, index + 1)) {}
        atomic_store(&slot->state, SLOT_IDLE);
        return index;
    }
    return -1;
}

void devserve_shim_connection_request(int index, const char *id, size_t length) {
    if (index < 0 || index >= SLOT_COUNT) return;
    struct connection_slot *slot = &slots[index];
    int state = atomic_load(&slot->state);
    if ((state != SLOT_IDLE && state != SLOT_WAITING) || !atomic_compare_exchange_strong(&slot->state, &state, SLOT_UPDATING)) return;
    if (length > ID_MAX) length = ID_MAX;
    memcpy(slot->id, id, length);
    slot->id_length = (unsigned char)length;
    atomic_store(&slot->state, SLOT_WAITING);
}

int devserve_shim_connection_head(int index) {
    if (index < 0 || index >= SLOT_COUNT) return 1;
    int state = atomic_load(&slots[index].state);
    if (state == SLOT_ANSWERED) return 0;
    if (state == SLOT_WAITING && !atomic_compare_exchange_strong(&slots[index].state, &state, SLOT_SENDING)) {
        return atomic_load(&slots[index].state) != SLOT_ANSWERED;
    }
    return 1;
}

void devserve_shim_connection_idle(int index) {
    if (index < 0 || index >= SLOT_COUNT) return;
    int state = atomic_load(&slots[index].state);
    if (state == SLOT_WAITING || state == SLOT_SENDING) atomic_compare_exchange_strong(&slots[index].state, &state, SLOT_IDLE);
}

void devserve_shim_connection_close(int index) {
    if (index < 0 || index >= SLOT_COUNT) return;
    atomic_store(&slots[index].state, SLOT_FREE);
}

/* Async-signal-safe string building into a fixed buffer. */
struct text { char *bytes; size_t length, capacity; };

static void put(struct text *text, const char *bytes, size_t length) {
    if (length > text->capacity - text->length) length = text->capacity - text->length;
    memcpy(text->bytes + text->length, bytes, length);
    text->length += length;
}

static void put_string(struct text *text, const char *string) { put(text, string, strlen(string)); }

static void put_number(struct text *text, size_t value) {
    char digits[24];
    size_t count = 0;
    do { digits[sizeof digits - 1 - count++] = (char)('0' + value % 10); value /= 10; } while (value && count < sizeof digits);
    put(text, digits + sizeof digits - count, count);
}

static size_t crash_answer(char *buffer, size_t capacity, int culprit, int signal, const char *culprit_id, size_t culprit_length) {
    char body_bytes[256];
    struct text body = {body_bytes, 0, sizeof body_bytes};
    if (culprit) {
        put_string(&body, signal ? "the application crashed while serving this request; see request #" : "the application exited while serving this request; see request #");
        put(&body, culprit_id, culprit_length);
        put_string(&body, " in devserve\n");
    } else {
        put_string(&body, signal ? "the worker crashed while serving another request (#" : "the worker exited while serving another request (#");
        put(&body, culprit_id, culprit_length);
        put_string(&body, "); a new one is starting: retry\n");
    }
    struct text head = {buffer, 0, capacity};
    put_string(&head, culprit ? "HTTP/1.1 500 Internal Server Error\r\n" : "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\n");
    put_string(&head, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
    put_number(&head, body.length);
    put_string(&head, "\r\nConnection: close\r\nServer: devserve\r\n\r\n");
    put(&head, body.bytes, body.length);
    return head.length;
}

static void send_answer(int fd, int culprit, int signal, const char *culprit_id, size_t culprit_length) {
    char answer[512];
    size_t size = crash_answer(answer, sizeof answer, culprit, signal, culprit_id, culprit_length);
    size_t offset = 0;
    while (offset < size) {
        ssize_t written = send(fd, answer + offset, size - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (written <= 0) break;
        offset += (size_t)written;
    }
    shutdown(fd, SHUT_WR);
}

/* Whether `local` is the listening socket's port (a connection a client made to us, not one
 * the application opened to somewhere else). */
static int is_ours(const unsigned char *local, socklen_t local_length) {
    unsigned char listening[128];
    socklen_t length = sizeof listening;
    if (listening_descriptor < 0 || getsockname(listening_descriptor, (struct sockaddr *)listening, &length) != 0) return 0;
    /* sa_family, then the port, at the same offsets in sockaddr_in and sockaddr_in6. */
    return length >= 4 && local_length >= 4 && memcmp(listening, local, 4) == 0;
}

/* Returns 1 when it answered `fd`. */
static int answer_descriptor(int fd, int signal, const char *culprit_id, size_t culprit_length, int used) {
    unsigned char local[128], peer[128];
    socklen_t local_length = sizeof local, peer_length = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)peer, &peer_length) != 0) return 0;
    if (getsockname(fd, (struct sockaddr *)local, &local_length) != 0) return 0;
    struct connection_slot *found = NULL;
    for (int index = 0; index < used && found == NULL; index++) {
        struct connection_slot *slot = &slots[index];
        int state = atomic_load(&slot->state);
        if (state == SLOT_FREE || state == SLOT_UPDATING) continue;
        if (slot->peer_length != peer_length || slot->local_length != local_length) continue;
        if (memcmp(slot->peer, peer, peer_length) == 0 && memcmp(slot->local, local, local_length) == 0) found = slot;
    }
    if (found != NULL) {
        int expected = SLOT_WAITING;
        if (atomic_compare_exchange_strong(&found->state, &expected, SLOT_ANSWERED)) {
            int culprit = culprit_length && found->id_length == culprit_length && memcmp(found->id, culprit_id, culprit_length) == 0;
            send_answer(fd, culprit, signal, culprit_id, culprit_length);
            return 1;
        }
        /* Idle between requests: answered only if its next request is already here. */
        if (expected != SLOT_IDLE) return 0;
    } else if (!is_ours(local, local_length)) {
        return 0;
    }
    /* Accepted but not yet seen by the event loop, or idle with a request waiting unread: the
     * request would die unanswered with the process. */
    char byte;
    if (recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != 1) return 0;
    if (found != NULL) {
        int idle = SLOT_IDLE;
        if (!atomic_compare_exchange_strong(&found->state, &idle, SLOT_ANSWERED)) return 0;
    }
    send_answer(fd, 0, signal, culprit_id, culprit_length);
    return 1;
}

/* The layout getdents64(2) returns. */
struct directory_entry {
    uint64_t inode;
    int64_t offset;
    unsigned short length;
    unsigned char type;
    char name[];
};

/* When `fd` is an epoll instance (NIO's event loop), takes the listening socket out of it: the
 * dying process accepts nothing more, and connections wait in the backlog for the
 * replacement instead of in a process the Swift backtracer is about to pause (readlink and
 * epoll_ctl are plain system calls). */
static void stop_accepting_through(int fd) {
    if (listening_descriptor < 0) return;
    char path[32] = "/proc/self/fd/", target[32];
    struct text name = {path, 14, sizeof path - 1};
    put_number(&name, (size_t)fd);
    path[name.length] = 0;
    ssize_t length = readlink(path, target, sizeof target - 1);
    if (length <= 0) return;
    target[length] = 0;
    if (strcmp(target, "anon_inode:[eventpoll]") == 0) epoll_ctl(fd, EPOLL_CTL_DEL, listening_descriptor, NULL);
}

int devserve_shim_answer_connections(int signal, const char *culprit_id, size_t culprit_length) {
    int used = atomic_load(&slots_used), answered = 0;
    int directory = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) {
        for (int fd = 0; fd < 4096; fd++) {
            stop_accepting_through(fd);
            answered += answer_descriptor(fd, signal, culprit_id, culprit_length, used);
        }
        return answered;
    }
    char entries[4096];
    long count;
    while ((count = syscall(SYS_getdents64, directory, entries, sizeof entries)) > 0) {
        for (long at = 0; at < count;) {
            struct directory_entry *entry = (struct directory_entry *)(entries + at);
            at += entry->length;
            int fd = 0, digits = 0;
            for (const char *c = entry->name; *c >= '0' && *c <= '9'; c++, digits++) fd = fd * 10 + (*c - '0');
            if (digits == 0 || fd == directory) continue;
            stop_accepting_through(fd);
            answered += answer_descriptor(fd, signal, culprit_id, culprit_length, used);
        }
    }
    close(directory);
    return answered;
}

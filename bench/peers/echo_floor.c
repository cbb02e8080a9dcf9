#define _GNU_SOURCE
// The plainest HTTP/1.1 echo: one thread per connection, blocking read and write, nothing
// parsed but Content-Length, no capture, no application. bench/compare.py runs it in the "1 MiB
// POST echoed" table beside the servers. It is not the cheapest echo (devserve without capture
// goes past it in the same table); what bounds that table is the client, which the table
// measures. Not a server for anything else: usage echo_floor PORT.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <pthread.h>

static const size_t capacity = 4 << 20;

static void serve(int fd, char *buffer) {
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buffer, have, "\r\n\r\n", 4))) {
            ssize_t n = read(fd, buffer + have, capacity - have);
            if (n <= 0) return;
            have += n;
        }
        size_t head = end + 4 - buffer, length = 0;
        *end = 0;
        char *field = strcasestr(buffer, "\ncontent-length:");
        if (field) length = strtoul(field + 16, NULL, 10);
        int closing = strcasestr(buffer, "\nconnection: close") != NULL;
        *end = '\r';
        while (have < head + length) {
            ssize_t n = read(fd, buffer + have, capacity - have);
            if (n <= 0) return;
            have += n;
        }
        char response[128];
        int size = snprintf(response, sizeof response, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", length);
        if (write(fd, response, size) != size) return;
        for (size_t sent = 0; sent < length;) {
            ssize_t n = write(fd, buffer + head + sent, length - sent);
            if (n <= 0) return;
            sent += n;
        }
        if (closing) return;
        memmove(buffer, buffer + head + length, have - head - length);
        have -= head + length;
    }
}

/* A thread per connection (threads, not processes: the benchmark counts the CPU time of the
 * server's process tree as it stands when measured). */
static void *connection(void *argument) {
    int fd = (int)(long)argument;
    char *buffer = malloc(capacity);
    serve(fd, buffer);
    free(buffer);
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "usage: echo_floor PORT\n"), 2;
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 128)) return perror("listen"), 1;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t thread;
        if (pthread_create(&thread, NULL, connection, (void *)(long)fd) != 0) { close(fd); continue; }
        pthread_detach(thread);
    }
}

#!/usr/bin/env python3
"""Sends N keep-alive GET requests over 8 connections as fast as the server answers.

Usage: many_requests.py PORT N
"""
import socket
import sys
import threading
import time

port, total = int(sys.argv[1]), int(sys.argv[2])
connections = 8
request = b"GET /bench HTTP/1.1\r\nHost: bench\r\n\r\n"
marker = b"Hello world!\n"


def worker(count):
    with socket.create_connection(("127.0.0.1", port)) as s:
        for _ in range(0, count, 16):
            batch = min(16, count)
            s.sendall(request * batch)  # pipelined, answered in order
            seen, data = 0, b""
            while seen < batch:
                data += s.recv(65536)
                seen = data.count(marker)


start = time.monotonic()
threads = [threading.Thread(target=worker, args=(total // connections,)) for _ in range(connections)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start
print(f"sent {total} requests in {elapsed:.1f} s ({total / elapsed:.0f} req/s)")

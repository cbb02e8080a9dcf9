#!/usr/bin/env python3
"""Reload latency: from the moment a new plugin file is closed to the first response served
by the new code, over ROUNDS reloads alternating two builds.

Usage: reload.py PORT PLUGIN BUILD_A BUILD_B ROUNDS
BUILD_A answers GET /log with "Hello world!\\n" (hello), BUILD_B with "logged\\n" (errors).
Each round rewrites PLUGIN in place (truncate, write, close, as gold does) and then asks on new
connections until the new body comes back. Failed probes are counted too.
"""
import socket
import statistics
import sys
import time

port, plugin, build_a, build_b, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
builds = [(open(build_b, "rb").read(), b"logged\n"), (open(build_a, "rb").read(), b"Hello world!\n")]


def probe():
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /log HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


latencies, failures = [], 0
for round_ in range(rounds):
    content, expected = builds[round_ % 2]
    with open(plugin, "r+b") as f:
        f.truncate(0)
        f.write(content)
    closed = time.monotonic()
    while True:
        try:
            if probe().endswith(b"\r\n\r\n" + expected):
                break
        except OSError:
            failures += 1
        if time.monotonic() - closed > 30:
            sys.exit("the new build never answered")
    latencies.append((time.monotonic() - closed) * 1000)
    time.sleep(0.3)
print(f"reload latency over {rounds} reloads: median {statistics.median(latencies):.1f} ms, "
      f"max {max(latencies):.1f} ms, failed probes {failures}")

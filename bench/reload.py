#!/usr/bin/env python3
"""Reload latency: from the moment a new plugin file is closed to the first response served
by the new code, over ROUNDS reloads alternating two builds.

Usage: reload.py PORT PLUGIN BUILD_A BUILD_B ROUNDS
BUILD_A answers GET /log with "Hello world!\\n" (hello), BUILD_B with "logged\\n" (errors).
Each round rewrites PLUGIN in place (truncate, write, close, as gold does) and then asks on new
connections until the new body comes back. Failed probes are counted too.
"""
import statistics
import sys
import time

from httpget import get

port, plugin, build_a, build_b, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
builds = [(open(build_b, "rb").read(), b"logged\n"), (open(build_a, "rb").read(), b"Hello world!\n")]


latencies, failures = [], 0
for round_ in range(rounds):
    content, expected = builds[round_ % 2]
    with open(plugin, "r+b") as f:
        f.truncate(0)
        f.write(content)
    closed = time.monotonic()
    while True:
        try:
            if get(port, "/log").endswith(b"\r\n\r\n" + expected):
                break
        except OSError as error:
            failures += 1
            print(f"probe failed: {error!r}", file=sys.stderr)
        if time.monotonic() - closed > 30:
            sys.exit("the new build never answered")
    latencies.append((time.monotonic() - closed) * 1000)
    time.sleep(0.3)
print(f"reload latency over {rounds} reloads: median {statistics.median(latencies):.1f} ms, "
      f"max {max(latencies):.1f} ms, failed probes {failures}")

#!/usr/bin/env python3
"""Time from a worker trap to the next request served, with every connection attempt counted.

Usage: trap_recovery.py PORT ROUNDS
For each round: GET /trap (the worker dies), then GET /log in a tight loop until one answers
200. Prints one line per round and a summary: median and max milliseconds, and how many
connection attempts were refused or reset (target: none).
"""
import statistics
import sys
import time

from httpget import get

port, rounds = int(sys.argv[1]), int(sys.argv[2])


times, refused, reset = [], 0, 0
for round_ in range(rounds):
    try:
        get(port, "/trap")
    except OSError:
        pass
    start = time.monotonic()
    while True:
        try:
            if get(port, "/log").startswith(b"HTTP/1.1 200"):
                break
        except ConnectionRefusedError:
            refused += 1
        except (ConnectionResetError, BrokenPipeError):
            reset += 1
        if time.monotonic() - start > 30:
            sys.exit("no worker answered within 30 s")
    elapsed = (time.monotonic() - start) * 1000
    times.append(elapsed)
    print(f"round {round_ + 1}: next request served {elapsed:.1f} ms after the trap")
    time.sleep(0.3)
print(f"trap -> next response: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms, "
      f"refused {refused}, reset {reset}")

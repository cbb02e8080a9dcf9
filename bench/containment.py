#!/usr/bin/env python3
"""What a crash or a slow client costs the innocent requests beside it (issue 12).

Usage:
  containment.py storm DEVSERVE PORT TRAPS
      TRAPS requests to /trap (each kills the worker), one after another, while another client
      polls /log on fresh connections as fast as it can. Prints what the trapping clients got
      (500 from the crash handler, or nothing), what the polls got (200; 503 with Retry-After,
      which a client may retry; or no answer at all: the failures), and how many /log records
      devserve blamed for a crash (target: none).
  containment.py slow PORT SLOW SECONDS
      SLOW connections POST a 100,000-byte body one byte every 0.5 s, while one client GETs
      /log for SECONDS: prints that client's latency (median, p99, max) and its failures.
"""
import json
import socket
import statistics
import subprocess
import sys
import threading
import time

from httpget import get


def status_of(response):
    """The status code of a raw response, or None for an empty reply."""
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response[9:12])


def storm(devserve, port, traps):
    outcomes = {"200": 0, "503 retry": 0, "other": 0, "no answer": 0}
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                response = get(port, "/log")
            except OSError:
                response = b""
            status = status_of(response)
            if status == 200:
                outcomes["200"] += 1
            elif status == 503 and b"Retry-After: 0" in response:
                outcomes["503 retry"] += 1
            elif status is None:
                outcomes["no answer"] += 1
            else:
                outcomes["other"] += 1

    poller = threading.Thread(target=poll)
    poller.start()
    culprits = {"500": 0, "no answer": 0, "other": 0}
    start = time.monotonic()
    for _ in range(traps):
        try:
            status = status_of(get(port, "/trap"))
        except OSError:
            status = None
        culprits["500" if status == 500 else "no answer" if status is None else "other"] += 1
    elapsed = time.monotonic() - start
    stop.set()
    poller.join()
    time.sleep(0.5)
    listing = subprocess.run([devserve, "ls", "--json", "--port", str(port)], capture_output=True, check=True, text=True)
    records = json.loads(listing.stdout)
    blamed = sum(1 for r in records if r.get("target") == "/log" and r.get("outcome") == "crashed")
    polls = sum(outcomes.values())
    print(f"crash storm: {traps} traps in {elapsed:.1f} s; trapping clients: {culprits['500']} got 500, "
          f"{culprits['no answer']} no answer, {culprits['other']} other")
    print(f"crash storm: {polls} innocent polls: {outcomes['200']} answered 200, {outcomes['503 retry']} 503 with Retry-After: 0, "
          f"{outcomes['no answer']} no answer (failed), {outcomes['other']} other; "
          f"{blamed} innocent records blamed for a crash (target: 0)")


def slow(port, count, seconds):
    stop = threading.Event()
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /log HTTP/1.1\r\nHost: bench\r\nContent-Length: 100000\r\n\r\n")
        sockets.append(s)

    def trickle():
        while not stop.wait(0.5):
            for s in sockets:
                try:
                    s.send(b"x")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle)
    trickler.start()
    latencies, failures = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            ok = status_of(get(port, "/log", timeout=5)) == 200
        except OSError:
            ok = False
        if ok:
            latencies.append((time.monotonic() - started) * 1000)
        else:
            failures += 1
    stop.set()
    trickler.join()
    for s in sockets:
        s.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    median = statistics.median(latencies) if latencies else float("nan")
    print(f"slow clients: {count} bodies trickling at 2 bytes/s; normal requests: {len(latencies)} in {seconds} s, "
          f"median {median:.2f} ms, p99 {p99:.2f} ms, max {max(latencies, default=float('nan')):.2f} ms, {failures} failed")


if __name__ == "__main__":
    if sys.argv[1] == "storm":
        storm(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "slow":
        slow(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)

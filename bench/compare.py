#!/usr/bin/env python3
"""devserve beside its peers, measured in one run on this machine.

Usage: compare.py BIN_DIR VENV OUTPUT.md [--quick]

Servers (each serving the same application: samples/bench, or its twin bench/peers/app.py):
devserve with capture on and with --no-capture, nginx (`return 200`, one worker: the ceiling
of this box, hello world only), the NIO floor (bench/nio-floor: a SwiftNIO server that answers
every request head with a fixed response and does nothing else, hello world only: what the
event-loop library devserve is built on costs by itself), a C echo (bench/peers/echo_floor.c: a thread per
connection in blocking read and write and nothing else, in the 1 MiB echo, built with cc when there is one), devserve serving app.py through its Python bridge (capture on
and off), werkzeug's threaded dev server, gunicorn (gthread, 1 worker, 8 threads), waitress (8
threads), granian (--interface wsgi, 1 worker) and bjoern (when it builds). Then a Flask hello
(bench/peers/flask_app.py) in each Python server. Each server runs on CPU 0 and wrk or the Python client on
CPU 1; only 127.0.0.1 is loaded; every run is bounded in time. Rounds alternate the order of
the servers; the tables show medians, ratios to nginx and to the fastest Python peer of the
same run, and the server's CPU time per request (the steadier figure on a shared machine). The
client's own CPU time per request is measured too: in the 1 MiB echo it is what bounds every
server's figure, and the table says where.
"""
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpget import get  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BIN, VENV, OUTPUT = (os.path.abspath(argument) for argument in sys.argv[1:4])
QUICK = "--quick" in sys.argv
DURATION = "1s" if QUICK else "5s"
ROUNDS = 1 if QUICK else 3
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PYTHON_PEERS = ["werkzeug", "gunicorn", "waitress", "granian"]


def pinned(cpu, argv):
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu)] + argv
    return argv


# This script is load too (it reads the streamed responses): it stays off the servers' CPU. Left
# unpinned, it ran on CPU 0 beside the server and preempted it for 100 µs at a time.
if (os.cpu_count() or 1) >= 2:
    os.sched_setaffinity(0, {1})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree_cpu(pid):
    """utime + stime, in seconds, of `pid` and every process below it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except (OSError, IndexError):
                pass
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        if current in parents:
            total += parents[current][1]
        stack += [child for child, (parent, _) in parents.items() if parent == current]
    return total / CLOCK_TICKS


class Server:
    def __init__(self, name, argv_for_port, cwd=None, hello_only=False, echo_only=False, keep_alive_only=False):
        """hello_only: no echo, no stream; keep_alive_only: no Connection: close test either (the
        server does not close); echo_only: only the echo."""
        self.name, self.argv_for_port, self.cwd, self.hello_only, self.echo_only = name, argv_for_port, cwd, hello_only or keep_alive_only, echo_only
        self.keep_alive_only = keep_alive_only
        self.process, self.port = None, None

    def start(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            pinned(0, self.argv_for_port(self.port)), cwd=self.cwd, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/hello", timeout=2.0).split(b" ", 2)[1:2] == [b"200"]:
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()  # not left running behind the failed run
        raise SystemExit(f"{self.name} did not start")

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def children_cpu():
    """utime + stime, in seconds, of this script's finished children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(port, connections, extra=()):
    """(requests/s, requests, errors, wrk's own CPU seconds)."""
    argv = pinned(1, ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--timeout", "5s", *extra, f"http://127.0.0.1:{port}/hello"])
    before = children_cpu()
    text = subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout
    client = children_cpu() - before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rate, total, errors + (int(non2xx.group(1)) if non2xx else 0), client


def measure(server, run):
    """Runs `run` against the server: (requests/s, the server's CPU microseconds per request,
    errors, the client's CPU microseconds per request)."""
    before = process_tree_cpu(server.process.pid)
    rate, total, errors, client = run()
    used = process_tree_cpu(server.process.pid) - before

    def per_request(seconds):
        return seconds * 1e6 / total if total else float("nan")
    return rate, per_request(used), errors, per_request(client)


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def stream_delays(port, requests=4 if QUICK else 8):
    """Microseconds from each chunk's yield (its CLOCK_MONOTONIC stamp) to its arrival here.

    Arrival is the kernel's receive timestamp of the data (SO_TIMESTAMPNS, CLOCK_REALTIME,
    brought to CLOCK_MONOTONIC), not the moment this script got to read it: on this shared
    machine the reading client was kept off its CPU for 0.5-2.6 ms at a time by other
    processes, which made the p99 a figure about the client (the server had written each of
    those chunks within 0.1 ms; traced with perf sched events)."""
    delays = []
    for _ in range(requests):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            s.sendall(b"GET /stream?n=20&delay_ms=5 HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            buffer, seen = b"", set()
            while True:
                chunk, ancillary, _, _ = s.recvmsg(65536, 1024)
                realtime_ahead = time.clock_gettime_ns(time.CLOCK_REALTIME) - time.monotonic_ns()
                if not chunk:
                    break
                arrived = time.monotonic_ns()
                for level, kind, payload in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanoseconds = struct.unpack("qq", payload[:16])
                        arrived = seconds * 1_000_000_000 + nanoseconds - realtime_ahead
                buffer += chunk
                for index, stamp in re.findall(rb"S(\d+) (\d+)E", buffer):
                    if index not in seen:
                        seen.add(index)
                        delays.append((arrived - int(stamp)) / 1000)
    return delays


def nginx_argv(port):
    directory = tempfile.mkdtemp(prefix="devserve-bench-nginx-")
    with open(f"{directory}/nginx.conf", "w") as f:
        f.write(f"""user root; worker_processes 1; daemon off; pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {directory}/body; proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi; uwsgi_temp_path {directory}/uwsgi; scgi_temp_path {directory}/scgi;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "Hello world!\\n"; }} }}
}}
""")
    return ["nginx", "-c", f"{directory}/nginx.conf", "-p", directory]


PEERS = os.path.join(HERE, "peers")
PYTHON = f"{VENV}/bin/python"


def echo_floor():
    """bench/peers/echo_floor.c built with cc, when there is one: the plainest echo, beside the others."""
    compiler = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    if not compiler:
        return []
    binary = os.path.join(tempfile.mkdtemp(prefix="devserve-bench-floor-"), "echo_floor")
    if subprocess.run([compiler, "-O2", "-pthread", "-o", binary, f"{PEERS}/echo_floor.c"], capture_output=True).returncode != 0:
        return []
    return [Server(FLOOR, lambda p: [binary, str(p)], echo_only=True)]


FLOOR = "C echo (blocking read/write)"
NIO_FLOOR = "NIO floor (fixed response)"
HAS_BJOERN = subprocess.run([PYTHON, "-c", "import bjoern"], capture_output=True).returncode == 0


def python_servers(module, label=""):
    """The Python servers, each serving MODULE:app from bench/peers; devserve through its bridge."""
    servers = [
        Server(f"devserve python{label}", lambda p: [f"{BIN}/devserve", f"{PEERS}/{module}.py:app", "--python", PYTHON, "--port", str(p), "--no-tui"]),
        Server(f"devserve python{label} --no-capture", lambda p: [f"{BIN}/devserve", f"{PEERS}/{module}.py:app", "--python", PYTHON, "--port", str(p), "--no-tui", "--no-capture"]),
        Server(f"werkzeug{label}", lambda p: [PYTHON, f"{PEERS}/wsgi_server.py", "werkzeug", str(p), module]),
        Server(f"gunicorn{label}", lambda p: [f"{VENV}/bin/gunicorn", "-k", "gthread", "--threads", "8", "-w", "1", "-b", f"127.0.0.1:{p}", "--log-level", "warning", f"{module}:app"], cwd=PEERS),
        Server(f"waitress{label}", lambda p: [f"{VENV}/bin/waitress-serve", f"--listen=127.0.0.1:{p}", "--threads=8", f"{module}:app"], cwd=PEERS),
        Server(f"granian{label}", lambda p: [f"{VENV}/bin/granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(p), "--workers", "1", "--blocking-threads", "8", "--log-level", "warning", f"{module}:app"], cwd=PEERS),
    ]
    if HAS_BJOERN:
        servers.append(Server(f"bjoern{label}", lambda p: [PYTHON, f"{PEERS}/wsgi_server.py", "bjoern", str(p), module]))
    return servers


SERVERS = [
    Server("devserve", lambda p: [f"{BIN}/devserve", f"{BIN}/libbench.so", "--port", str(p), "--no-tui"]),
    Server("devserve --no-capture", lambda p: [f"{BIN}/devserve", f"{BIN}/libbench.so", "--port", str(p), "--no-tui", "--no-capture"]),
    Server("nginx", nginx_argv, hello_only=True),
    Server(NIO_FLOOR, lambda p: [f"{BIN}/NIOFloor", str(p)], keep_alive_only=True),
] + echo_floor() + python_servers("app")
# A Flask hello in every Python server: what a framework's own cost leaves of each server's.
FLASK_SERVERS = python_servers("flask_app", " (Flask)")
TESTS = {
    "hello, keep-alive, 1 connection": lambda s: measure(s, lambda: wrk(s.port, 1)),
    "hello, keep-alive, 64 connections": lambda s: measure(s, lambda: wrk(s.port, 64)),
    "hello, Connection: close, 64 connections": lambda s: measure(s, lambda: wrk(s.port, 64, ["-H", "Connection: close"])),
    "1 MiB POST echoed, 4 connections": lambda s: measure(s, lambda: wrk(s.port, 4, ["-s", f"{PEERS}/post.lua"])),
}

FLASK_TEST = "Flask hello, keep-alive, 64 connections"
results = {test: {server.name: [] for server in SERVERS} for test in TESTS}
results[FLASK_TEST] = {server.name: [] for server in FLASK_SERVERS}
delays = {server.name: [] for server in SERVERS}
for round_ in range(ROUNDS):
    order = SERVERS[round_ % len(SERVERS):] + SERVERS[:round_ % len(SERVERS)]
    for server in order:
        print(f"round {round_ + 1}/{ROUNDS}: {server.name}", file=sys.stderr, flush=True)
        server.start()
        try:
            if not QUICK:
                wrk(server.port, 64)  # warm-up
            for test, run in TESTS.items():
                if server.hello_only and not test.startswith("hello") or server.echo_only and not test.startswith("1 MiB") \
                        or server.keep_alive_only and "keep-alive" not in test:
                    continue
                results[test][server.name].append(run(server))
            if not server.hello_only and not server.echo_only:
                delays[server.name] += stream_delays(server.port)
        finally:
            server.stop()
    for server in FLASK_SERVERS[round_ % len(FLASK_SERVERS):] + FLASK_SERVERS[:round_ % len(FLASK_SERVERS)]:
        print(f"round {round_ + 1}/{ROUNDS}: {server.name}", file=sys.stderr, flush=True)
        server.start()
        try:
            if not QUICK:
                wrk(server.port, 64)  # warm-up
            results[FLASK_TEST][server.name].append(measure(server, lambda: wrk(server.port, 64)))
        finally:
            server.stop()


def median(values):
    return statistics.median(values) if values else float("nan")


lines = [f"Rounds: {ROUNDS}, each wrk run {DURATION}; medians. CPU is the server's own time (all its processes) per request.", ""]
for test in list(TESTS) + [FLASK_TEST]:
    label = " (Flask)" if test == FLASK_TEST else ""
    rows = {name: runs for name, runs in results[test].items() if runs}
    rate = {name: median([r[0] for r in runs]) for name, runs in rows.items()}
    cpu = {name: median([r[1] for r in runs]) for name, runs in rows.items()}
    best_python = max((rate[name + label] for name in PYTHON_PEERS if name + label in rate), default=float("nan"))
    nginx = rate.get("nginx")
    bjoern = cpu.get("bjoern" + label)
    lines += [f"### {test}", "", "| server | requests/s | × nginx | × best Python peer | CPU µs/request | CPU ÷ bjoern's | errors |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, runs in rows.items():
        errors = sum(r[2] for r in runs)
        vs_nginx = f"{rate[name] / nginx:.3f}" if nginx else "-"
        vs_bjoern = f"{cpu[name] / bjoern:.2f}" if bjoern else "-"
        lines.append(f"| {name} | {rate[name]:,.0f} | {vs_nginx} | {rate[name] / best_python:.2f} | {cpu[name]:.1f} | {vs_bjoern} | {errors} |")
    if test == "hello, keep-alive, 64 connections" and NIO_FLOOR in cpu and "devserve --no-capture" in cpu:
        lines += ["", f"The {NIO_FLOOR} row is SwiftNIO alone (bench/nio-floor): {cpu[NIO_FLOOR]:.1f} µs of CPU per request, so "
                  f"{cpu['devserve --no-capture'] - cpu[NIO_FLOOR]:.1f} of devserve --no-capture's {cpu['devserve --no-capture']:.1f} "
                  "are devserve's own work (parsing, environ, the application thread, the gateway) and the kernel's share of it."]
    if test.startswith("1 MiB"):
        lines += ["", "Each request carries 1 MiB each way."]
        if FLOOR in rate:
            lines += [f"The {FLOOR} row is a C thread per connection that blocks in read and write and does nothing else "
                      "(bench/peers/echo_floor.c): the plainest echo, not the fastest one."]
        fastest = max(rate, key=rate.get)
        client = median([r[3] for r in rows[fastest]])
        if client == client and client > 0:
            ceiling = 1e6 / client
            werkzeug = f", {ceiling / rate['werkzeug']:.2f}x werkzeug's" if "werkzeug" in rate else ""
            lines += [f"What the client allows: in the fastest server's runs ({fastest}) wrk used {client:,.0f} µs of its own "
                      f"CPU per request (it sends and reads 2 MiB each), its one CPU {client * rate[fastest] / 1e6:.0%} busy; "
                      f"at 100% that is {ceiling:,.0f} requests/s{werkzeug}, past which no server can be measured here."]
    lines.append("")
lines += ["### streamed response: 20 chunks 5 ms apart, delay from yield to arrival (kernel receive timestamp)", "", "| server | chunks | p50 µs | p99 µs |", "| --- | ---: | ---: | ---: |"]
for name, values in delays.items():
    if values:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        lines.append(f"| {name} | {len(values)} | {median(values):.0f} | {p99:.0f} |")
lines.append("")
with open(OUTPUT, "w") as f:
    f.write("\n".join(lines))
print("\n".join(lines))

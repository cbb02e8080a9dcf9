#!/usr/bin/env bash
# Where devserve's CPU goes per request, per process, with one command (issue 14).
#
#   bench/profile.sh [--no-capture] [--echo] [--app SPEC] [SECONDS]
#
# Builds the release binary, serves samples/bench pinned to CPU 0, loads it with wrk on CPU 1
# (hello, 64 keep-alive connections; --echo: 1 MiB POSTs echoed, 4 connections) and samples
# the worker and the supervisor separately with perf (--app SPEC serves a Python application instead,
# e.g. bench/peers/flask_app.py:app, with bench/.venv's interpreter when it exists) (999 Hz, user and kernel). Prints, for
# each process: CPU µs per request (utime + stime from /proc over the run), the top symbols by
# self time, and the time by kind (ARC retain/release, malloc/free, memcpy/memmove, kernel,
# the rest). Needs perf (apt-get install linux-perf) and permission to use it (root, or
# kernel.perf_event_paranoid <= 1). Nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
capture=()
echo_mode=0
seconds=10
application=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-capture) capture=(--no-capture) ;;
    --echo) echo_mode=1 ;;
    --app) application=("$2"); shift
      if [ -x bench/.venv/bin/python ]; then application+=(--python bench/.venv/bin/python); fi ;;
    *) seconds=$1 ;;
  esac
  shift
done
command -v perf >/dev/null || { echo "perf is missing: apt-get install linux-perf" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
swift build -c release --scratch-path .build-release >/dev/null
BIN=.build-release/release
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
pin() { if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

[ ${#application[@]} -gt 0 ] || application=("$BIN/libbench.so")
(pin 0 "$BIN/devserve" "${application[@]}" --port 0 --no-tui "${capture[@]}" >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 200); do grep -aq "ready: " "$work/server.log" && break; sleep 0.05; done
PORT=$(grep -ao 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f3)
worker_pid=$(pgrep -P "$server_pid" -f "devserve worker" | head -1)
if [ "$echo_mode" = 1 ]; then
  load=(wrk -t1 -c4 -d"${seconds}s" -s bench/peers/post.lua "http://127.0.0.1:$PORT/echo")
  what="1 MiB POST echoed, 4 connections"
else
  load=(wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$PORT/hello")
  what="hello, 64 keep-alive connections"
fi
(pin 1 "${load[@]}") >/dev/null  # warm-up
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)
before_worker=$(cpu "$worker_pid"); before_supervisor=$(cpu "$server_pid")
perf record -q -F 999 -p "$worker_pid" -o "$work/worker.data" -- sleep "$seconds" 2>/dev/null &
perf_worker=$!
perf record -q -F 999 -p "$server_pid" -o "$work/supervisor.data" -- sleep "$seconds" 2>/dev/null &
perf_supervisor=$!
(pin 1 "${load[@]}") >"$work/wrk.txt"
wait "$perf_worker" "$perf_supervisor" 2>/dev/null || true
after_worker=$(cpu "$worker_pid"); after_supervisor=$(cpu "$server_pid")
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")

echo "devserve ${capture[*]:-(capture on)}: $what, $seconds s: $requests requests, $(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") req/s"
for process in worker supervisor; do
  if [ "$process" = worker ]; then used=$((after_worker - before_worker)); else used=$((after_supervisor - before_supervisor)); fi
  echo
  echo "== $process: $(awk -v t="$used" -v hz="$ticks" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') CPU µs/request"
  perf report -i "$work/$process.data" --no-children --sort symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9]' | sed 's/\[[.k]\] //' > "$work/$process.txt"
  echo "top symbols by self time:"
  head -25 "$work/$process.txt" | awk '{share=$1; $1=""; name=substr($0, 2); if (length(name) > 110) name=substr(name, 1, 107) "..."; printf "  %7s  %s\n", share, name}'
  echo "by kind:"
  awk '
    { share = $1; sub(/%/, "", share); $1 = ""; name = $0 }
    name ~ /swift_(retain|release|bridgeObjectRetain|bridgeObjectRelease|unknownObject)|swift_isUniquelyReferenced|swift_beginAccess|swift_endAccess/ { arc += share; next }
    name ~ /malloc|free|_int_|calloc|realloc|swift_allocObject|swift_deallocObject|swift_slowAlloc|swift_slowDealloc|cfree/ { alloc += share; next }
    name ~ /memcpy|memmove|memset/ { copy += share; next }
    name ~ /^ *(__x64_|do_|tcp_|ep_|sys_|entry_|syscall|__sys|_raw_spin|__schedule|futex|schedule|__fget|copy_user|rep_movs|__softirq|net_|ip_|skb|sock_|__dev|__netif|__tcp|__inet|inet_|eventfd|pipe_|vfs_|ksys_|__fdget|__wake|try_to_wake|ttwu|select_task|enqueue|dequeue|update_|clear_bhb|srso|__rcu|fput|finish_task|psi_|exit_to)/ { kernel += share; next }
    { other += share }
    END { printf "  ARC %.1f%%, allocation %.1f%%, copying %.1f%%, kernel %.1f%%, the rest %.1f%%\n", arc, alloc, copy, kernel, other }
  ' "$work/$process.txt"
done

#!/usr/bin/env bash
# devserve's benchmarks, measured on this machine in one run.
#
#   bench/run.sh            full run (release build, several rounds); writes BENCHMARKS.md
#   bench/run.sh --quick    a short run that only shows nothing has rotted (CI); prints only
#
# Peers in the same run (bench/compare.py): nginx, werkzeug, gunicorn, waitress, granian and
# bjoern, serving the same application (samples/bench and its Python twin bench/peers/app.py,
# which devserve also serves through its Python bridge), then a Flask hello in every Python
# server. The server is pinned
# to CPU 0 and the load generator to CPU 1; only 127.0.0.1 is loaded; every run is bounded in
# time. Figures are printed; nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
venv=bench/.venv
if [ ! -x "$venv/bin/granian" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q werkzeug gunicorn waitress flask granian
fi
# bjoern, the fastest WSGI server (C, libev): built from source, so it needs libev's headers.
if ! "$venv/bin/python" -c "import bjoern" 2>/dev/null; then
  [ -e /usr/include/ev.h ] || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq libev-dev >/dev/null; } || true
  "$venv/bin/pip" install -q bjoern || echo "bjoern could not be built: its rows are left out"
fi
if [ "$quick" = 1 ]; then
  config=debug; scratch=.build; duration=2s; rounds=3
else
  config=release; scratch=.build-release; duration=10s; rounds=10
fi
echo "== building ($config)"
swift build -c "$config" --scratch-path "$scratch" >/dev/null
BIN="$scratch/$config"
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# pin CPU COMMAND...: runs COMMAND on one CPU. exec, so that `pin ... &` leaves $! as the
# command's own pid (a shell function run in the background is a subshell otherwise).
pin() { if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

# serve PLUGIN [ARGS...]: starts devserve pinned to CPU 0; sets PORT.
serve() {
  local plugin=$1; shift
  (pin 0 "$BIN/devserve" "$BIN/lib$plugin.so" --port 0 --no-tui "$@" >"$work/server.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 200); do grep -aq "ready: plugin" "$work/server.log" && break; sleep 0.05; done
  PORT=$(grep -ao 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f3)
}
unserve() { kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; }

# load CONNECTIONS: wrk on CPU 1 against PORT; prints requests/s.
load() {
  (pin 1 wrk -t1 -c"$1" -d"$duration" "http://127.0.0.1:$PORT/") | awk '/Requests\/sec/ {print $2}'
}

echo "== peers: the same application in devserve, nginx, werkzeug, gunicorn and waitress"
python3 bench/compare.py "$BIN" "$venv" "$work/peers.md" $([ "$quick" = 1 ] && echo --quick) | tee /dev/null >/dev/null
cat "$work/peers.md"

exec 3>&1 1> >(tee "$work/devserve.txt")
echo "== worker trap -> next request served ($rounds rounds)"
serve errors
python3 bench/trap_recovery.py "$PORT" "$rounds"
unserve
if [ "$quick" = 0 ]; then
  # The README's own build is a debug one: there the Swift backtracer takes seconds, and the
  # replacement must not wait for it.
  echo "== worker trap -> next request served, debug build ($rounds rounds)"
  swift build >/dev/null
  (pin 0 .build/debug/devserve .build/debug/liberrors.so --port 0 --no-tui >"$work/server.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 200); do grep -aq "ready: plugin" "$work/server.log" && break; sleep 0.05; done
  PORT=$(grep -ao 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f3)
  python3 bench/trap_recovery.py "$PORT" "$rounds"
  unserve
fi

traps=200; slow_seconds=10
[ "$quick" = 1 ] && traps=20 && slow_seconds=2
echo "== crash storm: $traps traps beside a client polling /log"
serve errors
python3 bench/containment.py storm "$BIN/devserve" "$PORT" "$traps"
unserve
echo "== slow clients: 64 request bodies trickling, normal requests beside them"
serve errors
python3 bench/containment.py slow "$PORT" 64 "$slow_seconds"
unserve

echo "== hello world, keep-alive (wrk, $duration per run)"
serve hello
load 64 >/dev/null  # warm-up
for connections in 1 64; do
  echo "devserve hello, $connections connection(s): $(load "$connections") req/s"
done
unserve

echo "== capture cost: hello world, 64 connections, capture on vs --no-capture"
for mode in on off; do
  if [ "$mode" = on ]; then serve hello; else serve hello --no-capture; fi
  load 64 >/dev/null  # warm-up
  echo "capture $mode: $(load 64) req/s"
  unserve
done

requests=100000
[ "$quick" = 1 ] && requests=10000
echo "== memory: RSS after $requests captured requests with --max-memory 64M --capacity 1000000"
serve hello --max-memory 64M --capacity 1000000
python3 bench/many_requests.py "$PORT" "$requests"
supervisor_rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$server_pid/status")
kept=$("$BIN/devserve" ls --port "$PORT" | tail -1)
echo "supervisor RSS: ${supervisor_rss} MiB (target: under 64 + 40 = 104 MiB); $kept"
unserve

echo "== reload: latency and failed requests during 20 reloads under load (wrk, 16 connections)"
reload_dir=$(mktemp -d)
cp "$BIN/libhello.so" "$reload_dir/app.so"
(pin 0 "$BIN/devserve" "$reload_dir/app.so" --port 0 --no-tui --no-capture >"$work/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 200); do grep -aq "ready: plugin" "$work/server.log" && break; sleep 0.05; done
PORT=$(grep -ao 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f3)
(pin 1 wrk -t1 -c16 -d60s "http://127.0.0.1:$PORT/log") >"$work/wrk-reload.txt" &
wrk_pid=$!
sleep 1
python3 bench/reload.py "$PORT" "$reload_dir/app.so" "$BIN/libhello.so" "$BIN/liberrors.so" 20
kill -INT "$wrk_pid" 2>/dev/null; wait "$wrk_pid" 2>/dev/null || true
requests=$(awk '/requests in/ {print $1}' "$work/wrk-reload.txt")
errors=$(grep -a "Socket errors" "$work/wrk-reload.txt" || echo "Socket errors: none")
non2xx=$(grep -a "Non-2xx" "$work/wrk-reload.txt" || echo "Non-2xx or 3xx responses: 0")
echo "under load: $requests requests during the reloads; $errors; $non2xx"
unserve
rm -rf "$reload_dir"

entries=100000; seconds=5
[ "$quick" = 1 ] && entries=20000 && seconds=2
echo "== inspector: $entries captured entries; frames to /dev/null through curses, keys through a pipe"
"$BIN/devserve" inspector-bench --entries "$entries" --seconds "$seconds" --rate 10000

exec 1>&3 3>&-
sleep 0.2
if [ "$quick" = 0 ]; then
  {
    echo "# Benchmarks"
    echo
    echo "Measured by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Reproduce with that one command."
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r);"
    echo "$(swift --version 2>/dev/null | head -1); $(nginx -v 2>&1); $("$venv/bin/pip" list 2>/dev/null | awk '/^(Werkzeug|gunicorn|waitress|granian|bjoern|Flask) / {printf "%s %s, ", $1, $2}' | sed 's/, $//')."
    echo "Servers on CPU 0, load (wrk 4.1, or Python clients) on CPU 1; every server serves the same application"
    echo "(samples/bench, or bench/peers/app.py for the Python servers). nginx answers \`return 200\` with one worker."
    echo
    cat bench/commands.md
    echo
    echo "## Against peers"
    echo
    cat "$work/peers.md"
    echo
    echo "## devserve's own figures"
    echo
    echo '```'
    grep -av '^round [0-9]*:' "$work/devserve.txt"
    echo '```'
  } > BENCHMARKS.md
  echo "wrote BENCHMARKS.md"
fi

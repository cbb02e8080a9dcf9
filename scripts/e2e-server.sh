#!/usr/bin/env bash
# End-to-end: devserve on the samples, exercised with curl as a user would.
# keep-alive, a chunked stream, 100-continue, a 1 MiB POST echoed byte for byte, HEAD, the
# errors routes (500 before headers, aborted response after, exc_info, a trap followed by a
# request that succeeds) and a clean stop with no process left. Bounded in time throughout.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/debug
work=$(mktemp -d)
pids=()
passed=0
failed=0
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

check() { # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

# start PLUGIN: runs devserve on a free port; sets PORT, PID and LOG.
start() {
  LOG="$work/$1.log"
  NO_COLOR=1 "$BIN/devserve" "$BIN/lib$1.so" --port 0 --no-tui >"$LOG" 2>&1 &
  PID=$!
  pids+=("$PID")
  for _ in $(seq 1 200); do
    if grep -aq "ready: plugin" "$LOG"; then break; fi
    sleep 0.05
  done
  PORT=$(grep -ao 'http://127.0.0.1:[0-9]*' "$LOG" | head -1 | cut -d: -f3)
  [ -n "$PORT" ] || { echo "devserve did not start:"; cat "$LOG"; exit 1; }
}

# stop: SIGTERM, wait (bounded), and check the exit status and that no worker remains.
stop() {
  local workers
  workers=$(grep -ao 'pid [0-9]* ready' "$LOG" | cut -d' ' -f2)
  kill -TERM "$PID"
  local status=0
  for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
  wait "$PID" || status=$?
  check "stops cleanly with status 0 ($1)" test "$status" = 0
  local stray=0
  for worker in $workers; do if kill -0 "$worker" 2>/dev/null; then stray=1; fi; done
  check "no worker process left behind ($1)" test "$stray" = 0
}

curl_() { curl --silent --show-error --max-time 10 "$@"; }

# --- hello: keep-alive and HEAD -------------------------------------------------------------
start hello
URL="http://127.0.0.1:$PORT"
connects=$(curl_ -o /dev/null -o /dev/null -w '%{num_connects} ' "$URL/a" "$URL/b")
check "keep-alive: two requests, one connection" test "$connects" = "1 0 "
check "hello answers Hello world!" test "$(curl_ "$URL/")" = "Hello world!"
curl_ -I "$URL/" >"$work/head.txt"
check "HEAD has the headers" grep -qi '^content-length: 13' "$work/head.txt"
# Raw bytes until the server closes: a HEAD answer must end right after its head.
raw_head=$(exec 3<>"/dev/tcp/127.0.0.1/$PORT"; printf 'HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&3; timeout 5 cat <&3)
check "HEAD has no body" bash -c "[[ '$raw_head' == *'Content-Length: 13'* && '$raw_head' != *Hello* ]]"
check "the access log has the request" grep -aq '"GET /a HTTP/1.1" 200 13 B' "$LOG"
stop hello

# --- stream: chunked, each chunk as produced -------------------------------------------------
start stream
URL="http://127.0.0.1:$PORT"
curl_ -D "$work/stream.head" -o "$work/stream.body" "$URL/?n=5&size=20&delay_ms=20"
check "a stream is chunked" grep -qi '^transfer-encoding: chunked' "$work/stream.head"
check "a stream has every chunk" test "$(grep -c '^chunk' "$work/stream.body")" = 5
check "the first chunk arrives before the stream ends" bash -c "curl --silent --max-time 1 -N '$URL/?n=2&size=10&delay_ms=1500' | grep -q 'chunk 1'; test \${PIPESTATUS[0]} = 28"
stop stream

# --- echo: 100-continue and a 1 MiB POST ------------------------------------------------------
start echo
URL="http://127.0.0.1:$PORT"
head -c 1048576 /dev/urandom >"$work/upload.bin"
curl_ -v -H 'Expect: 100-continue' --data-binary @"$work/upload.bin" -H 'Content-Type: application/octet-stream' \
  -o "$work/echo.json" "$URL/upload" 2>"$work/echo.trace"
check "100 Continue before the body" grep -q '< HTTP/1.1 100 Continue' "$work/echo.trace"
python3 - "$work/echo.json" "$work/upload.bin" <<'PY' && ok=1 || ok=0
import base64, json, sys
answer = json.load(open(sys.argv[1]))
sent = open(sys.argv[2], "rb").read()
assert answer["body_length"] == len(sent), answer["body_length"]
assert base64.b64decode(answer["body"]) == sent
assert answer["environ"]["CONTENT_TYPE"] == "application/octet-stream"
assert answer["environ"]["PATH_INFO"] == "/upload"
PY
check "a 1 MiB POST is echoed byte for byte" test "$ok" = 1
stop echo

# --- errors: every failure mode, and a trap ---------------------------------------------------
start errors
URL="http://127.0.0.1:$PORT"
check "throw before headers is a 500" test "$(curl_ -o /dev/null -w '%{http_code}' "$URL/throw-before")" = 500
status=0; curl_ -o /dev/null "$URL/throw-after" 2>/dev/null || status=$?
check "throw after headers aborts the response (curl sees it incomplete)" test "$status" -ne 0
check "exc_info before the body replaces the status" test "$(curl_ -o /dev/null -w '%{http_code}' "$URL/exc-info")" = 500
status=0; curl_ -o /dev/null "$URL/short" 2>/dev/null || status=$?
check "a body short of its Content-Length is cut off" test "$status" -ne 0
curl_ -D "$work/hop.head" -o /dev/null "$URL/hop"
check "a hop-by-hop header from the app is not sent" bash -c "! grep -qi '^connection: close' '$work/hop.head'"
trap_status=$(curl_ -o "$work/trap.body" -w '%{http_code}' "$URL/trap" 2>/dev/null || true)
check "the trap route's client gets 500 from the crash handler, not an empty reply" test "$trap_status" = 500
check "the 500 names the request to look at" grep -q 'see request #' "$work/trap.body"
check "the next request after a trap succeeds" test "$(curl_ "$URL/log")" = "logged"
# The client was answered at once; the dying worker is reported when the backtracer is done.
for _ in $(seq 1 100); do grep -aq 'was in flight when the worker died' "$LOG" && break; sleep 0.1; done
check "the crash is reported with its reason" grep -aq 'crashed with SIGILL (Illegal instruction): .*Fatal error: Unexpectedly found nil' "$LOG"
check "the trapped request is reported as crashed" grep -aq 'GET /trap was in flight when the worker died: crashed' "$LOG"
stop errors

echo "$passed passed, $failed failed"
test "$failed" = 0

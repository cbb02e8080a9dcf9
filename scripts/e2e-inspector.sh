#!/usr/bin/env bash
# End-to-end: the inspector in a real terminal (tmux), driven with send-keys and read with
# capture-pane, while curl sends requests. Requests appear in the list; Enter opens the detail;
# Tab reaches Environ and Chunks; a stream shows chunks arriving before it has ended; a filter
# narrows the list; r replays a request and links the new entry to it; after a reload, d shows
# the replay's changed body against its original; marks are counted and U clears them; b
# changes a body's view; an export goes to a typed path; q then Q exits 0 and leaves the
# terminal as it was; `devserve show --body` pipes into a JSON tool. Bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.build/debug
work=$(mktemp -d)
socket="devserve-e2e-$$"
session=inspector
passed=0
failed=0
curl_pid=

tm() { tmux -L "$socket" -f /dev/null "$@"; }

cleanup() {
  [ -n "$curl_pid" ] && kill "$curl_pid" 2>/dev/null || true
  tm kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

screen() { tm capture-pane -p -t "$session"; }

check() { # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else
    failed=$((failed + 1)); echo "FAIL $name"; echo "---- screen:"; screen; echo "----"
  fi
}

# shows TEXT [SECONDS]: waits until the screen shows TEXT (a grep -E pattern).
shows() {
  local deadline=$((SECONDS + ${2:-5}))
  while [ $SECONDS -le $deadline ]; do
    screen | grep -Eq -- "$1" && return 0
    sleep 0.1
  done
  return 1
}

lacks() { ! screen | grep -Eq -- "$1"; }

keys() { tm send-keys -t "$session" "$@"; sleep 0.3; }

# The pane saves the terminal's settings, runs devserve, then says how it exited and whether
# the settings came back.
cat >"$work/editor.sh" <<'EDITOR'
#!/bin/sh
# The "user" edits the request's target in place, as they would in vi.
sed -i 's|/replayme|/edited|' "$1"
EDITOR
chmod +x "$work/editor.sh"
cat >"$work/run.sh" <<SCRIPT
export EDITOR="$work/editor.sh" VISUAL=
stty -g >"$work/before"
"$BIN/devserve" "$work/app.so" --port 0
echo "EXIT=\$?"
stty -g >"$work/after"
cmp -s "$work/before" "$work/after" && echo TERMINAL-RESTORED
sleep 60
SCRIPT

cp "$BIN/libstream.so" "$work/app.so"
tm -u new-session -d -s "$session" -x 110 -y 32 "bash $work/run.sh"
check "the inspector starts and shows the URL" shows 'devserve http://127\.0\.0\.1:[0-9]+/' 10
port=$(screen | grep -Eo 'http://127\.0\.0\.1:[0-9]+/' | head -1 | cut -d: -f3 | tr -d /)
base="http://127.0.0.1:$port"
check "the worker is serving" shows 'serving' 10

curl -s "$base/first?n=2&delay_ms=0" >/dev/null
curl -s "$base/second?n=3&delay_ms=0" >/dev/null
curl -s -X POST -d 'name=devserve&kind=inspector' "$base/form?n=1" >/dev/null
check "requests sent with curl appear in the list" shows '/form\?n=1'
check "each row has its method and status" shows 'POST +/form\?n=1 +200'
check "the first request is listed too" shows '/first\?n=2&delay_ms=0'

keys Enter
check "Enter opens the detail of the selected request" shows '#3 POST /form'
check "the Request tab shows the headers" shows 'Content-Type: application/x-www-form-urlencoded'
check "the form body is decoded into fields" shows 'kind += inspector'

keys Tab Tab
check "Tab reaches the Environ tab" shows 'REQUEST_METHOD +POST'
check "the environ has the query string" shows 'QUERY_STRING +n=1'
keys Tab
check "Tab reaches the Chunks tab" shows '1 chunk, 100 bytes'
keys q

curl -s -N "$base/live?n=16&delay_ms=400" >"$work/stream.out" &
curl_pid=$!
check "the stream appears while in flight" shows '/live\?n=16'
keys G Enter
keys Tab Tab Tab
check "the Chunks tab of the running stream says it is streaming" shows 'streaming' 3
check "chunks arrive before the response has ended" shows '^ +[1-9] +[0-9.]+ +\+[0-9.]+ +100 +chunk' 3
midway=$(screen | grep -Eo '^ *[0-9]+ chunks?, [0-9]+ bytes' | head -1 | grep -Eo '^ *[0-9]+' | tr -d ' ')
check "only part of the stream has arrived ($midway of 16 chunks) and curl is still receiving" \
  test -n "$midway" -a "${midway:-16}" -lt 16 -a -d "/proc/$curl_pid"
wait "$curl_pid" || true
curl_pid=
check "the timeline grows to all 16 chunks when the stream ends" shows '16 chunks, 1600 bytes' 5
check "the last chunk is listed" shows '^ +16 +[0-9.]+ +\+[0-9.]+ +100 +chunk 16'
keys q

keys f
tm send-keys -t "$session" -l '~m POST'
keys Enter
check "a filter narrows the list" shows '1 request matches'
check "the filtered list keeps the POST" shows 'POST +/form'
check "the filtered list drops the GETs" lacks '/first\?n=2'
check "the status bar shows the filter" shows 'filter: ~m POST'
keys f C-u
tm send-keys -t "$session" -l '~c abc'
keys Enter
check "a bad filter shows its error" shows '~c needs a status'
check "a bad filter keeps the old one" shows 'filter in use is unchanged'
keys Escape
check "the old filter still applies" lacks '/first\?n=2'

keys '?'
check "? shows the help generated from the key bindings" shows 'list\.filter|filter requests'
keys q
keys E
check "E shows the event log with the worker's start" shows 'ready: plugin stream'
keys q

keys f C-u
keys Enter
curl -s "$base/replayme?n=2&delay_ms=0" >/dev/null
check "a request to replay arrives" shows '/replayme'
keys G r
check "r replays the selected request and says how it went" shows 'replayed as #[0-9]+: 200 OK' 5
check "the replay is in the list, marked R" shows '^ R +[0-9]+ .*/replayme'
cp "$BIN/libhello.so" "$work/app.so.new" && mv "$work/app.so.new" "$work/app.so"
check "rewriting the plugin reloads it (generation 2)" shows 'app\.so gen 2' 10
keys k r
check "the original replays again, now against generation 2" shows 'replayed as #[0-9]+: 200 OK' 5
keys G d
check "d opens the diff of the replay against its original" shows 'diff #[0-9]+ → #[0-9]+' 3
check "the diff shows the body the old build sent" shows '^ +- chunk 1'
check "the diff shows the body the new build sends" shows '^ +\+ Hello world!'
check "the diff shows the generations" shows 'generation 1 → 2'
keys q

keys g m j m
check "m marks requests and the status bar counts them" shows '2 marked'
keys U
check "U unmarks them all" shows 'marks cleared'
check "and the count is gone" lacks '2 marked'

keys f C-u
tm send-keys -t "$session" -l '~u form'
keys Enter Enter
check "the form request opens in the form view" shows 'kind += inspector'
keys b
check "b changes the body view, shown from its top" shows 'name=devserve&kind=inspector'
keys x w C-u
tm send-keys -t "$session" -l "$work/typed.http"
keys Enter
check "an export goes to the path typed at the prompt" test -s "$work/typed.http"
check "the exported raw HTTP is shown as lines" shows '^ *POST /form\?n=1 HTTP/1\.1 *$'
keys q q
keys f C-u
keys Enter
keys G

keys e
check "e sends the request as edited in \$EDITOR" shows 'replayed as #[0-9]+: 200 OK' 5
check "the edited request is in the list" shows 'GET +/edited\?n=2'
check "the screen is back after the editor" shows 'devserve http://127\.0\.0\.1'

tm resize-window -t "$session" -x 80 -y 24
check "after a resize to 80x24 the list drops the time column to fit" shows '^ +ID METHOD PATH'
check "and still shows the requests" shows 'GET +/edited\?n=2'

keys R
check "R reloads the plugin (generation 3)" shows 'app\.so gen 3' 10
keys E
check "the event log says R asked for it" shows 'R pressed in the inspector: starting a new worker'
keys q

keys Enter
keys q
keys Q
check "Q exits devserve with status 0" shows 'EXIT=0' 10
check "the terminal settings are restored" shows 'TERMINAL-RESTORED' 5

# Without colours: NO_COLOR, and a terminal that has none (vt100). The selection must still
# show (reverse video) and no colour may be set.
for variant in "NO_COLOR=1" "TERM=vt100"; do
  # A fresh tmux server each time: killing the last session makes the server exit, and a
  # new-session racing with that exit fails with "server exited unexpectedly".
  tm kill-server 2>/dev/null || true
  for _ in $(seq 1 20); do tm has-session 2>/dev/null || break; sleep 0.1; done
  sleep 0.3
  for _ in 1 2 3; do
    tm -u new-session -d -s "$session" -x 100 -y 12 "env $variant $BIN/devserve $BIN/libhello.so --port 0; sleep 30" && break
    sleep 0.5
  done
  shows 'devserve http://127\.0\.0\.1:[0-9]+/' 10 || true
  mono_port=$(screen | grep -Eo 'http://127\.0\.0\.1:[0-9]+/' | head -1 | cut -d: -f3 | tr -d / || true)
  curl -s "http://127.0.0.1:$mono_port/mono" >/dev/null || true
  shows '/mono' 5 || true
  styled=$(tm capture-pane -e -p -t "$session")
  check "$variant: no colour is set" bash -c '! printf "%s" "$1" | grep -Eq $'"'"'\e\[([0-9;]*;)?(3[0-7]|4[0-7]|38;|48;)'"'"'' _ "$styled"
  check "$variant: the selected request shows in reverse video" bash -c 'printf "%s" "$1" | grep -a "/mono" | grep -Eq $'"'"'\e\[([0-9;]*;)?7m'"'"'' _ "$styled"
done

# The command line beside it: a JSON body piped from `devserve show --body` into a JSON tool.
"$BIN/devserve" "$BIN/libecho.so" --port 0 --no-tui >"$work/echo.log" 2>&1 &
echo_pid=$!
for _ in $(seq 1 100); do grep -q 'ready:' "$work/echo.log" && break; sleep 0.1; done
echo_port=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/' "$work/echo.log" | head -1 | cut -d: -f3 | tr -d /)
curl -s -d 'piped' "http://127.0.0.1:$echo_port/json" >/dev/null
sleep 0.3
check "devserve show --body pipes a JSON body into python3 -m json.tool" \
  bash -c '"$1" show 1 --body --port "$2" | python3 -m json.tool >/dev/null' _ "$BIN/devserve" "$echo_port"
kill "$echo_pid" 2>/dev/null || true
wait "$echo_pid" 2>/dev/null || true

echo "inspector end-to-end: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

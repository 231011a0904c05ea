#!/usr/bin/env bash
# HTTP load on `vitrine serve` (release build, embedded default state) from a second
# process on loopback, with wrk: decide with 50 different signed snapshots, then events
# in batches of 100. Prints wrk's summaries (requests/s, latency percentiles, errors).
#
#   host/bench/load.sh [DURATION=10s] [CONNECTIONS=64] [THREADS=2]
#
# The server and wrk share the machine's cores: the figures are for both on one box.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-10s}
CONNECTIONS=${2:-64}
THREADS=${3:-2}
PORT=${PORT:-18181}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cd "$ROOT"
[ -f dist/engine-abi.wasm ] || cargo xtask wasm
# BIN=path/to/vitrine measures that binary (e.g. one built with another profile).
BIN=${BIN:-}
if [ -z "$BIN" ]; then env -u RUST_BACKTRACE cargo build --release -q -p vitrine-cli --bin vitrine; BIN=target/release/vitrine; fi
STATE=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$STATE"' EXIT
RUST_LOG=warn "$BIN" serve --state "$STATE" --listen "127.0.0.1:$PORT" >"$STATE/stdout" 2>"$STATE/stderr" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
KEY=$(cat "$STATE/api-key")

# 50 clients' snapshots → a Lua table of decide bodies.
{
  echo 'bodies = {'
  for i in $(seq -w 1 50); do
    SNAP=$(curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/snapshot/c-00$i" | sed 's/.*"snapshot":"\([^"]*\)".*/\1/')
    echo "  '{\"snapshot\":\"$SNAP\",\"slots\":[{\"slot\":\"home_hero\"},{\"slot\":\"offer_cards\"}],\"context\":{\"page\":\"home\"}}',"
  done
  echo '}'
  cat <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/v1/decide", nil, bodies[i])
end
LUA
} >"$STATE/decide.lua"

cat >"$STATE/events.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  local now = os.time()
  local parts = {}
  for k = 1, 100 do
    local id = tid .. "-" .. n .. "-" .. k
    parts[k] = '{"event_id":"e' .. id .. '","decision_id":"d' .. tid .. '-' .. n .. '","type":"impression","offer":"fibre_upgrade","treatment":"default","slot":"home_hero","channel":"web","at":' .. now .. '}'
  end
  return wrk.format(nil, "/v1/events", nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
LUA

echo "== POST /v1/decide: $DURATION, $CONNECTIONS connections, $THREADS wrk threads"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$STATE/decide.lua" "http://127.0.0.1:$PORT"
echo "== POST /v1/events (100 per request): $DURATION, $CONNECTIONS connections"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$STATE/events.lua" "http://127.0.0.1:$PORT"
echo "== server metrics"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^vitrine_http_requests_total|^vitrine_events_total'

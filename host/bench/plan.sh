#!/usr/bin/env bash
# Campaign-planning benchmark (BENCHMARKS.md): `vitrine plan` over N generated demo
# clients × 100 offers (the demo bundle's 13 offers, each replicated with its rules and
# model output onto email, SMS and push), natively (rayon over every core) and under
# Wasmtime, from the Parquet export; throughput from summary.json, peak RSS from GNU time.
#
#   host/bench/plan.sh 1000000          # needs: cargo build --release -p vitrine-cli
#   host/bench/plan.sh 5000000 native   # one engine only
set -euo pipefail
unset RUST_BACKTRACE
N=${1:-1000000}
ENGINES=${2:-"native wasm"}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$root/target/release/vitrine}   # BIN=… measures another build
work=${WORK:-$root/target/plan-bench}
mkdir -p "$work/bundle/models" "$work/bundle/keys"
cd "$work"

# 100 offers from the demo bundle's 13: header, 13 blocks copied with new ids, policy.
demo=$root/web-demo/bundle
cp "$demo/models/"* bundle/models/
cp "$demo/keys/"*.pub bundle/keys/
awk -v want=100 '
  /^\[\[offers\]\]/ { inoffers = 1; n++; block[n] = ""; }
  /^\[policy\]/ { inoffers = 0; policy = 1 }
  { if (policy) tail = tail $0 "\n"; else if (inoffers) block[n] = block[n] $0 "\n"; else head = head $0 "\n" }
  END {
    printf "%s", head
    for (i = 0; i < want; i++) {
      b = block[i % n + 1]; copy = int(i / n)
      gsub(/\nid = "/, "\nid = \"v" copy "_", b)
      sub(/\nslots = \[[^]]*\]/, "\nslots = [\"email_weekly\", \"sms_alert\", \"push_alert\"]", b)
      printf "%s", b
    }
    printf "%s", tail
  }' "$demo/bundle.toml" | sed 's/^name = "vitrine-demo"/name = "vitrine-plan-bench"/' > bundle/bundle.toml
[ -f keys/bench.key ] || "$bin" keys new --kid bench --role bundle --out keys > /dev/null
"$bin" bundle build --key keys/bench.key --out bench.vbnd bundle | tail -1

if [ ! -f "clients-$N.parquet" ]; then
  "$bin" demo seed --clients "$N" --out "clients-$N.csv"
  rm -f "features-$N.sqlite"
  "$bin" features import "clients-$N.csv" --schema bundle --db "features-$N.sqlite"
  "$bin" features export --db "features-$N.sqlite" --out "clients-$N.parquet"
  rm -f "clients-$N.csv"
fi

cat > plan.toml <<TOML
start = "2026-11-23"
days = 7
seed = 2026
max_contacts = 2
min_gap_days = 2
quiet_days = ["sunday"]

[[channels]]
name = "email"
capacity = $((N / 2))
[[channels]]
name = "push"
capacity = $((N / 5))
[[channels]]
name = "sms"
capacity = $((N / 10))
TOML

# The same base under shared limits: a budget, daily capacities, offer volumes and a
# category share, allocated optimally and greedily (the objective, its dual bound, the
# allocation's time and the peak RSS).
cat > plan-limits.toml <<TOML
start = "2026-11-23"
days = 7
seed = 2026
max_contacts = 2
min_gap_days = 2
quiet_days = ["sunday"]
budget = $((N / 40))
allocation = "ALLOCATION"

[[channels]]
name = "email"
capacity = $((N / 2))
capacity_per_day = $((N / 12))
[[channels]]
name = "push"
capacity = $((N / 5))
[[channels]]
name = "sms"
capacity = $((N / 10))
quiet_hours = [21, 8]

[[offers]]
id = "v0_fibre_upgrade"
max = $((N / 50))
[[offers]]
id = "v0_data_20gb"
min = $((N / 200))
[[categories]]
id = "mobile"
max_share = 0.4
TOML

for engine in $ENGINES; do
  flag=""; [ "$engine" = wasm ] && flag="--wasm --engine $root/dist/engine-abi.wasm"
  /usr/bin/time -v -o "time-$engine-$N.txt" "$bin" plan --bundle bench.vbnd --bundle-key keys/bench.pub \
    --features "clients-$N.parquet" --config plan.toml --out "plan-$engine-$N" --force $flag > /dev/null
  python3 - "$engine" "$N" <<'PY'
import json, re, sys
engine, n = sys.argv[1], sys.argv[2]
s = json.load(open(f"plan-{engine}-{n}/summary.json"))
t = open(f"time-{engine}-{n}.txt").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(f"{engine:6} {s['clients']:>9} clients x {s['proposals'] / max(s['clients'], 1):.2f} proposals/client, {s['threads']} threads: "
      f"decide {s['decide_seconds']:.2f} s = {s['clients_per_second']:,.0f} clients/s ({s['clients_per_second'] / s['threads']:,.0f}/s per core); "
      f"total {s['seconds']:.2f} s; peak RSS {rss / 1024:.0f} MiB; contacts {s['contacts']}")
PY
done

for allocation in ${ALLOCATIONS:-optimal greedy}; do
  sed "s/ALLOCATION/$allocation/" plan-limits.toml > "plan-$allocation.toml"
  /usr/bin/time -v -o "time-$allocation-$N.txt" "$bin" plan --bundle bench.vbnd --bundle-key keys/bench.pub \
    --features "clients-$N.parquet" --config "plan-$allocation.toml" --out "plan-$allocation-$N" --force > /dev/null
  python3 - "$allocation" "$N" <<'PY'
import json, re, sys
allocation, n = sys.argv[1], sys.argv[2]
s = json.load(open(f"plan-{allocation}-{n}/summary.json"))
t = open(f"time-{allocation}-{n}.txt").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
o = s["objective"]
gap = "" if o["gap_bound"] is None else f", dual bound {o['bound']:,.1f} (gap <= {100 * o['gap_bound']:.2f}%)"
print(f"limits {allocation:8} {s['clients']:>9} clients, {s['proposals']:,} proposals: decide {s['decide_seconds']:.2f} s "
      f"({s['clients_per_second'] / s['threads']:,.0f}/s per core); allocate {o['seconds']:.2f} s; total {s['seconds']:.2f} s; "
      f"peak RSS {rss / 1024:.0f} MiB; value {o['value']:,.1f}{gap}; spent {o['spent']:,.1f} of {o['budget']:,.0f}; contacts {s['contacts']:,}")
PY
done

#!/usr/bin/env bash
# Learner benchmark (BENCHMARKS.md, self-learning issue): `vitrine learn` over N logged
# decisions (the demo world's 13 offers and 14 features; `vitrine demo history`: native
# engine, exact logged probabilities, outcomes from the hidden truth), wall time and peak
# RSS from GNU time; then the snapshot ledger's share of `snapshot sign-all` over 100,000
# demo clients (the command times its ledger writes itself).
#
#   host/bench/learn.sh 1000000      # needs: cargo build --release -p vitrine-cli
set -euo pipefail
unset RUST_BACKTRACE
N=${1:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$root/target/release/vitrine}
work=${WORK:-$root/target/learn-bench}
mkdir -p "$work"
cd "$work"
if [ ! -f "history-$N/feedback.sqlite" ]; then
  rm -rf "history-$N"
  echo "== vitrine demo history: $N decisions"
  "$bin" demo history --decisions "$N" --state "history-$N"
fi
h=history-$N
echo "== vitrine learn over $N decisions"
/usr/bin/time -v "$bin" learn --bundle "$h/bundle.vbundle" --bundle-key "$h/keys/bundle-dev.pub" --key "$h/keys/bundle-dev.key" \
  --feedback "$h/feedback.sqlite" --features "$h/features.sqlite" --since 30d --as-of $(( $(date +%s) + 2 * 86400 )) \
  --out "$h/v2.vbundle" 2> learn-time.txt | tail -25
grep -E "Elapsed|Maximum resident" learn-time.txt

echo "== snapshot sign-all over 100,000 demo clients, with the ledger"
rm -rf sign && mkdir -p sign
"$bin" demo seed --clients 100000 --out sign/clients.csv
"$bin" features import sign/clients.csv --schema "$h/src" --db sign/features.sqlite | tail -1
taskset -c 0 "$bin" snapshot sign-all --db sign/features.sqlite --key "$h/src/keys/snap-demo.key" --out sign/all.jsonl

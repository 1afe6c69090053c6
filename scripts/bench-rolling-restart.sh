#!/usr/bin/env bash
# Reads and writes through a rolling restart of the local five-node cluster: the load generator runs
# linearizable reads and writes across all members with --failover (a refused connection or a 503 goes
# to the next member, as a load balancer would send it), while scripts/cluster.sh rolling-restart
# restarts every node in turn, the leader last. Prints the load generator's report: failed reads, 504s,
# the 503s it retried elsewhere, and the worst latency.
#
#   scripts/bench-rolling-restart.sh [--concurrency C] [--mix M] [--duration S]
#
# Defaults: 64 clients, read=0.5,write=0.5 over 10,000 keys, measured for 120 s after 5 s of warm-up;
# the roll starts 10 s into the measured window and must end before it does (else the script fails).
# Uses its own run folder (.run/rolling); keeps the results in .run/rolling-results.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
concurrency=64; mix=read=0.5,write=0.5; duration=120; keys=10000
while [ $# -gt 0 ]; do
  case $1 in
    --concurrency) concurrency=$2; shift 2 ;;
    --mix) mix=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done

. "$root/scripts/lib/local-bench.sh"
local_bench rolling

"$cluster" start >/dev/null
load --preload-only --concurrency 64 >"$out/preload.txt"

warmup=5
load --failover --mix "$mix" --concurrency "$concurrency" --warmup "$warmup" --duration "$duration" --out "$out/load.json" >"$out/load.txt" 2>"$out/progress.txt" &
loadgen=$!
load_started=$SECONDS
sleep $((warmup + 10))
"$cluster" rolling-restart | tee "$out/roll.txt"
rolled=$((SECONDS - load_started))
wait "$loadgen"
cat "$out/load.txt"
echo "the roll ended $rolled s after the load started (measured window: ${warmup}-$((warmup + duration)) s)"
[ "$rolled" -lt $((warmup + duration)) ] || { echo "the roll outlasted the measured window: raise --duration" >&2; exit 1; }
rm -rf "$root/.run/rolling-results"; cp -r "$out" "$root/.run/rolling-results"
"$cluster" clean >/dev/null

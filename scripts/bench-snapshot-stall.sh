#!/usr/bin/env bash
# Write latency with and without snapshots being written, on the local five-node cluster holding a
# large keyspace: the same closed-loop write load twice on the same data, first with snapshots off,
# then with a snapshot every --interval log entries, so that several 1M-key snapshots are written
# during the measured seconds. Prints p50/p99 of both runs, their ratio, how many snapshots the nodes
# wrote and how many the leader had to send whole, while measuring.
#
#   scripts/bench-snapshot-stall.sh [--keys N] [--interval E] [--duration S] [--warmup S] [--concurrency C]
#
# Defaults: 1,000,000 keys of 100 bytes, a snapshot every 2,000 entries, 30 s after 20 s of warm-up, 64
# clients. Uses scripts/cluster.sh with its own run folder (.run/stall); removes it afterwards.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=1000000; interval=2000; duration=30; warmup=20; concurrency=64
while [ $# -gt 0 ]; do
  case $1 in
    --keys) keys=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done

. "$root/scripts/lib/local-bench.sh"
local_bench stall
snapshots() { cat "$RAFTKV_RUN"/logs/*.log 2>/dev/null | grep -c "Snapshot at log index .* written" || true; }
installs() { cat "$RAFTKV_RUN"/logs/*.log 2>/dev/null | grep -c "installed from the leader" || true; }

run() { # name, snapshot interval
  export RaftKv__SnapshotEntryInterval=$2
  "$cluster" start >/dev/null
  local before installed; before=$(snapshots); installed=$(installs)
  load --mix write=1 --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" --out "$out/$1.json" >"$out/$1.txt"
  echo "$1 $(( $(snapshots) - before )) $(( $(installs) - installed ))" >>"$out/snapshots.txt"
  "$cluster" stop >/dev/null
}

# Loaded once with snapshots off, so the load itself writes none.
export RaftKv__SnapshotEntryInterval=1000000000000
"$cluster" start >/dev/null
echo "preloading $keys keys..."
load --preload-only --concurrency 64 >"$out/preload.txt"
"$cluster" stop >/dev/null

run quiet 1000000000000
run snapshotting "$interval"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
counts = {name: (written, installed) for name, written, installed in (line.split() for line in open(f"{out}/snapshots.txt"))}
rows = []
for name in ("quiet", "snapshotting"):
    r = json.load(open(f"{out}/{name}.json"))
    w = r["operations"]["write"]
    rows.append((name, r["throughput"], w["latencyMs"]["p50"], w["latencyMs"]["p99"], r["errors"]["total"], *counts[name]))
print("| run | ops/s | p50 ms | p99 ms | errors | snapshots written (all nodes) | snapshots installed |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, ops, p50, p99, errors, written, installed in rows:
    print(f"| {name} | {ops:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {written} | {installed} |")
print(f"\np99 snapshotting / quiet: {rows[1][3] / rows[0][3]:.2f}")
PY
"$cluster" clean >/dev/null

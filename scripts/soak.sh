#!/usr/bin/env bash
# Long robustness runs: each workload in turn under partitions, kills and pauses together, for a
# duration you choose; then one markdown table row per run (the README's "Verified guarantees").
#
#   scripts/soak.sh [--minutes M] [--workloads register,set,bank,watch,lease] [--out DIR]
#
# Register and bank run with --retry-unknown. Each run's folder (history, report, node logs) is
# kept under DIR (default .run/soak/<time>). Exits 1 if any run failed its checker.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

minutes=10
workloads=register,set,bank,watch,lease
out=.run/soak/$(date +%Y%m%d-%H%M%S)
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
  esac
done

mkdir -p "$out"
status=0
rows=()
for workload in ${workloads//,/ }; do
  extra=()
  case "$workload" in register|bank) extra=(--retry-unknown) ;; esac
  run="$out/$workload"
  started=$(date +%s)
  bash scripts/jepsen.sh --workload "$workload" --nemesis partition,kill,pause --time-limit $((minutes * 60)) \
    --check-time-limit 600 --out "$run" "${extra[@]}" > "$out/$workload.log" 2>&1 || status=1
  elapsed=$(( ($(date +%s) - started) / 60 ))
  # ok / fail / info over every operation kind, from the run's results.json.
  counts=$(jq -r '[.operationCounts[] | to_entries[]] | group_by(.key) | map("\(.[0].key) \(map(.value) | add)") | join(", ")' "$run/results.json" 2>/dev/null || echo "no results")
  verdict=$(jq -r '.verdict' "$run/results.json" 2>/dev/null || echo "no results")
  faults=$(jq -r '.faults' "$run/results.json" 2>/dev/null || echo "?")
  rows+=("| $workload | ${minutes} min (${elapsed} min with checking) | partition, kill, pause: $faults faults | $counts | **$verdict** |")
  echo "${rows[-1]}"
done

echo
echo "| workload | duration | faults | operations | verdict |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit "$status"

#!/usr/bin/env bash
# Checks a recorded history (JSONL): for linearizability, one register per key, or, if it holds transfers
# (the bank workload), for the bank's invariants.
# Usage: scripts/check-history.sh HISTORY.jsonl [--time-limit-seconds N]
#   (N: search time per key, or for a whole bank history; default 30)
# Exit code: 0 valid, 1 violation, 2 unknown (a search ran out of time or memory), 3 unusable input,
# 4 the checker did not build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The checker runs from the repository root, so make a relative history path absolute first.
if [ $# -ge 1 ] && [[ "$1" != /* ]] && [[ "$1" != --* ]]; then
  set -- "$PWD/$1" "${@:2}"
fi

cd "$root"
if ! build_output=$(dotnet build tests/RaftKv.Robustness -c Release -nologo -v quiet 2>&1); then
  echo "$build_output" >&2
  echo "check-history: the checker did not build" >&2
  exit 4
fi

exec dotnet run --project tests/RaftKv.Robustness -c Release --no-build --no-launch-profile -- check "$@"

#!/usr/bin/env bash
# Runs one robustness test: a five-node cluster of real processes, concurrent clients on every node,
# a nemesis cutting cluster traffic, killing and pausing nodes, removing and re-adding members, and a
# checker over the recorded history.
#
#   scripts/jepsen.sh [--workload register|set|bank] [--nemesis partition,kill,pause,membership] [--time-limit S]
#                     [--rate OPS] [--concurrency N] [--nodes N] [--out DIR] [--nemesis-interval S]
#                     [--read-consistency linearizable|lease|local] [--seed N] [--check-time-limit S]
#                     [--api http|grpc]   (grpc: the register workload through etcd's gRPC API;
#                                          linearizable or local reads only)
#                     [--retry-unknown]   (register and bank: every write carries an idempotency key, and a
#                                          write of unknown outcome is resent under it for up to 20 s)
#
# Leaves history.jsonl, nemesis.jsonl, results.json, report.html and each node's log in the run
# folder (default .run/jepsen/<time>). Exits 0 only if every checker passed: 1 on a violation,
# 2 if the checker ran out of time, 64 on bad options.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dotnet build tests/RaftKv.Robustness -c Release -nologo -v quiet >/dev/null
status=0
dotnet "tests/RaftKv.Robustness/bin/Release/net10.0/RaftKv.Robustness.dll" run "$@" || status=$?
exit "$status"

#!/usr/bin/env bash
# Fuzzes the HTTP and gRPC APIs of a fresh three-node cluster of real processes (tests/RaftKv.Robustness/Fuzzing):
# malformed methods, paths, escapes, headers, query parameters, bodies, JSON, watch streams and protobuf messages.
#
#   scripts/fuzz-api.sh [--seed N] [--seconds S]      (defaults: seed 1, 60 s)
#
# Prints what it sent, the answers by status and every finding (a crash or hang, a 5xx other than 503, 504 and
# 507 with a problem body, gRPC Internal/Unknown, or a refused request that changed the state). Exit 0: none.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dotnet build tests/RaftKv.Robustness -c Release -nologo -v quiet >/dev/null
exec dotnet "tests/RaftKv.Robustness/bin/Release/net10.0/RaftKv.Robustness.dll" fuzz-api "$@"

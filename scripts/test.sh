#!/usr/bin/env bash
# Builds the solution and runs every test: unit tests, cluster tests on real node processes, and the
# etcdctl differential test against etcd (scripts/etcd-compat.sh; needs etcd-server and etcd-client).
# The power-loss tests need fuse3 and libfuse3-dev, and root to mount; .ci/run installs them.
# Ends with one line of totals taken from the test results: "N passed, N failed, N skipped".
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=$(mktemp -d "${TMPDIR:-/tmp}/raftkv-results.XXXXXX")

# Stop any node and power-loss file system a test run left behind, even if the run itself was killed.
sweep() {
  pkill -f 'raftkv-test-' 2>/dev/null || true
  awk '$3 == "fuse.powerloss-fs" && $2 ~ /raftkv-test-/ { print $2 }' /proc/mounts 2>/dev/null | xargs -r -n1 fusermount3 -u -z 2>/dev/null || true
  awk '$1 == "raftkv-test-volume" { print $2 }' /proc/mounts 2>/dev/null | xargs -r -n1 umount -l 2>/dev/null || true
  # The multi-host test's network namespaces and bridge (tests/RaftKv.Testing/NetworkNamespaces.cs).
  ip netns list 2>/dev/null | awk '$1 ~ /^raftkv-test-/ { print $1 }' | xargs -r -n1 ip netns del 2>/dev/null || true
  ip -o link show type bridge 2>/dev/null | awk -F': ' '$2 ~ /^rkvt/ { print $2 }' | xargs -r -n1 ip link del 2>/dev/null || true
}
trap 'sweep; rm -rf "$results"' EXIT

cd "$root" || exit 1
dotnet build RaftKv.sln -nologo -v quiet || { echo "0 passed, 1 failed"; echo "build failed" >&2; exit 1; }
# The power-loss tests' FUSE file system (tests/PowerLossFs); without libfuse3-dev those tests are skipped.
if pkg-config --exists fuse3 2>/dev/null; then
  make -s -C tests/PowerLossFs || { echo "0 passed, 1 failed"; echo "powerloss-fs build failed" >&2; exit 1; }
else
  echo "note: libfuse3-dev is missing, so the power-loss tests will be skipped (Debian: apt-get install fuse3 libfuse3-dev)" >&2
fi

# -m:1: one test assembly at a time, so two suites never start clusters at once on two cores.
dotnet test RaftKv.sln --no-build -nologo -m:1 \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m
status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  value() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$counters"; }
  total=$(value total); executed=$(value executed)
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + total - executed))
done

# A run that crashed before writing results counts as a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# One more test: etcdctl's session against etcd and against RaftKv must match (scripts/etcd-compat/README.md).
if bash scripts/etcd-compat.sh --out "$results/etcd-compat" >"$results/etcd-compat.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1
  cat "$results/etcd-compat.log" >&2
fi
tail -1 "$results/etcd-compat.log"
# The failed tests again, with the start of their messages, so the end of a long log names them.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  awk '
    /<UnitTestResult / { name = "" }
    /<UnitTestResult / && /outcome="Failed"/ {
      match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); print "FAILED: " name
    }
    name != "" && /<Message>/ { shown = 0; inside = 1 }
    inside && shown < 12 { line = $0; sub(/^ *<Message>/, "", line); sub(/<\/Message>.*/, "", line); print "  " line; shown++ }
    /<\/Message>/ { inside = 0 }
  ' "$trx"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]

# Sourced by the benchmarks that load the local cluster (bench-snapshot-stall.sh, bench-rolling-restart.sh):
# a run folder of their own under .run/, the load generator built into it, and load() against every member.
#   local_bench NAME    sets RAFTKV_RUN, cluster, out (emptied), targets; stops the cluster on exit. Needs root and keys.

local_bench() {
  export RAFTKV_RUN="$root/.run/$1"
  cluster="$root/scripts/cluster.sh"
  loadgen_bin="$RAFTKV_RUN/loadgen"
  out="$RAFTKV_RUN/results"
  trap '"$cluster" stop >/dev/null 2>&1 || true' EXIT
  "$cluster" clean >/dev/null
  rm -rf "$out"; mkdir -p "$out"
  dotnet build "$root/bench/RaftKv.LoadGen/RaftKv.LoadGen.csproj" -c Release -o "$loadgen_bin" -v quiet -nologo >/dev/null
  targets=$(sed -nE 's/.*"url"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/p' "$root/cluster.json" | paste -sd, -)
}

load() { dotnet "$loadgen_bin/RaftKv.LoadGen.dll" --system raftkv --targets "$targets" --keys "$keys" "$@"; }

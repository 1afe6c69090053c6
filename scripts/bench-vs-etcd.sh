#!/usr/bin/env bash
# Compares RaftKv with etcd 3.4 on this machine: clusters of the same size on loopback, the same
# closed-loop HTTP load (bench/RaftKv.LoadGen), one system running at a time.
#
#   scripts/bench-vs-etcd.sh [--nodes "3 5"] [--duration S] [--warmup S] [--runs R] [--out DIR] [--raftkv-ref REV]
#
# Prints a markdown table of medians over the runs and writes it, with the machine, to DIR/summary.md.
# Defaults: --nodes "3 5" --duration 20 --warmup 20 --runs 3 --out .run/bench/<time>; RaftKv is built
# from the working tree, or from commit REV (git archive) to measure an earlier version. The warm-up
# is long because a freshly started node spends its first 15 s or so under load JIT-compiling its hot
# paths (about 0.3 cores per node): shorter, and the runs measure the JIT rather than the node.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

nodes="3 5" duration=20 warmup=20 runs=3 out="" ref=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --raftkv-ref) ref=$2; shift 2 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

bench=$root/.run/bench
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
out=$(realpath -m "${out:-$bench/$(date +%Y%m%d-%H%M%S)}")
mkdir -p "$out"
results=$out/results.tsv

# name, then load generator arguments; every scenario also gets the common arguments in run_load.
scenarios=(
  "write-1c     --mix write=1 --concurrency 1"
  "write-64c    --mix write=1 --concurrency 64"
  "read-64c     --mix read=1 --concurrency 64 --consistency linearizable"
  "mixed-64c    --mix read=0.9,write=0.1 --concurrency 64"
)

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "bench-vs-etcd: $*"; exit 1; }

# --- what is running, so that the trap stops exactly that -------------------------------------
etcd_pids=()          # etcd processes of the current cluster
raftkv_env=()         # RAFTKV_CLUSTER=... RAFTKV_RUN=... of the RaftKv cluster in use, if any

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_etcd() {
  local pid
  for pid in "${etcd_pids[@]}"; do stop_pid "$pid"; done
  for pid in "${etcd_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  etcd_pids=()
}

stop_raftkv() {
  [ ${#raftkv_env[@]} -eq 0 ] || env "${raftkv_env[@]}" scripts/cluster.sh stop >/dev/null
}

cleanup() {
  local status=$?
  trap - EXIT
  stop_etcd
  stop_raftkv
  [ $status -eq 0 ] || log "failed; stopped everything this script started"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools and builds --------------------------------------------------------------------------
if ! command -v etcd >/dev/null; then
  log "installing etcd-server (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi
command -v jq >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
command -v curl >/dev/null || die "curl is required"

# Both are built once, here: every cluster of this comparison runs the same RaftKv build, even if
# the sources change meanwhile (cluster.sh start would rebuild on every start).
if [ -n "$ref" ]; then
  raftkv_version=$(git rev-parse --short "$ref^{commit}") || die "unknown commit $ref"
  raftkv_src=$bench/src-$raftkv_version
  rm -rf "$raftkv_src"
  mkdir -p "$raftkv_src"
  git archive "$raftkv_version" | tar -x -C "$raftkv_src"
else
  raftkv_version="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' + uncommitted changes')"
  raftkv_src=$root
fi
log "building the load generator and RaftKv.Node $raftkv_version (Release)"
dotnet build bench/RaftKv.LoadGen/RaftKv.LoadGen.csproj -c Release -o "$bench/loadgen-bin" -nologo -v quiet >"$out/build.log" 2>&1 \
  || { cat "$out/build.log" >&2; die "load generator build failed"; }
dotnet build "$raftkv_src/src/RaftKv.Node/RaftKv.Node.csproj" -c Release -o "$bench/raftkv-bin" -nologo -v quiet >>"$out/build.log" 2>&1 \
  || { cat "$out/build.log" >&2; die "RaftKv.Node build failed"; }
loadgen=$bench/loadgen-bin/RaftKv.LoadGen.dll

# --- clusters ----------------------------------------------------------------------------------
client_urls() { # system size
  local i base
  base=$([ "$1" = etcd ] && echo 23790 || echo 27000)
  for i in $(seq 1 "$2"); do printf 'http://127.0.0.1:%d\n' $((base + i)); done
}

require_free() { # url...: a server already answering there would be measured instead of ours
  local url
  for url in "$@"; do
    ! curl -s -o /dev/null -m 1 "$url" || die "$url already answers: another server uses that port"
  done
}

wait_healthy() { # path, text the 200 body must contain, url...
  local path=$1 text=$2 deadline=$((SECONDS + 90)) url body pending
  shift 2
  while :; do
    pending=""
    for url in "$@"; do
      body=$(curl -fsS -m 2 "$url$path" 2>/dev/null) && [[ $body == *"$text"* ]] || pending="$pending $url"
    done
    [ -z "$pending" ] && return 0
    [ $SECONDS -lt $deadline ] || die "not healthy after 90 s:$pending"
    sleep 0.5
  done
}

start_etcd() { # size; the data survives from one start to the next
  local n=$1 dir=$bench/etcd-$1 i cluster="" urls
  for i in $(seq 1 "$n"); do cluster="$cluster${cluster:+,}e$i=http://127.0.0.1:$((23800 + i))"; done
  mapfile -t urls < <(client_urls etcd "$n")
  require_free "${urls[@]}"
  mkdir -p "$dir/logs"
  for i in $(seq 1 "$n"); do
    etcd --name "e$i" --data-dir "$dir/data/e$i" \
      --listen-client-urls "http://127.0.0.1:$((23790 + i))" --advertise-client-urls "http://127.0.0.1:$((23790 + i))" \
      --listen-peer-urls "http://127.0.0.1:$((23800 + i))" --initial-advertise-peer-urls "http://127.0.0.1:$((23800 + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "bench-etcd-$n" \
      --enable-v2=false --logger zap --log-level warn >>"$dir/logs/e$i.log" 2>&1 </dev/null &
    etcd_pids+=($!)
  done
  wait_healthy /health '"health":"true"' "${urls[@]}"
}

raftkv_cluster_file() { # size: writes .run/bench/raftkv-N/cluster.json, prints the RAFTKV_* settings
  local n=$1 run=$bench/raftkv-$1 i
  mkdir -p "$run"
  {
    echo '{'
    echo '  "members": ['
    for i in $(seq 1 "$n"); do
      printf '    { "id": "n%d", "url": "http://127.0.0.1:%d" }%s\n' "$i" $((27000 + i)) "$([ "$i" -lt "$n" ] && echo ,)"
    done
    echo '  ]'
    echo '}'
  } >"$run/cluster.json"
  # cluster.sh runs $RAFTKV_RUN/bin/RaftKv.Node.dll: the one build of this comparison.
  rm -rf "${run:?}/bin"
  cp -a "$bench/raftkv-bin" "$run/bin"
  echo "RAFTKV_CLUSTER=$run/cluster.json" "RAFTKV_RUN=$run"
}

start_raftkv() { # size; 'restart' (not 'start', which rebuilds) starts each node on the pinned build
  local n=$1 i urls
  mapfile -t urls < <(client_urls raftkv "$n")
  require_free "${urls[@]}"
  for i in $(seq 1 "$n"); do env "${raftkv_env[@]}" scripts/cluster.sh restart "n$i" >/dev/null; done
  wait_healthy /health/ready '' "${urls[@]}"
}

# --- one measurement ---------------------------------------------------------------------------
# The share of CPU time other programs use over two seconds, measured while none of ours runs:
# other work on the machine skews every figure, so each run records it next to its results.
busy_percent() {
  local before after
  before=$(head -1 /proc/stat); sleep 2; after=$(head -1 /proc/stat)
  # "cpu user nice system idle iowait irq softirq steal ...": idle and iowait are the idle time.
  awk -v a="$before" -v b="$after" 'BEGIN {
    split(a, x); split(b, y)
    for (i = 2; i <= 9; i++) total += y[i] - x[i]
    idle = y[5] - x[5] + y[6] - x[6]
    printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0)
  }'
}

run_load() { # system size scenario-name run busy% extra-args...
  local system=$1 n=$2 name=$3 run=$4 busy=$5 file urls
  shift 5
  file=$out/n$n/$name/$system-run$run
  mkdir -p "$(dirname "$file")"
  mapfile -t urls < <(client_urls "$system" "$n")
  log "n=$n $name $system run $run (other programs used $busy% of the CPU just before)"
  dotnet "$loadgen" --system "$system" --targets "$(IFS=,; echo "${urls[*]}")" "$@" \
    --keys 10000 --value-size 100 --preload --duration "$duration" --warmup "$warmup" --seed "$run" \
    --out "$file.json" >"$file.txt" 2>"$file.log" || { cat "$file.log" >&2; die "load generator failed ($file.log)"; }
  sed -n '2,$p' "$file.txt" | sed 's/^/    /' >&2
  jq -r --arg n "$n" --arg name "$name" --arg system "$system" --arg run "$run" --arg busy "$busy" \
    '[$n, $name, $system, $run, .throughput, .operations.all.latencyMs.p50, .operations.all.latencyMs.p99, .errors.total, $busy] | @tsv' \
    "$file.json" >>"$results"
}

printf 'nodes\tscenario\tsystem\trun\tops_per_s\tp50_ms\tp99_ms\terrors\tother_cpu_pct\n' >"$results"
for n in $nodes; do
  etcd_dir=$bench/etcd-$n
  rm -rf "$etcd_dir"
  read -r -a raftkv_env <<<"$(raftkv_cluster_file "$n")"
  env "${raftkv_env[@]}" scripts/cluster.sh clean >/dev/null
  for run in $(seq 1 "$runs"); do
    # Alternate which system goes first, so neither always runs on a machine the other just warmed or loaded.
    order=$([ $((run % 2)) -eq 1 ] && echo "raftkv etcd" || echo "etcd raftkv")
    for scenario in "${scenarios[@]}"; do
      read -r name args <<<"$scenario"
      for system in $order; do
        busy=$(busy_percent)
        if [ "$system" = etcd ]; then start_etcd "$n"; else start_raftkv "$n"; fi
        # shellcheck disable=SC2086 # args holds several options on purpose
        run_load "$system" "$n" "$name" "$run" "$busy" $args
        if [ "$system" = etcd ]; then stop_etcd; else stop_raftkv; fi
      done
    done
  done
  # Keep the servers' logs with the results, then drop both clusters' data.
  cp -r "$bench/raftkv-$n/logs" "$out/n$n/raftkv-logs"
  cp -r "$etcd_dir/logs" "$out/n$n/etcd-logs"
  env "${raftkv_env[@]}" scripts/cluster.sh clean >/dev/null
  raftkv_env=()
  rm -rf "$etcd_dir"
done

# --- summary -----------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() { awk -F'\t' -v n="$1" -v s="$2" -v sys="$3" -v c="$4" '$1 == n && $2 == s && $3 == sys { print $c }' "$results"; }
med() { column_of "$@" | median; }                     # n scenario system column -> median
total() { column_of "$@" | awk '{ t += $1 } END { print t + 0 }'; }

{
  echo "# RaftKv vs etcd, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release), kernel $(uname -r)"
  echo "- etcd $(etcd --version | sed -n 's/^etcd Version: //p') (Debian package, default fsync), .NET SDK $(dotnet --version), runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1), RaftKv $raftkv_version"
  echo "- each run: ${duration} s measured after ${warmup} s warm-up, 10,000 keys preloaded, 100-byte values, requests round-robin over all nodes (HTTP/1.1 keep-alive), one system running at a time; medians of $runs run(s) per system, alternating"
  echo "- other programs on the machine: load average (1, 5, 15 min) $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after; CPU they used in the 2 s before each run (ours stopped): median $(awk -F'\t' 'NR > 1 { print $9 }' "$results" | median)%, max $(awk -F'\t' 'NR > 1 { print $9 }' "$results" | sort -g | tail -1)% (per run in results.tsv)"
  echo "- ops/s counts successful operations; p50/p99 in ms over all operations; errors = failed requests summed over the runs"
  echo
  echo "| scenario | nodes | RaftKv ops/s | RaftKv p50 | RaftKv p99 | etcd ops/s | etcd p50 | etcd p99 | RaftKv/etcd | errors RaftKv/etcd |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for scenario in "${scenarios[@]}"; do
    read -r name _ <<<"$scenario"
    for n in $nodes; do
      r_ops=$(med "$n" "$name" raftkv 5); e_ops=$(med "$n" "$name" etcd 5)
      printf '| %s | %s | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f | %s/%s |\n' "$name" "$n" \
        "$r_ops" "$(med "$n" "$name" raftkv 6)" "$(med "$n" "$name" raftkv 7)" \
        "$e_ops" "$(med "$n" "$name" etcd 6)" "$(med "$n" "$name" etcd 7)" \
        "$(awk -v r="$r_ops" -v e="$e_ops" 'BEGIN { print (e > 0 ? r / e : 0) }')" \
        "$(total "$n" "$name" raftkv 8)" "$(total "$n" "$name" etcd 8)"
    done
  done
} >"$out/summary.md"

cat "$out/summary.md"
log "results in $out (summary.md, results.tsv, one JSON per run)"

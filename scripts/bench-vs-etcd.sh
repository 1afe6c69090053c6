#!/usr/bin/env bash
# Compares RaftKv with etcd 3.4 on this machine: clusters of the same size on loopback, the same
# closed-loop load (bench/RaftKv.LoadGen), one system running at a time, through two APIs: etcd's v3
# gRPC API natively on both (etcd's client URL, RaftKv's grpcUrl), and each system's HTTP API
# (RaftKv's own, etcd's JSON gateway).
#
#   scripts/bench-vs-etcd.sh [--nodes "3 5"] [--duration S] [--warmup S] [--runs R] [--scenarios "NAME..."]
#                            [--apis "grpc http"] [--keys N] [--out DIR] [--chart FILE.svg] [--raftkv-ref REV]
#   scripts/bench-vs-etcd.sh --memory [--keys N] [--out DIR] [--raftkv-ref REV]
#
# Prints a markdown table of medians over the runs per API and writes them, with the machine, to
# DIR/summary.md, and draws them (throughput bars, p99 markers) in DIR/chart.svg, or --chart FILE.svg.
# Defaults: --nodes "3 5" --duration 20 --warmup 20 --runs 3 --apis "grpc http"
# --keys 10000, every scenario, --out .run/bench/<time>; RaftKv is built from the working tree, or
# from commit REV (git archive) to measure an earlier version (one before 8449da2 has no gRPC API:
# --apis http). The warm-up is long because a freshly started node spends its first 15 s or so
# under load JIT-compiling its hot paths (about 0.3 cores per node): shorter, and the runs measure the
# JIT rather than the node. --memory instead loads --keys (default 1,000,000) keys into one etcd and
# one RaftKv node, in turn, and tabulates their memory and disk use in DIR/memory.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/etcd.sh
source "$root/scripts/lib/etcd.sh"

nodes="3 5" duration=20 warmup=20 runs=3 out="" chart="" ref="" only="" keys="" memory="" apis="grpc http"
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --scenarios) only=$2; shift 2 ;;
    --apis) apis=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --memory) memory=1; shift ;;
    --out) out=$2; shift 2 ;;
    --chart) chart=$2; shift 2 ;;
    --raftkv-ref) ref=$2; shift 2 ;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
keys=${keys:-$([ -n "$memory" ] && echo 1000000 || echo 10000)}
[ -z "$memory" ] || apis=http # --memory loads through the HTTP APIs only
for api in $apis; do
  case "$api" in grpc | http) ;; *) echo "unknown api '$api'; known: grpc http" >&2; exit 2 ;; esac
done
# gRPC: HTTP/2 connections per node, each client on one of them, the same for both systems. Fewer
# than the 64 clients, since HTTP/2 multiplexes; more than one, so that one connection's reading and
# writing is not what is measured. Against one etcd node on 2 cores (64 clients reading), 1 and 4 did
# as well as each other, 16 and 64 worse: the client's own cost grows with its connections.
grpc_connections=4

bench=$root/.run/bench
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
out=$(realpath -m "${out:-$bench/$(date +%Y%m%d-%H%M%S)}")
mkdir -p "$out"
results=$out/results.tsv
chart=$(realpath -m "${chart:-$out/chart.svg}")

# name, then load generator arguments; every scenario also gets the common arguments in run_load.
# range100-64c reads a prefix of exactly 100 keys (bench/0012 is bench/001200 to bench/001299); each
# txn-64c client compare-and-puts a key of its own against the value it last wrote there.
scenarios=(
  "write-1c     --mix write=1 --concurrency 1"
  "write-64c    --mix write=1 --concurrency 64"
  "read-64c     --mix read=1 --concurrency 64 --consistency linearizable"
  "mixed-64c    --mix read=0.9,write=0.1 --concurrency 64"
  "range100-64c --mix range=1 --concurrency 64 --consistency linearizable"
  "txn-64c      --mix txn=1 --concurrency 64"
  "write-1000c  --mix write=1 --concurrency 1000"
  "read-1000c   --mix read=1 --concurrency 1000 --consistency linearizable"
  "write-5000c  --mix write=1 --concurrency 5000"
)
if [ -n "$only" ]; then
  chosen=()
  for name in $only; do
    found=""
    for scenario in "${scenarios[@]}"; do
      [ "${scenario%% *}" = "$name" ] && { chosen+=("$scenario"); found=1; }
    done
    [ -n "$found" ] || { echo "unknown scenario '$name'; known: $(printf '%s\n' "${scenarios[@]}" | cut -d' ' -f1 | tr '\n' ' ')" >&2; exit 2; }
  done
  scenarios=("${chosen[@]}")
fi

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
# etcd serves HTTP (the JSON gateway) and gRPC on its client port; RaftKv serves gRPC on a port of its own.
client_urls() { # system size [api]
  local i base
  case "$1/${3:-http}" in
    etcd/*) base=23790 ;;
    raftkv/http) base=27000 ;;
    raftkv/grpc) base=27100 ;;
  esac
  for i in $(seq 1 "$2"); do printf 'http://127.0.0.1:%d\n' $((base + i)); done
}

listening() { # url: whether something accepts TCP connections there (curl cannot tell an h2c-only port)
  local address=${1#http://}
  (: <"/dev/tcp/${address%:*}/${address##*:}") 2>/dev/null
}

require_free() { # url...: a server already listening there would be measured instead of ours
  local url
  for url in "$@"; do
    ! listening "$url" || die "$url already answers: another server uses that port"
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
    start_etcd_member "e$i" "$dir/data/e$i" "http://127.0.0.1:$((23790 + i))" "http://127.0.0.1:$((23800 + i))" \
      "$cluster" "bench-etcd-$n" "$dir/logs/e$i.log"
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
      printf '    { "id": "n%d", "url": "http://127.0.0.1:%d", "peerUrl": "http://127.0.0.1:%d", "grpcUrl": "http://127.0.0.1:%d" }%s\n' \
        "$i" $((27000 + i)) $((27200 + i)) $((27100 + i)) "$([ "$i" -lt "$n" ] && echo ,)"
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
  local n=$1 i urls grpc_urls url
  mapfile -t urls < <(client_urls raftkv "$n")
  mapfile -t grpc_urls < <(client_urls raftkv "$n" grpc)
  require_free "${urls[@]}" "${grpc_urls[@]}"
  for i in $(seq 1 "$n"); do env "${raftkv_env[@]}" scripts/cluster.sh restart "n$i" >/dev/null; done
  wait_healthy /health/ready '' "${urls[@]}"
  # A ready node listens on all its URLs; a build without the gRPC API ignores grpcUrl.
  if [[ " $apis " == *" grpc "* ]]; then
    for url in "${grpc_urls[@]}"; do
      listening "$url" || die "RaftKv does not listen on its grpcUrl $url (a build without the gRPC API? try --apis http)"
    done
  fi
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

run_load() { # api system size scenario-name run busy% extra-args...
  local api=$1 system=$2 n=$3 name=$4 run=$5 busy=$6 file urls
  shift 6
  file=$out/n$n/$api/$name/$system-run$run
  mkdir -p "$(dirname "$file")"
  mapfile -t urls < <(client_urls "$system" "$n" "$api")
  log "n=$n $api $name $system run $run (other programs used $busy% of the CPU just before)"
  dotnet "$loadgen" --system "$system" --api "$api" --grpc-connections "$grpc_connections" --targets "$(IFS=,; echo "${urls[*]}")" "$@" \
    --keys "$keys" --value-size 100 --preload --duration "$duration" --warmup "$warmup" --seed "$run" \
    --out "$file.json" >"$file.txt" 2>"$file.log" || { cat "$file.log" >&2; die "load generator failed ($file.log)"; }
  sed -n '2,$p' "$file.txt" | sed 's/^/    /' >&2
  jq -r --arg n "$n" --arg name "$name" --arg api "$api" --arg system "$system" --arg run "$run" --arg busy "$busy" \
    '[$n, $name, $api, $system, $run, .throughput, .operations.all.latencyMs.p50, .operations.all.latencyMs.p99, .errors.total, $busy,
      .rangesShort, .txnSucceeded, .txnCompareFailed] | @tsv' \
    "$file.json" >>"$results"
}

# --- memory: one node of each system, loaded with $keys keys -----------------------------------
# Resident memory from /proc/PID/status, in KiB: all of it, the anonymous part (the heaps: .NET's GC,
# Go's) and the file-backed part (mapped files: code, etcd's bbolt db, RaftKv's log chunks).
rss_of() { # pid -> "rss anon file"
  awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } END { print r, a, f }' "/proc/$1/status"
}

# RaftKv snapshots every RaftKv:SnapshotEntryInterval (20,000) log entries. Single-client writes, one
# entry each, over keys that exist, until a snapshot covers the whole preload: its file's size.
raftkv_snapshot_bytes() { # url data-dir
  local url=$1 data=$2 preloaded index
  preloaded=$(curl -fsS "$url/v1/status" | jq -r .appliedIndex)
  for _ in $(seq 1 40); do
    index=$(curl -fsS "$url/v1/status" | jq -r .snapshotIndex)
    if [ "$index" -ge "$preloaded" ]; then
      stat -c %s "$data/snapshots/$index"-*
      return
    fi
    dotnet "$loadgen" --targets "$url" --keys "$keys" --mix write=1 --concurrency 1 --duration 5 --warmup 0 \
      >>"$out/memory-raftkv.log" 2>&1 || die "snapshot writes failed ($out/memory-raftkv.log)"
  done
  echo "none"
}

memory_comparison() {
  local file=$out/memory.tsv system url pid data busy rss_start rss anon mapped count store
  printf 'system\tkeys\trss_start_kib\trss_kib\tanon_kib\tfile_kib\tdata_bytes\tstore_bytes\tother_cpu_pct\n' >"$file"
  for system in raftkv etcd; do
    url=$(client_urls "$system" 1)
    busy=$(busy_percent)
    if [ "$system" = etcd ]; then
      rm -rf "$bench/etcd-1"
      start_etcd 1
      pid=${etcd_pids[0]} data=$bench/etcd-1/data/e1
    else
      read -r -a raftkv_env <<<"$(raftkv_cluster_file 1)"
      env "${raftkv_env[@]}" scripts/cluster.sh clean >/dev/null
      start_raftkv 1
      pid=$(cat "$bench/raftkv-1/pids/n1.pid") data=$bench/raftkv-1/data/n1
    fi
    sleep 5
    read -r rss_start _ _ < <(rss_of "$pid")
    log "memory: $system (pid $pid, $((rss_start / 1024)) MiB resident after start; other programs used $busy% of the CPU just before): preloading $keys keys"
    dotnet "$loadgen" --system "$system" --targets "$url" --keys "$keys" --value-size 100 --preload-only --concurrency 128 \
      >>"$out/memory-$system.log" 2>&1 || { cat "$out/memory-$system.log" >&2; die "preload failed"; }
    tail -1 "$out/memory-$system.log" | sed 's/^/    /' >&2
    # Measured idle, after the preload's garbage had a chance to be collected.
    sleep 10
    read -r rss anon mapped < <(rss_of "$pid")
    if [ "$system" = etcd ]; then
      count=$(curl -fsS -X POST "$url/v3/kv/range" -d "{\"key\":\"$(printf bench/ | base64)\",\"range_end\":\"$(printf bench0 | base64)\",\"count_only\":true}" | jq -r '.count // 0')
      # The bbolt file, free pages included.
      store=$(curl -fsS -X POST "$url/v3/maintenance/status" -d '{}' | jq -r .dbSize)
    else
      count=$(curl -fsS "$url/v1/status" | jq -r .keys)
      store=$(raftkv_snapshot_bytes "$url" "$data")
    fi
    [ "$count" -eq "$keys" ] || die "$system holds $count keys, not $keys"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$system" "$keys" "$rss_start" "$rss" "$anon" "$mapped" \
      "$(du -sb "$data" | cut -f1)" "$store" "$busy" >>"$file"
    if [ "$system" = etcd ]; then
      stop_etcd
      cp -r "$bench/etcd-1/logs" "$out/etcd-logs"
      rm -rf "$bench/etcd-1"
    else
      stop_raftkv
      cp -r "$bench/raftkv-1/logs" "$out/raftkv-logs"
      env "${raftkv_env[@]}" scripts/cluster.sh clean >/dev/null
      raftkv_env=()
    fi
  done

  {
    echo "# Memory: RaftKv vs etcd, $keys keys, $(date '+%Y-%m-%d %H:%M %Z')"
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r); etcd $(etcd --version | sed -n 's/^etcd Version: //p') (Debian package), RaftKv $raftkv_version"
    echo "- one node of each system, one at a time, loaded by the load generator (128 clients) with $keys keys (\`bench/000000\` ..., 12 bytes) of 100-byte values, one put each; measured after 10 s idle"
    echo "- resident memory from /proc/PID/status: anon = the heaps (.NET's GC, Go's), file = mapped files (code; etcd's bbolt db, RaftKv's log chunks); per key = (loaded - after start) / keys"
    echo "- on disk: the whole data directory (log and snapshots, or WAL and db), and etcd's dbSize (the bbolt file, free pages included) or RaftKv's snapshot of the loaded state"
    echo
    echo "| system | RSS after start MiB | RSS loaded MiB | anon MiB | file MiB | per key B | data dir MiB | db / snapshot MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' 'NR > 1 {
      store = ($8 == "none" ? "none" : sprintf("%.1f", $8 / 1048576))
      printf "| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f | %s |\n", ($1 == "raftkv" ? "RaftKv" : "etcd"),
        $3 / 1024, $4 / 1024, $5 / 1024, $6 / 1024, ($4 - $3) * 1024 / $2, $7 / 1048576, store
    }' "$file"
  } >"$out/memory.md"
  cat "$out/memory.md"
  log "results in $out (memory.md, memory.tsv, the load generator's and the servers' logs)"
}

[ -z "$memory" ] || { memory_comparison; exit 0; }

printf 'nodes\tscenario\tapi\tsystem\trun\tops_per_s\tp50_ms\tp99_ms\terrors\tother_cpu_pct\tranges_short\ttxn_succeeded\ttxn_compare_failed\n' >"$results"
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
      for api in $apis; do
        for system in $order; do
          busy=$(busy_percent)
          if [ "$system" = etcd ]; then start_etcd "$n"; else start_raftkv "$n"; fi
          # shellcheck disable=SC2086 # args holds several options on purpose
          run_load "$api" "$system" "$n" "$name" "$run" "$busy" $args
          if [ "$system" = etcd ]; then stop_etcd; else stop_raftkv; fi
        done
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
column_of() { awk -F'\t' -v a="$1" -v n="$2" -v s="$3" -v sys="$4" -v c="$5" '$3 == a && $1 == n && $2 == s && $4 == sys { print $c }' "$results"; }
med() { column_of "$@" | median; }                     # api n scenario system column -> median
total() { column_of "$@" | awk '{ t += $1 } END { print t + 0 }'; }

table() { # api: the medians per scenario and size, then the answers' own checks
  local api=$1 scenario name n r_ops e_ops
  echo "| scenario | nodes | RaftKv ops/s | RaftKv p50 | RaftKv p99 | etcd ops/s | etcd p50 | etcd p99 | RaftKv/etcd | errors RaftKv/etcd |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for scenario in "${scenarios[@]}"; do
    read -r name _ <<<"$scenario"
    for n in $nodes; do
      r_ops=$(med "$api" "$n" "$name" raftkv 6); e_ops=$(med "$api" "$n" "$name" etcd 6)
      printf '| %s | %s | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f | %s/%s |\n' "$name" "$n" \
        "$r_ops" "$(med "$api" "$n" "$name" raftkv 7)" "$(med "$api" "$n" "$name" raftkv 8)" \
        "$e_ops" "$(med "$api" "$n" "$name" etcd 7)" "$(med "$api" "$n" "$name" etcd 8)" \
        "$(awk -v r="$r_ops" -v e="$e_ops" 'BEGIN { print (e > 0 ? r / e : 0) }')" \
        "$(total "$api" "$n" "$name" raftkv 9)" "$(total "$api" "$n" "$name" etcd 9)"
    done
  done
  # The answers' own checks, summed over the runs: each range must hold its 100 keys, and a compare
  # fails only after a request whose outcome its client could not learn.
  echo
  for scenario in "${scenarios[@]}"; do
    read -r name _ <<<"$scenario"
    for n in $nodes; do
      case "$name" in
        range100-*) echo "- $name, $n nodes: ranges with fewer than 100 keys: RaftKv $(total "$api" "$n" "$name" raftkv 11), etcd $(total "$api" "$n" "$name" etcd 11)" ;;
        txn-*) echo "- $name, $n nodes: compares held / failed: RaftKv $(total "$api" "$n" "$name" raftkv 12) / $(total "$api" "$n" "$name" raftkv 13), etcd $(total "$api" "$n" "$name" etcd 12) / $(total "$api" "$n" "$name" etcd 13)" ;;
      esac
    done
  done
}

{
  echo "# RaftKv vs etcd, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release), kernel $(uname -r)"
  echo "- etcd $(etcd --version | sed -n 's/^etcd Version: //p') (Debian package, default fsync), .NET SDK $(dotnet --version), runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1), RaftKv $raftkv_version"
  echo "- each run: ${duration} s measured after ${warmup} s warm-up, $keys keys preloaded, 100-byte values, requests round-robin over all nodes (HTTP/1.1 keep-alive; gRPC: h2c, $grpc_connections connections per node), one system running at a time; medians of $runs run(s) per system and API, alternating"
  echo "- other programs on the machine: load average (1, 5, 15 min) $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after; CPU they used in the 2 s before each run (ours stopped): median $(awk -F'\t' 'NR > 1 { print $10 }' "$results" | median)%, max $(awk -F'\t' 'NR > 1 { print $10 }' "$results" | sort -g | tail -1)% (per run in results.tsv)"
  echo "- ops/s counts successful operations; p50/p99 in ms over all operations; errors = failed requests summed over the runs"
  for api in $apis; do
    echo
    if [ "$api" = grpc ]; then
      echo "## Native gRPC: etcd's v3 gRPC API on both (RaftKv's grpcUrl, etcd's client URL)"
    else
      echo "## HTTP: RaftKv's HTTP API vs etcd's JSON gateway"
    fi
    echo
    table "$api"
  done
} >"$out/summary.md"

cat "$out/summary.md"
dotnet "$loadgen" chart --results "$results" --out "$chart" --title "RaftKv vs etcd $(etcd --version | sed -n 's/^etcd Version: //p'), $(date -u '+%Y-%m-%d %H:%M UTC')" \
  --subtitle "RaftKv $raftkv_version; $(nproc) cores; ${duration} s measured after ${warmup} s warm-up, medians of $runs run(s); $keys keys, 100-byte values, requests round-robin over all nodes" \
  || die "drawing the chart failed"
log "results in $out (summary.md, results.tsv, one JSON per run); chart in $chart"

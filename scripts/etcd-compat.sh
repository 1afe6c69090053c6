#!/usr/bin/env bash
# Differential test of the etcd v3 API: runs one scripted etcdctl (v3.4) session against a real etcd
# 3.4 cluster and then against a RaftKv cluster (3 members each on loopback, one system at a time),
# normalizes what legitimately differs (member, cluster and lease ids, raft terms and indexes,
# versions, sizes, ports, timings, hashes: see scripts/etcd-compat/README.md) and diffs the two.
#
#   scripts/etcd-compat.sh [--self-check] [--out DIR]
#
# --self-check runs the session against two independent etcd clusters instead of etcd and RaftKv:
# they must diff clean, which proves the normalization. Writes to DIR (default
# .run/etcd-compat/<time>): A-<system>.raw and B-<system>.raw (what etcdctl printed, its debug logs
# left out), the same normalized as .txt, diff.txt, and each server's log. Ends with a PASS or FAIL
# line; exits 1 on any difference, 2 on bad options. RaftKv is built from the working tree
# (scripts/cluster.sh start). Run it under flock /tmp/raftkv-cpu.lock on a shared machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/etcd.sh
source "$root/scripts/lib/etcd.sh"

self_check="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --self-check) self_check=1; shift ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "etcd-compat: $*"; echo "FAIL: $*"; exit 1; }

for tool in etcd etcdctl jq perl ss timeout; do
  command -v "$tool" >/dev/null || die "$tool is required (etcd and etcdctl: apt-get install etcd-server etcd-client)"
done
etcdctl version | grep -q '^API version: 3\.4' || die "this session is written for etcdctl 3.4 (found: $(etcdctl version | head -1))"

out=$(realpath -m "${out:-$root/.run/etcd-compat/$(date +%Y%m%d-%H%M%S)}")
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/etcd-compat.XXXXXX")
normalize=$root/scripts/etcd-compat/normalize.pl

# --- what is running, so that the trap stops exactly that -------------------------------------
etcd_pids=()    # etcd members of the cluster in use
bg_pids=()      # etcdctl watch, lock and elect clients running in the background
raftkv_env=()   # RAFTKV_CLUSTER=... RAFTKV_RUN=... of the RaftKv cluster in use, if any

# A child that exited but was not waited for yet (a zombie) still answers kill -0.
has_exited() { local state; state=$(sed -E "s/.*\) //" "/proc/$1/stat" 2>/dev/null | cut -c1) || true; [ -z "$state" ] || [ "$state" = Z ]; }

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do has_exited "$pid" && break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_clients() {
  local pid
  for pid in "${bg_pids[@]}"; do stop_pid "$pid"; done
  bg_pids=()
}

stop_etcd() {
  local pid
  for pid in "${etcd_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${etcd_pids[@]}"; do stop_pid "$pid"; done
  etcd_pids=()
}

stop_raftkv() {
  [ ${#raftkv_env[@]} -eq 0 ] || env "${raftkv_env[@]}" scripts/cluster.sh stop >/dev/null || true
  raftkv_env=()
}

save_raftkv_logs() { # each RaftKv node's log, from the run folders cluster.sh used, to the output folder
  local f label
  for f in "$work"/*/logs/*.log; do
    [ -f "$f" ] || continue
    label=$(basename "$(dirname "$(dirname "$f")")")
    cp "$f" "$out/$label-$(basename "$f")"
  done
}

cleanup() {
  local status=$?
  trap - EXIT
  stop_clients
  stop_etcd
  stop_raftkv
  save_raftkv_logs
  rm -rf "$work"
  [ $status -eq 0 ] || [ $status -eq 1 ] || log "stopped everything this script started (exit $status)"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- ports and clusters ------------------------------------------------------------------------
taken=" "
pick_port() { # sets REPLY to a loopback port nothing listens on and this script has not used yet
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    [[ $taken == *" $p "* ]] && continue
    [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] || continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    taken="$taken$p "
    REPLY=$p
    return
  done
}

clients=()   # the three client (gRPC) endpoints of the cluster in use, host:port
peers=()     # the three peer URLs (etcd) or HTTP URLs (RaftKv) of the cluster in use

wait_grpc() { # every client endpoint answers a linearizable read
  local deadline=$((SECONDS + 90)) ep pending
  while :; do
    pending=""
    for ep in "${clients[@]}"; do
      ETCDCTL_API=3 etcdctl --endpoints="$ep" --dial-timeout=2s --command-timeout=3s get compat-probe >/dev/null 2>&1 \
        || pending="$pending $ep"
    done
    [ -z "$pending" ] && return 0
    [ $SECONDS -lt $deadline ] || die "no answer over gRPC after 90 s from:$pending"
    sleep 0.3
  done
}

start_etcd() { # label
  local label=$1 i cluster="" c p
  clients=() peers=()
  for i in 1 2 3; do
    pick_port; c=$REPLY; pick_port; p=$REPLY
    clients+=("127.0.0.1:$c"); peers+=("http://127.0.0.1:$p")
    cluster="$cluster${cluster:+,}e$i=http://127.0.0.1:$p"
  done
  for i in 1 2 3; do
    start_etcd_member "e$i" "$work/$label/e$i" "http://${clients[i-1]}" "${peers[i-1]}" "$cluster" "compat-$label-$$" "$out/$label-e$i.log"
  done
  wait_grpc
}

start_raftkv() { # label: a cluster file of three members with HTTP and gRPC ports, started by cluster.sh
  local label=$1 run i h g
  run=$work/$label
  clients=() peers=()
  mkdir -p "$run"
  {
    echo '{'
    echo '  "members": ['
    for i in 1 2 3; do
      pick_port; h=$REPLY; pick_port; p=$REPLY; pick_port; g=$REPLY
      clients+=("127.0.0.1:$g"); peers+=("http://127.0.0.1:$p")
      printf '    { "id": "n%d", "url": "http://127.0.0.1:%d", "peerUrl": "http://127.0.0.1:%d", "grpcUrl": "http://127.0.0.1:%d" }%s\n' \
        "$i" "$h" "$p" "$g" "$([ "$i" -lt 3 ] && echo ,)"
    done
    echo '  ]'
    echo '}'
  } >"$run/cluster.json"
  cp "$run/cluster.json" "$out/$label-cluster.json"
  raftkv_env=("RAFTKV_CLUSTER=$run/cluster.json" "RAFTKV_RUN=$run")
  env "${raftkv_env[@]}" scripts/cluster.sh start >"$out/$label-cluster-start.log" 2>&1 \
    || { cat "$out/$label-cluster-start.log" >&2; die "RaftKv did not start (see $out/$label-cluster-start.log)"; }
  wait_grpc
}

stop_system() { # label system
  stop_clients
  if [ "$2" = etcd ]; then
    stop_etcd
  else
    stop_raftkv
    save_raftkv_logs
  fi
}

# --- recording one session ---------------------------------------------------------------------
transcript=""   # the .raw file of the session in progress
debug_log=""    # everything etcdctl wrote to stderr, client debug logs included
step_no=0

ctl() { ETCDCTL_API=3 timeout -k 5 40 etcdctl --endpoints="${clients[0]}" --dial-timeout=5s --command-timeout=15s "$@"; }
ctl_all() { ETCDCTL_API=3 timeout -k 5 40 etcdctl --endpoints="$(IFS=,; echo "${clients[*]}")" --dial-timeout=5s --command-timeout=15s "$@"; }
ctl_at() { local ep=$1; shift; ETCDCTL_API=3 timeout -k 5 40 etcdctl --endpoints="$ep" --dial-timeout=5s --command-timeout=15s "$@"; }

quoted() { local s; s=$(printf '%q ' "$@"); printf '%s' "${s% }"; }

# One block of the transcript: "=== NNN title", stdin lines as "< ...", stdout, stderr lines as
# "stderr: ...", then "[exit N]". etcdctl's JSON debug logs (they carry timestamps) go to the debug log.
record() { # title stdin-file stdout-file stderr-file status
  step_no=$((step_no + 1))
  {
    printf '=== %03d %s\n' "$step_no" "$1"
    awk '{ print "< " $0 }' "$2"
    cat "$3"
    grep -v '^{"level":' "$4" | sed 's/^/stderr: /' || true
    echo "[exit $5]"
  } >>"$transcript"
  { printf '=== %03d %s\n' "$step_no" "$1"; cat "$4"; } >>"$debug_log"
}

run_step() { # title stdin-text command...
  local title=$1 input=$2 status=0
  shift 2
  printf '%s' "$input" >"$work/in"
  "$@" <"$work/in" >"$work/out" 2>"$work/err" || status=$?
  record "$title" "$work/in" "$work/out" "$work/err" "$status"
}

e() { run_step "etcdctl $(quoted "$@")" "" ctl "$@"; }                 # against the first member
ea() { run_step "etcdctl --endpoints=ALL $(quoted "$@")" "" ctl_all "$@"; } # against all three
ein() { local input=$1; shift; run_step "etcdctl $(quoted "$@")" "$input" ctl "$@"; }
note() { step_no=$((step_no + 1)); printf '=== %03d note\n%s\n' "$step_no" "$*" >>"$transcript"; }
check() { # title command...: records "ok" or "FAILED" for a condition checked by this script
  local title=$1; shift
  step_no=$((step_no + 1))
  { printf '=== %03d check: %s\n' "$step_no" "$title"; if "$@"; then echo ok; else echo FAILED; fi; } >>"$transcript"
}

# A lease granted with TTL $2, its id (hex, as etcdctl prints it) put in the variable named $1.
grant() {
  local id
  e lease grant "$2"
  id=$(sed -nE 's/^lease ([0-9a-f]+) granted.*/\1/p' "$work/out")
  printf -v "$1" '%s' "${id:-0}"
}

revision() { ctl get compat-probe -w json 2>/dev/null | jq -r '.header.revision // 0'; }

# Polls a command until it succeeds; notes it in the transcript if it never does.
wait_for() { # description timeout-s command...
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { note "timed out waiting for $what"; return 0; }
    sleep 0.1
  done
}

at_revision() { # endpoint revision: a serializable read there has seen the revision
  local rev
  rev=$(ctl_at "$1" get compat-probe --consistency=s -w json 2>/dev/null | jq -r '.header.revision // 0')
  [ "$rev" -ge "$2" ]
}

converge() { # every member has applied the latest revision
  local rev ep
  rev=$(revision)
  for ep in "${clients[@]}"; do wait_for "$ep to apply revision $rev" 15 at_revision "$ep" "$rev"; done
}

key_count() { # prefix count: exactly count keys under the prefix
  [ "$(ctl get --prefix "$1" --keys-only 2>/dev/null | grep -c .)" -eq "$2" ]
}

lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

bg_out=() # the output file of each background client, by its number
bg_start() { # n etcdctl-args...: starts client n in the background, its stdout and stderr in files
  local n=$1; shift
  # etcdctl itself, not a function in a subshell: $! must be the process that the signals are for.
  ETCDCTL_API=3 etcdctl --endpoints="${clients[0]}" --dial-timeout=5s --command-timeout=15s "$@" \
    >"$work/bg$n.out" 2>"$work/bg$n.err" </dev/null &
  bg_pids[n]=$!
  bg_out[n]=$work/bg$n.out
}

bg_finish() { # n title signal: stops background client n with the signal (none: waits for its exit), records it
  local n=$1 title=$2 signal=$3 pid status=0
  pid=${bg_pids[n]}
  if [ "$signal" != none ] && kill -0 "$pid" 2>/dev/null; then kill "-$signal" "$pid" 2>/dev/null || true; fi
  wait_for "'$title' to exit" 15 has_exited "$pid"
  has_exited "$pid" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || status=$?
  unset "bg_pids[n]"
  : >"$work/in"
  # A client stopped by a signal has no meaningful status of its own.
  [ "$signal" = none ] || status="stopped with SIG$signal, status $status"
  record "$title" "$work/in" "$work/bg$n.out" "$work/bg$n.err" "$status"
}

# A watch that replays history: started in the background, stopped once it printed the lines expected
# (3 per event in the simple format, 5 with --prev-kv when there is a previous value), or after 10 s.
watch_history() { # expected-lines watch-args...
  local lines=$1; shift
  bg_start 1 watch "$@"
  wait_for "watch $* to print $lines lines" 10 lines_at_least "${bg_out[1]}" "$lines"
  sleep 0.3 # a moment more, so that events beyond those expected (duplicates) show too
  bg_finish 1 "etcdctl watch $(quoted "$@") (stopped after $lines lines)" TERM
}

session() { # label system: the whole scripted session against the running cluster
  local label=$1 system=$2 rev L1 L2 L3 L4
  transcript=$out/$label.raw debug_log=$out/$label.stderr.log step_no=0
  : >"$transcript"; : >"$debug_log"
  {
    echo "# system: $system ($label)"
    [ "$system" = raftkv ] && echo "# raftkv: $raftkv_version"
    echo "# etcd: $(etcd --version | sed -n 's/^etcd Version: //p'), etcdctl $(etcdctl version | sed -n 's/^etcdctl version: //p')"
    echo "# endpoints: ${clients[*]}"
    echo "# peers: ${peers[*]}"
  } >>"$transcript"

  # --- cluster identity first: the normalizer maps member ids and names from these two ---------
  e member list -w json
  ea endpoint status -w json

  # --- put and get ---------------------------------------------------------------------------
  e put foo bar                                  # revision 2
  e put foo bar2 --prev-kv                       # 3
  e get foo
  e get foo -w json
  e get foo -w fields
  e get foo --print-value-only
  e get foo --hex
  e put key3 v3; e put key1 v1; e put key5 v5; e put key2 v2; e put key4 v4   # 4..8
  e put key2 v2b                                 # 9
  e put ver/a 1; e put ver/b 1; e put ver/b 2; e put ver/c 1; e put ver/c 2; e put ver/c 3   # 10..15
  e get --prefix key
  e get --prefix key --limit=2
  e get --prefix key --limit=2 -w json
  e get --prefix key --keys-only
  e get --prefix key --print-value-only
  e get --from-key key3
  e get key1 key4
  e get key2 --rev=7
  e get --prefix key --rev=6
  e get foo --rev=2 -w json
  e get foo --rev=1000
  e get nosuchkey
  e get nosuchkey -w json
  local by order
  for by in CREATE MODIFY VERSION VALUE KEY; do
    for order in ASCEND DESCEND; do
      e get --prefix key --sort-by="$by" --order="$order"
    done
  done
  e get --prefix ver/ --sort-by=VERSION --order=DESCEND -w json
  e get --prefix ver/ --sort-by=VERSION
  e get --prefix key --order=DESCEND --keys-only
  e get --prefix key --sort-by=MODIFY --order=DESCEND --limit=2 --keys-only
  e get '' --prefix --keys-only
  e get --from-key '' --keys-only
  ein "value from stdin" put fromstdin
  e put 'sp ace' 'a value with spaces'
  e put -- -dash -dash-value
  e get --prefix '' --print-value-only
  converge
  e get foo --consistency=s
  run_step "etcdctl --endpoints=MEMBER3 get --prefix key --consistency=s --keys-only" "" ctl_at "${clients[2]}" get --prefix key --consistency=s --keys-only

  # --- leases and puts that use them -------------------------------------------------------
  grant L1 300
  grant L2 300
  e lease grant 600 -w json
  L3=$(sed -nE 's/.*"ID":([0-9]+).*/\1/p' "$work/out"); L3=$(printf '%x' "${L3:-0}")
  e put lk1 v1 --lease="$L1"
  e put lk2 v2 --lease="$L1"
  e put lk3 v3 --lease="$L2"
  e put lk4 v4 --lease="$L3"
  e get lk1 -w json
  e put lk1 v1b --ignore-lease
  e get lk1 -w fields
  e put lk2 --ignore-value --lease="$L2"
  e put lk1 --ignore-value
  e get --prefix lk -w json
  e put nosuchkey --ignore-value
  e put nosuchkey v --ignore-lease
  e put lk9 v --lease=1234abcd
  e lease timetolive "$L1"
  e lease timetolive "$L3" --keys
  e lease timetolive "$L2" --keys -w json
  e lease timetolive 1234abcd
  e lease keep-alive --once "$L1"
  e lease keep-alive --once "$L3" -w json
  e lease list
  e lease list -w json
  e lease revoke "$L2"                           # deletes lk2 and lk3 in one revision
  e get --prefix lk
  e lease revoke "$L2"
  e lease keep-alive --once "$L2"
  e lease timetolive "$L2"
  grant L4 1                                     # etcd raises a TTL under its minimum (2 s here)
  e put lexp v --lease="$L4"
  wait_for "lease $L4 to expire and delete lexp" 20 key_count lexp 0
  e lease timetolive "$L4"
  e get lexp

  # --- del ---------------------------------------------------------------------------------
  e del foo
  e del nosuchkey
  e del --prev-kv key1
  e del key2 key4
  e del --prefix --prev-kv key -w json
  e put zz1 a; e put zz2 b; e put zz3 c
  e del --from-key zz2
  e get --prefix zz
  e del --prefix ver/
  e del --prefix --prev-kv lk

  # --- txn (non-interactive: compares, blank line, success ops, blank line, failure ops, blank line)
  e put t1 v1
  ein $'value("t1") = "v1"\n\nput t1 v2\nget t1\n\nput t1 vx\n\n' txn
  ein $'value("t1") = "v1"\n\nput t1 v3\n\nget t1\nput t9 failed\n\n' txn
  ein $'mod("t1") > "0"\nversion("t1") = "2"\ncreate("nosuch") = "0"\n\nput t2 a --prev-kv\nget --prefix t --limit=1\n\n\n' txn -w json
  ein $'version("t1") < "2"\n\n\nget --prefix t --keys-only\n\n' txn -w json
  ein $'\nput t3 x\nput t3 y\n\n\n' txn
  ein $'\nput t4 x\nget t4\ndel t2 --prev-kv\n\n\n' txn
  ein $'\ndel t4\nput t4 y\n\n\n' txn
  ein $'value("t1") != "v2"\n\n\n\n' txn
  e get --prefix t

  # --- watch: history replays, a range, and a live stream ------------------------------------
  watch_history 9 --rev=1 foo
  watch_history 39 --rev=1 --prefix key --prev-kv
  watch_history 12 --rev=1 key1 key3
  watch_history 6 --rev=16 lexp
  rev=$(revision)
  bg_start 2 watch --prefix live/ --rev=$((rev + 1)) --prev-kv
  bg_start 3 watch live/a --rev=$((rev + 1))
  e put live/a 1
  e put live/b 2
  e put live/a 3
  ein $'\nput live/c 4\nput live/d 5\ndel live/b\n\n\n' txn
  e del --prefix live/
  wait_for "the live watches" 10 lines_at_least "$work/bg2.out" 37
  wait_for "the live watches" 10 lines_at_least "$work/bg3.out" 9
  bg_finish 2 "etcdctl watch --prefix live/ --rev=REV+1 --prev-kv (live, stopped after 37 lines)" TERM
  bg_finish 3 "etcdctl watch live/a --rev=REV+1 (live, stopped after 9 lines)" TERM

  # --- compaction --------------------------------------------------------------------------
  rev=$(revision)
  e compaction $((rev - 10))
  e get foo --rev=2
  e get --prefix live/ --rev=$((rev - 10)) -w json
  e compaction $((rev - 10))
  e compaction $((rev + 100))
  bg_start 1 watch --rev=2 foo
  bg_finish 1 "etcdctl watch --rev=2 foo (a compacted revision)" none
  e compaction --physical $((rev - 3))
  e get --prefix t --rev=$((rev - 3)) --keys-only

  # --- lock ----------------------------------------------------------------------------------
  # shellcheck disable=SC2016 # expanded by the shell that etcdctl runs
  e lock --ttl=120 compat-lock -- sh -c 'echo "holding $ETCD_LOCK_KEY at revision $ETCD_LOCK_REV"'
  e lock --ttl=120 compat-lock -- sh -c 'exit 3'
  bg_start 1 lock --ttl=120 compat-lock
  wait_for "the first lock holder" 15 lines_at_least "$work/bg1.out" 1
  # shellcheck disable=SC2016
  bg_start 2 lock --ttl=120 compat-lock -- sh -c 'echo "second holder got $ETCD_LOCK_KEY"'
  wait_for "the second lock waiter to queue" 15 key_count compat-lock/ 2
  e get --prefix compat-lock/ --sort-by=CREATE --keys-only
  bg_finish 1 "etcdctl lock compat-lock (first holder, released by SIGTERM)" TERM
  bg_finish 2 "etcdctl lock compat-lock sh -c 'echo ...' (second holder, waited for the first)" none
  e get --prefix compat-lock/

  # --- elect ---------------------------------------------------------------------------------
  bg_start 1 elect compat-elect alpha
  wait_for "alpha to be elected" 15 lines_at_least "$work/bg1.out" 2
  bg_start 3 elect -l compat-elect
  wait_for "the observer to see alpha" 15 lines_at_least "$work/bg3.out" 2
  bg_start 2 elect compat-elect beta
  wait_for "beta to campaign" 15 key_count compat-elect/ 2
  e get --prefix compat-elect/ --sort-by=CREATE
  e elect compat-elect
  kill -TERM "${bg_pids[1]}"
  wait_for "beta to be elected" 15 lines_at_least "$work/bg2.out" 2
  wait_for "the observer to see beta" 15 lines_at_least "$work/bg3.out" 4
  bg_finish 1 "etcdctl elect compat-elect alpha (resigned on SIGTERM)" none
  bg_finish 2 "etcdctl elect compat-elect beta (elected after alpha resigned, resigned on SIGTERM)" TERM
  bg_finish 3 "etcdctl elect -l compat-elect (observer, stopped)" TERM
  e get --prefix compat-elect/

  # --- cluster and maintenance -------------------------------------------------------------
  e lease list
  converge
  e member list
  ea endpoint status
  ea endpoint status -w json
  e endpoint status --cluster
  ea endpoint health
  ea endpoint health -w json
  e endpoint health --cluster
  ea endpoint hashkv
  ea endpoint hashkv -w json
  rev=$(revision)
  ea endpoint hashkv --rev=$((rev - 1))
  e endpoint hashkv --cluster
  # Users' --endpoints often carry a scheme (http://host:port). Not endpoint status or hashkv with
  # one: etcdctl then sends the scheme in the HTTP/2 :authority, which Kestrel refuses (README.md,
  # "Differences by design").
  run_step "etcdctl --endpoints=http://MEMBER1 get --prefix t --keys-only" "" ctl_at "http://${clients[0]}" get --prefix t --keys-only
  e alarm list
  mkdir -p "$work/$label-snapshot"
  run_step "etcdctl snapshot save snapshot.db" "" sh -c "cd '$work/$label-snapshot' && ETCDCTL_API=3 timeout -k 5 60 etcdctl --endpoints='${clients[0]}' --dial-timeout=5s --command-timeout=30s snapshot save snapshot.db"
  check "snapshot.db is not empty" test -s "$work/$label-snapshot/snapshot.db"
  [ "$system" = etcd ] && cp "$work/$label-snapshot/snapshot.db" "$out/$label-snapshot.db"
  e get '' --prefix
  e get '' --prefix -w json
}

run_system() { # label system
  local label=$1 system=$2 t0=$SECONDS
  log "$label: starting a 3-member $system cluster"
  if [ "$system" = etcd ]; then start_etcd "$label"; else start_raftkv "$label"; fi
  log "$label: running the session against ${clients[*]}"
  session "$label" "$system"
  stop_system "$label" "$system"
  perl "$normalize" "$out/$label.raw" >"$out/$label.txt"
  log "$label: $step_no steps, $((SECONDS - t0)) s"
}

start=$SECONDS
raftkv_version="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')"
a=A-etcd
b=$([ -n "$self_check" ] && echo B-etcd || echo B-raftkv)
run_system "$a" etcd
run_system "$b" "$([ -n "$self_check" ] && echo etcd || echo raftkv)"

if diff -u "$out/$a.txt" "$out/$b.txt" >"$out/diff.txt"; then
  log "results in $out"
  echo "PASS: etcdctl session identical after normalization ($a vs $b, $step_no steps, $((SECONDS - start)) s)" | tee "$out/result.txt"
else
  cat "$out/diff.txt"
  log "results in $out ($a.raw, $b.raw, the normalized .txt files, diff.txt)"
  echo "FAIL: $(grep -c '^@@' "$out/diff.txt") hunks of differences between $a and $b after normalization (see $out/diff.txt)" | tee "$out/result.txt"
  exit 1
fi

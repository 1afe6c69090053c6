#!/usr/bin/env bash
# Runs a local RaftKv cluster: one background process per member of the cluster file.
# Everything it makes (build output, data, logs, pid files) lives in one ignored folder, .run/.
#
#   scripts/cluster.sh start [--secure] | stop | status | clean
#     --secure: TLS everywhere (peers and clients, certificates from scripts/certs.sh) and authentication on,
#     with a root user whose password is in .run/root-password; later commands keep using it, until clean.
#   scripts/cluster.sh kill ID | pause ID | resume ID | restart ID | logs ID
#   scripts/cluster.sh rebuild ID    # stops ID, moves its data aside, starts it empty: it catches up from the leader
#   scripts/cluster.sh rolling-restart   # restarts one node at a time (the leader last), each caught up before the next
#   scripts/cluster.sh snapshot FILE     # saves a backup of the whole state (GET /v1/snapshot) into FILE
#   scripts/cluster.sh restore FILE      # seeds every member's empty data folder from a backup: a new cluster
#
# Environment: RAFTKV_CLUSTER (cluster file, default cluster.json), RAFTKV_RUN (run folder, default .run).
#   RAFTKV_CLUSTER_TOKEN: mixed into a restored cluster's id (restore's --cluster-token).
#   RAFTKV_PEER_CERTS: a folder of scripts/certs.sh, for peer mTLS (the cluster file's peerUrls then https).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cluster_file=$(realpath "${RAFTKV_CLUSTER:-$root/cluster.json}")
run=${RAFTKV_RUN:-$root/.run}
peer_certs=${RAFTKV_PEER_CERTS:+$(realpath "$RAFTKV_PEER_CERTS")}
client_certs=
curl_tls=()
if [ "${1:-}" = start ] && [ "${2:-}" = --secure ]; then
  mkdir -p "$run"; touch "$run/secure"
fi
# A secure cluster: its https cluster file, certificates for peers and clients, and root's password for curl.
if [ -f "$run/secure" ]; then
  mkdir -p "$run"
  sed 's#http://#https://#g' "$cluster_file" > "$run/cluster-secure.json"
  cluster_file=$run/cluster-secure.json
  peer_certs=$run/certs client_certs=$run/certs
  curl_tls=(--cacert "$run/certs/ca.pem")
fi
bin=$run/bin
ready_timeout=${RAFTKV_READY_TIMEOUT:-90}
# A node drains on SIGTERM (hands over the lead, finishes its requests) before it exits; past this, SIGKILL.
stop_timeout=${RAFTKV_STOP_TIMEOUT:-30}

die() { echo "cluster.sh: $*" >&2; exit 1; }

# One "id url grpcUrl" line per member, from the flat JSON of the cluster file ("-" for no grpcUrl).
members() {
  [ -f "$cluster_file" ] || die "cluster file $cluster_file not found"
  tr -d '\n' < "$cluster_file" | grep -o '{[^{}]*"id"[^{}]*}' | while read -r member; do
    id=$(sed -E 's/.*"id"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$member")
    url=$(sed -E 's/.*"url"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$member")
    grpc=$(sed -nE 's/.*"grpcUrl"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/p' <<<"$member")
    echo "$id $url ${grpc:--}"
  done
}

url_of() { members | awk -v id="$1" '$1 == id { print $2 }'; }

# The etcdctl endpoints: every member's gRPC address, without the scheme.
grpc_endpoints() { members | awk '$3 != "-" { sub("^https?://", "", $3); printf "%s%s", sep, $3; sep = "," }'; }

require_member() { [ -n "$(url_of "$1")" ] || die "no member '$1' in $cluster_file"; }

# The pid of a running node we started, or nothing: a stale pid file or a reused pid does not count.
pid_of() {
  local file=$run/pids/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "RaftKv.Node.dll --node $1 "; then
    echo "$pid"
  fi
}

# Root's credentials for the requests only root may make (a backup), in a secure cluster.
root_login=()
[ ! -f "$run/root-password" ] || root_login=(-u "root:$(cat "$run/root-password")")

# A secure cluster's first start: a root user with a random password, then authentication on.
enable_auth() {
  [ ! -f "$run/root-password" ] || return 0
  local url password
  url=$(members | awk 'NR == 1 { print $2 }')
  password=$(openssl rand -hex 12)
  post() { curl "${curl_tls[@]}" -fsS -m 30 -X "$1" "$url$2" "${@:3}" >/dev/null || die "enabling authentication failed at $1 $2"; }
  # Users and roles need every member to read them: a fresh cluster learns that within a few seconds.
  for _ in $(seq 1 100); do
    code=$(curl "${curl_tls[@]}" -s -o /dev/null -w '%{http_code}' -m 30 -X PUT "$url/v1/auth/users/root" -H 'Content-Type: application/json' -d "{\"password\":\"$password\"}")
    [ "$code" = 503 ] || break
    sleep 0.2
  done
  [ "$code" = 201 ] || die "creating the root user failed (HTTP $code)"
  post PUT /v1/auth/users/root/roles/root
  post POST /v1/auth/enable
  (umask 077; echo "$password" > "$run/root-password")
  root_login=(-u "root:$password")
  echo "authentication enabled; root's password is in $run/root-password"
}

build() {
  echo "building RaftKv.Node (Release) into $bin"
  dotnet build "$root/src/RaftKv.Node/RaftKv.Node.csproj" -c Release -o "$bin" -v quiet -nologo >"$run/build.log" 2>&1 \
    || { cat "$run/build.log" >&2; die "build failed"; }
  dotnet build "$root/src/RaftKv.Cli/RaftKv.Cli.csproj" -c Release -o "$run/cli" -v quiet -nologo >"$run/build-cli.log" 2>&1 \
    || { cat "$run/build-cli.log" >&2; die "build of the raftkv tool failed"; }
}

start_node() {
  local id=$1
  if [ -n "$(pid_of "$id")" ]; then
    echo "$id already running (pid $(pid_of "$id"))"
    return
  fi
  mkdir -p "$run/logs" "$run/pids" "$run/data"
  local tls=()
  if [ -n "$peer_certs" ]; then
    tls=(--RaftKv:PeerTls:CertificatePath "$peer_certs/$id.pem" --RaftKv:PeerTls:KeyPath "$peer_certs/$id-key.pem" --RaftKv:PeerTls:CaPath "$peer_certs/ca.pem")
  fi
  if [ -n "$client_certs" ]; then
    tls+=(--RaftKv:ClientTls:CertificatePath "$client_certs/$id.pem" --RaftKv:ClientTls:KeyPath "$client_certs/$id-key.pem")
  fi
  (
    cd "$run"
    exec dotnet "$bin/RaftKv.Node.dll" --node "$id" --cluster "$cluster_file" --data "$run/data/$id" "${tls[@]}" \
      >>"$run/logs/$id.log" 2>&1 </dev/null
  ) &
  echo $! > "$run/pids/$id.pid"
  echo "$id started (pid $!)"
}

wait_ready() {
  local deadline=$((SECONDS + ready_timeout)) id url pending
  while :; do
    pending=""
    while read -r id url _; do
      [ -n "$(pid_of "$id")" ] || continue
      curl "${curl_tls[@]}" -fsS -m 2 "$url/health/ready" >/dev/null 2>&1 || pending="$pending $id"
    done < <(members)
    [ -z "$pending" ] && return 0
    [ $SECONDS -lt $deadline ] || die "not ready after ${ready_timeout}s:$pending (see scripts/cluster.sh logs ID)"
    sleep 0.5
  done
}

field() { sed -nE "s/.*\"$1\":(\"([^\"]*)\"|([0-9]+)).*/\2\3/p" <<<"$2"; }

# The leader's id in a /v1/status answer, or nothing.
leader_field() { sed -nE 's/.*"leader":\{"id":"([^"]*)".*/\1/p' <<<"$1"; }

status() {
  printf '%-6s %-28s %-8s %-10s %-6s %-8s %s\n' ID URL PID ROLE TERM COMMIT LEADER
  while read -r id url _; do
    local pid json role term commit leader
    pid=$(pid_of "$id")
    json=$(curl "${curl_tls[@]}" -fsS -m 2 "$url/v1/status" 2>/dev/null || true)
    if [ -n "$json" ]; then
      role=$(field role "$json"); term=$(field term "$json"); commit=$(field commitIndex "$json")
      leader=$(leader_field "$json")
      leader=${leader:--}
    else
      role=$([ -n "$pid" ] && echo unreachable || echo stopped); term=-; commit=-; leader=-
    fi
    printf '%-6s %-28s %-8s %-10s %-6s %-8s %s\n' "$id" "$url" "${pid:--}" "$role" "$term" "$commit" "$leader"
  done < <(members)
}

stop_node() {
  local id=$1 pid
  pid=$(pid_of "$id")
  if [ -n "$pid" ]; then
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((stop_timeout * 10))); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    echo "$id stopped"
  fi
  rm -f "$run/pids/$id.pid"
}

# The leader's id, as the first node that answers says, or nothing.
leader_id() {
  local json
  while read -r _ url _; do
    json=$(curl "${curl_tls[@]}" -fsS -m 2 "$url/v1/status" 2>/dev/null) || continue
    leader_field "$json"
    return
  done < <(members)
}

# Waits until a node answers ready and has applied everything the leader had committed when it came up.
wait_caught_up() {
  local id=$1 url deadline=$((SECONDS + ready_timeout)) leader target="" applied
  url=$(url_of "$id")
  until curl "${curl_tls[@]}" -fsS -m 2 "$url/health/ready" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$id not ready after ${ready_timeout}s (see scripts/cluster.sh logs $id)"
    sleep 0.2
  done
  while :; do
    if [ -z "$target" ]; then
      leader=$(leader_id)
      [ -z "$leader" ] || target=$(field commitIndex "$(curl "${curl_tls[@]}" -fsS -m 2 "$(url_of "$leader")/v1/status" 2>/dev/null || true)")
    fi
    applied=$(field appliedIndex "$(curl "${curl_tls[@]}" -fsS -m 2 "$url/v1/status" 2>/dev/null || true)")
    if [ -n "$target" ] && [ -n "$applied" ] && [ "$applied" -ge "$target" ]; then
      echo "$id ready and caught up (applied $applied, leader commit $target when it came up)"
      return
    fi
    [ $SECONDS -lt $deadline ] || die "$id did not catch up within ${ready_timeout}s (applied ${applied:-?} of ${target:-?})"
    sleep 0.2
  done
}

cmd=${1:-}
case "$cmd" in
  start)
    mkdir -p "$run"
    if [ -f "$run/secure" ]; then
      bash "$root/scripts/certs.sh" --cluster "$cluster_file" --out "$run/certs" >/dev/null
    fi
    build
    while read -r id _; do start_node "$id"; done < <(members)
    wait_ready
    [ ! -f "$run/secure" ] || enable_auth
    echo "cluster ready; endpoints (HTTP API, etcd v3 gRPC API):"
    members | awk '{ printf "  %s %s %s\n", $1, $2, $3 }'
    endpoints=$(grpc_endpoints)
    first=$(members | awk 'NR == 1 { print $2 }')
    if [ -f "$run/secure" ]; then
      echo "curl:    curl --cacert $run/certs/ca.pem -u root:\$(cat $run/root-password) -X PUT -d v $first/v1/kv/k"
      echo "etcdctl: ETCDCTL_API=3 etcdctl --endpoints=$(sed 's#^#https://#; s#,#,https://#g' <<<"$endpoints") --cacert $run/certs/ca.pem --user root:\$(cat $run/root-password) get k"
      echo "raftkv:  dotnet $run/cli/raftkv.dll --cluster $cluster_file --cacert $run/certs/ca.pem --user root:\$(cat $run/root-password) status"
    else
      [ -z "$endpoints" ] || echo "etcdctl: ETCDCTL_API=3 etcdctl --endpoints=$endpoints endpoint status -w table"
      echo "raftkv:  dotnet $run/cli/raftkv.dll --cluster $cluster_file status"
    fi
    ;;
  stop)
    while read -r id _; do stop_node "$id"; done < <(members)
    ;;
  status)
    status
    ;;
  kill)
    require_member "${2:-}"; pid=$(pid_of "$2"); [ -n "$pid" ] || die "$2 is not running"
    kill -KILL "$pid"; rm -f "$run/pids/$2.pid"; echo "$2 killed (SIGKILL)"
    ;;
  pause)
    require_member "${2:-}"; pid=$(pid_of "$2"); [ -n "$pid" ] || die "$2 is not running"
    kill -STOP "$pid"; echo "$2 paused (SIGSTOP)"
    ;;
  resume)
    require_member "${2:-}"; pid=$(pid_of "$2"); [ -n "$pid" ] || die "$2 is not running"
    kill -CONT "$pid"; echo "$2 resumed (SIGCONT)"
    ;;
  restart)
    require_member "${2:-}"
    [ -f "$bin/RaftKv.Node.dll" ] || build
    stop_node "$2"; start_node "$2"
    ;;
  rolling-restart)
    # The leader last, so that the lead moves once. Each node drains on SIGTERM; the next one waits
    # until it is back, ready, and caught up, so a majority is never down.
    [ -f "$bin/RaftKv.Node.dll" ] || build
    leader=$(leader_id)
    [ -n "$leader" ] || die "no leader: the cluster is not healthy enough to roll"
    order="$(members | awk -v leader="$leader" '$1 != leader { print $1 }') $leader"
    for id in $order; do
      [ -n "$(pid_of "$id")" ] || die "$id is not running: start it before rolling"
    done
    for id in $order; do
      started=$SECONDS
      stop_node "$id"; start_node "$id"; wait_caught_up "$id"
      echo "$id restarted in $((SECONDS - started)) s"
    done
    echo "rolling restart done; leader now $(leader_id)"
    ;;
  logs)
    require_member "${2:-}"; cat "$run/logs/$2.log"
    ;;
  rebuild)
    # For a node that refuses to start on a corrupt log (exit code 5). Run it while the others have a
    # leader: the emptied node forgets its vote, which is safe only while no election is under way.
    require_member "${2:-}"
    [ -f "$bin/RaftKv.Node.dll" ] || build
    stop_node "$2"
    if [ -d "$run/data/$2" ]; then
      aside="$run/data/$2.before-rebuild-$(date +%Y%m%d-%H%M%S)"
      mv "$run/data/$2" "$aside"
      echo "$2's old data kept in $aside"
    fi
    start_node "$2"
    wait_ready
    echo "$2 rebuilt: it caught up from the leader"
    ;;
  snapshot)
    file=${2:-}; [ -n "$file" ] || die "usage: cluster.sh snapshot FILE"
    while read -r id url _; do
      # Linearizable: the backup holds every write acknowledged before it was asked for.
      if headers=$(curl "${curl_tls[@]}" "${root_login[@]}" -fsS -m 300 -D - -o "$file.part" "$url/v1/snapshot" 2>/dev/null); then
        mv "$file.part" "$file"
        revision=$(tr -d '\r' <<<"$headers" | sed -nE 's/^x-raftkv-revision: *//Ip')
        echo "backup of revision $revision saved from $id into $file ($(stat -c %s "$file") bytes)"
        exit 0
      fi
    done < <(members)
    rm -f "$file.part"; die "no member served a snapshot"
    ;;
  restore)
    file=${2:-}; [ -f "$file" ] || die "usage: cluster.sh restore FILE (a backup from 'cluster.sh snapshot' or etcdctl snapshot save)"
    while read -r id _; do
      [ -z "$(pid_of "$id")" ] || die "$id is running: a restore seeds a new cluster, so stop this one first"
      [ ! -e "$run/data/$id" ] || die "$run/data/$id exists: move it aside, or 'cluster.sh clean'"
    done < <(members)
    mkdir -p "$run/data"
    [ -f "$bin/RaftKv.Node.dll" ] || build
    while read -r id _; do
      dotnet "$bin/RaftKv.Node.dll" restore --snapshot "$file" --cluster "$cluster_file" --node "$id" --data "$run/data/$id" \
        --cluster-token "${RAFTKV_CLUSTER_TOKEN:-}"
    done < <(members)
    echo "restored; start the new cluster with: scripts/cluster.sh start"
    ;;
  clean)
    while read -r id _; do stop_node "$id"; done < <(members)
    rm -rf "$run/data" "$run/logs" "$run/pids" "$run/secure" "$run/certs" "$run/root-password" "$run/cluster-secure.json"
    echo "data, logs, certificates and credentials removed"
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

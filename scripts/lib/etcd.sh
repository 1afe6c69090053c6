# Sourced by etcd-compat.sh and bench-vs-etcd.sh, so that both start etcd the same way: the differential
# test and the benchmark then compare RaftKv with one and the same etcd configuration.

start_etcd_member() { # name data-dir client-url peer-url initial-cluster token log: in the background, its pid added to etcd_pids
  etcd --name "$1" --data-dir "$2" \
    --listen-client-urls "$3" --advertise-client-urls "$3" \
    --listen-peer-urls "$4" --initial-advertise-peer-urls "$4" \
    --initial-cluster "$5" --initial-cluster-state new --initial-cluster-token "$6" \
    --enable-v2=false --logger zap --log-level warn >>"$7" 2>&1 </dev/null &
  etcd_pids+=($!)
}

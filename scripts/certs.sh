#!/usr/bin/env bash
# A development certificate authority and one certificate per member of a cluster file, with openssl:
# what RaftKv:PeerTls and RaftKv:ClientTls read. Each member's certificate names its id, localhost, and
# the hosts of its url, peerUrl and grpcUrl (IP addresses or DNS names), for TLS as a server and as a
# client. --user NAME also makes a client certificate whose common name is NAME: with client
# certificates required, it authenticates its holder as that user.
#
#   scripts/certs.sh [--cluster FILE] [--out DIR] [--user NAME ...]    (defaults: cluster.json, .run/certs)
#
# Writes DIR/ca.pem, DIR/ca-key.pem, DIR/<id>.pem and DIR/<id>-key.pem per member, and
# DIR/user-<name>.pem and DIR/user-<name>-key.pem per user. An existing CA in DIR is reused, so that
# certificates made later still chain to it. Keys are ECDSA P-256.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cluster=$root/cluster.json out=$root/.run/certs users=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) cluster=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --user) users+=("$2"); shift 2 ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
  esac
done
[ -f "$cluster" ] || { echo "certs.sh: cluster file $cluster not found" >&2; exit 1; }
command -v openssl >/dev/null || { echo "certs.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$out"
umask 077

if [ ! -f "$out/ca.pem" ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$out/ca-key.pem" -out "$out/ca.pem" \
    -days 825 -subj "/CN=RaftKv development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$out/openssl.log" \
    || { cat "$out/openssl.log" >&2; exit 1; }
fi

# issue NAME SAN-LIST EXTENDED-KEY-USAGE: a certificate for NAME signed by the CA.
issue() {
  local name=$1 san=$2 usage=$3 file=$out/$1
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$file-key.pem" -out "$file.csr" \
    -subj "/CN=${4:-$name}" 2>"$out/openssl.log" || { cat "$out/openssl.log" >&2; exit 1; }
  openssl x509 -req -in "$file.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" -CAcreateserial -out "$file.pem" -days 825 \
    -extfile <(printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$san" "$usage") 2>"$out/openssl.log" \
    || { cat "$out/openssl.log" >&2; exit 1; }
  rm -f "$file.csr" "$out/openssl.log"
}

# The host of a URL, as a subjectAltName entry.
san_of() {
  local rest=${1#*://} host
  rest=${rest%%/*}
  if [[ $rest == \[* ]]; then host=${rest#[}; host=${host%%]*}; else host=${rest%:*}; fi
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then echo "IP:$host"; else echo "DNS:$host"; fi
}

# One member per line of the flat JSON of the cluster file.
tr -d '\n' < "$cluster" | grep -o '{[^{}]*"id"[^{}]*}' | while read -r member; do
  id=$(sed -E 's/.*"id"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$member")
  sans="DNS:$id,DNS:localhost"
  for field in url peerUrl grpcUrl; do
    url=$(sed -nE "s/.*\"$field\"[[:space:]]*:[[:space:]]*\"([^\"]*)\".*/\1/p" <<<"$member")
    [ -n "$url" ] || continue
    san=$(san_of "$url")
    [[ ",$sans," == *",$san,"* ]] || sans="$sans,$san"
  done
  issue "$id" "$sans" "serverAuth,clientAuth"
  echo "$id: $out/$id.pem ($sans)"
done
for user in "${users[@]}"; do
  issue "user-$user" "DNS:$user" "clientAuth" "$user"
  echo "user $user: $out/user-$user.pem"
done
echo "CA: $out/ca.pem"

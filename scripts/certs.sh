#!/usr/bin/env bash
# A development certificate authority and one peer certificate per member of a cluster file, with
# openssl: what RaftKv:PeerTls reads. Each member's certificate names its id, localhost, and the
# host of its peerUrl (an IP address or a DNS name).
#
#   scripts/certs.sh [--cluster FILE] [--out DIR]      (defaults: cluster.json, .run/certs)
#
# Writes DIR/ca.pem, DIR/ca-key.pem, and DIR/<id>.pem and DIR/<id>-key.pem per member. An existing
# CA in DIR is reused, so that certificates made later still chain to it. Keys are ECDSA P-256.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cluster=$root/cluster.json out=$root/.run/certs
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) cluster=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
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

# One "id peer-host" line per member, from the flat JSON of the cluster file (the url's host without a peerUrl).
tr -d '\n' < "$cluster" | grep -o '{[^{}]*"id"[^{}]*}' | while read -r member; do
  id=$(sed -E 's/.*"id"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$member")
  url=$(sed -nE 's/.*"peerUrl"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/p' <<<"$member")
  [ -n "$url" ] || url=$(sed -E 's/.*"url"[[:space:]]*:[[:space:]]*"([^"]*)".*/\1/' <<<"$member")
  rest=${url#*://}; rest=${rest%%/*}
  if [[ $rest == \[* ]]; then host=${rest#[}; host=${host%%]*}; else host=${rest%:*}; fi
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$out/$id-key.pem" -out "$out/$id.csr" \
    -subj "/CN=$id" 2>"$out/openssl.log" || { cat "$out/openssl.log" >&2; exit 1; }
  openssl x509 -req -in "$out/$id.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" -CAcreateserial -out "$out/$id.pem" -days 825 \
    -extfile <(printf 'subjectAltName=DNS:%s,DNS:localhost,%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' "$id" "$san") 2>"$out/openssl.log" \
    || { cat "$out/openssl.log" >&2; exit 1; }
  rm -f "$out/$id.csr" "$out/openssl.log"
  echo "$id: $out/$id.pem ($san)"
done
echo "CA: $out/ca.pem"

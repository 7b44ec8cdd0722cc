#!/usr/bin/env bash
# Read path of two qii release binaries side by side (say, before and after a change of
# the release profile): each serves the demo data on one PostgreSQL database in turn, and
# wrk times two screens at 1 and 16 clients. Two rounds; pass the binaries in both orders
# to even out what running first does.
#
#   benches/build/ab.sh OLD_BINARY NEW_BINARY        (FRESH=1 reloads the database qii_ab)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DB="postgres://postgres@127.0.0.1:5432/qii_ab?sslmode=disable"
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
(( $# >= 2 )) || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
if [[ "${FRESH:-0}" == 1 ]] || ! psql -h 127.0.0.1 -U postgres -d qii_ab -qAt -c "SELECT 1" >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qAt -c "DROP DATABASE IF EXISTS qii_ab WITH (FORCE)" -c "CREATE DATABASE qii_ab"
  QII_LOG=warn "$2" demo --database-url "$DB" --rules-dir "$REPO/rules" --data-dir "$D" >/dev/null
fi
result() {
  grep PEER_RESULT | python3 -c "import json,sys;d=json.loads(sys.stdin.read().split(' ',1)[1]);print(d['latency_us']['p50'],d['requests'],d['graphql_errors'])"
}
for round in 1 2; do
  for bin in "$@"; do
    QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=warn "$bin" serve --database-url "$DB" --addr 127.0.0.1:18080 \
      --rules-dir "$REPO/rules" --data-dir "$D" >"$D/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null 127.0.0.1:18080/healthz && break; sleep 0.2; done
    for screen in activity-list towns-activities-counts; do
      python3 -c "import json;print(json.dumps({'query':open('$REPO/benches/peer/screens/$screen/qii.graphql').read()}))" >"$D/$screen.json"
      wrk -t2 -c4 -d3s -s "$REPO/benches/peer/post.lua" http://127.0.0.1:18080/graphql -- "$D/$screen.json" >/dev/null
      low=$(wrk -t1 -c1 -d8s --latency -s "$REPO/benches/peer/post.lua" http://127.0.0.1:18080/graphql -- "$D/$screen.json" | result)
      high=$(wrk -t2 -c16 -d8s --latency -s "$REPO/benches/peer/post.lua" http://127.0.0.1:18080/graphql -- "$D/$screen.json" | result)
      echo "round $round $bin $screen  1 client p50 µs / requests / errors: $low   16 clients: $high"
    done
    kill $pid
    wait $pid 2>/dev/null || true
  done
done

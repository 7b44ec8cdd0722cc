#!/usr/bin/env bash
# Release announcement latency: two servers on one PostgreSQL database, the second polling
# once an hour; a release made from the command line; the time from the release's row
# (written in the transaction that announces it) to the second server's "rules in force".
#
#   benches/releases/announce.sh        (after `cargo build --release`; BIN=… for another binary)
#
# Uses the database qii_ab (created and loaded with the demo data when missing).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN=${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii}
DB="postgres://postgres@127.0.0.1:5432/qii_ab?sslmode=disable"
D=$(mktemp -d)
mkdir -p "$D"
if ! psql -h 127.0.0.1 -U postgres -d qii_ab -qAt -c "SELECT 1" >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qAt -c "CREATE DATABASE qii_ab"
  QII_LOG=warn "$BIN" demo --database-url "$DB" --rules-dir "$REPO/rules" --data-dir "$D" >/dev/null
fi
QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=info "$BIN" serve --database-url "$DB" --addr 127.0.0.1:18081 --rules-dir "$REPO/rules" --data-dir "$D" > "$D/a.log" 2>&1 &
A=$!
QII_RULES_POLL=1h QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=info "$BIN" serve --database-url "$DB" --addr 127.0.0.1:18082 --rules-dir "$REPO/rules" --data-dir "$D" > "$D/b.log" 2>&1 &
B=$!
trap 'kill $A $B 2>/dev/null; rm -rf "$D"' EXIT
for i in $(seq 50); do curl -s -o /dev/null 127.0.0.1:18082/healthz && curl -s -o /dev/null 127.0.0.1:18081/healthz && break; sleep 0.2; done
sed -e 's/version: "2.0"/version: "3.0"/' -e 's/effective_from: "2017-10"/effective_from: "2018-01"/' "$REPO/rules"/qii/v2.rhai > "$D/v3.rhai"
publish() {
  QII_LOG=warn "$BIN" rules publish "$D/v3.rhai" --path qii/v3.rhai --database-url "$DB" --rules-dir "$REPO/rules" --data-dir "$D" >/dev/null
}
# Start from v3 in force (unchanged when an earlier run left it so); then every round
# changes the rules: a rollback to v2 alone, a publish of v3, and so on.
publish
sleep 1
for round in 1 2 3 4 5 6; do
  if (( round % 2 )); then
    QII_LOG=warn "$BIN" rules rollback --database-url "$DB" --rules-dir "$REPO/rules" --data-dir "$D" >/dev/null
  else
    publish
  fi
  sleep 1
  id=$(psql -h 127.0.0.1 -U postgres -d qii_ab -qAt -c "SELECT id FROM rule_release ORDER BY id DESC LIMIT 1")
  made=$(psql -h 127.0.0.1 -U postgres -d qii_ab -qAt -c "SELECT extract(epoch FROM created_at) FROM rule_release WHERE id = $id")
  seen=$(grep "rules in force" "$D/b.log" | grep "release=$id " | head -1 | cut -d' ' -f1 | sed 's/\x1b\[[0-9;]*m//g')
  seen_epoch=$(date -d "$seen" +%s.%N)
  python3 -c "print(f'release $id: in force on the second server {($seen_epoch - $made)*1000:.1f} ms after its row was written')"
done

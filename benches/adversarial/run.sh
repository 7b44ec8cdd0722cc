#!/usr/bin/env bash
# Adversarial bench: the worst requests a caller can send, all at once, against a real
# server on the demo data, while /healthz is timed and the server's resident memory read.
# See benches/adversarial/README.md.
#
#   benches/adversarial/run.sh [--sqlite] [--postgres] [--duration S]
#
#   --sqlite       run on a fresh embedded database (default when neither is given)
#   --postgres     run on a fresh PostgreSQL database qii_adversarial
#   --duration S   seconds of attack per database [60]
#
# Environment (defaults in brackets):
#   QII_BIN        the qii binary [${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii]
#   PG_ADMIN_URL   a superuser connection [postgres://postgres@127.0.0.1:5432/postgres]
#   SCALE          demo data scale [1]
#   PORT           [18090]
#   OUT            the report file [benches/adversarial/last-run.md]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
COMMAND="benches/adversarial/run.sh${*:+ $*}"
QII_BIN="${QII_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
SCALE="${SCALE:-1}"
PORT="${PORT:-18090}"
OUT="${OUT:-$HERE/last-run.md}"
duration=60 sqlite=0 postgres=0
while (($#)); do
  case "$1" in
    --sqlite) sqlite=1 ;;
    --postgres) postgres=1 ;;
    --duration) duration="${2:?--duration needs seconds}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
((sqlite || postgres)) || sqlite=1

log() { printf '[adversarial] %s\n' "$*" >&2; }
die() { printf '[adversarial] ERROR: %s\n' "$*" >&2; exit 1; }
[[ -x "$QII_BIN" ]] || die "no qii binary at $QII_BIN (cargo build --release, or set QII_BIN)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/qii-adversarial.XXXXXX")"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

version="$("$QII_BIN" --version 2>/dev/null || echo qii)"
commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ]] && commit="$commit (work tree with uncommitted changes)"
{
  echo "## Adversarial load — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`$COMMAND\`; \`$QII_BIN\` ($version), commit $commit; demo data scale $SCALE;"
  echo "server defaults except \`QII_RATE_LIMIT_PER_MINUTE=0\` (so that every attack reaches the server)."
  echo
} >"$OUT"

attack_on() { # name database-url
  local name="$1" url="$2" status=0
  log "$name: loading the demo data (scale $SCALE)"
  "$QII_BIN" demo --database-url "$url" --scale "$SCALE" --rules-dir "$REPO/rules" \
    --data-dir "$WORK/$name" >"$WORK/$name-demo.log" 2>&1 || { cat "$WORK/$name-demo.log" >&2; die "demo load failed"; }
  local token
  token="$("$QII_BIN" token issue --database-url "$url" --role city_admin --ttl 1d --subject adversarial-bench \
    --data-dir "$WORK/$name" 2>"$WORK/$name-token.log" | grep -E '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' | tail -1)" || true
  [[ -n "$token" ]] || { cat "$WORK/$name-token.log" >&2; die "no token"; }
  QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=warn "$QII_BIN" serve --database-url "$url" \
    --addr "127.0.0.1:$PORT" --rules-dir "$REPO/rules" --data-dir "$WORK/$name" >"$WORK/$name-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name-server.log" >&2; die "the server stopped"; }
    sleep 0.2
  done
  log "$name: attacking for ${duration} s (server pid $SERVER_PID)"
  python3 "$HERE/attack.py" --url "http://127.0.0.1:$PORT" --pid "$SERVER_PID" --token "$token" \
    --rules "$REPO/rules/qii/v2.rhai" --duration "$duration" --out "$OUT" --title "$name" || status=$?
  kill -0 "$SERVER_PID" 2>/dev/null || { log "$name: the server died"; status=1; }
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  return "$status"
}

failed=0
if ((sqlite)); then
  attack_on SQLite "sqlite://$WORK/qii.db?mode=rwc" || failed=1
fi
if ((postgres)); then
  psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS qii_adversarial" -c "CREATE DATABASE qii_adversarial" >/dev/null
  attack_on PostgreSQL "${PG_ADMIN_URL%/*}/qii_adversarial" || failed=1
fi
log "report written to $OUT"
exit "$failed"

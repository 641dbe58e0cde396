#!/usr/bin/env bash
# Benchmark `wpc check` on 10,000 generated policies and compare it with
# check-jsonschema validating the same payloads (benches/check.rs).
#
#   scripts/bench-check.sh            # full run
#   WPC_BENCH_RUNS=15 scripts/bench-check.sh
#
# check-jsonschema is used from PATH when present, else installed into a
# virtualenv at target/bench-venv (needs python3 and access to PyPI).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/target/bench-venv"
if [[ -n "${CHECK_JSONSCHEMA:-}" ]]; then
    echo "using CHECK_JSONSCHEMA=$CHECK_JSONSCHEMA" >&2
elif command -v check-jsonschema >/dev/null 2>&1; then
    echo "using $(command -v check-jsonschema)" >&2
else
    if [[ ! -x "$venv/bin/check-jsonschema" ]]; then
        echo "installing check-jsonschema into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check check-jsonschema
    fi
    export PATH="$venv/bin:$PATH"
fi
"${CHECK_JSONSCHEMA:-check-jsonschema}" --version >&2 || echo "check-jsonschema unavailable; the comparison will be skipped" >&2

cargo build --release --bin wpc
cargo bench --bench check

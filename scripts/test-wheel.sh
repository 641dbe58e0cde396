#!/usr/bin/env bash
# The PyPI package, as a user gets it: builds the wpc-cli wheel with maturin
# (from PyPI), installs it into a fresh venv and runs `wpc --version` and
# `wpc check examples/repo`; then the fast pre-commit setup of
# docs/pre-commit.md (`repo: local`, `language: python`, the wheel as
# `additional_dependencies`) with the real pre-commit, on a fresh `wpc init`
# repository: it must pass, and fail once a broken policy is added.
#
# CARGO_TARGET_DIR is shared, so the wheel reuses the release build of
# `cargo run --release` instead of compiling wpc again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
tools="$root/target/wheel-tools"
if [[ ! -x "$tools/bin/maturin" || ! -x "$tools/bin/pre-commit" ]]; then
    python3 -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet --disable-pip-version-check maturin==1.16.0 pre-commit
fi
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"

wheels="$(mktemp -d)"
work="$(mktemp -d)"
trap 'rm -rf "$wheels" "$work"' EXIT

echo "== build the wheel"
(cd "$root" && "$tools/bin/maturin" build --release --locked --quiet --out "$wheels")
ls "$wheels"

echo "== install it into a fresh venv"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
    --find-links "$wheels" "wpc-cli==$version"
reported="$("$work/venv/bin/wpc" --version)"
if [[ "$reported" != "wpc $version" ]]; then
    echo "error: the wheel's wpc reports '$reported', not wpc $version" >&2
    exit 1
fi
echo "$reported"
"$work/venv/bin/wpc" check "$root/examples/repo"

echo "== pre-commit, language: python, with the wheel"
"$work/venv/bin/wpc" init "$work/repo" >/dev/null
cd "$work/repo"
# The fast setup exactly as docs/pre-commit.md shows it (its second yaml block).
awk '/^```yaml/ { n++; inside = (n == 2); next } /^```/ { inside = 0 } inside' \
    "$root/docs/pre-commit.md" >.pre-commit-config.yaml
grep -q "wpc-cli==$version" .pre-commit-config.yaml
git init -q
git add -A
git -c user.name=ci -c user.email=ci@example.invalid commit -qm "wpc init"
# pip, inside pre-commit, takes wpc-cli from the wheel just built and nothing
# from an index (a wpc-cli on PyPI must never stand in for the wheel under
# test). pre-commit's `repo: local` environment is itself a tiny setup.py
# package, so its build backend (setuptools) goes into the same folder.
"$tools/bin/python" -m pip download --quiet --disable-pip-version-check \
    --dest "$wheels" setuptools wheel
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels"
export PRE_COMMIT_HOME="$work/pre-commit-home"
start=$SECONDS
"$tools/bin/pre-commit" run --all-files
echo "first run, including the hook install: $((SECONDS - start)) s"

cp "$root/tests/fixtures/pre-commit/broken.toml" policies/broken.toml
git add policies/broken.toml
if "$tools/bin/pre-commit" run wpc-check --all-files; then
    echo "error: wpc-check passed on a broken policy" >&2
    exit 1
fi
echo "wheel: 3 passed, 0 failed"

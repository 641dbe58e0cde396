#!/usr/bin/env bash
# Test .pre-commit-hooks.yaml with the real pre-commit tool: in a policy
# repository made by `wpc init`, `pre-commit try-repo` of this checkout must
# pass, and must fail once a broken policy is added.
#
# Needs python3 (pre-commit is installed from PyPI into target/pre-commit-venv)
# and cargo. CARGO_TARGET_DIR is shared so pre-commit's `cargo install`
# reuses this checkout's build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="$root/target/pre-commit-venv"
if [[ ! -x "$venv/bin/pre-commit" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pre-commit
fi
export PATH="$venv/bin:$PATH"
export PRE_COMMIT_HOME="$root/target/pre-commit-home"

cargo build --quiet --release --bin wpc
wpc="$CARGO_TARGET_DIR/release/wpc"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$wpc" init "$work/repo" >/dev/null
cd "$work/repo"
git init -q
git add -A
git -c user.name=ci -c user.email=ci@example.invalid commit -qm "wpc init"

echo "== every hook on a fresh policy repository: must pass"
# One try-repo for all hooks: each try-repo installs (builds) wpc anew.
pre-commit try-repo "$root" --all-files

echo "== after adding a broken policy: must fail"
cp "$root/tests/fixtures/pre-commit/broken.toml" policies/broken.toml
git add policies/broken.toml
if pre-commit try-repo "$root" wpc-check --all-files; then
    echo "error: wpc-check passed on a broken policy" >&2
    exit 1
fi
echo "pre-commit hooks: 2 passed, 0 failed"

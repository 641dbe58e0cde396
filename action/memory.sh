#!/usr/bin/env bash
# The cache step of the composite action (action.yml) keeps wpc's verifier
# memory between runs: the file `<git dir>/wpc/checkpoints.json` of the
# repository at input `path` (see docs/release.md, "Rollback and freeze").
# This prints its absolute path as the step output `file`, or nothing when
# the cache is off or `path` is in no Git repository. Tested by
# tests/action.rs.
set -euo pipefail

output="${GITHUB_OUTPUT:-/dev/null}"
case "${WPC_CHECKPOINT_CACHE:-true}" in
    true) ;;
    false) exit 0 ;;
    *)
        echo "::error title=wpc::input checkpoint-cache is '${WPC_CHECKPOINT_CACHE}', expected true or false"
        exit 2
        ;;
esac
git_dir="$(git -C "${WPC_PATH:-.}" rev-parse --absolute-git-dir 2>/dev/null)" || exit 0
file="$git_dir/wpc/checkpoints.json"
# actions/cache reads a native path: C:\... on Windows.
if command -v cygpath >/dev/null; then file="$(cygpath -w "$file")"; fi
echo "file=$file" >>"$output"

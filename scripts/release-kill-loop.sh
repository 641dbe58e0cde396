#!/usr/bin/env bash
# Kill `wpc release` and `wpc revoke` with SIGKILL at random points, many
# times, then check that nothing needs a human: the release branch
# verifies, the next release succeeds, and no temporary pack or reference
# lock is left behind.
#
#   scripts/release-kill-loop.sh [KILLS]     # default 200
#
# Uses $WPC when set, else target/debug/wpc under $CARGO_TARGET_DIR (or
# ./target). Exit 0 when every check holds.
set -euo pipefail

kills=${1:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
wpc=${WPC:-${CARGO_TARGET_DIR:-$root/target}/debug/wpc}
[ -x "$wpc" ] || { echo "no wpc binary at $wpc (cargo build, or set WPC)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com \
  GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
unset GITHUB_TOKEN GITHUB_REPOSITORY
git init -q -b main repo
cd repo
git config commit.gpgsign false
did=$("$wpc" keygen --out "$work/key.pem" | grep -o 'did:key:z[1-9A-HJ-NP-Za-km-z]*' | head -1)
mkdir -p keys policies
cp "$root/examples/repo/wpc.toml" wpc.toml
cp "$root/examples/repo/policies/"*.toml policies/
printf '[[release_signer]]\ndid = "%s"\nname = "kill-loop"\n' "$did" > keys/trusted-signers.toml
git add -A && git commit -qm "initial policies"
"$wpc" release --key "$work/key.pem" > /dev/null
# How long one run takes here: kills land anywhere from its start to a
# little after its end.
printf '# timing\n' >> policies/deployer.toml
git commit -qam "timing round"
start=$(date +%s%N)
"$wpc" release --key "$work/key.pem" > /dev/null
span=$(( ($(date +%s%N) - start) / 1000000 * 3 / 2 + 1 ))

deployer=policies/deployer.toml
original=$(cat "$deployer")
killed=0 round=0
while [ "$killed" -lt "$kills" ]; do
  round=$((round + 1))
  # A new version of the deployer on main, then a release or a revocation
  # killed somewhere between its start and its end.
  printf '%s\n' "${original/purpose = \"/purpose = \"Round $round. }" > "$deployer"
  git commit -qam "round $round"
  if [ $((round % 4)) -eq 0 ]; then
    hash=$(git show wpc-releases:index.json | grep -o '"hash": "[A-Za-z0-9_-]*"' | tail -1 | cut -d'"' -f4)
    "$wpc" revoke "$hash" --reason "round $round" --key "$work/key.pem" > /dev/null 2>&1 &
  else
    "$wpc" release --key "$work/key.pem" > /dev/null 2>&1 &
  fi
  pid=$!
  # Every tenth round runs to its end, so the backlog (and with it the
  # length of a run) stays what it was when timed.
  if [ $((round % 10)) -eq 0 ]; then
    wait "$pid" || true
    continue
  fi
  sleep "$(printf '0.%03d' $((RANDOM % span)))"
  if kill -9 "$pid" 2> /dev/null; then
    killed=$((killed + 1))
  fi
  wait "$pid" 2> /dev/null || true
done

failed=0
check() { # description, command...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what" >&2; failed=1; fi
}
echo "$killed kills over $round rounds (kills at 0 to $span ms); $(git rev-list --count wpc-releases) branch commits"
check "release branch verifies after the kills" \
  "$wpc" release verify
check "the next release succeeds with no manual step" \
  "$wpc" release --key "$work/key.pem"
check "the branch still verifies" "$wpc" release verify
check "no reference lock left" \
  test -z "$(find .git/refs -name '*.lock')"
git gc -q --prune=now
check "no temporary pack or object left after git gc --prune=now" \
  test -z "$(find .git/objects -name 'pack_git2_*' -o -name 'tmp_*')"
check "git fsck finds the repository sound" git fsck --no-progress --no-dangling
exit "$failed"

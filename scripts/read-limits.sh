#!/usr/bin/env bash
# Every reader of wpc on a 2 GB sparse file and on a link to /dev/zero, under
# /usr/bin/time -v: each must finish (within 10 s), fail, and peak at no more
# than 100 MB resident memory. docs/limits.md describes the limits.
#
#   scripts/read-limits.sh                 # builds wpc (release) first
#   WPC=path/to/wpc scripts/read-limits.sh
#
# Exit 0 when every case stays under the bound, 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
max_kb=$((100 * 1000))

if [[ -z "${WPC:-}" ]]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    WPC="${CARGO_TARGET_DIR:-$root/target}/release/wpc"
fi
WPC="$(cd "$(dirname "$WPC")" && pwd)/$(basename "$WPC")"
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
policy=policies/agent-change-reviewer.toml
did=did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2
hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

# name | file the case replaces | command line (BAD stands for the file)
cases=(
    "check|policies/bad.toml|check policies/bad.toml"
    "fmt --check|policies/bad.toml|fmt --check policies/bad.toml"
    "test|policies/bad.test.toml|test policies/bad.test.toml"
    "check (wpc.toml)|wpc.toml|check"
    "hash|bad.json|hash bad.json"
    "compile|bad.toml|compile bad.toml"
    "decide|bad.json|decide bad.json --tool repo.read"
    "verify|bad.json|verify bad.json"
    "verify --trusted|t.toml|verify --trusted t.toml x.json"
    "sign --key|k.pem|sign $policy --key k.pem"
    "cst check --jwks|jwks.json|cst check tok --policy $policy --jwks jwks.json"
    "cst check TOKEN-FILE|token.jws|cst check token.jws --policy $policy --issuer $did"
    "audit openclaw CONFIG|bad.json5|audit openclaw bad.json5"
    "audit openclaw \$include|inc.json5|audit openclaw main.json5"
    "audit --policy ENVELOPE|p.json|audit openclaw --policy p.json openclaw.json5"
    "audit --policy POLICY|p.toml|audit openclaw --policy p.toml openclaw.json5"
    "fetch --from|rel/index.json|fetch --from rel --trusted keys/trusted-signers.toml $hash"
    "pr (GITHUB_EVENT_PATH)|event.json|pr --repo acme/policies"
)

failed=0
printf '%-28s %-10s %5s %12s %8s\n' "reader" "input" "exit" "peak RSS" "seconds"
for case in "${cases[@]}"; do
    IFS='|' read -r name file args <<<"$case"
    for kind in sparse-2GB dev-zero; do
        dir="$work/repo"
        rm -rf "$dir"
        cp -R "$root/examples/repo" "$dir"
        echo '{}' >"$dir/openclaw.json5"
        echo "{ \$include: './inc.json5' }" >"$dir/main.json5"
        mkdir -p "$(dirname "$dir/$file")"
        rm -f "$dir/$file"
        if [[ $kind == sparse-2GB ]]; then
            truncate -s 2G "$dir/$file"
        else
            ln -s /dev/zero "$dir/$file"
        fi
        env=()
        if [[ $name == pr* ]]; then
            env=(GITHUB_EVENT_PATH="$dir/$file" GITHUB_TOKEN=unused)
        fi
        # shellcheck disable=SC2086 # the command line is split on purpose
        set +e
        (cd "$dir" && env "${env[@]}" timeout 10 /usr/bin/time -v -o "$work/time" \
            "$WPC" $args >"$work/out" 2>&1)
        code=$?
        set -e
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
        secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
        verdict=ok
        if [[ -z $rss || $rss -gt $max_kb || $code -eq 0 || $code -eq 124 ]]; then
            verdict=FAIL
            failed=1
        fi
        printf '%-28s %-10s %5s %9s KB %8s %s\n' "$name" "$kind" "$code" "${rss:-?}" "${secs:-?}" "$verdict"
        if [[ $verdict == FAIL ]]; then
            sed 's/^/    /' "$work/out" | head -5
        fi
    done
done
if [[ $failed -eq 0 ]]; then
    echo "every reader stayed under $max_kb KB peak RSS"
fi
exit $failed

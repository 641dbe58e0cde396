#!/usr/bin/env bash
# The script of the composite action (action.yml). Inputs arrive as WPC_*
# environment variables; outputs go to $GITHUB_OUTPUT. A test runs this very
# script with a simulated Actions environment (tests/action.rs).
set -euo pipefail

action_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command="${WPC_COMMAND:-ci}"
path="${WPC_PATH:-.}"
output="${GITHUB_OUTPUT:-/dev/null}"

# --- obtain the binary -------------------------------------------------------
install="${WPC_INSTALL:-release}"
case "$install" in
    release)
        path_file="$(mktemp)"
        bash "$action_dir/action/install.sh" "$path_file"
        wpc="$(cat "$path_file")"
        rm -f "$path_file"
        ;;
    build)
        cargo build --release --locked --quiet --manifest-path "$action_dir/Cargo.toml"
        wpc="${CARGO_TARGET_DIR:-$action_dir/target}/release/wpc"
        ;;
    *) wpc="$install" ;;
esac
if [[ ! -x "$wpc" ]]; then
    echo "::error title=wpc::no wpc binary at $wpc (input install)"
    exit 2
fi
if [[ -n "${WPC_VERSION:-}" ]]; then
    actual="$("$wpc" --version | awk '{print $2}')"
    if [[ "$actual" != "${WPC_VERSION#v}" ]]; then
        echo "::error title=wpc::wpc $actual found, version ${WPC_VERSION} requested"
        exit 2
    fi
fi
# Later steps of the job can run `wpc` too.
if [[ -n "${GITHUB_PATH:-}" ]]; then
    bin_dir="$(dirname "$wpc")"
    # The runner reads GITHUB_PATH as a native path: C:\... on Windows.
    if command -v cygpath >/dev/null; then bin_dir="$(cygpath -w "$bin_dir")"; fi
    echo "$bin_dir" >>"$GITHUB_PATH"
fi

# Fail closed unless the workflow says otherwise.
evidence_args=(--unverified-evidence "${WPC_UNVERIFIED_EVIDENCE:-fail}")

sarif_args=()
if [[ -n "${WPC_SARIF:-}" ]]; then
    sarif_args=(--sarif "$WPC_SARIF")
fi

# --- pinned checkpoint -------------------------------------------------------
# The pin is applied by verifying the release branch once with it: the tip's
# checkpoint then goes into the repository's verifier memory, to which every
# later read of the branch in this job is held (a branch that goes back after
# this is ROLLBACK_DETECTED too).
if [[ -n "${WPC_MIN_CHECKPOINT:-}" ]]; then
    case "$command" in
        ci | check | release | bundles)
            pinned=0
            (cd "$path" && "$wpc" release verify --min-checkpoint "$WPC_MIN_CHECKPOINT") || pinned=$?
            if [[ "$pinned" != 0 ]]; then
                echo "::error title=wpc::the release branch does not verify at checkpoint ${WPC_MIN_CHECKPOINT} or later (input min-checkpoint)"
                echo "result=failed" >>"$output"
                exit "$pinned"
            fi
            ;;
    esac
fi

# --- run ---------------------------------------------------------------------
status=0
case "$command" in
    install) ;;
    ci)
        # wpc ci writes result, findings and invalid-bundles itself.
        "$wpc" ci "$path" "${sarif_args[@]}" "${evidence_args[@]}" || status=$?
        ;;
    check)
        "$wpc" check "$path" --format github || status=$?
        json="$("$wpc" check "$path" --format json --exit-zero)"
        findings="$(grep -c '"code":' <<<"$json" || true)"
        if [[ -n "${WPC_SARIF:-}" ]]; then
            "$wpc" check "$path" --format sarif --exit-zero >"$WPC_SARIF"
        fi
        echo "findings=$findings" >>"$output"
        ;;
    audit)
        policy_args=()
        if [[ -n "${WPC_POLICY:-}" ]]; then
            policy_args=(--policy "$WPC_POLICY")
        fi
        "$wpc" audit openclaw --config "$path/wpc.toml" "${policy_args[@]}" --format github || status=$?
        ;;
    pr)
        (cd "$path" && "$wpc" pr) || status=$?
        ;;
    release)
        (cd "$path" && "$wpc" release) || status=$?
        ;;
    bundles)
        if [[ -z "${WPC_BUNDLES:-}" ]]; then
            echo "::error title=wpc::input bundles is required for command bundles"
            exit 2
        fi
        policy_args=()
        if [[ -n "${WPC_POLICY:-}" ]]; then
            policy_args=(--policy "$WPC_POLICY")
        fi
        (cd "$path" && "$wpc" bundle verify "$WPC_BUNDLES" "${policy_args[@]}" "${evidence_args[@]}") || status=$?
        ;;
    *)
        echo "::error title=wpc::unknown command '$command' (ci, pr, release, check, audit, bundles, install)"
        exit 2
        ;;
esac

if [[ "$command" != "ci" ]]; then
    if [[ "$status" == 0 ]]; then echo "result=passed" >>"$output"; else echo "result=failed" >>"$output"; fi
fi
exit "$status"

//! End-to-end tests of the `wpc` binary: every command, every output format,
//! and hostile input.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use support::{root, run, stderr, stdout, wpc};

fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

fn json_schema(path: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join(path)).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

// ---- check -----------------------------------------------------------------

#[test]
fn example_repo_is_clean() {
    let out = run(&root(), &["check", "examples/repo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Only the information of WPC026: what the Claw exports the example
    // enables enforce differently (docs/claw.md).
    let text = stdout(&out);
    assert!(
        text.ends_with("6 files checked: 0 errors, 0 warnings, 15 info\n"),
        "{text}"
    );
    assert_eq!(text.matches("info[WPC026]").count(), 15, "{text}");
}

#[test]
fn check_discovers_the_repository_from_the_current_folder() {
    let out = run(&root().join("examples/repo/policies"), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn text_output() {
    let out = run(&fixtures(), &["check", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn json_output_matches_its_schema() {
    let out = run(&fixtures(), &["check", "broken", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = json_schema("schema/wpc-findings.v1.schema.json");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn sarif_output_matches_the_sarif_schema() {
    let out = run(&fixtures(), &["check", "broken", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = json_schema("tests/vectors/sarif/sarif-schema-2.1.0.json");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "WPC006" && r["helpUri"].as_str().unwrap().ends_with("WPC006.md"))
    );
    insta::assert_snapshot!(stdout(&out).replace(env!("CARGO_PKG_VERSION"), "@@VERSION@@"));
}

#[test]
fn github_output() {
    let out = run(&fixtures(), &["check", "broken", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn exit_codes_are_the_same_for_every_format() {
    for format in ["text", "json", "sarif", "github"] {
        let out = run(&fixtures(), &["check", "broken", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let out = run(&root(), &["check", "examples/repo", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}");
    }
}

#[test]
fn fail_on_and_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    // Only a warning: no model call routing.
    std::fs::write(
        &policy,
        "wpc_version = \"1\"\npolicy_name = \"p\"\npurpose = \"x\"\n[constraints.tool_policy]\nallow = []\ndeny = []\n[constraints.sandbox]\nrequired = true\nworkspaceAccess = \"none\"\nelevated_exec = \"deny\"\n[binding]\ncst_scope_hash_required = true\n",
    )
    .unwrap();
    assert_eq!(run(dir.path(), &["check", "p.toml"]).status.code(), Some(0));
    assert_eq!(
        run(dir.path(), &["check", "p.toml", "--fail-on", "warning"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(
            dir.path(),
            &["check", "p.toml", "--fail-on", "warning", "--exit-zero"]
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn no_colour_when_not_a_terminal() {
    let out = run(&fixtures(), &["check", "broken"]);
    assert!(!stdout(&out).contains('\u{1b}'));
}

#[test]
fn config_errors_are_located_and_levels_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::write(
        dir.path().join("wpc.toml"),
        "[lint.rules]\nWPC999 = \"off\"\nWPC001 = \"off\"\n[polices]\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("unknown key `polices`"), "{text}");
    assert!(text.contains("wpc.toml:4:2"), "{text}");
}

// ---- hostile input -----------------------------------------------------------

fn check_file(name: &str, bytes: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    run(dir.path(), &["check", name])
}

#[test]
fn malformed_toml_is_a_located_finding() {
    let out = check_file("p.toml", b"a = [1, \nb = }\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("p.toml:"), "{}", stdout(&out));
    assert!(stdout(&out).contains("WPC001"));
}

#[test]
fn invalid_utf8_is_located() {
    let out = check_file("p.toml", b"wpc_version = \"1\"\npurpose = \"\xff\"\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("p.toml:2:12"), "{}", stdout(&out));
    assert!(stdout(&out).contains("not valid UTF-8"));
}

#[test]
fn empty_file_reports_missing_keys() {
    let out = check_file("p.toml", b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("missing required key `wpc_version`"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn huge_file_is_refused_without_reading_it_all() {
    let out = check_file("p.toml", &vec![b'#'; 50 * 1024 * 1024]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("file too large (limit 1 MiB for TOML files)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let text = format!("a = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let out = check_file("p.toml", text.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("nesting deeper than"),
        "{}",
        stdout(&out)
    );
    let inline = format!("a = {}1{}\n", "{b = ".repeat(10_000), "}".repeat(10_000));
    assert_eq!(
        check_file("p.toml", inline.as_bytes()).status.code(),
        Some(1)
    );
}

#[test]
#[cfg(unix)]
fn symlink_loop_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::os::unix::fs::symlink(policies.join("a.toml"), policies.join("b.toml")).unwrap();
    std::os::unix::fs::symlink(policies.join("b.toml"), policies.join("a.toml")).unwrap();
    std::fs::write(dir.path().join("wpc.toml"), "").unwrap();
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("symbolic link not read"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn policy_dir_that_is_a_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wpc.toml"), "").unwrap();
    std::fs::write(dir.path().join("policies"), "").unwrap();
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected a folder of policies, found a file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = run(&root(), &["check", "no/such/path"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/path"), "{}", stderr(&out));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_eq!(
        run(&root(), &["check", "--frobnicate"]).status.code(),
        Some(2)
    );
}

// ---- hash and compile --------------------------------------------------------

const REVIEWER: &str = "examples/repo/policies/agent-change-reviewer.toml";

#[test]
fn hash_is_sha256_of_the_compiled_payload() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = stdout(&run(&root(), &["hash", REVIEWER]));
    let compiled = run(&root(), &["compile", REVIEWER]).stdout;
    let payload = compiled.strip_suffix(b"\n").unwrap();
    let expected =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(payload));
    assert_eq!(hash.trim(), expected);
    assert_eq!(
        stdout(&run(&root(), &["hash", "--short", REVIEWER])).trim(),
        &expected[..12]
    );
}

#[test]
fn compile_prints_canonical_json() {
    let out = run(&root(), &["compile", REVIEWER]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("{\"binding\":{\"cst_scope_hash_required\":true"),
        "{text}"
    );
}

#[test]
fn hash_of_an_invalid_policy_fails_with_findings() {
    let out = run(&fixtures(), &["hash", "broken/policies/float.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("floats are not allowed"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(run(&root(), &["hash", "nope.toml"]).status.code(), Some(2));
}

// ---- fmt ------------------------------------------------------------------------

#[test]
fn fmt_check_prints_a_diff_and_fmt_rewrites() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "purpose = \"x\"\nwpc_version = \"1\"\n").unwrap();
    let out = run(dir.path(), &["fmt", "--check", "p.toml"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
    assert_eq!(run(dir.path(), &["fmt", "p.toml"]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "wpc_version = \"1\"\npurpose = \"x\"\n"
    );
    let again = run(dir.path(), &["fmt", "--check", "p.toml"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
}

#[test]
fn fmt_refuses_broken_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), "a = = 1\n").unwrap();
    let out = run(dir.path(), &["fmt", "p.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.toml")).unwrap(),
        "a = = 1\n"
    );
}

/// What wpc ships (the example, the templates `wpc new` and `wpc init`
/// write) passes its own `wpc fmt --check`, so a new repository's
/// pre-commit `wpc-fmt` hook is green from the start.
#[test]
fn shipped_policies_and_configs_are_formatted() {
    let out = run(&root(), &["fmt", "--check", "examples/repo", "templates"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &["init"]).status.success());
    let out = run(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

// ---- rule -------------------------------------------------------------------------

#[test]
fn rule_prints_its_page_and_list_lists_all() {
    let out = run(&root(), &["rule", "WPC006"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("# WPC006"));
    assert!(stdout(&run(&root(), &["rule", "wildcard-allow"])).starts_with("# WPC006"));
    let list = stdout(&run(&root(), &["rule", "--list"]));
    assert!(list.lines().count() >= 13, "{list}");
    assert_eq!(run(&root(), &["rule", "WPC999"]).status.code(), Some(2));
}

#[test]
fn a_committed_private_key_and_a_bad_trusted_signer_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("wpc.toml"), "").unwrap();
    std::fs::write(
        keys.join("release.pem"),
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(
        keys.join("trusted-signers.toml"),
        "[[release_signer]]\ndid = \"did:key:z6Mk0\"\nname = \"ci\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("file=keys/release.pem,line=1,col=1,title=WPC020"),
        "{text}"
    );
    assert!(
        text.contains("file=keys/trusted-signers.toml,line=2,col=7,title=WPC019"),
        "{text}"
    );
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&root(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains("check"), "{shell}");
    }
    let man = run(&root(), &["man"]);
    assert_eq!(man.status.code(), Some(0));
    assert!(stdout(&man).contains(".TH wpc 1"));
    assert_eq!(
        run(&root(), &["completions", "tcsh"]).status.code(),
        Some(2)
    );
}

// ---- ci -------------------------------------------------------------------------

#[test]
fn ci_passes_on_the_example_and_reports_every_stage() {
    let out = run(&root(), &["ci", "examples/repo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    for stage in [
        "check    passed",
        "test     passed",
        "audit    passed",
        "bundles  passed",
    ] {
        assert!(text.contains(stage), "{text}");
    }
}

#[test]
fn ci_in_github_actions_writes_annotations_a_summary_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let sarif = dir.path().join("wpc.sarif");
    let out = wpc(&fixtures())
        .args(["ci", "broken", "--sarif", sarif.to_str().unwrap()])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("check    FAILED"), "{text}");
    assert!(
        text.contains("::error file=broken/policies/risky.toml,line=6,col=10,title=WPC006::"),
        "{text}"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("earlier step\n## wpc ci"), "{summary}");
    assert!(
        summary.contains("| check | ❌ failed | 1 | 4 |"),
        "{summary}"
    );
    assert!(summary.contains("`WPC006`"), "{summary}");
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let validator = json_schema("tests/vectors/sarif/sarif-schema-2.1.0.json");
    assert!(validator.is_valid(&log));
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn ci_verifies_the_configured_proof_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir_all(repo.join("policies")).unwrap();
    std::fs::create_dir_all(repo.join("proofs")).unwrap();
    std::fs::write(
        repo.join("wpc.toml"),
        "[bundles]\npaths = [\"proofs/*.json\"]\ngateway_signers = [\"did:key:z6MkfF4ykuxdK3Cea9xDqWgLLgMBvxcypy6Tv1K45Eahxy3m\"]\n",
    )
    .unwrap();
    let vectors = root().join("tests/vectors/clawsig/conformance");
    for name in [
        "proof_bundle_pass.v1.json",
        "proof_bundle_fail_invalid_signature.v1.json",
    ] {
        std::fs::copy(vectors.join(name), repo.join("proofs").join(name)).unwrap();
    }
    let out = run(repo, &["ci"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    // The conformance vectors are bound to no policy: ci, which verifies
    // every bundle under the WPC it claims, fails them closed.
    assert!(
        text.contains("bundles  FAILED   0 passed, 2 failed"),
        "{text}"
    );
    assert!(text.contains("SIGNATURE_INVALID"), "{text}");
    assert!(
        text.contains("POLICY_UNKNOWN at /: no receipt is bound to a policy"),
        "{text}"
    );
}

#[test]
fn bundle_shards_partition_the_bundles() {
    let glob = "tests/vectors/clawsig/conformance/proof_bundle_*.json";
    let count = |args: &[&str]| {
        let out = run(&root(), args);
        assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("VALID") || l.starts_with("INVALID"))
            .count()
    };
    let all = count(&["bundle", "verify", glob]);
    let parts: usize = (1..=3)
        .map(|i| count(&["bundle", "verify", glob, "--shard", &format!("{i}/3")]))
        .sum();
    assert_eq!((all, parts), (16, 16));
    assert_eq!(
        run(&root(), &["bundle", "verify", glob, "--shard", "0/3"])
            .status
            .code(),
        Some(2)
    );
}

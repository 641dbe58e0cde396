//! One `--format` vocabulary: every command's `--format` takes names of the
//! one list, `--help` shows exactly the ones the command accepts, a name it
//! does not accept is a usage error (exit 2), and every JSON output starts
//! with `format` and `version`.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::collections::BTreeMap;

use clap::CommandFactory as _;
use support::{root, run, stderr, stdout};

const NAMES: [&str; 6] = ["text", "json", "sarif", "github", "junit", "markdown"];

/// Every command with a `--format`, as its words, and the values it accepts.
fn formats() -> BTreeMap<String, Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut BTreeMap<String, Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let words = format!("{prefix}{}", sub.get_name());
            if let Some(arg) = sub.get_arguments().find(|a| a.get_id() == "format") {
                let values = arg
                    .get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_owned())
                    .collect();
                out.insert(words.clone(), values);
            }
            walk(sub, &format!("{words} "), out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&wpc::cli::Cli::command(), "", &mut out);
    out
}

#[test]
fn every_format_is_named_from_the_one_list() {
    let formats = formats();
    for command in [
        "check",
        "audit openclaw",
        "test",
        "diff",
        "replay",
        "decide",
        "verify",
        "bundle verify",
        "cst check",
    ] {
        let values = formats
            .get(command)
            .unwrap_or_else(|| panic!("`wpc {command}` has no --format"));
        assert!(values.contains(&"text".to_owned()), "{command}: {values:?}");
        assert!(values.contains(&"json".to_owned()), "{command}: {values:?}");
    }
    for (command, values) in &formats {
        for value in values {
            assert!(NAMES.contains(&value.as_str()), "wpc {command}: `{value}`");
        }
    }
}

#[test]
fn help_lists_exactly_the_accepted_formats() {
    for (command, values) in formats() {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let out = run(&root(), &args);
        assert_eq!(out.status.code(), Some(0), "wpc {command} --help");
        let help = stdout(&out);
        for name in NAMES {
            let listed = help.contains(&format!("- {name}:"));
            assert_eq!(
                listed,
                values.iter().any(|v| v == name),
                "wpc {command} --help lists `{name}`: {listed}\n{help}"
            );
        }
    }
}

#[test]
fn a_format_a_command_does_not_accept_is_a_usage_error() {
    for (command, values) in formats() {
        let refused = NAMES
            .iter()
            .filter(|n| !values.iter().any(|v| v == *n))
            .chain(["yaml"].iter());
        for name in refused {
            let mut args: Vec<&str> = command.split(' ').collect();
            args.extend(["--format", name]);
            let out = run(&root(), &args);
            assert_eq!(out.status.code(), Some(2), "wpc {}", args.join(" "));
            assert!(
                stderr(&out).contains("invalid value"),
                "wpc {}: {}",
                args.join(" "),
                stderr(&out)
            );
            assert!(stdout(&out).is_empty());
        }
    }
}

/// Every JSON output of a command, run from the repository root on the
/// examples and fixtures the docs use.
#[test]
fn every_json_output_starts_with_format_and_version() {
    let cases: &[(&str, &[&str])] = &[
        (
            "wpc-findings",
            &[
                "check",
                "tests/fixtures/broken/policies/float.toml",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-findings",
            &[
                "audit",
                "openclaw",
                "tests/fixtures/openclaw/runs/insecure.json5",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-explain-tools",
            &[
                "audit",
                "openclaw",
                "examples/repo/openclaw/agent-change-reviewer.json",
                "--explain-tools",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-test-report",
            &["test", "examples/repo", "--format", "json"],
        ),
        (
            "wpc-decision",
            &[
                "decide",
                "examples/repo/policies/deployer.toml",
                "--tool",
                "deploy.prod",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-verify",
            &[
                "verify",
                "tests/fixtures/crypto/python-envelope.json",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-replay",
            &[
                "replay",
                "--config",
                "examples/repo/wpc.toml",
                "--bundles",
                "examples/repo/proofs/deployer",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-bundle-verify",
            &[
                "bundle",
                "verify",
                "tests/vectors/clawsig/conformance/proof_bundle_pass.v1.json",
                "--format",
                "json",
            ],
        ),
        (
            "wpc-cst-check",
            &[
                "cst",
                "check",
                "tests/fixtures/cst/ttl_too_long.jwt",
                "--policy",
                "tests/fixtures/cst/policy.toml",
                "--jwks",
                "tests/fixtures/cst/jwks.json",
                "--now",
                "2026-02-12T00:05:00Z",
                "--format",
                "json",
            ],
        ),
    ];
    for (format, args) in cases {
        let out = run(&root(), args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "wpc {}: {}",
            args.join(" "),
            stderr(&out)
        );
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("wpc {}: {e}\n{}", args.join(" "), stdout(&out)));
        let keys: Vec<&String> = doc.as_object().unwrap().keys().take(2).collect();
        assert_eq!(keys, ["format", "version"], "wpc {}", args.join(" "));
        assert_eq!(doc["format"], *format, "wpc {}", args.join(" "));
        assert_eq!(doc["version"], 1, "wpc {}", args.join(" "));
    }
}

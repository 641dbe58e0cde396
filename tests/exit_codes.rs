//! Every command against the one exit-code table of docs/commands/README.md:
//! 0 ok; 1 findings, invalid, deny; 2 usage, I/O, config. Each command gets a
//! usage error, an I/O error (a missing file, or no repository) and, where
//! it has one, a clean and a finding case. A command added to the CLI
//! without a row in the table and a case here fails this test.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory as _;
use support::{root, run, stderr, stdout};

const POLICY: &str = "policies/agent-change-reviewer.toml";
const HASH: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Every runnable command of the CLI, as its words.
fn commands() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let words = format!("{prefix}{}", sub.get_name());
            if !sub.has_subcommands() || !sub.is_subcommand_required_set() {
                out.insert(words.clone());
            }
            walk(sub, &format!("{words} "), out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&wpc::cli::Cli::command(), "", &mut out);
    out
}

/// The commands with a row in the table of docs/commands/README.md.
fn documented() -> BTreeSet<String> {
    let page = std::fs::read_to_string(root().join("docs/commands/README.md")).unwrap();
    let table = page.split("\n## Exit codes").nth(1).unwrap();
    table
        .lines()
        .filter(|l| l.starts_with("| `wpc "))
        .map(|l| {
            l.split('`')
                .nth(1)
                .unwrap()
                .trim_start_matches("wpc ")
                .to_owned()
        })
        .collect()
}

/// Per command: (case, arguments, expected exit code). Runs in a fresh
/// `wpc init` repository (no Git) unless the arguments start with `@git`,
/// which runs them in a Git repository holding that policy repository.
fn cases(command: &str) -> Vec<(&'static str, Vec<&'static str>, i32)> {
    let c = |name, args: &[&'static str], code| (name, args.to_vec(), code);
    match command {
        "check" => vec![
            c("clean", &["check"], 0),
            c("finding", &["check", "broken.toml"], 1),
            c("io", &["check", "missing.toml"], 2),
        ],
        "ci" => vec![c("clean", &["ci"], 0), c("io", &["ci", "missing"], 2)],
        "fmt" => vec![
            c("clean", &["fmt", "--check"], 0),
            c("finding", &["fmt", "--check", "broken.toml"], 1),
            c("io", &["fmt", "missing.toml"], 2),
        ],
        "hash" => vec![
            c("clean", &["hash", POLICY], 0),
            c("finding", &["hash", "broken.toml"], 1),
            c("io", &["hash", "missing.toml"], 2),
        ],
        "compile" => vec![
            c("clean", &["compile", POLICY], 0),
            c("finding", &["compile", "broken.toml"], 1),
            c("io", &["compile", "missing.toml"], 2),
        ],
        "rule" => vec![
            c("clean", &["rule", "WPC001"], 0),
            c("io", &["rule", "WPC999"], 2),
        ],
        "decide" => vec![
            c("clean", &["decide", POLICY, "--tool", "repo.diff"], 0),
            c("finding", &["decide", POLICY, "--tool", "exec"], 1),
            c("io", &["decide", "missing.toml", "--tool", "exec"], 2),
        ],
        "test" => vec![
            c("clean", &["test"], 0),
            c("io", &["test", "missing.toml"], 2),
        ],
        "new" => vec![
            c("clean", &["new", "fresh", "-t", "deployer"], 0),
            c(
                "io",
                &["new", "x", "-t", "deployer", "--dir", "README.md/x"],
                2,
            ),
        ],
        "init" => vec![
            c("clean", &["init", "other"], 0),
            c("io", &["init", "README.md/x"], 2),
        ],
        "keygen" => vec![
            c("clean", &["keygen", "--out", "../outside.pem"], 0),
            c("io", &["keygen", "--out", "README.md/key.pem"], 2),
        ],
        "sign" => vec![c(
            "io",
            &["sign", "missing.toml", "--key", "missing.pem"],
            2,
        )],
        "verify" => vec![c("io", &["verify", "missing.json"], 2)],
        "diff" => vec![c("io", &["diff", "HEAD~1", "HEAD"], 2)],
        "pr" => vec![c("io", &["pr", "--repo", "a/b", "--pr", "1"], 2)],
        "audit openclaw" => vec![c("io", &["audit", "openclaw", "missing.json"], 2)],
        "bundle verify" => vec![c("io", &["bundle", "verify", "missing.json"], 2)],
        "cst check" => vec![c(
            "io",
            &[
                "cst",
                "check",
                "--policy",
                "missing.toml",
                "--issuer",
                "did:key:z6Mk",
                "t",
            ],
            2,
        )],
        "mcp pin" => vec![
            c(
                "clean",
                &["mcp", "pin", "tools.json", "--server", "github"],
                0,
            ),
            c("finding", &["mcp", "pin", "README.md", "--server", "x"], 1),
            c("io", &["mcp", "pin", "missing.json", "--server", "x"], 2),
        ],
        "release" => vec![c("io", &["release"], 2)],
        "release verify" => vec![
            c("io", &["release", "verify"], 2),
            c("no branch", &["@git", "release", "verify"], 2),
        ],
        "release migrate" => vec![
            c("io", &["release", "migrate"], 2),
            c("no key", &["@git", "release", "migrate"], 2),
        ],
        "serve" => vec![
            c("no repository", &["serve", "--export", "out"], 2),
            c("no branch", &["@git", "serve", "--export", "out"], 2),
            c(
                "public without --public",
                &["@git", "serve", "--listen", "192.0.2.1:80"],
                2,
            ),
        ],
        "revoke" => vec![c("io", &["revoke", HASH, "--reason", "x"], 2)],
        "fetch" => vec![
            c("io", &["fetch", HASH], 2),
            c("no branch", &["@git", "fetch", HASH], 2),
            c("malformed hash", &["@git", "fetch", "--", "notahash"], 2),
        ],
        "log" => vec![c("io", &["log"], 2), c("no branch", &["@git", "log"], 2)],
        "test generate" => vec![c(
            "io",
            &[
                "test",
                "generate",
                "--from-bundles",
                "missing/*.json",
                POLICY,
            ],
            2,
        )],
        "replay" => vec![c("io", &["replay", "--bundles", "missing/*.json"], 2)],
        "completions" => vec![c("clean", &["completions", "bash"], 0)],
        "man" => vec![c("clean", &["man"], 0)],
        _ => Vec::new(),
    }
}

fn policy_repo(dir: &Path) {
    support::init_in(dir);
    std::fs::write(dir.join("broken.toml"), "wpc_version = \n").unwrap();
    std::fs::write(dir.join("tools.json"), r#"{"tools": []}"#).unwrap();
}

fn git_repo(dir: &Path) {
    policy_repo(dir);
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "policies"]);
}

#[test]
fn every_command_has_a_row_and_cases() {
    let commands = commands();
    assert_eq!(
        documented(),
        commands,
        "docs/commands/README.md `## Exit codes` must have one row per command"
    );
    let without: Vec<&String> = commands.iter().filter(|c| cases(c).is_empty()).collect();
    assert!(without.is_empty(), "no exit-code cases for {without:?}");
}

#[test]
fn every_command_exits_as_the_table_says() {
    let mut wrong = Vec::new();
    for command in commands() {
        let words: Vec<&str> = command.split(' ').collect();
        let mut usage = words.clone();
        usage.push("--no-such-option");
        let mut all = vec![("usage", usage, 2)];
        all.extend(cases(&command));
        for (case, args, expected) in all {
            let parent = tempfile::tempdir().unwrap();
            let dir = parent.path().join("repo");
            std::fs::create_dir(&dir).unwrap();
            let args = match args.split_first() {
                Some((&"@git", rest)) => {
                    git_repo(&dir);
                    rest.to_vec()
                }
                _ => {
                    policy_repo(&dir);
                    args
                }
            };
            let out = run(&dir, &args);
            if out.status.code() != Some(expected) {
                wrong.push(format!(
                    "wpc {} ({case}): exit {:?}, the table says {expected}\n{}{}",
                    args.join(" "),
                    out.status.code(),
                    stdout(&out),
                    stderr(&out)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

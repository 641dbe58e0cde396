//! The composite action: `action.yml` and the script it runs
//! (`action/run.sh`), exercised with a simulated GitHub Actions environment.
#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::{copy_dir, root};

fn action() -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap()
}

/// The env var through which the run step passes an input to the script.
fn env_name(input: &str) -> String {
    match input {
        "github-token" => "GITHUB_TOKEN".to_owned(),
        other => format!("WPC_{}", other.to_uppercase().replace('-', "_")),
    }
}

#[test]
fn every_input_reaches_the_script_and_every_script_input_is_declared() {
    let action = action();
    let inputs: BTreeSet<String> = action["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "run")
        .unwrap();
    let env = step["env"].as_mapping().unwrap();
    let script = std::fs::read_to_string(root().join("action/run.sh")).unwrap();
    for input in &inputs {
        let name = env_name(input);
        let value = env[name.as_str()]
            .as_str()
            .unwrap_or_else(|| panic!("{name} not passed"));
        assert_eq!(value, format!("${{{{ inputs.{input} }}}}"), "{name}");
        if name != "GITHUB_TOKEN" {
            assert!(
                script.contains(&name),
                "run.sh never reads {name} (input {input})"
            );
        }
    }
    // And the other way round: every WPC_* the script reads is an input.
    let read: BTreeSet<String> = script
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("WPC_") && w.len() > 4)
        .map(str::to_owned)
        .collect();
    let declared: BTreeSet<String> = inputs.iter().map(|i| env_name(i)).collect();
    assert!(
        read.is_subset(&declared),
        "undeclared: {:?}",
        read.difference(&declared).collect::<Vec<_>>()
    );
    for output in ["result", "findings", "invalid-bundles"] {
        assert!(
            action["outputs"][output]["value"]
                .as_str()
                .unwrap()
                .contains("steps.run.outputs")
        );
    }
}

struct Run {
    out: Output,
    summary: String,
    outputs: String,
}

fn run_action(repo: &Path, command: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("output.txt");
    let event = dir.path().join("event.json");
    std::fs::write(&event, "{}").unwrap();
    let out = std::process::Command::new("bash")
        .arg(root().join("action/run.sh"))
        .current_dir(repo.parent().unwrap())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_EVENT_PATH", &event)
        .env("WPC_COMMAND", command)
        .env("WPC_PATH", repo.file_name().unwrap())
        .env("WPC_INSTALL", env!("CARGO_BIN_EXE_wpc"))
        .env("WPC_VERSION", env!("CARGO_PKG_VERSION"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    Run {
        out,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
    }
}

fn copy_example() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(&root().join("examples/repo"), &repo);
    (dir, repo)
}

#[test]
fn ci_on_the_example_passes() {
    let (_dir, repo) = copy_example();
    let run = run_action(&repo, "ci");
    let stdout = String::from_utf8(run.out.stdout).unwrap();
    assert_eq!(run.out.status.code(), Some(0), "{stdout}");
    assert!(run.outputs.contains("result=passed\n"), "{}", run.outputs);
    // The info findings of WPC026 (what the Claw exports enforce
    // differently) count, and do not fail the run.
    assert!(run.outputs.contains("findings=10\n"), "{}", run.outputs);
    assert!(
        run.outputs.contains("invalid-bundles=0\n"),
        "{}",
        run.outputs
    );
    assert!(
        run.summary.contains("| check | ✅ passed | 5 | 0 |"),
        "{}",
        run.summary
    );
    // The sample proof bundles, under their WPCs; the copy is no Git
    // repository, so against the working policies.
    assert!(
        run.summary.contains(
            "| bundles | ✅ passed | 5 | 0 | no release branch `wpc-releases`: bundles checked \
             against the working policies |"
        ),
        "{}",
        run.summary
    );
    assert!(!stdout.contains("::error"), "{stdout}");
}

#[test]
fn ci_on_a_broken_copy_fails_with_annotations_summary_and_outputs() {
    let (_dir, repo) = copy_example();
    let policy = repo.join("policies/deployer.toml");
    let text = std::fs::read_to_string(&policy)
        .unwrap()
        .replace("elevated_exec = \"deny\"", "elevated_exec = \"allow\"");
    std::fs::write(&policy, text).unwrap();
    let run = run_action(&repo, "ci");
    let stdout = String::from_utf8(run.out.stdout).unwrap();
    assert_eq!(run.out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("::error file=repo/policies/deployer.toml,line=13,col=17,title=WPC010::"),
        "{stdout}"
    );
    assert!(run.outputs.contains("result=failed\n"), "{}", run.outputs);
    // The edit changed the deployer's hash: its two sample bundles are bound
    // to the old one, which is no working policy any more (and this copy
    // has no release branch to find it on).
    assert!(
        run.outputs.contains("findings=13\ninvalid-bundles=2\n"),
        "{}",
        run.outputs
    );
    assert!(stdout.contains("POLICY_UNKNOWN"), "{stdout}");
    assert!(
        run.summary.contains("| check | ❌ failed | 4 | 1 |"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("`WPC010`"), "{}", run.summary);
}

#[test]
fn check_command_counts_findings() {
    let (_dir, repo) = copy_example();
    let run = run_action(&repo, "check");
    assert_eq!(run.out.status.code(), Some(0));
    assert_eq!(run.outputs, "findings=10\nresult=passed\n");
}

#[test]
fn unknown_command_and_wrong_version_are_errors() {
    let (_dir, repo) = copy_example();
    let run = run_action(&repo, "deploy");
    assert_eq!(run.out.status.code(), Some(2));
    assert!(
        String::from_utf8(run.out.stdout)
            .unwrap()
            .contains("::error title=wpc::unknown command")
    );
}

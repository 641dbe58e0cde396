//! One typo, one error: a deleted `]` is reported once by `wpc check`, and
//! every other command prints one line for the file and points at
//! `wpc check`, instead of dozens of echoes of the same mistake.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use support::{run, stderr, stdout};

const POLICY: &str = "policies/agent-change-reviewer.toml";

/// A fresh `wpc init` repository whose policy lost the `]` of its allow list.
fn repo_with_a_deleted_bracket() -> tempfile::TempDir {
    let dir = support::init_repo();
    let path = dir.path().join(POLICY);
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replacen(r#""repo.comment"]"#, r#""repo.comment""#, 1);
    assert_ne!(broken, text);
    std::fs::write(&path, broken).unwrap();
    dir
}

#[test]
fn check_reports_the_first_error_only() {
    let dir = repo_with_a_deleted_bracket();
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_eq!(text.matches("WPC001").count(), 1, "{text}");
    insta::assert_snapshot!("deleted_bracket_check", text);
}

#[test]
fn other_commands_print_one_line_per_unreadable_file() {
    let dir = repo_with_a_deleted_bracket();
    let mut shown = String::new();
    for args in [
        &["test"][..],
        &["hash", POLICY],
        &["decide", POLICY, "--tool", "exec"],
        &["fmt", "--check"],
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let all = format!("{}{}", stdout(&out), stderr(&out));
        let lines: Vec<&str> = all.lines().filter(|l| l.contains("WPC001")).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {all}");
        assert!(lines[0].starts_with(POLICY), "{args:?}: {all}");
        assert!(
            lines[0].contains("`wpc check` shows where"),
            "{args:?}: {all}"
        );
        shown.push_str(&format!("$ wpc {}\n{all}", args.join(" ")));
    }
    insta::assert_snapshot!("deleted_bracket_other_commands", shown);
    // `wpc ci` shows it in full in its check stage, once more in brief.
    let ci = stdout(&run(dir.path(), &["ci"]));
    assert_eq!(ci.matches("WPC001").count(), 2, "{ci}");
}

//! One version everywhere: every place that names a wpc release (the Action
//! tag, hook revisions, PyPI and cargo pins) names Cargo.toml's version.
//! `scripts/bump-version` rewrites them all.
#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::{Path, PathBuf};

use support::root;

/// What precedes a version that must be Cargo.toml's.
const MARKERS: &[&str] = &[
    "wpc-dev/wpc@v",
    "rev: v",
    "wpc-cli==",
    "binstall wpc@",
    "release `v",
];

fn files() -> Vec<PathBuf> {
    let mut files = vec![
        root().join("README.md"),
        root().join("action.yml"),
        root().join("CONTRIBUTING.md"),
    ];
    for dir in ["docs", "templates", ".github", "scripts"] {
        collect(&root().join(dir), &mut files);
    }
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// `(file, marker, version)` for every pinned version in `text`.
fn pinned_versions(text: &str) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    for marker in MARKERS {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            let version: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            found.push((*marker, version));
        }
    }
    found
}

#[test]
fn every_pinned_version_is_cargo_tomls() {
    let version = env!("CARGO_PKG_VERSION");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for file in files() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (marker, found) in pinned_versions(&text) {
            // `{wpc_version}` is filled in by `wpc init`; `@v0` is the
            // floating major tag, which follows every release.
            if found.is_empty() || found == "0" {
                continue;
            }
            checked += 1;
            if found != version {
                wrong.push(format!("{}: {marker}{found}", file.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "not {version}:\n{}", wrong.join("\n"));
    assert!(checked >= 10, "only {checked} pinned versions found");
}

#[test]
fn the_scanner_sees_a_stale_pin() {
    let found = pinned_versions("uses: wpc-dev/wpc@v0.0.9\n  rev: v1.2.3-rc.1\n");
    assert_eq!(
        found,
        [
            ("wpc-dev/wpc@v", "0.0.9".to_owned()),
            ("rev: v", "1.2.3-rc.1".to_owned())
        ]
    );
}

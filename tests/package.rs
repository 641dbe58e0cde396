//! The crate as `cargo install wpc` gets it: the packaged file list holds
//! every file the source embeds (`include_str!`, the templates, the
//! schemas), so the published crate builds.
#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use support::root;

fn packaged() -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // --offline: listing needs no registry; --allow-dirty: a work tree with
    // uncommitted edits lists them too.
    let out = std::process::Command::new(cargo)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "--locked",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `base/relative` with `..` resolved, relative to the repository root.
fn normalize(base: &Path, relative: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for component in base
        .join(relative)
        .strip_prefix(root())
        .unwrap()
        .components()
    {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

#[test]
fn the_package_holds_every_embedded_file() {
    let packaged = packaged();
    let mut needed = BTreeSet::new();
    let mut sources = Vec::new();
    rust_files(&root().join("src"), &mut sources);
    for source in &sources {
        let text = std::fs::read_to_string(source).unwrap();
        for macro_name in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(macro_name) {
                let rest = &text[at + macro_name.len()..];
                let literal = &rest[..rest.find('"').unwrap()];
                needed.insert(normalize(source.parent().unwrap(), literal));
            }
        }
    }
    // Embedded through concat!: every template and schema.
    for dir in ["templates", "schema"] {
        let mut files = Vec::new();
        collect(&root().join(dir), &mut files);
        needed.extend(files);
    }
    assert!(needed.len() > 20, "{needed:?}");
    let missing: Vec<_> = needed.difference(&packaged).collect();
    assert!(missing.is_empty(), "not packaged: {missing:?}");
}

fn collect(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, found);
        } else {
            found.push(normalize(
                &root(),
                path.strip_prefix(root()).unwrap().to_str().unwrap(),
            ));
        }
    }
}

#[test]
fn binstall_finds_the_release_archives() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    // The names the release workflow and action/install.sh use.
    assert_eq!(
        binstall["pkg-url"].as_str().unwrap(),
        "{ repo }/releases/download/v{ version }/{ name }-{ version }-{ target }{ archive-suffix }"
    );
    let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    assert!(
        workflow.contains("wpc-${VERSION}-${TARGET}"),
        "archive names"
    );
    let install = std::fs::read_to_string(root().join("action/install.sh")).unwrap();
    assert!(install.contains("stem=\"wpc-$version-$target\""));
}

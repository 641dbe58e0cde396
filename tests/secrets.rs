//! WPC020 end to end: committed secrets are found wherever they hide, and
//! the secret itself never reaches the output of any format.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use support::{run, stderr, stdout};

/// A raw Ed25519 seed (base64url) and the body line of a PEM private key.
const SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const PEM_BODY: &str = "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v_VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";

fn pem() -> String {
    format!("-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n")
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// A repository hiding a key in every place WPC020 looks.
fn leaky_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::create_dir_all(root.join("keys")).unwrap();
    std::fs::create_dir_all(root.join(".github/deploy")).unwrap();
    std::fs::write(root.join("wpc.toml"), "").unwrap();
    std::fs::write(root.join("keys/release.key"), format!("{SEED}\n")).unwrap();
    std::fs::write(root.join("release.seed"), format!("{SEED}\n")).unwrap();
    std::fs::write(
        root.join(".env"),
        format!("OTHER=1\nexport WPC_SIGNING_KEY=\"{SEED}\"\n"),
    )
    .unwrap();
    std::fs::write(root.join(".github/deploy/signer.pem"), pem()).unwrap();
    std::fs::write(
        root.join("notes-utf16.txt"),
        utf16le(&format!("key:\n{}", pem())),
    )
    .unwrap();
    // Past 1 MiB, and not UTF-8 throughout (a binary log with a key in it).
    let mut big = pem().into_bytes();
    big.push(0xFF);
    big.resize(3 * 1024 * 1024, b'x');
    std::fs::write(root.join("big.log"), big).unwrap();
    dir
}

const LEAKS: [&str; 6] = [
    "keys/release.key",
    "release.seed",
    ".env",
    ".github/deploy/signer.pem",
    "notes-utf16.txt",
    "big.log",
];

#[test]
fn every_hiding_place_is_found() {
    let dir = leaky_repo();
    let out = run(dir.path(), &["check", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for file in LEAKS {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("file={file},")) && l.contains("title=WPC020")),
            "{file} not reported:\n{text}"
        );
    }
}

#[test]
fn no_format_of_check_or_ci_prints_the_secret() {
    let dir = leaky_repo();
    let mut runs: Vec<Vec<&str>> = ["text", "json", "sarif", "github"]
        .iter()
        .map(|format| vec!["check", "--format", format])
        .collect();
    runs.push(vec!["ci"]);
    for args in runs {
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("WPC020"), "{args:?}: {all}");
        for secret in [SEED, PEM_BODY, &SEED[..16], &PEM_BODY[20..40]] {
            assert!(!all.contains(secret), "{args:?} printed {secret}:\n{all}");
        }
    }
}

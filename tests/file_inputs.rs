//! Every file wpc reads, given what is not a plain small file: a FIFO (which
//! blocked `open` forever), a link to /dev/zero (read until memory ran out)
//! and a 2 GB sparse file (read whole before the size check). Each run is
//! killed after `support::HANG_TIMEOUT`, so a hang fails instead of blocking.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;
use std::process::Output;

use support::{HANG_TIMEOUT, copy_dir, root, run_bounded, stderr, stdout, wpc};

#[derive(Clone, Copy, Debug)]
enum Special {
    Fifo,
    DevZero,
    Sparse,
}

const SPECIALS: [Special; 3] = [Special::Fifo, Special::DevZero, Special::Sparse];

impl Special {
    fn create(self, path: &Path) {
        match self {
            Special::Fifo => assert!(
                std::process::Command::new("mkfifo")
                    .arg(path)
                    .status()
                    .unwrap()
                    .success()
            ),
            Special::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            Special::Sparse => std::fs::File::create(path)
                .unwrap()
                .set_len(2 << 30)
                .unwrap(),
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Special::Fifo => "not a regular file (a FIFO); wpc reads only regular files",
            Special::DevZero => "not a regular file (a character device)",
            Special::Sparse => "file too large (limit ",
        }
    }
}

/// The example repository in a temporary folder, with a small OpenClaw
/// config beside it.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/repo"), dir.path());
    std::fs::write(dir.path().join("openclaw.json5"), "{}\n").unwrap();
    dir
}

/// Runs `args` (with `{}` standing for `file`) in a fresh repository where
/// `file` is each special kind, and checks it finishes in time with the
/// expected exit code (FIFO, /dev/zero, sparse) and a message naming the
/// file and the reason.
fn refuses(file: &str, args: &[&str], env: Option<&str>, codes: [i32; 3]) {
    for (special, code) in SPECIALS.into_iter().zip(codes) {
        let dir = repo();
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if path.exists() {
            std::fs::remove_file(&path).unwrap();
        }
        special.create(&path);
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "{}" { file } else { a })
            .collect();
        let mut cmd = wpc(dir.path());
        if let Some(var) = env {
            cmd.env(var, &path).env("GITHUB_TOKEN", "ghs_test");
        }
        let out = cmd.args(&args).timeout(HANG_TIMEOUT).output().unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "wpc {args:?} with {file} a {special:?}:\n{all}"
        );
        assert!(
            all.contains(name) && all.contains(special.reason()),
            "wpc {args:?} with {file} a {special:?}:\n{all}"
        );
    }
}

const POLICY: &str = "policies/agent-change-reviewer.toml";
const DID: &str = "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2";
const HASH: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[test]
fn named_policies_are_refused() {
    // A file too large is a finding of `check`, like any unreadable policy.
    refuses("policies/bad.toml", &["check", "{}"], None, [2, 2, 1]);
    refuses(
        "policies/bad.toml",
        &["fmt", "--check", "{}"],
        None,
        [2, 2, 1],
    );
    refuses("policies/bad.test.toml", &["test", "{}"], None, [2, 2, 1]);
}

#[test]
fn policies_and_envelopes_given_to_hash_decide_compile_and_verify_are_refused() {
    refuses("bad.json", &["hash", "{}"], None, [2, 2, 2]);
    refuses("bad.toml", &["compile", "{}"], None, [2, 2, 2]);
    refuses(
        "bad.json",
        &["decide", "{}", "--tool", "repo.read"],
        None,
        [2, 2, 2],
    );
    refuses("bad.json", &["verify", "{}"], None, [2, 2, 2]);
}

#[test]
fn bundles_and_bundle_policies_are_refused() {
    // A bundle file: a FIFO or a device is an I/O error (exit 2); a file
    // over the limit is an INVALID bundle, unread (exit 1).
    for special in [Special::Fifo, Special::DevZero] {
        let dir = repo();
        let path = dir.path().join("bundle.json");
        special.create(&path);
        let out = wpc(dir.path())
            .args(["bundle", "verify", "bundle.json"])
            .timeout(HANG_TIMEOUT)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{special:?}: {all}");
        assert!(
            all.contains("bundle.json") && all.contains(special.reason()),
            "{special:?}: {all}"
        );
    }
    let dir = repo();
    Special::Sparse.create(&dir.path().join("bundle.json"));
    let out = run_bounded(dir.path(), &["bundle", "verify", "bundle.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("INVALID bundle.json MALFORMED_ENVELOPE"),
        "{}",
        stdout(&out)
    );
    // A --policy envelope.
    let args = [
        "bundle",
        "verify",
        "proofs/deployer/rollout-staging-v2.4.0.json",
        "--policy",
        "{}",
    ];
    refuses("policy.json", &args, None, [2, 2, 2]);
}

#[test]
fn trusted_signers_keys_tokens_and_jwks_are_refused() {
    refuses(
        "t.toml",
        &["verify", "--trusted", "{}", "x.json"],
        None,
        [2, 2, 2],
    );
    refuses("k.pem", &["sign", POLICY, "--key", "{}"], None, [2, 2, 2]);
    let cst = ["cst", "check", "token", "--policy", POLICY];
    let jwks = [&cst[..], &["--jwks", "{}"]].concat();
    refuses("jwks.json", &jwks, None, [2, 2, 2]);
    let token = ["cst", "check", "{}", "--policy", POLICY, "--issuer", DID];
    refuses("token.jws", &token, None, [2, 2, 2]);
}

#[test]
fn openclaw_configs_includes_and_policies_are_refused() {
    refuses("bad.json5", &["audit", "openclaw", "{}"], None, [2, 2, 1]);
    let with_policy = ["audit", "openclaw", "--policy", "{}", "openclaw.json5"];
    refuses("p.json", &with_policy, None, [2, 2, 2]);
    refuses("p.toml", &with_policy, None, [2, 2, 2]);
    // An include is part of the config: a finding (OC001, OC003) naming it.
    for special in SPECIALS {
        let dir = repo();
        std::fs::write(
            dir.path().join("main.json5"),
            "{ $include: './inc.json5' }\n",
        )
        .unwrap();
        special.create(&dir.path().join("inc.json5"));
        let out = run_bounded(dir.path(), &["audit", "openclaw", "main.json5"]);
        assert_eq!(out.status.code(), Some(1), "{special:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("inc.json5"), "{text}");
        // /dev/zero is refused before it is opened: outside the folder.
        if !matches!(special, Special::DevZero) {
            assert!(text.contains(special.reason()), "{text}");
        }
    }
}

#[test]
fn the_config_the_release_checkout_and_the_event_are_refused() {
    refuses("wpc.toml", &["check"], None, [2, 2, 1]);
    let fetch = [
        "fetch",
        "--from",
        "rel",
        "--trusted",
        "keys/trusted-signers.toml",
        HASH,
    ];
    refuses("rel/index.json", &fetch, None, [1, 1, 1]);
    refuses(
        "event.json",
        &["pr", "--repo", "acme/policies"],
        Some("GITHUB_EVENT_PATH"),
        [2, 2, 2],
    );
}

#[test]
fn special_files_in_the_policies_folder_are_skipped_with_a_warning() {
    let dir = repo();
    Special::Fifo.create(&dir.path().join("policies/fifo.toml"));
    Special::Fifo.create(&dir.path().join("policies/fifo.test.toml"));
    let out = run_bounded(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("policies/fifo.toml")
            && text.contains("skipped: not a regular file (a FIFO)"),
        "{text}"
    );

    let out = run_bounded(dir.path(), &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(" passed, 0 failed"),
        "{}",
        stdout(&out)
    );

    let out = run_bounded(dir.path(), &["fmt", "--check"]);
    assert!(
        stderr(&out).contains("policies/fifo.toml")
            && stderr(&out).contains("skipped: not a regular file (a FIFO)"),
        "{}",
        stderr(&out)
    );

    let out = run_bounded(dir.path(), &["ci"]);
    assert!(out.status.code().is_some(), "wpc ci hung");
    assert!(
        stdout(&out).contains("policies/fifo.toml"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_json5_config_with_a_byte_order_mark_is_read_like_openclaw_reads_it() {
    let dir = repo();
    let config = dir.path().join("bom.json5");
    std::fs::write(
        &config,
        b"\xEF\xBB\xBF{\n  gateway: { bind: 'lan', auth: { mode: 'none' } },\n}\n",
    )
    .unwrap();
    let out = run_bounded(dir.path(), &["audit", "openclaw", "bom.json5"]);
    let text = stdout(&out);
    assert!(!text.contains("OC001"), "{text}");
    // Findings still point at the right line.
    assert!(
        text.contains("OC010") && text.contains("bom.json5:2:"),
        "{text}"
    );

    std::fs::write(&config, b"{ a: '\xff' }\n").unwrap();
    let out = run_bounded(dir.path(), &["audit", "openclaw", "bom.json5"]);
    let text = stdout(&out);
    assert!(text.contains("JSON5 files must be UTF-8 encoded"), "{text}");
    assert!(!text.contains("TOML"), "{text}");
}

fn pr_with_api(api: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    wpc(dir.path())
        .env("GITHUB_TOKEN", "ghs_secret")
        .env("GITHUB_API_URL", api)
        .args(["pr", "--repo", "acme/policies", "--pr", "7"])
        .timeout(HANG_TIMEOUT)
        .output()
        .unwrap()
}

#[test]
fn wpc_pr_sends_the_token_only_over_tls_or_to_this_machine() {
    // Refused before any request (a request would fail differently).
    // Loopback over plain HTTP is what the wiremock tests of tests/pr.rs use.
    for api in [
        "http://example.com",
        "http://10.1.2.3:8080/api/v3",
        "api.github.com",
    ] {
        let out = pr_with_api(api);
        assert_eq!(out.status.code(), Some(2), "{api}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("refusing to send the GitHub token"),
            "{api}: {}",
            stderr(&out)
        );
    }
}

//! The composite action: `action.yml` and the script it runs
//! (`action/run.sh`), exercised with a simulated GitHub Actions environment.
#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

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
    // The steps that run one of the action's scripts, and what they pass.
    let steps: Vec<&serde_yaml_ng::Value> = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|s| s["run"].as_str().is_some())
        .collect();
    let script = ["action/run.sh", "action/install.sh", "action/memory.sh"]
        .iter()
        .map(|file| std::fs::read_to_string(root().join(file)).unwrap())
        .collect::<String>();
    for input in &inputs {
        let name = env_name(input);
        let values: Vec<&str> = steps
            .iter()
            .filter_map(|step| step["env"][name.as_str()].as_str())
            .collect();
        assert!(!values.is_empty(), "{name} not passed");
        for value in values {
            assert_eq!(value, format!("${{{{ inputs.{input} }}}}"), "{name}");
        }
        if name != "GITHUB_TOKEN" {
            assert!(
                script.contains(&name),
                "no script reads {name} (input {input})"
            );
        }
    }
    // And the other way round: every WPC_* the script reads is an input.
    let read: BTreeSet<String> = script
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("WPC_") && w.len() > 4)
        .map(str::to_owned)
        .collect();
    let mut declared: BTreeSet<String> = inputs.iter().map(|i| env_name(i)).collect();
    // Pinned in action.yml, not an input (tested below).
    declared.insert("WPC_RELEASE_DID".to_owned());
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

/// `action/run.sh` for `command` on `repo`, in a simulated Actions
/// environment whose files (outputs, summary, PATH additions) are in `scratch`.
fn action_command(repo: &Path, command: &str, scratch: &Path) -> std::process::Command {
    let event = scratch.join("event.json");
    std::fs::write(&event, "{}").unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(root().join("action/run.sh"))
        .current_dir(repo.parent().unwrap())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", scratch.join("summary.md"))
        .env("GITHUB_OUTPUT", scratch.join("output.txt"))
        .env("GITHUB_PATH", scratch.join("github_path"))
        .env("GITHUB_EVENT_PATH", &event)
        .env("WPC_COMMAND", command)
        .env("WPC_PATH", repo.file_name().unwrap())
        .env_remove("WPC_VERSION")
        .env_remove("NO_COLOR");
    cmd
}

fn finish(mut cmd: std::process::Command, scratch: &Path) -> Run {
    let out = cmd.output().unwrap();
    Run {
        out,
        summary: std::fs::read_to_string(scratch.join("summary.md")).unwrap_or_default(),
        outputs: std::fs::read_to_string(scratch.join("output.txt")).unwrap_or_default(),
    }
}

fn run_action(repo: &Path, command: &str) -> Run {
    run_action_with(repo, command, &[])
}

/// [`run_action`] with more inputs (`WPC_*` variables).
fn run_action_with(repo: &Path, command: &str, inputs: &[(&str, &str)]) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = action_command(repo, command, scratch.path());
    cmd.env("WPC_INSTALL", env!("CARGO_BIN_EXE_wpc"))
        .env("WPC_VERSION", env!("CARGO_PKG_VERSION"))
        .envs(inputs.iter().copied());
    finish(cmd, scratch.path())
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
    assert!(run.outputs.contains("findings=15\n"), "{}", run.outputs);
    assert!(
        run.outputs.contains("invalid-bundles=0\n"),
        "{}",
        run.outputs
    );
    assert!(
        run.summary.contains("| check | ✅ passed | 6 | 0 |"),
        "{}",
        run.summary
    );
    // The sample proof bundles, under their WPCs; the copy is no Git
    // repository, so against the working policies.
    assert!(
        run.summary.contains(
            "| bundles | ✅ passed | 6 | 0 | no release branch `wpc-releases`: bundles checked \
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
        run.outputs.contains("findings=18\ninvalid-bundles=2\n"),
        "{}",
        run.outputs
    );
    assert!(stdout.contains("POLICY_UNKNOWN"), "{stdout}");
    assert!(
        run.summary.contains("| check | ❌ failed | 5 | 1 |"),
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
    assert_eq!(run.outputs, "findings=15\nresult=passed\n");
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

/// The DID of `tests/fixtures/crypto/test-only-openssl-ed25519.pem`.
const TEST_DID: &str = "did:key:z6MksEfVQxA5zjvby4nGFsBtyrCx4bUjmnWd2bNAFkNFEPEE";
const TEST_KEY: &str = "tests/fixtures/crypto/test-only-openssl-ed25519.pem";
const TARGET: &str = "x86_64-unknown-linux-musl";

fn archive_name() -> String {
    format!("wpc-{}-{TARGET}.tar.gz", env!("CARGO_PKG_VERSION"))
}

/// A release as the release workflow lays it out, made by the test: the
/// archive of this build's wpc, SHA256SUMS and its signature.
fn fake_release(dir: &Path, key: &str) {
    std::fs::write(dir.join(archive_name()), archive()).unwrap();
    write_sums(dir, &sha256_hex(archive()));
    sign_sums(dir, key);
}

/// The archive of this build's wpc, made once: compressing the debug binary
/// is the slow part of these tests.
fn archive() -> &'static [u8] {
    static ARCHIVE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let stem = format!("wpc-{}-{TARGET}", env!("CARGO_PKG_VERSION"));
        let staging = tempfile::tempdir().unwrap();
        std::fs::create_dir(staging.path().join(&stem)).unwrap();
        std::fs::copy(
            env!("CARGO_BIN_EXE_wpc"),
            staging.path().join(&stem).join("wpc"),
        )
        .unwrap();
        // gzip -1: the debug binary is large, and the level does not matter here.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("tar -cf - -C \"$1\" \"$2\" | gzip -1")
            .arg("sh")
            .arg(staging.path())
            .arg(&stem)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_sums(dir: &Path, archive_sha256: &str) {
    let sums = format!(
        "{}  wpc-{}-x86_64-pc-windows-msvc.zip\n{archive_sha256}  {}\n",
        "0".repeat(64),
        env!("CARGO_PKG_VERSION"),
        archive_name()
    );
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
}

fn sign_sums(dir: &Path, key: &str) {
    let out = support::run(
        dir,
        &[
            "sign",
            "--artifact",
            "SHA256SUMS",
            "--key",
            root().join(key).to_str().unwrap(),
            "-o",
            "SHA256SUMS.sig.json",
        ],
    );
    assert!(out.status.success(), "{}", support::stderr(&out));
}

/// Serves the files of `dir` over HTTP on loopback until the test ends.
fn serve(dir: &Path) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = dir.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Drain the headers.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let name = line
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let body = (!name.contains('/') && !name.contains(".."))
                .then(|| std::fs::read(dir.join(name)).ok())
                .flatten();
            let _ = match body {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    format!("http://{addr}")
}

struct Install {
    run: Run,
    stdout: String,
    tool_cache: tempfile::TempDir,
    path_file: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Install {
    fn github_path(&self) -> String {
        std::fs::read_to_string(&self.path_file).unwrap_or_default()
    }

    /// Every file named `wpc` in the tool cache.
    fn cached_binaries(&self) -> Vec<PathBuf> {
        walk(self.tool_cache.path())
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "wpc"))
            .collect()
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The action with `install: release` from `url`, then `command: ci` on the
/// example, as on a Linux x64 runner with an empty tool cache.
fn install_from(url: &str, tool_cache: Option<tempfile::TempDir>) -> Install {
    let (_dir, repo) = copy_example();
    let tool_cache = tool_cache.unwrap_or_else(|| tempfile::tempdir().unwrap());
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = action_command(&repo, "ci", scratch.path());
    cmd.env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", tool_cache.path())
        .env("WPC_INSTALL", "release")
        .env("WPC_INSTALL_URL", url)
        .env("WPC_RELEASE_DID", TEST_DID);
    let run = finish(cmd, scratch.path());
    let stdout = String::from_utf8(run.out.stdout.clone()).unwrap();
    Install {
        run,
        stdout,
        path_file: scratch.path().join("github_path"),
        tool_cache,
        _scratch: scratch,
    }
}

/// An install that must fail closed: exit 2, the message, nothing on PATH
/// or in the tool cache.
fn assert_refused(install: &Install, message: &str) {
    assert_eq!(install.run.out.status.code(), Some(2), "{}", install.stdout);
    assert!(
        install.stdout.contains("::error title=wpc install::") && install.stdout.contains(message),
        "expected {message:?} in:\n{}",
        install.stdout
    );
    assert_eq!(install.github_path(), "", "wpc was put on PATH");
    assert_eq!(install.cached_binaries(), Vec::<PathBuf>::new());
    assert!(install.run.outputs.is_empty(), "{}", install.run.outputs);
}

#[test]
fn release_install_verifies_caches_puts_wpc_on_path_and_runs() {
    let release = tempfile::tempdir().unwrap();
    fake_release(release.path(), TEST_KEY);
    let url = serve(release.path());
    let install = install_from(&url, None);
    assert_eq!(install.run.out.status.code(), Some(0), "{}", install.stdout);
    assert!(
        install.stdout.contains(&format!(
            "wpc {} installed from {url}/{} (signed by {TEST_DID})",
            env!("CARGO_PKG_VERSION"),
            archive_name()
        )),
        "{}",
        install.stdout
    );
    let cached = install.cached_binaries();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(
        install.github_path(),
        format!("{}\n", cached[0].parent().unwrap().display())
    );
    assert!(install.run.outputs.contains("result=passed\n"));
    // A second run finds it in the tool cache, even with the server gone.
    let again = install_from("http://127.0.0.1:9/unreachable", Some(install.tool_cache));
    assert_eq!(again.run.out.status.code(), Some(0), "{}", again.stdout);
    assert!(
        again.stdout.contains("from the tool cache"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_tampered_archive_is_refused() {
    let release = tempfile::tempdir().unwrap();
    fake_release(release.path(), TEST_KEY);
    let mut bytes = archive().to_vec();
    bytes.push(0);
    std::fs::write(release.path().join(archive_name()), bytes).unwrap();
    let install = install_from(&serve(release.path()), None);
    assert_refused(
        &install,
        &format!("{} does not match SHA256SUMS", archive_name()),
    );
}

#[test]
fn a_checksum_changed_after_signing_is_refused() {
    // The attacker serves their archive and its checksum, but cannot re-sign.
    let release = tempfile::tempdir().unwrap();
    fake_release(release.path(), TEST_KEY);
    let mut bytes = archive().to_vec();
    bytes.push(0);
    std::fs::write(release.path().join(archive_name()), &bytes).unwrap();
    write_sums(release.path(), &sha256_hex(&bytes));
    let install = install_from(&serve(release.path()), None);
    assert_refused(
        &install,
        "SHA256SUMS does not match the digest its signature vouches for",
    );
}

#[test]
fn a_release_signed_by_another_key_is_refused() {
    let release = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let key = other.path().join("attacker.pem");
    assert!(
        support::run(other.path(), &["keygen", "-o", key.to_str().unwrap()])
            .status
            .success()
    );
    fake_release(release.path(), key.to_str().unwrap());
    let install = install_from(&serve(release.path()), None);
    assert_refused(&install, "not by the release key");
}

#[test]
fn a_forged_signature_under_the_release_did_is_refused() {
    let release = tempfile::tempdir().unwrap();
    fake_release(release.path(), TEST_KEY);
    let file = release.path().join("SHA256SUMS.sig.json");
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let signature = envelope["signature_b64u"].as_str().unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    envelope["signature_b64u"] = format!("{flipped}{}", &signature[1..]).into();
    std::fs::write(&file, serde_json::to_vec_pretty(&envelope).unwrap()).unwrap();
    let install = install_from(&serve(release.path()), None);
    assert_refused(
        &install,
        &format!("the signature of SHA256SUMS does not verify under the release key {TEST_DID}"),
    );
}

#[test]
fn a_missing_file_is_refused() {
    for missing in ["SHA256SUMS.sig.json".to_owned(), archive_name()] {
        let release = tempfile::tempdir().unwrap();
        fake_release(release.path(), TEST_KEY);
        std::fs::remove_file(release.path().join(&missing)).unwrap();
        let install = install_from(&serve(release.path()), None);
        assert_refused(&install, "cannot download http://");
        assert!(install.stdout.contains(&missing), "{}", install.stdout);
        assert!(install.stdout.contains("404"), "{}", install.stdout);
    }
}

#[test]
fn the_pinned_release_did_is_the_one_the_readme_publishes() {
    let action = action();
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "run")
        .unwrap();
    let did = step["env"]["WPC_RELEASE_DID"].as_str().unwrap();
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    assert_ne!(did, TEST_DID, "the test key is public");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(did), "README.md does not publish {did}");
    let install = std::fs::read_to_string(root().join("docs/install.md")).unwrap();
    assert!(
        install.contains(did),
        "docs/install.md does not publish {did}"
    );
}

/// Every job in docs/action.md that runs `wpc` installs it first, with the
/// action (which puts it on PATH).
#[test]
fn every_docs_example_installs_wpc_before_running_it() {
    fn jobs<'a>(value: &'a serde_yaml_ng::Value, found: &mut Vec<&'a serde_yaml_ng::Value>) {
        if let Some(map) = value.as_mapping() {
            if let Some(steps) = map.get("steps") {
                found.push(steps);
            }
            map.values().for_each(|v| jobs(v, found));
        }
    }
    let doc = std::fs::read_to_string(root().join("docs/action.md")).unwrap();
    let mut checked = 0;
    for block in doc.split("```yaml\n").skip(1) {
        let yaml = block.split("```").next().unwrap();
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        let mut found = Vec::new();
        jobs(&value, &mut found);
        for steps in found {
            let mut installed = false;
            for step in steps.as_sequence().unwrap() {
                if let Some(uses) = step["uses"].as_str() {
                    installed |= uses.starts_with("wpc-dev/wpc@");
                }
                if let Some(run) = step["run"].as_str() {
                    let runs_wpc = run.split_whitespace().any(|w| w == "wpc");
                    assert!(
                        !runs_wpc || installed,
                        "runs wpc before installing it: {run}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} jobs found");
}

/// The memory step: `action/memory.sh` with `env`, in `dir`; its exit code
/// and what it wrote to GITHUB_OUTPUT.
fn memory_step(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let scratch = tempfile::tempdir().unwrap();
    let output = scratch.path().join("output.txt");
    let out = std::process::Command::new("bash")
        .arg(root().join("action/memory.sh"))
        .current_dir(dir)
        .env("GITHUB_OUTPUT", &output)
        .env_remove("WPC_CHECKPOINT_CACHE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        std::fs::read_to_string(output).unwrap_or_default(),
    )
}

/// Issue 13's "CI keeps memory": the action caches the file the release
/// verifiers remember checkpoints in, restoring the newest of earlier runs.
#[test]
fn the_verifier_memory_is_cached_between_runs() {
    let action = action();
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let locate = steps.iter().find(|s| s["id"] == "memory").unwrap();
    assert!(
        locate["run"]
            .as_str()
            .unwrap()
            .contains("/action/memory.sh"),
        "{locate:?}"
    );
    let cache = steps
        .iter()
        .find(|s| s["with"]["path"] == "${{ steps.memory.outputs.file }}")
        .unwrap();
    assert_eq!(cache["uses"], "actions/cache@v4");
    assert_eq!(cache["if"], "steps.memory.outputs.file != ''");
    // A key of its own per run (an entry is never overwritten), found by
    // the next run through the restore prefix.
    let key = cache["with"]["key"].as_str().unwrap();
    let restore = cache["with"]["restore-keys"].as_str().unwrap();
    assert!(key.starts_with(restore), "{key} / {restore}");
    assert!(key.contains("${{ github.run_id }}"), "{key}");
    // Both steps come before wpc runs.
    let position = |id: &str| steps.iter().position(|s| s["id"] == id).unwrap();
    let cache_at = steps
        .iter()
        .position(|s| s["uses"] == "actions/cache@v4" && s["with"]["path"] == cache["with"]["path"])
        .unwrap();
    assert!(position("memory") < cache_at && cache_at < position("run"));

    // The file it names is the one the verifiers write.
    let repo = tempfile::tempdir().unwrap();
    support::git(repo.path(), &["init", "-q"]);
    std::fs::create_dir(repo.path().join("policies")).unwrap();
    let git_dir = std::fs::canonicalize(repo.path().join(".git")).unwrap();
    let expected = format!(
        "file={}\n",
        git_dir.join(wpc::release::MEMORY_PATH).display()
    );
    for path in [".", "policies"] {
        let (code, output) = memory_step(repo.path(), &[("WPC_PATH", path)]);
        assert_eq!((code, output.as_str()), (Some(0), expected.as_str()));
    }
    // Off, or no repository: no file, so no cache step. A value that is
    // neither true nor false is an error, not a silent "off".
    let (code, output) = memory_step(repo.path(), &[("WPC_CHECKPOINT_CACHE", "false")]);
    assert_eq!((code, output.as_str()), (Some(0), ""));
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(memory_step(plain.path(), &[]), (Some(0), String::new()));
    let (code, output) = memory_step(repo.path(), &[("WPC_CHECKPOINT_CACHE", "yes")]);
    assert_eq!((code, output.as_str()), (Some(2), ""));
}

/// A release key (base64url of 32 bytes of 7) and a repository holding a
/// copy of the example on `main`, trusting that key, released once
/// (checkpoint 1).
const SEED: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";

fn released_example() -> (tempfile::TempDir, PathBuf) {
    let (dir, repo) = copy_example();
    let key = wpc::crypto::keys::SigningKey::from_env_value(SEED).unwrap();
    std::fs::write(
        repo.join("keys/trusted-signers.toml"),
        format!(
            "[[release_signer]]\ndid = \"{}\"\nname = \"ci\"\n",
            key.did_str()
        ),
    )
    .unwrap();
    support::git(&repo, &["init", "-q", "-b", "main"]);
    support::git(&repo, &["add", "-A"]);
    support::git(&repo, &["commit", "-q", "-m", "policies"]);
    let out = support::wpc(&repo)
        .env("WPC_SIGNING_KEY", SEED)
        .args(["release"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    (dir, repo)
}

/// Issue 13's "a consuming repository can pin one": the input
/// min-checkpoint refuses an older branch before anything runs, and a
/// branch that meets it is remembered, so the run's own reads are held to it.
#[test]
fn a_pinned_checkpoint_refuses_an_older_branch_and_is_remembered() {
    let (_dir, repo) = released_example();
    let memory = repo.join(".git").join(wpc::release::MEMORY_PATH);
    std::fs::remove_file(&memory).unwrap();
    for command in ["check", "ci", "bundles", "release"] {
        let run = run_action_with(
            &repo,
            command,
            &[
                ("WPC_MIN_CHECKPOINT", "2"),
                ("WPC_BUNDLES", "proofs/*.json"),
                ("WPC_SIGNING_KEY", SEED),
            ],
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&run.out.stdout),
            String::from_utf8_lossy(&run.out.stderr)
        );
        assert_eq!(run.out.status.code(), Some(1), "{command}: {said}");
        assert!(said.contains("ROLLBACK_DETECTED"), "{command}: {said}");
        assert!(
            said.contains("::error title=wpc::the release branch does not verify at checkpoint 2"),
            "{command}: {said}"
        );
        assert_eq!(run.outputs, "result=failed\n", "{command}");
        assert!(!memory.exists(), "{command}");
    }
    let run = run_action_with(&repo, "check", &[("WPC_MIN_CHECKPOINT", "1")]);
    assert_eq!(run.out.status.code(), Some(0), "{:?}", run.out);
    assert!(run.outputs.contains("result=passed\n"), "{}", run.outputs);
    let remembered: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&memory).unwrap()).unwrap();
    assert_eq!(remembered["branches"]["wpc-releases"]["version"], 1);
}

/// The Action fails closed by default: a bundle carrying evidence wpc does
/// not verify fails the `bundles` command (as it fails `ci`), and input
/// `unverified-evidence: warn` accepts it with a warning.
#[test]
fn bundles_fail_closed_on_unverified_evidence_by_default() {
    let (_dir, repo) = copy_example();
    let name = "proofs/deployer/rollout-staging-v2.4.0.json";
    let file = repo.join(name);
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    bundle["payload"]["metadata"] = serde_json::json!({"harness": {"id": "kit", "version": "1"}});
    let bundle = wpc::bundle::kit::resign(&bundle).unwrap();
    std::fs::write(&file, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();

    let run = run_action_with(&repo, "bundles", &[("WPC_BUNDLES", name)]);
    let stdout = String::from_utf8(run.out.stdout).unwrap();
    assert_eq!(run.out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("EVIDENCE_UNVERIFIED"), "{stdout}");

    let run = run_action_with(
        &repo,
        "bundles",
        &[("WPC_BUNDLES", name), ("WPC_UNVERIFIED_EVIDENCE", "warn")],
    );
    let stdout = String::from_utf8(run.out.stdout).unwrap();
    assert_eq!(run.out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("unverified metadata"), "{stdout}");
}

//! End-to-end tests of `wpc release`, `wpc release verify` and `wpc revoke`
//! on real repositories built with the `git` CLI in temporary folders, and
//! of the release library's two steps (objects, then one reference update).

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use support::{example, stderr, stdout};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wpc::crypto::keys::SigningKey;
use wpc::git::Repo;
use wpc::release;

/// A fixed test seed (base64url of 32 bytes of 7).
const SEED: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
const DEPLOYER: &str = "policies/deployer.toml";
const NOW: &str = "2026-11-24T12:00:00Z";

fn key() -> SigningKey {
    SigningKey::from_env_value(SEED).unwrap()
}

struct Git {
    dir: tempfile::TempDir,
}

impl Git {
    /// A repository on `main` with the example config, trusted signers
    /// naming the test key, and two example policies, committed once.
    fn new() -> Git {
        let git = Git {
            dir: tempfile::tempdir().unwrap(),
        };
        git.run(&["init", "-q", "-b", "main"]);
        git.run(&["config", "user.name", "t"]);
        git.run(&["config", "user.email", "t@example.com"]);
        git.run(&["config", "commit.gpgsign", "false"]);
        git.write("wpc.toml", &example("wpc.toml"));
        git.write(
            "keys/trusted-signers.toml",
            &format!(
                "[[release_signer]]\ndid = \"{}\"\nname = \"test\"\n",
                key().did_str()
            ),
        );
        git.write(DEPLOYER, &example(DEPLOYER));
        let analyst = "policies/data-analyst.toml";
        git.write(analyst, &example(analyst));
        git.commit("initial policies");
        git
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(self.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn write(&self, path: &str, text: &str) {
        let file = self.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    fn commit(&self, message: &str) -> String {
        self.run(&["add", "-A"]);
        self.run(&["commit", "-q", "-m", message]);
        self.run(&["rev-parse", "HEAD"])
    }

    /// Change `DEPLOYER`'s purpose on a branch and merge it as pull request
    /// `pr` (a merge commit, as GitHub makes).
    fn merge_change(&self, pr: u64, purpose: &str) -> String {
        let branch = format!("change-{pr}");
        self.run(&["checkout", "-q", "-b", &branch]);
        self.write(DEPLOYER, &deployer(purpose));
        self.commit(&format!("deployer: {purpose}"));
        self.run(&["checkout", "-q", "main"]);
        self.run(&[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge pull request #{pr} from acme/{branch}"),
            &branch,
        ]);
        self.run(&["rev-parse", "HEAD"])
    }

    fn show(&self, what: &str) -> String {
        self.run(&["show", what])
    }

    fn index(&self) -> Value {
        serde_json::from_str(&self.show("wpc-releases:index.json")).unwrap()
    }

    fn tip(&self) -> String {
        self.run(&["rev-parse", "wpc-releases"])
    }
}

fn deployer(purpose: &str) -> String {
    example(DEPLOYER).replace(
        "purpose = \"Roll out tagged releases to staging and, with a human's approval, to production.\"",
        &format!("purpose = \"{purpose}\""),
    )
}

/// `wpc ARGS` in `dir`, signing with the test key, without GitHub settings.
fn wpc(dir: &Path, args: &[&str]) -> Output {
    support::wpc(dir)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_API_URL")
        .env("WPC_SIGNING_KEY", SEED)
        .args(args)
        .output()
        .unwrap()
}

fn release(git: &Git) -> Output {
    wpc(git.path(), &["release", "--now", NOW])
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn deployer_hashes(index: &Value) -> Vec<(String, Option<String>, Option<u64>)> {
    index["policies"]["deployer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["hash"].as_str().unwrap().to_owned(),
                e["previous"].as_str().map(str::to_owned),
                e["pr"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn three_merges_make_three_linked_releases_and_a_rerun_is_a_no_op() {
    let git = Git::new();
    let first = release(&git);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert!(stdout(&first).contains("2 released, 0 refused"));

    let merges: Vec<String> = (1..=3)
        .map(|pr| git.merge_change(pr, &format!("Deploy, version {pr}.")))
        .collect();
    let out = release(&git);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("3 released, 0 refused"));

    let index = git.index();
    assert_eq!(index["format"], "wpc-release-index/2");
    assert_eq!(index["last_commit"], merges[2].as_str());
    let entries = deployer_hashes(&index);
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0].1, None);
    for i in 1..4 {
        assert_eq!(entries[i].1.as_deref(), Some(entries[i - 1].0.as_str()));
        assert_eq!(entries[i].2, Some(i as u64));
        assert_eq!(
            index["policies"]["deployer"][i]["commit"],
            merges[i - 1].as_str()
        );
    }
    let deployer_entry = &index["policies"]["deployer"][3];
    assert_eq!(deployer_entry["released_at"], NOW);
    assert_eq!(deployer_entry["signer_did"], key().did_str());
    assert_eq!(deployer_entry["approved_by"], json!([]));
    // Each hash's envelope is on the branch, verified by `wpc verify`.
    let envelope = git.show(&format!("wpc-releases:wpc/{}.json", entries[3].0));
    let file = git.path().join("env.json");
    std::fs::write(&file, envelope).unwrap();
    let verified = wpc(git.path(), &["verify", "env.json"]);
    assert_eq!(code(&verified), 0, "{}", stdout(&verified));
    // The layout: the three state files, and five versions signed as
    // native, claw-v1 and claw-v2 envelopes.
    let files = git.run(&["ls-tree", "-r", "--name-only", "wpc-releases"]);
    assert_eq!(files.lines().count(), 3 + 5 * 3, "{files}");
    assert!(files.contains("revocations.json") && files.contains("index.json"));
    assert!(files.contains("checkpoint.json"));

    // `wpc fetch` prints the verified envelope, from the branch or from an
    // export of it; `wpc log` shows the history newest first.
    let fetched = wpc(git.path(), &["fetch", &entries[3].0]);
    assert_eq!(code(&fetched), 0, "{}", stderr(&fetched));
    assert_eq!(
        stdout(&fetched),
        git.show(&format!("wpc-releases:wpc/{}.json", entries[3].0)) + "\n"
    );
    let export = tempfile::tempdir().unwrap();
    git.run(&[
        "worktree",
        "add",
        "-q",
        export.path().join("b").to_str().unwrap(),
        "wpc-releases",
    ]);
    let from = wpc(
        git.path(),
        &[
            "fetch",
            &entries[3].0,
            "--from",
            export.path().join("b").to_str().unwrap(),
            "--trusted",
            "keys/trusted-signers.toml",
        ],
    );
    assert_eq!(code(&from), 0, "{}", stderr(&from));
    assert_eq!(from.stdout, fetched.stdout);
    let unknown = wpc(git.path(), &["fetch", &"A".repeat(43)]);
    assert_eq!(code(&unknown), 1);
    assert!(stderr(&unknown).contains("never released"));
    let log = stdout(&wpc(git.path(), &["log", "deployer"]));
    // Each version's line is followed by its two renderings' lines.
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1 + 4 * 3, "{log}");
    assert!(
        lines[1].contains(&entries[3].0) && lines[1].contains("PR #3"),
        "{log}"
    );
    git.run(&[
        "worktree",
        "remove",
        "--force",
        export.path().join("b").to_str().unwrap(),
    ]);

    let tip = git.tip();
    let again = release(&git);
    assert_eq!(code(&again), 0);
    assert!(stdout(&again).contains("0 released, 0 refused; wpc-releases unchanged"));
    assert_eq!(git.tip(), tip);

    let verify = wpc(git.path(), &["release", "verify"]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
    assert_eq!(stdout(&verify), "wpc-releases: valid\n");
    // The main branch's work tree and index were never touched.
    assert_eq!(git.run(&["status", "--porcelain"]), "?? env.json");
}

#[test]
fn a_revert_points_at_the_existing_envelope() {
    let git = Git::new();
    release(&git);
    git.write(DEPLOYER, &deployer("Changed."));
    git.commit("change");
    git.write(DEPLOYER, &example(DEPLOYER));
    git.commit("Revert \"change\"");
    let tip = git.tip();
    let dry = wpc(git.path(), &["release", "--dry-run", "--now", NOW]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("would release deployer"),
        "{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("(dry run: nothing written)"));
    assert_eq!(git.tip(), tip);
    let out = release(&git);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("(known content: existing envelope)"));
    let entries = deployer_hashes(&git.index());
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].0, entries[0].0);
    assert_eq!(entries[2].1.as_deref(), Some(entries[1].0.as_str()));
    // The same settings render the same Claw payloads: no new envelope.
    let files = git.run(&["ls-tree", "--name-only", "wpc-releases:wpc"]);
    assert_eq!(files.lines().count(), 3 * 3, "{files}");
    let index = git.index();
    let deployer = &index["policies"]["deployer"];
    assert_eq!(deployer[2]["renderings"], deployer[0]["renderings"]);
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

#[test]
fn a_policy_failing_its_checks_is_skipped_reported_and_exits_1() {
    let git = Git::new();
    git.write(
        DEPLOYER,
        &example(DEPLOYER).replace("elevated_exec = \"deny\"", "elevated_exec = \"allow\""),
    );
    git.write(
        "policies/data-analyst.toml",
        &example("policies/data-analyst.toml").replace(
            "wpc_version = \"1\"",
            "wpc_version = \"1\"\nunknown_key = 1",
        ),
    );
    let bad = git.commit("elevated exec; and a schema error");
    let out = release(&git);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let stderr = stderr(&out);
    assert!(
        stderr.contains(&format!("not released: deployer at {}", &bad[..12])),
        "{stderr}"
    );
    assert!(stderr.contains("WPC010"), "{stderr}");
    assert!(stderr.contains("policies/data-analyst.toml"), "{stderr}");
    // The first commit's policies were released; nothing of the bad one.
    assert!(
        stdout(&out).contains("2 released, 2 refused"),
        "{}",
        stdout(&out)
    );
    let index = git.index();
    assert_eq!(deployer_hashes(&index).len(), 1);
    assert_eq!(index["last_commit"], bad.as_str());
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

#[test]
fn a_key_the_repository_does_not_trust_signs_nothing() {
    let git = Git::new();
    let out = support::wpc(git.path())
        .env(
            "WPC_SIGNING_KEY",
            "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg",
        )
        .env_remove("GITHUB_TOKEN")
        .args(["release", "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("is not a [[release_signer]] in keys/trusted-signers.toml"),
        "{}",
        stderr(&out)
    );
    assert!(git.run(&["branch", "--list", "wpc-releases"]).is_empty());
}

#[test]
fn a_revoked_hash_is_refused_until_the_policy_changes() {
    let git = Git::new();
    release(&git);
    let hash = deployer_hashes(&git.index())[0].0.clone();
    let out = wpc(
        git.path(),
        &[
            "revoke",
            &hash,
            "--reason",
            "leaks deploy.prod",
            "--now",
            NOW,
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let revocations: Value =
        serde_json::from_str(&git.show("wpc-releases:revocations.json")).unwrap();
    assert_eq!(revocations[0]["hash"], hash.as_str());
    assert_eq!(revocations[0]["reason"], "leaks deploy.prod");
    // `wpc check` reports the revoked content; `wpc verify` given the
    // release branch rejects its envelope.
    let check = wpc(git.path(), &["check"]);
    assert_eq!(code(&check), 1);
    assert!(stdout(&check).contains("WPC021"), "{}", stdout(&check));
    std::fs::write(
        git.path().join("env.json"),
        git.show(&format!("wpc-releases:wpc/{hash}.json")),
    )
    .unwrap();
    assert_eq!(code(&wpc(git.path(), &["verify", "env.json"])), 0);
    let verify = wpc(
        git.path(),
        &["verify", "env.json", "--release-branch", "wpc-releases"],
    );
    assert_eq!(code(&verify), 1);
    assert!(stdout(&verify).contains("REVOKED"), "{}", stdout(&verify));
    std::fs::remove_file(git.path().join("env.json")).unwrap();
    let fetch = wpc(git.path(), &["fetch", &hash]);
    assert_eq!(code(&fetch), 1);
    assert!(stderr(&fetch).contains("is revoked: leaks deploy.prod"));
    let log = stdout(&wpc(git.path(), &["log", "deployer"]));
    assert!(
        log.contains("REVOKED 2026-11-24T12:00:00Z (leaks deploy.prod)"),
        "{log}"
    );
    // Revoking twice finds the work done; a hash never released is
    // invalid (1); a hash that is not a hash is a usage error (2).
    let twice = wpc(git.path(), &["revoke", &hash, "--reason", "x"]);
    assert_eq!(code(&twice), 0, "{}", stderr(&twice));
    assert!(
        stdout(&twice).contains("nothing to do: "),
        "{}",
        stdout(&twice)
    );
    assert_eq!(
        code(&wpc(
            git.path(),
            &["revoke", &"A".repeat(43), "--reason", "x"]
        )),
        1
    );
    assert_eq!(
        code(&wpc(git.path(), &["revoke", "nope", "--reason", "x"])),
        2
    );

    git.write(DEPLOYER, &deployer("Changed."));
    git.commit("change");
    git.write(DEPLOYER, &example(DEPLOYER));
    git.commit("back to the revoked content");
    let out = release(&git);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("is revoked"), "{}", stderr(&out));
    assert_eq!(deployer_hashes(&git.index()).len(), 2);
    let verify = wpc(git.path(), &["release", "verify"]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
}

/// Commit `change` on top of the release branch through git2, as a hand
/// edit would, and return the commit.
fn tamper(git: &Git, change: impl FnOnce(&git2::Repository, &mut git2::TreeBuilder<'_>)) -> String {
    let repo = git2::Repository::open(git.path()).unwrap();
    let tip = repo
        .find_reference("refs/heads/wpc-releases")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut root = repo.treebuilder(Some(&tip.tree().unwrap())).unwrap();
    change(&repo, &mut root);
    let tree = repo.find_tree(root.write().unwrap()).unwrap();
    let sig = git2::Signature::now("mallory", "m@example.com").unwrap();
    let id = repo
        .commit(
            Some("refs/heads/wpc-releases"),
            &sig,
            &sig,
            "edit",
            &tree,
            &[&tip],
        )
        .unwrap();
    id.to_string()
}

fn edit_wpc(
    repo: &git2::Repository,
    root: &mut git2::TreeBuilder<'_>,
    edit: impl FnOnce(&mut git2::TreeBuilder<'_>, String),
) {
    let wpc_tree = repo
        .find_tree(root.get("wpc").unwrap().unwrap().id())
        .unwrap();
    let first = wpc_tree.iter().next().unwrap().name().unwrap().to_owned();
    let mut builder = repo.treebuilder(Some(&wpc_tree)).unwrap();
    edit(&mut builder, first);
    let id = builder.write().unwrap();
    root.insert("wpc", id, 0o040_000).unwrap();
}

/// `wpc release verify` exits 1 with a line naming `commit`, the reason
/// code `reason` and `what`.
fn assert_caught(git: &Git, commit: &str, reason: &str, what: &str) {
    let out = wpc(git.path(), &["release", "verify"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let stdout = stdout(&out);
    let prefix = format!("INVALID commit {commit}: {reason}: ");
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with(&prefix) && line.contains(what)),
        "{stdout}"
    );
}

#[test]
fn release_verify_names_the_commit_that_rewrote_deleted_or_edited() {
    let rewrite = Git::new();
    release(&rewrite);
    let commit = tamper(&rewrite, |repo, root| {
        edit_wpc(repo, root, |wpc, name| {
            let blob = repo.blob(b"{}").unwrap();
            wpc.insert(&name, blob, 0o100_644).unwrap();
        });
    });
    assert_caught(&rewrite, &commit, "HISTORY_REWRITTEN", "rewrites wpc/");

    let delete = Git::new();
    release(&delete);
    let commit = tamper(&delete, |repo, root| {
        edit_wpc(repo, root, |wpc, name| {
            wpc.remove(&name).unwrap();
        });
    });
    assert_caught(&delete, &commit, "HISTORY_REWRITTEN", "deletes wpc/");

    let index = Git::new();
    release(&index);
    let commit = tamper(&index, |repo, root| {
        let text = index
            .show("wpc-releases:index.json")
            .replace("\"approved_by\": []", "\"approved_by\": [\"mallory\"]");
        root.insert("index.json", repo.blob(text.as_bytes()).unwrap(), 0o100_644)
            .unwrap();
    });
    assert_caught(
        &index,
        &commit,
        "HISTORY_REWRITTEN",
        "rewrites or removes index.json entries of `data-analyst`",
    );
}

#[test]
fn release_verify_rejects_forged_revocations_and_stray_envelopes() {
    let forged = Git::new();
    release(&forged);
    let hash = deployer_hashes(&forged.index())[0].0.clone();
    let revocation = json!([{
        "hash": hash, "reason": "x", "revoked_at": NOW,
        "signer_did": key().did_str(), "signature_b64u": "A".repeat(86),
    }]);
    let commit = tamper(&forged, |repo, root| {
        let blob = repo.blob(revocation.to_string().as_bytes()).unwrap();
        root.insert("revocations.json", blob, 0o100_644).unwrap();
    });
    assert_caught(
        &forged,
        &commit,
        "BAD_REVOCATION",
        &format!("revocation of {hash}: "),
    );

    // A real revocation whose reason is edited afterwards.
    let edited = Git::new();
    release(&edited);
    let hash = deployer_hashes(&edited.index())[0].0.clone();
    let out = wpc(edited.path(), &["revoke", &hash, "--reason", "real"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let commit = tamper(&edited, |repo, root| {
        let text = edited
            .show("wpc-releases:revocations.json")
            .replace("\"real\"", "\"edited\"");
        root.insert(
            "revocations.json",
            repo.blob(text.as_bytes()).unwrap(),
            0o100_644,
        )
        .unwrap();
    });
    assert_caught(
        &edited,
        &commit,
        "HISTORY_REWRITTEN",
        "rewrites or removes revocations",
    );

    let stray = Git::new();
    release(&stray);
    let commit = tamper(&stray, |repo, root| {
        edit_wpc(repo, root, |wpc, _| {
            let blob = repo.blob(b"{}").unwrap();
            wpc.insert("x.json", blob, 0o100_644).unwrap();
        });
    });
    assert_caught(
        &stray,
        &commit,
        "BAD_ENVELOPE",
        "adds wpc/x.json, which no new index entry releases",
    );
}

#[test]
fn signers_are_trusted_as_of_the_source_commit_and_a_broken_index_is_caught() {
    let git = Git::new();
    release(&git);
    // Rotating the release signer later does not invalidate past releases.
    git.write(
        "keys/trusted-signers.toml",
        "[[release_signer]]\ndid = \"did:key:z6Mkjp44ExP1yRoq8FZTWy4deGGHuhwhrpYpYM1qMYmZkccn\"\nname = \"new\"\n",
    );
    git.commit("rotate the release signer");
    let verify = wpc(git.path(), &["release", "verify"]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));

    let commit = tamper(&git, |repo, root| {
        root.insert("index.json", repo.blob(b"not json").unwrap(), 0o100_644)
            .unwrap();
    });
    assert_caught(
        &git,
        &commit,
        "UNREADABLE",
        "release branch `wpc-releases`: index.json at",
    );
}

#[test]
fn a_run_stopped_before_the_reference_update_leaves_the_branch_valid() {
    let git = Git::new();
    release(&git);
    let tip = git.tip();
    git.write(DEPLOYER, &deployer("Changed."));
    git.commit("change");
    let repo = Repo::discover(git.path()).unwrap();
    let key = key();
    let source = release::Source {
        branch: "wpc-releases".to_owned(),
        root: String::new(),
        main: "main".to_owned(),
    };
    let request = release::Request {
        source: &source,
        key: &key,
        now: jiff::Timestamp::now(),
        pull_requests: None,
        dry_run: false,
    };
    // Objects written, then the process "dies" before `publish`.
    let plan = release::prepare(&repo, &request).unwrap();
    assert!(plan.commit.is_some());
    assert_eq!(git.tip(), tip);
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);

    // Two runs racing: the first to publish wins, the other changes nothing.
    let a = release::prepare(&repo, &request).unwrap();
    let b = release::prepare(&repo, &request).unwrap();
    release::publish(&repo, &a).unwrap();
    let lost = release::publish(&repo, &b).unwrap_err();
    assert!(
        lost.to_string()
            .contains("moved while this run was writing"),
        "{lost}"
    );
    assert_eq!(git.tip(), a.commit.unwrap().to_string());
    assert_eq!(deployer_hashes(&git.index()).len(), 2);
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
    assert!(stdout(&release(&git)).contains("0 released"));
}

#[test]
fn a_squash_merge_records_its_pull_request_and_approvers() {
    let git = Git::new();
    release(&git);
    git.write(DEPLOYER, &deployer("Squashed."));
    let head = git.commit("Tighten deployer (#12)");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let user = |login: &str| json!({"login": login, "id": 1, "type": "User"});
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path("/repos/acme/policies/pulls/12"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "number": 12, "user": user("author"),
                "base": {"ref": "main", "sha": "b".repeat(40)},
                "head": {"ref": "tighten", "sha": "c".repeat(40)},
            })))
            .mount(&server),
    );
    let review = |id: u64, login: &str, state: &str| json!({"id": id, "user": user(login), "state": state, "commit_id": "c".repeat(40)});
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path("/repos/acme/policies/pulls/12/reviews"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                review(1, "alice", "APPROVED"),
                review(2, "bob", "APPROVED"),
                review(3, "author", "APPROVED"),
                review(4, "carol", "COMMENTED"),
            ])))
            .mount(&server),
    );
    let out = support::wpc(git.path())
        .env("WPC_SIGNING_KEY", SEED)
        .env("GITHUB_TOKEN", "ghs_test")
        .env("GITHUB_REPOSITORY", "acme/policies")
        .env("GITHUB_API_URL", server.uri())
        .args(["release", "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("PR #12 approved by alice, bob"),
        "{}",
        stdout(&out)
    );
    let entry = &git.index()["policies"]["deployer"][1];
    assert_eq!(entry["pr"], 12);
    assert_eq!(entry["approved_by"], json!(["alice", "bob"]));
    assert_eq!(entry["commit"], head.as_str());
}

// The attacks of a release-branch writer who cannot write main, each built
// in a real repository and each rejected with its own reason code.

/// Mallory's key: never a release signer on main.
fn mallory() -> SigningKey {
    SigningKey::from_seed(&[9; 32])
}

fn signers_file(keys: &[&SigningKey]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "[[release_signer]]\ndid = \"{}\"\nname = \"k\"\n",
                k.did_str()
            )
        })
        .collect()
}

/// A signed envelope of the policy `text`: its hash and its bytes.
fn envelope_of(text: &str, key: &SigningKey) -> (String, Vec<u8>) {
    let doc = wpc::policy::Document::parse(wpc::report::SourceFile::new(DEPLOYER, text.to_owned()))
        .unwrap();
    let payload = wpc::policy::Policy::from_document(doc).unwrap().doc.value;
    let hash = wpc::policy::hash::policy_hash_b64u(&payload).unwrap();
    let envelope = wpc::crypto::envelope::SignedEnvelope::sign::<
        wpc::crypto::envelope::WorkPolicyContract,
    >(payload, key, jiff::Timestamp::now())
    .unwrap();
    (hash, serde_json::to_vec_pretty(&envelope).unwrap())
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap();
    bytes.push(b'\n');
    bytes
}

/// Write a state on top of the release branch as someone holding `key`
/// would: `change` edits index.json and revocations.json and returns the
/// envelopes to add (`wpc/<hash>.json`); a checkpoint signed by `key`,
/// chained to the one before, covers the result.
fn forge(
    git: &Git,
    key: &SigningKey,
    change: impl FnOnce(&mut Value, &mut Value) -> Vec<(String, Vec<u8>)>,
) -> String {
    let mut index = git.index();
    let mut revocations: Value =
        serde_json::from_str(&git.show("wpc-releases:revocations.json")).unwrap();
    let before: release::Checkpoint =
        serde_json::from_str(&git.show("wpc-releases:checkpoint.json")).unwrap();
    let envelopes = change(&mut index, &mut revocations);
    let (index, revocations) = (pretty(&index), pretty(&revocations));
    let main_commit = serde_json::from_slice::<Value>(&index).unwrap()["last_commit"]
        .as_str()
        .unwrap()
        .to_owned();
    let checkpoint = release::Checkpoint::sign(
        release::Statement {
            version: before.version + 1,
            index: &index,
            revocations: &revocations,
            previous: Some(before.hash().unwrap()),
            main_commit,
            issued_at: NOW.to_owned(),
        },
        key,
    )
    .unwrap();
    tamper(git, |repo, root| {
        for (name, bytes) in [
            ("index.json", index),
            ("revocations.json", revocations),
            (
                "checkpoint.json",
                pretty(&serde_json::to_value(&checkpoint).unwrap()),
            ),
        ] {
            root.insert(name, repo.blob(&bytes).unwrap(), 0o100_644)
                .unwrap();
        }
        edit_wpc(repo, root, |wpc, _| {
            for (hash, bytes) in envelopes {
                wpc.insert(
                    format!("{hash}.json"),
                    repo.blob(&bytes).unwrap(),
                    0o100_644,
                )
                .unwrap();
            }
        });
    })
}

/// An index entry releasing `hash` of the deployer from `commit`.
fn push_deployer_entry(index: &mut Value, hash: &str, commit: &str, signer: &SigningKey) {
    let entries = index["policies"]["deployer"].as_array_mut().unwrap();
    let previous = entries.last().map(|e| e["hash"].clone());
    entries.push(json!({
        "hash": hash, "previous": previous, "commit": commit, "path": DEPLOYER,
        "released_at": NOW, "signer_did": signer.did_str(), "pr": null, "approved_by": [],
    }));
}

/// A release of the deployer as `text`, signed by `signer`, naming main
/// commit `commit` (and moving `last_commit` when given), forged on the
/// branch with a checkpoint by `signer`: `release verify` and `fetch` of
/// its hash both reject it with `reason`.
fn assert_forged_release_rejected(
    git: &Git,
    signer: &SigningKey,
    text: &str,
    (commit, last_commit): (&str, Option<&str>),
    reason: &str,
) {
    let (hash, envelope) = envelope_of(text, signer);
    forge(git, signer, |index, _| {
        push_deployer_entry(index, &hash, commit, signer);
        if let Some(last) = last_commit {
            index["last_commit"] = json!(last);
        }
        vec![(hash.clone(), envelope)]
    });
    assert_rejected(git, &["release", "verify"], reason);
    assert_rejected(git, &["fetch", &hash], reason);
}

/// `wpc ARGS` fails with exit 1 and says `reason`.
fn assert_rejected(git: &Git, args: &[&str], reason: &str) {
    let out = wpc(git.path(), args);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(code(&out), 1, "{args:?}: {said}");
    assert!(said.contains(reason), "{args:?}: {said}");
}

#[test]
fn attack_a_release_from_an_unmerged_branch_is_not_on_main() {
    let git = Git::new();
    release(&git);
    // Mallory's branch trusts her key, then changes the deployer; she
    // releases it with wpc's own code, taking her branch for main.
    git.run(&["checkout", "-q", "-b", "evil"]);
    git.write("keys/trusted-signers.toml", &signers_file(&[&mallory()]));
    git.commit("trust mallory");
    git.write(DEPLOYER, &deployer("Mallory's."));
    git.commit("evil");
    git.run(&["checkout", "-q", "main"]);
    let repo = Repo::discover(git.path()).unwrap();
    let source = release::Source {
        branch: "wpc-releases".to_owned(),
        root: String::new(),
        main: "evil".to_owned(),
    };
    let key = mallory();
    let request = release::Request {
        source: &source,
        key: &key,
        now: jiff::Timestamp::now(),
        pull_requests: None,
        dry_run: false,
    };
    let plan = release::prepare(&repo, &request).unwrap();
    release::publish(&repo, &plan).unwrap();
    let hash = plan.released[0].hash.clone();
    assert_rejected(&git, &["release", "verify"], "NOT_ON_MAIN");
    assert_rejected(&git, &["fetch", &hash], "NOT_ON_MAIN");
}

#[test]
fn attack_a_removed_key_citing_an_old_commit_is_a_content_mismatch() {
    let git = Git::new();
    release(&git);
    let root = git.run(&["rev-list", "--max-parents=0", "main"]);
    let new_key = SigningKey::from_seed(&[5; 32]);
    git.write("keys/trusted-signers.toml", &signers_file(&[&new_key]));
    git.commit("rotate the release key");
    // The removed key signs content that was never on main and cites the
    // commit where it was still trusted.
    assert_forged_release_rejected(
        &git,
        &key(),
        &deployer("Never on main."),
        (&root, None),
        "CONTENT_MISMATCH",
    );
}

#[test]
fn attack_a_revocation_signed_by_an_untrusted_key_is_rejected() {
    let git = Git::new();
    release(&git);
    let hash = deployer_hashes(&git.index())[0].0.clone();
    let did = mallory().did_str().to_owned();
    let message = release::revocation_message(&hash, "x", NOW, &did).unwrap();
    let signature =
        ed25519_dalek::Signer::sign(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]), &message);
    let signature = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        signature.to_bytes(),
    );
    forge(&git, &mallory(), |_, revocations| {
        revocations.as_array_mut().unwrap().push(json!({
            "hash": hash, "reason": "x", "revoked_at": NOW,
            "signer_did": did, "signature_b64u": signature,
        }));
        Vec::new()
    });
    assert_rejected(&git, &["release", "verify"], "UNTRUSTED_REVOKER");
    assert_rejected(&git, &["fetch", &hash], "UNTRUSTED_CHECKPOINT");
}

#[test]
fn attack_moving_last_commit_is_an_unsigned_state() {
    for forward in [true, false] {
        let git = Git::new();
        let first = git.run(&["rev-parse", "HEAD"]);
        if !forward {
            git.write(DEPLOYER, &deployer("One."));
            git.commit("one");
        }
        release(&git);
        git.write(DEPLOYER, &deployer("Two."));
        let head = git.commit("two");
        let moved = if forward { head } else { first };
        tamper(&git, |repo, root| {
            let mut index = git.index();
            index["last_commit"] = json!(moved);
            root.insert("index.json", repo.blob(&pretty(&index)).unwrap(), 0o100_644)
                .unwrap();
        });
        let tip = git.tip();
        assert_rejected(&git, &["release", "verify"], "UNSIGNED_STATE");
        // The next release builds on nothing it cannot verify.
        assert_rejected(&git, &["release", "--now", NOW], "UNSIGNED_STATE");
        assert_eq!(git.tip(), tip);
    }
}

#[test]
fn attack_rolling_the_branch_back_is_detected() {
    let git = Git::new();
    release(&git);
    let first = git.tip();
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
    let hash = deployer_hashes(&git.index())[0].0.clone();
    let out = wpc(git.path(), &["revoke", &hash, "--reason", "leaks"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let revoked = git.tip();
    // The branch is reset to before the revocation.
    git.run(&["update-ref", "refs/heads/wpc-releases", &first]);
    for args in [
        vec!["release", "verify"],
        vec!["fetch", &hash],
        vec!["log"],
        vec!["release", "--now", NOW],
    ] {
        assert_rejected(&git, &args, "ROLLBACK_DETECTED");
    }
    // A verifier with no memory sees a valid, older branch; a pin catches it.
    let memory = git.path().join(".git").join(release::MEMORY_PATH);
    let remembered = std::fs::read(&memory).unwrap();
    std::fs::remove_file(&memory).unwrap();
    assert_rejected(
        &git,
        &["release", "verify", "--min-checkpoint", "2"],
        "ROLLBACK_DETECTED",
    );
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
    // A fork: another checkpoint 2, signed by the trusted key, is not the
    // checkpoint 2 this repository saw.
    git.write(DEPLOYER, &deployer("Forked."));
    git.commit("fork");
    assert_eq!(code(&release(&git)), 0);
    assert_ne!(git.tip(), revoked);
    std::fs::write(&memory, remembered).unwrap();
    assert_rejected(&git, &["release", "verify"], "ROLLBACK_DETECTED");
    // A garbled memory is an error, not a blank.
    std::fs::write(&memory, "{").unwrap();
    let out = wpc(git.path(), &["release", "verify"]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("verifier memory"), "{}", stderr(&out));
}

#[test]
fn attack_a_signer_added_in_a_commit_cannot_release_that_commit() {
    let git = Git::new();
    release(&git);
    let new_key = SigningKey::from_seed(&[5; 32]);
    git.write(
        "keys/trusted-signers.toml",
        &signers_file(&[&key(), &new_key]),
    );
    git.write(DEPLOYER, &deployer("Changed with the new signer."));
    let commit = git.commit("add a signer and change the deployer");
    let tip = git.tip();
    let out = support::wpc(git.path())
        .env(
            "WPC_SIGNING_KEY",
            "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU",
        )
        .env_remove("GITHUB_TOKEN")
        .args(["release", "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("first parent"), "{}", stderr(&out));
    assert_eq!(git.tip(), tip);
    // Written by hand with the new key, the release does not verify.
    let text = std::fs::read_to_string(git.path().join(DEPLOYER)).unwrap();
    assert_forged_release_rejected(
        &git,
        &new_key,
        &text,
        (&commit, Some(&commit)),
        "UNTRUSTED_SIGNER",
    );
}

#[test]
fn release_always_releases_main_whatever_is_checked_out() {
    let git = Git::new();
    release(&git);
    git.run(&["checkout", "-q", "-b", "feature"]);
    git.write(DEPLOYER, &deployer("Unmerged."));
    git.commit("unmerged change");
    let out = release(&git);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("0 released"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("released from refs/heads/main"),
        "{}",
        stderr(&out)
    );
    assert_eq!(deployer_hashes(&git.index()).len(), 1);
    // Squash-merged, it is released from main, and nothing asks for --since.
    git.run(&["checkout", "-q", "main"]);
    git.run(&["merge", "-q", "--squash", "feature"]);
    git.commit("Unmerged change (#4)");
    let out = release(&git);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("1 released"), "{}", stdout(&out));
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

#[test]
fn an_oversized_file_in_history_is_refused_once_and_blocks_nothing() {
    let git = Git::new();
    release(&git);
    let huge = format!(
        "{}\n# {}\n",
        example(DEPLOYER).replace("policy_name = \"deployer\"", "policy_name = \"huge\""),
        "x".repeat(1_100_000)
    );
    git.write("policies/huge.toml", &huge);
    git.commit("a huge policy");
    std::fs::remove_file(git.path().join("policies/huge.toml")).unwrap();
    git.write(DEPLOYER, &deployer("After the huge one."));
    git.commit("remove it, change the deployer");
    let out = release(&git);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("policies/huge.toml"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("1 released, 1 refused"),
        "{}",
        stdout(&out)
    );
    let again = release(&git);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

#[test]
fn eight_concurrent_releases_lose_nothing_and_duplicate_nothing() {
    let git = Git::new();
    release(&git);
    for pr in 1..=3 {
        git.merge_change(pr, &format!("Concurrent {pr}."));
    }
    let runs: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_wpc"))
                .current_dir(git.path())
                .env("WPC_SIGNING_KEY", SEED)
                .env_remove("GITHUB_TOKEN")
                .args(["release", "--now", NOW])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        assert!(!stderr(&out).contains("git:"), "{}", stderr(&out));
    }
    assert_eq!(deployer_hashes(&git.index()).len(), 4);
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

/// Turn the release branch into what the format before checkpoints wrote:
/// `wpc-release-index/1`, no `path` in entries, no checkpoint.
fn make_legacy(git: &Git) {
    let mut index = git.index();
    index["format"] = json!("wpc-release-index/1");
    for entries in index["policies"].as_object_mut().unwrap().values_mut() {
        for entry in entries.as_array_mut().unwrap() {
            entry.as_object_mut().unwrap().remove("path");
        }
    }
    tamper(git, |repo, root| {
        root.insert("index.json", repo.blob(&pretty(&index)).unwrap(), 0o100_644)
            .unwrap();
        root.remove("checkpoint.json").unwrap();
    });
}

#[test]
fn a_legacy_branch_is_explained_and_migrated_after_re_verification() {
    let git = Git::new();
    release(&git);
    git.write(DEPLOYER, &deployer("Second."));
    git.commit("second");
    release(&git);
    let hash = deployer_hashes(&git.index())[1].0.clone();
    make_legacy(&git);
    let memory = git.path().join(".git").join(release::MEMORY_PATH);
    std::fs::remove_file(&memory).unwrap();
    assert_rejected(&git, &["fetch", &hash], "LEGACY_FORMAT");
    assert_rejected(&git, &["release", "--now", NOW], "wpc release migrate");
    let out = wpc(git.path(), &["release", "migrate", "--now", NOW]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("migrated; checkpoint 1"),
        "{}",
        stdout(&out)
    );
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
    assert_eq!(code(&wpc(git.path(), &["fetch", &hash])), 0);
    assert_eq!(git.index()["policies"]["deployer"][1]["path"], DEPLOYER);
    git.write(DEPLOYER, &deployer("Third."));
    git.commit("third");
    let out = release(&git);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(deployer_hashes(&git.index()).len(), 3);

    // A legacy branch holding a release that never was on main is not
    // migrated, and nothing is written.
    let forged = Git::new();
    release(&forged);
    make_legacy(&forged);
    let (bad, envelope) = envelope_of(&deployer("Never on main."), &key());
    tamper(&forged, |repo, root| {
        let mut index = forged.index();
        push_deployer_entry(&mut index, &bad, &"0".repeat(40), &key());
        root.insert("index.json", repo.blob(&pretty(&index)).unwrap(), 0o100_644)
            .unwrap();
        edit_wpc(repo, root, |wpc, _| {
            wpc.insert(
                format!("{bad}.json"),
                repo.blob(&envelope).unwrap(),
                0o100_644,
            )
            .unwrap();
        });
    });
    let tip = forged.tip();
    let out = wpc(forged.path(), &["release", "migrate", "--now", NOW]);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("NOT_ON_MAIN"), "{}", stdout(&out));
    assert_eq!(forged.tip(), tip);
}

// Claw renderings: each released version is also signed as its claw-v1 and
// claw-v2 payloads (the example wpc.toml enables both), stored by their own
// hashes and verified against main like the native envelope.

/// The issuer the example wpc.toml names.
const ISSUER: &str = "did:web:acme.example";

/// The policy `text` rendered as Claw `version` with the example settings.
fn rendering_of(text: &str, version: wpc::claw::ClawVersion) -> Value {
    let doc = wpc::policy::Document::parse(wpc::report::SourceFile::new(DEPLOYER, text.to_owned()))
        .unwrap();
    let policy = wpc::policy::Policy::from_document(doc).unwrap();
    let settings = wpc::claw::ExportSettings {
        versions: wpc::claw::ClawVersion::ALL.to_vec(),
        issuer_did: Some(ISSUER.to_owned()),
    };
    wpc::claw::render(&policy, version, &settings)
        .unwrap()
        .payload
}

/// `payload` signed by `key` as a WPC envelope: its hash and its bytes.
fn signed(payload: Value, key: &SigningKey) -> (String, Vec<u8>) {
    let envelope = wpc::crypto::envelope::SignedEnvelope::sign::<
        wpc::crypto::envelope::WorkPolicyContract,
    >(payload, key, jiff::Timestamp::now())
    .unwrap();
    (
        envelope.payload_hash_b64u().to_owned(),
        serde_json::to_vec_pretty(&envelope).unwrap(),
    )
}

/// base64url SHA-256 of `bytes`, computed here rather than by wpc.
fn sha256_b64u(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes))
}

/// `wpc compile --target TARGET` of the deployer in the work tree.
fn compiled(git: &Git, target: &str) -> Vec<u8> {
    let out = wpc(git.path(), &["compile", "--target", target, DEPLOYER]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    out.stdout
}

/// The deployer's latest native hash and its `claw-v1`, `claw-v2` hashes.
fn latest_deployer(git: &Git) -> (String, String, String) {
    let index = git.index();
    let entry = index["policies"]["deployer"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let hash = |v: &Value| v.as_str().unwrap().to_owned();
    (
        hash(&entry["hash"]),
        hash(&entry["renderings"]["claw-v1"]),
        hash(&entry["renderings"]["claw-v2"]),
    )
}

#[test]
fn claw_renderings_are_signed_beside_the_native_envelope_and_fetched_by_their_hash() {
    let git = Git::new();
    let out = release(&git);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (native, v1, v2) = latest_deployer(&git);
    let fetched_native = wpc(git.path(), &["fetch", &native]);
    assert_eq!(code(&fetched_native), 0, "{}", stderr(&fetched_native));
    for (target, hash, version) in [("claw-v1", &v1, "1"), ("claw-v2", &v2, "2")] {
        // The index names the hash `wpc hash --target` computes, which is
        // SHA-256 of the bytes `wpc compile --target` prints.
        let printed = compiled(&git, target);
        let printed = printed.trim_ascii_end();
        assert_eq!(&sha256_b64u(printed), hash, "{target}");
        let hashed = wpc(git.path(), &["hash", "--target", target, DEPLOYER]);
        assert_eq!(stdout(&hashed).trim(), hash.as_str(), "{target}");
        // `wpc fetch` prints the envelope stored under that hash: the Claw
        // payload, bound to the native version, signed by the release key.
        let out = wpc(git.path(), &["fetch", hash]);
        assert_eq!(code(&out), 0, "{target}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            git.show(&format!("wpc-releases:wpc/{hash}.json")) + "\n"
        );
        let envelope: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(envelope["payload_hash_b64u"], hash.as_str());
        assert_eq!(envelope["signer_did"], key().did_str());
        assert_eq!(envelope["payload"]["policy_version"], version);
        // `wpc verify` checks it as what it is: a Claw payload of that
        // version, against the protocol's schema, by a trusted signer.
        let saved = git.path().join(format!("{target}.json"));
        std::fs::write(&saved, &out.stdout).unwrap();
        let verified = wpc(
            git.path(),
            &[
                "verify",
                "--trusted",
                "keys/trusted-signers.toml",
                "--format",
                "json",
                saved.to_str().unwrap(),
            ],
        );
        assert_eq!(code(&verified), 0, "{target}: {}", stdout(&verified));
        assert!(
            stdout(&verified).contains(hash.as_str()),
            "{}",
            stdout(&verified)
        );
        assert_eq!(
            envelope["payload"]["metadata"]["wpc"]["policy_hash_b64u"],
            native.as_str()
        );
        assert_eq!(
            serde_json::from_slice::<Value>(printed).unwrap(),
            envelope["payload"]
        );
        // The signature, checked here as a gateway would: Ed25519 by the
        // signer's did:key over `payload_hash_b64u`.
        use ed25519_dalek::Verifier as _;
        let did =
            wpc::crypto::did::DidKey::parse(envelope["signer_did"].as_str().unwrap()).unwrap();
        let signature = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            envelope["signature_b64u"].as_str().unwrap(),
        )
        .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        did.verifying_key()
            .verify(hash.as_bytes(), &signature)
            .unwrap();
    }
    // From a checkout of the branch, for a runtime without Git.
    let export = tempfile::tempdir().unwrap();
    let checkout = export.path().join("b");
    git.run(&[
        "worktree",
        "add",
        "-q",
        checkout.to_str().unwrap(),
        "wpc-releases",
    ]);
    let from = wpc(
        git.path(),
        &[
            "fetch",
            &v2,
            "--from",
            checkout.to_str().unwrap(),
            "--trusted",
            "keys/trusted-signers.toml",
        ],
    );
    assert_eq!(code(&from), 0, "{}", stderr(&from));
    assert_eq!(from.stdout, wpc(git.path(), &["fetch", &v2]).stdout);
    let log = wpc(git.path(), &["log", "deployer"]);
    let text = stdout(&log);
    assert!(text.contains(&format!("    claw-v1 {v1}\n")), "{text}");
    assert!(text.contains(&format!("    claw-v2 {v2}\n")), "{text}");
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
    // A rerun renders the same payloads and writes nothing.
    let tip = git.tip();
    assert_eq!(code(&release(&git)), 0);
    assert_eq!(git.tip(), tip);
}

#[test]
fn a_branch_without_renderings_is_valid_and_keeps_verifying() {
    let git = Git::new();
    git.write(
        "wpc.toml",
        &example("wpc.toml").replace("claw = [\"v1\", \"v2\"]", "claw = []"),
    );
    git.run(&["commit", "-q", "-a", "--amend", "--no-edit"]);
    assert_eq!(code(&release(&git)), 0);
    let entry = &git.index()["policies"]["deployer"][0];
    assert!(entry.get("renderings").is_none(), "{entry}");
    // Enabling the export later renders each policy at its next change.
    git.write("wpc.toml", &example("wpc.toml"));
    git.write(DEPLOYER, &deployer("Exported."));
    git.commit("export to Claw");
    assert_eq!(code(&release(&git)), 0);
    let (_, v1, _) = latest_deployer(&git);
    assert_eq!(code(&wpc(git.path(), &["fetch", &v1])), 0);
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

#[test]
fn revoking_any_hash_of_a_version_revokes_every_rendering() {
    let git = Git::new();
    release(&git);
    let (native, v1, v2) = latest_deployer(&git);
    let out = wpc(
        git.path(),
        &["revoke", &v2, "--reason", "too broad", "--now", NOW],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "revoked {v2} (version {native}, with all its renderings)"
        )),
        "{}",
        stdout(&out)
    );
    let revocations: Value =
        serde_json::from_str(&git.show("wpc-releases:revocations.json")).unwrap();
    assert_eq!(revocations[0]["hash"], native.as_str());
    for hash in [&native, &v1, &v2] {
        assert_rejected(&git, &["fetch", hash], "is revoked: too broad");
        let again = wpc(git.path(), &["revoke", hash, "--reason", "again"]);
        assert_eq!(code(&again), 0, "{}", stderr(&again));
        assert!(
            stdout(&again).starts_with("nothing to do:"),
            "{}",
            stdout(&again)
        );
    }
    let log = stdout(&wpc(git.path(), &["log", "deployer"]));
    assert!(
        log.contains(&format!("{native}  commit")) && log.contains("REVOKED"),
        "{log}"
    );
    assert_eq!(code(&wpc(git.path(), &["release", "verify"])), 0);
}

/// A bundle of the deployer's staging rollout (or `tools`), its receipts
/// bound to `policy_hash`.
fn deployer_bundle(git: &Git, file: &str, policy_hash: &str, tools: &[&str]) {
    let shape = wpc::bundle::kit::Shape {
        seq: 7001,
        tools: tools.iter().map(|t| (*t).to_owned()).collect(),
        approvals: 0,
        provider: "anthropic".to_owned(),
        model: "claude-sonnet-4-5".to_owned(),
        policy_hash: Some(policy_hash.to_owned()),
        scope_hash: Some(sha256_b64u(b"a scope")),
        ..wpc::bundle::kit::Shape::default()
    };
    let bytes = wpc::bundle::kit::bundle_bytes(&shape).unwrap();
    std::fs::write(git.path().join(file), bytes).unwrap();
}

/// A scoped token (EdDSA JWT) by the key of `seed`, pinned to
/// `policy_hash`, with its scope hash.
fn token(seed: [u8; 32], policy_hash: &str) -> String {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let issuer = ed25519_dalek::SigningKey::from_bytes(&seed);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let sign = |claims: &Value| {
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"EdDSA","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        );
        let signature = issuer.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", b64(&signature))
    };
    let agent = wpc::bundle::kit::agent_key().did_str().to_owned();
    let mut claims = json!({
        "token_version": "1", "sub": agent, "aud": ["clawproxy.com"],
        "scope": ["proxy:call:anthropic", "tool:deploy.staging"],
        "iat": 1_770_854_400, "exp": 1_770_856_200, "jti": "job-1",
        "agent_did": agent, "policy_hash_b64u": policy_hash,
    });
    let issuers = wpc::cst::Issuers::did(&SigningKey::from_seed(&seed).did());
    let scope = wpc::cst::check(&sign(&claims), &issuers, 1_770_855_000, None)
        .scope_hash_b64u
        .unwrap();
    claims["token_scope_hash_b64u"] = json!(scope);
    sign(&claims)
}

#[test]
fn bundles_and_tokens_pinning_a_claw_hash_are_checked_under_its_released_version() {
    let git = Git::new();
    release(&git);
    let (native, v1, v2) = latest_deployer(&git);
    let verify = |args: &[&str]| {
        let mut all = vec!["bundle", "verify"];
        all.extend_from_slice(args);
        wpc(git.path(), &all)
    };
    // Receipts bound to the v1 hash: verified under the version it renders,
    // whether the hash comes from the bundle or from --policy.
    let staging = ["repo.diff", "deploy.staging", "deploy.status"];
    deployer_bundle(&git, "ok.json", &v1, &staging);
    for args in [vec!["ok.json"], vec!["ok.json", "--policy", &v1]] {
        let out = verify(&args);
        assert_eq!(code(&out), 0, "{args:?}: {}{}", stdout(&out), stderr(&out));
    }
    // The native policy decides: production needs an approval.
    deployer_bundle(&git, "prod.json", &v2, &["deploy.prod"]);
    let out = verify(&["prod.json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("INVALID prod.json"),
        "{}",
        stdout(&out)
    );
    // A bundle bound to one rendering is not a bundle of another.
    let out = verify(&["ok.json", "--policy", &v2]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("POLICY_HASH_MISMATCH"),
        "{}",
        stdout(&out)
    );

    let issuer_did = SigningKey::from_seed(&[4; 32]).did_str().to_owned();
    std::fs::write(git.path().join("v1.jwt"), token([4; 32], &v1)).unwrap();
    std::fs::write(git.path().join("native.jwt"), token([4; 32], &native)).unwrap();
    let cst = |file: &str, policy: &str| {
        wpc(
            git.path(),
            &[
                "cst",
                "check",
                file,
                "--policy",
                policy,
                "--issuer",
                &issuer_did,
                "--now",
                "2026-02-12T00:10:00Z",
            ],
        )
    };
    let out = cst("v1.jwt", &v1);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let out = cst("native.jwt", &v1);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("CST_POLICY_MISMATCH"),
        "{}",
        stdout(&out)
    );

    // Revoking the native hash revokes the renderings the job pinned.
    let out = wpc(
        git.path(),
        &["revoke", &native, "--reason", "bad", "--now", NOW],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = verify(&["ok.json"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("POLICY_REVOKED"), "{}", stdout(&out));
    let out = cst("v1.jwt", &v1);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stderr(&out).contains("is revoked"), "{}", stderr(&out));
}

/// Change the deployer on main and return the new text and commit.
fn change_deployer(git: &Git, purpose: &str) -> (String, String) {
    let text = deployer(purpose);
    git.write(DEPLOYER, &text);
    (text.clone(), git.commit(purpose))
}

/// An index entry for the deployer at `commit`, with `renderings`.
fn push_rendered_entry(index: &mut Value, hash: &str, commit: &str, renderings: Value) {
    push_deployer_entry(index, hash, commit, &key());
    let entries = index["policies"]["deployer"].as_array_mut().unwrap();
    entries.last_mut().unwrap()["renderings"] = renderings;
    index["last_commit"] = json!(commit);
}

/// Someone holding the release key publishes a new version of the deployer,
/// with its native envelope right but its `version` rendering changed by
/// `edit` and signed by `signer` (and left off the branch unless `stored`).
/// The rendering's hash.
fn forge_rendering(
    git: &Git,
    version: wpc::claw::ClawVersion,
    edit: impl FnOnce(&mut Value),
    signer: &SigningKey,
    stored: bool,
) -> String {
    let (text, commit) = change_deployer(git, "Second.");
    let (native, envelope) = envelope_of(&text, &key());
    let mut payload = rendering_of(&text, version);
    edit(&mut payload);
    let (rendering, rendering_envelope) = signed(payload, signer);
    forge(git, &key(), |index, _| {
        let renderings = json!({ version.rendering(): rendering });
        push_rendered_entry(index, &native, &commit, renderings);
        let mut files = vec![(native.clone(), envelope)];
        if stored {
            files.push((rendering.clone(), rendering_envelope));
        }
        files
    });
    rendering
}

#[test]
fn attack_a_substituted_claw_rendering_is_a_content_mismatch() {
    use wpc::claw::ClawVersion::{V1, V2};
    // A v2 rendering that allows every action; a v1 rendering under an
    // issuer main never named.
    let wider = |payload: &mut Value| {
        payload["statements"] = json!([
            {"sid": "AllowAll", "effect": "Allow", "actions": ["*"], "resources": ["*"]}
        ]);
    };
    let issuer = |payload: &mut Value| payload["issuer_did"] = json!("did:web:mallory.example");
    for (version, edit) in [(V2, &wider as &dyn Fn(&mut Value)), (V1, &issuer)] {
        let git = Git::new();
        release(&git);
        let forged = forge_rendering(&git, version, edit, &key(), true);
        assert_rejected(&git, &["release", "verify"], "CONTENT_MISMATCH");
        assert_rejected(&git, &["fetch", &forged], "CONTENT_MISMATCH");
        let issuer = key().did_str().to_owned();
        let args = [
            "cst", "check", "t", "--policy", &forged, "--issuer", &issuer,
        ];
        let out = wpc(git.path(), &args);
        assert_ne!(code(&out), 0);
        assert!(
            stderr(&out).contains("CONTENT_MISMATCH"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn attack_a_rendering_main_did_not_enable_is_a_content_mismatch() {
    let git = Git::new();
    release(&git);
    // The commit keeps only the v2 export; a v1 rendering of it is made up.
    git.write(
        "wpc.toml",
        &example("wpc.toml").replace("claw = [\"v1\", \"v2\"]", "claw = [\"v2\"]"),
    );
    let v1 = forge_rendering(&git, wpc::claw::ClawVersion::V1, |_| {}, &key(), true);
    assert_rejected(
        &git,
        &["release", "verify"],
        "does not enable the claw-v1 export",
    );
    assert_rejected(&git, &["fetch", &v1], "CONTENT_MISMATCH");
}

#[test]
fn attack_an_untrusted_or_missing_rendering_envelope_is_rejected() {
    // The exact rendering, but signed by a key main never trusted; or named
    // by the index with no envelope on the branch.
    for (signer, stored, reason) in [
        (mallory(), true, "UNTRUSTED_SIGNER"),
        (key(), false, "BAD_ENVELOPE"),
    ] {
        let git = Git::new();
        release(&git);
        let v1 = forge_rendering(&git, wpc::claw::ClawVersion::V1, |_| {}, &signer, stored);
        assert_rejected(&git, &["release", "verify"], reason);
        assert_rejected(&git, &["fetch", &v1], reason);
    }
}

#[test]
fn attack_an_unknown_rendering_is_unreadable() {
    // A rendering wpc does not know is not a branch wpc reads.
    let other = Git::new();
    release(&other);
    let (text, commit) = change_deployer(&other, "Second.");
    let (native, envelope) = envelope_of(&text, &key());
    forge(&other, &key(), |index, _| {
        push_rendered_entry(index, &native, &commit, json!({"claw-v9": native}));
        vec![(native.clone(), envelope)]
    });
    let out = wpc(other.path(), &["release", "verify"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("unknown rendering `claw-v9`"),
        "{}",
        stdout(&out)
    );
}

/// `release::verify_branch_from` on top of `after`: the verified branch and
/// the hashes whose envelopes it verified (and so handed back), or the
/// violations' reason codes.
fn verify_from(
    git: &Git,
    after: Option<&release::VerifiedBranch>,
) -> Result<(release::VerifiedBranch, Vec<String>), Vec<&'static str>> {
    let repo = Repo::discover(git.path()).unwrap();
    let source = release::Source {
        branch: "wpc-releases".to_owned(),
        root: String::new(),
        main: "main".to_owned(),
    };
    let handed = std::sync::Mutex::new(Vec::new());
    let keep = |verified: release::VerifiedEntry<'_>| {
        let mut handed = handed.lock().unwrap();
        handed.extend(
            verified
                .envelopes
                .iter()
                .map(|(hash, _)| (*hash).to_owned()),
        );
    };
    let verification =
        release::verify_branch_from(&repo, &source, &release::Freshness::default(), after, &keep)
            .unwrap();
    match verification {
        release::Verification::Verified(verified) => {
            let mut handed = handed.into_inner().unwrap();
            handed.sort();
            Ok((*verified, handed))
        }
        release::Verification::Violated(violations) => {
            Err(violations.iter().map(|v| v.reason.code()).collect())
        }
    }
}

/// Every hash of every entry of the deployer in `index` from `from` on.
fn deployer_hashes_from(index: &Value, from: usize) -> Vec<String> {
    let mut hashes: Vec<String> = index["policies"]["deployer"].as_array().unwrap()[from..]
        .iter()
        .flat_map(|e| {
            let renderings = e["renderings"].as_object().cloned().unwrap_or_default();
            std::iter::once(e["hash"].as_str().unwrap().to_owned()).chain(
                renderings
                    .values()
                    .map(|h| h.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    hashes.sort();
    hashes
}

#[test]
fn verifying_on_top_of_a_verified_tip_checks_only_the_new_commits_and_still_catches_a_forgery() {
    let git = Git::new();
    assert_eq!(code(&release(&git)), 0);
    let (first, handed) = verify_from(&git, None).unwrap();
    assert_eq!(first.release.tip.to_string(), git.tip());
    assert_eq!(handed.len(), {
        let index = git.index();
        index["policies"]
            .as_object()
            .unwrap()
            .keys()
            .map(|name| {
                index["policies"][name].as_array().unwrap().len()
                    * (1 + index["policies"][name][0]["renderings"]
                        .as_object()
                        .map_or(0, serde_json::Map::len))
            })
            .sum::<usize>()
    });

    // A new release: only its commit is verified, so only its envelopes
    // are handed back; the state is the whole branch's.
    git.merge_change(1, "Second.");
    assert_eq!(code(&release(&git)), 0);
    let (second, handed) = verify_from(&git, Some(&first)).unwrap();
    assert_eq!(second.release.tip.to_string(), git.tip());
    assert_eq!(handed, deployer_hashes_from(&git.index(), 1));
    assert_eq!(
        second.release.index,
        verify_from(&git, None).unwrap().0.release.index
    );

    // A release forged on top with the trusted key, of a policy main never
    // had: rejected on top of the verified tip as by a full verify.
    let (hash, envelope) = envelope_of(&deployer("Forged."), &key());
    let main = git.run(&["rev-parse", "main"]);
    forge(&git, &key(), |index, _| {
        push_deployer_entry(index, &hash, &main, &key());
        vec![(hash.clone(), envelope)]
    });
    let on_top = verify_from(&git, Some(&second)).unwrap_err();
    assert!(on_top.contains(&"CONTENT_MISMATCH"), "{on_top:?}");
    assert_eq!(on_top, verify_from(&git, None).unwrap_err());

    // A branch rewritten below the verified tip is verified whole again.
    git.run(&[
        "update-ref",
        "refs/heads/wpc-releases",
        &first.release.tip.to_string(),
    ]);
    let rewritten = tamper(&git, |repo, root| {
        edit_wpc(repo, root, |wpc, name| {
            wpc.remove(&name).unwrap();
        });
    });
    assert!(!rewritten.is_empty());
    let whole = verify_from(&git, Some(&second)).unwrap_err();
    assert!(whole.contains(&"HISTORY_REWRITTEN"), "{whole:?}");
}

//! End-to-end tests of `wpc release`, `wpc release verify` and `wpc revoke`
//! on real repositories built with the `git` CLI in temporary folders, and
//! of the release library's two steps (objects, then one reference update).

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

mod support;

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
    // The layout is exactly SPEC §6.
    let files = git.run(&["ls-tree", "-r", "--name-only", "wpc-releases"]);
    assert_eq!(files.lines().count(), 3 + 5, "{files}");
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
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 5, "{log}");
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
    let files = git.run(&["ls-tree", "--name-only", "wpc-releases:wpc"]);
    assert_eq!(files.lines().count(), 3, "{files}");
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

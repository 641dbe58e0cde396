//! `wpc release` at scale: a first-parent history of 5,000 commits touching
//! 500 policies (the first commit adds them all, each later one changes one
//! policy), released in one run, then released again (a no-op). Then
//! `wpc release verify` of a branch holding over 10,000 released versions
//! (a 10,000-commit history released in one run).
//! Goals: first run ≤ 2 s excluding the cost of signing each release (timed
//! separately and subtracted), rerun ≤ 0.2 s, verify ≤ 1 s.
//!
//! `cargo bench --bench release`

// A benchmark whose fixed repository does not build has nothing to measure.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use wpc::crypto::envelope::{SignedEnvelope, WorkPolicyContract};
use wpc::crypto::keys::SigningKey;
use wpc::git::{Oid, Repo};
use wpc::policy::{Document, Policy};
use wpc::release::{self, Freshness, Request, Source};
use wpc::report::SourceFile;

const COMMITS: usize = 5_000;
const POLICIES: usize = 500;
const RUNS: usize = 3;
/// The history whose release is verified: one version per commit, plus the
/// first commit's policies.
const VERIFIED_COMMITS: usize = 10_000;

fn policy(i: usize, change: usize) -> String {
    format!(
        r#"wpc_version = "1"
policy_name = "p{i:03}"
purpose = "Benchmark policy {i}, change {change}."

[constraints.tool_policy]
allow = ["read", "search", "repo.read", "svc{i}.read"]
deny = ["exec", "shell", "secrets.*"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"
network = "egress-allowlist"

[constraints.model_calls]
route_via = "clawproxy"
receipts_required = true

[constraints.token]
max_ttl_seconds = 900

[binding]
cst_scope_hash_required = true
"#
    )
}

/// A repository whose `main` holds the generated history (written as one
/// pack, as a clone would have it); its head.
fn history(dir: &std::path::Path, key: &SigningKey, commits: usize) -> (Repo, Oid) {
    let repo = git2::Repository::init(dir).expect("init");
    let odb = repo.odb().expect("odb");
    let mempack = odb.add_new_mempack_backend(1000).expect("mempack");
    let blob = |text: &[u8]| repo.blob(text).expect("blob");
    let mut policies = repo.treebuilder(None).expect("tree");
    for i in 0..POLICIES {
        let id = blob(policy(i, 0).as_bytes());
        policies
            .insert(format!("p{i:03}.toml"), id, 0o100_644)
            .expect("insert");
    }
    let mut keys = repo.treebuilder(None).expect("tree");
    let signers = format!(
        "[[release_signer]]\ndid = \"{}\"\nname = \"bench\"\n",
        key.did_str()
    );
    keys.insert("trusted-signers.toml", blob(signers.as_bytes()), 0o100_644)
        .expect("insert");
    let keys = keys.write().expect("tree");
    let config = blob(b"[policies]\ndir = \"policies\"\n");
    let sig = git2::Signature::now("bench", "bench@example.com").expect("sig");
    let mut head: Option<Oid> = None;
    for change in 0..commits {
        if change > 0 {
            let i = change % POLICIES;
            let id = blob(policy(i, change).as_bytes());
            policies
                .insert(format!("p{i:03}.toml"), id, 0o100_644)
                .expect("insert");
        }
        let mut root = repo.treebuilder(None).expect("tree");
        root.insert("wpc.toml", config, 0o100_644).expect("insert");
        root.insert("keys", keys, 0o040_000).expect("insert");
        root.insert("policies", policies.write().expect("tree"), 0o040_000)
            .expect("insert");
        let tree = repo.find_tree(root.write().expect("tree")).expect("tree");
        let parent = head.map(|id| repo.find_commit(id).expect("parent"));
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let message = format!("change {change} (#{change})");
        head = Some(
            repo.commit(None, &sig, &sig, &message, &tree, &parents)
                .expect("commit"),
        );
    }
    let mut pack = git2::Buf::new();
    mempack.dump(&repo, &mut pack).expect("dump");
    let mut writer = odb.packwriter().expect("packwriter");
    std::io::Write::write_all(&mut writer, &pack).expect("pack");
    writer.commit().expect("pack");
    let head = head.expect("commits");
    let repo = Repo::discover(dir).expect("open");
    repo.update_branch("main", None, head, "bench")
        .expect("main");
    (repo, head)
}

fn run(repo: &Repo, key: &SigningKey, branch: &str) -> (Duration, usize) {
    let source = Source {
        branch: branch.to_owned(),
        root: String::new(),
        main: "main".to_owned(),
    };
    let request = Request {
        source: &source,
        key,
        now: jiff::Timestamp::now(),
        pull_requests: None,
        dry_run: false,
    };
    let start = Instant::now();
    let plan = release::prepare(repo, &request).expect("prepare");
    release::publish(repo, &plan).expect("publish");
    let elapsed = start.elapsed();
    assert!(
        plan.refused.is_empty(),
        "refused: {:?}",
        plan.refused.first()
    );
    (elapsed, plan.released.len())
}

/// What signing alone costs for `count` policies like the generated ones.
fn signing(key: &SigningKey, count: usize) -> Duration {
    let payloads: Vec<_> = (0..count)
        .map(|c| {
            let doc = Document::parse(SourceFile::new("p.toml", policy(c % POLICIES, c)))
                .expect("policy");
            Policy::from_document(doc).expect("policy").doc.value
        })
        .collect();
    let start = Instant::now();
    for payload in payloads {
        let envelope =
            SignedEnvelope::sign::<WorkPolicyContract>(payload, key, jiff::Timestamp::now())
                .expect("sign");
        std::hint::black_box(serde_json::to_string_pretty(&envelope).expect("json"));
    }
    start.elapsed()
}

/// CPU time (user + system, all threads) this process has used, from
/// `/proc/self/stat` (Linux; zero elsewhere): unlike wall time, hardly
/// changed by other processes on a shared machine.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or_default();
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The 1-minute load average, to print beside the figures.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() {
    println!("load average (1 min) at start: {}", load());
    let key = SigningKey::generate().expect("key");
    let dir = tempfile::tempdir().expect("tempdir");
    let built = Instant::now();
    let (repo, _) = history(dir.path(), &key, COMMITS);
    println!(
        "history of {COMMITS} commits over {POLICIES} policies built in {:?}",
        built.elapsed()
    );
    let mut firsts = Vec::new();
    let mut reruns = Vec::new();
    let mut released = 0;
    for n in 0..RUNS {
        let branch = format!("wpc-releases-{n}");
        let (first, count) = run(&repo, &key, &branch);
        released = count;
        firsts.push(first);
        reruns.push(run(&repo, &key, &branch).0);
    }
    let sign = signing(&key, released);
    let best = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    let first = best(&firsts);
    println!("release/first_run: {first:?} for {released} releases (best of {RUNS})");
    println!("release/signing_only: {sign:?} for {released} envelopes");
    println!(
        "release/first_run_excluding_signing: {:?} (goal <= 2 s)",
        first.saturating_sub(sign)
    );
    println!(
        "release/noop_rerun: {:?} (best of {RUNS}; goal <= 0.2 s)",
        best(&reruns)
    );
    drop(repo);

    let dir = tempfile::tempdir().expect("tempdir");
    let (repo, _) = history(dir.path(), &key, VERIFIED_COMMITS);
    let (_, versions) = run(&repo, &key, "wpc-releases");
    let source = Source {
        branch: "wpc-releases".to_owned(),
        root: String::new(),
        main: "main".to_owned(),
    };
    let mut verifies = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), cpu_time());
        let violations =
            release::verify_branch(&repo, &source, &Freshness::default()).expect("verify");
        verifies.push(start.elapsed());
        cpu.push(cpu_time().saturating_sub(cpu_start));
        assert!(violations.is_empty(), "{:?}", violations.first());
    }
    println!(
        "release/verify: {:?} for {versions} released versions (best of {RUNS}; goal <= 1 s); CPU {:?}",
        best(&verifies),
        best(&cpu)
    );
    println!("load average (1 min) at end: {}", load());
}

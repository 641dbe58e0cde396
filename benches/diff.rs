//! `wpc diff` at scale: two commits of a repository of 10,000 policies that
//! differ in 1,000 of them (500 widen, 500 narrow). Measures what the command
//! does: read both trees from Git objects, parse, schema-check and hash each
//! distinct policy, pair by name, classify, work out the approvals, render.
//! Goal: at most 0.5 s.

// A benchmark whose fixed repository does not build has nothing to measure.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use git2::{Index, IndexEntry, IndexTime, Oid, Repository, Signature};
use wpc::diff::{self, approvals};
use wpc::git::Repo;

const POLICIES: usize = 10_000;
const CHANGED: usize = 1_000;

fn policy(i: usize, ttl: u64, extra_deny: bool) -> String {
    let deny = if extra_deny {
        r#"["exec", "shell", "secrets.*", "repo.write"]"#
    } else {
        r#"["exec", "shell", "secrets.*"]"#
    };
    format!(
        r#"wpc_version = "1"
policy_name = "p{i:05}"
purpose = "Benchmark policy {i}."

[constraints.tool_policy]
allow = ["read", "search", "repo.*", "svc{i}.read", "team{t}.*"]
deny = {deny}

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"
network = "egress-allowlist"

[[constraints.approvals]]
when = "tool == 'team{t}.write' && content.contains('DROP')"
require = "human_approval"
approvers = ["acme/security"]

[constraints.model_calls]
route_via = "clawproxy"
receipts_required = true
allowed_providers = ["anthropic"]
allowed_models = ["claude-*"]

[constraints.token]
max_ttl_seconds = {ttl}

[binding]
cst_scope_hash_required = true
"#,
        t = i % 50
    )
}

fn commit(repo: &Repository, files: &[(String, String)], parent: Option<Oid>) -> Oid {
    let mut index = Index::new().expect("index");
    for (path, text) in files {
        let id = repo.blob(text.as_bytes()).expect("blob");
        index
            .add(&IndexEntry {
                ctime: IndexTime::new(0, 0),
                mtime: IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100_644,
                uid: 0,
                gid: 0,
                file_size: 0,
                id,
                flags: u16::try_from(path.len()).expect("short path"),
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            })
            .expect("add");
    }
    let tree = repo
        .find_tree(index.write_tree_to(repo).expect("tree"))
        .expect("tree");
    let sig = Signature::now("bench", "bench@example.com").expect("signature");
    let parent = parent.map(|id| repo.find_commit(id).expect("parent"));
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(None, &sig, &sig, "bench", &tree, &parents)
        .expect("commit")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let raw = Repository::init_bare(dir.path()).expect("repository");
    let config = (
        "wpc.toml".to_owned(),
        "[approvals]\nwidening = { teams = [\"acme/security\"], min = 1 }\n".to_owned(),
    );
    let mut files: Vec<(String, String)> = (0..POLICIES)
        .map(|i| (format!("policies/p{i:05}.toml"), policy(i, 1800, false)))
        .collect();
    files.push(config.clone());
    let base = commit(&raw, &files, None);
    for i in 0..CHANGED {
        // Every tenth policy: half get a longer TTL, half an extra deny.
        let n = i * (POLICIES / CHANGED);
        files[n].1 = if i % 2 == 0 {
            policy(n, 3600, false)
        } else {
            policy(n, 1800, true)
        };
    }
    let head = commit(&raw, &files, Some(base));

    let repo = Repo::discover(dir.path()).expect("open");
    let run = || {
        let diff = diff::diff_revisions(&repo, base, head, "").expect("diff");
        let required = diff.requirements().expect("rules");
        let statuses = approvals::evaluate(&required, &[]);
        let text = diff::render::markdown(&diff, &statuses, false);
        (diff, text)
    };
    let (diff, _) = run();
    assert_eq!(diff.policies.len(), CHANGED);
    assert_eq!(
        diff.policies.iter().filter(|p| p.widens()).count(),
        CHANGED / 2
    );
    assert!(diff.findings.is_empty());

    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("10k_policies_1k_changed", |b| b.iter(|| black_box(run())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

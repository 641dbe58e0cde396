//! The sample proof bundles of `examples/repo` are generated here, from the
//! test kit's published throwaway keys, so anyone can rebuild them:
//! `WPC_UPDATE_EXAMPLES=1 cargo test --test example_proofs` rewrites them,
//! and without it the test fails when a committed file differs.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::{Path, PathBuf};

use support::{root, run, stdout};
use wpc::bundle::kit::{self, Shape};
use wpc::policy::Policy;
use wpc::policy::hash::sha256_b64u;

/// Seeds of the published keys: `[n; 32]`.
const AGENT_SEED: u8 = 1;
const GATEWAY_SEED: u8 = 2;
const RELEASE_SEED: u8 = 3;
const APPROVER_SEED: u8 = 4;

/// One sample agent job.
struct Job {
    /// Path under `examples/repo`.
    file: &'static str,
    policy: &'static str,
    seq: u64,
    tools: &'static [&'static str],
    approvals: usize,
    provider: &'static str,
    model: &'static str,
}

/// Jobs the WPCs allow: `proofs/`, verified by `wpc ci`.
const VALID: &[Job] = &[
    Job {
        file: "proofs/agent-change-reviewer/review-pr-1841.json",
        policy: "agent-change-reviewer",
        seq: 1841,
        tools: &["repo.diff", "read", "search", "repo.comment"],
        approvals: 0,
        provider: "anthropic",
        model: "claude-sonnet-4-5",
    },
    Job {
        file: "proofs/data-analyst/weekly-revenue.json",
        policy: "data-analyst",
        seq: 2001,
        tools: &["db.schema", "db.query", "chart.render"],
        approvals: 0,
        provider: "openai",
        model: "gpt-5-mini",
    },
    Job {
        file: "proofs/deployer/rollout-staging-v2.4.0.json",
        policy: "deployer",
        seq: 3001,
        tools: &["repo.diff", "deploy.staging", "deploy.status"],
        approvals: 0,
        provider: "anthropic",
        model: "claude-sonnet-4-5",
    },
    Job {
        file: "proofs/deployer/rollout-prod-v2.4.0.json",
        policy: "deployer",
        seq: 3002,
        tools: &["deploy.prod", "deploy.status"],
        approvals: 1,
        provider: "anthropic",
        model: "claude-sonnet-4-5",
    },
    Job {
        file: "proofs/read-only-researcher/vendor-comparison.json",
        policy: "read-only-researcher",
        seq: 4001,
        tools: &["web.search", "web.fetch", "read"],
        approvals: 0,
        provider: "anthropic",
        model: "claude-haiku-4-5",
    },
    Job {
        file: "proofs/issue-triager/triage-issue-412.json",
        policy: "issue-triager",
        seq: 5001,
        tools: &[
            "mcp:github/get_issue",
            "mcp:github/add_issue_comment",
            "mcp:github/get_issue",
            "mcp:github/add_issue_comment",
        ],
        approvals: 0,
        provider: "anthropic",
        model: "claude-sonnet-4-5",
    },
];

/// Jobs that break their WPC: `proofs-invalid/`, outside `[bundles] paths`.
/// Each with the reason code `wpc bundle verify` must report.
const INVALID: &[(Job, &str)] = &[
    (
        Job {
            file: "proofs-invalid/deployer-prod-without-approval.json",
            policy: "deployer",
            seq: 9001,
            tools: &["deploy.prod"],
            approvals: 0,
            provider: "anthropic",
            model: "claude-sonnet-4-5",
        },
        "APPROVAL_MISSING",
    ),
    (
        Job {
            file: "proofs-invalid/researcher-writes-a-file.json",
            policy: "read-only-researcher",
            seq: 9002,
            tools: &["web.fetch", "write"],
            approvals: 0,
            provider: "anthropic",
            model: "claude-haiku-4-5",
        },
        "TOOL_NOT_ALLOWED",
    ),
    (
        // Four comments within seconds: the WPC allows three an hour.
        Job {
            file: "proofs-invalid/triager-comment-flood.json",
            policy: "issue-triager",
            seq: 9003,
            tools: &[
                "mcp:github/get_issue",
                "mcp:github/add_issue_comment",
                "mcp:github/add_issue_comment",
                "mcp:github/add_issue_comment",
                "mcp:github/add_issue_comment",
            ],
            approvals: 0,
            provider: "anthropic",
            model: "claude-sonnet-4-5",
        },
        "RATE_LIMIT_EXCEEDED",
    ),
];

fn example_dir() -> PathBuf {
    root().join("examples/repo")
}

fn policy_hash(name: &str) -> String {
    let path = example_dir().join(format!("policies/{name}.toml"));
    Policy::load(&path).unwrap().hash
}

/// The bundle of `job`: two model calls with gateway receipts, the job's
/// tool receipts, one network side effect, bound to its WPC and to a scope
/// hash (the WPCs require CST scope binding).
fn bundle(job: &Job) -> Vec<u8> {
    let shape = Shape {
        seq: job.seq,
        receipts: 2,
        tools: job.tools.iter().map(|t| (*t).to_owned()).collect(),
        side_effects: 1,
        approvals: job.approvals,
        // Signed by the published release manager key, an [[approver]] of
        // keys/trusted-signers.toml.
        approval_signer: Some(APPROVER_SEED),
        provider: job.provider.to_owned(),
        model: job.model.to_owned(),
        policy_hash: Some(policy_hash(job.policy)),
        scope_hash: Some(sha256_b64u(
            format!("example scope: {}", job.file).as_bytes(),
        )),
        tool_v2: None,
    };
    let mut bundle = kit::bundle_value(&shape).unwrap();
    record_mcp_calls(job, &mut bundle);
    let mut bytes = serde_json::to_vec_pretty(&bundle).unwrap();
    bytes.push(b'\n');
    bytes
}

/// The issue triager's tool receipts record what the gateway was connected
/// to and the definition hash of each MCP tool it called, in their signed
/// binding (docs/bundles.md#mcp-tools-rate-limits-and-budget), so the pins
/// are checked on the sample bundles too; the bundle is signed again.
fn record_mcp_calls(job: &Job, bundle: &mut serde_json::Value) {
    let policy =
        Policy::load(&example_dir().join(format!("policies/{}.toml", job.policy))).unwrap();
    let Some(mcp) = &policy.wpc.constraints.mcp else {
        return;
    };
    let receipts = bundle["payload"]["tool_receipts"].as_array_mut().unwrap();
    for receipt in receipts {
        let tool = receipt["tool_name"].as_str().unwrap().to_owned();
        let Some((server, name)) = tool.strip_prefix("mcp:").and_then(|t| t.split_once('/')) else {
            continue;
        };
        let binding = &mut receipt["binding"];
        binding["mcp_transport"] = "stdio".into();
        binding["mcp_url"] = "npx -y @modelcontextprotocol/server-github@2025.4.8".into();
        if let Some(pin) = mcp.pin(server, name) {
            binding["tool_definition_hash"] = pin.into();
        }
    }
    *bundle = kit::resign(bundle).unwrap();
}

/// Every generated file equals the committed one, or is written with
/// `WPC_UPDATE_EXAMPLES=1`; no other file sits in the two folders.
#[test]
fn sample_bundles_are_reproducible() {
    let update = std::env::var_os("WPC_UPDATE_EXAMPLES").is_some_and(|v| v == "1");
    let jobs = VALID.iter().chain(INVALID.iter().map(|(job, _)| job));
    let mut expected: Vec<PathBuf> = Vec::new();
    for job in jobs {
        let path = example_dir().join(job.file);
        let bytes = bundle(job);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else {
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == bytes,
                "{} is not what the kit generates; rebuild with \
                 WPC_UPDATE_EXAMPLES=1 cargo test --test example_proofs",
                job.file
            );
        }
        expected.push(path);
    }
    let mut found = Vec::new();
    for dir in ["proofs", "proofs-invalid"] {
        files(&example_dir().join(dir), &mut found);
    }
    found.sort();
    expected.sort();
    assert_eq!(found, expected, "stray or missing sample bundles");
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The DIDs the example trusts are the kit's published keys.
#[test]
fn example_signers_are_the_published_kit_keys() {
    let config = std::fs::read_to_string(example_dir().join("wpc.toml")).unwrap();
    let trusted = std::fs::read_to_string(example_dir().join("keys/trusted-signers.toml")).unwrap();
    let gateway = kit::key(GATEWAY_SEED).did_str().to_owned();
    let release = kit::key(RELEASE_SEED).did_str().to_owned();
    assert_eq!(
        kit::agent_key().did_str(),
        kit::key(AGENT_SEED).did_str(),
        "the kit signs bundles with seed [1; 32]"
    );
    assert_eq!(kit::gateway_key().did_str(), gateway);
    assert!(
        config.contains(&format!("gateway_signers = [\"{gateway}\"]")),
        "{config}"
    );
    assert!(
        config.contains(&format!("signer = \"{release}\"")),
        "{config}"
    );
    assert!(trusted.contains(&gateway) && trusted.contains(&release));
}

#[test]
fn ci_passes_on_the_example_with_its_sample_bundles() {
    let out = run(&root(), &["ci", "examples/repo"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "bundles  passed   {} passed, 0 failed",
            VALID.len()
        )),
        "{text}"
    );
    // examples/repo is a folder of this repository, which has no release
    // branch: the bundles are checked against the working policies.
    assert!(
        text.contains(
            "no release branch `wpc-releases`: bundles checked against the working policies"
        ),
        "{text}"
    );
}

#[test]
fn the_invalid_samples_fail_with_their_reason() {
    for (job, code) in INVALID {
        let out = run(
            &example_dir(),
            &[
                "bundle",
                "verify",
                job.file,
                "--policy",
                &format!("policies/{}.toml", job.policy),
            ],
        );
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.starts_with(&format!("INVALID {} {code}", job.file)),
            "{text}"
        );
        // By hash, as `wpc ci` resolves it, too.
        let out = run(
            &example_dir(),
            &[
                "bundle",
                "verify",
                job.file,
                "--policy",
                &policy_hash(job.policy),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert!(stdout(&out).contains(code), "{}", stdout(&out));
        assert_eq!(
            support::stderr(&out),
            "note: no release branch `wpc-releases`: bundles checked against the working \
             policies\n"
        );
    }
}

/// In the policy repository and without `--policy`, each bundle is checked
/// under the WPC it claims, so the invalid samples fail and the valid ones
/// pass; outside it, only the protocol is checked, and the report says so.
#[test]
fn bundle_verify_checks_each_bundle_under_the_wpc_it_claims() {
    let out = run(&example_dir(), &["bundle", "verify", "proofs-invalid"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for (job, code) in INVALID {
        assert!(
            text.contains(&format!("INVALID {} {code}\n", job.file)),
            "{text}"
        );
    }
    assert!(
        text.contains("verified under the WPC each bundle claims, among the working policies"),
        "{text}"
    );

    let out = run(&example_dir(), &["bundle", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!(
        "{} bundles: {} valid, 0 invalid",
        VALID.len(),
        VALID.len()
    )));

    let outside = tempfile::tempdir().unwrap();
    let invalid = example_dir().join("proofs-invalid");
    let out = run(
        outside.path(),
        &["bundle", "verify", invalid.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("note: protocol checks only"),
        "{}",
        stdout(&out)
    );
}

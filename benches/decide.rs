//! Decisions per second of the library's decision function on a policy with
//! 100 allow patterns, 20 deny patterns and 10 CEL gates.

// A benchmark whose fixed policy does not build has nothing to measure.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use wpc::decide::{Call, Engine, Verdict};
use wpc::policy::Wpc;

fn policy() -> Wpc {
    let mut allow: Vec<String> = (0..90).map(|i| format!("svc{i}.read")).collect();
    allow.extend((0..10).map(|i| format!("team{i}.*")));
    let mut deny: Vec<String> = (0..10).map(|i| format!("svc{i}.admin*")).collect();
    deny.extend((0..10).map(|i| format!("team{i}.secrets.?")));
    let approvals: Vec<_> = (0..10)
        .map(|i| {
            json!({
                "when": format!("tool == 'team{i}.write' && (content.contains('DROP') || args.mode == 'force')"),
                "require": "human_approval",
                "approvers": ["org/security"],
            })
        })
        .collect();
    let payload = json!({
        "wpc_version": "1",
        "policy_name": "bench",
        "purpose": "benchmark",
        "constraints": {
            "tool_policy": { "allow": allow, "deny": deny },
            "sandbox": { "required": true, "workspaceAccess": "ro", "elevated_exec": "deny" },
            "approvals": approvals,
        },
        "binding": { "cst_scope_hash_required": true },
    });
    serde_json::from_value(payload).expect("benchmark policy")
}

fn calls(tools: &[&str], content: &str) -> Vec<Call> {
    tools
        .iter()
        .map(|tool| {
            let mut call = Call {
                tool: (*tool).to_owned(),
                content: content.to_owned(),
                ..Call::default()
            };
            call.args.insert("mode".into(), json!("normal"));
            call
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(&policy()).expect("compiles");
    // Allowed, denied and unmatched calls that no gate can apply to.
    let ungated = calls(
        &[
            "svc42.read",
            "svc89.read",
            "team3.list",
            "svc4.admin.delete",
            "team7.secrets.x",
            "unknown.tool",
        ],
        "hello",
    );
    // Calls a gate names: the CEL expression runs.
    let gated = calls(
        &["team0.write", "team5.write", "team9.write"],
        "DROP TABLE users",
    );
    for call in &ungated {
        assert!(engine.decide(call).approvals.is_empty());
    }
    for call in &gated {
        assert_eq!(engine.decide(call).verdict, Verdict::Approval);
    }

    let mut group = c.benchmark_group("decide");
    for (name, batch) in [("ungated", &ungated), ("gated", &gated)] {
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for call in batch {
                    black_box(engine.decide(black_box(call)));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

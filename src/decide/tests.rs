//! The decision function's truth table.

use serde_json::json;

use super::*;
use crate::policy::testing::policy;

fn engine(allow: &[&str], deny: &[&str], gates: &[&str]) -> Engine {
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "wpc_version = \"1\"\npolicy_name = \"p\"\npurpose = \"t\"\n\
         [constraints.tool_policy]\nallow = [{}]\ndeny = [{}]\n\
         [constraints.sandbox]\nrequired = true\nworkspaceAccess = \"ro\"\nelevated_exec = \"deny\"\n\
         [binding]\ncst_scope_hash_required = true\n",
        list(allow),
        list(deny)
    );
    for when in gates {
        text.push_str(&format!(
            "[[constraints.approvals]]\nwhen = {when:?}\nrequire = \"human_approval\"\napprovers = [\"sec\"]\n"
        ));
    }
    Engine::new(&policy(&text).wpc).unwrap()
}

fn verdict(e: &Engine, tool: &str) -> Verdict {
    e.decide(&Call::tool(tool)).verdict
}

#[test]
fn deny_wins_then_allow_then_default_deny() {
    let e = engine(&["repo.*", "read"], &["repo.merge"], &[]);
    // deny ∧ allow
    let d = e.decide(&Call::tool("repo.merge"));
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(
        d.basis,
        Basis::DenyPattern {
            index: 0,
            pattern: "repo.merge".into()
        }
    );
    // only allow
    let d = e.decide(&Call::tool("repo.comment"));
    assert_eq!(d.verdict, Verdict::Allow);
    assert_eq!(
        d.basis,
        Basis::AllowPattern {
            index: 0,
            pattern: "repo.*".into()
        }
    );
    // neither
    let d = e.decide(&Call::tool("exec"));
    assert_eq!((d.verdict, d.basis), (Verdict::Deny, Basis::DefaultDeny));
    // only deny
    let e = engine(&[], &["exec"], &[]);
    assert_eq!(
        e.decide(&Call::tool("exec")).basis,
        Basis::DenyPattern {
            index: 0,
            pattern: "exec".into()
        }
    );
}

#[test]
fn empty_lists_deny_everything() {
    let e = engine(&[], &[], &[]);
    for tool in ["read", "exec", "*", ""] {
        assert_eq!(
            e.decide(&Call::tool(tool)).basis,
            Basis::DefaultDeny,
            "{tool}"
        );
    }
}

#[test]
fn glob_corner_cases() {
    let e = engine(&["deploy.*", "a?c", "*.merge", "x**y"], &[], &[]);
    for (tool, expected) in [
        ("deploy.prod", Verdict::Allow),
        // `*` runs across dots.
        ("deploy.prod.eu", Verdict::Allow),
        ("deploy.", Verdict::Allow),
        ("deploy", Verdict::Deny),
        ("deployx", Verdict::Deny),
        ("abc", Verdict::Allow),
        ("a.c", Verdict::Allow),
        ("ac", Verdict::Deny),
        ("abbc", Verdict::Deny),
        ("repo.merge", Verdict::Allow),
        ("a.b.merge", Verdict::Allow),
        ("merge", Verdict::Deny),
        ("xy", Verdict::Allow),
        ("x.z.y", Verdict::Allow),
        // Matching is case-sensitive and anchored.
        ("Deploy.prod", Verdict::Deny),
        ("xdeploy.prod", Verdict::Deny),
    ] {
        assert_eq!(verdict(&e, tool), expected, "{tool}");
    }
    // The first matching pattern is the one named.
    let e = engine(&["*", "read"], &[], &[]);
    assert_eq!(
        e.decide(&Call::tool("read")).basis,
        Basis::AllowPattern {
            index: 0,
            pattern: "*".into()
        }
    );
}

#[test]
fn approval_true_false_and_error() {
    let e = engine(
        &["repo.*", "db.query"],
        &[],
        &["tool == 'repo.comment' && content.contains('SECURITY:')"],
    );
    let mut call = Call::tool("repo.comment");
    assert_eq!(e.decide(&call).verdict, Verdict::Allow);
    call.content = "SECURITY: leaked token".into();
    let d = e.decide(&call);
    assert_eq!(d.verdict, Verdict::Approval);
    assert_eq!(d.approvals.len(), 1);
    assert_eq!(d.approvals[0].approvers, ["sec"]);
    assert_eq!(d.approvals[0].require, Requirement::HumanApproval);
    // The gate is about another tool: no approval.
    let call = Call {
        tool: "db.query".into(),
        content: "SECURITY:".into(),
        ..Call::default()
    };
    assert_eq!(e.decide(&call).verdict, Verdict::Allow);
    // A denied call never reaches the gates.
    assert_eq!(verdict(&e, "exec"), Verdict::Deny);

    // Run-time error, non-boolean, unknown variable: fail closed.
    for when in ["args.path == 'x'", "content", "nope == 1", "1 / 0 == 1"] {
        let e = engine(&["read"], &[], &[when]);
        let d = e.decide(&Call::tool("read"));
        assert_eq!(d.verdict, Verdict::Deny, "{when}");
        assert!(
            matches!(d.basis, Basis::GateFailed { index: 0, .. }),
            "{when}: {:?}",
            d.basis
        );
    }
    // Errors that quote the call's values are cut short.
    let e = engine(&["read"], &[], &["content < 1 || content + 1 == content"]);
    let call = Call {
        tool: "read".into(),
        content: "z".repeat(10_000),
        ..Call::default()
    };
    match e.decide(&call).basis {
        Basis::GateFailed { error, .. } => assert!(error.chars().count() <= 201, "{error}"),
        other => panic!("{other:?}"),
    }
    // A gate that does not parse denies every allowed call.
    let e = engine(&["read"], &[], &["tool =="]);
    assert!(matches!(
        e.decide(&Call::tool("read")).basis,
        Basis::GateFailed { .. }
    ));
}

#[test]
fn args_and_every_variable_reach_the_gate() {
    let e = engine(
        &["*"],
        &[],
        &[
            "args.path.startsWith('/etc') && target == 't' && model == 'm' && provider == 'p' && env == 'prod'",
        ],
    );
    let mut call = Call {
        tool: "write".into(),
        target: "t".into(),
        model: "m".into(),
        provider: "p".into(),
        env: "prod".into(),
        ..Call::default()
    };
    call.args = json!({"path": "/etc/passwd", "n": 3})
        .as_object()
        .cloned()
        .unwrap();
    assert_eq!(e.decide(&call).verdict, Verdict::Approval);
    call.env = "dev".into();
    assert_eq!(e.decide(&call).verdict, Verdict::Allow);
}

#[test]
fn several_gates_fire_together() {
    let e = engine(
        &["deploy.*"],
        &[],
        &["tool.startsWith('deploy.')", "tool == 'deploy.prod'"],
    );
    let d = e.decide(&Call::tool("deploy.prod"));
    assert_eq!(
        d.approvals.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        d.to_string(),
        "tool `deploy.prod` matches allow pattern `deploy.*` (constraints.tool_policy.allow[0]) and no deny pattern; \
         constraints.approvals[0] requires human_approval by sec; constraints.approvals[1] requires human_approval by sec"
    );
    assert_eq!(e.decide(&Call::tool("deploy.dev")).approvals.len(), 1);
}

#[test]
fn oversized_inputs_fail_closed() {
    let e = engine(&["*"], &[], &[]);
    let call = Call {
        tool: "read".into(),
        content: "x".repeat(MAX_CONTENT_BYTES + 1),
        ..Call::default()
    };
    assert_eq!(
        e.decide(&call).basis,
        Basis::InputTooLarge {
            field: "content",
            limit: MAX_CONTENT_BYTES
        }
    );
    let mut call = Call::tool("read");
    call.args
        .insert("blob".into(), json!("y".repeat(MAX_ARGS_BYTES)));
    assert_eq!(
        e.decide(&call).basis,
        Basis::InputTooLarge {
            field: "args",
            limit: MAX_ARGS_BYTES
        }
    );
    assert_eq!(verdict(&e, &"t".repeat(MAX_FIELD_BYTES + 1)), Verdict::Deny);
}

#[test]
fn gate_analysis() {
    let env = gate::environment();
    let gate = |when: &str| gate::Gate::compile(&env, when).unwrap();
    let g = gate("tool == 'a' && content.contains('x')");
    assert_eq!(g.for_tool("b"), Some(false));
    assert_eq!(g.for_tool("a"), None);
    assert_eq!(gate("tool in ['a', 'b']").for_tool("b"), Some(true));
    assert_eq!(
        gate("tool.startsWith('deploy.') && tool != 'deploy.status'").for_tool("deploy.status"),
        Some(false)
    );
    assert_eq!(gate("tool == 'a' || !(tool != 'b')").named_tools(), ["a"]);
    assert_eq!(
        gate("tool in ['x', 'y'] || 'z' == tool").named_tools(),
        ["x", "y", "z"]
    );
    assert_eq!(
        gate("args.exists(k, k == user) && tool == 'a'").unknown_variables(),
        ["user"]
    );
    assert!(
        gate("[1].all(x, x > 0) && args.size() > 0")
            .unknown_variables()
            .is_empty()
    );
    assert_eq!(
        gate("content == 'x' && tool == 'a'").tool_guard(),
        Some(vec!["a".to_owned()])
    );
    assert_eq!(
        gate("tool in ['a', 'b'] && args.n > 1").tool_guard(),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
    assert_eq!(gate("tool in ['a', content]").tool_guard(), None);
    assert_eq!(gate("tool == 'a' || content == 'x'").tool_guard(), None);
    assert_eq!(gate("false in [tool == 'a']").tool_guard(), None);
    let err = gate::Gate::compile(&env, "tool == 'a' &&& x").unwrap_err();
    assert!(err.position.is_some(), "{err:?}");
}

#[test]
fn a_gate_covers_another_only_when_each_disjunct_reappears() {
    let env = gate::environment();
    let gate = |when: &str| gate::Gate::compile(&env, when).unwrap();
    let old = gate("tool == 'a' || content.contains('x')");
    for stricter in [
        "tool == 'a' || content.contains('x')",
        "content.contains('x')  ||  tool == 'a'",
        "tool == 'b' || (tool == 'a' || content.contains('x'))",
        "args.size() > 2 || content.contains('x') || tool == 'a'",
    ] {
        assert!(gate(stricter).covers(&old), "{stricter}");
    }
    for not_proven in [
        "tool == 'a'",
        "tool == 'a' || content.contains('y')",
        "(tool == 'a' || content.contains('x')) && env == 'prod'",
        "tool == 'a' || content.contains('x') && env == 'prod'",
        "tool == 'a' || !content.contains('x')",
    ] {
        assert!(!gate(not_proven).covers(&old), "{not_proven}");
    }
}

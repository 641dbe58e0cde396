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

const MCP_POLICY: &str = r#"wpc_version = "1"
policy_name = "p"
purpose = "t"
[constraints.tool_policy]
allow = ["repo.comment", "mcp:docs/*", "mcp:*"]
deny = ["mcp:*/drop_*"]
[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"
[[constraints.approvals]]
when = "tool == 'mcp:github/add_issue_comment'"
require = "human_approval"
[constraints.mcp]
deny_servers = ["scratch-*"]
[[constraints.mcp.servers]]
name = "github"
transport = "stdio"
tools = ["get_issue", "add_issue_comment", "drop_label"]
deny_tools = ["delete_*"]
[[constraints.mcp.servers]]
name = "docs"
url = "https://docs.example/*"
[[constraints.mcp.servers]]
name = "scratch-pad"
[constraints.mcp.pinned_tools]
"github/get_issue" = "1111111111111111111111111111111111111111111111111111111111111111"
[[constraints.rate_limits]]
tool = "repo.*"
max = 20
per = "1h"
[[constraints.rate_limits]]
model = "claude-*"
max = 1
per = "1m"
[constraints.budget]
max_tool_calls = 100
max_model_calls = 10
max_input_tokens = 5000
max_output_tokens = 1000
[binding]
cst_scope_hash_required = true
"#;

const PIN: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn mcp_call(tool: &str) -> Call {
    Call {
        mcp_transport: "stdio".into(),
        mcp_url: "https://docs.example/mcp".into(),
        definition_hash: PIN.into(),
        ..Call::tool(tool)
    }
}

/// The MCP checks, with the policy's rate limits and budget not evaluated
/// (the calls give no counters).
fn code(e: &Engine, call: &Call) -> (Verdict, Option<&'static str>) {
    let d = e.decide_per_call(call);
    (d.verdict, d.basis.code())
}

#[test]
fn mcp_servers_are_checked_before_the_tool_policy() {
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let allow = (Verdict::Allow, None);
    let deny = |code| (Verdict::Deny, Some(code));
    // The server's tool list allows; the tool policy's `mcp:*` cannot
    // bring in a denied or unlisted server.
    assert_eq!(code(&e, &mcp_call("mcp:github/get_issue")), allow);
    assert_eq!(
        code(&e, &mcp_call("mcp:scratch-pad/x")),
        deny("MCP_SERVER_DENIED")
    );
    assert_eq!(
        code(&e, &mcp_call("mcp:linear/x")),
        deny("MCP_SERVER_NOT_ALLOWED")
    );
    assert_eq!(code(&e, &mcp_call("mcp:linear")), deny("MCP_NAME_INVALID"));
    // The server's own lists: deny_tools, then its allow-list, whatever
    // `mcp:*` in the tool policy says.
    assert_eq!(
        code(&e, &mcp_call("mcp:github/delete_repo")),
        deny("MCP_TOOL_DENIED")
    );
    assert_eq!(
        code(&e, &mcp_call("mcp:github/list_repos")),
        deny("MCP_TOOL_NOT_ALLOWED")
    );
    // A tool policy deny pattern still wins over the server's list.
    let d = e.decide_per_call(&mcp_call("mcp:github/drop_label"));
    assert!(
        matches!(d.basis, Basis::DenyPattern { index: 0, .. }),
        "{d}"
    );
    // A server without a tool list: the tool policy decides.
    let d = e.decide_per_call(&mcp_call("mcp:docs/search"));
    assert!(
        matches!(d.basis, Basis::AllowPattern { index: 1, .. }),
        "{d}"
    );
    // Gates see the MCP name.
    assert_eq!(
        e.decide_per_call(&mcp_call("mcp:github/add_issue_comment"))
            .verdict,
        Verdict::Approval
    );
}

#[test]
fn transports_urls_and_pins_fail_closed() {
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let deny = |code| (Verdict::Deny, Some(code));
    for call in [
        Call {
            mcp_transport: String::new(),
            ..mcp_call("mcp:github/get_issue")
        },
        Call {
            mcp_transport: "sse".into(),
            ..mcp_call("mcp:github/get_issue")
        },
        Call {
            mcp_url: String::new(),
            ..mcp_call("mcp:docs/search")
        },
        Call {
            mcp_url: "https://evil.example/mcp".into(),
            ..mcp_call("mcp:docs/search")
        },
    ] {
        assert_eq!(code(&e, &call), deny("MCP_SERVER_MISMATCH"), "{call:?}");
    }
    let no_hash = Call {
        definition_hash: String::new(),
        ..mcp_call("mcp:github/get_issue")
    };
    assert_eq!(code(&e, &no_hash), deny("MCP_TOOL_PIN_MISSING"));
    let other = Call {
        definition_hash: "2".repeat(64),
        ..mcp_call("mcp:github/get_issue")
    };
    let d = e.decide_per_call(&other);
    assert_eq!(d.basis.code(), Some("MCP_TOOL_PIN_MISMATCH"));
    assert!(d.to_string().contains("the server changed the tool"), "{d}");
    assert_eq!(d.report("p", "h")["code"], json!("MCP_TOOL_PIN_MISMATCH"));
    // The same hash in capitals is the same hash; an unpinned tool needs none.
    let upper = Call {
        definition_hash: PIN.to_uppercase(),
        ..mcp_call("mcp:github/get_issue")
    };
    assert_eq!(e.decide_per_call(&upper).verdict, Verdict::Allow);
    let unpinned = Call {
        definition_hash: String::new(),
        ..mcp_call("mcp:github/add_issue_comment")
    };
    assert_eq!(e.decide_per_call(&unpinned).verdict, Verdict::Approval);
}

#[test]
fn without_constraints_mcp_an_mcp_name_is_a_tool_name() {
    let e = engine(&["mcp:github/*"], &[], &[]);
    assert_eq!(verdict(&e, "mcp:github/anything"), Verdict::Allow);
    assert_eq!(verdict(&e, "mcp:linear/x"), Verdict::Deny);
}

#[test]
fn a_name_meant_as_mcp_in_another_case_or_with_spaces_is_denied() {
    // `*` allows everything, `mcp:scratch-pad/*` is denied and the
    // server is in `deny_servers`: a case or a space must not slip past
    // either list to the `*`.
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let loose = engine(&["*"], &["mcp:scratch-pad/*"], &[]);
    for tool in [
        "MCP:scratch-pad/x",
        "Mcp:github/get_issue",
        " mcp:scratch-pad/x",
        "\tmcp:scratch-pad/x ",
    ] {
        assert_eq!(
            code(&e, &mcp_call(tool)),
            (Verdict::Deny, Some("MCP_NAME_INVALID")),
            "{tool:?}"
        );
        assert_eq!(
            code(&loose, &mcp_call(tool)),
            (Verdict::Deny, Some("MCP_NAME_INVALID")),
            "{tool:?} without [constraints.mcp]"
        );
    }
    assert_eq!(verdict(&loose, "mcpx:scratch-pad/x"), Verdict::Allow);
    assert_eq!(verdict(&loose, "mcp:scratch-pad/x"), Verdict::Deny);
}

#[test]
fn rate_limits_add_up_every_tool_their_pattern_matches() {
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let call = |counts: &[(&str, u64)]| Call {
        counters: Counters {
            calls_so_far: counts.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect(),
            ..BUDGET_UNUSED
        },
        ..Call::tool("repo.comment")
    };
    assert_eq!(
        e.decide(&call(&[("repo.comment", 0)])).verdict,
        Verdict::Allow
    );
    assert_eq!(
        e.decide(&call(&[("repo.comment", 19)])).verdict,
        Verdict::Allow
    );
    // Other tools of the pattern count; tools outside it do not.
    let d = e.decide(&call(&[
        ("repo.comment", 12),
        ("repo.review", 8),
        ("exec", 99),
    ]));
    assert_eq!(
        d.basis,
        Basis::RateLimitExceeded {
            index: 0,
            pattern: "repo.*".into(),
            max: 20,
            per: "1h".into(),
            count: 20
        }
    );
    assert!(
        d.to_string().starts_with("RATE_LIMIT_EXCEEDED: 20 calls"),
        "{d}"
    );
    // Model limits are not decided per tool call.
    let model = Call {
        model: "claude-x".into(),
        ..call(&[("repo.review", 0)])
    };
    assert_eq!(e.decide(&model).verdict, Verdict::Allow);
}

#[test]
fn the_budget_counts_this_tool_call_and_the_job_so_far() {
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let with = |counters: Counters| Call {
        counters: Counters {
            calls_so_far: [("repo.comment".to_owned(), 0)].into(),
            ..counters
        },
        ..Call::tool("repo.comment")
    };
    let over = |counters: Counters| e.decide(&with(counters)).basis.code();
    assert_eq!(over(BUDGET_UNUSED), None);
    let at = Counters {
        tool_calls: Some(99),
        model_calls: Some(10),
        input_tokens: Some(5000),
        output_tokens: Some(1000),
        ..BUDGET_UNUSED
    };
    assert_eq!(over(at.clone()), None);
    for counters in [
        Counters {
            tool_calls: Some(100),
            ..at.clone()
        },
        Counters {
            model_calls: Some(11),
            ..at.clone()
        },
        Counters {
            input_tokens: Some(5001),
            ..at.clone()
        },
        Counters {
            output_tokens: Some(1001),
            ..at.clone()
        },
    ] {
        assert_eq!(over(counters), Some("BUDGET_EXCEEDED"));
    }
}

/// Every counter of MCP_POLICY's budget at zero, and `repo.comment` (of
/// its `repo.*` rate limit) not called yet.
const BUDGET_UNUSED: Counters = Counters {
    calls_so_far: BTreeMap::new(),
    tool_calls: Some(0),
    model_calls: Some(0),
    input_tokens: Some(0),
    output_tokens: Some(0),
};

#[test]
fn a_counter_not_given_denies_unless_the_caller_opts_out() {
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let counted = |counters: Counters| Call {
        counters: Counters {
            calls_so_far: [("repo.comment".to_owned(), 0)].into(),
            ..counters
        },
        ..Call::tool("repo.comment")
    };
    assert_eq!(e.decide(&counted(BUDGET_UNUSED)).verdict, Verdict::Allow);
    // `max_tool_calls = 0` or 100: without `tool_calls` the budget is
    // unknown, and `wpc decide` / `POST /v1/decide` deny.
    let d = e.decide(&counted(Counters {
        tool_calls: None,
        ..BUDGET_UNUSED
    }));
    assert_eq!(
        d.basis,
        Basis::BudgetCounterMissing {
            key: "max_tool_calls",
            max: 100,
            counter: "tool_calls"
        }
    );
    assert_eq!(
        d.to_string(),
        "BUDGET_COUNTER_MISSING: constraints.budget.max_tool_calls = 100 and the call does not give `tool_calls`; failing closed"
    );
    for missing in [
        Counters {
            model_calls: None,
            ..BUDGET_UNUSED
        },
        Counters {
            input_tokens: None,
            ..BUDGET_UNUSED
        },
        Counters {
            output_tokens: None,
            ..BUDGET_UNUSED
        },
    ] {
        assert_eq!(
            e.decide(&counted(missing)).basis.code(),
            Some("BUDGET_COUNTER_MISSING")
        );
    }
    // A rate limit needs a count of some tool it matches (0 included).
    let uncounted = Call {
        counters: BUDGET_UNUSED,
        ..Call::tool("repo.comment")
    };
    let d = e.decide(&uncounted);
    assert_eq!(d.basis.code(), Some("RATE_LIMIT_COUNTER_MISSING"));
    assert!(d.to_string().contains("constraints.rate_limits[0]"), "{d}");
    // Policy tests, replay and the static checks opt out: the per-call
    // rules decide, and the explanation says what was not evaluated.
    let d = e.decide_per_call(&Call::tool("repo.comment"));
    assert_eq!(d.verdict, Verdict::Allow);
    assert!(d.limits_not_evaluated);
    assert!(
        d.to_string()
            .ends_with("; counters not given: rate limits and budget not evaluated"),
        "{d}"
    );
    assert_eq!(d.report("p", "h")["limits_not_evaluated"], json!(true));
    // Given counters are still checked in that mode, and a call no line
    // covers, or one with every counter, says nothing.
    let over = Call {
        counters: Counters {
            tool_calls: Some(100),
            ..Counters::default()
        },
        ..Call::tool("repo.comment")
    };
    assert_eq!(
        e.decide_per_call(&over).basis.code(),
        Some("BUDGET_EXCEEDED")
    );
    let d = e.decide_per_call(&counted(BUDGET_UNUSED));
    assert!(!d.limits_not_evaluated && !d.to_string().contains("not evaluated"));
    assert!(d.report("p", "h").get("limits_not_evaluated").is_none());
    // No budget and no limit: nothing to count.
    let plain = engine(&["repo.comment"], &[], &[]);
    assert_eq!(
        plain.decide(&Call::tool("repo.comment")).verdict,
        Verdict::Allow
    );
}

#[test]
fn calls_so_far_parse_and_add_up() {
    let items = ["a=1", "b.c=2", "a=3", "mcp:x/y=4"].map(String::from);
    let parsed = Counters::parse_calls_so_far(&items).unwrap();
    assert_eq!(parsed["a"], 4);
    assert_eq!(parsed["mcp:x/y"], 4);
    for bad in ["a", "=1", "a=-1", "a=x", "a=1.5"] {
        assert!(
            Counters::parse_calls_so_far(&[bad.to_owned()]).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn oversized_counters_and_mcp_fields_fail_closed() {
    let e = Engine::new(&policy(MCP_POLICY).wpc).unwrap();
    let mut call = mcp_call("mcp:github/get_issue");
    call.definition_hash = "1".repeat(MAX_FIELD_BYTES + 1);
    assert!(matches!(
        e.decide(&call).basis,
        Basis::InputTooLarge {
            field: "definition_hash",
            ..
        }
    ));
    let mut call = Call::tool("repo.comment");
    call.counters.calls_so_far = (0..=MAX_COUNTED_TOOLS)
        .map(|i| (i.to_string(), 0))
        .collect();
    assert!(matches!(
        e.decide(&call).basis,
        Basis::InputTooLarge {
            field: "calls_so_far",
            ..
        }
    ));
}

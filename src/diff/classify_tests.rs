//! One row per kind of change in docs/diff.md: the base policy, edited on one
//! side (or both), must give this class, severity and explanation first.

use serde_json::{Value, json};

use super::*;

fn base() -> Value {
    json!({
        "wpc_version": "1",
        "policy_name": "p",
        "purpose": "Review changes.",
        "constraints": {
            "tool_policy": {
                "allow": ["read", "repo.*", "deploy.staging"],
                "deny": ["secrets.*", "exec", "repo.admin"]
            },
            "sandbox": { "required": true, "workspaceAccess": "ro", "elevated_exec": "deny", "network": "egress-allowlist" },
            "approvals": [
                { "when": "tool == 'deploy.staging'", "require": "human_approval", "approvers": ["acme/release"] }
            ],
            "model_calls": {
                "route_via": "clawproxy", "receipts_required": true,
                "allowed_providers": ["anthropic"], "allowed_models": ["claude-*"]
            },
            "egress": { "allowlist": ["api.example.com"] },
            "token": { "max_ttl_seconds": 1800 }
        },
        "binding": { "cst_scope_hash_required": true, "optional_policy_hash_pinning": true },
        "metadata": { "owner": "platform" }
    })
}

fn wpc(value: Value) -> Wpc {
    serde_json::from_value(value).unwrap()
}

type Edit = fn(&mut Value);

fn keep(_: &mut Value) {}

fn c(v: &mut Value) -> &mut Value {
    &mut v["constraints"]
}

fn push(v: &mut Value, item: &str) {
    v.as_array_mut().unwrap().push(json!(item));
}

fn remove(v: &mut Value, item: &str) {
    v.as_array_mut().unwrap().retain(|x| x != item);
}

const PIN: &str = "446c68d84540f38bf5e629aeed5aaa80b514aeae9f4f43a6fe6e4d6dd6b28ce0";

/// The agent surface: MCP servers with tools and pins, a rate limit, a budget.
fn agent(v: &mut Value) {
    let c = c(v);
    c["mcp"] = json!({
        "servers": [
            { "name": "github", "transport": "stdio", "tools": ["get_issue"], "deny_tools": ["delete_*"] }
        ],
        "deny_servers": ["scratch-*"],
        "pinned_tools": { "github/get_issue": PIN }
    });
    c["rate_limits"] = json!([{ "tool": "repo.comment", "max": 20, "per": "1h" }]);
    c["budget"] = json!({ "max_tool_calls": 500, "max_output_tokens": 100000 });
}

fn mcp(v: &mut Value) -> &mut Value {
    &mut c(v)["mcp"]
}

/// (what, edit old, edit new, class, severity, explanation) for the first
/// (most severe) change.
#[rustfmt::skip]
const ROWS: &[(&str, Edit, Edit, Class, Severity, &str)] = &[
    ("tool allowed", keep, |v| push(&mut c(v)["tool_policy"]["allow"], "deploy.*"),
        Class::Widening, Severity::High, "allows `deploy.*` (was only `deploy.staging`)"),
    ("exec-class tool allowed", keep, |v| push(&mut c(v)["tool_policy"]["allow"], "shell"),
        Class::Widening, Severity::Critical, "allows `shell` (was denied)"),
    ("wildcard tool allowed", keep, |v| push(&mut c(v)["tool_policy"]["allow"], "*"),
        Class::Widening, Severity::Critical, "allows `*` (was only `read`, `repo.*`, `deploy.staging`)"),
    ("denied tool allowed", keep, |v| push(&mut c(v)["tool_policy"]["allow"], "secrets.read"),
        Class::Neutral, Severity::Info, "adds `secrets.read`, which deny `secrets.*` overrides"),
    ("tool already allowed", keep, |v| push(&mut c(v)["tool_policy"]["allow"], "repo.read"),
        Class::Neutral, Severity::Info, "adds `repo.read`, already allowed by `repo.*`"),
    ("allow replaced by a narrower one", keep, |v| {
        let allow = &mut c(v)["tool_policy"]["allow"];
        remove(allow, "repo.*");
        push(allow, "repo.read");
    }, Class::Narrowing, Severity::Low, "no longer allows `repo.*` (now only `repo.read`)"),
    ("deny removed", keep, |v| remove(&mut c(v)["tool_policy"]["deny"], "repo.admin"),
        Class::Widening, Severity::High, "allows `repo.admin` (was denied)"),
    ("deny of an exec-class tool removed", |v| push(&mut c(v)["tool_policy"]["allow"], "ex*"),
        |v| { push(&mut c(v)["tool_policy"]["allow"], "ex*"); remove(&mut c(v)["tool_policy"]["deny"], "exec"); },
        Class::Widening, Severity::Critical, "allows `exec` (was denied)"),
    ("deny removed that nothing allowed", keep, |v| remove(&mut c(v)["tool_policy"]["deny"], "secrets.*"),
        Class::Neutral, Severity::Info, "removes deny `secrets.*`; no allow pattern matches what it denied"),
    ("deny added", keep, |v| push(&mut c(v)["tool_policy"]["deny"], "repo.write"),
        Class::Narrowing, Severity::Low, "denies `repo.write` (was allowed by `repo.*`)"),
    ("deny added inside a deny", keep, |v| push(&mut c(v)["tool_policy"]["deny"], "secrets.read"),
        Class::Neutral, Severity::Info, "adds deny `secrets.read`, already denied by `secrets.*`"),
    ("tool reordering", keep, |v| c(v)["tool_policy"]["allow"].as_array_mut().unwrap().reverse(),
        Class::Neutral, Severity::Info, ""),
    ("sandbox no longer required", keep, |v| c(v)["sandbox"]["required"] = json!(false),
        Class::Widening, Severity::Critical, "sandbox no longer required"),
    ("sandbox required", |v| c(v)["sandbox"]["required"] = json!(false), keep,
        Class::Narrowing, Severity::Low, "sandbox required (was not)"),
    ("workspace access raised", keep, |v| c(v)["sandbox"]["workspaceAccess"] = json!("rw"),
        Class::Widening, Severity::Critical, "workspace access `rw` (was `ro`)"),
    ("workspace access lowered", keep, |v| c(v)["sandbox"]["workspaceAccess"] = json!("none"),
        Class::Narrowing, Severity::Low, "workspace access `none` (was `ro`)"),
    ("elevated exec allowed", keep, |v| c(v)["sandbox"]["elevated_exec"] = json!("allow"),
        Class::Widening, Severity::Critical, "elevated exec allowed (was denied)"),
    ("elevated exec denied", |v| c(v)["sandbox"]["elevated_exec"] = json!("allow"), keep,
        Class::Narrowing, Severity::Low, "elevated exec denied (was allowed)"),
    ("network opened", keep, |v| c(v)["sandbox"]["network"] = json!("open"),
        Class::Widening, Severity::Critical, "sandbox network `open` (was `egress-allowlist`)"),
    ("network setting removed", keep, |v| { c(v)["sandbox"].as_object_mut().unwrap().remove("network"); },
        Class::Widening, Severity::Critical, "sandbox network `open` (was `egress-allowlist`)"),
    ("network closed", keep, |v| c(v)["sandbox"]["network"] = json!("none"),
        Class::Narrowing, Severity::Low, "sandbox network `none` (was `egress-allowlist`)"),
    ("approval gate removed", keep, |v| c(v)["approvals"] = json!([]),
        Class::Widening, Severity::High, "removes approval gate `tool == 'deploy.staging'` (human_approval)"),
    ("approval gate on an exec-class tool removed",
        |v| c(v)["approvals"] = json!([{ "when": "tool == 'exec'", "require": "human_approval" }]),
        |v| c(v)["approvals"] = json!([]),
        Class::Widening, Severity::Critical, "removes approval gate `tool == 'exec'` (human_approval)"),
    ("approval gate added", keep, |v| c(v)["approvals"].as_array_mut().unwrap().push(json!({ "when": "tool == 'repo.write'", "require": "ticket_id" })),
        Class::Narrowing, Severity::Low, "adds approval gate `tool == 'repo.write'` (ticket_id)"),
    ("approval when changed", keep, |v| c(v)["approvals"][0]["when"] = json!("tool == 'deploy.staging' && env == 'prod'"),
        Class::Widening, Severity::High, "gate `tool == 'deploy.staging'` now `tool == 'deploy.staging' && env == 'prod'` (not provably stricter)"),
    ("approval when provably stricter", keep, |v| c(v)["approvals"][0]["when"] = json!("tool == 'repo.write' || tool == 'deploy.staging'"),
        Class::Narrowing, Severity::Low, "(fires at least as often)"),
    ("approval requirement weakened", keep, |v| c(v)["approvals"][0]["require"] = json!("ticket_id"),
        Class::Widening, Severity::High, "gate `tool == 'deploy.staging'` requires ticket_id (was human_approval)"),
    ("approvers dropped", keep, |v| { c(v)["approvals"][0].as_object_mut().unwrap().remove("approvers"); },
        Class::Widening, Severity::High, "gate `tool == 'deploy.staging'`: anyone may approve (was `acme/release`)"),
    ("approver added", keep, |v| push(&mut c(v)["approvals"][0]["approvers"], "acme/interns"),
        Class::Widening, Severity::High, "gate `tool == 'deploy.staging'`: `acme/interns` may approve"),
    ("approval reason reworded", keep, |v| c(v)["approvals"][0]["reason"] = json!("why"),
        Class::Neutral, Severity::Info, "gate `tool == 'deploy.staging'`: reason reworded"),
    ("receipts no longer required", keep, |v| c(v)["model_calls"]["receipts_required"] = json!(false),
        Class::Widening, Severity::Critical, "model call receipts no longer required"),
    ("gateway changed", keep, |v| c(v)["model_calls"]["route_via"] = json!("direct"),
        Class::Widening, Severity::Critical, "model calls routed via `direct` (was `clawproxy`)"),
    ("model calls section removed", keep, |v| { c(v).as_object_mut().unwrap().remove("model_calls"); },
        Class::Widening, Severity::Critical, "model calls no longer routed via `clawproxy`"),
    ("provider allowlist grown", keep, |v| push(&mut c(v)["model_calls"]["allowed_providers"], "openai"),
        Class::Widening, Severity::High, "allows provider `openai`"),
    ("provider allowlist shrunk", |v| push(&mut c(v)["model_calls"]["allowed_providers"], "openai"), keep,
        Class::Narrowing, Severity::Low, "no longer allows provider `openai`"),
    ("model allowlist grown", keep, |v| push(&mut c(v)["model_calls"]["allowed_models"], "gpt-*"),
        Class::Widening, Severity::High, "allows model `gpt-*`"),
    ("model allowlist dropped", keep, |v| { c(v)["model_calls"].as_object_mut().unwrap().remove("allowed_models"); },
        Class::Widening, Severity::High, "any model allowed (was `claude-*`)"),
    ("egress grown", keep, |v| push(&mut c(v)["egress"]["allowlist"], "*.example.org"),
        Class::Widening, Severity::High, "allows egress to `*.example.org`"),
    ("egress shrunk", keep, |v| c(v)["egress"]["allowlist"] = json!([]),
        Class::Narrowing, Severity::Low, "no longer allows egress to `api.example.com`"),
    ("TTL raised", keep, |v| c(v)["token"]["max_ttl_seconds"] = json!(7200),
        Class::Widening, Severity::High, "token TTL 7200 s (was 1800 s)"),
    ("TTL bound removed", keep, |v| { c(v).as_object_mut().unwrap().remove("token"); },
        Class::Widening, Severity::High, "token TTL unbounded (was 1800 s)"),
    ("TTL lowered", keep, |v| c(v)["token"]["max_ttl_seconds"] = json!(600),
        Class::Narrowing, Severity::Low, "token TTL 600 s (was 1800 s)"),
    ("CST binding weakened", keep, |v| v["binding"]["cst_scope_hash_required"] = json!(false),
        Class::Widening, Severity::High, "CST scope hash no longer required"),
    ("hash pinning dropped", keep, |v| { v["binding"].as_object_mut().unwrap().remove("optional_policy_hash_pinning"); },
        Class::Widening, Severity::High, "policy hash pinning no longer required"),
    ("MCP server added", agent, |v| { agent(v); mcp(v)["servers"].as_array_mut().unwrap().push(json!({ "name": "linear", "tools": ["create_issue"] })); },
        Class::Widening, Severity::Critical, "adds MCP server `linear`"),
    ("MCP server removed", agent, |v| { agent(v); mcp(v)["servers"] = json!([]); },
        Class::Narrowing, Severity::Low, "no longer allows MCP server `github`"),
    ("MCP server denied", agent, |v| { agent(v); push(&mut mcp(v)["deny_servers"], "git*"); },
        Class::Narrowing, Severity::Low, "denies MCP servers `git*`"),
    ("MCP server deny removed", agent, |v| { agent(v); mcp(v)["deny_servers"] = json!([]); },
        Class::Widening, Severity::Critical, "no longer denies MCP servers `scratch-*`"),
    ("MCP restrictions removed", agent, |v| { agent(v); c(v).as_object_mut().unwrap().remove("mcp"); },
        Class::Widening, Severity::Critical, "MCP servers no longer restricted"),
    ("MCP restrictions added", keep, agent,
        Class::Narrowing, Severity::Low, "MCP servers restricted to `github`"),
    ("MCP tool added", agent, |v| { agent(v); push(&mut mcp(v)["servers"][0]["tools"], "add_issue_comment"); },
        Class::Widening, Severity::High, "allows tool of MCP server `github` `add_issue_comment`"),
    ("MCP tool list dropped", agent, |v| { agent(v); mcp(v)["servers"][0].as_object_mut().unwrap().remove("tools"); },
        Class::Widening, Severity::High, "any tool of MCP server `github` allowed (was `get_issue`)"),
    ("MCP tool removed", agent, |v| { agent(v); mcp(v)["servers"][0]["tools"] = json!([]); },
        Class::Narrowing, Severity::Low, "no longer allows tool of MCP server `github` `get_issue`"),
    ("MCP tool deny removed", agent, |v| { agent(v); mcp(v)["servers"][0]["deny_tools"] = json!([]); },
        Class::Widening, Severity::High, "MCP server `github`: no longer denies tool `delete_*`"),
    ("MCP transport dropped", agent, |v| { agent(v); mcp(v)["servers"][0].as_object_mut().unwrap().remove("transport"); },
        Class::Widening, Severity::High, "MCP server `github`: transport any (was `stdio`)"),
    ("MCP pin dropped", agent, |v| { agent(v); mcp(v)["pinned_tools"] = json!({}); },
        Class::Widening, Severity::High, "drops the pin of MCP tool `github/get_issue`"),
    ("MCP tool re-pinned", agent, |v| { agent(v); mcp(v)["pinned_tools"]["github/get_issue"] = json!("0".repeat(64)); },
        Class::Widening, Severity::High, "re-pins MCP tool `github/get_issue` to `000000000000` (was `446c68d84540`)"),
    ("MCP tool pinned", |v| { agent(v); mcp(v)["pinned_tools"] = json!({}); }, agent,
        Class::Narrowing, Severity::Low, "pins MCP tool `github/get_issue`"),
    ("rate limit raised", agent, |v| { agent(v); c(v)["rate_limits"][0]["max"] = json!(50); },
        Class::Widening, Severity::High, "rate limit of tool `repo.comment`: 50 per 1h (was 20 per 1h)"),
    ("rate limit window shortened", agent, |v| { agent(v); c(v)["rate_limits"][0]["per"] = json!("1m"); },
        Class::Widening, Severity::High, "rate limit of tool `repo.comment`: 20 per 1m (was 20 per 1h)"),
    ("rate limit lowered and lengthened", agent, |v| { agent(v); c(v)["rate_limits"][0] = json!({ "tool": "repo.comment", "max": 10, "per": "1d" }); },
        Class::Narrowing, Severity::Low, "rate limit of tool `repo.comment`: 10 per 1d (was 20 per 1h)"),
    ("rate limit removed", agent, |v| { agent(v); c(v)["rate_limits"] = json!([]); },
        Class::Widening, Severity::High, "removes the rate limit of tool `repo.comment` (20 per 1h)"),
    ("rate limit added", agent, |v| { agent(v); c(v)["rate_limits"].as_array_mut().unwrap().push(json!({ "model": "claude-*", "max": 60, "per": "1m" })); },
        Class::Narrowing, Severity::Low, "adds a rate limit of model `claude-*` (60 per 1m)"),
    ("budget raised", agent, |v| { agent(v); c(v)["budget"]["max_tool_calls"] = json!(1000); },
        Class::Widening, Severity::High, "budget max_tool_calls 1000 (was 500)"),
    ("budget line removed", agent, |v| { agent(v); c(v)["budget"] = json!({ "max_tool_calls": 500 }); },
        Class::Widening, Severity::High, "budget max_output_tokens unbounded (was 100000)"),
    ("budget lowered", agent, |v| { agent(v); c(v)["budget"]["max_tool_calls"] = json!(100); },
        Class::Narrowing, Severity::Low, "budget max_tool_calls 100 (was 500)"),
    ("budget added", keep, |v| c(v)["budget"] = json!({ "max_model_calls": 10 }),
        Class::Narrowing, Severity::Low, "budget max_model_calls 10 (was unbounded)"),
    ("purpose reworded", keep, |v| v["purpose"] = json!("Review more carefully."),
        Class::Neutral, Severity::Info, "purpose reworded"),
    ("metadata changed", keep, |v| v["metadata"]["owner"] = json!("security"),
        Class::Neutral, Severity::Info, "metadata changed"),
];

#[test]
fn every_kind_of_change_is_classified() {
    for (what, edit_old, edit_new, class, severity, explanation) in ROWS {
        let (mut old, mut new) = (base(), base());
        edit_old(&mut old);
        edit_new(&mut new);
        let changes = compare(&wpc(old), &wpc(new));
        if explanation.is_empty() {
            assert!(changes.is_empty(), "{what}: {changes:#?}");
            continue;
        }
        let first = changes
            .first()
            .unwrap_or_else(|| panic!("{what}: no change"));
        assert_eq!(
            (first.class, first.severity),
            (*class, *severity),
            "{what}: {changes:#?}"
        );
        assert!(
            first.explanation.contains(explanation),
            "{what}: `{}` lacks `{explanation}`",
            first.explanation
        );
    }
}

#[test]
fn new_and_removed_policies() {
    let plain = wpc(base());
    let change = added(&plain);
    assert_eq!(
        (change.class, change.severity),
        (Class::New, Severity::High)
    );
    assert!(change.widens());
    assert_eq!(
        change.explanation,
        "new policy allowing `read`, `repo.*`, `deploy.staging`"
    );

    let mut risky = base();
    push(&mut c(&mut risky)["tool_policy"]["allow"], "shell");
    c(&mut risky)["sandbox"]["elevated_exec"] = json!("allow");
    let change = added(&wpc(risky));
    assert_eq!(change.severity, Severity::Critical);
    assert!(
        change
            .explanation
            .ends_with("; elevated exec allowed (was denied)"),
        "{}",
        change.explanation
    );

    let change = removed(&plain);
    assert_eq!(
        (change.class, change.severity),
        (Class::Removed, Severity::Low)
    );
    assert!(!change.widens());
}

#[test]
fn a_new_policy_with_mcp_servers_is_critical() {
    let mut with = base();
    agent(&mut with);
    let change = added(&wpc(with));
    assert_eq!(change.severity, Severity::Critical);
    assert!(
        change.explanation.ends_with("; adds MCP server `github`"),
        "{}",
        change.explanation
    );
    let mut same = base();
    agent(&mut same);
    assert!(compare(&wpc(same.clone()), &wpc(same)).is_empty());
}

#[test]
fn nothing_changed_means_no_changes() {
    assert!(compare(&wpc(base()), &wpc(base())).is_empty());
}

#[test]
fn a_widening_hidden_among_narrowings_is_still_reported() {
    let mut new = base();
    let tools = &mut c(&mut new)["tool_policy"];
    tools["allow"] = json!(["read", "repo.read", "deploy.*"]);
    tools["deny"] = json!(["secrets.*", "exec", "repo.admin", "deploy.prod"]);
    let changes = compare(&wpc(base()), &wpc(new));
    let widening: Vec<_> = changes.iter().filter(|c| c.widens()).collect();
    assert_eq!(widening.len(), 1, "{changes:#?}");
    assert_eq!(
        widening[0].explanation,
        "allows `deploy.*` (was only `deploy.staging`)"
    );
}

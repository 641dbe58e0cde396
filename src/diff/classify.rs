//! Field-by-field classification of two versions of one policy (docs/diff.md).
//!
//! Absent optional settings are read as the most permissive value they can
//! stand for (no `network` is an open network, no allowlist allows anything,
//! no TTL is unbounded, no `receipts_required` is false), so removing a
//! setting is never mistaken for a narrowing.

use super::tools::{self, critical};
use super::{Change, Class, Severity, mcp};
use crate::decide::gate::{self, Gate};
use crate::decide::requirement_name;
use crate::policy::model::{
    Approval, Binding, Constraints, ElevatedExec, Mcp, ModelCalls, Network, Requirement, Sandbox,
    ToolPolicy, WorkspaceAccess, Wpc,
};

pub fn compare(old: &Wpc, new: &Wpc) -> Vec<Change> {
    let mut out = Vec::new();
    let (o, n) = (&old.constraints, &new.constraints);
    tools::compare(&o.tool_policy, &n.tool_policy, &mut out);
    sandbox(&o.sandbox, &n.sandbox, &mut out);
    gates(&o.approvals, &n.approvals, &mut out);
    model_calls(o.model_calls.as_ref(), n.model_calls.as_ref(), &mut out);
    tools::compare_allowlist(
        "constraints.egress.allowlist",
        "egress to",
        o.egress.as_ref().map(|e| e.allowlist.as_slice()),
        n.egress.as_ref().map(|e| e.allowlist.as_slice()),
        &mut out,
    );
    ttl(o, n, &mut out);
    mcp::compare_mcp(o.mcp.as_ref(), n.mcp.as_ref(), &mut out);
    mcp::compare_rate_limits(&o.rate_limits, &n.rate_limits, &mut out);
    mcp::compare_budget(o.budget.as_ref(), n.budget.as_ref(), &mut out);
    binding(&old.binding, &new.binding, &mut out);
    text(old, new, &mut out);
    // Most severe first; the order within a severity is the order above.
    out.sort_by_key(|c| std::cmp::Reverse(c.severity));
    out
}

/// A new policy: widening, as severe as the strictest possible policy
/// growing into it would be (at least high).
pub fn added(new: &Wpc) -> Change {
    let from_nothing = compare(&strictest(new), new);
    let severity = from_nothing
        .iter()
        .filter(|c| c.widens())
        .map(|c| c.severity)
        .max()
        .unwrap_or(Severity::High)
        .max(Severity::High);
    let mut explanation = format!(
        "new policy allowing {}",
        tools::list(&new.constraints.tool_policy.allow)
    );
    let critical: Vec<&str> = from_nothing
        .iter()
        .filter(|c| c.severity == Severity::Critical && c.field != "constraints.tool_policy.allow")
        .map(|c| c.explanation.as_str())
        .collect();
    if !critical.is_empty() {
        explanation.push_str("; ");
        explanation.push_str(&critical.join("; "));
    }
    Change::new(Class::New, severity, "", explanation)
}

pub fn removed(old: &Wpc) -> Change {
    Change::new(
        Class::Removed,
        Severity::Low,
        "",
        format!(
            "policy removed (it allowed {})",
            tools::list(&old.constraints.tool_policy.allow)
        ),
    )
}

/// The policy that allows nothing, named like `like`: what a new policy is
/// measured against. Optional sections stay absent, so only what the new
/// policy says is judged.
fn strictest(like: &Wpc) -> Wpc {
    Wpc {
        wpc_version: like.wpc_version.clone(),
        policy_name: like.policy_name.clone(),
        purpose: like.purpose.clone(),
        issuer_did: like.issuer_did.clone(),
        revision: like.revision,
        constraints: Constraints {
            tool_policy: ToolPolicy {
                allow: Vec::new(),
                deny: Vec::new(),
            },
            sandbox: Sandbox {
                required: true,
                workspace_access: WorkspaceAccess::Ro,
                elevated_exec: ElevatedExec::Deny,
                network: like.constraints.sandbox.network,
            },
            approvals: like.constraints.approvals.clone(),
            model_calls: like.constraints.model_calls.clone(),
            egress: like.constraints.egress.clone(),
            token: like.constraints.token.clone(),
            // The servers are what a new policy brings in; its denials
            // and pins stay, so only the servers are judged.
            mcp: like.constraints.mcp.as_ref().map(|m| Mcp {
                servers: Vec::new(),
                ..m.clone()
            }),
            rate_limits: like.constraints.rate_limits.clone(),
            budget: like.constraints.budget.clone(),
        },
        binding: Binding {
            cst_scope_hash_required: true,
            optional_policy_hash_pinning: like.binding.optional_policy_hash_pinning,
        },
        metadata: like.metadata.clone(),
    }
}

fn sandbox(old: &Sandbox, new: &Sandbox, out: &mut Vec<Change>) {
    const FIELD: &str = "constraints.sandbox";
    if old.required != new.required {
        let field = "constraints.sandbox.required";
        out.push(if new.required {
            Change::narrowing(field, "sandbox required (was not)".to_owned())
        } else {
            Change::critical(field, "sandbox no longer required".to_owned())
        });
    }
    let access = |a: WorkspaceAccess| match a {
        WorkspaceAccess::None => "none",
        WorkspaceAccess::Ro => "ro",
        WorkspaceAccess::Rw => "rw",
    };
    ordered(
        "constraints.sandbox.workspaceAccess",
        "workspace access",
        old.workspace_access,
        new.workspace_access,
        access,
        Severity::Critical,
        out,
    );
    if old.elevated_exec != new.elevated_exec {
        let field = "constraints.sandbox.elevated_exec";
        out.push(match new.elevated_exec {
            ElevatedExec::Allow => {
                Change::critical(field, "elevated exec allowed (was denied)".to_owned())
            }
            ElevatedExec::Deny => {
                Change::narrowing(field, "elevated exec denied (was allowed)".to_owned())
            }
        });
    }
    // No `network` constrains nothing: read it as open.
    let network = |n: Option<Network>| n.unwrap_or(Network::Open);
    let name = |n: Network| match n {
        Network::None => "none",
        Network::EgressAllowlist => "egress-allowlist",
        Network::Open => "open",
    };
    if old.network != new.network {
        ordered(
            &format!("{FIELD}.network"),
            "sandbox network",
            network(old.network),
            network(new.network),
            name,
            Severity::Critical,
            out,
        );
    }
}

/// A setting whose values are ordered from least to most access.
fn ordered<T: Ord + Copy>(
    field: &str,
    what: &str,
    old: T,
    new: T,
    name: impl Fn(T) -> &'static str,
    severity: Severity,
    out: &mut Vec<Change>,
) {
    let explanation = format!("{what} `{}` (was `{}`)", name(new), name(old));
    match new.cmp(&old) {
        std::cmp::Ordering::Greater => out.push(Change::widening(severity, field, explanation)),
        std::cmp::Ordering::Less => out.push(Change::narrowing(field, explanation)),
        std::cmp::Ordering::Equal => {}
    }
}

const GATES: &str = "constraints.approvals";

/// Gates have no identity, so they are paired in rounds: identical, then
/// the same `when`, then what is left in order. An unpaired old gate was
/// removed (widening), an unpaired new one added (narrowing).
fn gates(old: &[Approval], new: &[Approval], out: &mut Vec<Change>) {
    let mut old: Vec<&Approval> = old.iter().collect();
    let mut new: Vec<&Approval> = new.iter().collect();
    let mut pairs = Vec::new();
    let same_rule = |a: &&Approval, b: &&Approval| {
        a.when == b.when && a.require == b.require && a.approvers == b.approvers
    };
    let same_when = |a: &&Approval, b: &&Approval| a.when == b.when;
    for matches in [
        &same_rule as &dyn Fn(&&Approval, &&Approval) -> bool,
        &same_when,
    ] {
        let mut i = 0;
        while i < old.len() {
            if let Some(j) = new.iter().position(|n| matches(&old[i], n)) {
                pairs.push((old.remove(i), new.remove(j)));
            } else {
                i += 1;
            }
        }
    }
    let leftover = old.len().min(new.len());
    let rest_old = old.split_off(leftover);
    let rest_new = new.split_off(leftover);
    pairs.extend(old.into_iter().zip(new));

    // Building the CEL environment costs more than most diffs: only when a
    // gate changed.
    let env = std::cell::OnceCell::new();
    let compile = |when: &str| Gate::compile(env.get_or_init(gate::environment), when).ok();
    let severity = |approval: &Approval| {
        let critical_tools =
            compile(&approval.when).is_some_and(|g| g.named_tools().iter().any(|t| critical(t)));
        if critical_tools {
            Severity::Critical
        } else {
            Severity::High
        }
    };
    for (o, n) in pairs {
        if o.when != n.when {
            let stricter = match (compile(&o.when), compile(&n.when)) {
                (Some(o), Some(n)) => n.covers(&o),
                _ => false,
            };
            let explanation = format!("gate `{}` now `{}`", o.when, n.when);
            out.push(if stricter {
                Change::narrowing(GATES, format!("{explanation} (fires at least as often)"))
            } else {
                Change::widening(
                    severity(o),
                    GATES,
                    format!("{explanation} (not provably stricter)"),
                )
            });
        }
        if o.require != n.require {
            let explanation = format!(
                "gate `{}` requires {} (was {})",
                n.when,
                requirement_name(n.require),
                requirement_name(o.require)
            );
            // A human's approval is the stronger requirement.
            out.push(if n.require == Requirement::HumanApproval {
                Change::narrowing(GATES, explanation)
            } else {
                Change::widening(severity(n), GATES, explanation)
            });
        }
        approvers(o, n, || severity(n), out);
        if o.reason != n.reason && o.when == n.when {
            out.push(Change::neutral(
                GATES,
                format!("gate `{}`: reason reworded", n.when),
            ));
        }
    }
    for o in rest_old {
        out.push(Change::widening(
            severity(o),
            GATES,
            format!(
                "removes approval gate `{}` ({})",
                o.when,
                requirement_name(o.require)
            ),
        ));
    }
    for n in rest_new {
        out.push(Change::narrowing(
            GATES,
            format!(
                "adds approval gate `{}` ({})",
                n.when,
                requirement_name(n.require)
            ),
        ));
    }
}

/// No approvers means anyone may approve; fewer named approvers is stricter.
fn approvers(
    old: &Approval,
    new: &Approval,
    severity: impl Fn() -> Severity,
    out: &mut Vec<Change>,
) {
    let when = &new.when;
    match (&old.approvers, &new.approvers) {
        (Some(o), None) => out.push(Change::widening(
            severity(),
            GATES,
            format!("gate `{when}`: anyone may approve (was {})", tools::list(o)),
        )),
        (None, Some(n)) => out.push(Change::narrowing(
            GATES,
            format!("gate `{when}`: approvers {} (was anyone)", tools::list(n)),
        )),
        (Some(o), Some(n)) => {
            for added in n.iter().filter(|a| !o.contains(a)) {
                out.push(Change::widening(
                    severity(),
                    GATES,
                    format!("gate `{when}`: `{added}` may approve"),
                ));
            }
            for gone in o.iter().filter(|a| !n.contains(a)) {
                out.push(Change::narrowing(
                    GATES,
                    format!("gate `{when}`: `{gone}` may no longer approve"),
                ));
            }
        }
        (None, None) => {}
    }
}

fn model_calls(old: Option<&ModelCalls>, new: Option<&ModelCalls>, out: &mut Vec<Change>) {
    let none = ModelCalls {
        route_via: None,
        receipts_required: None,
        allowed_providers: None,
        allowed_models: None,
    };
    let (o, n) = (old.unwrap_or(&none), new.unwrap_or(&none));
    let field = "constraints.model_calls.route_via";
    match (&o.route_via, &n.route_via) {
        (Some(a), Some(b)) if a != b => out.push(Change::critical(
            field,
            format!("model calls routed via `{b}` (was `{a}`)"),
        )),
        (Some(a), None) => out.push(Change::critical(
            field,
            format!("model calls no longer routed via `{a}`"),
        )),
        (None, Some(b)) => out.push(Change::narrowing(
            field,
            format!("model calls routed via `{b}` (were not routed)"),
        )),
        _ => {}
    }
    let (was, is) = (
        o.receipts_required.unwrap_or(false),
        n.receipts_required.unwrap_or(false),
    );
    let field = "constraints.model_calls.receipts_required";
    if was && !is {
        out.push(Change::critical(
            field,
            "model call receipts no longer required".to_owned(),
        ));
    } else if !was && is {
        out.push(Change::narrowing(
            field,
            "model call receipts required (were not)".to_owned(),
        ));
    }
    tools::compare_allowlist(
        "constraints.model_calls.allowed_providers",
        "provider",
        o.allowed_providers.as_deref(),
        n.allowed_providers.as_deref(),
        out,
    );
    tools::compare_allowlist(
        "constraints.model_calls.allowed_models",
        "model",
        o.allowed_models.as_deref(),
        n.allowed_models.as_deref(),
        out,
    );
}

fn ttl(old: &Constraints, new: &Constraints, out: &mut Vec<Change>) {
    let get = |c: &Constraints| c.token.as_ref().and_then(|t| t.max_ttl_seconds);
    let field = "constraints.token.max_ttl_seconds";
    let show = |t: Option<u64>| t.map_or_else(|| "unbounded".to_owned(), |t| format!("{t} s"));
    let (o, n) = (get(old), get(new));
    let explanation = format!("token TTL {} (was {})", show(n), show(o));
    // `None` is unbounded: larger than any bound.
    let rank = |t: Option<u64>| t.unwrap_or(u64::MAX);
    match rank(n).cmp(&rank(o)) {
        std::cmp::Ordering::Greater => out.push(Change::high(field, explanation)),
        std::cmp::Ordering::Less => out.push(Change::narrowing(field, explanation)),
        std::cmp::Ordering::Equal => {}
    }
}

fn binding(old: &Binding, new: &Binding, out: &mut Vec<Change>) {
    let flag = |field: &str, what: &str, was: bool, is: bool, out: &mut Vec<Change>| {
        if was && !is {
            out.push(Change::high(field, format!("{what} no longer required")));
        } else if !was && is {
            out.push(Change::narrowing(
                field,
                format!("{what} required (was not)"),
            ));
        }
    };
    flag(
        "binding.cst_scope_hash_required",
        "CST scope hash",
        old.cst_scope_hash_required,
        new.cst_scope_hash_required,
        out,
    );
    flag(
        "binding.optional_policy_hash_pinning",
        "policy hash pinning",
        old.optional_policy_hash_pinning.unwrap_or(false),
        new.optional_policy_hash_pinning.unwrap_or(false),
        out,
    );
}

/// Settings that describe the policy without changing what it allows.
fn text(old: &Wpc, new: &Wpc, out: &mut Vec<Change>) {
    if old.purpose != new.purpose {
        out.push(Change::neutral("purpose", "purpose reworded".to_owned()));
    }
    if old.metadata != new.metadata {
        out.push(Change::neutral("metadata", "metadata changed".to_owned()));
    }
    if old.issuer_did != new.issuer_did {
        out.push(Change::neutral("issuer_did", "issuer changed".to_owned()));
    }
    if old.revision != new.revision {
        let show = |r: Option<u64>| r.map_or_else(|| "none".to_owned(), |r| r.to_string());
        out.push(Change::neutral(
            "revision",
            format!(
                "revision {} (was {})",
                show(new.revision),
                show(old.revision)
            ),
        ));
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;

//! The agent surface of a policy, classified: MCP servers, their tools and
//! pins, rate limits and the budget (docs/diff.md).
//!
//! As everywhere in the diff, an absent setting reads as the most
//! permissive value it can stand for: no `[constraints.mcp]` is any server,
//! no `tools` list is every tool, no rate limit or budget line is unbounded.

use super::tools::{self, list};
use super::{Change, Severity};
use crate::policy::mcp::{self as names, ServerStanding};
use crate::policy::model::{Budget, Mcp, McpServer, RateLimit, window_seconds};

const SERVERS: &str = "constraints.mcp.servers";
const DENY_SERVERS: &str = "constraints.mcp.deny_servers";
const PINS: &str = "constraints.mcp.pinned_tools";
const LIMITS: &str = "constraints.rate_limits";

pub fn compare_mcp(old: Option<&Mcp>, new: Option<&Mcp>, out: &mut Vec<Change>) {
    let (old, new) = match (old, new) {
        (None, None) => return,
        (Some(_), None) => {
            out.push(Change::critical(
                "constraints.mcp",
                "MCP servers no longer restricted: any server the tool policy allows".to_owned(),
            ));
            return;
        }
        (None, Some(new)) => {
            out.push(Change::narrowing(
                "constraints.mcp",
                format!(
                    "MCP servers restricted to {} (were any the tool policy allows)",
                    list(&usable_names(new))
                ),
            ));
            return;
        }
        (Some(old), Some(new)) => (old, new),
    };
    deny_servers(old, new, out);
    for server in &new.servers {
        if !usable(new, &server.name) {
            continue;
        }
        match old.server(&server.name) {
            Some((_, was)) if usable(old, &was.name) => compare_server(was, server, out),
            _ => out.push(Change::critical(
                SERVERS,
                format!("adds MCP server `{}`", server.name),
            )),
        }
    }
    for server in &old.servers {
        if usable(old, &server.name) && !usable(new, &server.name) {
            out.push(Change::narrowing(
                SERVERS,
                format!("no longer allows MCP server `{}`", server.name),
            ));
        }
    }
    pins(old, new, out);
}

/// Whether the policy lists the server and does not deny it.
fn usable(mcp: &Mcp, server: &str) -> bool {
    matches!(names::standing(mcp, server), ServerStanding::Listed { .. })
}

fn usable_names(mcp: &Mcp) -> Vec<String> {
    mcp.servers
        .iter()
        .filter(|s| usable(mcp, &s.name))
        .map(|s| s.name.clone())
        .collect()
}

fn deny_servers(old: &Mcp, new: &Mcp, out: &mut Vec<Change>) {
    let (o, n) = (
        old.deny_servers.as_deref().unwrap_or_default(),
        new.deny_servers.as_deref().unwrap_or_default(),
    );
    for gone in o.iter().filter(|p| !n.contains(p)) {
        out.push(Change::critical(
            DENY_SERVERS,
            format!("no longer denies MCP servers `{gone}`"),
        ));
    }
    for added in n.iter().filter(|p| !o.contains(p)) {
        out.push(Change::narrowing(
            DENY_SERVERS,
            format!("denies MCP servers `{added}`"),
        ));
    }
}

fn compare_server(old: &McpServer, new: &McpServer, out: &mut Vec<Change>) {
    let name = &new.name;
    let show = |v: Option<&str>| v.map_or_else(|| "any".to_owned(), |v| format!("`{v}`"));
    let setting = |key: &str, o: Option<&str>, n: Option<&str>, out: &mut Vec<Change>| {
        let field = format!("{SERVERS}.{key}");
        let explanation = format!("MCP server `{name}`: {key} {} (was {})", show(n), show(o));
        match (o, n) {
            (Some(a), Some(b)) if a != b => out.push(Change::high(&field, explanation)),
            (Some(_), None) => out.push(Change::high(&field, explanation)),
            (None, Some(_)) => out.push(Change::narrowing(&field, explanation)),
            _ => {}
        }
    };
    setting(
        "transport",
        old.transport.map(|t| t.as_str()),
        new.transport.map(|t| t.as_str()),
        out,
    );
    setting("url", old.url.as_deref(), new.url.as_deref(), out);
    tools::compare_allowlist(
        &format!("{SERVERS}.tools"),
        &format!("tool of MCP server `{name}`"),
        old.tools.as_deref(),
        new.tools.as_deref(),
        out,
    );
    let (o, n) = (
        old.deny_tools.as_deref().unwrap_or_default(),
        new.deny_tools.as_deref().unwrap_or_default(),
    );
    let field = format!("{SERVERS}.deny_tools");
    for gone in o.iter().filter(|p| !n.contains(p)) {
        out.push(Change::high(
            &field,
            format!("MCP server `{name}`: no longer denies tool `{gone}`"),
        ));
    }
    for added in n.iter().filter(|p| !o.contains(p)) {
        out.push(Change::narrowing(
            &field,
            format!("MCP server `{name}`: denies tool `{added}`"),
        ));
    }
}

/// A dropped pin lets any definition through; a changed one approves a new
/// definition: both widen.
fn pins(old: &Mcp, new: &Mcp, out: &mut Vec<Change>) {
    let empty = Default::default();
    let (o, n) = (
        old.pinned_tools.as_ref().unwrap_or(&empty),
        new.pinned_tools.as_ref().unwrap_or(&empty),
    );
    for (key, hash) in o {
        match n.get(key) {
            None => out.push(Change::high(
                PINS,
                format!("drops the pin of MCP tool `{key}`: any definition is accepted"),
            )),
            Some(now) if !now.eq_ignore_ascii_case(hash) => out.push(Change::high(
                PINS,
                format!(
                    "re-pins MCP tool `{key}` to `{}` (was `{}`): a new definition is approved",
                    short(now),
                    short(hash)
                ),
            )),
            Some(_) => {}
        }
    }
    for key in n.keys().filter(|k| !o.contains_key(*k)) {
        out.push(Change::narrowing(PINS, format!("pins MCP tool `{key}`")));
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Limits are paired by what they count (`tool` or `model` pattern): a
/// limit without a partner was added (narrowing) or removed (widening).
pub fn compare_rate_limits(old: &[RateLimit], new: &[RateLimit], out: &mut Vec<Change>) {
    let subject = |l: &RateLimit| match (&l.tool, &l.model) {
        (Some(tool), _) => format!("tool `{tool}`"),
        (None, Some(model)) => format!("model `{model}`"),
        (None, None) => "nothing".to_owned(),
    };
    let same = |a: &RateLimit, b: &RateLimit| a.tool == b.tool && a.model == b.model;
    let mut unpaired: Vec<&RateLimit> = new.iter().collect();
    for o in old {
        let Some(at) = unpaired.iter().position(|n| same(o, n)) else {
            out.push(Change::high(
                LIMITS,
                format!(
                    "removes the rate limit of {} ({} per {})",
                    subject(o),
                    o.max,
                    o.per
                ),
            ));
            continue;
        };
        let n = unpaired.remove(at);
        if n.max == o.max && n.per == o.per {
            continue;
        }
        let explanation = format!(
            "rate limit of {}: {} per {} (was {} per {})",
            subject(n),
            n.max,
            n.per,
            o.max,
            o.per
        );
        // At most as many calls in a window at least as long is stricter:
        // every shorter window lies inside a longer one.
        let (ow, nw) = (window_seconds(&o.per), window_seconds(&n.per));
        let stricter = n.max <= o.max && matches!((ow, nw), (Some(ow), Some(nw)) if nw >= ow);
        out.push(if stricter {
            Change::narrowing(LIMITS, explanation)
        } else {
            Change::high(LIMITS, explanation)
        });
    }
    for n in unpaired {
        out.push(Change::narrowing(
            LIMITS,
            format!(
                "adds a rate limit of {} ({} per {})",
                subject(n),
                n.max,
                n.per
            ),
        ));
    }
}

pub fn compare_budget(old: Option<&Budget>, new: Option<&Budget>, out: &mut Vec<Change>) {
    let none = Budget::default();
    let (o, n) = (old.unwrap_or(&none), new.unwrap_or(&none));
    for (key, was, is) in [
        ("max_model_calls", o.max_model_calls, n.max_model_calls),
        ("max_tool_calls", o.max_tool_calls, n.max_tool_calls),
        ("max_input_tokens", o.max_input_tokens, n.max_input_tokens),
        (
            "max_output_tokens",
            o.max_output_tokens,
            n.max_output_tokens,
        ),
    ] {
        let field = format!("constraints.budget.{key}");
        let show = |v: Option<u64>| v.map_or_else(|| "unbounded".to_owned(), |v| v.to_string());
        let explanation = format!("budget {key} {} (was {})", show(is), show(was));
        // `None` is unbounded: larger than any bound.
        let rank = |v: Option<u64>| v.unwrap_or(u64::MAX);
        match rank(is).cmp(&rank(was)) {
            std::cmp::Ordering::Greater => {
                out.push(Change::widening(Severity::High, &field, explanation))
            }
            std::cmp::Ordering::Less => out.push(Change::narrowing(&field, explanation)),
            std::cmp::Ordering::Equal => {}
        }
    }
}

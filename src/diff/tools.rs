//! Tool patterns compared as the sets of tools they allow.
//!
//! The allowed set is `allow \ deny`. Each added or removed pattern is
//! judged by what it does to that set, using the sound relations of
//! `policy::pattern`: a pattern is "already covered" only when inclusion is
//! proven, so an unprovable case is reported as widening, never hidden. Every
//! tool the new policy allows and the old did not is the witness of some
//! added allow or removed deny, and each of those is reported unless proven
//! harmless, so no widening goes unreported.

use std::collections::BTreeSet;

use super::{Change, Severity};
use crate::policy::model::ToolPolicy;
use crate::policy::pattern::{includes, is_universal, literal_prefix, overlaps};

const ALLOW: &str = "constraints.tool_policy.allow";
const DENY: &str = "constraints.tool_policy.deny";

/// Tools that run arbitrary code: widening any of them is critical.
pub const EXEC_CLASS: &[&str] = &[
    "exec",
    "exec.*",
    "shell",
    "shell.*",
    "bash",
    "process",
    "process.*",
    "code_execution",
];

/// Whether allowing `pattern` reaches exec-class tools, or is a wildcard
/// that is not confined to one namespace (`*`, `*.merge`).
pub fn critical(pattern: &str) -> bool {
    is_universal(pattern)
        || literal_prefix(pattern).is_empty()
        || EXEC_CLASS.iter().any(|e| overlaps(pattern, e))
}

pub fn compare(old: &ToolPolicy, new: &ToolPolicy, out: &mut Vec<Change>) {
    let set = |list: &[String]| list.iter().cloned().collect::<BTreeSet<String>>();
    let (old_allow, new_allow) = (set(&old.allow), set(&new.allow));
    let (old_deny, new_deny) = (set(&old.deny), set(&new.deny));

    for p in new_allow.difference(&old_allow) {
        out.push(added_allow(p, old, new));
    }
    for d in old_deny.difference(&new_deny) {
        out.push(removed_deny(d, new));
    }
    for p in old_allow.difference(&new_allow) {
        out.push(removed_allow(p, old, new));
    }
    for d in new_deny.difference(&old_deny) {
        out.push(added_deny(d, old));
    }
}

fn quoted(list: &[&String]) -> String {
    list.iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn added_allow(p: &str, old: &ToolPolicy, new: &ToolPolicy) -> Change {
    if let Some(d) = new.deny.iter().find(|d| includes(d, p)) {
        return Change::neutral(ALLOW, format!("adds `{p}`, which deny `{d}` overrides"));
    }
    // Tools of `p` that an old deny held back stay held back only if that
    // deny (or a wider one) is still there.
    let old_denies_kept = old
        .deny
        .iter()
        .filter(|d| overlaps(d, p))
        .all(|d| new.deny.iter().any(|n| includes(n, d)));
    if old_denies_kept && let Some(a) = old.allow.iter().find(|a| includes(a, p)) {
        return Change::neutral(ALLOW, format!("adds `{p}`, already allowed by `{a}`"));
    }
    let was = if let Some(d) = old.deny.iter().find(|d| includes(d, p)) {
        format!("was denied by `{d}`")
    } else {
        let narrower: Vec<&String> = old.allow.iter().filter(|a| includes(p, a)).collect();
        if narrower.is_empty() {
            "was denied".to_owned()
        } else {
            format!("was only {}", quoted(&narrower))
        }
    };
    let severity = if critical(p) {
        Severity::Critical
    } else {
        Severity::High
    };
    Change::widening(severity, ALLOW, format!("allows `{p}` ({was})"))
}

fn removed_deny(d: &str, new: &ToolPolicy) -> Change {
    if let Some(n) = new.deny.iter().find(|n| includes(n, d)) {
        return Change::neutral(DENY, format!("removes deny `{d}`, still denied by `{n}`"));
    }
    let reached: Vec<&String> = new.allow.iter().filter(|a| overlaps(a, d)).collect();
    if reached.is_empty() {
        return Change::neutral(
            DENY,
            format!("removes deny `{d}`; no allow pattern matches what it denied"),
        );
    }
    // Critical when the tools let through can be exec-class or unconfined.
    let severity = if critical(d) && reached.iter().any(|a| critical(a)) {
        Severity::Critical
    } else {
        Severity::High
    };
    let explanation = match new.allow.iter().find(|a| includes(a, d)) {
        Some(_) => format!("allows `{d}` (was denied)"),
        None => format!("no longer denies `{d}` (allowed by {})", quoted(&reached)),
    };
    Change::widening(severity, DENY, explanation)
}

fn removed_allow(p: &str, old: &ToolPolicy, new: &ToolPolicy) -> Change {
    if let Some(d) = old.deny.iter().find(|d| includes(d, p)) {
        return Change::neutral(ALLOW, format!("removes `{p}`, which deny `{d}` overrode"));
    }
    let no_new_denies = new
        .deny
        .iter()
        .filter(|n| overlaps(n, p))
        .all(|n| old.deny.iter().any(|d| includes(d, n)));
    if no_new_denies && let Some(a) = new.allow.iter().find(|a| includes(a, p)) {
        return Change::neutral(ALLOW, format!("removes `{p}`, still allowed by `{a}`"));
    }
    let narrower: Vec<&String> = new.allow.iter().filter(|a| includes(p, a)).collect();
    let explanation = if narrower.is_empty() {
        format!("no longer allows `{p}`")
    } else {
        format!("no longer allows `{p}` (now only {})", quoted(&narrower))
    };
    Change::narrowing(ALLOW, explanation)
}

fn added_deny(d: &str, old: &ToolPolicy) -> Change {
    if let Some(o) = old.deny.iter().find(|o| includes(o, d)) {
        return Change::neutral(DENY, format!("adds deny `{d}`, already denied by `{o}`"));
    }
    let reached: Vec<&String> = old.allow.iter().filter(|a| overlaps(a, d)).collect();
    if reached.is_empty() {
        return Change::neutral(
            DENY,
            format!("adds deny `{d}`; no allow pattern matched it"),
        );
    }
    Change::narrowing(
        DENY,
        format!("denies `{d}` (was allowed by {})", quoted(&reached)),
    )
}

/// A list of patterns where absence means "anything" (allowed models, egress
/// hosts): widening for each new pattern no old one includes, narrowing for
/// each old pattern no new one includes.
pub fn compare_allowlist(
    field: &str,
    what: &str,
    old: Option<&[String]>,
    new: Option<&[String]>,
    out: &mut Vec<Change>,
) {
    match (old, new) {
        (None, None) => {}
        (Some(old), None) => out.push(Change::high(
            field,
            format!("any {what} allowed (was {})", list(old)),
        )),
        (None, Some(new)) => out.push(Change::narrowing(
            field,
            format!("only {} allowed (was any {what})", list(new)),
        )),
        (Some(old), Some(new)) => {
            for p in new {
                if !old.iter().any(|o| includes(o, p)) {
                    out.push(Change::high(field, format!("allows {what} `{p}`")));
                }
            }
            for p in old {
                if !new.iter().any(|n| includes(n, p)) {
                    out.push(Change::narrowing(
                        field,
                        format!("no longer allows {what} `{p}`"),
                    ));
                }
            }
        }
    }
}

pub fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

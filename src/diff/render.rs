//! A revision diff as text (terminal), JSON (`wpc-diff` version 1) or
//! Markdown (the pull request comment).

use std::fmt::Write as _;

use serde_json::json;

use super::RevisionDiff;
use super::approvals::{CONFIG_NAME, RequirementStatus};
use super::{Change, PolicyDiff, Severity, Version};
use crate::policy::hash::short as short_hash;
use crate::report::{Envelope, Format, Formats, Unsupported};
use crate::revision::short;

/// The formats of a diff.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json, Format::Markdown]);

/// The `format` and `version` of the JSON document.
pub const ENVELOPE: Envelope = Envelope::new("wpc-diff", 1);

/// GitHub refuses comments over 65,536 characters; policy sections stop
/// before this many and a line says how many were left out.
pub const MAX_MARKDOWN_CHARS: usize = 60_000;
/// Policies named in one row of the approvals table.
const MAX_NAMED_POLICIES: usize = 20;

/// Render `diff` with the approval requirements it triggers. `reviewed` says
/// whether `statuses` were evaluated against real approvals (the bot) or
/// against none (`wpc diff`), which only lists what is required.
pub fn render(
    diff: &RevisionDiff,
    statuses: &[RequirementStatus],
    reviewed: bool,
    format: Format,
) -> Result<String, Unsupported> {
    Ok(match format {
        Format::Text => text(diff, statuses, reviewed),
        Format::Json => json(diff, statuses, reviewed),
        Format::Markdown => markdown(diff, statuses, reviewed),
        Format::Sarif | Format::Github | Format::Junit => {
            return Err(Unsupported {
                format,
                output: "a diff",
            });
        }
    })
}

fn hashes(policy: &PolicyDiff) -> String {
    let side = |v: &Option<Version>| {
        v.as_ref()
            .map_or_else(|| "(none)".to_owned(), |v| short_hash(&v.hash).to_owned())
    };
    format!("{} -> {}", side(&policy.old), side(&policy.new))
}

fn summary(diff: &RevisionDiff) -> String {
    let widening = diff.policies.iter().filter(|p| p.widens()).count();
    let count = |n: usize| {
        if n == 1 {
            "1 policy".to_owned()
        } else {
            format!("{n} policies")
        }
    };
    let policies = match (diff.policies.len(), widening) {
        (0, _) => "no policy changed".to_owned(),
        (n, 0) => format!("{} changed, none widens", count(n)),
        (n, 1) => format!("{} changed, 1 widens", count(n)),
        (n, w) => format!("{} changed, {w} widen", count(n)),
    };
    if diff.config_changes.is_empty() {
        policies
    } else {
        format!("{policies}; {CONFIG_NAME} changed")
    }
}

pub fn text(diff: &RevisionDiff, statuses: &[RequirementStatus], reviewed: bool) -> String {
    let mut out = format!(
        "wpc diff {}..{}: {}\n",
        short(diff.base),
        short(diff.head),
        summary(diff)
    );
    let sections = diff
        .policies
        .iter()
        .map(|p| (format!("{}  {}", p.name, hashes(p)), p.changes.as_slice()))
        .chain(
            (!diff.config_changes.is_empty())
                .then(|| (CONFIG_NAME.to_owned(), diff.config_changes.as_slice())),
        );
    for (title, changes) in sections {
        let _ = writeln!(out, "\n{title}");
        for change in changes {
            let _ = writeln!(
                out,
                "  {:<8}  {:<9}  {}{}",
                change.severity.as_str(),
                change.class.as_str(),
                change.explanation,
                if change.field.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", change.field)
                }
            );
        }
    }
    if !statuses.is_empty() {
        out.push_str("\napprovals required:\n");
        for status in statuses {
            let r = &status.requirement;
            let _ = write!(
                out,
                "  {}: {} (for {})",
                r.class.as_str(),
                r.describe(),
                r.policies.join(", ")
            );
            if reviewed {
                let _ = write!(out, ": {}", progress(status));
            }
            out.push('\n');
        }
    }
    out
}

fn progress(status: &RequirementStatus) -> String {
    let by = if status.approved_by.is_empty() {
        String::new()
    } else {
        format!(
            " by {}",
            status
                .approved_by
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if status.met() {
        format!("met{by}")
    } else {
        format!("{} missing{}", status.missing, approved_part(&by))
    }
}

fn approved_part(by: &str) -> String {
    if by.is_empty() {
        String::new()
    } else {
        format!(" (approved{by})")
    }
}

fn json(diff: &RevisionDiff, statuses: &[RequirementStatus], reviewed: bool) -> String {
    let value = json!({
        "format": ENVELOPE.format,
        "version": ENVELOPE.version,
        "base": diff.base.to_string(),
        "head": diff.head.to_string(),
        "widens": diff.widens(),
        "policies": diff.policies.iter().map(|p| json!({
            "name": p.name,
            "old": p.old,
            "new": p.new,
            "severity": p.severity(),
            "widens": p.widens(),
            "changes": p.changes,
        })).collect::<Vec<_>>(),
        "config": diff.config_changes,
        "approvals": statuses.iter().map(|s| {
            let mut v = json!(s.requirement);
            if reviewed {
                v["approved_by"] = json!(s.approved_by);
                v["missing"] = json!(s.missing);
            }
            v
        }).collect::<Vec<_>>(),
    });
    // Serializing a `Value` cannot fail.
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Text from a policy (patterns, gate expressions) made safe for a table
/// cell: no row breaks, no HTML.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴 critical",
        Severity::High => "🟠 high",
        Severity::Low => "🟢 low",
        Severity::Info => "⚪ info",
    }
}

pub fn markdown(diff: &RevisionDiff, statuses: &[RequirementStatus], reviewed: bool) -> String {
    let mut out = format!(
        "### wpc policy diff `{}` → `{}`\n\n{}.\n",
        short(diff.base),
        short(diff.head),
        summary(diff)
    );
    if !diff.policies.is_empty() {
        out.push_str("\n| Policy | Old hash | New hash | Severity |\n|---|---|---|---|\n");
        for policy in &diff.policies {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                policy.name,
                markdown_hash(&policy.old),
                markdown_hash(&policy.new),
                icon(policy.severity())
            );
        }
    }
    if !statuses.is_empty() {
        out.push_str("\n#### Approvals\n\n");
        if reviewed {
            out.push_str("| Required | For | Approved by | Status |\n|---|---|---|---|\n");
        } else {
            out.push_str("| Required | For |\n|---|---|\n");
        }
        for status in statuses {
            let r = &status.requirement;
            let mut policies: Vec<String> = r
                .policies
                .iter()
                .take(MAX_NAMED_POLICIES)
                .map(|p| format!("`{p}`"))
                .collect();
            if r.policies.len() > MAX_NAMED_POLICIES {
                policies.push(format!(
                    "and {} more",
                    r.policies.len() - MAX_NAMED_POLICIES
                ));
            }
            let _ = write!(
                out,
                "| **{}**: {} | {} |",
                r.class.as_str(),
                cell(&r.describe()),
                policies.join(", ")
            );
            if reviewed {
                let by: Vec<String> = status
                    .approved_by
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect();
                let state = if status.met() {
                    "✅ met".to_owned()
                } else {
                    format!("⏳ {} missing", status.missing)
                };
                let _ = write!(
                    out,
                    " {} | {} |",
                    if by.is_empty() {
                        "—".to_owned()
                    } else {
                        by.join(", ")
                    },
                    state
                );
            }
            out.push('\n');
        }
    } else if !diff.policies.is_empty() {
        out.push_str("\nNo approval is required for these changes.\n");
    }
    if !diff.config_changes.is_empty() {
        let _ = write!(
            out,
            "\n#### `{CONFIG_NAME}`\n\n{}",
            changes_table(&diff.config_changes)
        );
    }
    let mut left_out = 0;
    for (i, policy) in diff.policies.iter().enumerate() {
        let section = policy_section(policy);
        if out.len() + section.len() > MAX_MARKDOWN_CHARS {
            left_out = diff.policies.len() - i;
            break;
        }
        out.push_str(&section);
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\n_{left_out} more changed {} not shown: run `wpc diff {} {}` for all of them._",
            if left_out == 1 { "policy" } else { "policies" },
            short(diff.base),
            short(diff.head)
        );
    }
    out
}

fn markdown_hash(version: &Option<Version>) -> String {
    version
        .as_ref()
        .map_or_else(|| "—".to_owned(), |v| format!("`{}`", short_hash(&v.hash)))
}

fn policy_section(policy: &PolicyDiff) -> String {
    let mut out = format!(
        "\n#### `{}` {} → {}\n\n",
        policy.name,
        markdown_hash(&policy.old),
        markdown_hash(&policy.new)
    );
    out.push_str(&changes_table(&policy.changes));
    out
}

fn changes_table(changes: &[Change]) -> String {
    let mut out = "| Severity | Class | Change | Setting |\n|---|---|---|---|\n".to_owned();
    for Change {
        class,
        severity,
        field,
        explanation,
    } in changes
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            icon(*severity),
            class.as_str(),
            cell(explanation),
            if field.is_empty() {
                String::new()
            } else {
                format!("`{field}`")
            }
        );
    }
    out
}

//! What a release, a verification and a migration say, as text.

use std::fmt::Write as _;

use super::{Plan, Violation};
use crate::report::Report;

/// One line per released version (and its renderings), then the counts and
/// where the branch is.
pub fn summary(plan: &Plan, branch: &str, dry_run: bool) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would release" } else { "released" };
    for r in &plan.released {
        let _ = write!(
            out,
            "{verb} {} {} from {}",
            r.name,
            r.hash,
            r.commit.get(..12).unwrap_or(&r.commit)
        );
        if let Some(previous) = &r.previous {
            let _ = write!(out, " (previous {previous})");
        }
        if !r.new_envelope {
            out.push_str(" (known content: existing envelope)");
        }
        if let Some(pr) = r.pr {
            let _ = write!(out, " PR #{pr}");
            if !r.approved_by.is_empty() {
                let _ = write!(out, " approved by {}", r.approved_by.join(", "));
            }
        }
        out.push('\n');
        for (version, hash) in &r.renderings {
            let _ = writeln!(out, "  {:<8}{hash}", version.rendering());
        }
    }
    let _ = writeln!(
        out,
        "{} released, {} refused{}",
        plan.released.len(),
        plan.refused.len(),
        match (plan.commit, dry_run) {
            (_, true) => " (dry run: nothing written)".to_owned(),
            (Some(commit), false) => format!("; {branch} is at {commit}"),
            (None, false) => format!("; {branch} unchanged"),
        }
    );
    out
}

/// Every version that was not released, why, and its lint findings.
pub fn refused(plan: &Plan) -> String {
    let mut out = String::new();
    for refused in &plan.refused {
        let _ = writeln!(
            out,
            "error: not released: {} at {}: {}",
            refused.what,
            refused.commit.to_string().get(..12).unwrap_or_default(),
            refused.reason
        );
        if !refused.findings.is_empty() {
            let report = Report::new(refused.findings.clone(), 1);
            out.push_str(&report.text(false, false));
        }
    }
    out
}

/// One line per violation of the trust rules, then their count.
pub fn violations(branch: &str, violations: &[Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        let _ = writeln!(
            out,
            "INVALID commit {}: {}: {}",
            v.commit,
            v.reason.code(),
            v.message
        );
    }
    let _ = writeln!(out, "{branch}: {} violation(s)", violations.len());
    out
}

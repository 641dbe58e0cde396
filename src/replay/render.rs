//! Output of a replay: text for people, `wpc-replay` JSON for tools.

use std::fmt::Write as _;

use serde::Serialize;

use super::{CallKind, Impact, PolicyImpact};
use crate::report::{Envelope, Format, Formats, Unsupported};

/// The `format` and `version` of the JSON document.
pub const ENVELOPE: Envelope = Envelope::new("wpc-replay", 1);

/// The formats of `wpc replay`.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json]);

/// Render in `format`, one of [`FORMATS`].
pub fn render(impact: &Impact, counted: usize, format: Format) -> Result<String, Unsupported> {
    Ok(match format {
        Format::Text => text(impact, counted),
        Format::Json => json(impact, counted),
        Format::Sarif | Format::Github | Format::Junit | Format::Markdown => {
            return Err(Unsupported {
                format,
                output: "a replay",
            });
        }
    })
}

fn kind(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Tool => "tool",
        CallKind::Model => "model",
        CallKind::SideEffect => "side effect",
    }
}

/// One line per policy and changed example, then the bundles that did not
/// count and why.
pub fn text(impact: &Impact, counted: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "replayed {counted} bundle(s): {} call(s) change decision; {} bundle(s) rejected, {} without a known policy",
        impact.changed(),
        impact.rejected.len(),
        impact.unresolved.len()
    );
    for policy in &impact.policies {
        let _ = writeln!(out, "{}", summary(policy));
        for example in &policy.examples {
            let _ = writeln!(
                out,
                "  {}: {} `{}` ({} -> {}) in {} run {} event {}",
                example.change.describe(),
                kind(example.kind),
                example.subject,
                example.base,
                example.head,
                example.bundle.display(),
                example.run_id,
                example.event
            );
        }
        let hidden = policy.changed().saturating_sub(policy.examples.len());
        if hidden > 0 {
            let _ = writeln!(out, "  ... and {hidden} more");
        }
    }
    for rejected in &impact.rejected {
        let _ = writeln!(
            out,
            "rejected (protocol checks failed, calls not counted): {} [{}]",
            rejected.path.display(),
            rejected.reasons()
        );
    }
    for (path, why) in &impact.unresolved {
        let _ = writeln!(out, "not replayed: {}: {why}", path.display());
    }
    out
}

/// `NAME: B bundle(s), C call(s): A newly allowed, D newly denied, P newly
/// needs approval`.
pub fn summary(policy: &PolicyImpact) -> String {
    format!(
        "{}: {} bundle(s), {} call(s): {} newly allowed, {} newly denied, {} newly need approval",
        policy.policy,
        policy.bundles,
        policy.calls,
        policy.newly_allowed,
        policy.newly_denied,
        policy.newly_needs_approval
    )
}

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    envelope: Envelope,
    counted: usize,
    changed: usize,
    policies: &'a [PolicyImpact],
    rejected: Vec<JsonRejected>,
    unresolved: Vec<JsonUnresolved>,
}

#[derive(Serialize)]
struct JsonRejected {
    bundle: String,
    codes: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonUnresolved {
    bundle: String,
    reason: String,
}

fn json(impact: &Impact, counted: usize) -> String {
    let report = JsonReport {
        envelope: ENVELOPE,
        counted,
        changed: impact.changed(),
        policies: &impact.policies,
        rejected: impact
            .rejected
            .iter()
            .map(|r| JsonRejected {
                bundle: r.path.display().to_string(),
                codes: r.codes.iter().map(|c| c.as_str()).collect(),
            })
            .collect(),
        unresolved: impact
            .unresolved
            .iter()
            .map(|(path, why)| JsonUnresolved {
                bundle: path.display().to_string(),
                reason: why.to_string(),
            })
            .collect(),
    };
    // Plain data: serializing cannot fail.
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_default();
    out.push('\n');
    out
}

/// The "Impact on recorded runs" section of a pull request comment or of
/// `wpc diff --format markdown`.
pub fn markdown(impact: &Impact, counted: usize) -> String {
    let mut out = String::from("### Impact on recorded runs\n\n");
    let _ = writeln!(
        out,
        "{counted} verified bundle(s) replayed: {} recorded call(s) change decision.\n",
        impact.changed()
    );
    if !impact.policies.is_empty() {
        out.push_str(
            "| policy | bundles | calls | newly allowed | newly denied | newly need approval |\n",
        );
        out.push_str("|---|---|---|---|---|---|\n");
        for p in &impact.policies {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                p.policy,
                p.bundles,
                p.calls,
                p.newly_allowed,
                p.newly_denied,
                p.newly_needs_approval
            );
        }
        out.push('\n');
    }
    for example in impact.policies.iter().flat_map(|p| &p.examples) {
        let _ = writeln!(
            out,
            "- {}: {} `{}` ({} → {}) in `{}`, run `{}`, event `{}`",
            example.change.describe(),
            kind(example.kind),
            example.subject,
            example.base,
            example.head,
            example.bundle.display(),
            example.run_id,
            example.event
        );
    }
    for rejected in &impact.rejected {
        let _ = writeln!(
            out,
            "- not counted (protocol checks failed): `{}` ({})",
            rejected.path.display(),
            rejected.reasons()
        );
    }
    for (path, why) in &impact.unresolved {
        let _ = writeln!(out, "- not replayed: `{}`: {why}", path.display());
    }
    out
}

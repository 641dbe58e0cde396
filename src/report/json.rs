//! `wpc-findings` version 1: the documented JSON output
//! (schema/wpc-findings.v1.schema.json).

use serde::Serialize;

use super::baseline::Entry;
use super::{Envelope, Finding, Location, Report, Severity, Suppression};

pub const ENVELOPE: Envelope = Envelope::new("wpc-findings", 1);

#[derive(Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    envelope: Envelope,
    files_checked: usize,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    /// Findings that do not count: present when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressed: Vec<JsonSuppressed<'a>>,
    #[serde(skip_serializing_if = "no_entries")]
    stale_baseline: &'a [Entry],
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    #[serde(skip_serializing_if = "is_zero")]
    suppressed: usize,
    #[serde(skip_serializing_if = "is_zero")]
    stale_baseline: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn no_entries(entries: &&[Entry]) -> bool {
    entries.is_empty()
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    state: &'static str,
    suppression: JsonSuppression<'a>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonSuppression<'a> {
    InSource { reason: &'a str },
    Baseline,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span: Option<Span>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: String,
    span: Span,
    label: &'a str,
}

#[derive(Serialize)]
struct Span {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    byte_start: usize,
    byte_end: usize,
}

pub(super) fn render(report: &Report) -> String {
    let document = Document {
        envelope: ENVELOPE,
        files_checked: report.files_checked,
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
            suppressed: report.suppressed().len(),
            stale_baseline: report.stale_baseline.len(),
        },
        findings: report.findings().iter().map(finding).collect(),
        suppressed: report
            .suppressed()
            .iter()
            .map(|s| JsonSuppressed {
                finding: finding(&s.finding),
                state: "suppressed",
                suppression: match &s.suppression {
                    Suppression::InSource { reason } => JsonSuppression::InSource { reason },
                    Suppression::Baseline => JsonSuppression::Baseline,
                },
            })
            .collect(),
        stale_baseline: &report.stale_baseline,
    };
    // Serializing plain structs of strings and integers cannot fail.
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        code: f.code,
        severity: f.severity,
        message: &f.message,
        help: f.help.as_deref(),
        file: f.file().map(|p| p.to_string_lossy().into_owned()),
        span: f.location.as_ref().map(span),
        related: f
            .related
            .iter()
            .map(|r| JsonRelated {
                file: r.location.path().to_string_lossy().into_owned(),
                span: span(&r.location),
                label: &r.label,
            })
            .collect(),
    }
}

fn span(loc: &Location) -> Span {
    let (end_line, end_column) = loc.source.line_col(loc.range.end);
    Span {
        line: loc.line,
        column: loc.column,
        end_line,
        end_column,
        byte_start: loc.range.start,
        byte_end: loc.range.end,
    }
}

//! `wpc-findings/1`: the documented JSON output (schema/wpc-findings.v1.schema.json).

use serde::Serialize;

use super::{Finding, Report, Severity};

pub const FORMAT: &str = "wpc-findings/1";

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    files_checked: usize,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
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
        format: FORMAT,
        files_checked: report.files_checked,
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
        },
        findings: report.findings().iter().map(finding).collect(),
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
        span: f.location.as_ref().map(|loc| {
            let (end_line, end_column) = loc.source.line_col(loc.range.end);
            Span {
                line: loc.line,
                column: loc.column,
                end_line,
                end_column,
                byte_start: loc.range.start,
                byte_end: loc.range.end,
            }
        }),
    }
}

//! SARIF 2.1.0 through `serde-sarif`, for GitHub code scanning.

use serde_sarif::sarif;

use super::{Finding, Report, RuleInfo, Severity};

pub(super) fn render(report: &Report, rules: &[RuleInfo]) -> String {
    let driver = sarif::ToolComponent::builder()
        .name("wpc")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(crate::DOCS_URL)
        .rules(rules.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(
            report
                .findings()
                .iter()
                .map(|f| result(f, rules))
                .collect::<Vec<_>>(),
        )
        .build();
    let log = sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    // Serializing the generated SARIF model cannot fail: it holds only
    // strings, integers and maps with string keys.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn descriptor(rule: &RuleInfo) -> sarif::ReportingDescriptor {
    sarif::ReportingDescriptor::builder()
        .id(rule.code)
        .name(rule.name)
        .short_description(text(rule.summary))
        .help_uri(rule.help_uri.as_str())
        .build()
}

fn text(s: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder().text(s).build()
}

fn level(severity: Severity) -> sarif::ResultLevel {
    match severity {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warning => sarif::ResultLevel::Warning,
        Severity::Info => sarif::ResultLevel::Note,
    }
}

fn result(finding: &Finding, rules: &[RuleInfo]) -> sarif::Result {
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut result = sarif::Result::builder()
        .rule_id(finding.code)
        .level(level(finding.severity))
        .message(sarif::Message::builder().text(message).build())
        .build();
    result.rule_index = rules
        .iter()
        .position(|r| r.code == finding.code)
        .map(to_i64);
    result.locations = finding.file().map(|file| {
        let mut physical = sarif::PhysicalLocation::builder()
            .artifact_location(sarif::ArtifactLocation::builder().uri(uri(file)).build())
            .build();
        physical.region = finding.location.as_ref().map(|loc| {
            let (end_line, end_column) = loc.source.line_col(loc.range.end);
            sarif::Region::builder()
                .start_line(to_i64(loc.line))
                .start_column(to_i64(loc.column))
                .end_line(to_i64(end_line))
                .end_column(to_i64(end_column))
                .build()
        });
        vec![
            sarif::Location::builder()
                .physical_location(physical)
                .build(),
        ]
    });
    result
}

/// SARIF wants URIs: forward slashes, relative paths stay relative so code
/// scanning resolves them against the checkout.
fn uri(path: &std::path::Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

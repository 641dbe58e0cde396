//! SARIF 2.1.0 through `serde-sarif`, for GitHub code scanning.

use std::collections::BTreeMap;
use std::path::Path;

use serde_sarif::sarif;

use super::fingerprint::KEY as FINGERPRINT;
use super::{Finding, Location, Report, RuleInfo, Severity, Suppression, portable_path as uri};

pub(super) fn render(report: &Report, rules: &[RuleInfo]) -> String {
    let driver = sarif::ToolComponent::builder()
        .name("wpc")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri(crate::DOCS_URL)
        .rules(rules.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let mut run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results(report, rules))
        .build();
    // `wpc/check/`: the trailing slash makes it a category (SARIF §3.17.4),
    // which GitHub keeps apart from other uploads' alerts.
    run.automation_details = report.category.map(|command| {
        sarif::RunAutomationDetails::builder()
            .id(format!("wpc/{command}/"))
            .build()
    });
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

/// Each finding as a result with its fingerprint; suppressed ones carry
/// `suppressions`, which code scanning shows as dismissed rather than open.
fn results(report: &Report, rules: &[RuleInfo]) -> Vec<sarif::Result> {
    report
        .fingerprinted()
        .into_iter()
        .map(|entry| {
            let mut result = result(entry.finding, rules);
            result.partial_fingerprints = Some(BTreeMap::from([(
                FINGERPRINT.to_owned(),
                entry.fingerprint,
            )]));
            result.suppressions = entry.suppression.map(|s| vec![suppression(s)]);
            result
        })
        .collect()
}

fn suppression(suppression: &Suppression) -> sarif::Suppression {
    match suppression {
        Suppression::InSource { reason } => sarif::Suppression::builder()
            .kind(serde_json::json!("inSource"))
            .justification(reason.as_str())
            .build(),
        Suppression::Baseline => sarif::Suppression::builder()
            .kind(serde_json::json!("external"))
            .justification("accepted in the baseline file")
            .build(),
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
        vec![
            sarif::Location::builder()
                .physical_location(physical(file, finding.location.as_ref()))
                .build(),
        ]
    });
    if !finding.related.is_empty() {
        result.related_locations = Some(
            finding
                .related
                .iter()
                .zip(0..)
                .map(|(related, id)| {
                    let at = &related.location;
                    let mut location = sarif::Location::builder()
                        .physical_location(physical(at.path(), Some(at)))
                        .message(sarif::Message::builder().text(&related.label).build())
                        .build();
                    location.id = Some(id);
                    location
                })
                .collect(),
        );
    }
    result
}

fn physical(file: &Path, location: Option<&Location>) -> sarif::PhysicalLocation {
    let mut physical = sarif::PhysicalLocation::builder()
        .artifact_location(sarif::ArtifactLocation::builder().uri(uri(file)).build())
        .build();
    physical.region = location.map(|loc| {
        let (end_line, end_column) = loc.source.line_col(loc.range.end);
        sarif::Region::builder()
            .start_line(to_i64(loc.line))
            .start_column(to_i64(loc.column))
            .end_line(to_i64(end_line))
            .end_column(to_i64(end_column))
            .build()
    });
    physical
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SourceFile;

    fn fingerprints_and_lines(text: &str) -> Vec<(String, i64)> {
        let source = SourceFile::new("policies/p.toml", text);
        let findings = ["exec", "shell", "exec"]
            .iter()
            .map(|word| {
                let start = text.find(&format!("\"{word}\" # ")).unwrap();
                Finding::new("WPC004", Severity::Error, format!("`{word}` is dangerous"))
                    .at(&source, start..start + word.len() + 2)
            })
            .collect();
        let sarif: serde_json::Value =
            serde_json::from_str(&Report::new(findings, 1).sarif(&[])).unwrap();
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"][FINGERPRINT]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_i64()
                        .unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn fingerprints_survive_moved_lines_and_tell_apart_what_differs() {
        let before = "allow = [\n\"exec\" # a\n, \"shell\" # b\n]\n";
        let moved = "# a new comment\n\n\nallow = [\n\"exec\" # a\n, \"shell\" # b\n]\n";
        let (a, b) = (
            fingerprints_and_lines(before),
            fingerprints_and_lines(moved),
        );
        let prints = |v: &[(String, i64)]| v.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
        assert_eq!(prints(&a), prints(&b));
        assert_ne!(a[0].1, b[0].1, "the lines did move");
        // Different findings, and the same finding twice, differ.
        assert_ne!(a[0].0, a[1].0);
        assert_ne!(a[0].0, a[2].0);
    }
}

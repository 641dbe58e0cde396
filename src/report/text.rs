//! rustc-style text: a snippet with a caret under the offending value.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Finding, Report, Severity};

pub(super) fn render(report: &Report, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for finding in report.findings() {
        out.push_str(&renderer.render(&[group(finding)]));
        out.push_str("\n\n");
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

fn group(finding: &Finding) -> Group<'_> {
    let title = level(finding.severity)
        .primary_title(finding.message.as_str())
        .id(finding.code);
    let mut group = match (&finding.location, &finding.path) {
        (Some(loc), _) => title.element(
            Snippet::source(loc.source.text())
                .path(loc.path().to_string_lossy())
                .annotation(AnnotationKind::Primary.span(loc.range.clone())),
        ),
        (None, Some(path)) => title.element(Level::NOTE.message(format!("in {}", path.display()))),
        (None, None) => Group::with_title(title),
    };
    if let Some(help) = &finding.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    group
}

fn summary(report: &Report) -> String {
    let (errors, warnings, infos) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Info),
    );
    let files = plural(report.files_checked, "file");
    if errors + warnings + infos == 0 {
        return format!("{files} checked: no findings");
    }
    format!(
        "{files} checked: {}, {}, {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(infos, "info")
    )
}

fn plural(n: usize, word: &str) -> String {
    // "info" has no plural in this sense ("3 infos" reads worse than "3 info").
    if n == 1 || word == "info" {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

//! rustc-style text: a snippet with a caret under the offending value.

use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Finding, Related, Report, Severity, Suppression};

/// `verbose` also lists the suppressed findings and stale baseline entries,
/// which are otherwise only counted.
pub(super) fn render(report: &Report, color: bool, verbose: bool) -> String {
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
    if verbose {
        out.push_str(&suppressed(report));
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// One line per suppressed finding and per stale baseline entry.
fn suppressed(report: &Report) -> String {
    let mut out = String::new();
    for s in report.suppressed() {
        let why = match &s.suppression {
            Suppression::InSource { reason } if reason.is_empty() => "no reason given".to_owned(),
            Suppression::InSource { reason } => reason.clone(),
            Suppression::Baseline => "in the baseline".to_owned(),
        };
        let f = &s.finding;
        out.push_str(&format!(
            "suppressed {}[{}] {}: {} ({why})\n",
            f.severity,
            f.code,
            f.position(),
            f.message
        ));
    }
    for entry in &report.stale_baseline {
        out.push_str(&format!("stale baseline entry {entry}\n"));
    }
    if !out.is_empty() {
        out.push('\n');
    }
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
    // Related places in the finding's own file are marked in its snippet;
    // those in other files get a snippet each, in the order given.
    let mut elsewhere: Vec<&Related> = Vec::new();
    let mut group = match (&finding.location, &finding.path) {
        (Some(loc), _) => {
            let mut snippet = Snippet::source(loc.source.text())
                .path(loc.path().to_string_lossy())
                .annotation(AnnotationKind::Primary.span(loc.range.clone()));
            for related in &finding.related {
                if related.location.source == loc.source {
                    snippet = snippet.annotation(context(related));
                } else {
                    elsewhere.push(related);
                }
            }
            title.element(snippet)
        }
        (None, Some(path)) => {
            elsewhere.extend(&finding.related);
            title.element(Level::NOTE.message(format!("in {}", path.display())))
        }
        (None, None) => {
            elsewhere.extend(&finding.related);
            Group::with_title(title)
        }
    };
    for related in elsewhere {
        let at = &related.location;
        group = group.element(
            Snippet::source(at.source.text())
                .path(at.path().to_string_lossy())
                .annotation(context(related)),
        );
    }
    if let Some(help) = &finding.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    group
}

fn context(related: &Related) -> Annotation<'_> {
    AnnotationKind::Context
        .span(related.location.range.clone())
        .label(related.label.as_str())
}

fn summary(report: &Report) -> String {
    let (errors, warnings, infos) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Info),
    );
    let files = plural(report.files_checked, "file");
    let mut out = if errors + warnings + infos == 0 {
        format!("{files} checked: no findings")
    } else {
        format!(
            "{files} checked: {}, {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(infos, "info")
        )
    };
    let suppressed = report.suppressed().len();
    if suppressed > 0 {
        out.push_str(&format!(", {suppressed} suppressed"));
    }
    let stale = report.stale_baseline.len();
    if stale > 0 {
        out.push_str(&format!(
            "; {} no longer found (`--write-baseline` drops {})",
            plural(stale, "baseline entry"),
            if stale == 1 { "it" } else { "them" }
        ));
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    // "info" has no plural in this sense ("3 infos" reads worse than "3 info").
    if n == 1 || word == "info" {
        format!("{n} {word}")
    } else if let Some(stem) = word.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SourceFile;

    #[test]
    fn related_places_in_other_files_get_their_own_snippet() {
        let first = SourceFile::new("a.toml", "policy_name = \"p\"\n");
        let second = SourceFile::new("b.toml", "\npolicy_name = \"p\"\n");
        let finding = Finding::new("WPC004", Severity::Error, "policy name `p` is already used")
            .at(&second, 15..18)
            .with_related(first.locate(14..17).annotated("first used here"));
        let text = render(&Report::new(vec![finding], 2), false, false);
        let expected = "\
error[WPC004]: policy name `p` is already used
 --> b.toml:2:15
  |
2 | policy_name = \"p\"
  |               ^^^
  |
 ::: a.toml:1:15
  |
1 | policy_name = \"p\"
  |               --- first used here";
        assert!(text.starts_with(expected), "{text}");
    }
}

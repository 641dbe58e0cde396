//! GitHub Actions workflow commands, which show up as annotations on the PR.

use super::{Finding, Report, Severity};

pub(super) fn render(report: &Report) -> String {
    report.findings().iter().map(command).collect()
}

fn command(finding: &Finding) -> String {
    let kind = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let Some(file) = finding.file() {
        props.push(format!("file={}", escape_property(&file.to_string_lossy())));
    }
    // Only the start position: spans that end elsewhere (or at EOF) make GitHub
    // draw the annotation on the wrong line.
    if let Some(loc) = &finding.location {
        props.push(format!("line={}", loc.line));
        props.push(format!("col={}", loc.column));
    }
    props.push(format!("title={}", escape_property(finding.code)));
    // An annotation has one place: the others are named in its text.
    let mut message = finding.one_line();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!("::{kind} {}::{}\n", props.join(","), escape_data(&message))
}

/// Escaping as GitHub's `@actions/core` does for the message part.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping for `key=value` properties, which also may not contain `:` or `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_escape_separators() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
    }
}

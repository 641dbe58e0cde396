use std::ops::Range;

use super::ApprovalWhenSyntax;
use crate::decide::Engine;
use crate::decide::gate::SyntaxError;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for ApprovalWhenSyntax {
    fn check_policy(&self, policy: &Policy, engine: &Engine, cx: &mut Context<'_>) {
        for (i, (approval, gate)) in engine.gates().enumerate() {
            let Err(error) = gate else {
                continue;
            };
            let pointer = format!("/constraints/approvals/{i}/when");
            let span = policy.doc.value_span(&pointer);
            let finding = cx.report(
                &policy.doc,
                &pointer,
                format!("`when` does not parse: {}", error.message),
            );
            if let Some(inner) = error_span(policy.doc.source.text(), span, &approval.when, error) {
                finding.location = Some(policy.doc.source.locate(inner));
            }
            finding.help = Some(
                "a gate that does not parse denies every allowed call; see docs/decide.md for the CEL variables"
                    .to_owned(),
            );
        }
    }
}

/// The error's position inside the TOML string, when the string is written
/// on one line without escapes (so its text is the expression verbatim,
/// after the opening quote).
fn error_span(
    text: &str,
    span: Range<usize>,
    when: &str,
    error: &SyntaxError,
) -> Option<Range<usize>> {
    let (1, column) = error.position? else {
        return None;
    };
    let written = text.get(span.clone())?;
    let verbatim = [format!("\"{when}\""), format!("'{when}'")].contains(&written.to_owned());
    if !verbatim || when.contains(['\\', '\n']) {
        return None;
    }
    let offset = when
        .char_indices()
        .nth(column - 1)
        .map_or(when.len(), |(i, _)| i);
    let start = span.start + 1 + offset;
    let end = (start + 1).min(span.end - 1).max(start);
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    fn gated(when: &str) -> String {
        format!("{CLEAN}\n[[constraints.approvals]]\nwhen = {when}\nrequire = \"human_approval\"\n")
    }

    #[test]
    fn points_into_the_string() {
        let found = run_default(&ApprovalWhenSyntax, &[&gated("\"tool == 'a' &&\"")]);
        // `when = "` is 8 columns; the parser stops at the end of the
        // 14-character expression.
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("22:23 `when` does not parse: Syntax error"),
            "{found:?}"
        );
    }

    #[test]
    fn falls_back_to_the_whole_string() {
        let found = run_default(&ApprovalWhenSyntax, &[&gated("\"tool == \\\"a\\\" &&\"")]);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("22:8 "), "{found:?}");
    }

    #[test]
    fn quiet_for_valid_gates() {
        assert!(run_default(&ApprovalWhenSyntax, &[&gated("\"tool == 'read'\"")]).is_empty());
    }
}

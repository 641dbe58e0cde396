//! Found by the suppression pass (`lint::suppress`), after every other rule.

use super::SuppressionWithoutReason;
use crate::lint::Rule;
use crate::lint::suppress::Directive;
use crate::report::{Described, Finding};

impl Rule for SuppressionWithoutReason {}

/// The finding on a suppression without a reason.
pub fn finding(directive: &Directive) -> Finding {
    let codes: Vec<&str> = directive.codes.iter().map(|(c, _)| c.as_str()).collect();
    let what = if codes.is_empty() {
        "this suppression".to_owned()
    } else {
        format!("suppression of `{}`", codes.join("`, `"))
    };
    let example = codes.first().copied().unwrap_or("CODE");
    Finding::new(
        SuppressionWithoutReason.meta().code,
        SuppressionWithoutReason.meta().default_severity,
        format!("{what} gives no reason"),
    )
    .at(&directive.source, directive.range.clone())
    .help(format!(
        "say why the finding is accepted after `--`: `# wpc:ignore {example} -- why`"
    ))
}

//! Found by the suppression pass (`lint::suppress`), after every other rule.

use crate::lint::suppress::Directive;
use crate::lint::{Rule, RuleMeta};
use crate::report::{Finding, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "WPC027",
    name: "suppression-without-reason",
    summary: "a `# wpc:ignore` suppression gives no reason",
    default_severity: Severity::Error,
    doc: include_str!("../../../docs/rules/WPC027.md"),
};

pub struct SuppressionWithoutReason;

impl Rule for SuppressionWithoutReason {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

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
        META.code,
        META.default_severity,
        format!("{what} gives no reason"),
    )
    .at(&directive.source, directive.range.clone())
    .help(format!(
        "say why the finding is accepted after `--`: `# wpc:ignore {example} -- why`"
    ))
}

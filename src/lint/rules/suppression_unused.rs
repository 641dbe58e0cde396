//! Found by the suppression pass (`lint::suppress`), after every other rule.

use std::ops::Range;

use super::SuppressionUnused;
use crate::lint::Rule;
use crate::lint::suppress::Directive;
use crate::report::{Described, Finding};

impl Rule for SuppressionUnused {}

fn at(directive: &Directive, range: Range<usize>, message: String) -> Finding {
    Finding::new(
        SuppressionUnused.meta().code,
        SuppressionUnused.meta().default_severity,
        message,
    )
    .at(&directive.source, range)
}

/// A code of a rule with no finding where the suppression applies.
pub fn stale(directive: &Directive, code: &str, range: &Range<usize>) -> Finding {
    let (message, help) = match directive.line {
        // No line number in the message: it is part of the finding's
        // fingerprint, which must not change when lines move.
        Some(_) => (
            format!("suppression of `{code}` matches no finding on its line"),
            "the finding is gone: remove the code (or the comment)",
        ),
        None => (
            format!("suppression of `{code}` applies to no line"),
            "put it after the flagged value, or on the line directly above it (no blank line between)",
        ),
    };
    at(directive, range.clone(), message).help(help)
}

/// A code or name that is no rule of `wpc check`.
pub fn unknown(directive: &Directive, code: &str, range: &Range<usize>) -> Finding {
    at(
        directive,
        range.clone(),
        format!("`{code}` is not a wpc rule code or name: this suppression can never match"),
    )
    .help("`wpc rule --list` lists the rules; separate several codes with commas")
}

/// A rule whose findings cannot be suppressed.
pub fn unsuppressible(
    directive: &Directive,
    code: &str,
    range: &Range<usize>,
    why: &str,
) -> Finding {
    at(
        directive,
        range.clone(),
        format!("`{code}` cannot be suppressed: {why}"),
    )
}

/// `# wpc:ignore` with no code before `--`.
pub fn names_no_rule(directive: &Directive) -> Finding {
    at(
        directive,
        directive.range.clone(),
        "`wpc:ignore` names no rule".to_owned(),
    )
    .help("name the codes it accepts: `# wpc:ignore WPC007 -- why`")
}

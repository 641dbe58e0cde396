//! Inline suppressions: a TOML comment `# wpc:ignore CODE[, CODE...] --
//! reason` accepts the findings of those rules on its line (after other
//! text) or, on a line of its own, on the next line that is not a comment.
//! Applied to the findings after every rule ran and levels were set, so a
//! suppression sees exactly what would be reported.
//!
//! Suppressed findings are kept (every output shows them); a suppression
//! without a reason is a finding (WPC027), and so is one that matches
//! nothing, names no rule, or names a check that cannot be suppressed
//! (WPC028).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use toml_parser::Source;
use toml_parser::lexer::TokenKind;

use super::rules::{suppression_unused, suppression_without_reason};
use crate::report::{Finding, SourceFile, Suppressed, Suppression};

/// The comment's marker.
const MARKER: &str = "wpc:ignore";

/// One `# wpc:ignore` comment.
#[derive(Debug)]
pub struct Directive {
    pub source: SourceFile,
    /// The whole comment.
    pub range: Range<usize>,
    /// The line whose findings it accepts; `None` when a blank line or the
    /// end of the file follows it.
    pub line: Option<usize>,
    /// The codes (or rule names) as written, each with where it is.
    pub codes: Vec<(String, Range<usize>)>,
    /// The text after `--`; `None` when there is none.
    pub reason: Option<String>,
}

/// The `# wpc:ignore` comments of a TOML file. Comments are found by the
/// TOML lexer, so `#` inside a string is not one.
pub fn parse(source: &SourceFile) -> Vec<Directive> {
    let text = source.text();
    // Most files have none; lexing them would only cost time.
    if !text.contains(MARKER) {
        return Vec::new();
    }
    let mut directives = Vec::new();
    // Directives on lines of their own, waiting for the line they apply to.
    let mut pending: Vec<usize> = Vec::new();
    let mut line_has_code = false;
    let mut line_is_blank = true;
    for token in Source::new(text).lex() {
        let span = token.span();
        match token.kind() {
            TokenKind::Whitespace => {}
            TokenKind::Newline | TokenKind::Eof => {
                if line_is_blank || token.kind() == TokenKind::Eof {
                    pending.clear();
                }
                line_has_code = false;
                line_is_blank = true;
            }
            TokenKind::Comment => {
                line_is_blank = false;
                let Some(mut directive) = directive(source, span.start()..span.end()) else {
                    continue;
                };
                if line_has_code {
                    directive.line = Some(source.line_col(span.start()).0);
                } else {
                    pending.push(directives.len());
                }
                directives.push(directive);
            }
            _ => {
                let line = source.line_col(span.start()).0;
                for i in pending.drain(..) {
                    directives[i].line = Some(line);
                }
                line_has_code = true;
                line_is_blank = false;
            }
        }
    }
    directives
}

/// The directive in the comment at `range`, if it is one.
fn directive(source: &SourceFile, range: Range<usize>) -> Option<Directive> {
    let comment = source.text().get(range.clone())?;
    let body = comment.strip_prefix('#')?.trim_start();
    let rest = body.strip_prefix(MARKER)?;
    // `wpc:ignored` is some other word.
    if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    let rest_start = range.start + (comment.len() - rest.len());
    // The first `--` ends the codes; a reason may contain more of them.
    let (codes_part, reason) = match rest.split_once("--") {
        Some((codes, reason)) => (codes, Some(reason.trim()).filter(|r| !r.is_empty())),
        None => (rest, None),
    };
    let mut codes = Vec::new();
    let mut offset = rest_start;
    for item in codes_part.split(',') {
        let trimmed = item.trim();
        if !trimmed.is_empty() {
            let start = offset + (item.len() - item.trim_start().len());
            codes.push((trimmed.to_owned(), start..start + trimmed.len()));
        }
        offset += item.len() + 1;
    }
    Some(Directive {
        source: source.clone(),
        range,
        line: None,
        codes,
        reason: reason.map(str::to_owned),
    })
}

/// What a code written in a suppression stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A rule whose findings can be suppressed: its code.
    Rule(&'static str),
    /// A rule whose findings cannot be, and why.
    Unsuppressible(&'static str),
    Unknown,
}

/// Apply the suppressions in `sources` (TOML files only: other files have
/// other comment syntaxes) to `findings`: the open findings, with the
/// findings about the suppressions themselves, and the suppressed ones.
/// `target` says what a written code stands for.
pub fn apply(
    findings: Vec<Finding>,
    sources: &[SourceFile],
    target: impl Fn(&str) -> Target,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let directives: Vec<Directive> = sources
        .iter()
        .filter(|s| s.path().extension().is_some_and(|e| e == "toml"))
        .flat_map(parse)
        .collect();
    if directives.is_empty() {
        return (findings, Vec::new());
    }
    let targets: Vec<Vec<Target>> = directives
        .iter()
        .map(|d| d.codes.iter().map(|(code, _)| target(code)).collect())
        .collect();
    let mut used: Vec<Vec<bool>> = directives
        .iter()
        .map(|d| vec![false; d.codes.len()])
        .collect();
    let mut by_line: HashMap<(&Path, usize), Vec<usize>> = HashMap::new();
    for (i, d) in directives.iter().enumerate() {
        if let Some(line) = d.line {
            by_line.entry((d.source.path(), line)).or_default().push(i);
        }
    }

    let mut open = Vec::new();
    let mut suppressed = Vec::new();
    for finding in findings {
        let matching = finding.location.as_ref().and_then(|loc| {
            by_line.get(&(loc.path(), loc.line))?.iter().find_map(|&d| {
                let c = targets[d]
                    .iter()
                    .position(|t| *t == Target::Rule(finding.code))?;
                Some((d, c))
            })
        });
        match matching {
            Some((d, c)) => {
                used[d][c] = true;
                suppressed.push(Suppressed {
                    finding,
                    suppression: Suppression::InSource {
                        reason: directives[d].reason.clone().unwrap_or_default(),
                    },
                });
            }
            None => open.push(finding),
        }
    }

    for (d, directive) in directives.iter().enumerate() {
        if directive.reason.is_none() {
            open.push(suppression_without_reason::finding(directive));
        }
        if directive.codes.is_empty() {
            open.push(suppression_unused::names_no_rule(directive));
        }
        for (c, (code, range)) in directive.codes.iter().enumerate() {
            let finding = match targets[d][c] {
                Target::Rule(_) if used[d][c] => continue,
                Target::Rule(_) => suppression_unused::stale(directive, code, range),
                Target::Unsuppressible(why) => {
                    suppression_unused::unsuppressible(directive, code, range, why)
                }
                Target::Unknown => suppression_unused::unknown(directive, code, range),
            };
            open.push(finding);
        }
    }
    (open, suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    fn directives(text: &str) -> Vec<(Option<usize>, Vec<String>, Option<String>)> {
        parse(&SourceFile::new("p.toml", text))
            .into_iter()
            .map(|d| {
                (
                    d.line,
                    d.codes.into_iter().map(|(c, _)| c).collect(),
                    d.reason,
                )
            })
            .collect()
    }

    #[test]
    fn a_comment_after_code_applies_to_its_own_line() {
        assert_eq!(
            directives("a = 1\nb = 2 # wpc:ignore WPC007 -- the runner is sandboxed\nc = 3\n"),
            [(
                Some(2),
                vec!["WPC007".to_owned()],
                Some("the runner is sandboxed".to_owned())
            )]
        );
    }

    #[test]
    fn a_comment_on_its_own_line_applies_to_the_next_line_of_code() {
        let text = "a = 1\n# wpc:ignore WPC006 -- one\n# an ordinary comment\n  # wpc:ignore WPC007 -- two\nallow = [\"*\"]\n";
        assert_eq!(
            directives(text),
            [
                (Some(5), vec!["WPC006".to_owned()], Some("one".to_owned())),
                (Some(5), vec!["WPC007".to_owned()], Some("two".to_owned())),
            ]
        );
    }

    #[test]
    fn a_blank_line_or_the_end_of_the_file_leaves_it_applying_to_nothing() {
        assert_eq!(
            directives("# wpc:ignore WPC006 -- r\n\na = 1\n# wpc:ignore WPC007 -- r"),
            [
                (None, vec!["WPC006".to_owned()], Some("r".to_owned())),
                (None, vec!["WPC007".to_owned()], Some("r".to_owned())),
            ]
        );
    }

    #[test]
    fn several_codes_are_comma_separated_and_located() {
        let text = "a = 1 # wpc:ignore WPC006,  WPC007 ,wildcard-allow -- r\n";
        let parsed = parse(&SourceFile::new("p.toml", text));
        let codes: Vec<&str> = parsed[0]
            .codes
            .iter()
            .map(|(code, range)| {
                assert_eq!(&text[range.clone()], code);
                code.as_str()
            })
            .collect();
        assert_eq!(codes, ["WPC006", "WPC007", "wildcard-allow"]);
    }

    #[test]
    fn the_reason_runs_from_the_first_double_dash_and_may_contain_more() {
        assert_eq!(
            directives("a = 1 # wpc:ignore WPC007 -- needs `exec` -- see ADR-12\n")[0].2,
            Some("needs `exec` -- see ADR-12".to_owned())
        );
    }

    #[test]
    fn a_missing_or_empty_reason_is_none() {
        let reasons: Vec<_> = directives(
            "a = 1 # wpc:ignore WPC007\nb = 2 # wpc:ignore WPC007 --   \nc = 3 #wpc:ignore WPC007 -- ok\n",
        )
        .into_iter()
        .map(|d| d.2)
        .collect();
        assert_eq!(reasons, [None, None, Some("ok".to_owned())]);
    }

    #[test]
    fn a_hash_inside_a_string_is_not_a_comment() {
        let text = concat!(
            "a = \"# wpc:ignore WPC007 -- no\"\n",
            "b = '# wpc:ignore WPC007 -- no'\n",
            "c = \"\"\"\n# wpc:ignore WPC007 -- no\n\"\"\"\n",
            "d = '''\n# wpc:ignore WPC007 -- no\n'''\n",
        );
        assert!(directives(text).is_empty());
    }

    #[test]
    fn other_comments_and_words_are_not_directives() {
        assert!(directives("a = 1 # wpc:ignored WPC007 -- r\n# wpc: ignore WPC007\n").is_empty());
    }

    fn finding_on(source: &SourceFile, line: usize, code: &'static str) -> Finding {
        let start = source
            .text()
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum::<usize>();
        Finding::new(code, Severity::Error, format!("{code} here")).at(source, start..start + 1)
    }

    fn target(code: &str) -> Target {
        match code {
            "WPC006" | "WPC007" => Target::Rule(if code == "WPC006" { "WPC006" } else { "WPC007" }),
            "WPC001" => Target::Unsuppressible("built-in"),
            _ => Target::Unknown,
        }
    }

    #[test]
    fn apply_suppresses_matching_codes_and_reports_the_rest() {
        let text = concat!(
            "allow = [\"*\"] # wpc:ignore WPC007, WPC006 -- reviewed\n", // 1: both used
            "# wpc:ignore WPC007\n",                                     // 2: no reason
            "deny = [\"x\"]\n",                                          // 3
            "a = 1 # wpc:ignore WPC006 -- stale\n",                      // 4: nothing there
            "b = 1 # wpc:ignore WPC999, WPC001 -- odd\n",                // 5
        );
        let source = SourceFile::new("policies/p.toml", text);
        let findings = vec![
            finding_on(&source, 1, "WPC006"),
            finding_on(&source, 1, "WPC007"),
            finding_on(&source, 3, "WPC007"),
            finding_on(&source, 3, "WPC006"),
        ];
        let (open, suppressed) = apply(findings, std::slice::from_ref(&source), target);
        let show = |f: &Finding| {
            format!(
                "{} {}: {}",
                f.location.as_ref().unwrap().line,
                f.code,
                f.message
            )
        };
        assert_eq!(
            suppressed
                .iter()
                .map(|s| show(&s.finding))
                .collect::<Vec<_>>(),
            [
                "1 WPC006: WPC006 here",
                "1 WPC007: WPC007 here",
                "3 WPC007: WPC007 here"
            ]
        );
        assert_eq!(
            suppressed[0].suppression,
            Suppression::InSource {
                reason: "reviewed".to_owned()
            }
        );
        assert_eq!(
            suppressed[2].suppression,
            Suppression::InSource {
                reason: String::new()
            }
        );
        assert_eq!(
            open.iter().map(show).collect::<Vec<_>>(),
            [
                "3 WPC006: WPC006 here",
                "2 WPC027: suppression of `WPC007` gives no reason",
                "4 WPC028: suppression of `WPC006` matches no finding on its line",
                "5 WPC028: `WPC999` is not a wpc rule code or name: this suppression can never match",
                "5 WPC028: `WPC001` cannot be suppressed: built-in",
            ]
        );
    }

    #[test]
    fn only_toml_files_are_read_for_suppressions() {
        let source = SourceFile::new(".env", "KEY=1 # wpc:ignore WPC007 -- r\n");
        let findings = vec![finding_on(&source, 1, "WPC007")];
        let (open, suppressed) = apply(findings, &[source], target);
        assert_eq!((open.len(), suppressed.len()), (1, 0));
    }
}

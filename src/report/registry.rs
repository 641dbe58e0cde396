//! The rule registry both engines share (the policy linter and the OpenClaw
//! audit): each rule is a type declared with [`rule!`](crate::rule), which
//! gives it its [`RuleMeta`] with the documentation page embedded, and each
//! engine lists its rules in one [`Registry`] beside the built-in checks it
//! documents but cannot turn off.

use super::{RuleInfo, RuleMeta};

/// What every rule says about itself. Implemented by [`rule!`](crate::rule).
pub trait Described {
    fn meta(&self) -> &'static RuleMeta;
}

/// Declare a rule type and its metadata: its type name, stable code, stable
/// kebab-case name, default severity and a one-line summary. The page
/// `docs/rules/CODE.md` is embedded as its documentation (a missing page is a
/// build error).
#[macro_export]
macro_rules! rule {
    ($rule:ident, $code:literal, $name:literal, $severity:ident, $summary:literal) => {
        pub struct $rule;

        impl $crate::report::registry::Described for $rule {
            fn meta(&self) -> &'static $crate::report::RuleMeta {
                static META: $crate::report::RuleMeta = $crate::report::RuleMeta {
                    code: $code,
                    name: $name,
                    summary: $summary,
                    default_severity: $crate::report::Severity::$severity,
                    doc: include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/docs/rules/",
                        $code,
                        ".md"
                    )),
                };
                &META
            }
        }
    };
}

/// The rules of one engine: `builtin` are the checks of the input itself
/// (syntax, schema) that always run first, `rules` the rules, in code order.
pub struct Registry<R: ?Sized + 'static> {
    pub builtin: &'static [RuleMeta],
    pub rules: &'static [&'static R],
}

impl<R: ?Sized + Described + 'static> Registry<R> {
    /// Every rule's metadata, built-in checks first.
    pub fn all(&self) -> impl Iterator<Item = &'static RuleMeta> + use<R> {
        let rules = self.rules;
        self.builtin
            .iter()
            .chain(rules.iter().map(|rule| rule.meta()))
    }

    /// A rule by code (case-insensitive) or name.
    pub fn find(&self, code_or_name: &str) -> Option<&'static RuleMeta> {
        self.all()
            .find(|m| m.code.eq_ignore_ascii_case(code_or_name) || m.name == code_or_name)
    }

    /// Rule descriptions for renderers (SARIF lists them all).
    pub fn infos(&self) -> Vec<RuleInfo> {
        self.all().map(RuleMeta::info).collect()
    }

    /// The problems of the registry: codes or names used twice, a page whose
    /// title is not `# CODE: name`, a summary that is not one line without a
    /// full stop. Checked by each engine's tests.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for meta in self.all() {
            if !codes.insert(meta.code) {
                problems.push(format!("{}: code used twice", meta.code));
            }
            if !names.insert(meta.name) {
                problems.push(format!("{}: name `{}` used twice", meta.code, meta.name));
            }
            if !meta
                .doc
                .starts_with(&format!("# {}: {}\n", meta.code, meta.name))
            {
                problems.push(format!(
                    "{}: docs/rules page title is not `# CODE: name`",
                    meta.code
                ));
            }
            if meta.summary.ends_with('.') || meta.summary.contains('\n') {
                problems.push(format!(
                    "{}: summary is not one line without a full stop",
                    meta.code
                ));
            }
        }
        problems
    }
}

/// Declare a rule's unit tests as a table: one `#[test]` per named case, each
/// running the rule over one or more inputs and checking what it finds. The
/// first expression makes the runner (each engine's `testing` module has
/// them: a closure from an input to the findings as strings). An expected
/// value is a count (`0`: quiet), the exact findings (`["1:1 ..."]`) or a count
/// and a text the first finding contains (`(1, "denies")`).
///
/// ```ignore
/// crate::rule_tests! { audit(&BindRw);
///     fires_without_ro: "{...}" => 2;
///     quiet_on_ro: "{...}" => 0, "{...}" => 0;
/// }
/// ```
#[cfg(test)]
#[macro_export]
macro_rules! rule_tests {
    ($run:expr; $($name:ident: $($input:expr => $expected:expr),+;)+) => {
        $(
            #[test]
            fn $name() {
                $(
                    $crate::report::registry::Expected::check(
                        $expected,
                        &$run($input),
                        stringify!($input),
                    );
                )+
            }
        )+
    };
}

/// What a case of [`rule_tests!`](crate::rule_tests) expects of the findings.
#[cfg(test)]
pub trait Expected {
    /// Panic, naming the input, unless `found` is as expected.
    fn check(self, found: &[String], input: &str);
}

/// So many findings.
#[cfg(test)]
impl Expected for usize {
    fn check(self, found: &[String], input: &str) {
        assert_eq!(found.len(), self, "{input}: {found:#?}");
    }
}

/// Exactly these findings, in this order.
#[cfg(test)]
impl<const N: usize> Expected for [&str; N] {
    fn check(self, found: &[String], input: &str) {
        assert_eq!(found, self, "{input}");
    }
}

/// So many findings, the first containing this text.
#[cfg(test)]
impl Expected for (usize, &str) {
    fn check(self, found: &[String], input: &str) {
        assert_eq!(found.len(), self.0, "{input}: {found:#?}");
        assert!(found[0].contains(self.1), "{input}: {found:#?}");
    }
}

//! The rule registry both engines share (the policy linter and the OpenClaw
//! audit): each engine declares its rules in one table with
//! [`rules!`](crate::rules), which gives each rule type its [`RuleMeta`] with
//! the documentation page embedded and lists them in one [`Registry`] beside
//! the built-in checks the engine documents but cannot turn off.

use super::{RuleInfo, RuleMeta};

/// What every rule says about itself. Implemented by [`rules!`](crate::rules).
pub trait Described {
    fn meta(&self) -> &'static RuleMeta;
}

/// Declare an engine's rules and its [`Registry`], as one table in code
/// order: each rule's type name, stable code, stable kebab-case name,
/// default severity and one-line summary. Each rule gets a unit type with its
/// [`RuleMeta`], the page `docs/rules/CODE.md` embedded as its documentation
/// (a missing page is a build error); the registry lists them after the
/// engine's built-in checks. What a rule checks is implemented for its type
/// in the rule's own file.
///
/// ```ignore
/// crate::rules! {
///     /// Every rule, in code order.
///     pub static REGISTRY: Registry<dyn Rule> = after BUILTIN;
///     BindRw, "OC043", "bind-rw", Warning,
///         "a sandbox bind mount is writable";
/// }
/// ```
#[macro_export]
macro_rules! rules {
    (
        $(#[$attr:meta])*
        $vis:vis static $registry:ident: Registry<$rule_trait:ty> = after $builtin:expr;
        $($rule:ident, $code:literal, $name:literal, $severity:ident, $summary:literal;)+
    ) => {
        $(
            #[doc = $summary]
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
        )+

        $(#[$attr])*
        $vis static $registry: $crate::report::Registry<$rule_trait> = $crate::report::Registry {
            builtin: $builtin,
            rules: &[$(&$rule),+],
        };
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

//! The linter: a registry of rules, one file each under `rules/`, run over
//! the policies of a repository.
//!
//! Adding a rule: add its type, code, name, severity and summary to
//! [`REGISTRY`] (a [`crate::rules!`] table in `rules/mod.rs`), write
//! `rules/<name>.rs` implementing [`Rule`] for it, and write
//! `docs/rules/<CODE>.md`. The `registry_is_consistent` test checks the rest.

/// A rule file's unit tests as a table: a `tests` module holding
/// [`rule_tests!`](crate::rule_tests) whose cases are the texts of the
/// policies the rule checks (`&[CLEAN, ...]`), with the default settings and,
/// after `with`, the Claw export settings. A file whose tests need more writes
/// that module itself.
///
/// ```ignore
/// crate::lint::lint_tests! { ElevatedExecAllowed;
///     fires_when_allowed: &[&CLEAN.replace("deny", "allow")] => 1;
///     quiet_when_denied: &[CLEAN] => 0;
/// }
/// ```
macro_rules! lint_tests {
    ($rule:ident $(with $claw:expr)?; $($cases:tt)+) => {
        #[cfg(test)]
        mod tests {
            use super::*;
            #[allow(unused_imports)]
            use $crate::lint::testing::{CLEAN, every_claw_version, gated};

            $crate::rule_tests! {
                $crate::lint::testing::lint(&$rule, None $(.or(Some($claw)))?);
                $($cases)+
            }
        }
    };
}
pub(crate) use lint_tests;

mod check;
mod rules;
pub mod suppress;

use crate::claw::ExportSettings;
use crate::config::LintSettings;
use crate::decide::Engine;
use crate::policy::{Document, Policy};
use crate::report::{Described, Finding, Severity};

pub use check::{CheckError, Revocations, check, check_policies, check_repository};
pub use rules::REGISTRY;
pub use rules::revoked_hash::CODE as REVOKED_HASH;

pub use crate::report::RuleMeta;

/// A lint rule. Override the hook at the level the rule works on.
pub trait Rule: Described + Sync {
    /// Called once per policy that passed its schema, with the policy
    /// compiled for deciding (patterns and approval gates, built once and
    /// shared by every rule).
    fn check_policy(&self, _policy: &Policy, _engine: &Engine, _cx: &mut Context<'_>) {}

    /// Called once with every policy of the run, for cross-policy rules.
    fn check_repo(&self, _policies: &[Policy], _cx: &mut Context<'_>) {}

    /// Called once when a whole repository is checked (not for a list of
    /// files), for rules about files other than policies.
    fn check_repository(&self, _repo: &Repository, _cx: &mut Context<'_>) {}

    /// Called once when a whole repository with a release branch is
    /// checked, with every policy and the hashes revoked on that branch.
    fn check_released(
        &self,
        _policies: &[Policy],
        _revoked: &std::collections::HashSet<String>,
        _cx: &mut Context<'_>,
    ) {
    }
}

/// The repository a check runs over: its root and every file in it except
/// the policies (rules see those through `check_policy`), `.git`, `target`
/// and `node_modules`.
#[derive(Debug)]
pub struct Repository {
    pub root: std::path::PathBuf,
    pub files: Vec<std::path::PathBuf>,
}

/// What a rule sees of the run, and where it reports.
pub struct Context<'a> {
    pub settings: &'a LintSettings,
    /// The Claw protocol export (`[release] claw`, `[claw]`).
    pub claw: &'a ExportSettings,
    meta: &'static RuleMeta,
    findings: Vec<Finding>,
}

impl<'a> Context<'a> {
    fn new(settings: &'a LintSettings, meta: &'static RuleMeta) -> Self {
        /// No export: what a rule sees unless the run says otherwise.
        static NO_EXPORT: ExportSettings = ExportSettings {
            versions: Vec::new(),
            issuer_did: None,
        };
        Context {
            settings,
            claw: &NO_EXPORT,
            meta,
            findings: Vec::new(),
        }
    }

    fn with_claw(self, claw: &'a ExportSettings) -> Self {
        Context { claw, ..self }
    }

    /// Report a finding made elsewhere (a loader that returns located
    /// findings), as is.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// This rule's code and default severity, for findings built by hand.
    pub fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    /// Report a finding of this rule at the value at `pointer` in `doc`.
    pub fn report(
        &mut self,
        doc: &Document,
        pointer: &str,
        message: impl Into<String>,
    ) -> &mut Finding {
        let finding = doc.finding_at(pointer, self.meta.code, self.meta.default_severity, message);
        self.findings.push(finding);
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }
}

/// Rules that are checks of the document itself rather than lint rules: they
/// cannot be turned off, and a document failing them is not linted further.
pub static BUILTIN: &[RuleMeta] = &[
    RuleMeta {
        code: crate::policy::document::SYNTAX,
        name: "toml-syntax",
        summary: "the file cannot be read as TOML",
        default_severity: Severity::Error,
        doc: include_str!("../../docs/rules/WPC001.md"),
    },
    RuleMeta {
        code: crate::policy::document::SCHEMA,
        name: "schema",
        summary: "the document does not match its JSON Schema",
        default_severity: Severity::Error,
        doc: include_str!("../../docs/rules/WPC002.md"),
    },
];

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the per-rule unit tests.
    use super::*;

    pub use crate::policy::testing::{CLEAN, policy};

    /// Run one rule over policies (as if in one repository) and return each
    /// finding as `line:column message`, each related place after it as
    /// ` [line:column label]`.
    pub fn run(rule: &dyn Rule, settings: &LintSettings, texts: &[&str]) -> Vec<String> {
        run_with_claw(rule, settings, &ExportSettings::default(), texts)
    }

    /// [`run`] with the Claw protocol export configured.
    pub fn run_with_claw(
        rule: &dyn Rule,
        settings: &LintSettings,
        claw: &ExportSettings,
        texts: &[&str],
    ) -> Vec<String> {
        let policies: Vec<Policy> = texts.iter().map(|t| policy(t)).collect();
        let mut cx = Context::new(settings, rule.meta()).with_claw(claw);
        for p in &policies {
            rule.check_policy(p, &Engine::new(&p.wpc).unwrap(), &mut cx);
        }
        rule.check_repo(&policies, &mut cx);
        cx.findings
            .into_iter()
            .map(|f| {
                let loc = f.location.unwrap();
                let mut line = format!("{}:{} {}", loc.line, loc.column, f.message);
                for related in &f.related {
                    let at = &related.location;
                    line.push_str(&format!(" [{}:{} {}]", at.line, at.column, related.label));
                }
                line
            })
            .collect()
    }

    pub fn run_default(rule: &dyn Rule, texts: &[&str]) -> Vec<String> {
        run(rule, &LintSettings::default(), texts)
    }

    /// [`run_with_claw`] with the default settings and the Claw export
    /// settings, if any: the runner of [`lint_tests!`] and of
    /// [`rule_tests!`](crate::rule_tests) in rule files.
    pub fn lint(
        rule: &dyn Rule,
        claw: Option<ExportSettings>,
    ) -> impl Fn(&[&str]) -> Vec<String> + '_ {
        let claw = claw.unwrap_or_default();
        move |texts| run_with_claw(rule, &LintSettings::default(), &claw, texts)
    }

    /// [`CLEAN`] with an approval gate on `when` (a CEL expression).
    pub fn gated(when: &str) -> String {
        format!(
            "{CLEAN}\n[[constraints.approvals]]\nwhen = \"{when}\"\nrequire = \"human_approval\"\n"
        )
    }

    /// A Claw export of every protocol version, with an issuer.
    pub fn every_claw_version() -> ExportSettings {
        ExportSettings {
            versions: crate::claw::ClawVersion::ALL.to_vec(),
            issuer_did: Some("did:web:x.example".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claw::ProblemKind;

    /// Codes that other modules report under (the Claw export, the trusted
    /// signers file) are the codes of the rules documenting them.
    #[test]
    fn codes_reported_elsewhere_belong_to_their_rules() {
        let pairs = [
            (ProblemKind::IssuerMissing.code(), "claw-issuer-missing"),
            (ProblemKind::V1Vocabulary.code(), "claw-v1-unexpressible"),
            (ProblemKind::Limit.code(), "claw-limit"),
            (ProblemKind::Pattern.code(), "claw-pattern"),
            (crate::claw::INEXACT_CODE, "claw-export-inexact"),
            (
                crate::crypto::trusted::INVALID_SIGNER,
                "trusted-signers-invalid",
            ),
            (REVOKED_HASH, "revoked-hash"),
        ];
        for (code, name) in pairs {
            assert_eq!(REGISTRY.find(code).map(|m| m.name), Some(name), "{code}");
        }
    }

    #[test]
    fn registry_is_consistent() {
        assert_eq!(REGISTRY.inconsistencies(), Vec::<String>::new());
        // Codes are stable: this list only ever grows.
        insta::assert_snapshot!(crate::policy::testing::rule_listing(REGISTRY.all()));
    }
}

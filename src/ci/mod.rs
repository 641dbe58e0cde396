//! `wpc ci`: everything a policy repository checks in CI, in one process and
//! one report: `check`, `test`, the OpenClaw audit of every `[[openclaw]]`
//! mapping, and proof bundle verification of `[bundles] paths`.

pub mod bundles;
pub mod check;
pub mod command;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::bundle;
use crate::config::Config;
use crate::decide::suite::CASE_FAILED;
use crate::error::error_enum;
use crate::lint::{self, CheckError};
use crate::openclaw::{self, LoadOptions, mappings};
use crate::report::baseline::{self, Baseline};
use crate::report::{Finding, Report, RuleInfo, Severity};
use crate::resolve::Workspace;

/// One stage of the run.
#[derive(Debug)]
pub struct Stage {
    pub name: &'static str,
    /// Units that passed and failed: files for `check`, cases for `test`,
    /// configs for `audit`.
    pub passed: usize,
    pub failed: usize,
    pub report: Report,
    /// Why a stage did not run, or what it could not do.
    pub note: Option<String>,
}

impl Stage {
    fn from_report(name: &'static str, report: Report, units: usize) -> Stage {
        let failed = files_with_errors(&report);
        Stage {
            name,
            passed: units.saturating_sub(failed),
            failed,
            report,
            note: None,
        }
    }

    fn skipped(name: &'static str, why: impl Into<String>) -> Stage {
        Stage {
            name,
            passed: 0,
            failed: 0,
            report: Report::default(),
            note: Some(why.into()),
        }
    }

    pub fn ok(&self) -> bool {
        self.failed == 0 && !self.report.fails_at(Severity::Error)
    }
}

/// The stages of one run.
#[derive(Debug)]
pub struct CiReport {
    pub stages: Vec<Stage>,
    /// Entries of the baseline no finding matched any more.
    pub stale_baseline: Vec<baseline::Entry>,
}

/// The stages whose findings a baseline can accept: the lint findings of
/// `check` and `audit`. A failing policy test or an invalid proof bundle is
/// a verdict on behaviour, not a finding to adopt, so it always fails.
const BASELINED: [&str; 2] = ["check", "audit"];

error_enum! {
    pub enum CiError {
        Check(CheckError),
        Audit(crate::openclaw::mappings::MappingError),
        #[error("bundles: {0}")]
        Bundles(bundle::batch::BatchError),
        #[error("bundles: {0}")]
        BundlePolicies(crate::resolve::ResolveError),
    }
}

/// Run every stage on the repository of `config`; `unverified_evidence`:
/// what a proof bundle carrying evidence wpc does not verify gets.
pub fn run(
    config: &Config,
    config_findings: Vec<Finding>,
    unverified_evidence: bundle::UnverifiedEvidence,
) -> Result<CiReport, CiError> {
    let read_release =
        crate::release::lint_reads_revocations(config) || !config.settings.bundles.paths.is_empty();
    let mut workspace = Workspace::load(config, config_findings, read_release)?;
    let check = workspace.check();
    let checked = check.files_checked;
    let check = Stage::from_report("check", check, checked);

    let tests = workspace.test();
    // The check stage reports syntax errors in full; here once per file.
    let mut findings = crate::policy::document::unreadable_in_brief(tests.problems.clone());
    findings.extend(tests.failures());
    let test = Stage {
        name: "test",
        passed: tests.passed(),
        failed: tests.failed(),
        report: Report::new(findings, tests.files),
        note: None,
    };

    let audit = if config.settings.openclaw.is_empty() {
        Stage::skipped("audit", "no [[openclaw]] mapping in wpc.toml")
    } else {
        let (findings, configs) = mappings::audit_mappings(config, LoadOptions::default())?;
        Stage::from_report("audit", Report::new(findings, configs), configs)
    };

    let bundles = bundle_stage(workspace, unverified_evidence)?;
    Ok(CiReport {
        stages: vec![check, test, audit, bundles],
        stale_baseline: Vec::new(),
    })
}

impl CiReport {
    pub fn ok(&self) -> bool {
        self.stages.iter().all(Stage::ok)
    }

    /// A baseline of every finding of the stages a baseline can accept,
    /// except those suppressed in their source.
    pub fn baseline(&self) -> Baseline {
        Baseline::of_reports(self.baselined().map(|s| &s.report))
    }

    /// Suppress the findings `baseline` lists in the stages it can accept
    /// findings of, and keep the entries nothing matched as stale.
    pub fn apply_baseline(mut self, baseline: &Baseline) -> CiReport {
        let mut matched = HashSet::new();
        for stage in self
            .stages
            .iter_mut()
            .filter(|s| BASELINED.contains(&s.name))
        {
            let report = baseline.suppress(std::mem::take(&mut stage.report), &mut matched);
            let units = stage.passed + stage.failed;
            let note = stage.note.take();
            *stage = Stage::from_report(stage.name, report, units);
            stage.note = note;
        }
        self.stale_baseline = baseline.stale(&matched);
        self
    }

    fn baselined(&self) -> impl Iterator<Item = &Stage> {
        self.stages.iter().filter(|s| BASELINED.contains(&s.name))
    }

    /// Every finding of every stage, for annotations and SARIF.
    pub fn findings(&self) -> Report {
        let findings: Vec<Finding> = self
            .stages
            .iter()
            .flat_map(|s| s.report.findings().iter().cloned())
            .collect();
        let suppressed = self
            .stages
            .iter()
            .flat_map(|s| s.report.suppressed().iter().cloned())
            .collect();
        let files = self.stages.iter().map(|s| s.report.files_checked).sum();
        Report::new(findings, files).with_suppressed(suppressed)
    }

    /// One line per stage.
    pub fn summary_text(&self) -> String {
        let mut out = String::new();
        for stage in &self.stages {
            let verdict = match (&stage.note, stage.ok()) {
                (Some(_), _) if stage.passed + stage.failed == 0 => "skipped",
                (_, true) => "passed",
                (_, false) => "FAILED",
            };
            let _ = write!(
                out,
                "{:<8} {:<8} {} passed, {} failed",
                stage.name, verdict, stage.passed, stage.failed
            );
            let suppressed = stage.report.suppressed().len();
            if suppressed > 0 {
                let _ = write!(out, ", {suppressed} findings suppressed");
            }
            if let Some(note) = &stage.note {
                let _ = write!(out, " ({note})");
            }
            out.push('\n');
        }
        if !self.stale_baseline.is_empty() {
            let _ = writeln!(
                out,
                "baseline: {} no longer found (`--write-baseline` drops them; `-v` lists them)",
                match self.stale_baseline.len() {
                    1 => "1 entry".to_owned(),
                    n => format!("{n} entries"),
                }
            );
        }
        out
    }

    /// The GitHub job summary: a table of stages, then the worst findings.
    pub fn summary_markdown(&self) -> String {
        let mut out = String::from(
            "## wpc ci\n\n| stage | result | passed | failed | notes |\n|---|---|---|---|---|\n",
        );
        for stage in &self.stages {
            let result = if stage.note.is_some() && stage.passed + stage.failed == 0 {
                "⏭️ skipped"
            } else if stage.ok() {
                "✅ passed"
            } else {
                "❌ failed"
            };
            let _ = writeln!(
                out,
                "| {} | {result} | {} | {} | {} |",
                stage.name,
                stage.passed,
                stage.failed,
                stage.note.as_deref().unwrap_or("")
            );
        }
        let mut worst: Vec<&Finding> = self
            .stages
            .iter()
            .flat_map(|s| s.report.findings())
            .filter(|f| f.severity >= Severity::Warning)
            .collect();
        worst.sort_by_key(|f| std::cmp::Reverse(f.severity));
        if !worst.is_empty() {
            out.push_str(
                "\n### Findings\n\n| severity | code | where | message |\n|---|---|---|---|\n",
            );
            for finding in worst.iter().take(20) {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | `{}` | {} |",
                    finding.severity,
                    finding.code,
                    finding.position(),
                    finding.one_line().replace('|', "\\|")
                );
            }
            if worst.len() > 20 {
                let _ = writeln!(out, "\n…and {} more.", worst.len() - 20);
            }
        }
        out
    }
}

/// The code of a proof bundle that did not verify; the message carries the
/// protocol's reason codes.
pub const BUNDLE_INVALID: &str = "BND001";

/// Verify `[bundles] paths` against the protocol (signatures, hashes, event
/// chain, receipts, trusted gateway signers), under the WPC each bundle
/// claims (released, else working), and for replay across the set.
fn bundle_stage(
    workspace: Workspace<'_>,
    unverified_evidence: bundle::UnverifiedEvidence,
) -> Result<Stage, CiError> {
    let config = workspace.config;
    let specs: Vec<String> = config
        .settings
        .bundles
        .paths
        .iter()
        .map(|p| config.root.join(p).to_string_lossy().into_owned())
        .collect();
    if specs.is_empty() {
        return Ok(Stage::skipped("bundles", "no [bundles] paths in wpc.toml"));
    }
    let paths = match bundle::batch::collect(&specs) {
        Ok(paths) => paths,
        Err(bundle::batch::BatchError::NoMatch(_)) => {
            return Ok(Stage::skipped("bundles", "no file matches [bundles] paths"));
        }
        Err(err) => return Err(CiError::Bundles(err)),
    };
    let trust = crate::resolve::bundle_trust(config, &[], None, unverified_evidence)
        .map_err(CiError::BundlePolicies)?;
    let options = trust.options;
    let source = workspace
        .into_policy_source()
        .map_err(CiError::BundlePolicies)?;
    let entries = bundle::batch::verify_under_claimed(&paths, &source, &options, &[])
        .map_err(CiError::Bundles)?;
    let findings: Vec<Finding> = entries
        .iter()
        .filter(|e| !e.report.valid)
        .map(|e| {
            let reasons: Vec<String> = e.report.failures.iter().map(ToString::to_string).collect();
            Finding::new(
                BUNDLE_INVALID,
                Severity::Error,
                format!("proof bundle INVALID: {}", reasons.join("; ")),
            )
            .in_file(&e.path)
        })
        .collect();
    let failed = findings.len();
    let mut stage = Stage {
        name: "bundles",
        passed: entries.len() - failed,
        failed,
        report: Report::new(findings, entries.len()),
        note: None,
    };
    let mut notes: Vec<String> = source.warning().into_iter().collect();
    if !options.gateway_signers_checked {
        notes.push(
            "no gateway signers configured: any valid receipt signer was accepted".to_owned(),
        );
    }
    let unverified: std::collections::BTreeSet<&str> = entries
        .iter()
        .flat_map(|e| &e.report.evidence)
        .filter(|e| e.status == bundle::EvidenceStatus::Unverified)
        .map(|e| e.kind)
        .collect();
    if unverified_evidence == bundle::UnverifiedEvidence::Warn && !unverified.is_empty() {
        notes.push(format!(
            "WARNING: present, not verified, accepted (--unverified-evidence warn): {}",
            unverified.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !notes.is_empty() {
        stage.note = Some(notes.join("; "));
    }
    Ok(stage)
}

/// Every rule a `wpc ci` finding can carry, for SARIF.
pub fn rule_infos() -> Vec<RuleInfo> {
    let mut rules = lint::REGISTRY.infos();
    rules.extend(openclaw::REGISTRY.infos());
    rules.push(RuleInfo {
        code: BUNDLE_INVALID,
        name: "proof-bundle-invalid",
        summary: "a proof bundle did not verify",
        help_uri: format!("{}/bundles.md", crate::DOCS_URL),
    });
    rules.push(RuleInfo {
        code: CASE_FAILED,
        name: "policy-test-failed",
        summary: "a policy test case got another verdict than it expects",
        help_uri: format!("{}/testing-policies.md", crate::DOCS_URL),
    });
    rules
}

fn files_with_errors(report: &Report) -> usize {
    report
        .findings()
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter_map(Finding::file)
        .collect::<HashSet<&Path>>()
        .len()
}

/// `wpc rule`: the documentation of the rule `code` (a code or a name), of
/// either engine.
pub fn rule_doc(code: &str) -> Result<crate::report::Output, UnknownRule> {
    lint::REGISTRY
        .find(code)
        .or_else(|| openclaw::REGISTRY.find(code))
        .map(|meta| crate::report::Output::stdout(meta.doc))
        .ok_or_else(|| UnknownRule(code.to_owned()))
}

/// `wpc rule --list`: every rule of both engines with its default level and
/// summary.
pub fn rule_list() -> crate::report::Output {
    let mut out = String::new();
    for meta in lint::REGISTRY.all().chain(openclaw::REGISTRY.all()) {
        let _ = writeln!(
            out,
            "{:<8} {:<30} {:<8} {}",
            meta.code,
            meta.name,
            meta.default_severity.as_str(),
            meta.summary
        );
    }
    crate::report::Output::stdout(out)
}

/// A rule code or name of neither engine.
#[derive(Debug, thiserror::Error)]
#[error("no rule `{0}` (see `wpc rule --list`)")]
pub struct UnknownRule(pub String);

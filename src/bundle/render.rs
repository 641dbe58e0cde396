//! Output of `wpc bundle verify`: one line per bundle and a summary (text,
//! markdown), a JSON document, JUnit XML (one test case per bundle), or
//! SARIF (through [`crate::report`], one result per failure). An aggregate
//! bundle also lists its members: a line each (text, markdown), its
//! members' reports (JSON), a test case each (JUnit), their failures
//! (SARIF).

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use super::aggregate::{Aggregate, Member};
use super::batch::Entry;
use super::reason::Code;
use super::{BundleReport, EvidenceStatus, UnverifiedEvidence};
use crate::report::{Envelope, Finding, Format, Formats, Report, RuleInfo, Severity, Unsupported};

/// The formats of `wpc bundle verify`.
pub const FORMATS: Formats = Formats(&[
    Format::Text,
    Format::Json,
    Format::Junit,
    Format::Markdown,
    Format::Sarif,
]);

/// The `format` and `version` of the JSON document.
pub const ENVELOPE: Envelope = Envelope::new("wpc-bundle-verify", 1);

/// What the run was checked against, for the summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Context {
    /// Gateway signers were restricted to a trusted list.
    pub gateway_signers_checked: bool,
    /// `policy_hash_b64u` of the policy bundles were verified under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_hash: Option<String>,
    /// Each bundle was verified under the WPC it claims, looked up here
    /// (e.g. "released on `wpc-releases`").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_from: Option<String>,
    /// What evidence wpc does not verify did to a bundle.
    pub unverified_evidence: UnverifiedEvidence,
}

/// Render in `format`, one of [`FORMATS`].
pub fn render(format: Format, entries: &[Entry], context: &Context) -> Result<String, Unsupported> {
    Ok(match format {
        Format::Text => text(entries, context),
        Format::Markdown => markdown(entries, context),
        Format::Json => json(entries, context),
        Format::Junit => junit(entries),
        Format::Sarif => sarif(entries, context),
        Format::Github => {
            return Err(Unsupported {
                format,
                output: "bundle verification",
            });
        }
    })
}

fn codes(report: &BundleReport) -> String {
    report
        .codes()
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn notes(entries: &[Entry], context: &Context) -> Vec<String> {
    let mut notes = Vec::new();
    if context.policy_hash.is_none() && context.claimed_from.is_none() {
        notes.push(
            "protocol checks only: no policy given (--policy), and no wpc.toml to look up the \
             WPC each bundle claims"
                .to_owned(),
        );
    }
    if !context.gateway_signers_checked {
        notes.push(
            "no trusted gateway signers given (--trusted, --gateway-signer or wpc.toml \
             [bundles] gateway_signers): any valid gateway receipt signer was accepted"
                .to_owned(),
        );
    }
    let unverified = classes(entries, EvidenceStatus::Unverified);
    if !unverified.is_empty() {
        let verdict = match context.unverified_evidence {
            UnverifiedEvidence::Fail => "such bundles are INVALID (--unverified-evidence fail)",
            UnverifiedEvidence::Warn => {
                "WARNING: accepted without them (--unverified-evidence warn)"
            }
        };
        notes.push(format!(
            "present, not verified (not trusted): {}; {verdict}",
            unverified.join(", ")
        ));
    }
    let partly = classes(entries, EvidenceStatus::PartlyVerified);
    if !partly.is_empty() {
        notes.push(format!(
            "partly verified, covered only by the agent's bundle signature: {}",
            partly.join(", ")
        ));
    }
    notes
}

/// The evidence classes of any bundle with `status`, sorted.
fn classes(entries: &[Entry], status: EvidenceStatus) -> Vec<&'static str> {
    let set: std::collections::BTreeSet<&str> = entries
        .iter()
        .flat_map(|e| &e.report.evidence)
        .filter(|e| e.status == status)
        .map(|e| e.kind)
        .collect();
    set.into_iter().collect()
}

/// One bundle's evidence by status: `verified receipts (2); partly verified
/// tool_receipts (3)`; `None` when it carries none.
pub fn evidence_summary(report: &BundleReport) -> Option<String> {
    let parts: Vec<String> = [
        (EvidenceStatus::Verified, "verified"),
        (EvidenceStatus::PartlyVerified, "partly verified"),
        (EvidenceStatus::Unverified, "unverified"),
    ]
    .into_iter()
    .filter_map(|(status, label)| {
        let kinds: Vec<String> = report
            .evidence
            .iter()
            .filter(|e| e.status == status)
            .map(|e| format!("{} ({})", e.kind, e.count))
            .collect();
        (!kinds.is_empty()).then(|| format!("{label} {}", kinds.join(", ")))
    })
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn summary(entries: &[Entry]) -> (usize, usize) {
    let valid = entries.iter().filter(|e| e.report.valid).count();
    (valid, entries.len() - valid)
}

fn text(entries: &[Entry], context: &Context) -> String {
    let mut out = String::new();
    for entry in entries {
        let path = entry.path.display();
        if entry.report.valid {
            out.push_str(&format!("VALID   {path}\n"));
        } else {
            out.push_str(&format!("INVALID {path} {}\n", codes(&entry.report)));
            for failure in &entry.report.failures {
                out.push_str(&format!("  {failure}\n"));
            }
        }
        if let Some(evidence) = evidence_summary(&entry.report) {
            out.push_str(&format!("  evidence: {evidence}\n"));
        }
        if let Some(completeness) = &entry.report.completeness {
            out.push_str(&format!("  completeness: {completeness}\n"));
        }
        if let Some(aggregate) = &entry.report.aggregate {
            out.push_str(&format!("  {}\n", aggregate_line(aggregate)));
            for member in &aggregate.members {
                out.push_str(&format!("  {}\n", member_line(member)));
                if !member.report.valid {
                    for failure in &member.report.failures {
                        out.push_str(&format!("    {failure}\n"));
                    }
                }
            }
        }
    }
    let (valid, invalid) = summary(entries);
    out.push_str(&format!(
        "{} bundles: {valid} valid, {invalid} invalid\n",
        entries.len()
    ));
    if let Some(hash) = &context.policy_hash {
        out.push_str(&format!("verified under policy {hash}\n"));
    }
    if let Some(source) = &context.claimed_from {
        out.push_str(&format!(
            "verified under the WPC each bundle claims, {source}\n"
        ));
    }
    for note in notes(entries, context) {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// `aggregate ID by ISSUER: 2 of 2 members valid, lowest proof tier gateway`.
fn aggregate_line(aggregate: &Aggregate) -> String {
    let valid = aggregate.members.iter().filter(|m| m.report.valid).count();
    let tier = aggregate
        .proof_tier
        .map_or_else(String::new, |tier| format!(", lowest proof tier {tier}"));
    format!(
        "aggregate {} by {}: {valid} of {} members valid{tier}",
        aggregate.aggregate_id,
        aggregate.issuer_did,
        aggregate.members.len()
    )
}

/// `member /payload/artifacts/member_bundles/0 VALID bundle_1, completeness
/// PARTIAL (EVENT_CHAIN_ONLY)`, or with the codes of an invalid one (and its
/// bundle id and completeness when its signature verified).
fn member_line(member: &Member) -> String {
    let id = member
        .report
        .bundle_id
        .as_deref()
        .map_or_else(String::new, |id| format!(" {id}"));
    let completeness = member
        .report
        .completeness
        .map_or_else(String::new, |c| format!(", completeness {c}"));
    if member.report.valid {
        format!("member {} VALID{id}{completeness}", member.pointer)
    } else {
        format!(
            "member {} INVALID{id} {}{completeness}",
            member.pointer,
            codes(&member.report)
        )
    }
}

fn markdown(entries: &[Entry], context: &Context) -> String {
    let (valid, invalid) = summary(entries);
    let mut out = format!(
        "## Proof bundles: {valid} valid, {invalid} invalid\n\n| bundle | verdict | reasons | evidence | completeness |\n|---|---|---|---|---|\n"
    );
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for entry in entries {
        let verdict = if entry.report.valid {
            "VALID"
        } else {
            "**INVALID**"
        };
        let mut reasons: Vec<String> = entry
            .report
            .failures
            .iter()
            .map(|f| format!("`{}` at `{}`", f.code, cell(&f.pointer)))
            .collect();
        if let Some(aggregate) = &entry.report.aggregate {
            reasons.push(cell(&aggregate_line(aggregate)));
            reasons.extend(
                aggregate
                    .members
                    .iter()
                    .map(|member| format!("`{}`", cell(&member_line(member)))),
            );
        }
        let reasons = reasons.join("<br>");
        let evidence = evidence_summary(&entry.report).unwrap_or_default();
        let completeness = entry
            .report
            .completeness
            .map_or_else(String::new, |c| c.to_string());
        out.push_str(&format!(
            "| `{}` | {verdict} | {reasons} | {} | {completeness} |\n",
            cell(&entry.path.display().to_string()),
            cell(&evidence)
        ));
    }
    if let Some(hash) = &context.policy_hash {
        out.push_str(&format!("\nVerified under policy `{hash}`.\n"));
    }
    if let Some(source) = &context.claimed_from {
        out.push_str(&format!(
            "\nVerified under the WPC each bundle claims, {source}.\n"
        ));
    }
    for note in notes(entries, context) {
        out.push_str(&format!("\n> {note}\n"));
    }
    out
}

fn json(entries: &[Entry], context: &Context) -> String {
    #[derive(Serialize)]
    struct Result<'a> {
        file: String,
        #[serde(flatten)]
        report: &'a BundleReport,
        reason_codes: Vec<Code>,
    }
    let (valid, invalid) = summary(entries);
    let doc = serde_json::json!({
        "format": ENVELOPE.format,
        "version": ENVELOPE.version,
        "context": context,
        "summary": { "total": entries.len(), "valid": valid, "invalid": invalid },
        "notes": notes(entries, context),
        "results": entries.iter().map(|e| Result {
            file: e.path.display().to_string(),
            report: &e.report,
            reason_codes: e.report.codes(),
        }).collect::<Vec<_>>(),
    });
    // Serializing a Value cannot fail.
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

/// The JUnit case of one bundle (or aggregate member) `report`.
fn junit_case(name: String, kind: &str, report: &BundleReport) -> TestCase {
    let status = if report.valid {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(codes(report));
        status.set_type("INVALID");
        status.set_description(
            report
                .failures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        );
        status
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(kind.to_owned());
    for evidence in &report.evidence {
        let status = match evidence.status {
            EvidenceStatus::Verified => "verified",
            EvidenceStatus::PartlyVerified => "partly_verified",
            EvidenceStatus::Unverified => "unverified",
        };
        case.add_property((
            format!("evidence.{}", evidence.kind),
            format!("{status} ({})", evidence.count),
        ));
    }
    if let Some(completeness) = &report.completeness {
        case.add_property(("completeness".to_owned(), completeness.to_string()));
    }
    case
}

fn junit(entries: &[Entry]) -> String {
    let mut suite = TestSuite::new("wpc bundle verify");
    for entry in entries {
        let name = entry.path.display().to_string();
        let kind = if entry.report.aggregate.is_some() {
            "aggregate_bundle"
        } else {
            "proof_bundle"
        };
        suite.add_test_case(junit_case(name.clone(), kind, &entry.report));
        // One case per member: `FILE#POINTER`.
        for member in entry.report.aggregate.iter().flat_map(|a| &a.members) {
            suite.add_test_case(junit_case(
                format!("{name}#{}", member.pointer),
                "aggregate_member",
                &member.report,
            ));
        }
    }
    let mut report = Junit::new("wpc");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

/// The SARIF rule of the per-bundle evidence note.
const EVIDENCE_RULE: &str = "EVIDENCE";

/// Rule table for SARIF: every code, documented in `docs/bundles.md`, and
/// the evidence note.
pub fn rules() -> Vec<RuleInfo> {
    let mut rules: Vec<RuleInfo> = Code::ALL
        .iter()
        .map(|code| RuleInfo {
            code: code.as_str(),
            name: code.as_str(),
            summary: code.summary(),
            help_uri: format!("{}/bundles.md#reason-codes", crate::DOCS_URL),
        })
        .collect();
    rules.push(RuleInfo {
        code: EVIDENCE_RULE,
        name: EVIDENCE_RULE,
        summary: "which evidence classes of a bundle were verified, partly verified or not \
                  verified, and its completeness",
        help_uri: format!("{}/bundles.md#evidence-classes", crate::DOCS_URL),
    });
    rules
}

/// One result per failure (error); per bundle, a note with its evidence,
/// and under `--unverified-evidence warn` a warning per unverified class.
fn sarif(entries: &[Entry], context: &Context) -> String {
    let mut findings = Vec::new();
    for entry in entries {
        // An aggregate's members' failures point into the aggregate file.
        let members = entry.report.aggregate.iter().flat_map(|a| &a.members);
        let failures = entry
            .report
            .failures
            .iter()
            .chain(members.flat_map(|m| &m.report.failures));
        findings.extend(failures.map(|failure| {
            Finding::new(
                failure.code.as_str(),
                Severity::Error,
                format!("{}: {}", pointer_or_root(&failure.pointer), failure.message),
            )
            .in_file(&entry.path)
        }));
        if context.unverified_evidence == UnverifiedEvidence::Warn {
            findings.extend(
                entry
                    .report
                    .evidence
                    .iter()
                    .filter(|e| e.status == EvidenceStatus::Unverified)
                    .map(|e| {
                        Finding::new(
                            Code::EvidenceUnverified.as_str(),
                            Severity::Warning,
                            format!(
                                "/payload/{}: present and not verified, accepted with \
                                 --unverified-evidence warn",
                                e.kind
                            ),
                        )
                        .in_file(&entry.path)
                    }),
            );
        }
        let note: Vec<String> = evidence_summary(&entry.report)
            .map(|evidence| format!("evidence: {evidence}"))
            .into_iter()
            .chain(
                entry
                    .report
                    .completeness
                    .map(|c| format!("completeness: {c}")),
            )
            .collect();
        if !note.is_empty() {
            findings.push(
                Finding::new(EVIDENCE_RULE, Severity::Info, note.join("; ")).in_file(&entry.path),
            );
        }
    }
    // The run's category keeps these alerts apart from `wpc check`'s and
    // `wpc ci`'s in code scanning.
    Report::new(findings, entries.len())
        .found_by("bundle-verify")
        .sarif(&rules())
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

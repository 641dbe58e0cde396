//! Aggregate bundles (`envelope_type` `aggregate_bundle`,
//! `poh/aggregate_bundle_envelope.v1.json`): a fleet's proof and export
//! bundles, content-addressed by a manifest and signed by an issuer
//! (docs/bundles.md, "Aggregate bundles").
//!
//! [`verify`] follows the reference verifier's order. The aggregate's own
//! envelope (schema, issuer, dates, hash, signature, member order,
//! manifest) stops at its first failure: nothing inside an aggregate whose
//! signature fails is worth reading. Then each member, in array order, is
//! verified as any bundle is, under the same options, and checked against
//! the members before it (causal span semantics, gateway receipt replay,
//! identities, expiry, duplicates, rate-limit claims); then the summed
//! rate-limit claims and the fleet summary. Every failure found that way is
//! reported, the reference's own (first) one first. A member that fails its
//! own verification takes no part in the checks across members: a broken
//! member must not make a genuine one look conflicting.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::export::{
    ManifestCodes, check_issue_times, check_manifest, first_schema_error, jcs_hash,
};
use super::reason::{Code, Failure};
use super::{
    BundleReport, Evidence, EvidenceStatus, Identifiers, Options, UnverifiedEvidence, causal,
    verify_bundle,
};
use crate::claw::schema::ClawSchema;
use crate::crypto::did::DidKey;
use crate::crypto::envelope::{EnvelopeKind, JsonStringify, parse_rfc3339};
use crate::crypto::stringify::stringify_hash_b64u;
use crate::crypto::verify::{SIGNATURE_B64U, verify_signature};
use crate::policy::hash::{canonical_json, sha256_b64u};

/// An aggregate bundle envelope (`aggregate_bundle`, `JSON.stringify`
/// hash), for signing one.
#[derive(Debug, Clone, Copy)]
pub struct AggregateBundle;

impl EnvelopeKind for AggregateBundle {
    const ENVELOPE_TYPE: &'static str = "aggregate_bundle";
    type HashRule = JsonStringify;
}

/// The clock skew the reference allows aggregates and their members.
const SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Where the members sit.
const MEMBERS: &str = "/payload/artifacts/member_bundles";

/// What an aggregate's report adds to a bundle report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Aggregate {
    pub aggregate_id: String,
    pub issuer_did: String,
    /// Distinct agents and runs of the members that verified.
    pub unique_agents: usize,
    pub total_runs: usize,
    /// The lowest proof tier of the members (`self`, `gateway`), once
    /// every member verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_tier: Option<&'static str>,
    /// Each member's own verdict, in array order; empty when the
    /// aggregate's envelope failed (its members were not read).
    pub members: Vec<Member>,
}

/// One member's verdict; its pointers are into the aggregate file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The member in the aggregate file, e.g.
    /// `/payload/artifacts/member_bundles/0`.
    pub pointer: String,
    #[serde(flatten)]
    pub report: BundleReport,
}

/// Whether `value` is an aggregate bundle envelope.
pub fn is_aggregate(value: &Value) -> bool {
    value.get("envelope_type").and_then(Value::as_str) == Some(AggregateBundle::ENVELOPE_TYPE)
}

/// Verifies the aggregate bundle `value` under `options` (its members
/// under the same ones).
pub fn verify(value: &Value, options: &Options) -> BundleReport {
    let mut report = BundleReport {
        valid: false,
        bundle_id: None,
        agent_did: None,
        run_id: None,
        failures: Vec::new(),
        evidence: Vec::new(),
        completeness: None,
        identifiers: Identifiers::default(),
        aggregate: None,
    };
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut aggregate = Aggregate {
        aggregate_id: text("/payload/aggregate_id"),
        issuer_did: text("/payload/issuer_did"),
        unique_agents: 0,
        total_runs: 0,
        proof_tier: None,
        members: Vec::new(),
    };
    match check_envelope(value, options.now) {
        Err(failure) => report.failures.push(failure),
        Ok(expires_at) => {
            let members = value
                .pointer(MEMBERS)
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            let mut fleet = Fleet::new(&aggregate.issuer_did, expires_at, options);
            for (i, member) in members.iter().enumerate() {
                fleet.member(i, member);
            }
            fleet.finish(value);
            aggregate.unique_agents = fleet.agents.len();
            aggregate.total_runs = fleet.run_ids.len();
            aggregate.proof_tier = fleet.all_valid().then_some(fleet.tier.as_str());
            report.failures = fleet.failures;
            report.evidence = fleet.evidence;
            aggregate.members = fleet.members;
        }
    }
    unverified_metadata(value, options, &mut report);
    report.valid = report.failures.is_empty();
    // An aggregate repackages bundles that may be verified on their own
    // too, so it keeps no identifiers and takes no part in replay across
    // files; its members are checked against each other above.
    report.aggregate = Some(Box::new(aggregate));
    report
}

/// `payload.metadata` beyond `fleet_summary`, which the protocol leaves
/// open and wpc does not verify.
fn unverified_metadata(value: &Value, options: &Options, report: &mut BundleReport) {
    let extra = value
        .pointer("/payload/metadata")
        .and_then(Value::as_object)
        .map_or(0, |m| m.keys().filter(|k| *k != "fleet_summary").count());
    if extra == 0 {
        return;
    }
    report.evidence.push(Evidence {
        kind: "metadata",
        count: extra,
        status: EvidenceStatus::Unverified,
    });
    if options.unverified_evidence == UnverifiedEvidence::Fail {
        report.failures.push(Failure::new(
            Code::EvidenceUnverified,
            "/payload/metadata",
            "the aggregate's metadata beyond fleet_summary is present and wpc does not verify \
             it (--unverified-evidence warn accepts it with a warning)",
        ));
    }
}

/// The aggregate's own checks, first failure only; its payload's
/// `expires_at`, if any.
fn check_envelope(value: &Value, now: Timestamp) -> Result<Option<Timestamp>, Failure> {
    first_schema_error(ClawSchema::AggregateBundleEnvelope, value)?;
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let signer = text("/signer_did");
    let issuer = text("/payload/issuer_did");
    for (pointer, did) in [("/signer_did", signer), ("/payload/issuer_did", issuer)] {
        if !did_shaped(did) {
            return Err(Failure::new(
                Code::InvalidDidFormat,
                pointer,
                format!("`{did}` is not a did:key or did:web DID"),
            ));
        }
    }
    if signer != issuer {
        return Err(Failure::new(
            Code::AggregateSignerMismatch,
            "/signer_did",
            format!("the aggregate is signed by {signer}, not by its issuer_did {issuer}"),
        ));
    }
    let time = |pointer: &str| -> Result<Option<Timestamp>, Failure> {
        match value.pointer(pointer) {
            None => Ok(None),
            Some(_) => parse_rfc3339(text(pointer)).map(Some).map_err(|err| {
                Failure::new(
                    Code::MalformedEnvelope,
                    pointer,
                    format!("{pointer}: {err}"),
                )
            }),
        }
    };
    let created_at = time("/payload/created_at")?;
    let issued_at = time("/issued_at")?;
    let expires_at = time("/payload/expires_at")?;
    let envelope_expires_at = time("/expires_at")?;
    if let (Some(created_at), Some(issued_at)) = (created_at, issued_at) {
        check_issue_times((created_at, "/payload/created_at"), issued_at, now)?;
    }
    for (pointer, at) in [
        ("/payload/expires_at", expires_at),
        ("/expires_at", envelope_expires_at),
    ] {
        if at.is_some_and(|at| now > at + SKEW) {
            return Err(Failure::new(
                Code::ExpiredTtl,
                pointer,
                format!("the aggregate expired at {}", text(pointer)),
            ));
        }
    }
    if text("/hash_algorithm") != "SHA-256" {
        return Err(Failure::new(
            Code::UnknownHashAlgorithm,
            "/hash_algorithm",
            format!(
                "hash_algorithm `{}`; expected `SHA-256`",
                text("/hash_algorithm")
            ),
        ));
    }
    let payload = value.get("payload").unwrap_or(&Value::Null);
    let hash = stringify_hash_b64u(payload);
    if hash != text("/payload_hash_b64u") {
        return Err(Failure::new(
            Code::HashMismatch,
            "/payload_hash_b64u",
            format!("payload_hash_b64u is not the payload's hash, `{hash}`"),
        ));
    }
    let key = DidKey::parse(signer).map_err(|err| {
        Failure::new(
            Code::InvalidDidFormat,
            "/signer_did",
            format!("signer_did: {err}"),
        )
    })?;
    let signature = SIGNATURE_B64U
        .decode(text("/signature_b64u"))
        .map_err(|_| {
            Failure::new(
                Code::MalformedEnvelope,
                "/signature_b64u",
                "signature_b64u is not base64url",
            )
        })?;
    verify_signature(key.verifying_key().as_bytes(), hash.as_bytes(), &signature).map_err(
        |_| {
            Failure::new(
                Code::SignatureInvalid,
                "/signature_b64u",
                format!("the signature does not verify for the issuer {key}"),
            )
        },
    )?;
    manifest(value)?;
    Ok(expires_at)
}

/// The reference's DID shape check, before the key is read.
fn did_shaped(did: &str) -> bool {
    let rest = did
        .strip_prefix("did:key:")
        .or_else(|| did.strip_prefix("did:web:"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._%-".contains(&b))
    })
}

/// Members in ascending order of their JCS hashes, none twice, and the
/// manifest listing exactly them (`artifacts/member_bundles/<i>.json`).
fn manifest(value: &Value) -> Result<(), Failure> {
    let members = value
        .pointer(MEMBERS)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut previous: Option<String> = None;
    let mut seen = HashSet::new();
    for (i, member) in members.iter().enumerate() {
        let at = format!("{MEMBERS}/{i}");
        let hash = jcs_hash(member, &at)?.0;
        if previous.as_ref().is_some_and(|previous| hash < *previous) {
            return Err(Failure::new(
                Code::UnsortedMemberArray,
                at,
                "members must be in ascending order of the SHA-256 of their JCS form",
            ));
        }
        if !seen.insert(hash.clone()) {
            return Err(Failure::new(
                Code::AggregateDuplicateMember,
                at,
                format!("member {i} is the same bundle as an earlier member"),
            ));
        }
        previous = Some(hash);
    }
    let mut expected: Vec<(String, &Value)> = members
        .iter()
        .enumerate()
        .map(|(i, member)| (format!("artifacts/member_bundles/{i}.json"), member))
        .collect();
    // The reference checks the entries in path order.
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let entries = value
        .pointer("/payload/manifest/entries")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    check_manifest(
        entries,
        "/payload/manifest/entries",
        expected,
        ManifestCodes {
            malformed: Code::AggregateBundleInvalid,
            unlisted: Code::HashMismatch,
        },
    )
}

/// Proof tiers wpc can establish, lowest first (the reference also ranks
/// `unknown` below and `sandbox`, `tee`, `witnessed_web` above them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    SelfSigned,
    Gateway,
}

impl Tier {
    fn as_str(self) -> &'static str {
        match self {
            Tier::SelfSigned => "self",
            Tier::Gateway => "gateway",
        }
    }
}

/// A span's causal fields, as the reference compares them across members
/// (`-0` and `0` are one confidence, as in JCS).
#[derive(Clone, Debug, PartialEq)]
struct Semantics {
    parent: Option<String>,
    tool: Option<String>,
    phase: Option<String>,
    confidence: Option<f64>,
}

/// The limits and sums of one rate-limit claim group.
struct Claims {
    first_at: String,
    key: String,
    max: [Option<f64>; 3],
    observed: [f64; 3],
}

/// The rate-limit fields: requests, then input and output tokens.
const RATES: [(&str, &str); 3] = [
    ("max_requests", "observed_requests"),
    ("max_tokens_input", "observed_tokens_input"),
    ("max_tokens_output", "observed_tokens_output"),
];

/// What the members seen so far established.
struct Fleet<'a> {
    issuer: &'a str,
    expires_at: Option<Timestamp>,
    options: &'a Options,
    failures: Vec<Failure>,
    members: Vec<Member>,
    evidence: Vec<Evidence>,
    bundle_ids: HashSet<String>,
    run_ids: HashSet<String>,
    agents: HashSet<String>,
    spans: HashMap<String, Semantics>,
    receipts: HashMap<String, String>,
    claims: Vec<Claims>,
    claim_index: HashMap<String, usize>,
    tier: Tier,
}

impl<'a> Fleet<'a> {
    fn new(issuer: &'a str, expires_at: Option<Timestamp>, options: &'a Options) -> Fleet<'a> {
        Fleet {
            issuer,
            expires_at,
            options,
            failures: Vec::new(),
            members: Vec::new(),
            evidence: Vec::new(),
            bundle_ids: HashSet::new(),
            run_ids: HashSet::new(),
            agents: HashSet::new(),
            spans: HashMap::new(),
            receipts: HashMap::new(),
            claims: Vec::new(),
            claim_index: HashMap::new(),
            tier: Tier::Gateway,
        }
    }

    fn fail(&mut self, code: Code, pointer: impl Into<String>, message: impl Into<String>) {
        self.failures.push(Failure::new(code, pointer, message));
    }

    fn all_valid(&self) -> bool {
        self.members.iter().all(|m| m.report.valid)
    }

    /// Member `i`: its kind and run, its own verification, then the checks
    /// against the members before it.
    fn member(&mut self, i: usize, member: &Value) {
        let at = format!("{MEMBERS}/{i}");
        let (proof, proof_at) =
            if member.get("envelope_type").and_then(Value::as_str) == Some("proof_bundle") {
                (member, at.clone())
            } else if member.get("export_version").and_then(Value::as_str) == Some("1") {
                (
                    member
                        .pointer("/artifacts/proof_bundle_envelope")
                        .unwrap_or(&Value::Null),
                    format!("{at}/artifacts/proof_bundle_envelope"),
                )
            } else {
                self.fail(
                    Code::AggregateBundleInvalid,
                    at,
                    format!("member {i} is neither a proof bundle envelope nor an export bundle"),
                );
                return;
            };
        let payload = proof.get("payload").unwrap_or(&Value::Null);
        let payload_at = format!("{proof_at}/payload");
        let run_id = match member_run(payload) {
            Ok(run_id) => run_id,
            Err(why) => {
                self.fail(
                    Code::InconsistentRunId,
                    format!("{payload_at}/event_chain"),
                    format!("member {i}: {why}"),
                );
                return;
            }
        };
        let expires_at = match member.get("expires_at").and_then(Value::as_str) {
            None => None,
            Some(text) => match parse_rfc3339(text) {
                Ok(time) => Some(time),
                Err(err) => {
                    self.fail(
                        Code::AggregateBundleInvalid,
                        format!("{at}/expires_at"),
                        format!("member {i}: expires_at: {err}"),
                    );
                    return;
                }
            },
        };

        // Members were parsed with the aggregate (duplicate keys and size
        // already refused); serializing one again gives the same values,
        // and so the same hashes.
        let bytes = serde_json::to_vec(member).unwrap_or_default();
        let mut report = verify_bundle(&bytes, self.options);
        for failure in &mut report.failures {
            failure.pointer = format!("{at}{}", failure.pointer);
        }
        self.merge_evidence(&report.evidence);
        let valid = report.valid;
        if let Some(first) = report.failures.first() {
            let message = format!(
                "member {i} failed verification: {} {}",
                first.code, first.message
            );
            self.fail(Code::AggregateMemberInvalid, at.clone(), message);
        }
        let tier = if self.options.gateway_signers_checked
            && report
                .evidence
                .iter()
                .any(|e| e.kind == "receipts" && e.status == EvidenceStatus::Verified)
        {
            Tier::Gateway
        } else {
            Tier::SelfSigned
        };
        self.members.push(Member {
            pointer: at.clone(),
            report,
        });
        if !valid {
            return;
        }

        self.causal(payload, &payload_at, &run_id);
        let agent = payload
            .get("agent_did")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if agent == self.issuer {
            self.fail(
                Code::IdentityConflict,
                at.clone(),
                format!("member {i}'s agent {agent} is the aggregate's issuer"),
            );
        }
        if let (Some(aggregate_expiry), Some(member_expiry)) = (self.expires_at, expires_at)
            && aggregate_expiry > member_expiry
        {
            self.fail(
                Code::AggregateTtlExceedsMember,
                format!("{at}/expires_at"),
                format!("member {i} expires before the aggregate"),
            );
        }
        if expires_at.is_some_and(|expiry| self.options.now > expiry + SKEW) {
            self.fail(
                Code::AggregateMemberInvalid,
                format!("{at}/expires_at"),
                format!("member {i} has expired"),
            );
        }
        let bundle_id = payload
            .get("bundle_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.bundle_ids.insert(bundle_id.to_owned()) {
            self.fail(
                Code::AggregateDuplicateBundleId,
                at.clone(),
                format!("bundle_id `{bundle_id}` is an earlier member's"),
            );
        }
        if !self.run_ids.insert(run_id.clone()) {
            self.fail(
                Code::AggregateDuplicateRunId,
                at.clone(),
                format!("run_id `{run_id}` is an earlier member's"),
            );
        }
        self.rate_claims(agent, payload, &payload_at);
        self.agents.insert(agent.to_owned());
        self.tier = self.tier.min(tier);
    }

    /// The members' evidence, per class: counts summed, the weakest status.
    fn merge_evidence(&mut self, evidence: &[Evidence]) {
        for item in evidence {
            match self.evidence.iter_mut().find(|e| e.kind == item.kind) {
                Some(merged) => {
                    merged.count += item.count;
                    merged.status = merged.status.max_with(item.status);
                }
                None => self.evidence.push(item.clone()),
            }
        }
    }

    /// Gateway receipt spans of one run namespace mean the same in every
    /// member, and one receipt id is one receipt.
    fn causal(&mut self, payload: &Value, payload_at: &str, run_id: &str) {
        let namespace = namespace(run_id);
        let receipts = payload
            .get("receipts")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (j, receipt) in receipts.iter().enumerate() {
            let Some(binding) = super::gateway_binding(receipt) else {
                continue;
            };
            let id = |snake: &str, camel: &str| {
                identifier(binding.get(snake)).or_else(|| identifier(binding.get(camel)))
            };
            let Some(span) = id("span_id", "spanId") else {
                continue;
            };
            let number = |key: &str| {
                binding
                    .get(key)
                    .and_then(Value::as_f64)
                    .filter(|n| n.is_finite())
            };
            let semantics = Semantics {
                parent: id("parent_span_id", "parentSpanId"),
                tool: id("tool_span_id", "toolSpanId"),
                phase: identifier(binding.get("phase")),
                confidence: number("attribution_confidence")
                    .or_else(|| number("attributionConfidence")),
            };
            let key = format!("{namespace}|{span}");
            match self.spans.get(&key) {
                None => {
                    self.spans.insert(key, semantics);
                }
                Some(first) if *first == semantics => {}
                Some(_) => self.fail(
                    Code::CausalAggregateMemberConflict,
                    format!("{payload_at}/receipts/{j}/payload/binding/span_id"),
                    format!(
                        "span `{span}` of run namespace `{namespace}` has other causal fields \
                         in an earlier member"
                    ),
                ),
            }
        }
        for (j, receipt) in receipts.iter().enumerate() {
            let receipt_payload = receipt.get("payload").unwrap_or(&Value::Null);
            let Some(id) = receipt_payload
                .get("receipt_id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
            else {
                continue;
            };
            let fingerprint = canonical_json(receipt_payload).map_or_else(
                |_| stringify_hash_b64u(receipt_payload),
                |b| sha256_b64u(&b),
            );
            match self.receipts.get(id) {
                None => {
                    self.receipts.insert(id.to_owned(), fingerprint);
                }
                Some(first) if *first == fingerprint => {}
                Some(_) => self.fail(
                    Code::CausalAggregateReceiptReplay,
                    format!("{payload_at}/receipts/{j}/payload/receipt_id"),
                    format!("receipt_id `{id}` carries another payload in an earlier member"),
                ),
            }
        }
    }

    /// Claims of one agent, scope, key and window agree on their limits
    /// across members; their observations are summed ([`Fleet::finish`]).
    /// Each claim on its own was checked with its member.
    fn rate_claims(&mut self, agent: &str, payload: &Value, payload_at: &str) {
        let claims = payload
            .get("rate_limit_claims")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (j, claim) in claims.iter().enumerate() {
            let at = format!("{payload_at}/rate_limit_claims/{j}");
            let field = |key: &str| claim.get(key).and_then(Value::as_str).unwrap_or_default();
            let key = [
                agent,
                field("scope"),
                field("scope_key"),
                field("window_start"),
                field("window_end"),
            ]
            .join("|");
            let number = |key: &str| claim.get(key).and_then(Value::as_f64);
            let max = RATES.map(|(max, _)| number(max));
            let observed = RATES.map(|(_, observed)| number(observed).unwrap_or(0.0));
            match self.claim_index.get(&key) {
                None => {
                    self.claim_index.insert(key.clone(), self.claims.len());
                    self.claims.push(Claims {
                        first_at: at,
                        key,
                        max,
                        observed,
                    });
                }
                Some(&index) => {
                    if self.claims[index].max != max {
                        let message = format!(
                            "an earlier member claims other limits for {key} (at {})",
                            self.claims[index].first_at
                        );
                        self.fail(Code::RateLimitClaimInconsistent, at, message);
                        continue;
                    }
                    for (sum, n) in self.claims[index].observed.iter_mut().zip(observed) {
                        *sum += n;
                    }
                }
            }
        }
    }

    /// After every member: summed claims within their limits, and, when
    /// every member verified, the fleet summary.
    fn finish(&mut self, value: &Value) {
        let mut exceeded = Vec::new();
        for group in &self.claims {
            for ((max_key, observed_key), (max, observed)) in
                RATES.iter().zip(group.max.iter().zip(group.observed))
            {
                if let Some(max) = max
                    && observed > *max
                {
                    exceeded.push(Failure::new(
                        Code::RateLimitExceeded,
                        group.first_at.clone(),
                        format!(
                            "the members observe {observed} in all ({observed_key}), more than \
                             {max_key} {max}, for {}",
                            group.key
                        ),
                    ));
                }
            }
        }
        self.failures.extend(exceeded);
        if !self.all_valid() {
            return;
        }
        let summary = "/payload/metadata/fleet_summary";
        let claimed = |key: &str| {
            value
                .pointer(&format!("{summary}/{key}"))
                .and_then(Value::as_f64)
        };
        for (key, actual) in [
            ("total_members", self.members.len()),
            ("unique_agents", self.agents.len()),
            ("total_runs", self.run_ids.len()),
        ] {
            if claimed(key) != Some(actual as f64) {
                self.fail(
                    Code::FleetSummaryMismatch,
                    format!("{summary}/{key}"),
                    format!(
                        "fleet_summary.{key} is {}, the members show {actual}",
                        value
                            .pointer(&format!("{summary}/{key}"))
                            .unwrap_or(&Value::Null)
                    ),
                );
            }
        }
        if let Some(tier) = value
            .pointer(&format!("{summary}/fleet_proof_tier"))
            .and_then(Value::as_str)
            && tier != self.tier.as_str()
        {
            self.fail(
                Code::FleetSummaryMismatch,
                format!("{summary}/fleet_proof_tier"),
                format!(
                    "fleet_summary.fleet_proof_tier is `{tier}`, the members' lowest is `{}`",
                    self.tier.as_str()
                ),
            );
        }
    }
}

/// Why a member has no single run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum MemberRunError {
    #[error("event {index} has another run_id, `{run_id}`")]
    OtherRun { index: usize, run_id: String },
    #[error("event {index} has no run_id")]
    NoRun { index: usize },
    #[error("the event chain is empty")]
    Empty,
}

/// A member's run: a non-empty event chain with one non-empty `run_id`.
fn member_run(payload: &Value) -> Result<String, MemberRunError> {
    let events = payload
        .get("event_chain")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut run: Option<&str> = None;
    for (index, event) in events.iter().enumerate() {
        match event.get("run_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && run.is_none_or(|run| run == id) => run = Some(id),
            Some(id) if !id.is_empty() => {
                return Err(MemberRunError::OtherRun {
                    index,
                    run_id: id.to_owned(),
                });
            }
            _ => return Err(MemberRunError::NoRun { index }),
        }
    }
    run.map(str::to_owned).ok_or(MemberRunError::Empty)
}

/// A causal identifier as the reference reads it: a string, trimmed, not
/// empty.
fn identifier(value: Option<&Value>) -> Option<String> {
    let text = causal::js_trim(value?.as_str()?);
    (!text.is_empty()).then(|| text.to_owned())
}

/// A run's namespace: the run id before its first `::` (when that is not
/// at the start), or the whole id. Members of one namespace share spans.
fn namespace(run_id: &str) -> &str {
    match run_id.find("::") {
        Some(at) if at > 0 => &run_id[..at],
        _ => run_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaces_split_at_the_first_double_colon_only_after_a_name() {
        assert_eq!(namespace("ns::a"), "ns");
        assert_eq!(namespace("ns::a::b"), "ns");
        assert_eq!(namespace("::a"), "::a");
        assert_eq!(namespace("run_1"), "run_1");
    }

    #[test]
    fn a_member_has_one_non_empty_run() {
        let chain = |runs: &[&str]| json!({"event_chain": runs.iter().map(|r| json!({"run_id": r})).collect::<Vec<_>>()});
        assert_eq!(member_run(&chain(&["r", "r"])), Ok("r".to_owned()));
        assert!(member_run(&chain(&[])).is_err());
        assert!(member_run(&chain(&["r", "s"])).is_err());
        assert!(member_run(&chain(&[""])).is_err());
        assert!(member_run(&json!({})).is_err());
    }

    #[test]
    fn dids_are_shaped_as_the_reference_shapes_them() {
        assert!(did_shaped("did:key:z6Mk"));
        assert!(did_shaped("did:web:example.com%3A8443"));
        assert!(!did_shaped("did:key:"));
        assert!(!did_shaped("did:ion:abc"));
        assert!(!did_shaped("did:web:a/b"));
    }

    #[test]
    fn causal_identifiers_are_trimmed_strings() {
        assert_eq!(identifier(Some(&json!(" a "))), Some("a".to_owned()));
        assert_eq!(identifier(Some(&json!("  "))), None);
        assert_eq!(identifier(Some(&json!(1))), None);
        assert_eq!(identifier(None), None);
    }
}

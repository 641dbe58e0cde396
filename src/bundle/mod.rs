//! Claw protocol proof bundle verification (docs/bundles.md).
//!
//! [`verify_bundle`] takes the bytes of one `proof_bundle` envelope and
//! returns a [`BundleReport`]: VALID, or INVALID with every [`Failure`] (a
//! reason code and a JSON pointer). The order of checks follows the
//! reference verifier where the conformance vectors depend on it:
//!
//! 1. JSON, size, duplicate keys and envelope shape (`MALFORMED_ENVELOPE`);
//! 2. version, type, hash algorithm, algorithm;
//! 3. the payload against `poh/proof_bundle.v1.json`, which also covers every
//!    embedded receipt's shape (`SCHEMA_VALIDATION_FAILED`, one failure per
//!    schema error) — before the hash, as the reference does;
//! 4. payload hash (`JSON.stringify` rule), signer did:key, signature, and
//!    the signer must be the bundle's `agent_did`.
//!
//! Export bundles ([`export`]) and aggregate bundles ([`aggregate`]) are
//! recognized after step 1 and verified by their own modules.
//!
//! Steps 1-4 stop at the first failure: nothing inside a bundle whose
//! signature does not verify is worth reading. After them, every remaining
//! check runs and reports: event chain, gateway receipts, receipt binding,
//! tool / side-effect / human-approval receipts, expiry, causal binding, the
//! [`completeness`] classification, and, with a policy, the checks of
//! [`policy`]. Replay across bundles is [`batch`]'s job.

pub mod aggregate;
pub mod approval;
pub mod batch;
pub mod causal;
pub mod commit_sig;
pub mod completeness;
pub mod export;
pub mod kit;
pub mod limits;
pub mod policy;
pub mod rate_limit;
pub mod read;
pub mod reason;
pub mod render;
pub mod tool_receipt;
pub mod x402;

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::did::DidKey;
use crate::crypto::envelope::{GatewayReceipt, ProofBundle, parse_rfc3339};
use crate::crypto::stringify::{event_hash_b64u, stringify_hashes_b64u};
use crate::crypto::trusted::TrustedApprover;
use crate::crypto::verify::{
    Envelope, MAX_ENVELOPE_BYTES, Precomputed, SignedFields, Trust, check_signatures,
    parse_json_within, verify_embedded_precomputed,
};
pub use reason::{Code, Failure};

/// At most this many events, and receipts of each kind (the reference's
/// limits; the schema caps some of them too).
pub const MAX_ITEMS: usize = 1000;

/// Evidence classes of the protocol that wpc reads as present and does not
/// verify (docs/bundles.md, "Evidence classes").
pub const UNVERIFIED_CLASSES: &[&str] = &[
    "urm",
    "vir_receipts",
    "web_receipts",
    "coverage_attestations",
    "binary_semantic_evidence_attestations",
    "delegation_receipts",
    "attestations",
    "metadata",
];

/// What a verification is checked against.
#[derive(Debug)]
pub struct Options {
    /// Signers admitted for gateway receipts.
    pub gateway_trust: Trust,
    /// Whether `gateway_trust` is a real list (false: any signer, and the
    /// report says so).
    pub gateway_signers_checked: bool,
    /// The time `expires_at` is compared with.
    pub now: Timestamp,
    /// Verify under this policy as well.
    pub policy: Option<policy::PolicyCheck>,
    /// Every receipt's `binding.token_scope_hash_b64u` must be this (a
    /// checked CST's scope hash, or `--scope-hash`).
    pub scope_hash: Option<String>,
    /// The causal policy span graphs are checked under.
    pub causal: causal::Policy,
    /// Larger bundle files are rejected unread (at most
    /// [`MAX_ENVELOPE_BYTES`], the default).
    pub max_bundle_bytes: u64,
    /// Keys whose signed human approvals satisfy the approval gates of the
    /// teams they serve (`[[approver]]` of the trusted signers).
    pub approvers: Vec<TrustedApprover>,
    /// Evidence classes wpc does not verify: INVALID, or a warning.
    pub unverified_evidence: UnverifiedEvidence,
    /// What a gateway receipt that fails its checks does to the verdict.
    pub completeness: completeness::Profile,
}

impl Options {
    /// Protocol checks at the current time, with gateway receipts signed
    /// only by `gateway_signers`; with none given, by any signer (and the
    /// report says so).
    pub fn for_gateway_signers(gateway_signers: &[DidKey]) -> Options {
        match gateway_signers {
            [] => Options::any_gateway(),
            signers => Options {
                gateway_trust: Trust::only(signers),
                gateway_signers_checked: true,
                ..Options::any_gateway()
            },
        }
    }

    /// Protocol checks only, any gateway signer, at the current time.
    pub fn any_gateway() -> Options {
        Options {
            gateway_trust: Trust::any_signer_unchecked(),
            gateway_signers_checked: false,
            now: Timestamp::now(),
            policy: None,
            scope_hash: None,
            causal: causal::Policy::default(),
            max_bundle_bytes: MAX_ENVELOPE_BYTES as u64,
            approvers: Vec::new(),
            unverified_evidence: UnverifiedEvidence::Fail,
            completeness: completeness::Profile::Strict,
        }
    }
}

/// How far one class of evidence was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// Its own hash and signature verified, by a signer it needs (and its
    /// binding, where it has one).
    Verified,
    /// Checked (shape, agent, binding, consistency), but covered only by
    /// the agent's own bundle signature, or only some items signed: the
    /// agent's claim, not independent evidence.
    PartlyVerified,
    /// Present, but wpc does not verify this class, or it failed its
    /// checks: not trusted.
    Unverified,
}

/// What to do with a bundle carrying evidence wpc does not verify, which
/// could have made it INVALID (`--unverified-evidence`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum UnverifiedEvidence {
    // Plain comments: doc comments would turn `--help` into the long form.
    // The bundle is INVALID (`EVIDENCE_UNVERIFIED`): fail closed.
    #[default]
    Fail,
    // The bundle keeps its verdict, and the report warns.
    Warn,
}

/// One kind of evidence in a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The payload field, e.g. `receipts`.
    pub kind: &'static str,
    pub count: usize,
    pub status: EvidenceStatus,
}

/// The identifiers replay detection compares across bundles, each with the
/// pointer it was read from. Only bundles whose signature verified have any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identifiers {
    pub bundle_id: Option<String>,
    pub run_id: Option<String>,
    pub receipt_ids: Vec<(String, String)>,
    pub nonces: Vec<(String, String)>,
    /// The x402 payment authorization hash of each gateway receipt that
    /// claims one, with its pointer.
    pub payment_auths: Vec<(String, String)>,
}

/// The verdict on one bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_did: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub failures: Vec<Failure>,
    pub evidence: Vec<Evidence>,
    /// The protocol's completeness classification, once the bundle's
    /// signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completeness: Option<completeness::Completeness>,
    #[serde(skip)]
    pub identifiers: Identifiers,
    /// An aggregate bundle's own fields and its members' verdicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Box<aggregate::Aggregate>>,
}

impl BundleReport {
    fn failed(failure: Failure) -> BundleReport {
        BundleReport {
            valid: false,
            bundle_id: None,
            agent_did: None,
            run_id: None,
            failures: vec![failure],
            evidence: Vec::new(),
            completeness: None,
            identifiers: Identifiers::default(),
            aggregate: None,
        }
    }

    /// Adds a failure found after the fact (replay).
    pub fn add(&mut self, failure: Failure) {
        self.failures.push(failure);
        self.valid = false;
    }

    /// The distinct reason codes, in order of first appearance.
    pub fn codes(&self) -> Vec<Code> {
        let mut seen = HashSet::new();
        self.failures
            .iter()
            .map(|f| f.code)
            .filter(|code| seen.insert(*code))
            .collect()
    }
}

/// The verdict on a bundle file of `len` bytes, over the `limit`.
pub fn too_large(len: u64, limit: u64) -> BundleReport {
    BundleReport::failed(Failure::new(
        Code::MalformedEnvelope,
        "",
        format!("the file is {len} bytes; bundles of at most {limit} bytes are read"),
    ))
}

/// Verifies one proof bundle envelope (or an export or aggregate bundle).
pub fn verify_bundle(bytes: &[u8], options: &Options) -> BundleReport {
    match parse_bundle(bytes, options.max_bundle_bytes) {
        Ok(value) => verify_value(value, options),
        Err(report) => report,
    }
}

/// A bundle file's JSON, parsed within bounds: at most `limit` bytes and
/// [`read::MAX_JSON_VALUES`] values (counted as the tree is built, which
/// stops there). `Err`: the verdict on a file that is not such JSON
/// (`MALFORMED_ENVELOPE`).
pub fn parse_bundle(bytes: &[u8], limit: u64) -> Result<Value, BundleReport> {
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit));
    }
    parse_json_within(bytes, read::MAX_JSON_VALUES)
        .map_err(|failure| BundleReport::failed(Failure::from_envelope("", &failure)))
}

/// What the bundle envelope and each of its gateway receipts need that is
/// cheaper to compute for all at once: the payload hashes, from one
/// serialization of the bundle's payload (each receipt's is a range of its
/// bytes), and the signature verdicts, from one batch.
fn precompute(envelope: &Envelope) -> (Precomputed, Vec<Precomputed>) {
    let receipts = items(envelope.payload(), "receipts");
    let payloads: Vec<&Value> = receipts
        .iter()
        .map(|receipt| receipt.get("payload").unwrap_or(&Value::Null))
        .collect();
    let (bundle_hash, receipt_hashes) = stringify_hashes_b64u(envelope.payload(), &payloads);
    let mut signatures = check_signatures(
        std::iter::once(Some(envelope.signed_fields()))
            .chain(receipts.iter().map(SignedFields::of)),
    )
    .into_iter();
    let bundle = Precomputed {
        payload_hash: Some(bundle_hash),
        signature: signatures.next().flatten(),
    };
    let receipts = receipt_hashes
        .into_iter()
        .zip(signatures)
        .map(|(payload_hash, signature)| Precomputed {
            payload_hash,
            signature,
        })
        .collect();
    (bundle, receipts)
}

/// Verifies a bundle file's JSON, as [`parse_bundle`] gives it.
pub fn verify_value(value: Value, options: &Options) -> BundleReport {
    if export::is_export_bundle(&value) {
        return export::verify(&value, options);
    }
    if aggregate::is_aggregate(&value) {
        return aggregate::verify(&value, options);
    }
    let envelope = match Envelope::from_value(value) {
        Ok(envelope) => envelope,
        Err(failure) => return BundleReport::failed(Failure::from_envelope("", &failure)),
    };
    if let Err(failure) = envelope.check_header::<ProofBundle>() {
        return BundleReport::failed(Failure::from_envelope("", &failure));
    }
    let schema_errors = approval::schema_errors(envelope.payload());
    if !schema_errors.is_empty() {
        let mut report = BundleReport::failed(Failure::new(Code::SchemaValidationFailed, "", ""));
        report.failures = schema_errors
            .into_iter()
            .map(|err| {
                Failure::new(
                    schema_failure_code(&err.pointer),
                    format!("/payload{}", err.pointer),
                    err.message,
                )
            })
            .collect();
        return report;
    }
    let (bundle_precomputed, receipts_precomputed) = precompute(&envelope);
    let verified = match envelope
        .verify_precomputed::<ProofBundle>(bundle_precomputed, &Trust::any_signer_unchecked())
    {
        Ok(verified) => verified,
        Err(failure) => return BundleReport::failed(Failure::from_envelope("", &failure)),
    };
    let signer = verified.signer().as_str().to_owned();
    let expires_at = verified.expires_at().map(str::to_owned);
    let payload = verified.into_payload();
    let agent_did = text(&payload, "agent_did").to_owned();
    if signer != agent_did {
        // The reference reports INVALID_DID_FORMAT here; wpc names the actual
        // problem (docs/bundles.md).
        return BundleReport::failed(Failure::new(
            Code::ProofBundleAgentMismatch,
            "/signer_did",
            format!("the bundle is signed by {signer}, not by its agent_did {agent_did}"),
        ));
    }

    let mut checker = Checker::new(&payload, options, receipts_precomputed);
    if let Some(expires_at) = expires_at
        && parse_rfc3339(&expires_at).is_ok_and(|at| at < options.now)
    {
        checker.fail(
            Code::ExpiredTtl,
            "/expires_at",
            format!("the bundle expired at {expires_at}"),
        );
    }
    checker.limits();
    checker.event_chain();
    checker.rate_limit_claims();
    checker.gateway_receipts();
    checker.tool_receipts();
    checker.side_effect_receipts();
    checker.human_approval_receipts();
    checker.unverified_kinds();
    if let Some(failure) = causal::check(&payload, &options.causal) {
        checker.failures.push(failure);
    }
    checker.completeness();
    if let Some(check) = &options.policy {
        policy::check(
            check,
            &payload,
            checker.chain.as_ref(),
            &options.approvers,
            options.now,
            &mut checker.failures,
        );
    }
    let scope_required = options
        .policy
        .as_ref()
        .is_some_and(|p| p.wpc.binding.cst_scope_hash_required);
    if scope_required || options.scope_hash.is_some() {
        policy::check_scope(
            &payload,
            options.scope_hash.as_deref(),
            &mut checker.failures,
        );
    }
    checker.finish()
}

/// The code of a schema error at `pointer`: a causal binding field's own
/// code (the reference classifies schema errors by their path this way),
/// else `SCHEMA_VALIDATION_FAILED`.
fn schema_failure_code(pointer: &str) -> Code {
    let field = pointer
        .rsplit_once("/binding/")
        .map(|(_, field)| field.split('/').next().unwrap_or_default());
    match field {
        Some("phase") => Code::CausalPhaseInvalid,
        Some("attribution_confidence" | "attributionConfidence") => {
            Code::CausalConfidenceOutOfRange
        }
        Some(
            "span_id" | "spanId" | "parent_span_id" | "parentSpanId" | "tool_span_id"
            | "toolSpanId",
        ) => Code::CausalBindingNormalizationFailed,
        _ => Code::SchemaValidationFailed,
    }
}

/// A verified event chain: its run id and each event's hash.
#[derive(Clone, Debug)]
pub struct Chain {
    pub run_id: String,
    pub event_hashes: Vec<String>,
}

struct Checker<'a> {
    payload: &'a Value,
    options: &'a Options,
    agent_did: &'a str,
    failures: Vec<Failure>,
    evidence: Vec<Evidence>,
    identifiers: Identifiers,
    /// `Some` once the chain verified.
    chain: Option<Chain>,
    /// What [`precompute`] gave for each gateway receipt, by index.
    receipts_precomputed: Vec<Precomputed>,
    /// What the completeness classification reads.
    counts: completeness::Counts,
    completeness: Option<completeness::Completeness>,
}

impl<'a> Checker<'a> {
    fn new(
        payload: &'a Value,
        options: &'a Options,
        receipts_precomputed: Vec<Precomputed>,
    ) -> Checker<'a> {
        let identifiers = Identifiers {
            bundle_id: Some(text(payload, "bundle_id").to_owned()),
            ..Identifiers::default()
        };
        Checker {
            payload,
            options,
            agent_did: text(payload, "agent_did"),
            failures: Vec::new(),
            evidence: Vec::new(),
            identifiers,
            chain: None,
            receipts_precomputed,
            counts: completeness::Counts::default(),
            completeness: None,
        }
    }

    fn fail(&mut self, code: Code, pointer: impl Into<String>, message: impl Into<String>) {
        self.failures.push(Failure::new(code, pointer, message));
    }

    fn items(&self, field: &str) -> &'a [Value] {
        items(self.payload, field)
    }

    fn limits(&mut self) {
        for field in ["event_chain", "receipts", "tool_receipts"] {
            let count = self.items(field).len();
            if count > MAX_ITEMS {
                self.fail(
                    Code::MalformedEnvelope,
                    format!("/payload/{field}"),
                    format!("{count} items; at most {MAX_ITEMS} are accepted"),
                );
            }
        }
    }

    /// Every event hash recomputed, `prev_hash_b64u` links, one run id,
    /// unique event ids.
    fn event_chain(&mut self) {
        let events = self.items("event_chain");
        if events.is_empty() {
            return;
        }
        let run_id = text(&events[0], "run_id").to_owned();
        let before = self.failures.len();
        let mut hashes = Vec::with_capacity(events.len());
        let mut ids = HashSet::new();
        let mut previous: Option<&str> = None;
        for (i, event) in events.iter().enumerate() {
            let at = || format!("/payload/event_chain/{i}");
            let Some(fields) = event.as_object() else {
                continue;
            };
            let event_id = text(event, "event_id");
            if !ids.insert(event_id) {
                self.fail(
                    Code::MalformedEnvelope,
                    format!("{}/event_id", at()),
                    format!("event_id `{event_id}` appears twice in the chain"),
                );
            }
            if text(event, "run_id") != run_id {
                self.fail(
                    Code::MalformedEnvelope,
                    format!("{}/run_id", at()),
                    format!(
                        "run_id `{}` differs from the chain's `{run_id}`",
                        text(event, "run_id")
                    ),
                );
            }
            let prev = event.get("prev_hash_b64u").and_then(Value::as_str);
            if prev != previous {
                self.fail(
                    Code::HashMismatch,
                    format!("{}/prev_hash_b64u", at()),
                    match previous {
                        None => "the first event's prev_hash_b64u must be null".to_owned(),
                        Some(hash) => {
                            format!("prev_hash_b64u must be the previous event's hash `{hash}`")
                        }
                    },
                );
            }
            let recomputed = event_hash_b64u(fields);
            let written = text(event, "event_hash_b64u");
            if recomputed != written {
                self.fail(
                    Code::HashMismatch,
                    format!("{}/event_hash_b64u", at()),
                    format!("event_hash_b64u is `{written}` but the event header hashes to `{recomputed}`"),
                );
            }
            previous = Some(written);
            hashes.push(written.to_owned());
        }
        let valid = self.failures.len() == before;
        self.counts.chain_declared = true;
        self.counts.chain_valid = valid;
        self.identifiers.run_id = Some(run_id.clone());
        self.evidence.push(Evidence {
            kind: "event_chain",
            count: events.len(),
            status: if valid {
                EvidenceStatus::Verified
            } else {
                EvidenceStatus::Unverified
            },
        });
        if valid {
            self.chain = Some(Chain {
                run_id,
                event_hashes: hashes,
            });
        }
    }

    /// Each rate-limit claim within its own limits and window, and of this
    /// bundle's run.
    fn rate_limit_claims(&mut self) {
        let count = self.items("rate_limit_claims").len();
        if count == 0 {
            return;
        }
        let run_id = self
            .items("event_chain")
            .first()
            .map(|event| text(event, "run_id"));
        let failure = rate_limit::check(self.payload, run_id);
        self.evidence.push(Evidence {
            kind: "rate_limit_claims",
            count,
            // The agent's own statement of its limits: consistent, but
            // asserted by the agent.
            status: if failure.is_none() {
                EvidenceStatus::PartlyVerified
            } else {
                EvidenceStatus::Unverified
            },
        });
        self.failures.extend(failure);
    }

    /// Checks a receipt `binding` object against the chain. `required`:
    /// gateway receipts must be bound when there is a chain.
    fn binding(&mut self, at: &str, binding: Option<&Value>, required: bool) {
        let has_chain = !self.items("event_chain").is_empty();
        let Some(binding) = binding else {
            if required && has_chain {
                self.fail(
                    Code::ReceiptBindingMismatch,
                    at.to_owned(),
                    "the receipt has no binding to this bundle's event chain",
                );
            }
            return;
        };
        let run_id = binding.get("run_id").and_then(Value::as_str);
        let event_hash = binding.get("event_hash_b64u").and_then(Value::as_str);
        let Some(chain) = self.chain.as_ref() else {
            if has_chain {
                // The chain itself failed and is reported; nothing to bind to.
                return;
            }
            if run_id.is_some() || event_hash.is_some() {
                self.fail(
                    Code::ReceiptBindingMismatch,
                    format!("{at}/binding"),
                    "the receipt is bound to a run, but the bundle has no event chain",
                );
            }
            return;
        };
        let run_failure = match run_id {
            Some(run_id) if run_id == chain.run_id => None,
            Some(run_id) => Some(Failure::new(
                Code::ReceiptBindingMismatch,
                format!("{at}/binding/run_id"),
                format!(
                    "binding.run_id `{run_id}` is not this bundle's run `{}`",
                    chain.run_id
                ),
            )),
            None if required => Some(Failure::new(
                Code::ReceiptBindingMismatch,
                format!("{at}/binding"),
                "binding.run_id is missing",
            )),
            None => None,
        };
        let hash_failure = match event_hash {
            Some(hash) if chain.event_hashes.iter().any(|h| h == hash) => None,
            Some(hash) => Some(Failure::new(
                Code::ReceiptBindingMismatch,
                format!("{at}/binding/event_hash_b64u"),
                format!("binding.event_hash_b64u `{hash}` is not an event of this bundle's chain"),
            )),
            None if required => Some(Failure::new(
                Code::ReceiptBindingMismatch,
                format!("{at}/binding"),
                "binding.event_hash_b64u is missing",
            )),
            None => None,
        };
        self.failures
            .extend(run_failure.into_iter().chain(hash_failure));
    }

    fn receipt_id(&mut self, at: &str, receipt: &Value) {
        if let Some(id) = receipt.get("receipt_id").and_then(Value::as_str) {
            self.identifiers
                .receipt_ids
                .push((format!("{at}/receipt_id"), id.to_owned()));
        }
    }

    /// Each gateway receipt envelope: the envelope checks with the trusted
    /// gateway signers, payload sanity, then its binding. Under the
    /// service's completeness profile a receipt's failures only lower the
    /// counts: whether they matter is the classification's question.
    fn gateway_receipts(&mut self) {
        let receipts = self.items("receipts");
        if receipts.is_empty() {
            return;
        }
        self.counts.receipts = receipts.len();
        let mut x402_claims = Vec::new();
        for (i, receipt) in receipts.iter().enumerate() {
            let before = self.failures.len();
            let signed = self.gateway_receipt(i, receipt);
            // A receipt whose x402 claim is malformed does not verify, as in
            // the reference: it counts as unverified evidence.
            let claim = receipt.get("payload").and_then(x402::claim);
            let claim_ok = claim.as_ref().is_none_or(|c| c.problem.is_none());
            let passed = self.failures.len() == before && claim_ok;
            let bound = signed && passed && self.chain.is_some();
            if signed && claim_ok {
                self.counts.receipts_signed += 1;
            }
            if bound {
                self.counts.receipts_bound += 1;
            }
            if self.options.completeness == completeness::Profile::Service {
                self.failures.truncate(before);
            }
            if let Some(claim) = claim {
                if let Some(hash) = &claim.auth_hash {
                    self.identifiers.payment_auths.push((
                        format!(
                            "/payload/receipts/{i}/payload/metadata/x402_payment_auth_hash_b64u"
                        ),
                        hash.clone(),
                    ));
                }
                x402_claims.push(x402::Checked {
                    index: i,
                    claim,
                    signed,
                    bound,
                });
            }
        }
        self.x402(&x402_claims);
        let bound = self.counts.receipts_bound;
        self.evidence.push(Evidence {
            kind: "receipts",
            count: receipts.len(),
            status: if bound == receipts.len() {
                EvidenceStatus::Verified
            } else if bound > 0 && self.options.completeness == completeness::Profile::Service {
                EvidenceStatus::PartlyVerified
            } else {
                EvidenceStatus::Unverified
            },
        });
    }

    /// The x402 payment claims of the gateway receipts: each must be
    /// complete and its receipt verified and bound, and no payment
    /// authorization may pay twice ([`x402`]).
    fn x402(&mut self, claims: &[x402::Checked]) {
        if claims.is_empty() {
            return;
        }
        let verdict = x402::judge(claims);
        if let Some((reason, index, field)) = verdict {
            let at = format!("/payload/receipts/{index}/payload");
            let (pointer, why) = match reason {
                x402::Reason::PaymentAuthReplay => (
                    format!("{at}/metadata/x402_payment_auth_hash_b64u"),
                    "another gateway receipt of the bundle claims the same payment authorization",
                ),
                x402::Reason::ExecutionBindingMismatch => (
                    at,
                    "the receipt claiming the payment does not verify, or is not bound to this \
                     run and one of its events",
                ),
                _ => (
                    format!("{at}{}", field.unwrap_or_default()),
                    "the payment claim is incomplete or malformed",
                ),
            };
            self.fail(
                Code::EvidenceMismatch,
                pointer,
                format!("x402 payment binding failed ({reason}): {why}"),
            );
        }
        self.evidence.push(Evidence {
            kind: "x402_payments",
            count: claims.len(),
            status: if verdict.is_none() {
                EvidenceStatus::Verified
            } else {
                EvidenceStatus::Unverified
            },
        });
    }

    /// One gateway receipt; whether its hash and signature verified (by a
    /// trusted signer).
    fn gateway_receipt(&mut self, i: usize, receipt: &Value) -> bool {
        let payload_at = format!("/payload/receipts/{i}/payload");
        let at = format!("/payload/receipts/{i}");
        let precomputed = self
            .receipts_precomputed
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        let verified = verify_embedded_precomputed::<GatewayReceipt>(
            receipt,
            precomputed,
            &self.options.gateway_trust,
        );
        if let Err(failure) = verified {
            let inner = Failure::from_envelope(&at, &failure);
            self.fail(
                Code::ReceiptVerificationFailed,
                inner.pointer,
                format!("gateway receipt: {}: {}", failure.code(), failure.message()),
            );
            return false;
        }
        let payload = receipt.get("payload").unwrap_or(&Value::Null);
        for (field, max) in [
            ("tokens_input", 10_000_000),
            ("tokens_output", 10_000_000),
            ("latency_ms", 3_600_000),
        ] {
            let ok = payload
                .get(field)
                .and_then(Value::as_u64)
                .is_some_and(|n| n <= max);
            if !ok {
                self.fail(
                    Code::ReceiptVerificationFailed,
                    format!("{payload_at}/{field}"),
                    format!("gateway receipt: {field} must be an integer from 0 to {max}"),
                );
            }
        }
        self.receipt_id(&payload_at, payload);
        if let Some(nonce) = payload
            .get("binding")
            .and_then(|b| b.get("nonce"))
            .and_then(Value::as_str)
        {
            self.identifiers
                .nonces
                .push((format!("{payload_at}/binding/nonce"), nonce.to_owned()));
        }
        self.binding(&payload_at, payload.get("binding"), true);
        true
    }

    /// Tool receipts: each one's own signatures and selective disclosures
    /// ([`tool_receipt`]; the protocol has no signer list for them), then,
    /// for every form, agent and binding.
    fn tool_receipts(&mut self) {
        let receipts = self.items("tool_receipts");
        if receipts.is_empty() {
            return;
        }
        let mut status = EvidenceStatus::Verified;
        let before = self.failures.len();
        for (i, receipt) in receipts.iter().enumerate() {
            let at = format!("/payload/tool_receipts/{i}");
            let checked = tool_receipt::verify(receipt, &at, self.options.now);
            self.failures.extend(checked.failures);
            let (payload, payload_at) = if checked.signed {
                (
                    receipt.get("payload").unwrap_or(&Value::Null),
                    format!("{at}/payload"),
                )
            } else {
                status = EvidenceStatus::PartlyVerified.max_with(status);
                (receipt, at)
            };
            self.agent(&payload_at, payload);
            self.receipt_id(&payload_at, payload);
            self.binding(&payload_at, payload.get("binding"), false);
        }
        if self.failures.len() != before {
            status = EvidenceStatus::Unverified;
        }
        self.evidence.push(Evidence {
            kind: "tool_receipts",
            count: receipts.len(),
            status,
        });
    }

    fn agent(&mut self, at: &str, receipt: &Value) {
        let agent = text(receipt, "agent_did");
        if agent != self.agent_did {
            self.fail(
                Code::ProofBundleAgentMismatch,
                format!("{at}/agent_did"),
                format!(
                    "agent_did `{agent}` is not the bundle's agent `{}`",
                    self.agent_did
                ),
            );
        }
    }

    /// Side-effect receipts: unsigned objects inside the bundle; agent, hash
    /// algorithm and binding are checked.
    fn side_effect_receipts(&mut self) {
        const FIELD: &str = "side_effect_receipts";
        let receipts = self.items(FIELD);
        if receipts.is_empty() {
            return;
        }
        for (i, receipt) in receipts.iter().enumerate() {
            self.inline_receipt(&format!("/payload/{FIELD}/{i}"), receipt);
        }
        self.evidence.push(Evidence {
            kind: FIELD,
            count: receipts.len(),
            status: EvidenceStatus::PartlyVerified,
        });
    }

    /// Human approval receipts: raw payloads (the agent's claim) or signed
    /// envelopes, whose hash and signature are checked here; whether a
    /// signer is a trusted approver is the policy check's question.
    fn human_approval_receipts(&mut self) {
        const FIELD: &str = "human_approval_receipts";
        let receipts = self.items(FIELD);
        if receipts.is_empty() {
            return;
        }
        let before = self.failures.len();
        let mut status = EvidenceStatus::Verified;
        for (i, receipt) in receipts.iter().enumerate() {
            let at = format!("/payload/{FIELD}/{i}");
            match approval::verify(receipt, &at, self.options.now) {
                Ok(Some(signer))
                    if signer.as_str() != self.agent_did
                        && self.options.approvers.iter().any(|a| a.did == signer) => {}
                // Unsigned, signed by the agent or by a key nobody trusts:
                // no more than the agent's word.
                Ok(_) => status = EvidenceStatus::PartlyVerified.max_with(status),
                Err(failure) => self.failures.push(failure),
            }
            let (payload, payload_at) = approval::payload(receipt, &at);
            self.inline_receipt(&payload_at, payload);
        }
        if self.failures.len() != before {
            status = EvidenceStatus::Unverified;
        }
        self.evidence.push(Evidence {
            kind: FIELD,
            count: receipts.len(),
            status,
        });
    }

    /// A side-effect or approval receipt payload at `at`: agent, hash
    /// algorithm, id and binding.
    fn inline_receipt(&mut self, at: &str, receipt: &Value) {
        if let Some(algorithm) = receipt.get("hash_algorithm").and_then(Value::as_str)
            && algorithm != "SHA-256"
        {
            self.fail(
                Code::UnknownHashAlgorithm,
                format!("{at}/hash_algorithm"),
                format!("hash_algorithm `{algorithm}`; expected `SHA-256`"),
            );
        }
        self.agent(at, receipt);
        self.receipt_id(at, receipt);
        let binding = receipt.get("binding").filter(|b| b.is_object());
        self.binding(at, binding, false);
    }

    /// Evidence the protocol defines and wpc does not verify: reported, not
    /// trusted, and, unless the options say warn, the bundle is INVALID: any
    /// of these could have made it INVALID in a verifier that checks it.
    fn unverified_kinds(&mut self) {
        for &kind in UNVERIFIED_CLASSES {
            let count = match self.payload.get(kind) {
                None => continue,
                Some(Value::Array(items)) => items.len(),
                Some(_) => 1,
            };
            self.evidence.push(Evidence {
                kind,
                count,
                status: EvidenceStatus::Unverified,
            });
            if self.options.unverified_evidence == UnverifiedEvidence::Fail {
                self.fail(
                    Code::EvidenceUnverified,
                    format!("/payload/{kind}"),
                    format!(
                        "`{kind}` is present and wpc does not verify it; it could make the \
                         bundle INVALID (--unverified-evidence warn accepts it with a warning)"
                    ),
                );
            }
        }
    }

    /// The protocol's completeness classification; an `INCONSISTENT`
    /// bundle is INVALID in every profile.
    fn completeness(&mut self) {
        let attestations = self.items("attestations");
        self.counts.attestations = attestations.len();
        self.counts.attestations_signed = attestations
            .iter()
            .filter(|a| completeness::attestation_signed(a))
            .count();
        let classified = completeness::classify(&self.counts);
        self.failures.extend(classified.failure());
        self.completeness = Some(classified);
    }

    fn finish(mut self) -> BundleReport {
        // Duplicate receipt ids within one bundle are a replay too.
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let mut duplicates = Vec::new();
        for (pointer, id) in &self.identifiers.receipt_ids {
            if let Some(first) = seen.insert(id, pointer) {
                duplicates.push(Failure::new(
                    Code::ReplayedReceiptId,
                    pointer.clone(),
                    format!("receipt_id `{id}` already appears at {first}"),
                ));
            }
        }
        self.failures.extend(duplicates);
        BundleReport {
            valid: self.failures.is_empty(),
            bundle_id: self.identifiers.bundle_id.clone(),
            agent_did: Some(self.agent_did.to_owned()),
            run_id: self.identifiers.run_id.clone(),
            failures: self.failures,
            evidence: self.evidence,
            completeness: self.completeness,
            identifiers: self.identifiers,
            aggregate: None,
        }
    }
}

impl EvidenceStatus {
    /// The weaker of two statuses.
    fn max_with(self, other: EvidenceStatus) -> EvidenceStatus {
        let rank = |s: EvidenceStatus| match s {
            EvidenceStatus::Verified => 0,
            EvidenceStatus::PartlyVerified => 1,
            EvidenceStatus::Unverified => 2,
        };
        if rank(self) >= rank(other) {
            self
        } else {
            other
        }
    }
}

/// The array `field` of a schema-checked payload (empty if absent).
fn items<'v>(payload: &'v Value, field: &str) -> &'v [Value] {
    payload
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A string field of a schema-checked object (`""` if absent).
fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The `binding` of a gateway receipt envelope's payload, if any.
pub(crate) fn gateway_binding(receipt: &Value) -> Option<&Map<String, Value>> {
    receipt
        .get("payload")
        .and_then(|p| p.get("binding"))
        .and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::kit::{Shape, agent_key, bundle_value, gateway_key};
    use crate::crypto::envelope::SignedEnvelope;

    /// The kit's bundle with `change` made to its payload, signed again by
    /// the agent: only the receipts' own hashes and signatures can catch it.
    fn resigned(change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let shape = Shape {
            receipts: 2,
            ..Shape::default()
        };
        let mut payload = bundle_value(&shape).unwrap()["payload"].take();
        change(&mut payload);
        let issued_at = Timestamp::from_second(1_770_854_400).unwrap();
        let envelope =
            SignedEnvelope::sign::<ProofBundle>(payload, &agent_key(), issued_at).unwrap();
        serde_json::to_vec(&envelope).unwrap()
    }

    fn options() -> Options {
        Options {
            gateway_trust: Trust::only([&gateway_key().did()]),
            gateway_signers_checked: true,
            ..Options::any_gateway()
        }
    }

    #[test]
    fn receipt_hashes_from_the_bundle_serialization_catch_receipt_changes() {
        assert!(verify_bundle(&resigned(|_| {}), &options()).valid);
        let report = verify_bundle(
            &resigned(|p| p["receipts"][1]["payload"]["tokens_input"] = Value::from(99)),
            &options(),
        );
        let failures: Vec<(Code, &str)> = report
            .failures
            .iter()
            .map(|f| (f.code, f.pointer.as_str()))
            .collect();
        assert_eq!(
            failures,
            [(
                Code::ReceiptVerificationFailed,
                "/payload/receipts/1/payload_hash_b64u"
            )]
        );
        assert!(report.failures[0].message.contains("HASH_MISMATCH"));

        // Every leaf of a receipt's payload, changed in turn.
        let receipt = bundle_value(&Shape::default()).unwrap()["payload"]["receipts"][0].clone();
        for (key, value) in receipt["payload"].as_object().unwrap() {
            let changed = match value {
                Value::String(text) => Value::from(format!("{text}x")),
                Value::Number(n) => Value::from(n.as_u64().unwrap() + 1),
                Value::Object(_) => Value::Object(Map::new()),
                other => panic!("{key}: {other}"),
            };
            let bytes = resigned(|p| p["receipts"][0]["payload"][key] = changed);
            let report = verify_bundle(&bytes, &options());
            assert!(!report.valid, "{key}");
        }
    }
}

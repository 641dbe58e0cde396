//! Replay of recorded runs (docs/commands/replay.md): every tool call, model
//! call and side effect that proof bundles record, decided under two
//! versions of the policy each bundle claims, and the calls whose decision
//! changes.
//!
//! Only bundles that pass the protocol checks (signatures, hashes, event
//! chain, receipt bindings, no receipt reused from another bundle) count: a
//! forged record must not move the numbers. A run that broke its policy
//! still counts — what it did is exactly what a reviewer wants replayed — so
//! bundles are verified without a policy. Tool decisions come from
//! [`crate::decide::Engine`], model and egress rules from
//! [`crate::decide::reach`]: nothing here decides on its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

pub mod command;
pub mod generate;
pub mod render;
pub mod versions;

/// The warning for bundles read without `[bundles] gateway_signers`: any
/// signer was trusted.
pub const UNCHECKED_GATEWAYS: &str = "warning: no gateway signers configured ([bundles] \
    gateway_signers): any valid gateway receipt signer was accepted\n";

use crate::bundle::batch::{self, BatchError, Entry};
use crate::bundle::read::{self, Contents};
use crate::bundle::{self, Code};
use crate::config::Config;
use crate::crypto::did::{DidError, DidKey};
use crate::crypto::verify::parse_json;
use crate::decide::reach::{Egress, Models};
use crate::decide::{Call, CompileError, Engine, Verdict};
use crate::error::error_enum;
use crate::fsio::ReadError;
use crate::policy::model::{WorkspaceAccess, Wpc};

/// Changed calls shown per policy unless the caller says otherwise.
pub const DEFAULT_EXAMPLES: usize = 5;

/// What kind of thing a run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// A tool receipt: decided by the tool patterns and approval gates.
    Tool,
    /// A gateway receipt: decided by `allowed_providers` and `allowed_models`.
    Model,
    /// A side-effect receipt: `network_egress` and `external_api_write` need
    /// egress somewhere, `filesystem_write` a writable workspace.
    SideEffect,
}

/// One call a bundle records.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedCall {
    pub kind: CallKind,
    /// The receipt's `receipt_id`, else its JSON pointer in the bundle.
    pub event: String,
    /// The tool name, `provider/model`, or the effect class.
    pub subject: String,
    /// The call a tool receipt or gateway receipt stands for.
    pub call: Call,
}

/// The calls of a bundle payload, in receipt order: tool receipts, gateway
/// receipts, side-effect receipts. Fields missing from a receipt stay empty
/// (and so decide like an unknown tool or model: denied).
pub fn recorded_calls(payload: &Value) -> Vec<RecordedCall> {
    let mut calls = Vec::new();
    let event = |receipt: &Value, pointer: String| {
        text(receipt, "receipt_id").map_or(pointer, str::to_owned)
    };
    for (i, receipt) in items(payload, "tool_receipts").iter().enumerate() {
        // v2 tool receipts come in envelopes; v1 are bare payloads.
        let tool = match receipt.get("envelope_type") {
            Some(_) => receipt.get("payload").unwrap_or(&Value::Null),
            None => receipt,
        };
        let name = text(tool, "tool_name").unwrap_or_default();
        calls.push(RecordedCall {
            kind: CallKind::Tool,
            event: event(tool, format!("/payload/tool_receipts/{i}")),
            subject: name.to_owned(),
            call: crate::bundle::policy::recorded_call(name, tool),
        });
    }
    for (i, receipt) in items(payload, "receipts").iter().enumerate() {
        let gateway = receipt.get("payload").unwrap_or(&Value::Null);
        let provider = text(gateway, "provider").unwrap_or_default();
        let model = text(gateway, "model").unwrap_or_default();
        calls.push(RecordedCall {
            kind: CallKind::Model,
            event: event(gateway, format!("/payload/receipts/{i}")),
            subject: format!("{provider}/{model}"),
            call: Call {
                provider: provider.to_owned(),
                model: model.to_owned(),
                ..Call::default()
            },
        });
    }
    for (i, receipt) in items(payload, "side_effect_receipts").iter().enumerate() {
        let class = text(receipt, "effect_class").unwrap_or_default();
        calls.push(RecordedCall {
            kind: CallKind::SideEffect,
            event: event(receipt, format!("/payload/side_effect_receipts/{i}")),
            subject: class.to_owned(),
            call: Call::default(),
        });
    }
    calls
}

fn items<'a>(payload: &'a Value, key: &str) -> &'a [Value] {
    payload
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// One version of a policy, compiled to decide recorded calls.
#[derive(Debug)]
pub struct Version {
    engine: Engine,
    /// What an MCP call's receipt does not record is taken as this
    /// version's own, as `wpc bundle verify` does.
    wpc: Wpc,
    models: Models,
    egress: Egress,
    writable: bool,
}

impl Version {
    pub fn new(wpc: &Wpc) -> Result<Version, CompileError> {
        Ok(Version {
            engine: Engine::new(wpc)?,
            wpc: wpc.clone(),
            models: Models::new(wpc)?,
            egress: Egress::new(wpc)?,
            writable: wpc.constraints.sandbox.workspace_access == WorkspaceAccess::Rw,
        })
    }

    pub fn decide(&self, recorded: &RecordedCall) -> Verdict {
        let allow_if = |allowed: bool| {
            if allowed {
                Verdict::Allow
            } else {
                Verdict::Deny
            }
        };
        match recorded.kind {
            CallKind::Tool => {
                let call = crate::bundle::policy::assume_unrecorded(&recorded.call, &self.wpc);
                self.engine.decide_per_call(&call).verdict
            }
            CallKind::Model => allow_if(
                self.models
                    .allows(&recorded.call.provider, &recorded.call.model),
            ),
            CallKind::SideEffect => match recorded.subject.as_str() {
                // The receipt carries only a digest of the target: the
                // egress rule can say whether the job may reach anything.
                "network_egress" | "external_api_write" => {
                    allow_if(!matches!(self.egress, Egress::Nowhere))
                }
                "filesystem_write" => allow_if(self.writable),
                _ => Verdict::Deny,
            },
        }
    }
}

/// A verified bundle and the calls it records.
#[derive(Clone, Debug)]
pub struct Recording {
    pub path: PathBuf,
    pub run_id: String,
    /// The policy hash the bundle claims (its first receipt binding).
    pub claimed: Option<String>,
    pub calls: Vec<RecordedCall>,
}

/// A bundle that failed the protocol checks: none of its calls count.
#[derive(Clone, Debug)]
pub struct Rejected {
    pub path: PathBuf,
    pub codes: Vec<Code>,
}

impl Rejected {
    /// The reason codes, comma-separated.
    pub fn reasons(&self) -> String {
        let codes: Vec<&str> = self.codes.iter().map(|c| c.as_str()).collect();
        codes.join(", ")
    }
}

error_enum! {
    /// Why bundles could not be read at all (exit 2).
    pub enum ReplayError {
        Read(ReadError),
        Bundles(BatchError),
        /// The policies the versions come from cannot be read.
        #[error("cannot read the policies to replay under: {0}")]
        Policies(String),
        #[error("gateway signer {did}: {error}")]
        GatewaySigner { did: String, error: DidError },
    }
}

/// What [`replay_globs`] found.
#[derive(Debug)]
pub struct Replayed {
    pub impact: Impact,
    /// The bundles whose calls were counted.
    pub counted: usize,
    /// See [`Read::gateway_signers_checked`].
    pub gateway_signers_checked: bool,
}

/// Replay the bundles `globs` names ([`read_globs`]) with `resolve` giving
/// the two versions of each claimed policy; `examples` changed calls are
/// kept per policy.
pub fn replay_globs(
    globs: &[String],
    config: &Config,
    examples: usize,
    resolve: impl FnMut(&str) -> Result<Pair, Unresolved>,
) -> Result<Replayed, ReplayError> {
    let read = read_globs(globs, config)?;
    let counted = read.counted.len();
    Ok(Replayed {
        impact: replay(&read.counted, read.rejected, resolve, examples),
        counted,
        gateway_signers_checked: read.gateway_signers_checked,
    })
}

/// Recordings read from the bundles some globs name.
#[derive(Debug)]
pub struct Read {
    /// The bundles that passed the protocol checks, with their calls.
    pub counted: Vec<Recording>,
    pub rejected: Vec<Rejected>,
    /// Whether gateway receipt signers were checked against `[bundles]
    /// gateway_signers`; without any, any valid signer was accepted.
    pub gateway_signers_checked: bool,
}

/// The bundles `globs` names (files, folders, globs), verified against the
/// gateway signers of `config`, with the calls of those that count.
pub fn read_globs(globs: &[String], config: &Config) -> Result<Read, ReplayError> {
    let paths = batch::collect(globs)?;
    let gateway = config
        .settings
        .bundles
        .gateway_signers
        .iter()
        .map(|did| {
            DidKey::parse(did).map_err(|error| ReplayError::GatewaySigner {
                did: did.clone(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = bundle::Options::for_gateway_signers(&gateway);
    let (counted, rejected) = read_bundles(&paths, &options)?;
    Ok(Read {
        counted,
        rejected,
        gateway_signers_checked: options.gateway_signers_checked,
    })
}

/// Verify each bundle (protocol checks, and receipts reused across them)
/// and extract the calls of those that pass.
pub fn read_bundles(
    paths: &[PathBuf],
    options: &bundle::Options,
) -> Result<(Vec<Recording>, Vec<Rejected>), ReplayError> {
    let read: Vec<(Entry, Option<Recording>)> = paths
        .par_iter()
        .map(|path| read_one(path, options))
        .collect::<Result<_, _>>()?;
    let (mut entries, recordings): (Vec<Entry>, Vec<Option<Recording>>) = read.into_iter().unzip();
    batch::detect_replay(&mut entries);
    let mut counted = Vec::new();
    let mut rejected = Vec::new();
    for (entry, recording) in entries.into_iter().zip(recordings) {
        match recording {
            Some(recording) if entry.report.valid => counted.push(recording),
            _ => rejected.push(Rejected {
                path: entry.path,
                codes: entry.report.codes(),
            }),
        }
    }
    Ok((counted, rejected))
}

/// The bytes that were verified are the bytes the calls are read from.
fn read_one(
    path: &Path,
    options: &bundle::Options,
) -> Result<(Entry, Option<Recording>), ReplayError> {
    let (contents, _grant) = read::read_file(path, options.max_bundle_bytes)?;
    let report = match contents {
        Contents::TooLarge(len) => bundle::too_large(len, options.max_bundle_bytes),
        Contents::Bytes(bytes) => {
            let report = bundle::verify_bundle(&bytes, options);
            if report.valid {
                let payload = parse_json(&bytes)
                    .ok()
                    .and_then(|mut envelope| envelope.get_mut("payload").map(Value::take))
                    .unwrap_or(Value::Null);
                let recording = Recording {
                    path: path.to_path_buf(),
                    run_id: report.run_id.clone().unwrap_or_default(),
                    claimed: bundle::policy::claimed_hash(&payload).map(|(_, h)| h.to_owned()),
                    calls: recorded_calls(&payload),
                };
                let entry = Entry {
                    path: path.to_path_buf(),
                    report,
                };
                return Ok((entry, Some(recording)));
            }
            report
        }
    };
    let entry = Entry {
        path: path.to_path_buf(),
        report,
    };
    Ok((entry, None))
}

/// The two versions of the policy a bundle claims. A missing version (the
/// policy is new in head, or removed) has no rules: every call is denied.
#[derive(Debug)]
pub struct Pair {
    /// The policy's name.
    pub policy: String,
    pub base: Option<Version>,
    pub head: Option<Version>,
}

impl Pair {
    fn decide(version: Option<&Version>, call: &RecordedCall) -> Verdict {
        version.map_or(Verdict::Deny, |v| v.decide(call))
    }
}

/// Why a bundle's policy versions could not be found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unresolved(pub String);

/// How a call's decision changes from base to head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    NewlyAllowed,
    NewlyDenied,
    NewlyNeedsApproval,
}

impl Change {
    fn between(base: Verdict, head: Verdict) -> Option<Change> {
        (base != head).then_some(match head {
            Verdict::Allow => Change::NewlyAllowed,
            Verdict::Deny => Change::NewlyDenied,
            Verdict::Approval => Change::NewlyNeedsApproval,
        })
    }

    pub fn describe(self) -> &'static str {
        match self {
            Change::NewlyAllowed => "newly allowed",
            Change::NewlyDenied => "newly denied",
            Change::NewlyNeedsApproval => "newly needs approval",
        }
    }
}

/// One call whose decision changes.
#[derive(Clone, Debug, Serialize)]
pub struct Example {
    pub bundle: PathBuf,
    pub run_id: String,
    pub event: String,
    pub kind: CallKind,
    pub subject: String,
    pub change: Change,
    pub base: Verdict,
    pub head: Verdict,
}

/// What the change does to the recorded runs of one policy.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PolicyImpact {
    pub policy: String,
    pub bundles: usize,
    pub calls: usize,
    pub newly_allowed: usize,
    pub newly_denied: usize,
    pub newly_needs_approval: usize,
    /// The first changed calls, in bundle order.
    pub examples: Vec<Example>,
}

impl PolicyImpact {
    pub fn changed(&self) -> usize {
        self.newly_allowed + self.newly_denied + self.newly_needs_approval
    }
}

/// The replay of every counted bundle.
#[derive(Clone, Debug, Default)]
pub struct Impact {
    /// By policy name.
    pub policies: Vec<PolicyImpact>,
    /// Bundles that failed the protocol checks.
    pub rejected: Vec<Rejected>,
    /// Verified bundles whose policy could not be found, and why.
    pub unresolved: Vec<(PathBuf, Unresolved)>,
}

impl Impact {
    pub fn changed(&self) -> usize {
        self.policies.iter().map(PolicyImpact::changed).sum()
    }
}

/// Decide every call of `recordings` under the versions `resolve` finds for
/// the hash each bundle claims (asked once per hash), keeping up to
/// `max_examples` changed calls per policy.
pub fn replay(
    recordings: &[Recording],
    rejected: Vec<Rejected>,
    mut resolve: impl FnMut(&str) -> Result<Pair, Unresolved>,
    max_examples: usize,
) -> Impact {
    let mut pairs: HashMap<String, Result<Pair, Unresolved>> = HashMap::new();
    let mut by_policy: Vec<PolicyImpact> = Vec::new();
    let mut unresolved = Vec::new();
    for recording in recordings {
        let Some(hash) = &recording.claimed else {
            unresolved.push((
                recording.path.clone(),
                Unresolved("the bundle names no policy hash".to_owned()),
            ));
            continue;
        };
        let pair = pairs.entry(hash.clone()).or_insert_with(|| resolve(hash));
        let pair = match pair {
            Ok(pair) => pair,
            Err(why) => {
                unresolved.push((recording.path.clone(), why.clone()));
                continue;
            }
        };
        let at = match by_policy.iter().position(|p| p.policy == pair.policy) {
            Some(at) => at,
            None => {
                by_policy.push(PolicyImpact {
                    policy: pair.policy.clone(),
                    ..PolicyImpact::default()
                });
                by_policy.len() - 1
            }
        };
        let impact = &mut by_policy[at];
        impact.bundles += 1;
        for call in &recording.calls {
            impact.calls += 1;
            let base = Pair::decide(pair.base.as_ref(), call);
            let head = Pair::decide(pair.head.as_ref(), call);
            let Some(change) = Change::between(base, head) else {
                continue;
            };
            match change {
                Change::NewlyAllowed => impact.newly_allowed += 1,
                Change::NewlyDenied => impact.newly_denied += 1,
                Change::NewlyNeedsApproval => impact.newly_needs_approval += 1,
            }
            if impact.examples.len() < max_examples {
                impact.examples.push(Example {
                    bundle: recording.path.clone(),
                    run_id: recording.run_id.clone(),
                    event: call.event.clone(),
                    kind: call.kind,
                    subject: call.subject.clone(),
                    change,
                    base,
                    head,
                });
            }
        }
    }
    by_policy.sort_by(|a, b| a.policy.cmp(&b.policy));
    Impact {
        policies: by_policy,
        rejected,
        unresolved,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bundle::kit::{self, Shape};
    use crate::policy::Document;
    use crate::report::SourceFile;

    fn wpc(workspace: &str, network: &str) -> Wpc {
        let text = format!(
            "wpc_version = \"1\"\npolicy_name = \"p\"\npurpose = \"x\"\n\
             [constraints.tool_policy]\nallow = [\"read\"]\ndeny = []\n\
             [constraints.sandbox]\nrequired = true\nworkspaceAccess = \"{workspace}\"\n\
             elevated_exec = \"deny\"\nnetwork = \"{network}\"\n\
             [binding]\ncst_scope_hash_required = false\n"
        );
        let doc = Document::parse(SourceFile::new("p.toml", text)).unwrap();
        crate::policy::Policy::from_document(doc).unwrap().wpc
    }

    #[test]
    fn the_kit_bundle_records_its_tools_model_calls_and_side_effects() {
        let shape = Shape {
            tools: vec!["read".into(), "write".into()],
            ..Shape::default()
        };
        let payload = kit::bundle_value(&shape).unwrap()["payload"].clone();
        let calls = recorded_calls(&payload);
        let subjects: Vec<(CallKind, &str)> =
            calls.iter().map(|c| (c.kind, c.subject.as_str())).collect();
        assert_eq!(
            subjects,
            [
                (CallKind::Tool, "read"),
                (CallKind::Tool, "write"),
                (CallKind::Model, "anthropic/claude-test"),
                (CallKind::Model, "anthropic/claude-test"),
                (CallKind::SideEffect, "network_egress"),
            ]
        );
        assert_eq!(calls[0].event, "tool_0_0");
    }

    #[test]
    fn hostile_shapes_record_nothing_or_empty_calls_that_are_denied() {
        assert!(recorded_calls(&json!(null)).is_empty());
        assert!(recorded_calls(&json!({"tool_receipts": 7})).is_empty());
        let calls = recorded_calls(&json!({"tool_receipts": [{"tool_name": 1}]}));
        assert_eq!(calls[0].event, "/payload/tool_receipts/0");
        let version = Version::new(&wpc("ro", "none")).unwrap();
        assert_eq!(version.decide(&calls[0]), Verdict::Deny);
    }

    #[test]
    fn side_effects_follow_the_sandbox() {
        let effect = |class: &str| RecordedCall {
            kind: CallKind::SideEffect,
            event: "e".into(),
            subject: class.into(),
            call: Call::default(),
        };
        let closed = Version::new(&wpc("ro", "none")).unwrap();
        let open = Version::new(&wpc("rw", "open")).unwrap();
        for class in ["network_egress", "external_api_write", "filesystem_write"] {
            assert_eq!(closed.decide(&effect(class)), Verdict::Deny, "{class}");
            assert_eq!(open.decide(&effect(class)), Verdict::Allow, "{class}");
        }
        assert_eq!(open.decide(&effect("teleport")), Verdict::Deny);
    }

    #[test]
    fn a_missing_version_denies_and_changes_are_named_by_the_head_verdict() {
        assert_eq!(
            Pair::decide(
                None,
                &recorded_calls(&json!({"tool_receipts": [{"tool_name": "read"}]}))[0]
            ),
            Verdict::Deny
        );
        assert_eq!(
            Change::between(Verdict::Deny, Verdict::Allow),
            Some(Change::NewlyAllowed)
        );
        assert_eq!(
            Change::between(Verdict::Allow, Verdict::Approval),
            Some(Change::NewlyNeedsApproval)
        );
        assert_eq!(
            Change::between(Verdict::Approval, Verdict::Deny),
            Some(Change::NewlyDenied)
        );
        assert_eq!(Change::between(Verdict::Allow, Verdict::Allow), None);
    }
}

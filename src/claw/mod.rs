//! Export to the Claw protocol's WPC payloads: v1 (flat allowlists, what the
//! protocol's registry stores and its gateway enforces) and v2 (IAM-style
//! statements). docs/claw.md has the mapping and its reasons.
//!
//! [`render`] is the one way a payload is made: `wpc compile --target`,
//! `wpc hash --target` and the release all call it, so a version has one
//! export hash everywhere. A policy the protocol cannot carry faithfully
//! enough is refused with [`Problem`]s located in the native policy, which
//! the lint rules report too; where the export enforces more or less than
//! the native policy but still carries it, [`gaps`] says how.
//!
//! [`schema`] holds the protocol's own JSON Schemas (WPC payloads, proof and
//! aggregate bundles, receipts, scoped-token claims): this module is the
//! lowest that speaks the protocol, so bundle and token verification check
//! their documents through it.

pub mod evaluate;
pub mod schema;
mod v1;
mod v2;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use self::schema::{self as claw_schema, ClawSchema};
use crate::policy::Policy;
use crate::policy::hash::{HashError, canonical_json, sha256_b64u};

/// The registry refuses request bodies over 64 KiB; the payload must leave
/// room for the `{"wpc": …}` around it.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024 - 16;
/// `issuer_did` in both versions: 4 to 256 characters.
pub const MAX_ISSUER_DID_CHARS: usize = 256;

/// A protocol WPC version wpc can export to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum ClawVersion {
    V1,
    V2,
}

impl ClawVersion {
    pub const ALL: [ClawVersion; 2] = [ClawVersion::V1, ClawVersion::V2];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The name of the rendering on the release branch and in `wpc serve`
    /// (`claw-v1`), as `--target` spells it.
    pub fn rendering(self) -> &'static str {
        match self {
            ClawVersion::V1 => "claw-v1",
            ClawVersion::V2 => "claw-v2",
        }
    }

    /// The version a rendering name names.
    pub fn from_rendering(name: &str) -> Option<ClawVersion> {
        ClawVersion::ALL.into_iter().find(|v| v.rendering() == name)
    }

    /// The version a signed payload says it is (`policy_version` `"1"` or
    /// `"2"`); `None` for a wpc-native payload, which has no such key.
    pub fn of_payload(payload: &Value) -> Option<ClawVersion> {
        match payload.get("policy_version")?.as_str()? {
            "1" => Some(ClawVersion::V1),
            "2" => Some(ClawVersion::V2),
            _ => None,
        }
    }

    /// Every error of `payload` against this version's protocol schema.
    pub fn schema_errors(self, payload: &Value) -> Vec<String> {
        claw_schema::validate(self.schema(), payload)
            .into_iter()
            .map(|e| match e.pointer.is_empty() {
                true => e.message,
                false => format!("{}: {}", e.pointer, e.message),
            })
            .collect()
    }

    fn schema(self) -> ClawSchema {
        match self {
            ClawVersion::V1 => ClawSchema::WpcV1,
            ClawVersion::V2 => ClawSchema::WpcV2,
        }
    }
}

/// What the repository says about the export: `[release] claw` (the
/// versions every release carries) and `[claw] issuer_did`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSettings {
    /// The versions export is enabled for; empty when it is off.
    pub versions: Vec<ClawVersion>,
    /// `issuer_did` for policies that do not set their own.
    pub issuer_did: Option<String>,
}

impl ExportSettings {
    pub fn enabled(&self, version: ClawVersion) -> bool {
        self.versions.contains(&version)
    }
}

/// A rendered payload: exactly the bytes that are hashed, and the hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalPayload {
    pub version: ClawVersion,
    pub payload: Value,
    /// RFC 8785 (JCS) bytes of `payload`.
    pub bytes: Vec<u8>,
    /// `policy_hash_b64u` of the payload: what a CST pins and the gateway
    /// fetches.
    pub hash: String,
}

/// Why a policy cannot be exported, at a JSON pointer into the native policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub pointer: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// Neither the policy nor `[claw] issuer_did` names an issuer.
    IssuerMissing,
    /// v1 cannot say it: a provider outside its enum, an empty list.
    V1Vocabulary,
    /// A value beyond the protocol's limits.
    Limit,
    /// A pattern the protocol's glob would read more widely.
    Pattern,
}

impl ProblemKind {
    /// The lint rule that reports problems of this kind.
    pub const fn code(self) -> &'static str {
        match self {
            ProblemKind::IssuerMissing => "WPC022",
            ProblemKind::V1Vocabulary => "WPC023",
            ProblemKind::Limit => "WPC024",
            ProblemKind::Pattern => "WPC025",
        }
    }
}

/// The lint rule that reports [`gaps`].
pub const INEXACT_CODE: &str = "WPC026";

#[derive(Clone, Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot export to Claw WPC {version}: {}", join(problems))]
    Unexportable {
        version: ClawVersion,
        problems: Vec<Problem>,
    },
    /// The rendering failed the protocol's schema: a bug in the mapping,
    /// refused rather than published.
    #[error(
        "the Claw WPC {version} rendering does not match the protocol schema at `{pointer}`: {message}"
    )]
    Schema {
        version: ClawVersion,
        pointer: String,
        message: String,
    },
    #[error(transparent)]
    Hash(#[from] HashError),
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Render `policy` as a protocol WPC of `version`.
pub fn render(
    policy: &Policy,
    version: ClawVersion,
    settings: &ExportSettings,
) -> Result<CanonicalPayload, ExportError> {
    let problems = problems(policy, version, settings);
    if !problems.is_empty() {
        return Err(ExportError::Unexportable { version, problems });
    }
    let payload = build(policy, version, settings);
    if let Some(error) = claw_schema::validate(version.schema(), &payload)
        .into_iter()
        .next()
    {
        return Err(ExportError::Schema {
            version,
            pointer: error.pointer,
            message: error.message,
        });
    }
    let bytes = canonical_json(&payload)?;
    let hash = sha256_b64u(&bytes);
    Ok(CanonicalPayload {
        version,
        payload,
        bytes,
        hash,
    })
}

/// Everything that keeps `policy` from being exported to `version`.
pub fn problems(policy: &Policy, version: ClawVersion, settings: &ExportSettings) -> Vec<Problem> {
    let mut out = Vec::new();
    match issuer_did(policy, settings) {
        None => out.push(Problem {
            kind: ProblemKind::IssuerMissing,
            pointer: String::new(),
            message: "no `issuer_did`: the protocol requires one; set it in the policy or as \
                      `[claw] issuer_did` in wpc.toml"
                .to_owned(),
        }),
        Some(did) if did.chars().count() > MAX_ISSUER_DID_CHARS => out.push(Problem {
            kind: ProblemKind::Limit,
            pointer: if policy.wpc.issuer_did.is_some() {
                "/issuer_did".to_owned()
            } else {
                String::new()
            },
            message: format!(
                "`issuer_did` is longer than the protocol's {MAX_ISSUER_DID_CHARS} characters"
            ),
        }),
        Some(_) => {}
    }
    match version {
        ClawVersion::V1 => v1::problems(&policy.wpc, &mut out),
        ClawVersion::V2 => v2::problems(&policy.wpc, &mut out),
    }
    if out.is_empty() {
        let size =
            serde_json::to_vec(&build(policy, version, settings)).map_or(usize::MAX, |b| b.len());
        if size > MAX_PAYLOAD_BYTES {
            out.push(Problem {
                kind: ProblemKind::Limit,
                pointer: String::new(),
                message: format!(
                    "the {version} payload is {size} bytes; the protocol's registry takes at most \
                     {MAX_PAYLOAD_BYTES}"
                ),
            });
        }
    }
    out
}

/// Where a gateway enforcing the export decides differently from wpc (what
/// it lets through, or what it stops that wpc allows), at a JSON pointer
/// into the native policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub pointer: String,
    pub message: String,
}

pub fn gaps(policy: &Policy, version: ClawVersion) -> Vec<Gap> {
    match version {
        ClawVersion::V1 => v1::gaps(&policy.wpc),
        ClawVersion::V2 => v2::gaps(&policy.wpc),
    }
}

/// The policy's own `issuer_did`, else the repository's.
fn issuer_did<'a>(policy: &'a Policy, settings: &'a ExportSettings) -> Option<&'a str> {
    policy
        .wpc
        .issuer_did
        .as_deref()
        .or(settings.issuer_did.as_deref())
}

/// The payload, assuming [`problems`] found none.
fn build(policy: &Policy, version: ClawVersion, settings: &ExportSettings) -> Value {
    let mut payload = Map::new();
    payload.insert("policy_id".into(), json!(policy.wpc.policy_name));
    payload.insert(
        "issuer_did".into(),
        json!(issuer_did(policy, settings).unwrap_or_default()),
    );
    match version {
        ClawVersion::V1 => {
            payload.insert("policy_version".into(), json!("1"));
            v1::fields(&policy.wpc, &mut payload);
        }
        ClawVersion::V2 => {
            payload.insert("policy_version".into(), json!("2"));
            payload.insert("statements".into(), v2::statements(&policy.wpc));
        }
    }
    // Everything decision-relevant that the version cannot say travels with
    // it, bound to the native version it came from.
    payload.insert(
        "metadata".into(),
        json!({ "wpc": { "policy_hash_b64u": policy.hash, "payload": policy.doc.value } }),
    );
    Value::Object(payload)
}

/// `allowed_providers` as exported: lower case (wpc compares providers
/// case-insensitively, the protocol exactly), first occurrence kept.
fn providers(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for provider in list {
        let lower = provider.to_ascii_lowercase();
        if !out.contains(&lower) {
            out.push(lower);
        }
    }
    out
}

/// Characters of a native model pattern that the protocol reads
/// differently: `?` (one byte here, one UTF-16 unit in v2, a regex
/// quantifier in the v1 gateway) and globset's classes, alternations and
/// escapes (literal text in the protocol).
const MODEL_PATTERN_SPECIALS: &[char] = &['?', '[', ']', '{', '}', '\\'];

fn model_pattern_problems(wpc: &crate::policy::Wpc, out: &mut Vec<Problem>) {
    let models = wpc
        .constraints
        .model_calls
        .as_ref()
        .and_then(|m| m.allowed_models.as_ref());
    for (i, pattern) in models.into_iter().flatten().enumerate() {
        if let Some(c) = pattern.chars().find(|c| MODEL_PATTERN_SPECIALS.contains(c)) {
            out.push(Problem {
                kind: ProblemKind::Pattern,
                pointer: format!("/constraints/model_calls/allowed_models/{i}"),
                message: format!(
                    "model pattern `{pattern}`: the protocol reads `{c}` differently from wpc; \
                     use `*` and literal text only"
                ),
            });
        }
    }
}

fn egress_pattern_problems(wpc: &crate::policy::Wpc, out: &mut Vec<Problem>) {
    let allowlist = wpc.constraints.egress.as_ref().map(|e| &e.allowlist);
    for (i, pattern) in allowlist.into_iter().flatten().enumerate() {
        if pattern.contains('?') {
            out.push(Problem {
                kind: ProblemKind::Pattern,
                pointer: format!("/constraints/egress/allowlist/{i}"),
                message: format!(
                    "egress pattern `{pattern}`: `?` matches one byte in wpc and one UTF-16 unit \
                     in the protocol; use `*` and literal text only"
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests;

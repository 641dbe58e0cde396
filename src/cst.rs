//! Claw scoped tokens (CST): a JWS compact JWT signed with Ed25519
//! (docs/bundles.md), checked on its own and against a WPC.
//!
//! Decoding is done here (three base64url segments and two JSON objects)
//! and the signature is checked with [`crate::crypto::verify::verify_signature`]
//! (`verify_strict`), the same check as every envelope: the maintained JWT
//! crates either support EdDSA with ed25519-dalek 3 only together with RSA,
//! P-256/384 and HMAC backends (jsonwebtoken `rust_crypto`), or through a C
//! library (aws-lc-rs); see `docs/bundles.md`.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::claw::schema::{ClawSchema, validate};
use crate::crypto::did::DidKey;
use crate::crypto::verify::verify_signature;
use crate::policy::hash::policy_hash_b64u;
use crate::policy::model::Wpc;
use crate::report::Output;

/// Tokens longer than this are rejected unread.
pub const MAX_TOKEN_BYTES: usize = crate::fsio::TOKEN.bytes;

/// Why a token fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum CstCode {
    /// Not three base64url segments of JSON objects, or too large.
    TokenMalformed,
    /// `alg` is not `EdDSA`.
    TokenUnsupportedAlg,
    /// No issuer key verifies the signature.
    SignatureInvalid,
    /// The claims fail `auth/scoped_token_claims.v1.json`.
    SchemaValidationFailed,
    /// `exp` is not in the future.
    CstExpired,
    /// `exp - iat` exceeds the WPC's `token.max_ttl_seconds`.
    CstTtlTooLong,
    /// No `jti`: the token is not scoped to one job.
    CstJtiMissing,
    /// `policy_hash_b64u` is missing (when the WPC pins it) or another hash.
    CstPolicyMismatch,
    /// `token_scope_hash_b64u` is missing (when required) or differs from
    /// the hash of the claims.
    CstScopeHashMismatch,
}

impl CstCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One failed check; `pointer` is into the claims (`""`: the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CstFailure {
    pub code: CstCode,
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for CstFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "token"
        } else {
            &self.pointer
        };
        write!(f, "{} at {at}: {}", self.code, self.message)
    }
}

/// The verdict on a token.
#[derive(Clone, Debug, Serialize)]
pub struct CstReport {
    pub valid: bool,
    /// The claims, once the signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    /// The scope hash recomputed from the claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_hash_b64u: Option<String>,
    pub failures: Vec<CstFailure>,
}

/// The formats of `wpc cst check`.
pub const FORMATS: crate::report::Formats =
    crate::report::Formats(&[crate::report::Format::Text, crate::report::Format::Json]);

impl CstReport {
    /// The `format` and `version` of `wpc cst check --format json`.
    pub const ENVELOPE: crate::report::Envelope = crate::report::Envelope::new("wpc-cst-check", 1);

    /// `wpc cst check`'s output in `format` (text or JSON), for the policy
    /// `policy_hash`: failing unless the token is valid.
    pub fn render(&self, format: crate::report::Format, policy_hash: &str) -> Output {
        let stdout = match format {
            crate::report::Format::Json => {
                // Plain data: pretty-printing a JSON value cannot fail.
                let json = serde_json::to_string_pretty(&self.json()).unwrap_or_default();
                format!("{json}\n")
            }
            _ => self.text(policy_hash),
        };
        Output::stdout(stdout).failing_if(!self.valid)
    }

    fn text(&self, policy_hash: &str) -> String {
        let mut out = String::new();
        if self.valid {
            out.push_str(&format!("VALID   token for policy {policy_hash}\n"));
        } else {
            out.push_str("INVALID token\n");
            for failure in &self.failures {
                out.push_str(&format!("  {failure}\n"));
            }
        }
        if let Some(hash) = &self.scope_hash_b64u {
            out.push_str(&format!("scope hash {hash}\n"));
        }
        out
    }

    /// The `wpc cst check --format json` document: the envelope, then the
    /// report's keys.
    pub fn json(&self) -> Value {
        // Plain data: serializing it cannot fail.
        Self::ENVELOPE.wrap(serde_json::to_value(self).unwrap_or_default())
    }
}

/// Issuer keys a token may be signed with, each with its JWKS `kid` if any.
#[derive(Clone, Debug, Default)]
pub struct Issuers(Vec<(Option<String>, [u8; 32])>);

impl Issuers {
    /// One did:key issuer.
    pub fn did(did: &DidKey) -> Issuers {
        Issuers(vec![(None, did.verifying_key().to_bytes())])
    }

    /// The Ed25519 keys of a JWKS document (`{"keys": [{kty: "OKP", crv:
    /// "Ed25519", x, kid}]}`); other keys are skipped.
    pub fn jwks(text: &str) -> Result<Issuers, JwksError> {
        let doc: Value = serde_json::from_str(text).map_err(JwksError::Json)?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::NoKeys)?;
        let mut out = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let field = |name| key.get(name).and_then(Value::as_str);
            if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
                continue;
            }
            let x = field("x").ok_or(JwksError::NoX(i))?;
            let raw: [u8; 32] = URL_SAFE_NO_PAD
                .decode(x)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(JwksError::BadX(i))?;
            out.push((field("kid").map(str::to_owned), raw));
        }
        if out.is_empty() {
            return Err(JwksError::NoEd25519);
        }
        Ok(Issuers(out))
    }
}

/// Why no issuer key was read.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("give the token issuer's key: --issuer DID or --jwks FILE")]
    Missing,
    #[error("--issuer {did}")]
    Did {
        did: String,
        source: crate::crypto::did::DidError,
    },
    #[error(transparent)]
    Read(#[from] crate::fsio::ReadError),
    #[error("{}: {error}", path.display())]
    Jwks { path: PathBuf, error: JwksError },
}

impl Issuers {
    /// The issuer's key: a did:key, else the keys of a JWKS file.
    pub fn from_key(did: Option<&str>, jwks: Option<&Path>) -> Result<Issuers, IssuerError> {
        match (did, jwks) {
            (Some(did), _) => DidKey::parse(did)
                .map(|key| Issuers::did(&key))
                .map_err(|source| IssuerError::Did {
                    did: did.to_owned(),
                    source,
                }),
            (None, Some(path)) => {
                let text = crate::fsio::read_to_string(path, crate::fsio::JWKS)?;
                Issuers::jwks(&text).map_err(|error| IssuerError::Jwks {
                    path: path.to_path_buf(),
                    error,
                })
            }
            (None, None) => Err(IssuerError::Missing),
        }
    }
}

/// The token text: `arg` itself, or the contents of the file it names.
pub fn read_token(arg: &str) -> Result<String, crate::fsio::ReadError> {
    let path = Path::new(arg);
    // Anything at that path (a FIFO too) is read as a file, or refused.
    if path.exists() {
        let text = crate::fsio::read_to_string(path, crate::fsio::TOKEN)?;
        Ok(text.trim().to_owned())
    } else {
        Ok(arg.trim().to_owned())
    }
}

/// Why a JWKS document gives no issuer key.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("not JSON: {0}")]
    Json(serde_json::Error),
    #[error("no `keys` array")]
    NoKeys,
    #[error("keys[{0}] has no `x`")]
    NoX(usize),
    #[error("keys[{0}].x is not 32 bytes of base64url")]
    BadX(usize),
    #[error("no Ed25519 (OKP) key")]
    NoEd25519,
}

/// The WPC facts a token is checked against.
#[derive(Clone, Debug)]
pub struct TokenPolicy<'a> {
    pub wpc: &'a Wpc,
    pub hash: &'a str,
}

/// Checks `token` (compact JWS) signed by one of `issuers`, at `now` (Unix
/// seconds), against `policy` when given. The phases run in order and the
/// first two stop the check: nothing is read from claims that are not
/// authentic, and nothing judged from claims that do not match the schema.
pub fn check(
    token: &str,
    issuers: &Issuers,
    now: i64,
    policy: Option<TokenPolicy<'_>>,
) -> CstReport {
    let mut report = CstReport {
        valid: false,
        claims: None,
        scope_hash_b64u: None,
        failures: Vec::new(),
    };
    let claims = match authenticate(token.trim(), issuers) {
        Ok(claims) => claims,
        Err(failure) => {
            report.failures.push(failure);
            return report;
        }
    };
    let claims_value = Value::Object(claims);
    report.failures.extend(
        validate(ClawSchema::ScopedTokenClaims, &claims_value)
            .into_iter()
            .map(|err| failure(CstCode::SchemaValidationFailed, &err.pointer, err.message)),
    );
    let Value::Object(claims) = claims_value else {
        return report;
    };
    if report.failures.is_empty() {
        let scope_hash = scope_hash_b64u(&claims);
        report.failures.extend(lifetime(&claims, now));
        if let Some(policy) = policy {
            report.failures.extend(against_policy(&claims, policy));
        }
        report.failures.extend(scope(&claims, &scope_hash));
        report.valid = report.failures.is_empty();
        report.scope_hash_b64u = Some(scope_hash);
    }
    report.claims = Some(claims);
    report
}

fn failure(code: CstCode, pointer: &str, message: String) -> CstFailure {
    CstFailure {
        code,
        pointer: pointer.to_owned(),
        message,
    }
}

/// The claims of a well-formed EdDSA token that one of `issuers` signed
/// (a `kid` in the header picks among keys that have one).
fn authenticate(token: &str, issuers: &Issuers) -> Result<Map<String, Value>, CstFailure> {
    let (header, claims, signing_input, signature) =
        decode(token).map_err(|error| failure(CstCode::TokenMalformed, "", error.to_string()))?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err(failure(
            CstCode::TokenUnsupportedAlg,
            "",
            format!(
                "header alg is {}; only EdDSA is accepted",
                header.get("alg").unwrap_or(&Value::Null)
            ),
        ));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let verified = issuers
        .0
        .iter()
        .filter(|(key_id, _)| kid.is_none() || key_id.is_none() || key_id.as_deref() == kid)
        .any(|(_, key)| verify_signature(key, signing_input.as_bytes(), &signature).is_ok());
    if !verified {
        return Err(failure(
            CstCode::SignatureInvalid,
            "",
            "no issuer key verifies the signature".to_owned(),
        ));
    }
    Ok(claims)
}

fn number(claims: &Map<String, Value>, key: &str) -> f64 {
    claims.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The token has not expired at `now`.
fn lifetime(claims: &Map<String, Value>, now: i64) -> Option<CstFailure> {
    let exp = number(claims, "exp");
    #[allow(clippy::cast_precision_loss)]
    (exp <= now as f64).then(|| {
        failure(
            CstCode::CstExpired,
            "/exp",
            format!("exp {exp} is not after now ({now})"),
        )
    })
}

/// What the WPC asks of its tokens: a lifetime within `token.max_ttl_seconds`,
/// a `jti`, the WPC's own hash when it pins one, a scope hash when required.
fn against_policy(claims: &Map<String, Value>, policy: TokenPolicy<'_>) -> Vec<CstFailure> {
    let mut failures = Vec::new();
    let (exp, iat) = (number(claims, "exp"), number(claims, "iat"));
    if let Some(max) = policy
        .wpc
        .constraints
        .token
        .as_ref()
        .and_then(|t| t.max_ttl_seconds)
    {
        #[allow(clippy::cast_precision_loss)]
        if exp - iat > max as f64 {
            failures.push(failure(
                CstCode::CstTtlTooLong,
                "/exp",
                format!(
                    "exp - iat = {} s exceeds token.max_ttl_seconds = {max}",
                    exp - iat
                ),
            ));
        }
    }
    if claims
        .get("jti")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        failures.push(failure(
            CstCode::CstJtiMissing,
            "/jti",
            "no jti: the token is not scoped to one job".to_owned(),
        ));
    }
    let pins = policy.wpc.binding.optional_policy_hash_pinning == Some(true);
    match claims.get("policy_hash_b64u").and_then(Value::as_str) {
        Some(hash) if hash == policy.hash => {}
        Some(hash) => failures.push(failure(
            CstCode::CstPolicyMismatch,
            "/policy_hash_b64u",
            format!("pinned to policy {hash}, not {}", policy.hash),
        )),
        None if pins => failures.push(failure(
            CstCode::CstPolicyMismatch,
            "/policy_hash_b64u",
            format!(
                "the WPC pins its hash, and the token has no policy_hash_b64u (expected {})",
                policy.hash
            ),
        )),
        None => {}
    }
    if policy.wpc.binding.cst_scope_hash_required && !claims.contains_key("token_scope_hash_b64u") {
        failures.push(failure(
            CstCode::CstScopeHashMismatch,
            "/token_scope_hash_b64u",
            "the WPC requires token_scope_hash_b64u and the token has none".to_owned(),
        ));
    }
    failures
}

/// A scope hash written in the token is the hash of its claims.
fn scope(claims: &Map<String, Value>, scope_hash: &str) -> Option<CstFailure> {
    let written = claims
        .get("token_scope_hash_b64u")
        .and_then(Value::as_str)?;
    (written != scope_hash).then(|| {
        failure(
            CstCode::CstScopeHashMismatch,
            "/token_scope_hash_b64u",
            format!("token_scope_hash_b64u is {written} but the claims hash to {scope_hash}"),
        )
    })
}

type Decoded = (Map<String, Value>, Map<String, Value>, String, Vec<u8>);

fn decode(token: &str) -> Result<Decoded, MalformedToken> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(MalformedToken::TooLong);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(MalformedToken::Parts(parts.len()));
    };
    let segment = |name: &'static str, text: &str| {
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| MalformedToken::NotBase64Url(name))
    };
    let object = |name: &'static str, text: &str| -> Result<Map<String, Value>, MalformedToken> {
        let bytes = segment(name, text)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(MalformedToken::NotAnObject(name)),
        }
    };
    Ok((
        object("header", header)?,
        object("claims", claims)?,
        format!("{header}.{claims}"),
        segment("signature", signature)?,
    ))
}

/// Why a token is not a compact JWS wpc can read (`TOKEN_MALFORMED`).
#[derive(Debug, thiserror::Error)]
enum MalformedToken {
    #[error("the token is over {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("a compact JWS has 3 dot-separated parts, not {0}")]
    Parts(usize),
    #[error("the {0} is not base64url without padding")]
    NotBase64Url(&'static str),
    #[error("the {0} is not a JSON object")]
    NotAnObject(&'static str),
}

/// `token_scope_hash_b64u` recomputed from the claims
/// (docs/bundles.md): the authority the token grants, with
/// `iat`, `exp`, `jti` and `nonce` left out, hashed in JCS form.
pub fn scope_hash_b64u(claims: &Map<String, Value>) -> String {
    const OPTIONAL: [&str; 12] = [
        "owner_ref",
        "owner_did",
        "controller_did",
        "agent_did",
        "policy_hash_b64u",
        "control_plane_policy_hash_b64u",
        "payment_account_did",
        "mission_id",
        "delegation_id",
        "delegator_did",
        "delegate_did",
        "delegation_policy_hash_b64u",
    ];
    let list = |key: &str| -> Value {
        let items: Vec<&str> = match claims.get(key) {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut items: Vec<String> = items
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        // JavaScript's default sort compares UTF-16 code units.
        items.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        items.dedup();
        Value::from(items)
    };
    let mut input = Map::new();
    input.insert("token_version".into(), Value::from("1"));
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    input.insert("sub".into(), Value::from(sub.trim()));
    input.insert("aud".into(), list("aud"));
    input.insert("scope".into(), list("scope"));
    for key in OPTIONAL {
        if let Some(text) = claims.get(key).and_then(Value::as_str).map(str::trim)
            && !text.is_empty()
        {
            input.insert(key.into(), Value::from(text));
        }
    }
    if let Some(cap) = claims
        .get("spend_cap")
        .filter(|v| v.as_f64().is_some_and(|n| n >= 0.0))
    {
        input.insert("spend_cap".into(), cap.clone());
    }
    if let Some(text) = claims
        .get("delegation_spend_cap_minor")
        .and_then(Value::as_str)
        .map(str::trim)
        && !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
    {
        input.insert("delegation_spend_cap_minor".into(), Value::from(text));
    }
    if let Some(at) = claims
        .get("delegation_expires_at")
        .and_then(Value::as_f64)
        .filter(|n| *n > 0.0)
    {
        input.insert("delegation_expires_at".into(), Value::from(at.floor()));
    }
    // JCS of plain strings, numbers and string arrays cannot fail.
    policy_hash_b64u(&Value::Object(input)).unwrap_or_default()
}

//! Commit signatures (`commit_sig`, the protocol's "m1" message signature
//! over a commit): `{"version": "m1", "type": "message_signature", "algo":
//! "ed25519", "did", "message": "commit:<sha>", "createdAt"?, "signature"}`
//! (docs/bundles.md, "Commit signatures").
//!
//! Checked in the reference verifier's order, each with its reason code:
//! the version, type and algorithm; the message names a commit; the DID is
//! an Ed25519 `did:key`; the signature is 64 bytes of standard base64; then
//! Ed25519 (`verify_strict`, as every wpc signature) over the UTF-8 bytes
//! of JCS of the whole object with `signature` set to `""`, so every field,
//! extra ones included, is covered. The commit is not looked up in Git.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;

use crate::crypto::did::DidKey;
use crate::crypto::quote;
use crate::crypto::verify::verify_signature;
use crate::policy::hash::canonical_json;

/// Why a commit signature is INVALID (the protocol's codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    MalformedEnvelope,
    UnknownVersion,
    UnknownType,
    UnknownAlgo,
    CommitMessageInvalid,
    InvalidDidFormat,
    CanonicalizationError,
    SignatureInvalid,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A commit signature that did not verify: the code and which field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommitSigFailure {
    pub code: Code,
    pub message: String,
}

/// A verified commit signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitSig {
    /// The commit the message names (as written: 7 to 64 hex digits).
    pub commit_sha: String,
    pub signer: DidKey,
}

/// Whether `value` has the shape of a commit signature rather than a
/// signed envelope: a JSON object with `version` and no `envelope_version`.
pub fn is_commit_sig(value: &Value) -> bool {
    value.get("version").is_some() && value.get("envelope_version").is_none()
}

/// Verifies the commit signature `value`.
pub fn verify(value: &Value) -> Result<CommitSig, CommitSigFailure> {
    let fail = |code, message: String| Err(CommitSigFailure { code, message });
    let Some(object) = value.as_object() else {
        return fail(
            Code::MalformedEnvelope,
            "a commit signature must be a JSON object".to_owned(),
        );
    };
    let field = |name: &str| object.get(name).and_then(Value::as_str);
    for (name, expected, code) in [
        ("version", "m1", Code::UnknownVersion),
        ("type", "message_signature", Code::UnknownType),
        ("algo", "ed25519", Code::UnknownAlgo),
    ] {
        let found = field(name).unwrap_or_default();
        if found != expected {
            return fail(
                code,
                format!(
                    "field `{name}` is `{}`; expected `{expected}`",
                    quote(found)
                ),
            );
        }
    }
    let message = field("message").unwrap_or_default();
    let Some(commit_sha) = commit_of(message) else {
        return fail(
            Code::CommitMessageInvalid,
            format!(
                "field `message` is `{}`; expected `commit:` and 7 to 64 hex digits",
                quote(message)
            ),
        );
    };
    let did = field("did").unwrap_or_default();
    let signer = match DidKey::parse(did) {
        Ok(signer) => signer,
        Err(err) => return fail(Code::InvalidDidFormat, format!("field `did`: {err}")),
    };
    let signature = match field("signature")
        .filter(|s| !s.is_empty())
        .and_then(|s| STANDARD.decode(s).ok())
        .filter(|bytes| bytes.len() == 64)
    {
        Some(signature) => signature,
        None => {
            return fail(
                Code::MalformedEnvelope,
                "field `signature` must be 64 bytes in standard base64".to_owned(),
            );
        }
    };
    let mut unsigned = object.clone();
    unsigned.insert("signature".to_owned(), Value::String(String::new()));
    let signed = match canonical_json(&Value::Object(unsigned)) {
        Ok(bytes) => bytes,
        Err(err) => return fail(Code::CanonicalizationError, err.to_string()),
    };
    if verify_signature(signer.verifying_key().as_bytes(), &signed, &signature).is_err() {
        return fail(
            Code::SignatureInvalid,
            format!("the signature does not verify for {signer}"),
        );
    }
    Ok(CommitSig {
        commit_sha: commit_sha.to_owned(),
        signer,
    })
}

/// The SHA of `commit:<7 to 64 hex digits>` (either case).
fn commit_of(message: &str) -> Option<&str> {
    let sha = message.strip_prefix("commit:")?;
    ((7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bundle::kit;

    /// A commit signature by the kit's key `seed` over `message`.
    fn signed(seed: u8, message: &str) -> Value {
        let key = kit::key(seed);
        let mut value = json!({
            "version": "m1",
            "type": "message_signature",
            "algo": "ed25519",
            "did": key.did_str(),
            "message": message,
            "createdAt": "2026-02-12T14:49:03.328Z",
            "signature": "",
        });
        let bytes = canonical_json(&value).unwrap();
        value["signature"] = json!(STANDARD.encode(key.sign(&bytes).to_bytes()));
        value
    }

    #[test]
    fn a_signature_verifies_and_every_field_is_covered() {
        let value = signed(5, "commit:135016bbeda0a95d5745ff9031c1287263ea0a06");
        let verified = verify(&value).unwrap();
        assert_eq!(
            verified.commit_sha,
            "135016bbeda0a95d5745ff9031c1287263ea0a06"
        );
        assert_eq!(verified.signer, kit::key(5).did());
        for (field, changed) in [
            ("message", json!("commit:135016b")),
            ("createdAt", json!("2026-02-12T14:49:04.328Z")),
            ("did", json!(kit::key(6).did_str())),
        ] {
            let mut tampered = value.clone();
            tampered[field] = changed;
            assert_eq!(
                verify(&tampered).unwrap_err().code,
                Code::SignatureInvalid,
                "{field}"
            );
        }
        let mut extra = value.clone();
        extra["note"] = json!("added");
        assert_eq!(verify(&extra).unwrap_err().code, Code::SignatureInvalid);
    }

    #[test]
    fn each_check_has_its_code() {
        let value = signed(5, "commit:abcdef0");
        let cases = [
            ("version", json!("m99"), Code::UnknownVersion),
            ("type", json!("artifact_signature"), Code::UnknownType),
            ("algo", json!("rsa"), Code::UnknownAlgo),
            (
                "message",
                json!("not-a-commit-ref"),
                Code::CommitMessageInvalid,
            ),
            ("message", json!("commit:abc"), Code::CommitMessageInvalid),
            ("did", json!("did:web:example.com"), Code::InvalidDidFormat),
            ("signature", json!(""), Code::MalformedEnvelope),
            ("signature", json!("AAAA"), Code::MalformedEnvelope),
            ("signature", json!("not base64!"), Code::MalformedEnvelope),
        ];
        for (field, changed, code) in cases {
            let mut broken = value.clone();
            broken[field] = changed;
            assert_eq!(verify(&broken).unwrap_err().code, code, "{field}");
        }
        assert_eq!(
            verify(&json!([1])).unwrap_err().code,
            Code::MalformedEnvelope
        );
        assert!(is_commit_sig(&value));
        assert!(!is_commit_sig(
            &json!({"envelope_version": "1", "version": "x"})
        ));
    }
}

//! The normative WPC hash (docs/signing.md): `base64url_nopad(SHA-256(JCS(payload)))`.
//!
//! This is the one place that turns a payload into its identity. Releases,
//! envelopes, diffs and bundle checks all call it, so a WPC has the same hash
//! here as in every other Claw protocol tool.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How many characters of a hash are shown where space is short.
pub const DISPLAY_LEN: usize = 12;

/// RFC 8785 canonical bytes of a payload.
pub fn canonical_json(payload: &Value) -> Result<Vec<u8>, HashError> {
    serde_json_canonicalizer::to_vec(payload).map_err(|err| HashError(err.to_string()))
}

/// `policy_hash_b64u` of a payload.
pub fn policy_hash_b64u(payload: &Value) -> Result<String, HashError> {
    Ok(sha256_b64u(&canonical_json(payload)?))
}

/// `base64url_nopad(SHA-256(bytes))`: 43 characters.
pub fn sha256_b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// The short display form of a hash (its first 12 characters).
pub fn short(hash: &str) -> &str {
    hash.get(..DISPLAY_LEN).unwrap_or(hash)
}

/// A payload that RFC 8785 cannot canonicalize (for example a number that is
/// not an IEEE 754 double).
#[derive(Clone, Debug, thiserror::Error)]
#[error("payload cannot be canonicalized (RFC 8785): {0}")]
pub struct HashError(String);

impl From<std::convert::Infallible> for HashError {
    fn from(never: std::convert::Infallible) -> HashError {
        match never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The RFC 8785 vectors from cyberphone/json-canonicalization.
    #[test]
    fn jcs_vectors_match_byte_for_byte() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/jcs");
        let mut seen = 0;
        for entry in std::fs::read_dir(root.join("input")).unwrap() {
            let path = entry.unwrap().path();
            let input: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let expected =
                std::fs::read(root.join("output").join(path.file_name().unwrap())).unwrap();
            assert_eq!(
                String::from_utf8(canonical_json(&input).unwrap()).unwrap(),
                String::from_utf8(expected).unwrap(),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert_eq!(seen, 6);
    }

    #[test]
    fn hash_ignores_key_order_and_whitespace() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": [true, "x"]}"#).unwrap();
        let b: Value = serde_json::from_str("{ \"a\" : [ true , \"x\" ] , \"b\" : 1 }").unwrap();
        assert_eq!(policy_hash_b64u(&a).unwrap(), policy_hash_b64u(&b).unwrap());
        assert_eq!(policy_hash_b64u(&a).unwrap().len(), 43);
    }

    #[test]
    fn known_hash_of_empty_object() {
        // SHA-256("{}") in base64url, computed independently with coreutils + basenc.
        assert_eq!(
            policy_hash_b64u(&serde_json::json!({})).unwrap(),
            "RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o"
        );
    }
}

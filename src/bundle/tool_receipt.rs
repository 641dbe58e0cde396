//! Tool receipts inside a proof bundle: the signed forms and selective
//! disclosure (docs/bundles.md, "What is checked, in order").
//!
//! [`verify`] checks what a tool receipt proves about itself: for an
//! envelope (v1, or v2 with `co_signatures`), its expiry, payload hash and
//! primary signature, then each co-signature over the same UTF-8
//! `payload_hash_b64u`; for a v2 payload, signed or not, its
//! `args_disclosure` / `result_disclosure` against the committed
//! `args_hash_b64u` / `result_hash_b64u`. As in the reference there is no
//! signer list: a tool receipt's signers are named, not trusted. Agent and
//! binding are the bundle checker's, as for every receipt.
//!
//! The caller has validated the bundle payload against its schema (which
//! covers every tool receipt form, co-signature and disclosure); anything
//! that schema would reject is still a failure here, never a panic.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::reason::{Code, Failure};
use crate::crypto::did::DidKey;
use crate::crypto::envelope::{
    EnvelopeKind, SIGNATURE_ALGORITHM, ToolReceipt, ToolReceiptV2, parse_rfc3339,
};
use crate::crypto::quote;
use crate::crypto::verify::{SIGNATURE_B64U, Trust, verify_embedded, verify_signature};
use crate::policy::document::pointer_segment;
use crate::policy::hash::{HashError, canonical_json, policy_hash_b64u, sha256_b64u};

use base64::Engine as _;

/// The only selective-disclosure algorithm.
pub const DISCLOSURE_ALGORITHM: &str = "vir_v2_typed_lexicographical";

/// What the checks of one tool receipt found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// The receipt is an envelope (signed by its tool signer), not a bare
    /// payload the agent asserts.
    pub signed: bool,
    pub failures: Vec<Failure>,
}

/// Checks the tool receipt `receipt`, found at the JSON pointer `at`, at the
/// time `now` (for `expires_at`).
pub fn verify(receipt: &Value, at: &str, now: Timestamp) -> Checked {
    let mut checked = Checked::default();
    let payload = if receipt.get("envelope_type").is_some() {
        checked.signed = true;
        envelope(receipt, at, now, &mut checked.failures);
        receipt.get("payload").unwrap_or(&Value::Null)
    } else {
        receipt
    };
    if payload.get("receipt_version").and_then(Value::as_str) == Some("2") {
        let payload_at = if checked.signed {
            format!("{at}/payload")
        } else {
            at.to_owned()
        };
        for side in ["args", "result"] {
            let Some(disclosure) = payload.get(format!("{side}_disclosure")) else {
                continue;
            };
            let committed = payload
                .get(format!("{side}_hash_b64u"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            checked.failures.extend(verify_disclosure(
                disclosure,
                committed,
                &format!("{payload_at}/{side}_disclosure"),
            ));
        }
    }
    checked
}

/// Expiry, then the envelope check of its version (hash and primary
/// signature), then each co-signature: the reference's order.
fn envelope(receipt: &Value, at: &str, now: Timestamp, failures: &mut Vec<Failure>) {
    if let Some(expires_at) = receipt.get("expires_at").and_then(Value::as_str)
        && parse_rfc3339(expires_at).is_ok_and(|time| time < now)
    {
        failures.push(Failure::new(
            Code::ExpiredTtl,
            format!("{at}/expires_at"),
            format!("the tool receipt expired at {expires_at}"),
        ));
    }
    let any = Trust::any_signer_unchecked();
    let version = receipt.get("envelope_version").and_then(Value::as_str);
    let primary = match version {
        Some(ToolReceiptV2::ENVELOPE_VERSION) => verify_embedded::<ToolReceiptV2>(receipt, &any),
        _ => verify_embedded::<ToolReceipt>(receipt, &any),
    };
    if let Err(failure) = primary {
        failures.push(Failure::from_envelope(at, &failure));
        return;
    }
    if version != Some(ToolReceiptV2::ENVELOPE_VERSION) {
        return;
    }
    let Some(co_signatures) = receipt.get("co_signatures") else {
        return;
    };
    let Some(co_signatures) = co_signatures.as_array() else {
        failures.push(Failure::new(
            Code::CoSignatureInvalid,
            format!("{at}/co_signatures"),
            "co_signatures must be an array",
        ));
        return;
    };
    let message = receipt
        .get("payload_hash_b64u")
        .and_then(Value::as_str)
        .unwrap_or_default();
    for (i, co) in co_signatures.iter().enumerate() {
        if let Err(failure) = co_signature(co, message, &format!("{at}/co_signatures/{i}")) {
            failures.push(failure);
        }
    }
}

/// One co-signature: Ed25519 (`verify_strict`, as every wpc signature) by
/// `signer_did` over the UTF-8 bytes of the primary `payload_hash_b64u`.
fn co_signature(co: &Value, message: &str, at: &str) -> Result<(), Failure> {
    let fail = |field: &str, message: String| {
        Failure::new(Code::CoSignatureInvalid, format!("{at}/{field}"), message)
    };
    let field = |name: &str| co.get(name).and_then(Value::as_str);
    let algorithm = field("algorithm").unwrap_or_default();
    if algorithm != SIGNATURE_ALGORITHM {
        return Err(fail(
            "algorithm",
            format!(
                "co-signature algorithm `{}`; expected `{SIGNATURE_ALGORITHM}`",
                quote(algorithm)
            ),
        ));
    }
    let did = field("signer_did").unwrap_or_default();
    let signer = DidKey::parse(did)
        .map_err(|err| fail("signer_did", format!("co-signature signer_did: {err}")))?;
    let signature = SIGNATURE_B64U
        .decode(field("signature_b64u").unwrap_or_default())
        .map_err(|_| {
            fail(
                "signature_b64u",
                "co-signature signature_b64u is not valid base64url".to_owned(),
            )
        })?;
    verify_signature(
        signer.verifying_key().as_bytes(),
        message.as_bytes(),
        &signature,
    )
    .map_err(|err| {
        fail(
            "signature_b64u",
            format!("co-signature by {signer}: {err} over payload_hash_b64u"),
        )
    })
}

/// Checks one selective disclosure (at the pointer `at`) against the hash
/// the receipt commits to: algorithm, root = committed hash, each disclosed
/// leaf's declared type, and the root recomputed from every leaf.
pub fn verify_disclosure(disclosure: &Value, committed: &str, at: &str) -> Vec<Failure> {
    let mut failures = Vec::new();
    let algorithm = disclosure
        .get("disclosure_algorithm")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if algorithm != DISCLOSURE_ALGORITHM {
        failures.push(Failure::new(
            Code::DisclosureAlgorithmUnknown,
            format!("{at}/disclosure_algorithm"),
            format!(
                "disclosure_algorithm `{}`; expected `{DISCLOSURE_ALGORITHM}`",
                quote(algorithm)
            ),
        ));
        return failures;
    }
    let root = disclosure
        .get("merkle_root_b64u")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if root != committed {
        failures.push(Failure::new(
            Code::DisclosureRootMismatch,
            format!("{at}/merkle_root_b64u"),
            format!(
                "merkle_root_b64u `{}` does not match the committed hash `{}`",
                quote(root),
                quote(committed)
            ),
        ));
    }
    let mut leaves: Vec<String> = Vec::new();
    match disclosure
        .get("redacted_leaf_hashes_b64u")
        .and_then(Value::as_array)
    {
        Some(redacted) => {
            for (i, hash) in redacted.iter().enumerate() {
                match hash.as_str() {
                    Some(hash) => leaves.push(hash.to_owned()),
                    None => failures.push(Failure::new(
                        Code::DisclosureRootMismatch,
                        format!("{at}/redacted_leaf_hashes_b64u/{i}"),
                        "a redacted leaf hash must be a string",
                    )),
                }
            }
        }
        None => failures.push(Failure::new(
            Code::DisclosureRootMismatch,
            format!("{at}/redacted_leaf_hashes_b64u"),
            "redacted_leaf_hashes_b64u must be an array",
        )),
    }
    let empty = Map::new();
    let disclosed = match disclosure.get("disclosed_leaves") {
        Some(Value::Object(disclosed)) => disclosed,
        _ => {
            failures.push(Failure::new(
                Code::DisclosureRootMismatch,
                format!("{at}/disclosed_leaves"),
                "disclosed_leaves must be an object",
            ));
            &empty
        }
    };
    for (path, leaf) in disclosed {
        let leaf_at = format!("{at}/disclosed_leaves/{}", pointer_segment(path));
        let declared = leaf.get("type").and_then(Value::as_str).unwrap_or_default();
        let value = leaf.get("value").unwrap_or(&Value::Null);
        if leaf.get("value").is_none() || disclosure_type(value) != declared {
            failures.push(Failure::new(
                Code::DisclosureTypeMismatch,
                format!("{leaf_at}/type"),
                format!(
                    "the disclosed value's JSON type is `{}`, but its `type` is `{}`",
                    leaf.get("value").map_or("missing", disclosure_type),
                    quote(declared)
                ),
            ));
        }
        match leaf_hash_b64u(path, leaf) {
            Ok(hash) => leaves.push(hash),
            Err(err) => failures.push(Failure::new(
                Code::DisclosureRootMismatch,
                leaf_at,
                format!("the disclosed leaf cannot be hashed: {err}"),
            )),
        }
    }
    match root_b64u(leaves) {
        Ok(recomputed) if recomputed == root => {}
        Ok(recomputed) => failures.push(Failure::new(
            Code::DisclosureRootMismatch,
            format!("{at}/merkle_root_b64u"),
            format!(
                "the redacted and disclosed leaves hash to `{recomputed}`, not to merkle_root_b64u `{}`",
                quote(root)
            ),
        )),
        Err(err) => failures.push(Failure::new(
            Code::DisclosureRootMismatch,
            format!("{at}/merkle_root_b64u"),
            format!("the leaves cannot be hashed: {err}"),
        )),
    }
    failures
}

/// `b64u(SHA-256(path ":" JCS({type, value, salt_b64u})))` of a disclosed
/// leaf (only those three members are hashed).
pub fn leaf_hash_b64u(path: &str, leaf: &Value) -> Result<String, HashError> {
    let member = |name: &str| leaf.get(name).cloned().unwrap_or(Value::Null);
    let canonical = canonical_json(&json!({
        "type": member("type"),
        "value": member("value"),
        "salt_b64u": member("salt_b64u"),
    }))?;
    let mut bytes = Vec::with_capacity(path.len() + 1 + canonical.len());
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(b':');
    bytes.extend_from_slice(&canonical);
    Ok(sha256_b64u(&bytes))
}

/// `b64u(SHA-256(JCS(sorted leaf hashes)))`: the root of every leaf,
/// redacted and disclosed, sorted by UTF-16 code units as JavaScript sorts.
pub fn root_b64u(mut leaf_hashes: Vec<String>) -> Result<String, HashError> {
    leaf_hashes.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    policy_hash_b64u(&Value::Array(
        leaf_hashes.into_iter().map(Value::String).collect(),
    ))
}

/// The disclosure `type` of a JSON value: its JSON type.
pub fn disclosure_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::kit::{Shape, ToolV2, bundle_value, co_signer_key};

    const AT: &str = "/payload/tool_receipts/0";

    fn now() -> Timestamp {
        Timestamp::from_second(1_770_854_400).unwrap()
    }

    /// The first tool receipt of a kit bundle with v2 tool receipts.
    fn receipt(v2: ToolV2) -> Value {
        let shape = Shape {
            tool_v2: Some(v2),
            ..Shape::default()
        };
        bundle_value(&shape).unwrap()["payload"]["tool_receipts"][0].clone()
    }

    fn codes(checked: &Checked) -> Vec<(Code, &str)> {
        checked
            .failures
            .iter()
            .map(|f| (f.code, f.pointer.as_str()))
            .collect()
    }

    #[test]
    fn kit_v2_receipts_verify() {
        for envelope in [true, false] {
            for co_signers in [0, 1, 16] {
                let v2 = ToolV2 {
                    envelope,
                    co_signers,
                    ..ToolV2::default()
                };
                let checked = verify(&receipt(v2), AT, now());
                assert_eq!(checked.failures, Vec::new(), "{envelope} {co_signers}");
                assert_eq!(checked.signed, envelope);
            }
        }
        let bare = ToolV2 {
            args: Vec::new(),
            result: Vec::new(),
            ..ToolV2::default()
        };
        let value = receipt(bare);
        assert!(value["payload"].get("args_disclosure").is_none());
        assert!(verify(&value, AT, now()).failures.is_empty());
    }

    #[test]
    fn co_signature_altered_swapped_or_malformed() {
        let valid = receipt(ToolV2::default());
        let signature = "/co_signatures/0/signature_b64u";

        let mut altered = valid.clone();
        let text = altered.pointer(signature).unwrap().as_str().unwrap();
        let flipped = format!(
            "{}{}",
            if text.starts_with('A') { "B" } else { "A" },
            &text[1..]
        );
        *altered.pointer_mut(signature).unwrap() = json!(flipped);
        let expected = format!("{AT}{signature}");
        assert_eq!(
            codes(&verify(&altered, AT, now())),
            [(Code::CoSignatureInvalid, expected.as_str())]
        );

        // Another key's DID under the same signature.
        let mut swapped = valid.clone();
        swapped["co_signatures"][0]["signer_did"] = json!(co_signer_key(5).did_str());
        assert_eq!(
            codes(&verify(&swapped, AT, now())),
            [(Code::CoSignatureInvalid, expected.as_str())]
        );

        // A co-signature over something else than payload_hash_b64u.
        let mut other = valid.clone();
        let key = co_signer_key(0);
        let wrong = key.sign(b"not the payload hash");
        other["co_signatures"][0]["signature_b64u"] =
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(wrong.to_bytes()));
        assert_eq!(
            codes(&verify(&other, AT, now())),
            [(Code::CoSignatureInvalid, expected.as_str())]
        );

        for (field, value) in [
            ("signer_did", json!("did:key:zNotAKey")),
            ("signer_did", json!(null)),
            ("signature_b64u", json!("***")),
            ("signature_b64u", json!("AAAAAAAA")),
            ("algorithm", json!("ES256")),
        ] {
            let mut bad = valid.clone();
            bad["co_signatures"][0][field] = value;
            let checked = verify(&bad, AT, now());
            assert_eq!(
                codes(&checked),
                [(
                    Code::CoSignatureInvalid,
                    format!("{AT}/co_signatures/0/{field}").as_str()
                )],
                "{field}"
            );
        }
        let mut not_array = valid;
        not_array["co_signatures"] = json!({});
        assert_eq!(
            codes(&verify(&not_array, AT, now()))[0].0,
            Code::CoSignatureInvalid
        );
    }

    #[test]
    fn every_co_signature_is_checked() {
        let mut value = receipt(ToolV2 {
            co_signers: 3,
            ..ToolV2::default()
        });
        value["co_signatures"][2]["signature_b64u"] =
            value["co_signatures"][1]["signature_b64u"].clone();
        let expected = format!("{AT}/co_signatures/2/signature_b64u");
        assert_eq!(
            codes(&verify(&value, AT, now())),
            [(Code::CoSignatureInvalid, expected.as_str())]
        );
    }

    #[test]
    fn primary_signature_expiry_and_version() {
        let valid = receipt(ToolV2::default());

        let mut primary = valid.clone();
        primary["signature_b64u"] = valid["co_signatures"][0]["signature_b64u"].clone();
        let expected = format!("{AT}/signature_b64u");
        assert_eq!(
            codes(&verify(&primary, AT, now())),
            [(Code::SignatureInvalid, expected.as_str())]
        );

        let mut payload = valid.clone();
        payload["payload"]["tool_name"] = json!("exec");
        let expected = format!("{AT}/payload_hash_b64u");
        assert_eq!(
            codes(&verify(&payload, AT, now())),
            [(Code::HashMismatch, expected.as_str())]
        );

        let mut expired = valid.clone();
        expired["expires_at"] = json!("2026-01-01T00:00:00Z");
        let expected = format!("{AT}/expires_at");
        assert_eq!(
            codes(&verify(&expired, AT, now())),
            [(Code::ExpiredTtl, expected.as_str())]
        );
        expired["expires_at"] = json!("2027-01-01T00:00:00Z");
        assert!(verify(&expired, AT, now()).failures.is_empty());

        // A v1 envelope may not carry co-signatures.
        let mut v1 = valid;
        v1["envelope_version"] = json!("1");
        let checked = verify(&v1, AT, now());
        assert_eq!(codes(&checked), [(Code::MalformedEnvelope, AT)]);
    }

    /// A disclosure of `leaves` (path, type, value) plus one redacted leaf,
    /// and its root.
    fn disclosure(leaves: &[(&str, &str, Value)]) -> (Value, String) {
        let redacted = sha256_b64u(b"a redacted leaf");
        let mut hashes = vec![redacted.clone()];
        let mut disclosed = Map::new();
        for (path, kind, value) in leaves {
            let leaf = json!({
                "type": kind,
                "value": value,
                "salt_b64u": sha256_b64u(format!("salt {path}").as_bytes()),
            });
            hashes.push(leaf_hash_b64u(path, &leaf).unwrap());
            disclosed.insert((*path).to_owned(), leaf);
        }
        let root = root_b64u(hashes).unwrap();
        let value = json!({
            "disclosure_algorithm": DISCLOSURE_ALGORITHM,
            "merkle_root_b64u": root,
            "redacted_leaf_hashes_b64u": [redacted],
            "disclosed_leaves": disclosed,
        });
        (value, root)
    }

    fn disclosure_codes(disclosure: &Value, committed: &str) -> Vec<(Code, String)> {
        verify_disclosure(disclosure, committed, "/d")
            .into_iter()
            .map(|f| (f.code, f.pointer))
            .collect()
    }

    #[test]
    fn disclosure_type_confusion() {
        // The producer hashed `type:"string"` with `value:1337`: the root
        // matches, the declared type does not.
        let (value, root) = disclosure(&[
            ("args.query", "string", json!(1337)),
            ("args/x~y", "boolean", json!("true")),
            ("args.ok", "array", json!([1])),
        ]);
        assert_eq!(
            disclosure_codes(&value, &root),
            [
                (
                    Code::DisclosureTypeMismatch,
                    "/d/disclosed_leaves/args.query/type".to_owned()
                ),
                (
                    Code::DisclosureTypeMismatch,
                    "/d/disclosed_leaves/args~1x~0y/type".to_owned()
                ),
            ]
        );
        for (kind, value) in [
            ("string", json!("")),
            ("number", json!(-0.5)),
            ("boolean", json!(false)),
            ("null", json!(null)),
            ("array", json!([])),
            ("object", json!({})),
        ] {
            let (d, root) = disclosure(&[("p", kind, value)]);
            assert_eq!(disclosure_codes(&d, &root), [], "{kind}");
        }
    }

    #[test]
    fn disclosure_root_and_algorithm() {
        let (valid, root) = disclosure(&[("args.query", "string", json!("q"))]);
        assert_eq!(disclosure_codes(&valid, &root), []);

        // The root is not the committed hash (though it is the leaves' root).
        let other = sha256_b64u(b"another commitment");
        assert_eq!(
            disclosure_codes(&valid, &other),
            [(
                Code::DisclosureRootMismatch,
                "/d/merkle_root_b64u".to_owned()
            )]
        );

        let mut unknown = valid.clone();
        unknown["disclosure_algorithm"] = json!("sha256_flat");
        assert_eq!(
            disclosure_codes(&unknown, &root),
            [(
                Code::DisclosureAlgorithmUnknown,
                "/d/disclosure_algorithm".to_owned()
            )]
        );

        // Anything a leaf hash covers, changed: the root no longer matches.
        for (pointer, tampered) in [
            ("/disclosed_leaves/args.query/value", json!("q2")),
            (
                "/disclosed_leaves/args.query/salt_b64u",
                json!("c2FsdHNhbHQ"),
            ),
            ("/redacted_leaf_hashes_b64u/0", json!(other.clone())),
        ] {
            let mut changed = valid.clone();
            *changed.pointer_mut(pointer).unwrap() = tampered;
            assert_eq!(
                disclosure_codes(&changed, &root),
                [(
                    Code::DisclosureRootMismatch,
                    "/d/merkle_root_b64u".to_owned()
                )],
                "{pointer}"
            );
        }
        // A leaf renamed (its path is hashed), dropped, or added.
        let mut renamed = valid.clone();
        let leaf = renamed["disclosed_leaves"]
            .as_object_mut()
            .unwrap()
            .shift_remove("args.query")
            .unwrap();
        renamed["disclosed_leaves"]["args.Query"] = leaf;
        let mut dropped = valid.clone();
        dropped["redacted_leaf_hashes_b64u"] = json!([]);
        let mut added = valid.clone();
        added["redacted_leaf_hashes_b64u"]
            .as_array_mut()
            .unwrap()
            .push(json!(other));
        for changed in [renamed, dropped, added] {
            assert_eq!(
                disclosure_codes(&changed, &root),
                [(
                    Code::DisclosureRootMismatch,
                    "/d/merkle_root_b64u".to_owned()
                )]
            );
        }
        // Shapes the schema rejects are failures, not panics.
        for broken in [
            json!({}),
            json!(null),
            json!({"disclosure_algorithm": DISCLOSURE_ALGORITHM}),
        ] {
            assert!(!disclosure_codes(&broken, &root).is_empty());
        }
    }

    #[test]
    fn leaf_order_does_not_matter() {
        let leaves = |order: [usize; 3]| {
            let all = [
                ("a", "number", json!(1)),
                ("b", "string", json!("two")),
                ("c", "null", json!(null)),
            ];
            disclosure(&order.map(|i| all[i].clone())).1
        };
        assert_eq!(leaves([0, 1, 2]), leaves([2, 0, 1]));
    }

    /// The same hashes computed independently by
    /// `tests/vectors/disclosure/cross_check.py` (Python standard library).
    #[test]
    fn hashes_match_the_independent_python_implementation() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/disclosure");
        let read = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
        };
        let input = read("leaves.json");
        let expected = read("expected.json");
        let mut hashes: Vec<String> = input["redacted_leaf_hashes_b64u"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect();
        for (path, leaf) in input["disclosed_leaves"].as_object().unwrap() {
            let hash = leaf_hash_b64u(path, leaf).unwrap();
            assert_eq!(hash, expected["leaf_hashes_b64u"][path], "{path}");
            hashes.push(hash);
        }
        let root = root_b64u(hashes).unwrap();
        assert_eq!(root, expected["merkle_root_b64u"]);
        let disclosure = json!({
            "disclosure_algorithm": DISCLOSURE_ALGORITHM,
            "merkle_root_b64u": root,
            "redacted_leaf_hashes_b64u": input["redacted_leaf_hashes_b64u"],
            "disclosed_leaves": input["disclosed_leaves"],
        });
        assert_eq!(disclosure_codes(&disclosure, &root), []);
    }
}

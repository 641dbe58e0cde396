//! x402 payment claims in gateway receipts (docs/bundles.md, "x402
//! payments").
//!
//! A gateway receipt may say the model call was paid through x402: its
//! `payload.metadata` carries `x402_payment_ref`, `x402_amount_minor`,
//! `x402_currency`, `x402_network` and `x402_payment_auth_hash_b64u`. The
//! protocol's hosted verifier binds each such payment to the execution: the
//! claim must be complete, the receipt must verify and be bound to this
//! bundle's run and one of its events, and one payment authorization may
//! pay for one receipt only. A bundle whose claims fail is INVALID
//! (`EVIDENCE_MISMATCH`, the message naming the x402 reason code).

use std::collections::HashSet;

use serde_json::Value;

use super::causal::js_trim;

/// The x402 metadata fields; any one of them makes a claim.
const FIELDS: [&str; 5] = [
    "x402_payment_ref",
    "x402_amount_minor",
    "x402_currency",
    "x402_network",
    "x402_payment_auth_hash_b64u",
];

/// The protocol's x402 reason codes for a claim that does not bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE", prefix = "X402_")]
pub enum Reason {
    /// A payment field is missing or empty.
    MetadataPartial,
    /// The payment authorization hash is not base64url of 8 characters or more.
    PaymentAuthHashInvalid,
    /// The receipt has no `binding`.
    BindingMissing,
    BindingRunIdMissing,
    BindingEventHashMissing,
    BindingEventHashInvalid,
    /// The receipt does not verify, or is not bound to this run and chain.
    ExecutionBindingMismatch,
    /// Two claims of the bundle name one payment authorization.
    PaymentAuthReplay,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One gateway receipt's x402 claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The trimmed payment authorization hash, when there is one.
    pub auth_hash: Option<String>,
    /// The first field problem, with the field's path under the receipt
    /// payload (e.g. `/metadata/x402_network`).
    pub problem: Option<(Reason, &'static str)>,
}

/// The x402 claim of a gateway receipt payload, if it makes one; its fields
/// are checked in the protocol's order.
pub fn claim(payload: &Value) -> Option<Claim> {
    let metadata = payload.get("metadata")?.as_object()?;
    if !FIELDS.iter().any(|field| metadata.contains_key(*field)) {
        return None;
    }
    let trimmed = |field: &str| metadata.get(field).and_then(Value::as_str).map(js_trim);
    let filled = |field: &str| trimmed(field).is_some_and(|text| !text.is_empty());
    let auth_hash = trimmed("x402_payment_auth_hash_b64u")
        .filter(|text| !text.is_empty())
        .map(str::to_owned);
    let amount_ok = metadata
        .get("x402_amount_minor")
        .is_some_and(|n| n.as_u64().is_some() || n.as_f64().is_some_and(is_whole_nonnegative));
    let binding = payload.get("binding").filter(|b| b.is_object());
    let run_id = binding
        .and_then(|b| b.get("run_id"))
        .and_then(Value::as_str);
    let event_hash = binding
        .and_then(|b| b.get("event_hash_b64u"))
        .and_then(Value::as_str)
        .map(js_trim);
    let problem = if !filled("x402_payment_ref") {
        Some((Reason::MetadataPartial, "/metadata/x402_payment_ref"))
    } else if !amount_ok {
        Some((Reason::MetadataPartial, "/metadata/x402_amount_minor"))
    } else if !filled("x402_currency") {
        Some((Reason::MetadataPartial, "/metadata/x402_currency"))
    } else if !filled("x402_network") {
        Some((Reason::MetadataPartial, "/metadata/x402_network"))
    } else if !auth_hash.as_deref().is_some_and(is_base64url_8) {
        Some((
            Reason::PaymentAuthHashInvalid,
            "/metadata/x402_payment_auth_hash_b64u",
        ))
    } else if binding.is_none() {
        Some((Reason::BindingMissing, "/binding"))
    } else if run_id.is_none_or(|id| js_trim(id).is_empty()) {
        Some((Reason::BindingRunIdMissing, "/binding/run_id"))
    } else if event_hash.is_none_or(str::is_empty) {
        Some((Reason::BindingEventHashMissing, "/binding/event_hash_b64u"))
    } else if !event_hash.is_some_and(is_base64url_8) {
        Some((Reason::BindingEventHashInvalid, "/binding/event_hash_b64u"))
    } else {
        None
    };
    Some(Claim { auth_hash, problem })
}

/// A JSON number that is a whole number, zero or more (`1.0` counts, as in
/// JavaScript).
fn is_whole_nonnegative(n: f64) -> bool {
    n >= 0.0 && n.fract() == 0.0
}

/// At least 8 characters of the base64url alphabet.
fn is_base64url_8(text: &str) -> bool {
    text.len() >= 8
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One receipt's claim and what verifying the receipt showed.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The receipt's index in `receipts`.
    pub index: usize,
    pub claim: Claim,
    /// The receipt's signature verified.
    pub signed: bool,
    /// It verified and is bound to this run and one of its events.
    pub bound: bool,
}

/// The bundle's x402 verdict: `None` when every claim binds, else the
/// reason and the index of the receipt it is about. A replayed payment
/// authorization is found first, then the first claim that does not bind.
pub fn judge(claims: &[Checked]) -> Option<(Reason, usize, Option<&'static str>)> {
    let mut seen = HashSet::new();
    for checked in claims {
        if let Some(hash) = &checked.claim.auth_hash
            && !seen.insert(hash.as_str())
        {
            return Some((Reason::PaymentAuthReplay, checked.index, None));
        }
    }
    claims
        .iter()
        .find_map(|checked| match checked.claim.problem {
            // A receipt whose signature fails is not read further.
            Some((reason, field)) if checked.signed => Some((reason, checked.index, Some(field))),
            _ if !checked.bound => Some((Reason::ExecutionBindingMismatch, checked.index, None)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payload() -> Value {
        json!({
            "binding": {"run_id": "run_1", "event_hash_b64u": "abcdefgh"},
            "metadata": {
                "x402_payment_ref": "0xref",
                "x402_amount_minor": 1000,
                "x402_currency": "USDC",
                "x402_network": "base-sepolia",
                "x402_payment_auth_hash_b64u": "x402_auth_001",
            },
        })
    }

    #[test]
    fn each_field_problem_has_its_reason_in_order() {
        assert_eq!(claim(&json!({"metadata": {"other": 1}})), None);
        assert_eq!(claim(&json!({})), None);
        let full = claim(&payload()).unwrap();
        assert_eq!(full.problem, None);
        assert_eq!(full.auth_hash.as_deref(), Some("x402_auth_001"));
        let cases: [(&str, Value, Reason); 10] = [
            (
                "/metadata/x402_payment_ref",
                json!("  "),
                Reason::MetadataPartial,
            ),
            (
                "/metadata/x402_amount_minor",
                json!(-1),
                Reason::MetadataPartial,
            ),
            (
                "/metadata/x402_amount_minor",
                json!(1.5),
                Reason::MetadataPartial,
            ),
            (
                "/metadata/x402_amount_minor",
                json!("10"),
                Reason::MetadataPartial,
            ),
            (
                "/metadata/x402_currency",
                Value::Null,
                Reason::MetadataPartial,
            ),
            ("/metadata/x402_network", json!(""), Reason::MetadataPartial),
            (
                "/metadata/x402_payment_auth_hash_b64u",
                json!("***"),
                Reason::PaymentAuthHashInvalid,
            ),
            ("/binding/run_id", json!(" "), Reason::BindingRunIdMissing),
            (
                "/binding/event_hash_b64u",
                Value::Null,
                Reason::BindingEventHashMissing,
            ),
            (
                "/binding/event_hash_b64u",
                json!("short"),
                Reason::BindingEventHashInvalid,
            ),
        ];
        for (at, value, reason) in cases {
            let mut p = payload();
            *p.pointer_mut(at).unwrap() = value;
            assert_eq!(claim(&p).unwrap().problem, Some((reason, at)), "{at}");
        }
        let mut p = payload();
        p.as_object_mut().unwrap().remove("binding");
        assert_eq!(
            claim(&p).unwrap().problem,
            Some((Reason::BindingMissing, "/binding"))
        );
        let mut p = payload();
        p["metadata"]["x402_amount_minor"] = json!(2.0);
        assert_eq!(claim(&p).unwrap().problem, None);
    }

    #[test]
    fn replay_first_then_the_first_claim_that_does_not_bind() {
        let claim = |hash: &str, problem| Claim {
            auth_hash: Some(hash.to_owned()),
            problem,
        };
        let checked = |index, claim, signed, bound| Checked {
            index,
            claim,
            signed,
            bound,
        };
        let partial = Some((Reason::MetadataPartial, "/metadata/x402_network"));
        assert_eq!(judge(&[checked(0, claim("a", None), true, true)]), None);
        assert_eq!(
            judge(&[
                checked(0, claim("a", None), true, false),
                checked(1, claim("a", None), true, true),
            ]),
            Some((Reason::PaymentAuthReplay, 1, None))
        );
        assert_eq!(
            judge(&[
                checked(0, claim("a", None), true, true),
                checked(1, claim("b", partial), true, false),
            ]),
            Some((Reason::MetadataPartial, 1, Some("/metadata/x402_network")))
        );
        // An unsigned receipt's fields are not read: the binding fails.
        assert_eq!(
            judge(&[checked(0, claim("a", partial), false, false)]),
            Some((Reason::ExecutionBindingMismatch, 0, None))
        );
    }
}

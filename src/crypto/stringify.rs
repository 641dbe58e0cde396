//! ECMAScript `JSON.stringify` of a parsed JSON value, byte for byte: the
//! serialization the Claw protocol hashes for receipts, proof bundles and
//! event headers (docs/bundles.md, "The two hash rules").
//!
//! It differs from RFC 8785 (JCS, [`crate::policy::hash`]) in key order only:
//! keys stay in document order (serde_json's `preserve_order`), except that
//! JavaScript enumerates array-index keys (`"0"`, `"17"`) first, in numeric
//! order. Numbers are printed as ECMAScript `Number::prototype.toString`
//! (`ryu-js`): `1.0` is `1`, `1e21` is `1e+21`, `-0` is `0`; integers are
//! first rounded to the nearest double, as a JavaScript parser does. Strings
//! are escaped as serde_json escapes them, which is what `JSON.stringify`
//! does (short escapes for `\b \f \n \r \t`, `\u00xx` in lowercase for other
//! controls, nothing else). Lone surrogates cannot occur: serde_json refuses
//! them when parsing.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// `JSON.stringify(value)` as UTF-8 bytes.
pub fn stringify(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    Writer::new(&mut out, &[]).write(value);
    out
}

/// `base64url_nopad(SHA-256(JSON.stringify(value)))`.
pub fn stringify_hash_b64u(value: &Value) -> String {
    hash_b64u(&stringify(value))
}

/// [`stringify_hash_b64u`] of `value` and of each of `parts`, values inside
/// `value` found by address (e.g. the payloads of the receipts a bundle
/// embeds), from one serialization: `JSON.stringify` of a value is the same
/// bytes wherever the value sits, so each part's serialization is a range of
/// the whole one. A part that is not inside `value` gets `None`.
pub fn stringify_hashes_b64u(value: &Value, parts: &[&Value]) -> (String, Vec<Option<String>>) {
    let mut out = Vec::with_capacity(4096);
    let mut writer = Writer::new(&mut out, parts);
    writer.write(value);
    let spans = writer.spans;
    let hashes = spans
        .into_iter()
        .map(|span| span.and_then(|range| out.get(range)).map(hash_b64u))
        .collect();
    (hash_b64u(&out), hashes)
}

fn hash_b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// The header fields an event hash covers, in the order they are hashed.
pub const EVENT_HEADER: [&str; 6] = [
    "event_id",
    "run_id",
    "event_type",
    "timestamp",
    "payload_hash_b64u",
    "prev_hash_b64u",
];

/// `event_hash_b64u` of an event: the hash of `JSON.stringify` of its header
/// fields in [`EVENT_HEADER`] order. A missing field is skipped, as
/// `JSON.stringify` skips `undefined`.
pub fn event_hash_b64u(event: &Map<String, Value>) -> String {
    // Written straight from the event rather than from a copy of the header
    // object: none of the header keys is an array index, so the object's key
    // order is EVENT_HEADER's.
    let mut out = Vec::with_capacity(512);
    let mut writer = Writer::new(&mut out, &[]);
    writer.out.push(b'{');
    let present = EVENT_HEADER
        .iter()
        .filter_map(|key| event.get(*key).map(|value| (*key, value)));
    for (i, (key, value)) in present.enumerate() {
        if i > 0 {
            writer.out.push(b',');
        }
        writer.string(key);
        writer.out.push(b':');
        writer.write(value);
    }
    writer.out.push(b'}');
    hash_b64u(&out)
}

/// Writes compact `JSON.stringify` output, noting where `parts` start and end.
struct Writer<'o> {
    out: &'o mut Vec<u8>,
    /// The parts' addresses with their indices, by address: each object
    /// written is looked up in logarithmic time, so that a document of many
    /// parts (an attacker's bundle of thousands of receipts) costs
    /// O(n log n), not O(n²).
    parts: Vec<(*const Value, usize)>,
    spans: Vec<Option<Range<usize>>>,
}

impl<'o> Writer<'o> {
    fn new(out: &'o mut Vec<u8>, parts: &[&Value]) -> Self {
        let mut by_address: Vec<(*const Value, usize)> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| (std::ptr::from_ref(*part), i))
            .collect();
        by_address.sort_unstable();
        Writer {
            out,
            parts: by_address,
            spans: vec![None; parts.len()],
        }
    }

    /// The index of the (first) part that is `value`, if one is.
    fn part(&self, value: &Value) -> Option<usize> {
        let address = std::ptr::from_ref(value);
        let at = self.parts.partition_point(|(part, _)| *part < address);
        self.parts
            .get(at)
            .filter(|(part, _)| *part == address)
            .map(|(_, index)| *index)
    }

    fn write(&mut self, value: &Value) {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(true) => self.out.extend_from_slice(b"true"),
            Value::Bool(false) => self.out.extend_from_slice(b"false"),
            Value::Number(number) => {
                // A JavaScript parser keeps every number as a double; without
                // serde_json's `arbitrary_precision`, `as_f64` is never None.
                let mut buffer = ryu_js::Buffer::new();
                let text = buffer.format(number.as_f64().unwrap_or(f64::NAN));
                self.out.extend_from_slice(text.as_bytes());
            }
            Value::String(text) => self.string(text),
            Value::Array(items) => {
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.write(item);
                }
                self.out.push(b']');
            }
            Value::Object(map) => {
                let part = self.part(value);
                let start = self.out.len();
                self.out.push(b'{');
                if map.keys().any(|key| array_index(key).is_some()) {
                    for (i, (key, value)) in ordered(map).into_iter().enumerate() {
                        self.entry(i, key, value);
                    }
                } else {
                    for (i, (key, value)) in map.iter().enumerate() {
                        self.entry(i, key, value);
                    }
                }
                self.out.push(b'}');
                if let Some(slot) = part.and_then(|i| self.spans.get_mut(i)) {
                    *slot = Some(start..self.out.len());
                }
            }
        }
    }

    fn entry(&mut self, i: usize, key: &str, value: &Value) {
        if i > 0 {
            self.out.push(b',');
        }
        self.string(key);
        self.out.push(b':');
        self.write(value);
    }

    /// A JSON string escaped as `JSON.stringify` escapes it, which is what
    /// serde_json does.
    fn string(&mut self, text: &str) {
        // Both escape only `"`, `\` and controls; most strings have none and
        // are copied as they are (the scan has no early exit so that it
        // vectorizes).
        let plain = !text.bytes().fold(false, |escape, b| {
            escape | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if plain {
            self.out.reserve(text.len() + 2);
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
            return;
        }
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, text);
    }
}

/// Keys in ECMAScript `OrdinaryOwnPropertyKeys` order: array indices
/// ascending, then the rest in insertion order.
fn ordered(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    // Stable sort: non-index keys keep their relative order.
    entries.sort_by_key(|(key, _)| array_index(key).map_or((1, 0), |index| (0, index)));
    entries
}

/// The value of a canonical array index (`0` … `2^32 − 2`, no leading zero).
fn array_index(key: &str) -> Option<u32> {
    // Most keys are names: one byte tells.
    if !key.as_bytes().first().is_some_and(u8::is_ascii_digit)
        || (key.len() > 1 && key.starts_with('0'))
    {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|index| *index != u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es(text: &str) -> String {
        let value: Value = serde_json::from_str(text).unwrap();
        String::from_utf8(stringify(&value)).unwrap()
    }

    #[test]
    fn keys_stay_in_document_order() {
        assert_eq!(
            es(r#"{ "b": 1, "a": [true, null] }"#),
            r#"{"b":1,"a":[true,null]}"#
        );
    }

    #[test]
    fn array_index_keys_come_first_in_numeric_order() {
        assert_eq!(
            es(r#"{"b":1,"17":2,"a":3,"2":4,"01":5,"4294967295":6,"4294967294":7}"#),
            r#"{"2":4,"17":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6}"#
        );
    }

    #[test]
    fn numbers_print_as_ecmascript() {
        for (input, output) in [
            ("1.0", "1"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("1.5e-7", "1.5e-7"),
            ("0.000001", "0.000001"),
            ("123456789012345678901234", "1.2345678901234569e+23"),
            ("9007199254740993", "9007199254740992"),
            ("18446744073709551615", "18446744073709552000"),
            ("-12.50", "-12.5"),
            ("5e-324", "5e-324"),
            ("0.1", "0.1"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ] {
            assert_eq!(es(input), output, "{input}");
        }
    }

    #[test]
    fn strings_escape_as_json_stringify() {
        assert_eq!(
            es(r#""a\"b\\c\/d\u0001\u001f\b\f\n\r\t\u007f é 😀 \u2028""#),
            "\"a\\\"b\\\\c/d\\u0001\\u001f\\b\\f\\n\\r\\t\u{7f} é 😀 \u{2028}\""
        );
    }

    #[test]
    fn event_hash_matches_the_reference_worked_example() {
        // The protocol's worked example, from proof_bundle_pass.v1.json.
        let event: Value = serde_json::from_str(
            r#"{"event_id":"evt_conformance_001","run_id":"run_conformance_001",
                "event_type":"llm_call","timestamp":"2026-02-12T00:00:00.000Z",
                "payload_hash_b64u":"ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8",
                "prev_hash_b64u":null,"event_hash_b64u":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(
            event_hash_b64u(event.as_object().unwrap()),
            "mo72_ab1UHvxY2DERZG2Tn12KNl2e_NSUrVDEQ5-Jds"
        );
    }

    #[test]
    fn header_order_is_fixed_whatever_the_document_order() {
        let a: Value = serde_json::from_str(
            r#"{"prev_hash_b64u":null,"run_id":"r","event_id":"e","event_type":"t","timestamp":"x","payload_hash_b64u":"p"}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"event_id":"e","run_id":"r","event_type":"t","timestamp":"x","payload_hash_b64u":"p","prev_hash_b64u":null}"#,
        )
        .unwrap();
        assert_eq!(
            event_hash_b64u(a.as_object().unwrap()),
            event_hash_b64u(b.as_object().unwrap())
        );
    }

    #[test]
    fn parts_hash_as_they_would_alone() {
        let value: Value = serde_json::from_str(
            r#"{"receipts":[{"payload":{"b":1.0,"7":[{"x":"\n"}],"a":null}},{"payload":{}},{"payload":"s"}],"z":{"q":-0}}"#,
        )
        .unwrap();
        let receipts = value["receipts"].as_array().unwrap();
        let outside = serde_json::json!({"b": 1});
        let parts: Vec<&Value> = receipts
            .iter()
            .map(|r| &r["payload"])
            .chain([&value["z"], &outside])
            .collect();
        let (whole, hashes) = stringify_hashes_b64u(&value, &parts);
        assert_eq!(whole, stringify_hash_b64u(&value));
        let expected: Vec<Option<String>> = parts
            .iter()
            .map(|part| part.is_object().then(|| stringify_hash_b64u(part)))
            .collect();
        // The object inside `value` hashes alone; the string part and the
        // object outside `value` get none.
        assert_eq!(hashes[..4], expected[..4]);
        assert_eq!(hashes[2], None);
        assert_eq!(hashes[4], None);
    }

    #[test]
    fn sorted_keys_give_the_jcs_bytes() {
        // A producer that emits sorted keys gets the same hash under both rules.
        let value: Value = serde_json::from_str(r#"{"a":1.0,"b":{"c":"é","d":[1e21]}}"#).unwrap();
        assert_eq!(
            stringify(&value),
            crate::policy::hash::canonical_json(&value).unwrap()
        );
    }
}

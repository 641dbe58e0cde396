//! Wycheproof Ed25519 vectors through the signature check envelopes use.

// Test helpers outside #[test] functions unwrap too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;
use wpc::crypto::verify::verify_signature;

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_vector_gets_its_expected_verdict() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/wycheproof/ed25519_test.json");
    let file: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for group in file["testGroups"].as_array().unwrap() {
        let public_key = hex(group["publicKey"]["pk"].as_str().unwrap());
        for test in group["tests"].as_array().unwrap() {
            let id = &test["tcId"];
            let message = hex(test["msg"].as_str().unwrap());
            let signature = hex(test["sig"].as_str().unwrap());
            let verdict = verify_signature(&public_key, &message, &signature);
            // The file has no "acceptable" results. Should a new version add
            // some, this fails until someone decides (docs/signing.md).
            let ok = match test["result"].as_str().unwrap() {
                "valid" => verdict.is_ok(),
                "invalid" => verdict.is_err(),
                other => panic!("tcId {id}: result {other:?} needs a decision"),
            };
            if !ok {
                failures.push(format!("tcId {id} ({}): {verdict:?}", test["comment"]));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(checked, file["numberOfTests"].as_u64().unwrap());
    assert!(checked >= 150);
}

#![allow(clippy::unwrap_used)]
//! The Claw protocol conformance vectors (tests/vectors/clawsig/conformance):
//! every vector in the manifest gives its expected verdict and one of its
//! accepted reason codes.

use std::path::Path;

use serde_json::Value;
use wpc::bundle::{Options, verify_bundle};
use wpc::crypto::did::DidKey;
use wpc::crypto::verify::Trust;

const DIR: &str = "tests/vectors/clawsig/conformance";

fn options() -> Options {
    let allow: Value =
        serde_json::from_slice(&std::fs::read(Path::new(DIR).join("allowlists.v1.json")).unwrap())
            .unwrap();
    let signers: Vec<DidKey> = allow["gateway_receipt_signer_dids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| DidKey::parse(d.as_str().unwrap()).unwrap())
        .collect();
    Options {
        gateway_trust: Trust::only(&signers),
        gateway_signers_checked: true,
        ..Options::any_gateway()
    }
}

#[test]
fn every_manifest_vector_gives_its_verdict_and_an_accepted_code() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(Path::new(DIR).join("manifest.json")).unwrap())
            .unwrap();
    let vectors = manifest["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 16);
    let options = options();
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let bytes = std::fs::read(Path::new(DIR).join(vector["file"].as_str().unwrap())).unwrap();
        let report = verify_bundle(&bytes, &options);
        let expected = &vector["expected"];
        assert_eq!(
            report.valid,
            expected["valid"].as_bool().unwrap(),
            "{name}: {:?}",
            report.failures
        );
        let accepted: Vec<&str> = match &expected["reason_code"] {
            Value::String(code) => vec![code.as_str()],
            Value::Array(codes) => codes.iter().map(|c| c.as_str().unwrap()).collect(),
            other => panic!("{name}: reason_code {other}"),
        };
        if report.valid {
            assert_eq!(accepted, ["OK"], "{name}");
        } else {
            let codes: Vec<&str> = report.codes().iter().map(|c| c.as_str()).collect();
            assert!(
                codes.iter().any(|c| accepted.contains(c)),
                "{name}: got {codes:?}, accepted {accepted:?}"
            );
            assert!(
                report
                    .failures
                    .iter()
                    .all(|f| f.pointer.is_empty() || f.pointer.starts_with('/'))
            );
        }
    }
}

#[test]
fn the_pass_vector_needs_its_gateway_signer_when_signers_are_given() {
    let bytes = std::fs::read(Path::new(DIR).join("proof_bundle_pass.v1.json")).unwrap();
    let other = DidKey::parse("did:key:z6MkneMkZqwqRiU5mJzSG3kDwzt9P8C59N4NGTfBLfSGE7c7").unwrap();
    let options = Options {
        gateway_trust: Trust::only([&other]),
        gateway_signers_checked: true,
        ..Options::any_gateway()
    };
    let report = verify_bundle(&bytes, &options);
    assert!(!report.valid);
    assert_eq!(
        report.failures[0].code.as_str(),
        "RECEIPT_VERIFICATION_FAILED"
    );
    assert_eq!(report.failures[0].pointer, "/payload/receipts/0/signer_did");
}

#[test]
fn a_bare_payload_is_malformed() {
    let bytes = std::fs::read(Path::new(DIR).join("proof_bundle_pass.v1.json")).unwrap();
    let envelope: Value = serde_json::from_slice(&bytes).unwrap();
    let bare = serde_json::to_vec(&envelope["payload"]).unwrap();
    let report = verify_bundle(&bare, &options());
    assert!(!report.valid);
    assert_eq!(report.codes()[0].as_str(), "MALFORMED_ENVELOPE");
}

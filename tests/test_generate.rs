//! End-to-end tests of `wpc test generate --from-bundles`: recorded runs
//! become test cases, and forged records add nothing.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use wpc::bundle::kit::{self, Shape};

use crate::support;

use support::{root, run, stdout};

#[test]
fn test_generate_adds_cases_for_verified_recorded_tools_only() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir_all(repo.join("policies")).unwrap();
    std::fs::create_dir_all(repo.join("proofs")).unwrap();
    std::fs::write(
        repo.join("wpc.toml"),
        format!(
            "[bundles]\ngateway_signers = [\"{}\"]\n",
            kit::gateway_key().did().as_str()
        ),
    )
    .unwrap();
    let policy = std::fs::read_to_string(root().join("tests/fixtures/shop.toml")).unwrap();
    std::fs::write(repo.join("policies/shop.toml"), policy).unwrap();
    let tests = "[[case]]\nname = \"reads\"\ntool = \"read\"\nexpect = \"allow\"\n";
    std::fs::write(repo.join("policies/shop.test.toml"), tests).unwrap();
    let hash = stdout(&run(repo, &["hash", "policies/shop.toml"]))
        .trim()
        .to_owned();
    let shape = |seq, tools: &[&str], policy_hash: &str| Shape {
        seq,
        tools: tools.iter().map(|t| (*t).to_owned()).collect(),
        policy_hash: Some(policy_hash.to_owned()),
        ..Shape::default()
    };
    let genuine = kit::bundle_bytes(&shape(1, &["read", "orders.list", "exec"], &hash)).unwrap();
    std::fs::write(repo.join("proofs/1.json"), genuine).unwrap();
    // A run of another policy does not belong in this one's tests.
    let other = kit::bundle_bytes(&shape(2, &["other.tool"], &"B".repeat(43))).unwrap();
    std::fs::write(repo.join("proofs/2.json"), other).unwrap();
    // A forged record: a tool renamed after signing.
    let mut forged: Value =
        serde_json::from_slice(&kit::bundle_bytes(&shape(3, &["read"], &hash)).unwrap()).unwrap();
    forged["payload"]["tool_receipts"][0]["tool_name"] = Value::from("orders.refund");
    std::fs::write(
        repo.join("proofs/3.json"),
        serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();

    let args = [
        "test",
        "generate",
        "--from-bundles",
        "proofs/*.json",
        "policies/shop.toml",
    ];
    let out = run(repo, &args);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert_eq!(
        stdout(&out),
        "policies/shop.test.toml: 2 case(s) added from 2 verified bundle(s); 1 bundle(s) rejected\n"
    );
    let written = std::fs::read_to_string(repo.join("policies/shop.test.toml")).unwrap();
    assert!(written.starts_with(tests), "{written}");
    let cases: toml::Value = toml::from_str(&written).unwrap();
    let cases: Vec<(&str, &str)> = cases["case"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["tool"].as_str().unwrap(), c["expect"].as_str().unwrap()))
        .collect();
    assert_eq!(
        cases,
        [
            ("read", "allow"),
            ("orders.list", "allow"),
            ("exec", "deny")
        ]
    );
    let test = run(repo, &["test"]);
    assert_eq!(test.status.code(), Some(0), "{}", stdout(&test));

    // Nothing new the second time; the file is left alone.
    let again = run(repo, &args);
    assert!(stdout(&again).contains(": 0 case(s) added"));
    assert_eq!(
        std::fs::read_to_string(repo.join("policies/shop.test.toml")).unwrap(),
        written
    );

    // A test file that does not parse is an error, and stays as it was.
    std::fs::write(repo.join("policies/shop.test.toml"), "[[case]\n").unwrap();
    let broken = run(repo, &args);
    assert_eq!(broken.status.code(), Some(2));
    assert!(support::stderr(&broken).contains("shop.test.toml"));
    assert_eq!(
        std::fs::read_to_string(repo.join("policies/shop.test.toml")).unwrap(),
        "[[case]\n"
    );
}

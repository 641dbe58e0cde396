//! Any JSON payload, signed by the test kit's agent key, then verified with
//! and without a policy: past the bundle signature, so the event chain,
//! receipts (gateway, tool v1/v2 with co-signatures and disclosures,
//! side-effect, approval), binding and policy checks all see hostile input.
//! Must never panic. Seed the corpus with the payloads of
//! `examples/repo/proofs/**/*.json` (docs/bundles.md, "Fuzzing").
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use wpc::bundle::policy::PolicyCheck;
use wpc::bundle::{Options, kit, verify_bundle};
use wpc::policy::Policy;

static PROTOCOL: LazyLock<Options> = LazyLock::new(Options::any_gateway);

static UNDER_POLICY: LazyLock<Options> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/repo/policies/deployer.toml");
    let policy = Policy::load(&path).unwrap_or_else(|_| panic!("{} loads", path.display()));
    Options {
        policy: Some(PolicyCheck::new(policy.wpc, policy.hash).unwrap_or_else(|e| panic!("{e}"))),
        ..Options::any_gateway()
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(bundle) = kit::resign(&json!({ "payload": payload })) else {
        return;
    };
    let Ok(bytes) = serde_json::to_vec(&bundle) else {
        return;
    };
    for options in [&*PROTOCOL, &*UNDER_POLICY] {
        let report = verify_bundle(&bytes, options);
        // A verdict is consistent with its failures.
        assert_eq!(report.valid, report.failures.is_empty());
    }
});

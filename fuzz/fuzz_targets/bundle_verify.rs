//! Bundle parsing and verification on arbitrary bytes: must never panic.
//! Seed the corpus with `tests/vectors/clawsig/conformance/*.json`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wpc::bundle::{Options, verify_bundle};

static OPTIONS: LazyLock<Options> = LazyLock::new(Options::any_gateway);

fuzz_target!(|data: &[u8]| {
    let report = verify_bundle(data, &OPTIONS);
    // A verdict is consistent with its failures.
    assert_eq!(report.valid, report.failures.is_empty());
});

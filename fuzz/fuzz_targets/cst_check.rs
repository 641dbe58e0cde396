//! Scoped token decoding and checking on arbitrary text: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpc::cst::{Issuers, check};

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let issuers = Issuers::jwks(
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
        )
        .unwrap_or_default();
        let report = check(token, &issuers, 1_770_855_000, None);
        assert_eq!(report.valid, report.failures.is_empty());
    }
});

//! The stable identity of a finding, shared by SARIF's `partialFingerprints`
//! and the baseline file, so both recognise a finding after its file's lines
//! have moved.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{Finding, portable_path};

/// The `partialFingerprints` key: code scanning matches a result to the
/// alert it already has by this, not by line number.
pub const KEY: &str = "wpcFinding/v1";

/// The fingerprint of each finding, in order. Identical findings in one file
/// (same code, flagged text and message) are told apart by their order, so
/// each keeps its own alert; pass findings in the order of
/// [`super::Report`] so every output numbers them alike.
pub fn fingerprints<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .into_iter()
        .map(|finding| {
            let identity = identity(finding);
            let occurrence = seen.entry(identity.clone()).or_insert(0);
            *occurrence += 1;
            let digest = Sha256::digest(format!("{identity}\0{occurrence}").as_bytes());
            URL_SAFE_NO_PAD.encode(digest)
        })
        .collect()
}

/// What a finding is, independent of where its file's lines have moved:
/// the code, the file, the flagged text (trimmed) and the message.
fn identity(finding: &Finding) -> String {
    let file = finding.file().map(portable_path).unwrap_or_default();
    let flagged = finding
        .location
        .as_ref()
        .and_then(|loc| loc.source.text().get(loc.range.clone()))
        .unwrap_or_default()
        .trim();
    format!("{}\0{file}\0{flagged}\0{}", finding.code, finding.message)
}

//! Keys, `did:key` identities and Claw protocol signed envelopes (docs/signing.md).
//!
//! The flow is: [`keys::SigningKey`] signs a payload into an
//! [`envelope::SignedEnvelope`]; [`verify::verify_envelope`] turns untrusted
//! bytes back into a [`verify::Verified`] value, which nothing else can
//! construct. [`trusted::TrustedSigners`] reads the repository's list of
//! signers that a [`verify::Trust`] is built from. See `docs/signing.md`.

pub mod artifact;
pub mod did;
pub mod envelope;
pub mod keys;
pub(crate) mod strict;
pub mod stringify;
pub mod trusted;
pub mod verify;

/// Error messages quote at most this many characters of an input, so a stray
/// megabyte pasted into an envelope field does not end up in a report.
const QUOTE_LIMIT: usize = 80;

/// `input`, shortened with an ellipsis when longer than [`QUOTE_LIMIT`].
pub(crate) fn quote(input: &str) -> String {
    clip(input, QUOTE_LIMIT)
}

/// `input`, shortened with an ellipsis when longer than `limit` characters.
pub(crate) fn clip(input: &str, limit: usize) -> String {
    match input.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", input.get(..end).unwrap_or_default()),
        None => input.to_owned(),
    }
}

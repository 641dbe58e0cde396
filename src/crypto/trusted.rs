//! `keys/trusted-signers.toml`: the public identities a repository trusts.
//!
//! ```toml
//! [[release_signer]]
//! did = "did:key:z6Mk..."
//! name = "release CI"
//!
//! [[gateway_signer]]
//! did = "did:key:z6Mk..."
//! name = "clawproxy"      # optional
//! ```
//!
//! Every DID must be a valid Ed25519 `did:key`, and a DID may appear once per
//! list. The same DID in both lists is allowed: the lists grant different
//! things.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::crypto::did::{DidError, DidKey};

/// One trusted identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    /// The signer's identity.
    pub did: DidKey,
    /// A human name (always present for release signers).
    pub name: Option<String>,
}

/// The parsed and validated `trusted-signers.toml`.
#[derive(Debug, Clone, Default)]
pub struct TrustedSigners {
    release: Vec<TrustedSigner>,
    gateway: Vec<TrustedSigner>,
}

/// Why the trusted-signers file is unusable. Messages start with
/// `file:line:col` where a position is known.
#[derive(Debug, thiserror::Error)]
pub enum TrustedSignersError {
    /// The file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// TOML syntax, an unknown key, a missing `did` or `name`, a wrong type.
    #[error("{}: {message}", location(path, *position))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line and column, when the parser reports a span.
        position: Option<(usize, usize)>,
        /// The parser's message.
        message: String,
    },
    /// A `did` that is not an Ed25519 `did:key`.
    #[error("{}: {error}", location(path, Some(*position)))]
    InvalidDid {
        /// The file.
        path: PathBuf,
        /// 1-based line and column of the value.
        position: (usize, usize),
        /// What is wrong with it.
        error: DidError,
    },
    /// A DID listed twice in the same list.
    #[error(
        "{}: {did} is listed twice in [[{table}]] (first at line {})",
        location(path, Some(*position)),
        first.0
    )]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// Where the second entry is.
        position: (usize, usize),
        /// Where the first one is.
        first: (usize, usize),
        /// `release_signer` or `gateway_signer`.
        table: &'static str,
        /// The DID.
        did: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    release_signer: Vec<ReleaseEntry>,
    #[serde(default)]
    gateway_signer: Vec<GatewayEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseEntry {
    did: Spanned<String>,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayEntry {
    did: Spanned<String>,
    name: Option<String>,
}

impl TrustedSigners {
    /// Reads and validates a trusted-signers file.
    pub fn load(path: &Path) -> Result<Self, TrustedSignersError> {
        let text = fs::read_to_string(path).map_err(|error| TrustedSignersError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::parse(&text, path)
    }

    /// Signers trusted to sign policy releases.
    pub fn release_signers(&self) -> &[TrustedSigner] {
        &self.release
    }

    /// Gateways trusted to sign model-call receipts.
    pub fn gateway_signers(&self) -> &[TrustedSigner] {
        &self.gateway
    }

    fn parse(text: &str, path: &Path) -> Result<Self, TrustedSignersError> {
        let file: File = toml::from_str(text).map_err(|err| TrustedSignersError::Parse {
            path: path.to_owned(),
            position: err.span().map(|span| line_col(text, span.start)),
            message: err.message().trim_end().to_owned(),
        })?;
        let release = file
            .release_signer
            .into_iter()
            .map(|entry| (entry.did, Some(entry.name)));
        let gateway = file
            .gateway_signer
            .into_iter()
            .map(|entry| (entry.did, entry.name));
        Ok(Self {
            release: validate(release, "release_signer", text, path)?,
            gateway: validate(gateway, "gateway_signer", text, path)?,
        })
    }
}

fn validate(
    entries: impl Iterator<Item = (Spanned<String>, Option<String>)>,
    table: &'static str,
    text: &str,
    path: &Path,
) -> Result<Vec<TrustedSigner>, TrustedSignersError> {
    let mut seen: HashMap<DidKey, (usize, usize)> = HashMap::new();
    let mut signers = Vec::new();
    for (did, name) in entries {
        let position = line_col(text, did.span().start);
        let parsed =
            DidKey::parse(did.get_ref()).map_err(|error| TrustedSignersError::InvalidDid {
                path: path.to_owned(),
                position,
                error,
            })?;
        if let Some(first) = seen.insert(parsed.clone(), position) {
            return Err(TrustedSignersError::Duplicate {
                path: path.to_owned(),
                position,
                first,
                table,
                did: parsed.to_string(),
            });
        }
        signers.push(TrustedSigner { did: parsed, name });
    }
    Ok(signers)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn location(path: &Path, position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!("{}:{line}:{column}", path.display()),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    const B: &str = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG";

    fn parse(text: &str) -> Result<TrustedSigners, TrustedSignersError> {
        TrustedSigners::parse(text, Path::new("keys/trusted-signers.toml"))
    }

    #[test]
    fn reads_both_lists() {
        let signers = parse(&format!(
            "[[release_signer]]\ndid = \"{A}\"\nname = \"ci\"\n\n\
             [[gateway_signer]]\ndid = \"{B}\"\n\n\
             [[gateway_signer]]\ndid = \"{A}\"\nname = \"proxy\"\n"
        ))
        .unwrap();
        assert_eq!(signers.release_signers().len(), 1);
        assert_eq!(signers.release_signers()[0].name.as_deref(), Some("ci"));
        assert_eq!(signers.gateway_signers()[0].did.as_str(), B);
        assert_eq!(signers.gateway_signers()[0].name, None);
        assert_eq!(signers.gateway_signers()[1].did.as_str(), A);
    }

    #[test]
    fn empty_file_trusts_nobody() {
        let signers = parse("").unwrap();
        assert!(signers.release_signers().is_empty());
        assert!(signers.gateway_signers().is_empty());
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases = [
            (
                format!("[[release_signer]]\ndid = \"{A}\"\nname = \"ci\"\nkey = \"x\"\n"),
                "keys/trusted-signers.toml:4:1",
                "unknown field `key`",
            ),
            (
                format!("[[release_signer]]\ndid = \"{A}\"\n"),
                "keys/trusted-signers.toml:1:1",
                "missing field `name`",
            ),
            (
                "[[release_signer]]\nname = \"ci\"\ndid = \"did:key:z6Mk0\"\n".to_owned(),
                "keys/trusted-signers.toml:3:7",
                "not valid base58btc",
            ),
            (
                format!("[[gateway_signer]]\ndid = \"{A}\"\n[[gateway_signer]]\n  did = \"{A}\"\n"),
                "keys/trusted-signers.toml:4:9",
                "listed twice in [[gateway_signer]] (first at line 2)",
            ),
            (
                "[[signer]]\ndid = 1\n".to_owned(),
                "keys/trusted-signers.toml:1:",
                "unknown field `signer`",
            ),
            (
                "[[release_signer]\n".to_owned(),
                "keys/trusted-signers.toml:1:",
                "",
            ),
        ];
        for (text, place, what) in cases {
            let message = parse(&text).unwrap_err().to_string();
            assert!(message.starts_with(place), "{message}");
            assert!(message.contains(what), "{message}");
        }
    }

    #[test]
    fn missing_file_is_named() {
        let message = TrustedSigners::load(Path::new("/nonexistent/trusted-signers.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("/nonexistent/trusted-signers.toml"),
            "{message}"
        );
    }
}

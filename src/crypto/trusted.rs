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
//!
//! [[approver]]
//! did = "did:key:z6Mk..."
//! name = "ada"            # optional
//! teams = ["acme/security"]
//! ```
//!
//! The shape is `schema/trusted-signers.v1.schema.json`. Every DID must be a
//! valid Ed25519 `did:key`, and a DID may appear once per list. The same DID
//! in several lists is allowed: the lists grant different things. An
//! approver's signed `human_approval_receipt` satisfies the approval gates
//! that name its `name` or one of its `teams` (docs/bundles.md).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::crypto::did::DidKey;
use crate::policy::schema::{self, Schema};
use crate::policy::{Document, read_source};
use crate::report::{Finding, Severity};

/// The code of findings about the contents of a trusted-signers file (bad or
/// repeated DIDs); shape problems are schema findings (WPC002).
pub const INVALID_SIGNER: &str = "WPC019";

/// Where the file lives in a policy repository.
pub const DEFAULT_PATH: &str = "keys/trusted-signers.toml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    pub did: DidKey,
    pub name: Option<String>,
}

/// A key trusted to sign human approvals, and whom it speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedApprover {
    pub did: DidKey,
    pub name: Option<String>,
    /// The teams (as approval gates name them, e.g. `acme/security`).
    pub teams: Vec<String>,
}

impl TrustedApprover {
    /// Whether this approver may approve for a gate naming `approvers`: a
    /// gate that names nobody takes any trusted approver.
    pub fn serves(&self, approvers: &[String]) -> bool {
        approvers.is_empty()
            || approvers
                .iter()
                .any(|a| self.teams.contains(a) || self.name.as_ref() == Some(a))
    }
}

#[derive(Debug, Clone, Default)]
pub struct TrustedSigners {
    release: Vec<TrustedSigner>,
    gateway: Vec<TrustedSigner>,
    approvers: Vec<TrustedApprover>,
}

/// Why a trusted-signers file cannot be used: located findings.
#[derive(Debug, thiserror::Error)]
pub struct TrustedSignersError {
    pub findings: Vec<Finding>,
}

impl fmt::Display for TrustedSignersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self
            .findings
            .iter()
            .map(|x| format!("{}: {}", x.position(), x.message))
            .collect();
        f.write_str(&lines.join("\n"))
    }
}

impl TrustedSigners {
    /// Read and check the file at `path`.
    pub fn load(path: &Path) -> Result<Self, TrustedSignersError> {
        let fail = |findings| TrustedSignersError { findings };
        let source = read_source(path).map_err(|f| fail(vec![f]))?;
        let doc = Document::parse(source).map_err(fail)?;
        Self::from_document(&doc).map_err(fail)
    }

    /// Check a parsed file: its schema, then every DID.
    pub fn from_document(doc: &Document) -> Result<Self, Vec<Finding>> {
        let findings = schema::check(Schema::TrustedSigners, doc);
        if !findings.is_empty() {
            return Err(findings);
        }
        let mut findings = Vec::new();
        let approvers = entries(doc, "approver", &mut findings)
            .into_iter()
            .map(|(signer, item)| TrustedApprover {
                did: signer.did,
                name: signer.name,
                teams: strings(item.get("teams")),
            })
            .collect();
        let signers = TrustedSigners {
            release: signers(entries(doc, "release_signer", &mut findings)),
            gateway: signers(entries(doc, "gateway_signer", &mut findings)),
            approvers,
        };
        if findings.is_empty() {
            Ok(signers)
        } else {
            Err(findings)
        }
    }

    pub fn release_signers(&self) -> &[TrustedSigner] {
        &self.release
    }

    pub fn gateway_signers(&self) -> &[TrustedSigner] {
        &self.gateway
    }

    pub fn approvers(&self) -> &[TrustedApprover] {
        &self.approvers
    }
}

fn signers(entries: Vec<(TrustedSigner, &Value)>) -> Vec<TrustedSigner> {
    entries.into_iter().map(|(signer, _)| signer).collect()
}

/// The strings of a schema-checked array (empty if absent).
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Every entry of `[[table]]` with a valid, first-seen DID, with its item.
fn entries<'d>(
    doc: &'d Document,
    table: &str,
    findings: &mut Vec<Finding>,
) -> Vec<(TrustedSigner, &'d Value)> {
    let items = doc
        .value
        .get(table)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut first_seen: HashMap<DidKey, usize> = HashMap::new();
    let mut signers = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let pointer = format!("/{table}/{i}/did");
        let text = item.get("did").and_then(Value::as_str).unwrap_or_default();
        let name = item.get("name").and_then(Value::as_str).map(str::to_owned);
        let did = match DidKey::parse(text) {
            Ok(did) => did,
            Err(err) => {
                findings.push(doc.finding_at(
                    &pointer,
                    INVALID_SIGNER,
                    Severity::Error,
                    err.to_string(),
                ));
                continue;
            }
        };
        if let Some(&first) = first_seen.get(&did) {
            let line = doc
                .source
                .locate(doc.value_span(&format!("/{table}/{first}/did")))
                .line;
            findings.push(
                doc.finding_at(
                    &pointer,
                    INVALID_SIGNER,
                    Severity::Error,
                    format!("{did} is listed twice in [[{table}]] (first at line {line})"),
                )
                .help("remove one of the entries"),
            );
            continue;
        }
        first_seen.insert(did.clone(), i);
        signers.push((TrustedSigner { did, name }, item));
    }
    signers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SourceFile;

    const A: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    const B: &str = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG";

    fn parse(text: &str) -> Result<TrustedSigners, Vec<Finding>> {
        let source = SourceFile::new(DEFAULT_PATH, text.to_owned());
        TrustedSigners::from_document(&Document::parse(source)?)
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
    fn reads_approvers_with_their_teams() {
        let signers = parse(&format!(
            "[[approver]]\ndid = \"{A}\"\nname = \"ada\"\nteams = [\"acme/security\"]\n\n\
             [[approver]]\ndid = \"{B}\"\nteams = []\n"
        ))
        .unwrap();
        let [ada, nobody] = signers.approvers() else {
            panic!("two approvers expected");
        };
        assert_eq!(ada.did.as_str(), A);
        assert!(ada.serves(&["acme/security".to_owned()]));
        assert!(ada.serves(&["ada".to_owned()]));
        assert!(ada.serves(&[]));
        assert!(!ada.serves(&["acme/platform".to_owned()]));
        assert!(!nobody.serves(&["acme/security".to_owned()]));
        assert!(nobody.serves(&[]));
        for broken in [
            format!("[[approver]]\ndid = \"{A}\"\n"),
            format!("[[approver]]\ndid = \"{A}\"\nteams = \"acme/security\"\n"),
            format!("[[approver]]\ndid = \"{A}\"\nteams = [\"\"]\n"),
            format!(
                "[[approver]]\ndid = \"{A}\"\nteams = []\n[[approver]]\ndid = \"{A}\"\nteams = []\n"
            ),
        ] {
            assert!(parse(&broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn empty_file_trusts_nobody() {
        let signers = parse("").unwrap();
        assert!(signers.release_signers().is_empty());
        assert!(signers.gateway_signers().is_empty());
        assert!(signers.approvers().is_empty());
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases = [
            (
                format!("[[release_signer]]\ndid = \"{A}\"\nname = \"ci\"\nkey = \"x\"\n"),
                "keys/trusted-signers.toml:4:1",
                "unknown key `key`",
            ),
            (
                format!("[[release_signer]]\ndid = \"{A}\"\n"),
                "keys/trusted-signers.toml:1:1",
                "missing required key `name`",
            ),
            (
                "[[release_signer]]\nname = \"ci\"\ndid = \"did:key:z6Mk0\"\n".to_owned(),
                "keys/trusted-signers.toml:3:7",
                "base58",
            ),
            (
                format!("[[gateway_signer]]\ndid = \"{A}\"\n[[gateway_signer]]\n  did = \"{A}\"\n"),
                "keys/trusted-signers.toml:4:9",
                "listed twice in [[gateway_signer]] (first at line 2)",
            ),
            (
                "[[signer]]\ndid = 1\n".to_owned(),
                "keys/trusted-signers.toml:1:3",
                "unknown key `signer`",
            ),
            (
                "[[release_signer]\n".to_owned(),
                "keys/trusted-signers.toml:1:",
                "",
            ),
        ];
        for (text, place, what) in cases {
            let findings = parse(&text).unwrap_err();
            let message = format!("{}: {}", findings[0].position(), findings[0].message);
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

//! Reading policy files from disk: bounded, UTF-8 checked, parsed, schema
//! checked and typed, with every problem a located finding.

use std::io::Read;
use std::path::Path;

use super::document::{Document, MAX_FILE_BYTES, SCHEMA, SYNTAX};
use super::hash::policy_hash_b64u;
use serde::Deserialize as _;

use super::model::Wpc;
use super::schema::{self, Schema};
use crate::report::{Finding, Severity, SourceFile};

/// A WPC that parsed, passed its schema and has a hash.
#[derive(Clone, Debug)]
pub struct Policy {
    pub doc: Document,
    pub wpc: Wpc,
    /// `policy_hash_b64u` of the payload.
    pub hash: String,
}

impl Policy {
    /// Check a parsed document against the WPC schema and type it.
    pub fn from_document(doc: Document) -> Result<Policy, Vec<Finding>> {
        let findings = schema::check(Schema::Policy, &doc);
        if !findings.is_empty() {
            return Err(findings);
        }
        let wpc = Wpc::deserialize(&doc.value).map_err(|err| {
            // The schema and the model are kept in step by tests; this is the
            // fail-closed path should they ever drift.
            vec![doc.finding_at(
                "",
                SCHEMA,
                Severity::Error,
                format!("internal model error: {err}"),
            )]
        })?;
        let hash = policy_hash_b64u(&doc.value)
            .map_err(|err| vec![doc.finding_at("", SCHEMA, Severity::Error, err.to_string())])?;
        Ok(Policy { doc, wpc, hash })
    }

    /// Read, parse and check the policy at `path`.
    pub fn load(path: &Path) -> Result<Policy, Vec<Finding>> {
        let source = read_source(path).map_err(|f| vec![f])?;
        Policy::from_document(Document::parse(source)?)
    }

    pub fn name(&self) -> &str {
        &self.wpc.policy_name
    }
}

/// Read a TOML file as text: at most [`MAX_FILE_BYTES`], valid UTF-8.
pub fn read_source(path: &Path) -> Result<SourceFile, Finding> {
    let unreadable = |why: String| {
        Finding::new(SYNTAX, Severity::Error, format!("cannot read file: {why}")).in_file(path)
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::new();
    // Read one byte past the limit so an oversized file is detected without
    // reading all of it.
    let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX) + 1;
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    decode_source(path, bytes)
}

/// Bytes read from anywhere (a file, a Git blob) as a TOML source: at most
/// [`MAX_FILE_BYTES`], valid UTF-8, named `path` in findings.
pub fn decode_source(path: &Path, bytes: Vec<u8>) -> Result<SourceFile, Finding> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Finding::new(
            SYNTAX,
            Severity::Error,
            format!("file is larger than {MAX_FILE_BYTES} bytes; wpc does not read it"),
        )
        .in_file(path));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
            // Offsets before the first bad byte are the same in the lossy text.
            let source = SourceFile::new(path, lossy);
            Err(
                Finding::new(SYNTAX, Severity::Error, "file is not valid UTF-8")
                    .at(&source, offset..offset + 1)
                    .help("TOML files must be UTF-8 encoded"),
            )
        }
    }
}

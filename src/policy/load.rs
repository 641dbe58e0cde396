//! Reading policy files from disk: bounded, UTF-8 checked, parsed, schema
//! checked and typed, with every problem a located finding.

use std::path::Path;

use crate::fsio::{self, Problem};

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

    /// Load every policy of `paths` (in parallel): those that load, in
    /// order, and the findings of those that do not.
    pub fn load_all(paths: &[std::path::PathBuf]) -> (Vec<Policy>, Vec<Finding>) {
        use rayon::prelude::*;
        let loaded: Vec<Result<Policy, Vec<Finding>>> =
            paths.par_iter().map(|path| Policy::load(path)).collect();
        let mut policies = Vec::with_capacity(loaded.len());
        let mut findings = Vec::new();
        for result in loaded {
            match result {
                Ok(policy) => policies.push(policy),
                Err(errors) => findings.extend(errors),
            }
        }
        (policies, findings)
    }

    pub fn name(&self) -> &str {
        &self.wpc.policy_name
    }
}

/// Read a TOML file as text: at most [`MAX_FILE_BYTES`], valid UTF-8.
pub fn read_source(path: &Path) -> Result<SourceFile, Finding> {
    let bytes = fsio::read(path, fsio::TOML).map_err(|err| unreadable(SYNTAX, err))?;
    decode_source(path, bytes)
}

/// A file that could not be read, as an error finding with `code` on it.
pub fn unreadable(code: &'static str, err: fsio::ReadError) -> Finding {
    let message = match err.problem {
        Problem::Io(why) => format!("cannot read file: {why}"),
        problem => problem.to_string(),
    };
    Finding::new(code, Severity::Error, message).in_file(err.path)
}

/// Bytes read from anywhere (a file, a Git blob) as a TOML source: at most
/// [`MAX_FILE_BYTES`], valid UTF-8, named `path` in findings.
pub fn decode_source(path: &Path, bytes: Vec<u8>) -> Result<SourceFile, Finding> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Finding::new(
            SYNTAX,
            Severity::Error,
            format!("file too large (limit {})", fsio::TOML),
        )
        .in_file(path));
    }
    decode_text(path, bytes, SYNTAX, "TOML")
}

/// Bytes as the text of a `format` file (`TOML`, `JSON5`), or a finding with
/// `code` at the first byte that is not UTF-8.
pub fn decode_text(
    path: &Path,
    bytes: Vec<u8>,
    code: &'static str,
    format: &str,
) -> Result<SourceFile, Finding> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
            // Offsets before the first bad byte are the same in the lossy text.
            let source = SourceFile::new(path, lossy);
            Err(
                Finding::new(code, Severity::Error, "file is not valid UTF-8")
                    .at(&source, offset..offset + 1)
                    .help(format!("{format} files must be UTF-8 encoded")),
            )
        }
    }
}

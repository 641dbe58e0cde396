//! Policies to start unit tests from, for every module that tests over a
//! parsed policy.

use super::{Document, Policy};
use crate::report::SourceFile;

/// A valid, quiet policy to start tests from.
pub const CLEAN: &str = r#"wpc_version = "1"
policy_name = "p"
purpose = "test"

[constraints.tool_policy]
allow = ["read", "repo.comment"]
deny = ["exec"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"

[constraints.model_calls]
route_via = "clawproxy"
receipts_required = true

[binding]
cst_scope_hash_required = true
"#;

pub fn policy(text: &str) -> Policy {
    let doc = Document::parse(SourceFile::new("policies/p.toml", text)).unwrap();
    Policy::from_document(doc).unwrap()
}

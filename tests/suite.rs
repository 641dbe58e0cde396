//! The end-to-end suite: one test binary (one link of the library and its
//! dependencies instead of one per file, which filled CI's disk and took most
//! of its build time). Each file under tests/ is a module of it.

mod support;

mod action;
mod architecture;
mod bundle_approvals;
mod bundle_conformance;
mod bundle_conformance_full;
mod bundle_conformance_service;
mod bundle_evidence;
mod bundle_verify;
mod ci_bundles;
mod claw;
mod cli;
mod cli_decide;
mod cli_sign;
mod config_findings;
mod crypto_envelope;
mod crypto_interop;
mod crypto_keys;
mod crypto_wycheproof;
mod cst_check;
mod diff;
mod docs;
mod example_proofs;
mod exit_codes;
mod file_inputs;
mod formats;
mod key_hygiene;
mod mcp;
mod openclaw;
mod package;
mod pr;
mod release;
mod replay;
mod secrets;
mod serve;
mod serve_docs;
mod suppress;
mod syntax_errors;
mod test_generate;
mod test_output;
mod verify_revocations;
mod versions;

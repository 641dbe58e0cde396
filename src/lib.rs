//! wpc: a Git-native policy-as-code toolchain for Work Policy Contracts (WPCs)
//! that govern tool-using AI agents.
//!
//! The binary in `src/main.rs` is a thin layer over this library; nothing in
//! the library prints.

pub mod audit;
pub mod bot;
pub mod bundle;
pub mod ci;
pub mod claw;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod cst;
pub mod decide;
pub mod diff;
pub mod envelopes;
mod error;
pub mod fsio;
pub mod git;
pub mod github;
pub mod lint;
pub mod openclaw;
pub mod policy;
pub mod release;
pub mod replay;
pub mod report;
pub mod resolve;
pub mod revision;
pub mod scaffold;
pub mod serve;

/// Where the documentation lives; rule pages are `{DOCS_URL}/rules/CODE.md`.
pub const DOCS_URL: &str = "https://github.com/wpc-dev/wpc/blob/main/docs";

//! wpc: a Git-native policy-as-code toolchain for Work Policy Contracts (WPCs)
//! that govern tool-using AI agents.
//!
//! The binary in `src/main.rs` is a thin layer over this library; nothing in
//! the library prints.

pub mod crypto;
pub mod policy;

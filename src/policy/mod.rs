//! The WPC document: loading TOML with source spans, the schema check, the
//! typed model, the canonical hash and the formatter.

pub mod document;
pub mod hash;

pub use document::Document;

//! The WPC document: loading TOML with source spans, the schema check, the
//! typed model, the canonical hash and the formatter.

pub mod document;
pub mod files;
pub mod fmt;
pub mod hash;
mod load;
pub mod mcp;
pub mod model;
pub mod pattern;
pub mod schema;
#[cfg(test)]
pub(crate) mod testing;

pub use document::Document;
pub use load::{Policy, decode_source, decode_text, read_source, unreadable};
pub use model::Wpc;

//! JSON5 → a value tree that remembers, for every value, the file and byte
//! range it came from, so a finding about a merged config still points into
//! the file (main or included) that set the value.

use std::ops::Range;
use std::path::Path;

use jsonc_parser::ast::{ObjectPropName, Value as Ast};
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};

use crate::report::{Finding, Severity, SourceFile};

use super::codes;

/// Deepest nesting of objects and arrays accepted. Real configs are under 10
/// levels; the parser's own bound (512) is far above what a config needs.
pub const MAX_DEPTH: usize = 64;

/// One value and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub src: SourceFile,
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// An object member: its key (with the key's own range) and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_range: Range<usize>,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
            _ => None,
        }
    }

    /// The value at a path of object keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The deepest node that exists along `path` (the root at worst): where a
    /// finding about a missing setting points.
    pub fn nearest(&self, path: &[&str]) -> &Node {
        let mut node = self;
        for key in path {
            match node.get(key) {
                Some(next) => node = next,
                None => break,
            }
        }
        node
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn members(&self) -> &[Member] {
        match &self.kind {
            Kind::Object(members) => members,
            _ => &[],
        }
    }

    /// `file:line:col` of the value.
    pub fn position(&self) -> String {
        let (line, col) = self.src.line_col(self.range.start);
        format!("{}:{line}:{col}", self.src.path().display())
    }

    /// The text of this value as written in its file.
    pub fn source_text(&self) -> &str {
        self.src.text().get(self.range.clone()).unwrap_or("")
    }

    pub fn finding(
        &self,
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Finding {
        Finding::new(code, severity, message).at(&self.src, self.range.clone())
    }
}

/// A config file's bytes as text: UTF-8, without the byte order mark that
/// editors on Windows write and OpenClaw skips (JSON5 counts U+FEFF as
/// white space). Positions count from after the mark, as editors show them.
pub fn decode(path: &Path, mut bytes: Vec<u8>) -> Result<SourceFile, Finding> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    crate::policy::decode_text(path, bytes, codes::SYNTAX, "JSON5")
}

/// Parse `src` as JSON5. Syntax errors are one finding; duplicate keys are
/// findings beside the tree (the last value wins, as in `JSON5.parse`).
pub fn parse(src: &SourceFile) -> Result<(Node, Vec<Finding>), Finding> {
    let text = src.text();
    if let Some(offset) = too_deep(text) {
        return Err(Finding::new(
            codes::SYNTAX,
            Severity::Error,
            format!("nesting deeper than {MAX_DEPTH} levels"),
        )
        .at(src, offset..offset + 1));
    }
    // Every option is set so a change of the crate's defaults cannot change
    // what we accept: exactly JSON5 (comments, unquoted keys, trailing commas,
    // single quotes, hex, +1, .5, Infinity/NaN, JSON5 escapes), and not the
    // missing commas that JSON5 itself rejects.
    let options = ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: true,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: true,
        allow_hexadecimal_numbers: true,
        allow_unary_plus_numbers: true,
        allow_bare_decimal_point_numbers: true,
        allow_non_finite_numbers: true,
        allow_extended_string_escapes: true,
    };
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    let parsed = jsonc_parser::parse_to_ast(text, &collect, &options).map_err(|err| {
        let range = err.range();
        Finding::new(
            codes::SYNTAX,
            Severity::Error,
            format!("invalid JSON5: {}", err.kind()),
        )
        .at(src, range.start..range.end.max(range.start + 1))
    })?;
    let Some(value) = parsed.value else {
        return Err(Finding::new(
            codes::SYNTAX,
            Severity::Error,
            "the file holds no JSON5 value",
        )
        .at(src, 0..0));
    };
    let mut duplicates = Vec::new();
    let node = convert(src, value, &mut duplicates);
    Ok((node, duplicates))
}

fn convert(src: &SourceFile, value: Ast<'_>, duplicates: &mut Vec<Finding>) -> Node {
    let node = |kind, range: jsonc_parser::common::Range| Node {
        kind,
        src: src.clone(),
        range: range.start..range.end,
    };
    match value {
        Ast::NullKeyword(v) => node(Kind::Null, v.range),
        Ast::BooleanLit(v) => node(Kind::Bool(v.value), v.range),
        Ast::StringLit(v) => node(Kind::String(v.value.into_owned()), v.range),
        // A number JSON5 accepts but Rust cannot read (hex beyond u64) is kept
        // as NaN: no rule reads numbers for a security decision.
        Ast::NumberLit(v) => node(Kind::Number(number(v.value)), v.range),
        Ast::Array(v) => {
            let items = v
                .elements
                .into_iter()
                .map(|e| convert(src, e, duplicates))
                .collect();
            node(Kind::Array(items), v.range)
        }
        Ast::Object(v) => {
            let mut members: Vec<Member> = Vec::with_capacity(v.properties.len());
            for prop in v.properties {
                let (key, key_range) = match prop.name {
                    ObjectPropName::String(s) => (s.value.into_owned(), s.range),
                    ObjectPropName::Word(w) => (w.value.to_owned(), w.range),
                };
                let member = Member {
                    key,
                    key_range: key_range.start..key_range.end,
                    value: convert(src, prop.value, duplicates),
                };
                if let Some(i) = members.iter().position(|m| m.key == member.key) {
                    let first = src.line_col(members[i].key_range.start);
                    duplicates.push(
                        Finding::new(
                            codes::DUPLICATE_KEY,
                            Severity::Error,
                            format!(
                                "duplicate key `{}` (first at line {}, column {}); the last one wins",
                                member.key, first.0, first.1
                            ),
                        )
                        .at(src, member.key_range.clone())
                        .help("a second key can hide a setting from reviewers; keep one"),
                    );
                    members.remove(i);
                }
                members.push(member);
            }
            node(Kind::Object(members), v.range)
        }
    }
}

fn number(text: &str) -> f64 {
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).map_or(f64::NAN, |n| n as f64)
    } else {
        match digits {
            "Infinity" => f64::INFINITY,
            "NaN" => f64::NAN,
            _ => digits.parse().unwrap_or(f64::NAN),
        }
    };
    sign * magnitude
}

/// Offset of the first bracket past [`MAX_DEPTH`], skipping strings and
/// comments, so no recursion ever sees a pathological input.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<(Node, Vec<Finding>), Finding> {
        parse(&SourceFile::new("c.json5", text))
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_positions_stay_right() {
        let bytes = b"\xEF\xBB\xBF{\n  gateway: { bind: 'lan' },\n}\n".to_vec();
        let src = decode(Path::new("c.json5"), bytes).unwrap();
        let (root, _) = parse(&src).unwrap();
        let bind = root.at(&["gateway", "bind"]).unwrap();
        assert_eq!(bind.as_str(), Some("lan"));
        assert_eq!(bind.position(), "c.json5:2:20");
        assert_eq!(bind.source_text(), "'lan'");
    }

    #[test]
    fn invalid_utf8_is_reported_as_json5() {
        let finding = decode(Path::new("c.json5"), b"{ a: '\xff' }".to_vec()).unwrap_err();
        assert_eq!(finding.code, codes::SYNTAX);
        assert_eq!(finding.position(), "c.json5:1:7");
        assert_eq!(
            finding.help.as_deref(),
            Some("JSON5 files must be UTF-8 encoded")
        );
    }

    #[test]
    fn reads_json5_with_ranges() {
        let (node, dups) = parse_text(
            "// c\n{gateway: {bind: 'lan', port: 0x10,}, list: [+1, .5, Infinity], \"q\": null}",
        )
        .unwrap();
        assert!(dups.is_empty());
        let bind = node.at(&["gateway", "bind"]).unwrap();
        assert_eq!(bind.as_str(), Some("lan"));
        assert_eq!(bind.source_text(), "'lan'");
        assert_eq!(bind.src.line_col(bind.range.start), (2, 18));
        assert_eq!(
            node.at(&["gateway", "port"]).unwrap().kind,
            Kind::Number(16.0)
        );
        assert_eq!(node.get("q").unwrap().kind, Kind::Null);
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_last_wins() {
        let (node, dups) = parse_text("{a: 1, b: {c: 1}, a: 2}").unwrap();
        assert_eq!(node.get("a").unwrap().kind, Kind::Number(2.0));
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].code, codes::DUPLICATE_KEY);
        assert_eq!(dups[0].location.as_ref().unwrap().column, 19);
    }

    #[test]
    fn missing_commas_are_not_json5() {
        assert!(parse_text("{a: 1 b: 2}").is_err());
    }

    #[test]
    fn hostile_inputs_are_findings_not_panics() {
        let deep = "[".repeat(100_000);
        assert!(parse_text(&deep).unwrap_err().message.contains("nesting"));
        let deep_in_string = format!("{{a: '{}'}}", "[".repeat(100_000));
        assert!(parse_text(&deep_in_string).is_ok());
        let huge = format!("{{a: \"{}\"}}", "x".repeat(4 << 20));
        assert!(parse_text(&huge).is_ok());
        for bad in [
            "",
            "{",
            "{a:}",
            "'\\u{zz}'",
            "0xFFFFFFFFFFFFFFFFFFFF",
            "{\"a\" 1}",
            "/*",
            "[1,,]",
        ] {
            let _ = parse_text(bad);
        }
        assert_eq!(
            parse_text("0xFFFFFFFFFFFFFFFFFFFF")
                .map(|(n, _)| matches!(n.kind, Kind::Number(x) if x.is_nan())),
            Ok(true)
        );
    }
}

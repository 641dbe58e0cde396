//! TOML → JSON payload, remembering the source span of every key and value.
//!
//! The payload is what gets hashed and schema-checked; the spans are how every
//! later finding (schema, lint, test) points back at `file:line:col`.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use serde_json::{Map, Number, Value};
use toml::de::{DeTable, DeValue};

use crate::report::{Finding, Location, Severity, SourceFile};

/// The code for documents that cannot be read as TOML at all.
pub const SYNTAX: &str = "WPC001";
/// The code for documents whose shape is wrong (schema errors, and values
/// TOML allows but a WPC does not: floats, date-times, huge integers).
pub const SCHEMA: &str = "WPC002";

/// Largest policy file accepted. Real policies are a few KiB; the bound keeps
/// a hostile or mistaken input from costing memory and time.
pub const MAX_FILE_BYTES: usize = crate::fsio::TOML.bytes;

/// Deepest nesting of arrays and tables accepted. A WPC is 4 levels deep; the
/// bound is checked before parsing so the recursive parser never sees a
/// pathological input.
pub const MAX_DEPTH: usize = 64;

/// The largest integer that survives a round trip through an IEEE 754 double,
/// which is what every JSON consumer of the payload (and JCS) uses.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Where a node sits in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NodeSpan {
    /// The key that names it (absent for array items and the root).
    key: Option<Range<usize>>,
    value: Range<usize>,
}

/// A parsed TOML document: its JSON payload and the spans of its nodes,
/// addressed by JSON pointer.
#[derive(Clone, Debug)]
pub struct Document {
    pub source: SourceFile,
    pub value: Value,
    /// Built on first use: a clean document is never asked for a location,
    /// and indexing every node costs more than parsing.
    spans: OnceLock<HashMap<String, NodeSpan>>,
}

impl Document {
    /// Read TOML from `source`. The first syntax error is reported, and later
    /// ones the parser recovered from with certainty (see `certain_errors`);
    /// so are floats, date-times and unsafe integers.
    pub fn parse(source: SourceFile) -> Result<Document, Vec<Finding>> {
        let text = source.text();
        if text.len() > MAX_FILE_BYTES {
            return Err(vec![
                Finding::new(
                    SYNTAX,
                    Severity::Error,
                    format!(
                        "file is {} bytes; wpc reads TOML files of at most {} bytes",
                        text.len(),
                        MAX_FILE_BYTES
                    ),
                )
                .in_file(source.path()),
            ]);
        }
        if let Some(offset) = too_deep(text) {
            return Err(vec![
                Finding::new(
                    SYNTAX,
                    Severity::Error,
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                )
                .at(&source, offset..offset + 1),
            ]);
        }
        let (root, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let spans = certain_errors(text, errors.iter().map(|e| e.span()).collect());
            return Err(spans
                .into_iter()
                .filter_map(|span| {
                    let err = errors.iter().find(|e| e.span() == span)?;
                    let message = err.message().trim_end().to_owned();
                    let finding = Finding::new(SYNTAX, Severity::Error, message);
                    Some(match span {
                        Some(span) => finding.at(&source, span),
                        None => finding.in_file(source.path()),
                    })
                })
                .collect());
        }
        let mut builder = Builder::new(&source, false);
        let value = builder.table(root.get_ref());
        if !builder.findings.is_empty() {
            builder
                .findings
                .sort_by_key(|f| f.location.as_ref().map(|l| l.range.start));
            return Err(builder.findings);
        }
        Ok(Document {
            spans: OnceLock::new(),
            source,
            value,
        })
    }

    fn spans(&self) -> &HashMap<String, NodeSpan> {
        self.spans.get_or_init(|| {
            // The text parsed once already, so this parse succeeds; should it
            // not, locations fall back to the whole file.
            let (root, _) = DeTable::parse_recoverable(self.source.text());
            let mut builder = Builder::new(&self.source, true);
            builder.table(root.get_ref());
            let mut spans = builder.spans.unwrap_or_default();
            spans.insert(
                String::new(),
                NodeSpan {
                    key: None,
                    value: 0..self.source.text().len(),
                },
            );
            spans
        })
    }

    /// A document with no source text, for payloads that arrive as JSON (a
    /// signed envelope's): findings name the path, and every span is empty.
    pub fn detached(value: Value) -> Document {
        Document {
            source: SourceFile::new("<payload>", ""),
            value,
            spans: OnceLock::from(HashMap::new()),
        }
    }

    /// The span of the value at `pointer`, or of its nearest existing
    /// ancestor's key (a missing key points at its parent table).
    pub fn value_span(&self, pointer: &str) -> Range<usize> {
        self.nearest(pointer).value.clone()
    }

    /// The span of the key at `pointer` (falls back to its value, then to the
    /// nearest ancestor).
    pub fn key_span(&self, pointer: &str) -> Range<usize> {
        let node = self.nearest(pointer);
        node.key.clone().unwrap_or_else(|| node.value.clone())
    }

    /// The span to highlight for a problem with the node at `pointer` as a
    /// whole: `key = value` when it has a key, else the value.
    pub fn entry_span(&self, pointer: &str) -> Range<usize> {
        let node = self.nearest(pointer);
        match &node.key {
            Some(key) if key.start <= node.value.start => key.start..node.value.end,
            _ => node.value.clone(),
        }
    }

    /// Where the value at `pointer` is (as [`Document::value_span`]).
    pub fn locate(&self, pointer: &str) -> Location {
        self.source.locate(self.value_span(pointer))
    }

    /// A finding located at the value at `pointer`.
    pub fn finding_at(
        &self,
        pointer: &str,
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Finding {
        Finding::new(code, severity, message).at(&self.source, self.value_span(pointer))
    }

    fn nearest(&self, pointer: &str) -> &NodeSpan {
        let mut pointer = pointer;
        loop {
            if let Some(node) = self.spans().get(pointer) {
                return node;
            }
            match pointer.rfind('/') {
                Some(i) => pointer = &pointer[..i],
                None => pointer = "",
            }
            if pointer.is_empty() {
                // The root is always present.
                return self.spans().get("").unwrap_or(&ROOT);
            }
        }
    }
}

static ROOT: NodeSpan = NodeSpan {
    key: None,
    value: 0..0,
};

/// Escape one JSON pointer segment (RFC 6901).
pub fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// `/constraints/approvals/0/when` → `constraints.approvals[0].when`: how a
/// TOML user names a key.
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "(document)".to_owned()
    } else {
        out
    }
}

/// One step of the path to the node being converted.
#[derive(Clone, Copy)]
enum Segment<'t> {
    Key(&'t str),
    Index(usize),
}

/// Converts the parsed TOML to JSON, rejecting what a WPC does not allow,
/// and (when asked) records every node's span by JSON pointer.
struct Builder<'s, 't> {
    source: &'s SourceFile,
    spans: Option<HashMap<String, NodeSpan>>,
    findings: Vec<Finding>,
    path: Vec<Segment<'t>>,
}

impl<'s, 't> Builder<'s, 't> {
    fn new(source: &'s SourceFile, record_spans: bool) -> Self {
        Builder {
            source,
            spans: record_spans.then(HashMap::new),
            findings: Vec::new(),
            path: Vec::new(),
        }
    }

    /// The JSON pointer of the current node (built only when needed).
    fn pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            out.push('/');
            match segment {
                Segment::Key(key) => out.push_str(&pointer_segment(key)),
                Segment::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }

    fn record(&mut self, key: Option<Range<usize>>, value: Range<usize>) {
        if self.spans.is_some() {
            let pointer = self.pointer();
            if let Some(spans) = &mut self.spans {
                spans.insert(pointer, NodeSpan { key, value });
            }
        }
    }

    fn table(&mut self, table: &'t DeTable<'_>) -> Value {
        let mut map = Map::new();
        for (key, value) in table {
            self.path.push(Segment::Key(key.get_ref()));
            let json = self.value(value.get_ref(), value.span());
            self.record(Some(key.span()), value.span());
            self.path.pop();
            map.insert(key.get_ref().to_string(), json);
        }
        Value::Object(map)
    }

    fn value(&mut self, value: &'t DeValue<'_>, span: Range<usize>) -> Value {
        match value {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Integer(int) => match i64::from_str_radix(int.as_str(), int.radix()) {
                Ok(n) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&n) => {
                    Value::Number(Number::from(n))
                }
                _ => self.reject(
                    span,
                    "integers must lie within ±(2^53−1) so every JSON reader sees the same number",
                ),
            },
            DeValue::Float(_) => self.reject(
                span,
                "floats are not allowed in a WPC: they have no single canonical JSON form",
            ),
            DeValue::Datetime(_) => self.reject(
                span,
                "date-times are not allowed in a WPC: write them as strings",
            ),
            DeValue::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.path.push(Segment::Index(i));
                        let json = self.value(item.get_ref(), item.span());
                        self.record(None, item.span());
                        self.path.pop();
                        json
                    })
                    .collect(),
            ),
            DeValue::Table(table) => self.table(table),
        }
    }

    fn reject(&mut self, span: Range<usize>, why: &str) -> Value {
        let message = format!("`{}`: {why}", display_path(&self.pointer()));
        self.findings
            .push(Finding::new(SCHEMA, Severity::Error, message).at(self.source, span));
        Value::Null
    }
}

/// For every command but `wpc check`, whose job they are: each file's
/// syntax errors become one finding on the file as a whole, naming the first
/// error's place and pointing at `wpc check`; other findings pass through.
/// A file that does not parse is reported once, not once per echo.
pub fn unreadable_in_brief(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        .filter_map(|finding| {
            if finding.code != SYNTAX {
                return Some(finding);
            }
            let file = finding.file()?.to_path_buf();
            if !seen.insert(file.clone()) {
                return None;
            }
            let at = finding
                .location
                .as_ref()
                .map(|l| format!(" at line {}, column {}", l.line, l.column))
                .unwrap_or_default();
            Some(
                Finding::new(
                    SYNTAX,
                    Severity::Error,
                    format!(
                        "not valid TOML{at} ({}); `wpc check` shows where",
                        finding.message
                    ),
                )
                .in_file(file),
            )
        })
        .collect()
}

/// The offset of the first bracket or brace that opens nesting deeper than
/// [`MAX_DEPTH`], if any. Brackets inside strings and comments are skipped;
/// the count over-approximates (it does not know `[table]` headers close), so
/// it only rejects documents no WPC comes close to.
fn too_deep(text: &str) -> Option<usize> {
    nesting(text, text.len(), MAX_DEPTH).err()
}

/// How `text[..end]` leaves the document: brackets open (outside strings
/// and comments) and whether a multi-line string is still open.
#[derive(Debug, PartialEq, Eq)]
struct Open {
    brackets: usize,
    in_string: bool,
}

/// Scan `text[..end]` for the brackets of arrays and inline tables; the
/// offset of the first one deeper than `max` is an error.
fn nesting(text: &str, end: usize, max: usize) -> Result<Open, usize> {
    let bytes = &text.as_bytes()[..end.min(text.len())];
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let triple = bytes[i..].starts_with(&[quote; 3]);
                i += if triple { 3 } else { 1 };
                let mut closed = !triple;
                while i < bytes.len() {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple && bytes[i..].starts_with(&[quote; 3]) {
                        i += 2;
                        closed = true;
                        break;
                    }
                    if !triple && (bytes[i] == quote || bytes[i] == b'\n') {
                        break;
                    }
                    i += 1;
                }
                if !closed {
                    return Ok(Open {
                        brackets: depth,
                        in_string: true,
                    });
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(i);
                }
            }
            // A table header's brackets close on its line; only inline
            // arrays and tables can carry depth across lines.
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(Open {
        brackets: depth,
        in_string: false,
    })
}

/// The syntax errors worth showing: the first, and each later one only while
/// the parser's recovery before it was certain. The parser resumes at the
/// next line after an error; that resumption is certain when the error's
/// line ends outside any array, inline table or multi-line string (nothing
/// opened earlier can still be open). After an error inside an unclosed `[`,
/// `{` or `"""`, where the value really ends is a guess, and every later
/// error would be an echo of the first (a deleted `]` gave 81), so the
/// errors stop there. One error per line.
fn certain_errors(text: &str, mut spans: Vec<Option<Range<usize>>>) -> Vec<Option<Range<usize>>> {
    spans.sort_by_key(|span| span.as_ref().map(|s| s.start));
    let mut kept: Vec<Option<Range<usize>>> = Vec::new();
    let mut last_line_end = None;
    for span in spans {
        let Some(range) = &span else {
            // No location: nothing to say where recovery stands.
            kept.push(span);
            break;
        };
        if last_line_end.is_some_and(|end| range.start < end) {
            continue;
        }
        let line_end = text[range.start.min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| range.start + i);
        let recovered = nesting(text, line_end, usize::MAX).is_ok_and(|open| {
            open == Open {
                brackets: 0,
                in_string: false,
            }
        });
        kept.push(span);
        if !recovered {
            break;
        }
        last_line_end = Some(line_end);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Document, Vec<Finding>> {
        Document::parse(SourceFile::new("p.toml", text))
    }

    #[test]
    fn payload_and_spans() {
        let doc = parse("a = 1\n[t]\nlist = [\"x\", true]\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "t": {"list": ["x", true]}})
        );
        assert_eq!(&doc.source.text()[doc.value_span("/t/list/0")], "\"x\"");
        assert_eq!(&doc.source.text()[doc.key_span("/t/list")], "list");
        // A missing key points at its parent.
        assert_eq!(doc.key_span("/t/missing"), doc.key_span("/t"));
    }

    #[test]
    fn floats_datetimes_and_big_integers_are_located_errors() {
        let errors =
            parse("f = 1.5\nd = 1979-05-27\nbig = 9007199254740992\nok = 9007199254740991\n")
                .unwrap_err();
        let lines: Vec<_> = errors
            .iter()
            .map(|f| (f.code, f.location.as_ref().unwrap().line))
            .collect();
        assert_eq!(lines, [(SCHEMA, 1), (SCHEMA, 2), (SCHEMA, 3)]);
    }

    #[test]
    fn every_syntax_error_is_reported() {
        let errors = parse("a = \nb = = 2\n").unwrap_err();
        assert!(errors.len() >= 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|f| f.code == SYNTAX && f.location.is_some())
        );
    }

    #[test]
    fn errors_after_an_unclosed_bracket_are_echoes_and_dropped() {
        let text = "a = [\"x\"\nb = 1\nc = = 2\n[t]\nd = = 3\n";
        let errors = parse(text).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location.as_ref().unwrap().line, 2);
        // An open multi-line string hides everything after it as well.
        let errors = parse("a = = 1\nb = \"\"\"open\nc = = 2\n").unwrap_err();
        assert!(errors.len() <= 2, "{errors:?}");
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let open = |text: &str| nesting(text, text.len(), usize::MAX).unwrap();
        assert_eq!(open("a = [1, [2]\n").brackets, 1);
        assert_eq!(open("a = \"[[\" # [\n[t]\n").brackets, 0);
        assert!(open("a = \"\"\"\n[").in_string);
    }

    #[test]
    fn deep_nesting_is_rejected_before_parsing() {
        let text = format!("a = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let errors = parse(&text).unwrap_err();
        assert!(errors[0].message.contains("nesting"));
        // Brackets inside strings and comments do not count.
        let quoted = format!("a = \"{}\" # {}\n", "[".repeat(100), "{".repeat(100));
        assert!(parse(&quoted).is_ok());
    }

    #[test]
    fn display_paths_read_like_toml() {
        assert_eq!(
            display_path("/constraints/approvals/0/when"),
            "constraints.approvals[0].when"
        );
        assert_eq!(display_path("/metadata/a~1b"), "metadata.a/b");
        assert_eq!(display_path(""), "(document)");
    }
}

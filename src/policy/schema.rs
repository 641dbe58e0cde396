//! JSON Schema checks of documents, with every error mapped back to its TOML
//! span and rewritten into one readable sentence.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use super::document::{Document, SCHEMA, display_path, pointer_segment};
use crate::error::error_enum;
use crate::report::{Finding, Severity};

/// The schemas wpc ships. Each is the single source of truth for its
/// document's shape; the typed models only deserialize what passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// A WPC (`schema/wpc.v1.schema.json`).
    Policy,
    /// `wpc.toml` (`schema/wpc-config.v1.schema.json`).
    Config,
    /// A policy test file (`schema/wpc-test.v1.schema.json`).
    TestFile,
    /// `keys/trusted-signers.toml` (`schema/trusted-signers.v1.schema.json`).
    TrustedSigners,
}

impl Schema {
    /// The schema's file in `schema/`.
    pub fn file(self) -> &'static str {
        match self {
            Schema::Policy => "wpc.v1.schema.json",
            Schema::Config => "wpc-config.v1.schema.json",
            Schema::TestFile => "wpc-test.v1.schema.json",
            Schema::TrustedSigners => "trusted-signers.v1.schema.json",
        }
    }

    /// The schema document, as shipped in `schema/`.
    pub fn source(self) -> &'static str {
        match self {
            Schema::Policy => include_str!("../../schema/wpc.v1.schema.json"),
            Schema::Config => include_str!("../../schema/wpc-config.v1.schema.json"),
            Schema::TestFile => include_str!("../../schema/wpc-test.v1.schema.json"),
            Schema::TrustedSigners => include_str!("../../schema/trusted-signers.v1.schema.json"),
        }
    }

    fn compiled(self) -> &'static Result<Compiled, SchemaBuildError> {
        static POLICY: LazyLock<Result<Compiled, SchemaBuildError>> =
            LazyLock::new(|| Compiled::new(Schema::Policy));
        static CONFIG: LazyLock<Result<Compiled, SchemaBuildError>> =
            LazyLock::new(|| Compiled::new(Schema::Config));
        static TEST_FILE: LazyLock<Result<Compiled, SchemaBuildError>> =
            LazyLock::new(|| Compiled::new(Schema::TestFile));
        static TRUSTED_SIGNERS: LazyLock<Result<Compiled, SchemaBuildError>> =
            LazyLock::new(|| Compiled::new(Schema::TrustedSigners));
        match self {
            Schema::Policy => &POLICY,
            Schema::Config => &CONFIG,
            Schema::TestFile => &TEST_FILE,
            Schema::TrustedSigners => &TRUSTED_SIGNERS,
        }
    }
}

error_enum! {
    /// Why a shipped schema does not build (a test rules it out).
    pub enum SchemaBuildError {
        Json(serde_json::Error),
        Schema(ValidationError<'static>),
    }
}

struct Compiled {
    schema: Value,
    validator: Validator,
}

impl Compiled {
    fn new(which: Schema) -> Result<Compiled, SchemaBuildError> {
        let schema: Value = serde_json::from_str(which.source())?;
        let validator = jsonschema::draft202012::options().build(&schema)?;
        Ok(Compiled { schema, validator })
    }
}

/// Whether `value` is valid against `schema`, without building messages.
pub fn is_valid(schema: Schema, value: &Value) -> bool {
    schema
        .compiled()
        .as_ref()
        .is_ok_and(|c| c.validator.is_valid(value))
}

/// Every schema error of a document, located in its source.
pub fn check(schema: Schema, doc: &Document) -> Vec<Finding> {
    let compiled = match schema.compiled() {
        Ok(compiled) => compiled,
        // Only reachable if a shipped schema is broken, which a unit test
        // rules out; still, fail closed rather than panic.
        Err(err) => {
            return vec![Finding::new(
                SCHEMA,
                Severity::Error,
                format!(
                    "internal error: the built-in schema {} does not compile: {err}",
                    schema.file()
                ),
            )];
        }
    };
    // Most documents are valid: answer those without building errors.
    if compiled.validator.is_valid(&doc.value) {
        return Vec::new();
    }
    let mut findings: Vec<Finding> = compiled
        .validator
        .iter_errors(&doc.value)
        .flat_map(|err| describe(&compiled.schema, doc, &err))
        .collect();
    findings.sort_by_key(|f| f.location.as_ref().map(|l| l.range.start));
    findings.dedup();
    findings
}

/// Check a value that has no source (for example a payload inside a signed
/// envelope); messages name the path instead of a line.
pub fn errors(schema: Schema, value: &Value) -> Vec<String> {
    let doc = Document::detached(value.clone());
    check(schema, &doc).into_iter().map(|f| f.message).collect()
}

fn describe(schema: &Value, doc: &Document, err: &ValidationError<'_>) -> Vec<Finding> {
    let pointer = err.instance_path().as_str().to_owned();
    let path = display_path(&pointer);
    let error = |span, message: String| {
        Finding::new(SCHEMA, Severity::Error, message).at(&doc.source, span)
    };
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, err.schema_path().as_str());
            unexpected
                .iter()
                .map(|key| {
                    let child = format!("{pointer}/{}", pointer_segment(key));
                    let mut finding = error(
                        doc.key_span(&child),
                        format!("unknown key `{key}` in {}", table_name(&pointer, &path)),
                    );
                    if !allowed.is_empty() {
                        finding = finding.help(format!("allowed keys: {}", allowed.join(", ")));
                    }
                    finding
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let key = property.as_str().unwrap_or_default();
            vec![error(
                doc.key_span(&pointer),
                format!(
                    "missing required key `{key}` in {}",
                    table_name(&pointer, &path)
                ),
            )]
        }
        kind => {
            let mut finding = error(
                doc.value_span(&pointer),
                format!("`{path}`: {}", reason(kind, err)),
            );
            if let Some(help) = value_help(&pointer, kind) {
                finding = finding.help(help.to_owned());
            }
            vec![finding]
        }
    }
}

/// What to write instead, where a pattern alone does not say.
fn value_help(pointer: &str, kind: &ValidationErrorKind) -> Option<&'static str> {
    let is_pattern = matches!(kind, ValidationErrorKind::Pattern { .. });
    if is_pattern && pointer.starts_with("/constraints/rate_limits/") && pointer.ends_with("/per") {
        return Some(
            "a window is a positive count and one unit: s, m, h or d (`30s`, `1h`, `7d`; a week is `7d`)",
        );
    }
    let limit_entry = pointer
        .strip_prefix("/constraints/rate_limits/")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
    let one_of = matches!(
        kind,
        ValidationErrorKind::OneOfMultipleValid { .. } | ValidationErrorKind::OneOfNotValid { .. }
    );
    if limit_entry && one_of {
        return Some(
            "a rate limit counts the calls of tools or of models: give exactly one of `tool` and `model`",
        );
    }
    None
}

fn table_name(pointer: &str, path: &str) -> String {
    if pointer.is_empty() {
        "the document".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// The keys the schema allows where an `additionalProperties` failed: the
/// `properties` beside that keyword.
fn allowed_keys(schema: &Value, keyword_path: &str) -> Vec<String> {
    let parent = keyword_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(keyword_path);
    schema
        .pointer(&format!("{parent}/properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().map(|k| format!("`{k}`")).collect())
        .unwrap_or_default()
}

fn reason(kind: &ValidationErrorKind, err: &ValidationError<'_>) -> String {
    match kind {
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => article(&t.to_string()),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!(
                "expected {}, found {}",
                toml_type_name(&expected),
                json_type(err.instance())
            )
        }
        ValidationErrorKind::Enum { options } => {
            format!("must be one of {}", list(options))
        }
        ValidationErrorKind::Constant { expected_value } => format!("must be {expected_value}"),
        ValidationErrorKind::Pattern { pattern } => format!("does not match `{pattern}`"),
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".to_owned(),
        ValidationErrorKind::MinLength { limit } => format!("must be at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("must be greater than {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::UniqueItems => "items must be unique".to_owned(),
        // The default messages of `oneOf`/`anyOf` list every branch as JSON;
        // one sentence serves the reader better.
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
            "does not match any of the allowed forms".to_owned()
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "matches more than one of the allowed forms".to_owned()
        }
        // Masked: never echo a (possibly secret or huge) value.
        _ => err.masked().to_string(),
    }
}

fn article(t: &str) -> String {
    match t {
        "array" | "integer" | "object" => format!("an {t}"),
        _ => format!("a {t}"),
    }
}

/// JSON Schema speaks JSON; the user wrote TOML.
fn toml_type_name(json: &str) -> String {
    json.replace("an object", "a table")
        .replace("object", "table")
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

fn list(options: &Value) -> String {
    match options.as_array() {
        Some(items) => items
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        None => options.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SourceFile;

    fn findings(schema: Schema, text: &str) -> Vec<(usize, usize, String)> {
        let doc = Document::parse(SourceFile::new("p.toml", text)).unwrap();
        check(schema, &doc)
            .into_iter()
            .map(|f| {
                let loc = f.location.unwrap();
                (loc.line, loc.column, f.message)
            })
            .collect()
    }

    const MCP_POLICY: &str = r#"wpc_version = "1"
policy_name = "p"
purpose = "x"
[constraints.tool_policy]
allow = ["mcp:github/*"]
deny = []
[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"
[constraints.mcp]
deny_servers = ["scratch-*"]
[[constraints.mcp.servers]]
name = "github"
transport = "stdio"
tools = ["get_issue"]
[constraints.mcp.pinned_tools]
"github/get_issue" = "0000000000000000000000000000000000000000000000000000000000000000"
[[constraints.rate_limits]]
tool = "mcp:github/get_issue"
max = 20
per = "1h"
[[constraints.rate_limits]]
model = "claude-*"
max = 100
per = "1m"
[constraints.budget]
max_tool_calls = 500
[binding]
cst_scope_hash_required = true
"#;

    #[test]
    fn an_unknown_window_unit_is_located_with_the_units_there_are() {
        let doc = Document::parse(SourceFile::new(
            "p.toml",
            MCP_POLICY.replacen(r#"per = "1h""#, r#"per = "1w""#, 1),
        ))
        .unwrap();
        let found = check(Schema::Policy, &doc);
        assert_eq!(found.len(), 1);
        let loc = found[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (22, 7));
        assert!(
            found[0]
                .message
                .starts_with("`constraints.rate_limits[0].per`: does not match"),
            "{}",
            found[0].message
        );
        assert!(found[0].help.as_deref().unwrap().contains("s, m, h or d"));
    }

    #[test]
    fn mcp_rate_limits_and_budget_are_valid_keys() {
        assert_eq!(findings(Schema::Policy, MCP_POLICY), []);
        let doc = Document::parse(SourceFile::new("p.toml", MCP_POLICY)).unwrap();
        let wpc: crate::policy::Wpc = serde_json::from_value(doc.value.clone()).unwrap();
        let mcp = wpc.constraints.mcp.unwrap();
        assert_eq!(mcp.pin("github", "get_issue").map(str::len), Some(64));
        assert_eq!(wpc.constraints.rate_limits[0].window_seconds(), Some(3600));
    }

    #[test]
    fn unknown_window_units_bad_pins_and_limits_without_a_subject_are_rejected() {
        for (from, to) in [
            (r#"per = "1h""#, r#"per = "1w""#),
            (r#"per = "1h""#, r#"per = "0h""#),
            (
                r#""github/get_issue" = "0000"#,
                r#""github/get_issue" = "ABCD"#,
            ),
            (r#""github/get_issue""#, r#""github""#),
            ("tool = \"mcp:github/get_issue\"\n", ""),
            (
                r#"model = "claude-*""#,
                "model = \"claude-*\"\ntool = \"x\"",
            ),
            ("max_tool_calls = 500", ""),
            (r#"transport = "stdio""#, r#"transport = "ws""#),
            // OpenClaw's `<server>__<tool>` splits at the first `__`.
            (r#"name = "github""#, r#"name = "git__hub""#),
            (r#"name = "github""#, r#"name = "github_""#),
            (r#"name = "github""#, r#"name = ".github""#),
        ] {
            let text = MCP_POLICY.replacen(from, to, 1);
            assert_ne!(text, MCP_POLICY, "{from}");
            assert!(!findings(Schema::Policy, &text).is_empty(), "{to}");
        }
    }

    #[test]
    fn shipped_schemas_compile() {
        assert!(Schema::Policy.compiled().is_ok());
        assert!(Schema::Config.compiled().is_ok());
        assert!(Schema::TestFile.compiled().is_ok());
        assert!(Schema::TrustedSigners.compiled().is_ok());
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        let found = findings(Schema::Config, "[policies]\ndir = \"p\"\ncolour = 1\n");
        assert_eq!(
            found,
            [(3, 1, "unknown key `colour` in `policies`".to_owned())]
        );
    }

    #[test]
    fn missing_key_points_at_the_parent_table() {
        let found = findings(
            Schema::Config,
            "[release]\nbranch = \"x\"\n[approvals.widening]\nteams = []\n",
        );
        assert_eq!(
            found,
            [(
                3,
                12,
                "missing required key `min` in `approvals.widening`".to_owned()
            )]
        );
    }

    #[test]
    fn type_and_enum_errors_point_at_the_value() {
        let found = findings(
            Schema::Config,
            "[lint]\nmax_ttl_seconds = \"1h\"\nrules = { WPC001 = \"loud\" }\n",
        );
        assert_eq!(
            found,
            [
                (
                    2,
                    19,
                    "`lint.max_ttl_seconds`: expected an integer, found a string".to_owned()
                ),
                (
                    3,
                    20,
                    "`lint.rules.WPC001`: must be one of \"error\", \"warning\", \"info\", \"off\""
                        .to_owned()
                ),
            ]
        );
    }
}

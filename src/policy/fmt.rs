//! `wpc fmt`: the canonical layout of a policy. Keys follow the schema's
//! order, tables follow their parents, and an array that does not fit on one
//! line gets one item per line. Comments stay with what they annotate.

use std::sync::LazyLock;

use serde_json::Value as Json;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

use super::schema::Schema;
use crate::error::error_enum;

/// Arrays whose `key = [...]` line would be longer than this are split.
pub const MAX_INLINE_WIDTH: usize = 80;

const INDENT: &str = "    ";

/// The canonical layout of `text`, which must be valid TOML (check it with
/// [`super::Document::parse`] first to get located errors).
pub fn format(text: &str) -> Result<String, toml_edit::TomlError> {
    let mut doc: DocumentMut = text.parse()?;
    let schema = policy_schema();
    layout_table(doc.as_table_mut(), Some(schema));
    Ok(doc.to_string().trim_start_matches('\n').to_owned())
}

fn policy_schema() -> &'static Json {
    static SCHEMA: LazyLock<Json> =
        LazyLock::new(|| serde_json::from_str(Schema::Policy.source()).unwrap_or(Json::Null));
    &SCHEMA
}

/// Where `key` sits in the schema's `properties` (keys it does not name keep
/// their order after the known ones).
fn rank(schema: Option<&Json>, key: &str) -> usize {
    schema
        .and_then(|s| s.get("properties"))
        .and_then(Json::as_object)
        .and_then(|props| props.keys().position(|k| k == key))
        .unwrap_or(usize::MAX)
}

/// The schema of `key` inside `schema`, resolving local `$ref`s.
fn child<'a>(schema: Option<&'a Json>, key: &str) -> Option<&'a Json> {
    resolve(schema?.get("properties")?.get(key)?)
}

fn items(schema: Option<&Json>) -> Option<&Json> {
    resolve(schema?.get("items")?)
}

fn resolve(schema: &Json) -> Option<&Json> {
    match schema.get("$ref").and_then(Json::as_str) {
        Some(reference) => policy_schema().pointer(reference.strip_prefix('#')?),
        None => Some(schema),
    }
}

fn layout_table(table: &mut Table, schema: Option<&Json>) {
    // Tables print after their parent in the order of the parent's keys, so
    // sorting keys and clearing positions puts sub-tables in schema order too.
    table.set_position(None);
    table.sort_values_by(|a, _, b, _| rank(schema, a.get()).cmp(&rank(schema, b.get())));
    for (mut key, item) in table.iter_mut() {
        let sub = child(schema, key.get());
        let key_width = key.get().len() + 3;
        if let Item::Value(value) = item {
            // `key = value`: one space each side of `=`, whatever was typed;
            // comments above the key and after the value stay.
            key.leaf_decor_mut().set_suffix(" ");
            value.decor_mut().set_prefix(" ");
        }
        match item {
            Item::Table(t) => {
                separate(t);
                layout_table(t, sub);
            }
            Item::ArrayOfTables(tables) => {
                for t in tables.iter_mut() {
                    separate(t);
                    layout_table(t, items(sub));
                }
            }
            Item::Value(value) => layout_value(value, sub, key_width),
            Item::None => {}
        }
    }
}

/// Exactly one blank line before a table header (comments above it stay).
fn separate(table: &mut Table) {
    if table.is_implicit() || table.is_dotted() {
        return;
    }
    let decor = table.decor_mut();
    let prefix = decor
        .prefix()
        .and_then(|raw| raw.as_str())
        .unwrap_or_default();
    let kept = prefix
        .trim_start_matches(['\n', '\r', ' ', '\t'])
        .to_owned();
    decor.set_prefix(format!("\n{kept}"));
}

fn layout_value(value: &mut Value, schema: Option<&Json>, prefix_width: usize) {
    match value {
        Value::Array(array) => layout_array(array, schema, prefix_width),
        Value::InlineTable(table) => layout_inline_table(table, schema),
        _ => {}
    }
}

fn layout_inline_table(table: &mut InlineTable, schema: Option<&Json>) {
    table.sort_values_by(|a, _, b, _| rank(schema, a.get()).cmp(&rank(schema, b.get())));
    for (key, value) in table.iter_mut() {
        let width = key.get().len() + 3;
        layout_value(value, child(schema, key.get()), width);
    }
}

fn layout_array(array: &mut Array, schema: Option<&Json>, prefix_width: usize) {
    for value in array.iter_mut() {
        layout_value(value, items(schema), INDENT.len());
    }
    // An array with comments inside is laid out by hand; keep it.
    if has_comments(array) {
        return;
    }
    array.fmt();
    let nested = array
        .iter()
        .any(|v| matches!(v, Value::Array(_) | Value::InlineTable(_)));
    if prefix_width + array.to_string().trim().len() <= MAX_INLINE_WIDTH && !nested {
        return;
    }
    for value in array.iter_mut() {
        value.decor_mut().set_prefix(format!("\n{INDENT}"));
        value.decor_mut().set_suffix("");
    }
    array.set_trailing_comma(true);
    array.set_trailing("\n");
}

fn has_comments(array: &Array) -> bool {
    let decor_has_comment = |decor: &toml_edit::Decor| {
        [decor.prefix(), decor.suffix()]
            .into_iter()
            .flatten()
            .any(|raw| raw.as_str().is_some_and(|s| s.contains('#')))
    };
    array.iter().any(|v| decor_has_comment(v.decor()))
        || array.trailing().as_str().is_some_and(|s| s.contains('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSY: &str = r#"# header comment
purpose = "p"
wpc_version = "1"
[binding]
cst_scope_hash_required = true

[constraints.sandbox]
elevated_exec = "deny"
required = true
workspaceAccess   =    "ro"  # trailing comment stays

# the tools
[constraints.tool_policy]
deny = []
allow = ["read", "search", "repo.diff", "repo.comment", "repo.label", "repo.review", "web.fetch"]
[metadata]
z = 1
a = 2
"#;

    #[test]
    fn canonical_layout() {
        insta::assert_snapshot!(format(MESSY).unwrap());
    }

    #[test]
    fn idempotent() {
        let once = format(MESSY).unwrap();
        assert_eq!(format(&once).unwrap(), once);
    }

    #[test]
    fn comments_survive() {
        let out = format(MESSY).unwrap();
        assert!(out.contains("# header comment") && out.contains("# the tools"));
    }

    #[test]
    fn formatting_keeps_the_payload() {
        let before =
            super::super::Document::parse(crate::report::SourceFile::new("a", MESSY)).unwrap();
        let formatted = format(MESSY).unwrap();
        let after =
            super::super::Document::parse(crate::report::SourceFile::new("a", formatted)).unwrap();
        assert_eq!(before.value, after.value);
    }
}

/// What `wpc fmt` is asked to do.
#[derive(Debug)]
pub struct Plan {
    /// Policy files or folders; empty: `policies_dir`.
    pub paths: Vec<std::path::PathBuf>,
    /// The repository's policies folder and root (paths are shown relative
    /// to it).
    pub policies_dir: std::path::PathBuf,
    pub root: std::path::PathBuf,
    /// Change nothing: print a diff of each file not formatted, and fail.
    pub check: bool,
}

error_enum! {
    pub enum FmtCommandError {
        Collect(super::files::CollectError),
        Write(crate::fsio::WriteError),
        #[error("{}: cannot format", path.display())]
        Format {
            path: std::path::PathBuf,
            source: toml_edit::TomlError,
        },
    }
}

/// `wpc fmt`: rewrite each policy in the canonical layout (or, with
/// `check`, show the diff); files that are not well-formed TOML are
/// reported and fail, never rewritten.
pub fn run(plan: &Plan) -> Result<crate::report::Output, FmtCommandError> {
    use super::files;
    let (paths, skipped) = if plan.paths.is_empty() {
        files::collect_dir(&plan.policies_dir, &plan.root)?
    } else {
        files::collect(&plan.paths, &plan.root)?
    };
    let mut problems = skipped;
    let mut out = crate::report::Output::default();
    for path in &paths {
        let source = match super::read_source(path) {
            Ok(source) => source,
            Err(finding) => {
                problems.push(finding);
                continue;
            }
        };
        // Only well-formed TOML is formatted; report the rest with locations.
        if let Err(findings) = super::Document::parse(source.clone())
            && findings.iter().any(|f| f.code == super::document::SYNTAX)
        {
            problems.extend(findings);
            continue;
        }
        let formatted = format(source.text()).map_err(|source| FmtCommandError::Format {
            path: path.clone(),
            source,
        })?;
        if formatted == source.text() {
            continue;
        }
        if plan.check {
            out.failed = true;
            out.stdout
                .push_str(&unified_diff(path, source.text(), &formatted));
        } else {
            crate::fsio::write_atomically(path, &formatted)?;
            out.stdout
                .push_str(&std::format!("formatted {}\n", path.display()));
        }
    }
    if !problems.is_empty() {
        let problems = super::document::unreadable_in_brief(problems);
        out.note(&crate::report::Report::new(problems, paths.len()).render_brief(false));
        out.failed = true;
    }
    Ok(out)
}

fn unified_diff(path: &std::path::Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&std::format!("a/{name}"), &std::format!("b/{name}"))
        .to_string()
}

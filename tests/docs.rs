//! The documentation is complete and true:
//! - every command of the clap tree has a page `docs/commands/<words>.md`,
//!   linked from the index, with a synopsis, its `--help`, exit codes and
//!   examples, and its ```console examples print what they show (run by
//!   trycmd against the built `wpc`);
//! - every rule code (lint and OpenClaw audit) has `docs/rules/CODE.md`;
//! - every relative link in README.md, CONTRIBUTING.md and docs/ resolves,
//!   down to the heading;
//! - `docs/wpc-format.md` documents exactly the schema's keys, types,
//!   required keys, enum values, patterns and bounds, and the complete
//!   policies shown in the docs match the schema;
//! - the README's quickstart works as written, and its ```console samples
//!   print what they show (trycmd, like the command pages);
//! - a key the format page calls optional names the rule that, at its
//!   default level, makes leaving it out an error.
//!
//! Regenerate the example outputs after a change:
//! `TRYCMD=overwrite cargo test --test docs`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory as _;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every command a user can run, as its words (`["bundle", "verify"]`):
/// the leaves of the clap tree, and the inner commands that also run by
/// themselves (`release`).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            let runs_alone = !sub.is_subcommand_required_set();
            if sub.has_subcommands() {
                if runs_alone {
                    out.push(path.clone());
                }
                walk(sub, &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&wpc::cli::Cli::command(), &[], &mut out);
    out
}

/// `docs/commands/bundle-verify.md` for `wpc bundle verify`.
fn page_of(path: &[String]) -> PathBuf {
    root()
        .join("docs/commands")
        .join(format!("{}.md", path.join("-")))
}

#[test]
fn every_command_has_a_page() {
    let paths = command_paths();
    assert!(paths.len() > 20, "the clap walk found too few commands");
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| !page_of(p).is_file())
        .map(|p| format!("wpc {} -> {}", p.join(" "), page_of(p).display()))
        .collect();
    assert!(
        missing.is_empty(),
        "commands without a page:\n{}",
        missing.join("\n")
    );

    // And no page for a command that no longer exists.
    let expected: BTreeSet<PathBuf> = paths.iter().map(|p| page_of(p)).collect();
    let index = read(&root().join("docs/commands/README.md"));
    for entry in std::fs::read_dir(root().join("docs/commands")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") && !path.ends_with("README.md") {
            assert!(
                expected.contains(&path),
                "{} documents no command",
                path.display()
            );
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(
                index.contains(&format!("]({name})")),
                "docs/commands/README.md does not link {name}"
            );
        }
    }
}

#[test]
fn every_command_page_has_the_sections() {
    for path in command_paths() {
        let page = page_of(&path);
        let text = read(&page);
        let words = path.join(" ");
        let title = format!("# wpc {words}\n");
        assert!(
            text.starts_with(&title),
            "{} must start with `{title}`",
            page.display()
        );
        for section in ["## Synopsis", "## Options", "## Exit codes", "## Examples"] {
            assert!(
                text.contains(&format!("\n{section}\n")),
                "{} has no `{section}` section",
                page.display()
            );
        }
        // The options are the real ones: the page runs `--help`.
        let help = format!("```console\n$ wpc {words} --help\n");
        assert!(
            text.contains(&help),
            "{} does not show `wpc {words} --help`",
            page.display()
        );
    }
}

#[test]
fn every_rule_has_a_page() {
    let rules: Vec<_> = wpc::lint::REGISTRY
        .all()
        .chain(wpc::openclaw::REGISTRY.all())
        .collect();
    assert!(rules.len() > 50, "the rule registries look empty");
    let mut codes = BTreeSet::new();
    for meta in rules {
        let page = root().join(format!("docs/rules/{}.md", meta.code));
        let text = read(&page);
        let title = format!("# {}: {}", meta.code, meta.name);
        assert!(
            text.starts_with(&title),
            "{} must start with `{title}`",
            page.display()
        );
        codes.insert(meta.code.to_owned());
    }
    for entry in std::fs::read_dir(root().join("docs/rules")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        assert!(
            codes.contains(&stem),
            "{} documents no rule",
            path.display()
        );
    }
}

/// README.md, CONTRIBUTING.md and every page under docs/.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    for entry in walkdir::WalkDir::new(root().join("docs")) {
        let entry = entry.unwrap();
        let path = entry.path();
        // The sandboxes of the command examples are not documentation.
        let in_sandbox = path.components().any(|c| {
            let c = c.as_os_str().to_string_lossy();
            c.ends_with(".in") || c.ends_with(".out")
        });
        if !in_sandbox && path.extension().is_some_and(|e| e == "md") {
            files.push(path.to_owned());
        }
    }
    files
}

/// The targets of the inline links `[text](target)` outside code.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Inline code spans may hold `[x](y)` that is not a link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].trim().to_owned());
                rest = &rest[end..];
            }
        }
    }
    targets
}

#[test]
fn relative_links_resolve() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        for target in link_targets(&read(&file)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !linked.exists() {
                broken.push(format!("{}: {target}", file.display()));
            } else if !fragment.is_empty()
                && linked.extension().is_some_and(|e| e == "md")
                && !heading_anchors(&read(&linked)).contains(fragment)
            {
                broken.push(format!("{}: {target} (no such heading)", file.display()));
            }
        }
    }
    assert!(checked > 50, "the link scan found too few links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The anchors GitHub gives a page's headings: lower case, punctuation
/// dropped, spaces to `-`, repeats numbered `-1`, `-2`...
fn heading_anchors(markdown: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        let Some(title) = line.strip_prefix('#').filter(|_| !in_fence) else {
            continue;
        };
        let slug: String = title
            .trim_start_matches('#')
            .trim()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .flat_map(char::to_lowercase)
            .collect();
        let mut anchor = slug.clone();
        let mut n = 0;
        while !anchors.insert(anchor.clone()) {
            n += 1;
            anchor = format!("{slug}-{n}");
        }
    }
    anchors
}

/// Set in the child process that runs the examples.
const CLEAN_ENV: &str = "WPC_DOCS_CLEAN_ENV";

/// The ```console blocks of docs/commands/*.md, run against the built `wpc`
/// and compared with the output written under each command.
///
/// They run in a child process with a cleared environment, so that nothing
/// of the developer's or CI's (GITHUB_ACTIONS, WPC_SIGNING_KEY, OPENCLAW_*,
/// a global Git config) changes what they print. Git commits get a fixed
/// author and date, so their ids are the same on every run.
#[test]
fn command_examples() {
    if std::env::var_os(CLEAN_ENV).is_none() {
        // This test's own name in the suite (`docs::command_examples`), from
        // the module path, so a moved file cannot make the child run nothing.
        let module = module_path!().split_once("::").map_or("", |(_, m)| m);
        let name = format!("{module}::command_examples");
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", &name, "--nocapture"])
            .current_dir(root())
            .env_clear()
            .env(CLEAN_ENV, "1");
        for keep in ["PATH", "TRYCMD", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP"] {
            if let Some(value) = std::env::var_os(keep) {
                child.env(keep, value);
            }
        }
        // trycmd reports every block; show that only when something differs.
        let out = child.output().unwrap();
        assert!(
            out.status.success(),
            "the documented examples differ (regenerate: TRYCMD=overwrite cargo test --test suite docs::):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("test result: ok. 1 passed"),
            "the child process ran no examples:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let git = which("git").expect("git is on PATH");
    trycmd::TestCases::new()
        .register_bin("wpc", Path::new(env!("CARGO_BIN_EXE_wpc")))
        .register_bin("git", git)
        .env("NO_COLOR", "1")
        // The demo release key that docs/commands/release-demo trusts; the
        // pages publish it, as its only use is these examples.
        .env(
            "WPC_SIGNING_KEY",
            "l5qSjGgdbSkNgbPETkEJSDlw09nrMgBeu4lBm8VPv6s",
        )
        .env("HOME", scratch.path().to_string_lossy())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Dana Demo")
        .env("GIT_AUTHOR_EMAIL", "dana@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Dana Demo")
        .env("GIT_COMMITTER_EMAIL", "dana@example.com")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .case("docs/commands/*.md")
        .skip("docs/commands/README.md")
        // The README's samples are examples like any other: run them too.
        .case("README.md")
        .run();
    if std::env::var_os("TRYCMD").is_some_and(|v| v == "overwrite") {
        elide_run_dependent_output();
    }
}

/// After `TRYCMD=overwrite`: in the pages that release (those whose sandbox
/// is `release-demo/`), the parts of the output that differ on every run
/// (times, the release branch's commit ids, signatures over `issued_at`)
/// become `[..]` again. trycmd keeps a `[..]` only on a line that otherwise
/// still matches, so without this a regeneration would write them out.
fn elide_run_dependent_output() {
    let dir = root().join("docs/commands");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let page = entry.unwrap().path();
        if page.extension().is_none_or(|e| e != "md") || !page.with_extension("in").exists() {
            continue;
        }
        let text = read(&page);
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            if line.starts_with("$ ") || line.starts_with("> ") {
                out.push_str(line);
            } else {
                out.push_str(&elide_line(line));
            }
        }
        if out != text {
            std::fs::write(&page, out).unwrap();
        }
    }
}

fn elide_line(line: &str) -> String {
    let mut line = line.to_owned();
    // `wpc-releases is at <commit>`, `INVALID commit <commit>`
    for prefix in ["is at ", "INVALID commit "] {
        if let Some(at) = line.find(prefix).map(|at| at + prefix.len()) {
            let hex = line[at..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .count();
            if hex == 40 {
                line.replace_range(at..at + hex, "[..]");
            }
        }
    }
    if let Some(at) = line.find("\"signature_b64u\": \"").map(|at| at + 19) {
        if let Some(end) = line[at..].find('"') {
            line.replace_range(at..at + end, "[..]");
        }
    }
    // RFC 3339 times, `2026-11-30T01:17:56Z`
    let mut at = 0;
    while at + 20 <= line.len() {
        let candidate = &line.as_bytes()[at..at + 20];
        let shape = b"dddd-dd-ddTdd:dd:ddZ";
        let is_time = candidate.iter().zip(shape).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        });
        if is_time {
            line.replace_range(at..at + 20, "[..]");
            at += 4;
        } else {
            at += 1;
        }
    }
    line
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| {
            dir.join(program)
                .with_extension(std::env::consts::EXE_EXTENSION)
        })
        .find(|candidate| candidate.is_file())
}

/// A row of the key table of docs/wpc-format.md, or what the schema says it
/// must be.
#[derive(Debug, PartialEq)]
struct KeyDoc {
    kind: String,
    required: bool,
}

/// Every key of the WPC schema with its type and whether it is required, and
/// the enum values, patterns and bounds its documentation must mention.
fn schema_keys(
    schema: &Value,
    node: &Value,
    prefix: &str,
    required: bool,
    out: &mut Vec<(String, KeyDoc, Vec<String>)>,
) {
    let node = resolve(schema, node);
    let kind = if let Some(value) = node.get("const") {
        format!("`{value}`")
    } else if node.get("enum").is_some() {
        "enum".to_owned()
    } else {
        match node["type"].as_str().unwrap() {
            "object" => "table".to_owned(),
            "array" => {
                let items = resolve(schema, &node["items"]);
                match items["type"].as_str().unwrap() {
                    "object" => "array of table".to_owned(),
                    other => format!("array of {other}"),
                }
            }
            other => other.to_owned(),
        }
    };
    let mut mentions = Vec::new();
    for value in node
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        mentions.push(format!("`{value}`"));
    }
    let items = node.get("items").map(|i| resolve(schema, i));
    for n in [Some(node), items].into_iter().flatten() {
        if let Some(pattern) = n.get("pattern").and_then(Value::as_str) {
            mentions.push(format!("`{pattern}`"));
        }
        for bound in [
            "minLength",
            "maxLength",
            "maxItems",
            "minimum",
            "exclusiveMinimum",
        ] {
            // A minimum length of 1 reads as "1–N characters" or not at all.
            if let Some(value) = n.get(bound).filter(|v| !(bound == "minLength" && *v == 1)) {
                mentions.push(value.to_string());
            }
        }
    }
    out.push((prefix.to_owned(), KeyDoc { kind, required }, mentions));

    let (object, item_prefix) = match &items {
        Some(items) if items.get("properties").is_some() => (*items, format!("{prefix}[].")),
        _ => (node, format!("{prefix}.")),
    };
    let required_keys: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (key, child) in object
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let path = format!("{item_prefix}{key}");
        schema_keys(
            schema,
            child,
            &path,
            required_keys.contains(&key.as_str()),
            out,
        );
    }
}

/// Follows a local `$ref` (`#/$defs/...`).
fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(pointer) => schema.pointer(pointer.trim_start_matches('#')).unwrap(),
        None => node,
    }
}

#[test]
fn wpc_format_documents_every_schema_key() {
    let schema: Value =
        serde_json::from_str(&read(&root().join("schema/wpc.v1.schema.json"))).unwrap();
    let mut keys = Vec::new();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (key, child) in schema["properties"].as_object().unwrap() {
        schema_keys(
            &schema,
            child,
            key,
            required.contains(&key.as_str()),
            &mut keys,
        );
    }

    // The rows of the table under "## Every key": | `key` | type | required | values | meaning |
    let doc = read(&root().join("docs/wpc-format.md"));
    let section = doc
        .split("\n## Every key")
        .nth(1)
        .expect("a section `## Every key`");
    let mut rows = std::collections::BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Some(key) = cells[0].strip_prefix('`').and_then(|k| k.strip_suffix('`')) else {
            continue; // the header and the separator
        };
        let row = KeyDoc {
            kind: cells[1].to_owned(),
            required: cells[2] == "yes",
        };
        assert!(
            rows.insert(key.to_owned(), (row, cells[3].to_owned()))
                .is_none(),
            "docs/wpc-format.md documents `{key}` twice"
        );
    }

    let mut problems = Vec::new();
    for (key, expected, mentions) in &keys {
        let Some((row, values)) = rows.remove(key) else {
            problems.push(format!("`{key}` is in the schema but not documented"));
            continue;
        };
        if row != *expected {
            problems.push(format!(
                "`{key}`: documented as {row:?}, the schema says {expected:?}"
            ));
        }
        for mention in mentions {
            if !values.contains(mention.as_str()) {
                problems.push(format!(
                    "`{key}`: the values column does not mention {mention}"
                ));
            }
        }
    }
    for key in rows.keys() {
        problems.push(format!("`{key}` is documented but not in the schema"));
    }
    assert!(keys.len() > 25, "the schema walk found too few keys");
    assert!(
        problems.is_empty(),
        "docs/wpc-format.md vs the schema:\n{}",
        problems.join("\n")
    );
}

/// The README's quickstart, run as written (by `sh`, in an empty folder):
/// from `wpc init` to a released, verified policy and a decision.
#[cfg(unix)]
#[test]
fn readme_quickstart_works() {
    let readme = read(&root().join("README.md"));
    let section = readme
        .split("\n## Quickstart")
        .nth(1)
        .expect("a `## Quickstart` section");
    let script = section
        .split("```sh\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("a ```sh block");
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_wpc")).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = Command::new("sh")
        .args(["-e", "-c", script])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Dana Demo")
        .env("GIT_AUTHOR_EMAIL", "dana@example.com")
        .env("GIT_COMMITTER_NAME", "Dana Demo")
        .env("GIT_COMMITTER_EMAIL", "dana@example.com")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The last command is the decision, a deny (exit 1); every other one
    // must have succeeded for `sh -e` to get there.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for expected in [
        "6 passed, 0 failed",
        "1 released, 0 refused",
        "wpc-releases: valid",
    ] {
        assert!(
            stdout.contains(expected),
            "no `{expected}` in:\n{stdout}\n{stderr}"
        );
    }
    assert!(stdout.contains("VALID   envelope.json"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("deny: "),
        "{stdout}"
    );
}

/// The complete policies shown in the documentation (```toml blocks with a
/// `wpc_version` and a `policy_name`) match the schema; the rule pages are left out, since they
/// show broken policies on purpose.
#[test]
fn documented_policies_match_the_schema() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in markdown_files() {
        if file.starts_with(root().join("docs/rules")) {
            continue;
        }
        for block in read(&file).split("```toml\n").skip(1) {
            let block = block.split("\n```").next().unwrap();
            if !(block.contains("wpc_version") && block.contains("policy_name")) {
                continue;
            }
            checked += 1;
            let value: Value = match toml::from_str(block) {
                Ok(value) => value,
                Err(err) => {
                    problems.push(format!("{}: {err}", file.display()));
                    continue;
                }
            };
            for error in wpc::policy::schema::errors(wpc::policy::schema::Schema::Policy, &value) {
                problems.push(format!("{}: {error}", file.display()));
            }
        }
    }
    assert!(checked >= 2, "found too few policies in the docs");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The rows of the key table of docs/wpc-format.md: key, required, the row.
fn format_rows() -> Vec<(String, bool, String)> {
    let doc = read(&root().join("docs/wpc-format.md"));
    let section = doc.split("\n## Every key").nth(1).unwrap();
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let key = cells[0].strip_prefix('`')?.strip_suffix('`')?;
            Some((key.to_owned(), cells[2] == "yes", line.to_owned()))
        })
        .collect()
}

/// A key the format page calls optional but that a rule, at its default
/// level under the `wpc.toml` of `wpc init`, makes an error to leave out:
/// the page must name that rule beside the key, or users read "optional"
/// and get an error.
#[test]
fn optional_keys_that_default_rules_require_say_which_rule() {
    let dir = tempfile::tempdir().unwrap();
    let init = assert_cmd::Command::cargo_bin("wpc")
        .unwrap()
        .current_dir(dir.path())
        .args(["init", "."])
        .output()
        .unwrap();
    assert!(init.status.success());
    let policy_path = dir.path().join("policies/agent-change-reviewer.toml");
    let policy = read(&policy_path);
    let mut drift = Vec::new();
    for (key, required, meaning) in format_rows() {
        if required || key.contains("[]") {
            continue;
        }
        let mut doc: toml_edit::DocumentMut = policy.parse().unwrap();
        let (parent, leaf) = key.rsplit_once('.').unwrap_or(("", &key));
        let table = parent
            .split('.')
            .filter(|p| !p.is_empty())
            .try_fold(doc.as_table_mut(), |table, part| {
                table.get_mut(part).and_then(toml_edit::Item::as_table_mut)
            });
        if table.and_then(|t| t.remove(leaf)).is_none() {
            continue;
        }
        std::fs::write(&policy_path, doc.to_string()).unwrap();
        let out = assert_cmd::Command::cargo_bin("wpc")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--format", "github"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| l.starts_with("::error ")) {
            let code = line
                .split("title=")
                .nth(1)
                .and_then(|t| t.split("::").next())
                .unwrap_or_default();
            if !meaning.contains(code) {
                drift.push(format!(
                    "`{key}` is optional on the page, but without it {code} is an error: {line}"
                ));
            }
        }
    }
    std::fs::write(&policy_path, policy).unwrap();
    assert!(
        drift.is_empty(),
        "docs/wpc-format.md:\n{}",
        drift.join("\n")
    );
}

/// Every reference in the code, docs and templates points at something in
/// this repository: no section of a specification or note a user does not
/// have (`SPEC §2`, `refs/...md`, `../shared`), and every `docs/....md` the
/// code or templates name exists.
#[test]
fn references_point_into_this_repository() {
    let mut files: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "action.yml"]
        .iter()
        .map(|f| root().join(f))
        .collect();
    for dir in [
        "src",
        "docs",
        "templates",
        "examples",
        "schema",
        "scripts",
        "action",
    ] {
        files.extend(
            walkdir::WalkDir::new(root().join(dir))
                .into_iter()
                .map(Result::unwrap)
                .filter(|e| e.file_type().is_file())
                // The protocol's own schemas, vendored as they are.
                .filter(|e| !e.path().starts_with(root().join("schema/clawsig")))
                .map(walkdir::DirEntry::into_path),
        );
    }
    let mut broken = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let shown = file.strip_prefix(root()).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            let at = format!("{shown}:{}", n + 1);
            if line.contains("SPEC §") || line.contains("../shared") {
                broken.push(format!("{at}: {line}"));
            }
            // `refs/heads/...` is Git's; any other `refs/NAME.md` is a note
            // this repository does not have.
            for (i, _) in line.match_indices("refs/") {
                let rest = &line[i + 5..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                    .collect();
                if name.ends_with(".md") || name.ends_with(".txt") {
                    broken.push(format!("{at}: {line}"));
                }
            }
            if file.extension().is_some_and(|e| e != "md") {
                for (i, _) in line.match_indices("docs/") {
                    let path: String = line[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || "-_./".contains(*c))
                        .collect();
                    // `docs/rules/CODE.md` names the pattern, not a file.
                    let pattern = path.contains("CODE.md");
                    if path.ends_with(".md") && !pattern && !root().join(&path).is_file() {
                        broken.push(format!("{at}: no file {path}"));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "references to files this repository does not have:\n{}",
        broken.join("\n")
    );
}

//! Reading a config the way OpenClaw does: JSON5, then `$include` (relative to
//! the including file, confined to the config's folder or an include root,
//! at most [`MAX_INCLUDE_DEPTH`] deep, no cycles), then `${VAR}` substitution.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::report::{Finding, Severity};

use super::codes;
use super::json5::{self, Kind, Member, Node};

/// OpenClaw's own limit on nested includes.
pub const MAX_INCLUDE_DEPTH: usize = 10;
/// OpenClaw refuses include paths this long or longer.
pub const MAX_INCLUDE_PATH: usize = 4096;
/// Most include reads one config may cause (the same file included twice
/// counts twice), so a fan-out of includes (a list of 50 files each including
/// a list of 50...) stays bounded in time and memory.
pub const MAX_INCLUDE_READS: usize = 256;

/// Where `${VAR}` values come from.
#[derive(Clone, Debug, Default)]
pub enum Env {
    /// Leave every `${VAR}` as written (reproducible audits, no secrets read).
    #[default]
    Unresolved,
    /// Substitute from these variables (the process environment, for `--env`).
    Vars(HashMap<String, String>),
}

#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub env: Env,
    /// Folders besides the config's own that includes may read
    /// (`OPENCLAW_INCLUDE_ROOTS`).
    pub include_roots: Vec<PathBuf>,
}

/// A config after includes and substitution.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub root: Node,
    /// Every included file, in the order first read.
    pub includes: Vec<PathBuf>,
}

/// Load `path`. Errors that stop OpenClaw from loading the config (syntax,
/// includes) come back as `Err`; duplicate keys and unset variables are
/// findings beside a usable config.
pub fn load(path: &Path, options: &LoadOptions) -> Result<(Loaded, Vec<Finding>), Vec<Finding>> {
    let mut findings = Vec::new();
    let root = parse_file(path, &mut findings).map_err(|f| vec![f])?;
    let config_dir = canonical_dir(path).map_err(|why| {
        vec![
            Finding::new(
                codes::SYNTAX,
                Severity::Error,
                format!("cannot resolve the config's folder: {why}"),
            )
            .in_file(path),
        ]
    })?;
    let mut allowed_roots = vec![config_dir];
    allowed_roots.extend(
        options
            .include_roots
            .iter()
            .filter_map(|r| r.canonicalize().ok()),
    );
    let mut resolver = Resolver {
        roots: allowed_roots,
        stack: vec![path.canonicalize().unwrap_or_else(|_| path.to_path_buf())],
        includes: Vec::new(),
        reads: 0,
        findings: &mut findings,
    };
    let root = resolver.resolve(root, path);
    let includes = std::mem::take(&mut resolver.includes);
    let root = root.map_err(|err| {
        let mut all = vec![err];
        all.append(&mut findings);
        all
    })?;
    let mut root = root;
    substitute(&mut root, &options.env, &mut findings);
    Ok((
        Loaded {
            path: path.to_path_buf(),
            root,
            includes,
        },
        findings,
    ))
}

fn parse_file(path: &Path, findings: &mut Vec<Finding>) -> Result<Node, Finding> {
    let bytes = crate::fsio::read(path, crate::fsio::OPENCLAW_CONFIG)
        .map_err(|err| crate::policy::unreadable(codes::SYNTAX, err))?;
    let src = json5::decode(path, bytes)?;
    let (node, duplicates) = json5::parse(&src)?;
    findings.extend(duplicates);
    Ok(node)
}

fn canonical_dir(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    absolute.parent().unwrap_or(Path::new("/")).canonicalize()
}

struct Resolver<'a> {
    roots: Vec<PathBuf>,
    /// Canonical paths of the files being included, outermost first.
    stack: Vec<PathBuf>,
    includes: Vec<PathBuf>,
    reads: usize,
    findings: &'a mut Vec<Finding>,
}

impl Resolver<'_> {
    /// Replace every `$include` under `node`; `file` is the file `node` was
    /// read from (relative include paths resolve against its folder).
    fn resolve(&mut self, node: Node, file: &Path) -> Result<Node, Finding> {
        match node.kind {
            Kind::Array(items) => {
                let items = items
                    .into_iter()
                    .map(|item| self.resolve(item, file))
                    .collect::<Result<_, _>>()?;
                Ok(Node {
                    kind: Kind::Array(items),
                    ..node
                })
            }
            Kind::Object(members) => {
                let (include, siblings): (Vec<Member>, Vec<Member>) =
                    members.into_iter().partition(|m| m.key == "$include");
                let mut resolved = Vec::with_capacity(siblings.len());
                for member in siblings {
                    resolved.push(Member {
                        value: self.resolve(member.value, file)?,
                        ..member
                    });
                }
                let here = Node {
                    kind: Kind::Object(resolved),
                    src: node.src,
                    range: node.range,
                };
                let Some(include) = include.into_iter().next_back() else {
                    return Ok(here);
                };
                let mut base = self.include(&include.value, file)?;
                // Siblings of `$include` are applied after, and win.
                let Node { kind, src, range } = here;
                if let Kind::Object(members) = kind {
                    if !members.is_empty() {
                        merge(
                            &mut base,
                            Node {
                                kind: Kind::Object(members),
                                src,
                                range,
                            },
                        );
                    }
                }
                Ok(base)
            }
            kind => Ok(Node { kind, ..node }),
        }
    }

    /// The value of an `$include` (one path, or a list deep-merged in order).
    fn include(&mut self, spec: &Node, file: &Path) -> Result<Node, Finding> {
        match &spec.kind {
            Kind::String(target) => self.read(spec, target, file),
            Kind::Array(items) if !items.is_empty() => {
                let mut merged: Option<Node> = None;
                for item in items {
                    let Some(target) = item.as_str() else {
                        return Err(error(item, "`$include` entries must be strings"));
                    };
                    let value = self.read(item, target, file)?;
                    match &mut merged {
                        Some(base) => merge(base, value),
                        None => merged = Some(value),
                    }
                }
                merged.ok_or_else(|| error(spec, "empty `$include`"))
            }
            _ => Err(error(
                spec,
                "`$include` must be a path or a non-empty list of paths",
            )),
        }
    }

    fn read(&mut self, at: &Node, target: &str, file: &Path) -> Result<Node, Finding> {
        if target.contains('\0') {
            return Err(error(at, "include path contains a NUL byte"));
        }
        if target.len() >= MAX_INCLUDE_PATH {
            return Err(error(
                at,
                format!("include path is {MAX_INCLUDE_PATH} bytes or longer"),
            ));
        }
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            return Err(error(
                at,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} levels"),
            ));
        }
        if self.reads >= MAX_INCLUDE_READS {
            return Err(error(
                at,
                format!("more than {MAX_INCLUDE_READS} includes in one config"),
            ));
        }
        self.reads += 1;
        let shown = file.parent().unwrap_or(Path::new("")).join(target);
        let canonical = shown.canonicalize().map_err(|why| {
            error(
                at,
                format!("cannot read included file {}: {why}", shown.display()),
            )
        })?;
        if !self.roots.iter().any(|root| canonical.starts_with(root)) {
            return Err(error(
                at,
                format!(
                    "included file {} is outside the config's folder (and every include root)",
                    shown.display()
                ),
            )
            .help("OpenClaw refuses includes outside the folder holding the config; move the file or add its folder to OPENCLAW_INCLUDE_ROOTS"));
        }
        if self.stack.contains(&canonical) {
            return Err(error(
                at,
                format!(
                    "include cycle: {} is already being included",
                    shown.display()
                ),
            ));
        }
        let node = parse_file(&shown, self.findings)?;
        if !self.includes.contains(&shown) {
            self.includes.push(shown.clone());
        }
        self.stack.push(canonical);
        let resolved = self.resolve(node, &shown);
        self.stack.pop();
        resolved
    }
}

fn error(at: &Node, message: impl Into<String>) -> Finding {
    at.finding(codes::INCLUDE, Severity::Error, message)
}

/// Deep merge: objects merge key by key, anything else is replaced by the
/// later value (arrays included, as in OpenClaw's merge).
fn merge(base: &mut Node, over: Node) {
    match (&mut base.kind, over.kind) {
        (Kind::Object(base_members), Kind::Object(over_members)) => {
            for member in over_members {
                match base_members.iter_mut().find(|m| m.key == member.key) {
                    Some(existing) => {
                        existing.key_range = member.key_range;
                        merge(&mut existing.value, member.value);
                    }
                    None => base_members.push(member),
                }
            }
        }
        (_, kind) => {
            *base = Node {
                kind,
                src: over.src,
                range: over.range,
            };
        }
    }
}

/// `${VAR}` in string values; `$${VAR}` is a literal `${VAR}`.
fn substitute(node: &mut Node, env: &Env, findings: &mut Vec<Finding>) {
    match &mut node.kind {
        Kind::String(s) if s.contains("${") => {
            let (text, missing) = expand(s, env);
            // A value that is nothing but an unset variable is unavailable to
            // its consumer (a gateway token `${UNSET}` is no token).
            let unavailable = matches!(env, Env::Vars(_))
                && missing.len() == 1
                && text == format!("${{{}}}", missing[0]);
            *s = text;
            if let Env::Vars(_) = env {
                for name in missing {
                    findings.push(node.finding(
                        codes::ENV_UNSET,
                        Severity::Warning,
                        format!("`${{{name}}}` is not set (or empty); OpenClaw keeps the literal text and treats the value as unavailable"),
                    ));
                }
            }
            if unavailable {
                node.kind = Kind::Null;
            }
        }
        Kind::Array(items) => items.iter_mut().for_each(|n| substitute(n, env, findings)),
        Kind::Object(members) => members
            .iter_mut()
            .for_each(|m| substitute(&mut m.value, env, findings)),
        _ => {}
    }
}

/// The expanded text and the names that had no value.
fn expand(text: &str, env: &Env) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(escaped) = tail.strip_prefix("$${") {
            if let Some(name) = var_name(escaped) {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
                rest = &escaped[name.len() + 1..];
                continue;
            }
        }
        if let Some(after) = tail.strip_prefix("${") {
            if let Some(name) = var_name(after) {
                let value = match env {
                    Env::Vars(vars) => vars.get(name).filter(|v| !v.is_empty()),
                    Env::Unresolved => None,
                };
                match value {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push_str(&tail[..name.len() + 3]);
                        missing.push(name.to_owned());
                    }
                }
                rest = &after[name.len() + 1..];
                continue;
            }
        }
        out.push('$');
        rest = &tail[1..];
    }
    out.push_str(rest);
    (out, missing)
}

/// `NAME}` at the start of `s` with NAME matching `[A-Z_][A-Z0-9_]*`.
fn var_name(s: &str) -> Option<&str> {
    let end = s.find('}')?;
    let name = &s[..end];
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_uppercase() || first == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
    .then_some(name)
}

/// Whether a string value, as written, references the environment (so it is
/// not a literal secret).
pub fn references_env(node: &Node) -> bool {
    let text = node.source_text();
    text.contains("${") && !text.contains("$${")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Env {
        Env::Vars(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn expands_variables_and_escapes() {
        let env = vars(&[("TOKEN", "abc"), ("EMPTY", "")]);
        assert_eq!(expand("x${TOKEN}y", &env), ("xabcy".into(), vec![]));
        assert_eq!(expand("$${TOKEN}", &env), ("${TOKEN}".into(), vec![]));
        assert_eq!(
            expand("${EMPTY}", &env),
            ("${EMPTY}".into(), vec!["EMPTY".into()])
        );
        assert_eq!(
            expand("${lower} $ ${", &env),
            ("${lower} $ ${".into(), vec![])
        );
        assert_eq!(
            expand("${TOKEN}", &Env::Unresolved),
            ("${TOKEN}".into(), vec!["TOKEN".into()])
        );
    }

    #[test]
    fn merge_is_deep_and_later_wins() {
        let parse = |t: &str| {
            json5::parse(&crate::report::SourceFile::new("a", t.to_owned()))
                .unwrap()
                .0
        };
        let mut a = parse("{x: {y: 1, z: [1]}, k: 1}");
        merge(&mut a, parse("{x: {z: [2], w: 3}}"));
        assert_eq!(a.at(&["x", "y"]).unwrap().kind, Kind::Number(1.0));
        assert_eq!(a.at(&["x", "w"]).unwrap().kind, Kind::Number(3.0));
        assert_eq!(a.at(&["x", "z"]).unwrap().as_array().unwrap().len(), 1);
        assert_eq!(a.at(&["x", "z"]).unwrap().source_text(), "[2]");
    }
}

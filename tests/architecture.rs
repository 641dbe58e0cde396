#![allow(clippy::unwrap_used, clippy::panic)]
//! The layering of docs/architecture.md, enforced.
//!
//! The table in that page is the specification: every top-level module of
//! the library has a layer, and a module may use only modules of lower
//! layers (so there is no cycle and no sideways edge). Modules marked core
//! use no toolchain module and none of the crates that bring Git, GitHub or
//! a server, so a runtime or gateway can embed them.
//!
//! Edges are read from the tokens of every file under `src/` (comments and
//! strings are not code; paths inside macro calls are), including test code:
//! a test helper that reaches up a layer is an edge like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Crates a core module must not use: Git, GitHub, the async server stack.
const TOOLCHAIN_CRATES: &[&str] = &[
    "git2",
    "octocrab",
    "tokio",
    "axum",
    "hyper",
    "hyper_util",
    "tower",
    "tower_http",
    "reqwest",
];

#[derive(Debug, Clone, Copy)]
struct Place {
    layer: u32,
    core: bool,
}

/// The layer table of docs/architecture.md: rows `| N | `a`, `b` | yes | … |`.
fn layer_table() -> BTreeMap<String, Place> {
    let page = std::fs::read_to_string("docs/architecture.md").unwrap();
    let mut table = BTreeMap::new();
    for line in page.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, layer, modules, core, ..] = cells.as_slice() else {
            continue;
        };
        let Ok(layer) = layer.parse::<u32>() else {
            continue;
        };
        let core = match *core {
            "yes" => true,
            "no" => false,
            other => panic!("docs/architecture.md: layer {layer}: core is `{other}`, not yes/no"),
        };
        for module in modules.split(',') {
            let module = module.trim().trim_matches('`');
            let previous = table.insert(module.to_owned(), Place { layer, core });
            assert!(
                previous.is_none(),
                "docs/architecture.md: `{module}` is listed twice"
            );
        }
    }
    assert!(!table.is_empty(), "docs/architecture.md has no layer table");
    table
}

/// The library's top-level modules, from `src/lib.rs`.
fn library_modules() -> BTreeSet<String> {
    let tokens: Vec<TokenTree> = parse(Path::new("src/lib.rs")).into_iter().collect();
    tokens
        .windows(2)
        .filter_map(|pair| match pair {
            [TokenTree::Ident(keyword), TokenTree::Ident(name)] if keyword == "mod" => {
                Some(name.to_string())
            }
            _ => None,
        })
        .collect()
}

fn parse(path: &Path) -> TokenStream {
    let source = std::fs::read_to_string(path).unwrap();
    TokenStream::from_str(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// A use of another module or a crate, with the line it is on.
#[derive(Debug)]
struct Reference {
    target: String,
    line: usize,
}

/// The top-level module a file belongs to and how deep in the module tree
/// the file's own module is (`src/a.rs` and `src/a/mod.rs`: 1, `src/a/b.rs`: 2).
fn module_of(path: &Path) -> (String, usize) {
    let relative = path.strip_prefix("src").unwrap();
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod"));
    (parts[0].clone(), depth)
}

/// Every module of this crate (`crate::x`, `$crate::x`, `super::…::x` that
/// climbs to the crate root, `use crate::{x, y}`) and every crate (`c::…`
/// at the start of a path) the tokens name.
fn references(tokens: TokenStream, depth: usize, into: &mut Vec<Reference>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let is_path_sep = |i: usize| {
        matches!(
            (tokens.get(i), tokens.get(i + 1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
        )
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(group) => {
                // `mod name { … }` goes one module deeper.
                let inline_module = group.delimiter() == Delimiter::Brace
                    && i >= 2
                    && matches!(&tokens[i - 2], TokenTree::Ident(k) if k == "mod");
                references(group.stream(), depth + usize::from(inline_module), into);
            }
            TokenTree::Ident(ident) if !(i >= 2 && is_path_sep(i - 2)) => {
                let name = ident.to_string();
                let line = ident.span().start().line;
                if name == "crate" && is_path_sep(i + 1) {
                    match tokens.get(i + 3) {
                        Some(TokenTree::Ident(target)) => into.push(Reference {
                            target: target.to_string(),
                            line,
                        }),
                        Some(TokenTree::Group(list)) => {
                            // `use crate::{a::b, c}`: the first name of each item.
                            let mut item_start = true;
                            for token in list.stream() {
                                match token {
                                    TokenTree::Ident(target) if item_start => {
                                        into.push(Reference {
                                            target: target.to_string(),
                                            line,
                                        });
                                        item_start = false;
                                    }
                                    TokenTree::Punct(p) if p.as_char() == ',' => item_start = true,
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                } else if name == "super" {
                    let mut supers = 1;
                    let mut j = i;
                    while is_path_sep(j + 1)
                        && matches!(tokens.get(j + 3), Some(TokenTree::Ident(s)) if s == "super")
                    {
                        supers += 1;
                        j += 3;
                    }
                    if supers >= depth
                        && is_path_sep(j + 1)
                        && let Some(TokenTree::Ident(target)) = tokens.get(j + 3)
                    {
                        into.push(Reference {
                            target: target.to_string(),
                            line,
                        });
                    }
                    i = j;
                } else if is_path_sep(i + 1) && TOOLCHAIN_CRATES.contains(&name.as_str()) {
                    into.push(Reference { target: name, line });
                }
            }
            _ => {}
        }
        i += 1;
    }
}

#[test]
fn every_module_uses_only_lower_layers_and_core_stays_embeddable() {
    let table = layer_table();
    let modules = library_modules();
    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(
        listed, modules,
        "docs/architecture.md's layer table must list exactly the modules of src/lib.rs"
    );

    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        if file == Path::new("src/lib.rs") || file == Path::new("src/main.rs") {
            continue;
        }
        let (module, depth) = module_of(file);
        let from = table[&module];
        let mut found = Vec::new();
        references(parse(file), depth, &mut found);
        for Reference { target, line } in found {
            if target == module {
                continue;
            }
            let at = format!("{}:{line}", file.display());
            if TOOLCHAIN_CRATES.contains(&target.as_str()) {
                if from.core {
                    violations.push(format!(
                        "{at}: core module `{module}` uses crate `{target}`"
                    ));
                }
                continue;
            }
            // `crate::DOCS_URL` and other items of the crate root.
            let Some(to) = table.get(&target) else {
                continue;
            };
            if to.layer >= from.layer {
                violations.push(format!(
                    "{at}: `{module}` (layer {}) uses `{target}` (layer {})",
                    from.layer, to.layer
                ));
            } else if from.core && !to.core {
                violations.push(format!(
                    "{at}: core module `{module}` uses toolchain module `{target}`"
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "{} edges break the layering of docs/architecture.md:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The checker itself sees the edges it must see: a test that could not fail
/// would prove nothing.
#[test]
fn the_reference_reader_finds_every_path_form() {
    let source = r#"
        use crate::alpha::One;
        use crate::{beta::Two, gamma};
        // crate::in_a_comment
        const S: &str = "crate::in_a_string";
        fn f() { let _ = crate::delta::f(); assert!(crate::epsilon::X); git2::Repository::open("."); }
        mod tests { use super::super::zeta; use super::inner; }
        macro_rules! m { () => { $crate::eta::x() }; }
        fn g() { let _ = other::git2::Thing; }
    "#;
    let mut found = Vec::new();
    references(TokenStream::from_str(source).unwrap(), 1, &mut found);
    let targets: Vec<&str> = found.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "alpha", "beta", "gamma", "delta", "epsilon", "git2", "zeta", "eta"
        ]
    );
    assert_eq!(found[3].line, 6);
}

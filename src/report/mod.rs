//! Findings and their renderers.
//!
//! Every domain module (policy, lint, crypto, ...) reports problems as
//! [`Finding`]s located in a [`SourceFile`]; this module turns a list of them
//! into text, JSON, SARIF or GitHub workflow commands. It knows nothing about
//! the domain: rule metadata comes in as [`RuleInfo`].

mod github;
mod json;
pub mod registry;
mod sarif;
mod source;
mod text;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use registry::{Described, Registry};
pub use source::SourceFile;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte range in a source file, with its 1-based start line and column
/// (columns count characters, not bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub source: SourceFile,
    pub range: Range<usize>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn path(&self) -> &Path {
        self.source.path()
    }
}

/// One problem found in one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable rule code, e.g. `WPC006`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where it is; `None` for findings about the repository as a whole.
    pub location: Option<Location>,
    /// What to do about it.
    pub help: Option<String>,
    /// A file the finding is about when there is no span in it (a missing
    /// file, an unreadable one).
    pub path: Option<PathBuf>,
}

impl Finding {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            message: message.into(),
            location: None,
            help: None,
            path: None,
        }
    }

    pub fn at(mut self, source: &SourceFile, range: Range<usize>) -> Self {
        self.location = Some(source.locate(range));
        self
    }

    pub fn in_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The file this finding is about, if any.
    pub fn file(&self) -> Option<&Path> {
        self.location
            .as_ref()
            .map(Location::path)
            .or(self.path.as_deref())
    }

    /// `file:line:col`, `file`, or nothing.
    pub fn position(&self) -> String {
        match (&self.location, &self.path) {
            (Some(loc), _) => format!("{}:{}:{}", loc.path().display(), loc.line, loc.column),
            (None, Some(path)) => path.display().to_string(),
            (None, None) => String::new(),
        }
    }
}

/// What a renderer needs to know about a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub help_uri: String,
}

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, e.g. `WPC006`; never reused for another rule.
    pub code: &'static str,
    /// Stable kebab-case name.
    pub name: &'static str,
    /// One line: what the rule finds.
    pub summary: &'static str,
    pub default_severity: Severity,
    /// The rule's documentation page (`docs/rules/CODE.md`).
    pub doc: &'static str,
}

impl RuleMeta {
    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            code: self.code,
            name: self.name,
            summary: self.summary,
            help_uri: format!("{}/rules/{}.md", crate::DOCS_URL, self.code),
        }
    }
}

/// The output formats of commands that report findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, with source snippets.
    Text,
    /// `wpc-findings/1` JSON (schema/wpc-findings.v1.schema.json).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

/// A finished set of findings, ready to render.
#[derive(Clone, Debug, Default)]
pub struct Report {
    findings: Vec<Finding>,
    /// Number of files that were checked (shown in summaries).
    pub files_checked: usize,
    /// The command that found them (`check`, `ci`...): SARIF's run
    /// category, so code scanning keeps each command's alerts apart.
    pub category: Option<&'static str>,
}

impl Report {
    pub fn new(mut findings: Vec<Finding>, files_checked: usize) -> Self {
        // A stable order keeps output diffable: by file, position, then code.
        findings.sort_by(|a, b| {
            let key = |f: &Finding| {
                (
                    f.file().map(Path::to_path_buf),
                    f.location.as_ref().map(|l| l.range.start),
                    f.code,
                )
            };
            key(a).cmp(&key(b))
        });
        Report {
            findings,
            files_checked,
            category: None,
        }
    }

    /// The same report, categorised as found by `command`.
    pub fn found_by(self, command: &'static str) -> Self {
        Report {
            category: Some(command),
            ..self
        }
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Whether any finding is at or above `threshold`.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    /// Findings located by file only and with no help to show, one line
    /// each (`path: error[CODE]: message`), for commands that point at
    /// `wpc check` for the details; every other finding is rendered as text
    /// in full after them.
    pub fn render_brief(&self, color: bool) -> String {
        let (brief, full): (Vec<&Finding>, Vec<&Finding>) = self
            .findings
            .iter()
            .partition(|f| f.location.is_none() && f.path.is_some() && f.help.is_none());
        let mut out: String = brief
            .iter()
            .map(|f| {
                format!(
                    "{}: {}[{}]: {}\n",
                    f.position(),
                    f.severity,
                    f.code,
                    f.message
                )
            })
            .collect();
        if !full.is_empty() {
            let rest = Report::new(full.into_iter().cloned().collect(), self.files_checked);
            out.push_str(&text::render(&rest, color));
        }
        out
    }

    /// Render in `format`. `rules` describes every rule that can appear (SARIF
    /// lists them all); `color` only affects `Format::Text`.
    pub fn render(&self, format: Format, rules: &[RuleInfo], color: bool) -> String {
        match format {
            Format::Text => text::render(self, color),
            Format::Json => json::render(self),
            Format::Sarif => sarif::render(self, rules),
            Format::Github => github::render(self),
        }
    }
}

/// Shared, cheaply clonable file text.
pub(crate) type SharedText = Arc<str>;

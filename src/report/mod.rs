//! Findings and their renderers.
//!
//! Every domain module (policy, lint, crypto, ...) reports problems as
//! [`Finding`]s located in a [`SourceFile`]; this module turns a list of them
//! into text, JSON, SARIF or GitHub workflow commands. It knows nothing about
//! the domain: rule metadata comes in as [`RuleInfo`]. Findings that do not
//! count (suppressed in the source, or accepted by a [`baseline`]) stay in
//! the report beside the others, so every output can show them.

pub mod baseline;
pub mod fingerprint;
pub mod format;
mod github;
mod json;
pub mod output;
pub mod registry;
mod sarif;
mod source;
mod text;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use format::{Envelope, FailOn, Format, Formats, Unsupported};
pub use output::{Explained, Output};
pub use registry::{Described, Registry};
pub use source::SourceFile;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        self.into()
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

    /// `file:line:col`.
    pub fn position(&self) -> String {
        format!("{}:{}:{}", self.path().display(), self.line, self.column)
    }

    /// This location as a finding's second place, saying what is there.
    pub fn annotated(self, label: impl Into<String>) -> Related {
        Related {
            location: self,
            label: label.into(),
        }
    }
}

/// A further place a finding points at, labelled with what is there: the
/// deny that covers a dead allow, the file that used a name first. Every
/// output format shows them after the finding's own location; they take no
/// part in its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub label: String,
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
    /// Other places the finding points at, in the order they are shown.
    pub related: Vec<Related>,
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
            related: Vec::new(),
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

    /// Adds a labelled second place (see [`Location::annotated`]).
    pub fn with_related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }

    /// The message on one line, each related place after it as
    /// `; label: file:line:col`: for outputs with one line per finding.
    pub fn one_line(&self) -> String {
        let mut line = self.message.replace(['\n', '\r'], " ");
        for related in &self.related {
            line.push_str(&format!(
                "; {}: {}",
                related.label.replace(['\n', '\r'], " "),
                related.location.position()
            ));
        }
        line
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
            (Some(loc), _) => loc.position(),
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

/// The formats findings render in: `wpc-findings` JSON
/// (schema/wpc-findings.v1.schema.json), SARIF, GitHub annotations, text.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json, Format::Sarif, Format::Github]);

/// Why a finding does not count toward the verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suppression {
    /// A `# wpc:ignore CODE -- reason` comment in the file; the reason as
    /// written (empty when it has none, which is a finding of its own).
    InSource { reason: String },
    /// An entry of the baseline file (`--baseline`).
    Baseline,
}

/// A finding that was found and does not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub suppression: Suppression,
}

/// One finding of a report, open or suppressed, with its fingerprint.
#[derive(Debug)]
pub struct Fingerprinted<'a> {
    pub finding: &'a Finding,
    pub suppression: Option<&'a Suppression>,
    pub fingerprint: String,
}

/// Where a finding is in a [`Report`].
#[derive(Clone, Copy)]
enum Slot {
    Open(usize),
    Suppressed(usize),
}

/// A finished set of findings, ready to render.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The findings that count.
    findings: Vec<Finding>,
    suppressed: Vec<Suppressed>,
    /// Baseline entries that no finding matched any more: the baseline can
    /// shrink by these.
    pub stale_baseline: Vec<baseline::Entry>,
    /// Number of files that were checked (shown in summaries).
    pub files_checked: usize,
    /// The command that found them (`check`, `ci`...): SARIF's run
    /// category, so code scanning keeps each command's alerts apart.
    pub category: Option<&'static str>,
}

impl Report {
    pub fn new(mut findings: Vec<Finding>, files_checked: usize) -> Self {
        findings.sort_by(|a, b| order(a).cmp(&order(b)));
        Report {
            findings,
            suppressed: Vec::new(),
            stale_baseline: Vec::new(),
            files_checked,
            category: None,
        }
    }

    /// The same report with `suppressed` added to its suppressed findings.
    pub fn with_suppressed(mut self, suppressed: Vec<Suppressed>) -> Self {
        self.suppressed.extend(suppressed);
        self.suppressed
            .sort_by(|a, b| order(&a.finding).cmp(&order(&b.finding)));
        self
    }

    /// The findings that do not count.
    pub fn suppressed(&self) -> &[Suppressed] {
        &self.suppressed
    }

    /// Every finding, open and suppressed, in one order with its
    /// fingerprint: the numbering of identical findings does not change when
    /// one of them is suppressed, so a baseline and code scanning keep
    /// recognising them.
    pub fn fingerprinted(&self) -> Vec<Fingerprinted<'_>> {
        self.slots()
            .into_iter()
            .map(|(slot, fingerprint)| match slot {
                Slot::Open(i) => Fingerprinted {
                    finding: &self.findings[i],
                    suppression: None,
                    fingerprint,
                },
                Slot::Suppressed(i) => Fingerprinted {
                    finding: &self.suppressed[i].finding,
                    suppression: Some(&self.suppressed[i].suppression),
                    fingerprint,
                },
            })
            .collect()
    }

    /// [`Report::fingerprinted`] as indexes into the two lists.
    fn slots(&self) -> Vec<(Slot, String)> {
        let mut all: Vec<(Slot, &Finding)> = (self.findings.iter().enumerate())
            .map(|(i, f)| (Slot::Open(i), f))
            .chain(
                (self.suppressed.iter().enumerate())
                    .map(|(i, s)| (Slot::Suppressed(i), &s.finding)),
            )
            .collect();
        // Stable: open before suppressed where the order cannot tell them apart.
        all.sort_by(|a, b| order(a.1).cmp(&order(b.1)));
        let prints = fingerprint::fingerprints(all.iter().map(|(_, f)| *f));
        all.into_iter().map(|(slot, _)| slot).zip(prints).collect()
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
            out.push_str(&text::render(&rest, color, false));
        }
        out
    }

    /// Render in `format`, one of [`FORMATS`]. `rules` describes every rule
    /// that can appear (SARIF lists them all); `color` only affects text.
    pub fn render(
        &self,
        format: Format,
        rules: &[RuleInfo],
        color: bool,
    ) -> Result<String, Unsupported> {
        self.render_verbose(format, rules, color, false)
    }

    /// [`Report::render`]; `verbose` text also lists the suppressed
    /// findings and the stale baseline entries (the other formats always
    /// carry them).
    pub fn render_verbose(
        &self,
        format: Format,
        rules: &[RuleInfo],
        color: bool,
        verbose: bool,
    ) -> Result<String, Unsupported> {
        Ok(match format {
            Format::Text => self.text(color, verbose),
            Format::Json => self.json(),
            Format::Sarif => self.sarif(rules),
            Format::Github => self.github(),
            Format::Junit | Format::Markdown => {
                return Err(Unsupported {
                    format,
                    output: "a report of findings",
                });
            }
        })
    }

    /// The report as text, rustc style.
    pub fn text(&self, color: bool, verbose: bool) -> String {
        text::render(self, color, verbose)
    }

    /// The report as a SARIF 2.1.0 log listing `rules`.
    pub fn sarif(&self, rules: &[RuleInfo]) -> String {
        sarif::render(self, rules)
    }

    /// The report as a `wpc-findings` JSON document.
    pub fn json(&self) -> String {
        json::render(self)
    }

    /// The report as GitHub workflow commands.
    pub fn github(&self) -> String {
        github::render(self)
    }
}

/// A stable order keeps output diffable: by file, position, then code.
fn order(f: &Finding) -> (Option<PathBuf>, Option<usize>, &'static str) {
    (
        f.file().map(Path::to_path_buf),
        f.location.as_ref().map(|l| l.range.start),
        f.code,
    )
}

/// A path as SARIF and the baseline write it: forward slashes, relative
/// paths stay relative (code scanning resolves them against the checkout).
pub(crate) fn portable_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// Shared, cheaply clonable file text.
pub(crate) type SharedText = Arc<str>;

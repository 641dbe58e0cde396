//! The baseline: findings a repository has accepted, so that adopting wpc
//! (or a new rule) fails only on findings that are new. A JSON file
//! (schema/wpc-baseline.v1.schema.json) listing each accepted finding by the
//! fingerprint SARIF uses too, which does not change when lines move; the
//! code, file and message are there for the people reading the file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Report, Slot, Suppressed, Suppression, portable_path};
use crate::error::error_enum;
use crate::fsio;

pub const FORMAT: &str = "wpc-baseline";
pub const VERSION: u32 = 1;

/// A baseline file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub format: String,
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// One accepted finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What the baseline matches on (SARIF `partialFingerprints`
    /// `wpcFinding/v1`).
    pub fingerprint: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Entry {
    /// `CODE file: message (fingerprint)`, as `-v` lists stale entries.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(file) = &self.file {
            write!(f, " {file}")?;
        }
        write!(f, ": {} ({})", self.message, self.fingerprint)
    }
}

error_enum! {
    pub enum BaselineError {
        Read(fsio::ReadError),
        Write(fsio::WriteError),
        #[error("{}: not a wpc baseline: {message}", path.display())]
        Invalid { path: PathBuf, message: String },
    }
}

/// Which baseline a command applies (`--baseline`, `--write-baseline`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    #[default]
    None,
    /// Read this baseline.
    Read(PathBuf),
    /// Write the findings of this run to this file first, then apply them.
    Write(PathBuf),
}

impl Choice {
    /// The baseline to apply: the one [`Choice::Read`] names, or `current`
    /// (the findings of this run) written to the [`Choice::Write`] file,
    /// with the note saying so (for stderr).
    pub fn resolve(
        &self,
        current: impl FnOnce() -> Baseline,
    ) -> Result<(Option<Baseline>, String), BaselineError> {
        match self {
            Choice::None => Ok((None, String::new())),
            Choice::Read(path) => Ok((Some(Baseline::load(path)?), String::new())),
            Choice::Write(path) => {
                let baseline = current();
                baseline.write(path)?;
                let note = format!(
                    "wrote {} findings to the baseline {}\n",
                    baseline.findings.len(),
                    path.display()
                );
                Ok((Some(baseline), note))
            }
        }
    }
}

impl Baseline {
    /// Read and check the baseline at `path`: its format and version, and
    /// that every fingerprint is one wpc could have written (a SHA-256 in
    /// unpadded base64url), so a hand-edited file fails rather than
    /// silently matching nothing.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let text = fsio::read_to_string(path, fsio::BASELINE)?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if baseline.format != FORMAT || baseline.version != VERSION {
            return Err(invalid(format!(
                "format `{}` version {}, expected `{FORMAT}` version {VERSION}",
                baseline.format, baseline.version
            )));
        }
        if let Some(bad) = baseline
            .findings
            .iter()
            .find(|e| !is_fingerprint(&e.fingerprint))
        {
            return Err(invalid(format!(
                "`{}` is not a finding fingerprint",
                bad.fingerprint
            )));
        }
        Ok(baseline)
    }

    /// Every finding of `report` that is not suppressed in its source: the
    /// open ones and those an earlier baseline accepted.
    pub fn of(report: &Report) -> Baseline {
        Baseline::of_reports([report])
    }

    /// [`Baseline::of`] over several reports (the stages of `wpc ci`).
    pub fn of_reports<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Baseline {
        let findings = reports
            .into_iter()
            .flat_map(Report::fingerprinted)
            .filter(|f| !matches!(f.suppression, Some(Suppression::InSource { .. })))
            .map(|f| Entry {
                fingerprint: f.fingerprint,
                code: f.finding.code.to_owned(),
                file: f.finding.file().map(portable_path),
                message: f.finding.message.clone(),
            })
            .collect();
        Baseline {
            format: FORMAT.to_owned(),
            version: VERSION,
            findings,
        }
    }

    /// Write the baseline to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        // Serializing plain structs of strings and integers cannot fail.
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        fsio::write_atomically(path, &json)?;
        Ok(())
    }

    /// Move the open findings of `report` that this baseline lists to its
    /// suppressed ones, and record in `matched` the fingerprints that
    /// matched (open or already suppressed in the source).
    pub fn suppress(&self, mut report: Report, matched: &mut HashSet<String>) -> Report {
        let listed: HashSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let mut accepted = vec![false; report.findings.len()];
        for (slot, fingerprint) in report.slots() {
            if listed.contains(fingerprint.as_str()) {
                if let Slot::Open(i) = slot {
                    accepted[i] = true;
                }
                matched.insert(fingerprint);
            }
        }
        let mut moved = Vec::new();
        let mut open = Vec::new();
        for (finding, accepted) in std::mem::take(&mut report.findings)
            .into_iter()
            .zip(accepted)
        {
            if accepted {
                moved.push(Suppressed {
                    finding,
                    suppression: Suppression::Baseline,
                });
            } else {
                open.push(finding);
            }
        }
        report.findings = open;
        report.with_suppressed(moved)
    }

    /// The entries none of `matched` is: accepted findings that are gone.
    pub fn stale(&self, matched: &HashSet<String>) -> Vec<Entry> {
        self.findings
            .iter()
            .filter(|e| !matched.contains(&e.fingerprint))
            .cloned()
            .collect()
    }

    /// Apply the baseline to the report of one command: accepted findings
    /// suppressed, the entries that matched nothing listed as stale.
    pub fn apply(&self, report: Report) -> Report {
        let mut matched = HashSet::new();
        let mut report = self.suppress(report, &mut matched);
        report.stale_baseline = self.stale(&matched);
        report
    }
}

/// Unpadded base64url of 32 bytes: 43 characters of the URL-safe alphabet.
fn is_fingerprint(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, Severity, SourceFile};

    fn report(text: &str) -> Report {
        let source = SourceFile::new("policies/p.toml", text);
        let findings = text
            .match_indices("\"exec\"")
            .map(|(start, m)| {
                Finding::new("WPC007", Severity::Error, "`exec` is dangerous")
                    .at(&source, start..start + m.len())
            })
            .collect();
        Report::new(findings, 1)
    }

    #[test]
    fn identical_findings_are_accepted_one_by_one() {
        let two = "a = [\"exec\"]\nb = [\"exec\"]\n";
        let mut baseline = Baseline::of(&report(two));
        assert_eq!(baseline.findings.len(), 2);
        assert_ne!(
            baseline.findings[0].fingerprint,
            baseline.findings[1].fingerprint
        );
        // Accept only the first: the second stays open.
        baseline.findings.truncate(1);
        let applied = baseline.apply(report(two));
        assert_eq!(
            (applied.findings().len(), applied.suppressed().len()),
            (1, 1)
        );
        assert_eq!(applied.suppressed()[0].suppression, Suppression::Baseline);
        assert!(applied.stale_baseline.is_empty());
    }

    #[test]
    fn entries_nothing_matches_are_stale_and_lines_do_not_matter() {
        let baseline = Baseline::of(&report("a = [\"exec\"]\n"));
        let moved = baseline.apply(report("# new\n\n\na = [\"exec\"]\n"));
        assert_eq!((moved.findings().len(), moved.suppressed().len()), (0, 1));
        let gone = baseline.apply(report("a = []\n"));
        assert_eq!(gone.stale_baseline, baseline.findings);
    }

    #[test]
    fn a_written_baseline_loads_and_a_tampered_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let baseline = Baseline::of(&report("a = [\"exec\"]\n"));
        baseline.write(&path).unwrap();
        assert_eq!(Baseline::load(&path).unwrap(), baseline);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"version\": 1", "\"version\": 2")).unwrap();
        assert!(matches!(
            Baseline::load(&path),
            Err(BaselineError::Invalid { .. })
        ));
    }
}

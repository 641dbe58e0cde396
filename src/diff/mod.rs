//! Semantic policy diff (docs/diff.md): policies at two revisions, paired by
//! `policy_name`, each change classified as widening, narrowing or neutral
//! (or a new or removed policy) with a severity and a one-line explanation;
//! and the approvals a diff requires by `wpc.toml [approvals]`.
//!
//! Tool patterns are compared as sets with `policy::pattern`, gates with
//! `decide::gate`: adding `deploy.prod` where `deploy.*` was allowed changes
//! nothing, replacing `repo.*` by `repo.read` narrows. Wherever a relation
//! cannot be proven the change counts as widening: the diff fails closed.

pub mod approvals;
mod classify;
mod mcp;
pub mod render;
mod revisions;
mod tools;

use serde::Serialize;

use crate::policy::Policy;

pub use approvals::{ApprovalClass, PatternError, Requirement, RequirementStatus};
pub use render::render;
pub use revisions::{DiffError, RevisionDiff, diff_revisions};

/// What a change does to what the agent may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Widening,
    Narrowing,
    Neutral,
    New,
    Removed,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Widening => "widening",
            Class::Narrowing => "narrowing",
            Class::Neutral => "neutral",
            Class::New => "new",
            Class::Removed => "removed",
        }
    }
}

/// How much a change matters. Ordered: `Info < Low < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Neutral changes.
    Info,
    /// Narrowing changes and removed policies.
    Low,
    /// Widening changes that are not critical.
    High,
    /// Widening of the sandbox, elevated exec, exec-class or wildcard tools,
    /// receipts or the model gateway.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One classified change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub class: Class,
    pub severity: Severity,
    /// The setting changed, as a dotted path (`constraints.tool_policy.allow`);
    /// empty for a whole policy.
    pub field: String,
    /// One line for humans: "allows `deploy.*` (was denied)".
    pub explanation: String,
}

impl Change {
    fn new(class: Class, severity: Severity, field: &str, explanation: String) -> Change {
        Change {
            class,
            severity,
            field: field.to_owned(),
            explanation,
        }
    }

    fn widening(severity: Severity, field: &str, explanation: String) -> Change {
        Change::new(Class::Widening, severity, field, explanation)
    }

    fn high(field: &str, explanation: String) -> Change {
        Change::widening(Severity::High, field, explanation)
    }

    fn critical(field: &str, explanation: String) -> Change {
        Change::widening(Severity::Critical, field, explanation)
    }

    fn narrowing(field: &str, explanation: String) -> Change {
        Change::new(Class::Narrowing, Severity::Low, field, explanation)
    }

    fn neutral(field: &str, explanation: String) -> Change {
        Change::new(Class::Neutral, Severity::Info, field, explanation)
    }

    /// Whether the change lets an agent do something it could not before.
    pub fn widens(&self) -> bool {
        matches!(self.class, Class::Widening | Class::New)
    }
}

/// A policy as it is at one revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Path from the repository root.
    pub path: String,
    /// `policy_hash_b64u`.
    pub hash: String,
}

impl Version {
    fn of(policy: &Policy) -> Version {
        Version {
            path: policy.doc.source.path().to_string_lossy().into_owned(),
            hash: policy.hash.clone(),
        }
    }
}

/// What happened to one policy between the two revisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    pub name: String,
    pub old: Option<Version>,
    pub new: Option<Version>,
    pub changes: Vec<Change>,
}

impl PolicyDiff {
    /// Compare one policy's two versions (either may be missing). `None`
    /// when nothing changed at all, not even the file's place.
    pub fn compare(old: Option<&Policy>, new: Option<&Policy>) -> Option<PolicyDiff> {
        let name = new.or(old)?.name().to_owned();
        let changes = match (old, new) {
            (Some(old), Some(new)) => {
                let mut changes = classify::compare(&old.wpc, &new.wpc);
                let (from, to) = (Version::of(old), Version::of(new));
                if from.path != to.path {
                    changes.push(Change::neutral(
                        "",
                        format!("moved from `{}` to `{}`", from.path, to.path),
                    ));
                }
                if changes.is_empty() {
                    if old.hash == new.hash {
                        return None;
                    }
                    // Reordered lists, say: a new hash, the same rules.
                    changes.push(Change::neutral(
                        "",
                        "content changed with no effect on what is allowed".to_owned(),
                    ));
                }
                changes
            }
            (None, Some(new)) => vec![classify::added(&new.wpc)],
            (Some(old), None) => vec![classify::removed(&old.wpc)],
            (None, None) => return None,
        };
        Some(PolicyDiff {
            name,
            old: old.map(Version::of),
            new: new.map(Version::of),
            changes,
        })
    }

    /// The most severe change.
    pub fn severity(&self) -> Severity {
        self.changes
            .iter()
            .map(|c| c.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    pub fn widens(&self) -> bool {
        self.changes.iter().any(Change::widens)
    }
}

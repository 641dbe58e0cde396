//! Which approvals a diff needs (`wpc.toml [approvals]`) and whether a set of
//! approvals meets them. No GitHub here: callers bring the approvers, each
//! with the teams they were found to belong to.
//!
//! A change triggers one class: a critical widening `critical`, any other
//! widening `widening`, a new policy `new_policy`, a removed one
//! `removed_policy`, a narrowing `narrowing`; neutral changes need nothing.
//! An unset `critical` falls back to `widening`; an unset `new_policy` falls
//! back to what a widening of the new policy's severity needs. For each policy
//! the last `[[approvals.overrides]]` entry whose globs match its name and
//! that sets the class wins; otherwise the top-level setting applies.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobMatcher};
use serde::Serialize;

use super::{Change, Class, PolicyDiff, Severity};
use crate::config::{ApprovalClasses, ApprovalSettings, Approvers};

/// The `[approvals]` key a requirement comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalClass {
    Critical,
    Widening,
    NewPolicy,
    RemovedPolicy,
    Narrowing,
}

impl ApprovalClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalClass::Critical => "critical",
            ApprovalClass::Widening => "widening",
            ApprovalClass::NewPolicy => "new_policy",
            ApprovalClass::RemovedPolicy => "removed_policy",
            ApprovalClass::Narrowing => "narrowing",
        }
    }

    fn of(classes: &ApprovalClasses, class: ApprovalClass) -> Option<&Approvers> {
        match class {
            ApprovalClass::Critical => classes.critical.as_ref(),
            ApprovalClass::Widening => classes.widening.as_ref(),
            ApprovalClass::NewPolicy => classes.new_policy.as_ref(),
            ApprovalClass::RemovedPolicy => classes.removed_policy.as_ref(),
            ApprovalClass::Narrowing => classes.narrowing.as_ref(),
        }
    }
}

/// A requirement a diff triggers, and the policies that trigger it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub class: ApprovalClass,
    #[serde(flatten)]
    pub approvers: Approvers,
    pub policies: Vec<String>,
}

impl Requirement {
    /// "1 approval from acme/security or alice" (no `@`: a comment that
    /// quotes it must not notify anyone).
    pub fn describe(&self) -> String {
        let who: Vec<String> = self
            .approvers
            .teams
            .iter()
            .cloned()
            .chain(self.approvers.users.iter().cloned())
            .collect();
        let count = match self.approvers.min {
            1 => "1 approval".to_owned(),
            n => format!("{n} approvals"),
        };
        if who.is_empty() {
            format!("{count} from anyone")
        } else {
            format!("{count} from {}", who.join(" or "))
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("[approvals.overrides] pattern `{pattern}` is not a valid glob: {source}")]
pub struct PatternError {
    pattern: String,
    source: globset::Error,
}

/// Stands for `wpc.toml` in a requirement's list of policies (and in
/// override globs): its changes need approval like a policy's.
pub const CONFIG_NAME: &str = "wpc.toml";

/// The requirements `diffs` and changes to `wpc.toml` trigger under
/// `settings`, in class order.
pub fn required(
    settings: &ApprovalSettings,
    diffs: &[PolicyDiff],
    config_changes: &[Change],
) -> Result<Vec<Requirement>, PatternError> {
    let overrides = settings
        .overrides
        .iter()
        .map(|o| {
            let matchers = o
                .policies
                .iter()
                .map(|p| {
                    Glob::new(p)
                        .map(|g| g.compile_matcher())
                        .map_err(|source| PatternError {
                            pattern: p.clone(),
                            source,
                        })
                })
                .collect::<Result<Vec<GlobMatcher>, _>>()?;
            Ok((matchers, &o.classes))
        })
        .collect::<Result<Vec<_>, PatternError>>()?;
    let lookup = |name: &str, class: ApprovalClass| -> Option<(ApprovalClass, &Approvers)> {
        overrides
            .iter()
            .rev()
            .filter(|(matchers, _)| matchers.iter().any(|m| m.is_match(name)))
            .find_map(|(_, classes)| ApprovalClass::of(classes, class))
            .or_else(|| ApprovalClass::of(&settings.classes, class))
            .map(|a| (class, a))
    };
    let widening = |name: &str, severity: Severity| {
        if severity == Severity::Critical {
            lookup(name, ApprovalClass::Critical).or_else(|| lookup(name, ApprovalClass::Widening))
        } else {
            lookup(name, ApprovalClass::Widening)
        }
    };

    let mut grouped: BTreeMap<(ApprovalClass, Approvers), BTreeSet<String>> = BTreeMap::new();
    let all = diffs
        .iter()
        .map(|d| (d.name.as_str(), d.changes.as_slice()))
        .chain([(CONFIG_NAME, config_changes)]);
    for (name, changes) in all {
        for change in changes {
            let found = match change.class {
                Class::Widening => widening(name, change.severity),
                Class::New => lookup(name, ApprovalClass::NewPolicy)
                    .or_else(|| widening(name, change.severity)),
                Class::Removed => lookup(name, ApprovalClass::RemovedPolicy),
                Class::Narrowing => lookup(name, ApprovalClass::Narrowing),
                Class::Neutral => None,
            };
            if let Some((class, approvers)) = found {
                grouped
                    .entry((class, approvers.clone()))
                    .or_default()
                    .insert(name.to_owned());
            }
        }
    }
    Ok(grouped
        .into_iter()
        .map(|((class, approvers), policies)| Requirement {
            class,
            approvers,
            policies: policies.into_iter().collect(),
        })
        .collect())
}

/// Every team a requirement names: the memberships worth looking up.
pub fn teams(requirements: &[Requirement]) -> BTreeSet<String> {
    requirements
        .iter()
        .flat_map(|r| r.approvers.teams.iter().cloned())
        .collect()
}

/// A counted approval: who, and which of the asked-about teams they are in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub login: String,
    pub teams: Vec<String>,
}

/// A requirement and how far the approvals go towards it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequirementStatus {
    #[serde(flatten)]
    pub requirement: Requirement,
    /// The approvers that count for it.
    pub approved_by: Vec<String>,
    /// How many more approvals it needs.
    pub missing: u32,
}

impl RequirementStatus {
    pub fn met(&self) -> bool {
        self.missing == 0
    }
}

/// How `approvals` stand against each requirement. Logins and team names
/// compare case-insensitively, as GitHub's do; each person counts once.
pub fn evaluate(requirements: &[Requirement], approvals: &[Approval]) -> Vec<RequirementStatus> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    requirements
        .iter()
        .map(|requirement| {
            let wanted = &requirement.approvers;
            let anyone = wanted.teams.is_empty() && wanted.users.is_empty();
            let mut approved_by: Vec<String> = approvals
                .iter()
                .filter(|a| {
                    anyone
                        || wanted.users.iter().any(|u| same(u, &a.login))
                        || wanted
                            .teams
                            .iter()
                            .any(|t| a.teams.iter().any(|m| same(m, t)))
                })
                .map(|a| a.login.clone())
                .collect();
            approved_by.sort_by_key(|l| l.to_ascii_lowercase());
            approved_by.dedup_by(|a, b| same(a, b));
            let count = u32::try_from(approved_by.len()).unwrap_or(u32::MAX);
            RequirementStatus {
                requirement: requirement.clone(),
                approved_by,
                missing: wanted.min.saturating_sub(count),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ApprovalOverride;
    use crate::diff::Change;

    fn approvers(teams: &[&str], users: &[&str], min: u32) -> Approvers {
        Approvers {
            teams: teams.iter().map(|s| (*s).to_owned()).collect(),
            users: users.iter().map(|s| (*s).to_owned()).collect(),
            min,
        }
    }

    fn diff(name: &str, class: Class, severity: Severity) -> PolicyDiff {
        PolicyDiff {
            name: name.to_owned(),
            old: None,
            new: None,
            changes: vec![Change::new(class, severity, "", "x".to_owned())],
        }
    }

    fn settings() -> ApprovalSettings {
        ApprovalSettings {
            classes: ApprovalClasses {
                widening: Some(approvers(&["acme/security"], &[], 1)),
                critical: Some(approvers(&["acme/security", "acme/platform"], &[], 2)),
                ..ApprovalClasses::default()
            },
            overrides: vec![
                ApprovalOverride {
                    policies: vec!["deploy*".into()],
                    classes: ApprovalClasses {
                        widening: Some(approvers(&[], &["alice"], 1)),
                        ..ApprovalClasses::default()
                    },
                },
                ApprovalOverride {
                    policies: vec!["deployer".into()],
                    classes: ApprovalClasses {
                        narrowing: Some(approvers(&[], &[], 1)),
                        ..ApprovalClasses::default()
                    },
                },
            ],
        }
    }

    #[test]
    fn classes_map_to_requirements_with_fallbacks_and_overrides() {
        let diffs = [
            diff("a", Class::Widening, Severity::High),
            diff("b", Class::Widening, Severity::Critical),
            diff("c", Class::New, Severity::Critical),
            diff("d", Class::Neutral, Severity::Info),
            diff("e", Class::Narrowing, Severity::Low),
            diff("deployer", Class::Widening, Severity::High),
            diff("deployer", Class::Narrowing, Severity::Low),
        ];
        let config = [Change::new(
            Class::Widening,
            Severity::Critical,
            "wpc.toml:approvals",
            "x".to_owned(),
        )];
        let found: Vec<(ApprovalClass, Vec<String>)> = required(&settings(), &diffs, &config)
            .unwrap()
            .into_iter()
            .map(|r| (r.class, r.policies))
            .collect();
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            found,
            [
                (ApprovalClass::Critical, names(&["b", "c", "wpc.toml"])),
                (ApprovalClass::Widening, names(&["deployer"])),
                (ApprovalClass::Widening, names(&["a"])),
                (ApprovalClass::Narrowing, names(&["deployer"])),
            ]
        );
    }

    #[test]
    fn without_an_approvals_table_a_widening_needs_one_approval() {
        let one_from_anyone = Approvers {
            teams: vec![],
            users: vec![],
            min: 1,
        };
        for severity in [Severity::Critical, Severity::Low] {
            let diffs = [diff("a", Class::Widening, severity)];
            let required = required(&ApprovalSettings::default(), &diffs, &[]).unwrap();
            assert_eq!(required.len(), 1);
            assert_eq!(required[0].approvers, one_from_anyone);
        }
        let narrowing = [diff("a", Class::Narrowing, Severity::Low)];
        assert!(
            required(&ApprovalSettings::default(), &narrowing, &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_bad_override_glob_is_an_error() {
        let mut s = settings();
        s.overrides[0].policies = vec!["deploy[".into()];
        assert!(required(&s, &[], &[]).is_err());
    }

    #[test]
    fn approvals_count_once_per_person_by_team_or_name() {
        let requirement = |a| Requirement {
            class: ApprovalClass::Critical,
            approvers: a,
            policies: vec!["p".into()],
        };
        let approvals = [
            Approval {
                login: "Sec1".into(),
                teams: vec!["ACME/security".into()],
            },
            Approval {
                login: "sec1".into(),
                teams: vec!["acme/security".into()],
            },
            Approval {
                login: "bob".into(),
                teams: vec![],
            },
        ];
        let status = evaluate(
            &[
                requirement(approvers(&["acme/security", "acme/platform"], &[], 2)),
                requirement(approvers(&[], &["BOB"], 1)),
                requirement(approvers(&[], &[], 2)),
            ],
            &approvals,
        );
        assert_eq!((status[0].approved_by.len(), status[0].missing), (1, 1));
        assert!(status[1].met());
        assert_eq!(status[2].approved_by, ["bob", "Sec1"]);
        assert_eq!(
            status[0].requirement.describe(),
            "2 approvals from acme/security or acme/platform"
        );
    }
}

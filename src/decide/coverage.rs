//! Policy test coverage (docs/testing-policies.md#coverage): which rules of
//! a policy some test case exercises. A rule is exercised when a case's
//! decision names it (an allow or deny pattern, the default deny, a gate
//! that fired) or, for the rules the decision does not read, when a case's
//! `provider`, `model` or `target` meets it.

use std::path::PathBuf;

use serde::Serialize;

use super::reach::{Egress, Models};
use super::{Basis, Call, CompileError, Decision};
use crate::policy::Policy;
use crate::policy::model::Network;
use crate::report::Location;

/// What kind of rule an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `constraints.tool_policy.allow[i]`: decided some case.
    AllowPattern,
    /// `constraints.tool_policy.deny[i]`: decided some case.
    DenyPattern,
    /// No tool pattern matched some case.
    DefaultDeny,
    /// `constraints.approvals[i]` fired for some case.
    ApprovalGate,
    /// `constraints.model_calls.allowed_providers[i]` names some case's provider.
    AllowedProvider,
    /// `constraints.model_calls.allowed_models[i]` matches some case's model.
    AllowedModel,
    /// `constraints.egress.allowlist[i]` matches some case's target.
    EgressAllowlist,
    /// The sandbox refuses some case's target (`network = "none"`, or
    /// outside the egress allowlist).
    EgressDenied,
}

impl RuleKind {
    pub fn describe(self) -> &'static str {
        match self {
            RuleKind::AllowPattern => "allow pattern",
            RuleKind::DenyPattern => "deny pattern",
            RuleKind::DefaultDeny => "default deny",
            RuleKind::ApprovalGate => "approval gate",
            RuleKind::AllowedProvider => "allowed provider",
            RuleKind::AllowedModel => "allowed model",
            RuleKind::EgressAllowlist => "egress allowlist entry",
            RuleKind::EgressDenied => "egress denial",
        }
    }
}

/// One rule of a policy and how many cases exercise it.
#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: RuleKind,
    /// JSON pointer to the rule in the policy.
    pub pointer: String,
    /// The pattern, the gate's `when`, or what the rule does.
    pub text: String,
    pub location: Location,
    /// Cases that exercise it.
    pub cases: usize,
}

impl Rule {
    pub fn covered(&self) -> bool {
        self.cases > 0
    }
}

/// The rules of one policy, each with the cases that exercise it.
#[derive(Clone, Debug)]
pub struct Coverage {
    pub policy: PathBuf,
    pub rules: Vec<Rule>,
}

impl Coverage {
    pub fn covered(&self) -> usize {
        self.rules.iter().filter(|r| r.covered()).count()
    }

    pub fn total(&self) -> usize {
        self.rules.len()
    }
}

/// Percentage of `total` that is `covered`; a policy with no rules to
/// exercise is fully covered.
pub fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        // Counts are far below 2^52: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let ratio = covered as f64 / total as f64;
        ratio * 100.0
    }
}

/// The rules of `policy` and which of `runs` (each case's call and its
/// decision under `policy`) exercise each.
pub fn measure(policy: &Policy, runs: &[(&Call, &Decision)]) -> Result<Coverage, CompileError> {
    let wpc = &policy.wpc;
    let constraints = &wpc.constraints;
    let models = Models::new(wpc)?;
    let egress = Egress::new(wpc)?;
    let mut rules = Vec::new();
    let mut add = |kind, pointer: String, text: &str, hits: &dyn Fn(&Call, &Decision) -> bool| {
        let cases = runs.iter().filter(|(call, d)| hits(call, d)).count();
        let location = policy.doc.source.locate(policy.doc.value_span(&pointer));
        rules.push(Rule {
            kind,
            pointer,
            text: text.to_owned(),
            location,
            cases,
        });
    };

    for (i, pattern) in constraints.tool_policy.allow.iter().enumerate() {
        add(
            RuleKind::AllowPattern,
            format!("/constraints/tool_policy/allow/{i}"),
            pattern,
            &|_, d| matches!(d.basis, Basis::AllowPattern { index, .. } if index == i),
        );
    }
    for (i, pattern) in constraints.tool_policy.deny.iter().enumerate() {
        add(
            RuleKind::DenyPattern,
            format!("/constraints/tool_policy/deny/{i}"),
            pattern,
            &|_, d| matches!(d.basis, Basis::DenyPattern { index, .. } if index == i),
        );
    }
    add(
        RuleKind::DefaultDeny,
        "/constraints/tool_policy".to_owned(),
        "a tool no pattern matches is denied",
        &|_, d| d.basis == Basis::DefaultDeny,
    );
    for (i, approval) in constraints.approvals.iter().enumerate() {
        add(
            RuleKind::ApprovalGate,
            format!("/constraints/approvals/{i}/when"),
            &approval.when,
            &|_, d| d.approvals.iter().any(|r| r.index == i),
        );
    }
    let model_calls = constraints.model_calls.as_ref();
    for (i, provider) in model_calls
        .and_then(|m| m.allowed_providers.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        add(
            RuleKind::AllowedProvider,
            format!("/constraints/model_calls/allowed_providers/{i}"),
            provider,
            &|c, _| models.providers_naming(&c.provider).contains(&i),
        );
    }
    for (i, pattern) in model_calls
        .and_then(|m| m.allowed_models.as_deref())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        add(
            RuleKind::AllowedModel,
            format!("/constraints/model_calls/allowed_models/{i}"),
            pattern,
            &|c, _| !c.model.is_empty() && models.models_matching(&c.model).contains(&i),
        );
    }
    if let Egress::Allowlist(_) = egress {
        for (i, pattern) in constraints
            .egress
            .iter()
            .flat_map(|e| &e.allowlist)
            .enumerate()
        {
            add(
                RuleKind::EgressAllowlist,
                format!("/constraints/egress/allowlist/{i}"),
                pattern,
                &|c, _| !c.target.is_empty() && egress.allowlist_matching(&c.target).contains(&i),
            );
        }
    }
    if !matches!(egress, Egress::Anywhere) {
        let (pointer, text) = match constraints.sandbox.network {
            Some(Network::None) => ("/constraints/sandbox/network", "all egress is denied"),
            Some(_) => (
                "/constraints/sandbox/network",
                "egress outside the allowlist is denied",
            ),
            None => (
                "/constraints/egress",
                "egress outside the allowlist is denied",
            ),
        };
        add(RuleKind::EgressDenied, pointer.to_owned(), text, &|c, _| {
            !c.target.is_empty() && !egress.allows(&c.target)
        });
    }
    Ok(Coverage {
        policy: policy.doc.source.path().to_path_buf(),
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::Engine;
    use crate::policy::Document;
    use crate::report::SourceFile;

    const POLICY: &str = r#"wpc_version = "1"
policy_name = "p"
purpose = "coverage"

[constraints.tool_policy]
allow = ["read", "deploy.*"]
deny = ["exec"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"
network = "egress-allowlist"

[[constraints.approvals]]
when = "tool == 'deploy.prod'"
require = "human_approval"

[constraints.model_calls]
allowed_providers = ["anthropic", "openai"]
allowed_models = ["claude-*"]

[constraints.egress]
allowlist = ["api.example.com"]

[binding]
cst_scope_hash_required = false
"#;

    fn policy() -> Policy {
        let doc = Document::parse(SourceFile::new("p.toml", POLICY)).unwrap();
        Policy::from_document(doc).unwrap()
    }

    fn measured(calls: &[Call]) -> Coverage {
        let policy = policy();
        let engine = Engine::new(&policy.wpc).unwrap();
        let decisions: Vec<Decision> = calls.iter().map(|c| engine.decide_per_call(c)).collect();
        let runs: Vec<(&Call, &Decision)> = calls.iter().zip(&decisions).collect();
        measure(&policy, &runs).unwrap()
    }

    fn uncovered(coverage: &Coverage) -> Vec<String> {
        coverage
            .rules
            .iter()
            .filter(|r| !r.covered())
            .map(|r| r.pointer.clone())
            .collect()
    }

    #[test]
    fn no_case_leaves_every_rule_uncovered_at_its_line() {
        let coverage = measured(&[]);
        assert_eq!((coverage.covered(), coverage.total()), (0, 10));
        assert_eq!(percent(coverage.covered(), coverage.total()), 0.0);
        let allow = &coverage.rules[0];
        assert_eq!(allow.pointer, "/constraints/tool_policy/allow/0");
        assert_eq!((allow.location.line, allow.text.as_str()), (6, "read"));
        let gate = coverage
            .rules
            .iter()
            .find(|r| r.kind == RuleKind::ApprovalGate)
            .unwrap();
        assert_eq!(gate.location.line, 16);
    }

    #[test]
    fn each_rule_is_covered_by_the_case_that_exercises_it() {
        let model_call = Call {
            provider: "OpenAI".into(),
            model: "Claude-3".into(),
            target: "api.example.com".into(),
            ..Call::tool("read")
        };
        let coverage = measured(&[
            model_call,
            Call::tool("deploy.prod"),
            Call::tool("exec"),
            Call::tool("unknown"),
            Call {
                target: "evil.example".into(),
                ..Call::tool("read")
            },
        ]);
        assert_eq!(
            uncovered(&coverage),
            ["/constraints/model_calls/allowed_providers/0"]
        );
        let read = &coverage.rules[0];
        assert_eq!(read.cases, 2);
    }

    #[test]
    fn a_gate_that_does_not_fire_and_a_shadowed_pattern_stay_uncovered() {
        // deploy.staging is allowed by `deploy.*` without firing the gate.
        let coverage = measured(&[Call::tool("deploy.staging")]);
        let uncovered = uncovered(&coverage);
        assert!(uncovered.contains(&"/constraints/approvals/0/when".to_owned()));
        assert!(!uncovered.contains(&"/constraints/tool_policy/allow/1".to_owned()));
        // A call without a target exercises no egress rule.
        assert!(uncovered.contains(&"/constraints/sandbox/network".to_owned()));
    }

    #[test]
    fn open_egress_and_no_model_rules_add_nothing() {
        let open = POLICY
            .replace("network = \"egress-allowlist\"\n", "")
            .replace("[constraints.egress]\nallowlist = [\"api.example.com\"]\n", "")
            .replace(
                "[constraints.model_calls]\nallowed_providers = [\"anthropic\", \"openai\"]\nallowed_models = [\"claude-*\"]\n",
                "",
            );
        let doc = Document::parse(SourceFile::new("p.toml", open)).unwrap();
        let policy = Policy::from_document(doc).unwrap();
        let coverage = measure(&policy, &[]).unwrap();
        let kinds: Vec<RuleKind> = coverage.rules.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RuleKind::AllowPattern,
                RuleKind::AllowPattern,
                RuleKind::DenyPattern,
                RuleKind::DefaultDeny,
                RuleKind::ApprovalGate
            ]
        );
        assert_eq!(percent(0, 0), 100.0);
    }
}

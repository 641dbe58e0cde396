//! The OpenClaw config audit (docs/openclaw.md): read a config as OpenClaw does
//! (JSON5, `$include`, `${VAR}`), compute each agent's effective tools as the
//! runtime does, and report runtime footguns (`OC0xx`) and, against a WPC,
//! conformance gaps (`OCW0xx`). Also the reverse: the config fragment that
//! realises a WPC ([`compile`]).
//!
//! Adding a rule: add its type, code, name, severity and summary to
//! [`REGISTRY`] (a [`crate::rules!`] table in `rules/mod.rs`), write
//! `rules/<name>.rs` implementing [`Rule`] for it with its tests in
//! [`audit_tests!`], and write `docs/rules/<CODE>.md`. The
//! `registry_is_consistent` test checks the rest.

/// A rule file's unit tests as a table: a `tests` module holding
/// [`rule_tests!`](crate::rule_tests) whose cases are config texts the rule
/// audits, under the target made from a policy text when one follows
/// `under`. A file whose tests need more writes that module itself.
///
/// ```ignore
/// crate::openclaw::audit_tests! { BindRw;
///     fires_without_ro: "{...}" => 2;
///     quiet_on_ro: "{...}" => 0;
/// }
/// ```
macro_rules! audit_tests {
    ($rule:ident $(under $policy:expr)?; $($cases:tt)+) => {
        #[cfg(test)]
        mod tests {
            use super::*;

            $crate::rule_tests! {
                $crate::openclaw::testing::audit(&$rule, None $(.or(Some($policy)))?);
                $($cases)+
            }
        }
    };
}
pub(crate) use audit_tests;

pub mod catalog;
pub mod compile;
pub mod conformance;
pub mod json5;
pub mod load;
pub mod mappings;
pub mod mcp;
mod rules;
pub mod scope;
pub mod tools;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::report::{Described, Finding, RuleMeta, Severity};

pub use conformance::{Target, ToolMap};
use json5::Node;
pub use load::{Env, LoadOptions, Loaded};
use scope::Scope;
use tools::ToolState;

/// Codes of the loading checks (not lint rules: a config failing them is not
/// audited further, except for duplicate keys and unset variables).
pub mod codes {
    pub const SYNTAX: &str = "OC001";
    pub const DUPLICATE_KEY: &str = "OC002";
    pub const INCLUDE: &str = "OC003";
    pub const ENV_UNSET: &str = "OC004";
}

pub static BUILTIN: &[RuleMeta] = &[
    RuleMeta {
        code: codes::SYNTAX,
        name: "openclaw-syntax",
        summary: "the config cannot be read as JSON5",
        default_severity: Severity::Error,
        doc: include_str!("../../docs/rules/OC001.md"),
    },
    RuleMeta {
        code: codes::DUPLICATE_KEY,
        name: "openclaw-duplicate-key",
        summary: "an object of the config has the same key twice",
        default_severity: Severity::Error,
        doc: include_str!("../../docs/rules/OC002.md"),
    },
    RuleMeta {
        code: codes::INCLUDE,
        name: "openclaw-include",
        summary: "an `$include` cannot be resolved as OpenClaw would",
        default_severity: Severity::Error,
        doc: include_str!("../../docs/rules/OC003.md"),
    },
    RuleMeta {
        code: codes::ENV_UNSET,
        name: "openclaw-env-unset",
        summary: "a `${VAR}` in the config is not set in the environment",
        default_severity: Severity::Warning,
        doc: include_str!("../../docs/rules/OC004.md"),
    },
];

/// A footgun or conformance rule.
pub trait Rule: Described + Sync {
    fn check(&self, cx: &mut Context<'_>);
}

/// A WPC conformance rule that judges each agent alone: it runs only
/// against a target, once per agent in the target's scope, in order.
pub trait Conformance: Described + Sync {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>);
}

impl<R: Conformance> Rule for R {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        for agent in cx.target_agents() {
            self.check_agent(cx, target, agent);
        }
    }
}

pub use rules::REGISTRY;

/// An agent scope with its effective tools.
pub struct AgentTools<'a> {
    pub scope: Scope<'a>,
    pub tools: Vec<ToolState<'a>>,
}

impl<'a> AgentTools<'a> {
    /// Where a finding about the agent's tool set points: its `tools`, else
    /// the agent itself, else the config's top-level `tools` (the defaults).
    pub fn tools_node(&self, root: &'a Node) -> &'a Node {
        self.scope
            .tools()
            .or(self.scope.node)
            .unwrap_or_else(|| root.nearest(&["tools"]))
    }

    /// Whether the agent can reach `tool` in some session. Provider policies
    /// of the primary model do not count: a session can switch models, and
    /// OpenClaw's own audit leaves them out too.
    pub fn has(&self, tool: &str) -> bool {
        self.available().any(|t| t == tool)
    }

    /// The tools the agent can reach in some session (see [`Self::has`]).
    pub fn available(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.tools
            .iter()
            .filter(|t| t.removed.as_ref().is_none_or(|r| r.model_only))
            .map(|t| t.tool)
    }
}

/// What a rule sees of one config, and where it reports.
pub struct Context<'a> {
    pub root: &'a Node,
    pub agents: &'a [AgentTools<'a>],
    /// The WPC to conform to, when auditing against one.
    pub target: Option<&'a Target>,
    meta: &'static RuleMeta,
    findings: Vec<Finding>,
}

impl<'a> Context<'a> {
    /// Report at `node` with the rule's default severity.
    pub fn report(&mut self, node: &Node, message: impl Into<String>) -> &mut Finding {
        let severity = self.meta.default_severity;
        self.report_as(node, severity, message)
    }

    /// Report with a severity chosen by the rule (critical-if-exposed rules).
    pub fn report_as(
        &mut self,
        node: &Node,
        severity: Severity,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.findings
            .push(node.finding(self.meta.code, severity, message));
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }

    /// The value at `path`, or the nearest existing parent for a setting
    /// that is absent.
    pub fn at(&self, path: &[&str]) -> &'a Node {
        self.root.nearest(path)
    }

    /// The agents a conformance rule checks: the mapped agent, or all.
    pub fn target_agents(&self) -> Vec<&'a AgentTools<'a>> {
        let only = self.target.and_then(|t| t.agent.as_deref());
        self.agents
            .iter()
            .filter(|a| only.is_none_or(|id| a.scope.id == id))
            .collect()
    }
}

/// A configured level per code: a severity, or `None` for off.
pub type Levels = BTreeMap<String, Option<Severity>>;

#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    pub load: LoadOptions,
    pub levels: Levels,
}

/// Audit one config file: loading findings, then every rule (conformance
/// rules only with a target), with configured levels applied.
pub fn audit(path: &Path, target: Option<&Target>, options: &AuditOptions) -> Vec<Finding> {
    let (loaded, mut findings) = match load::load(path, &options.load) {
        Ok(ok) => ok,
        Err(findings) => return findings,
    };
    let agents = agent_tools(&loaded.root);
    for rule in REGISTRY.rules {
        findings.extend(run_rule(*rule, &loaded.root, &agents, target));
    }
    findings
        .into_iter()
        .filter_map(|f| apply_level(&options.levels, f))
        .collect()
}

/// One rule's findings over a read config.
fn run_rule(
    rule: &dyn Rule,
    root: &Node,
    agents: &[AgentTools<'_>],
    target: Option<&Target>,
) -> Vec<Finding> {
    let mut cx = Context {
        root,
        agents,
        target,
        meta: rule.meta(),
        findings: Vec::new(),
    };
    rule.check(&mut cx);
    cx.findings
}

fn agent_tools(root: &Node) -> Vec<AgentTools<'_>> {
    scope::scopes(root)
        .into_iter()
        .map(|scope| AgentTools {
            tools: tools::effective(root, &scope),
            scope,
        })
        .collect()
}

fn apply_level(levels: &Levels, finding: Finding) -> Option<Finding> {
    if BUILTIN
        .iter()
        .any(|b| b.code == finding.code && b.code != codes::ENV_UNSET)
    {
        return Some(finding);
    }
    match levels.get(finding.code) {
        Some(None) => None,
        Some(Some(severity)) => Some(Finding {
            severity: *severity,
            ..finding
        }),
        None => Some(finding),
    }
}

/// One agent's effective tools, for `--explain-tools`.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub config: String,
    pub agent: String,
    pub path: String,
    pub sandbox_mode: String,
    pub available: Vec<&'static str>,
    pub removed: Vec<RemovedTool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RemovedTool {
    pub tool: &'static str,
    pub layer: String,
    pub reason: String,
    /// `file:line:col` of the entry that removed it, when the config wrote one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The `format` and `version` of `wpc audit openclaw --explain-tools
/// --format json`.
pub const EXPLAIN_ENVELOPE: crate::report::Envelope =
    crate::report::Envelope::new("wpc-explain-tools", 1);

/// The `--explain-tools --format json` document: the envelope and the agents.
pub fn explanations_json(explanations: &[Explanation]) -> serde_json::Value {
    // Plain data: serializing it cannot fail.
    EXPLAIN_ENVELOPE.wrap(serde_json::json!({ "agents": explanations }))
}

impl Explanation {
    /// The agent, its available tools, and each removed tool with the layer
    /// and entry that removed it.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!(
            "{} agent `{}` ({}, sandbox mode {}): {} tools\n  available: {}\n",
            self.config,
            self.agent,
            self.path,
            self.sandbox_mode,
            self.available.len(),
            self.available.join(", ")
        );
        for r in &self.removed {
            let _ = write!(
                out,
                "  - {:<22} removed by {}: {}",
                r.tool, r.layer, r.reason
            );
            if let Some(at) = &r.at {
                let _ = write!(out, " ({at})");
            }
            out.push('\n');
        }
        out
    }
}

/// Every agent's effective tools (or one agent's). Loading errors come back
/// as findings.
pub fn explain(
    path: &Path,
    agent: Option<&str>,
    options: &AuditOptions,
) -> Result<Vec<Explanation>, Vec<Finding>> {
    let (loaded, _) = load::load(path, &options.load)?;
    let agents = agent_tools(&loaded.root);
    Ok(agents
        .iter()
        .filter(|a| agent.is_none_or(|id| a.scope.id == id))
        .map(|a| Explanation {
            config: path.display().to_string(),
            agent: a.scope.id.clone(),
            path: a.scope.path.clone(),
            sandbox_mode: a.scope.sandbox_mode().to_owned(),
            available: a
                .tools
                .iter()
                .filter(|t| t.removed.is_none())
                .map(|t| t.tool)
                .collect(),
            removed: a
                .tools
                .iter()
                .filter_map(|t| {
                    let removal = t.removed.as_ref()?;
                    Some(RemovedTool {
                        tool: t.tool,
                        layer: removal.layer.clone(),
                        reason: if removal.model_only {
                            format!(
                                "{} (for the primary model only; the audit still counts it reachable)",
                                removal.reason
                            )
                        } else {
                            removal.reason.clone()
                        },
                        at: removal.node.map(Node::position),
                    })
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the per-rule unit tests.
    use super::*;
    use crate::report::SourceFile;

    /// Run one rule over a config text (no includes) and return each
    /// finding as `line:col severity message`.
    pub fn run_with(rule: &dyn Rule, text: &str, target: Option<&Target>) -> Vec<String> {
        let src = SourceFile::new("openclaw.json", text.to_owned());
        let (root, _) = json5::parse(&src).unwrap();
        let agents = agent_tools(&root);
        run_rule(rule, &root, &agents, target)
            .into_iter()
            .map(|f| {
                let loc = f.location.unwrap();
                format!("{}:{} {} {}", loc.line, loc.column, f.severity, f.message)
            })
            .collect()
    }

    /// [`run_with`] the target made from a policy text, if any: the runner
    /// of [`audit_tests!`].
    pub fn audit<'a>(
        rule: &'a dyn Rule,
        policy: Option<&str>,
    ) -> impl Fn(&str) -> Vec<String> + 'a {
        let target = policy.map(target);
        move |text| run_with(rule, text, target.as_ref())
    }

    /// The test policy `CLEAN` with more tables (e.g. `[constraints.mcp]`).
    pub fn with_clean(tables: &str) -> String {
        format!("{}{tables}", crate::policy::testing::CLEAN)
    }

    /// A target from a policy text, with the default tool map.
    pub fn target(policy: &str) -> Target {
        Target::new(
            crate::policy::testing::policy(policy),
            ToolMap::default(),
            None,
        )
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        assert_eq!(REGISTRY.inconsistencies(), Vec::<String>::new());
        for meta in REGISTRY.all() {
            assert!(
                crate::lint::REGISTRY.find(meta.code).is_none(),
                "{} clashes with lint",
                meta.code
            );
        }
        insta::assert_snapshot!(crate::policy::testing::rule_listing(REGISTRY.all()));
    }
}

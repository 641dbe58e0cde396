//! Deciding OpenClaw tools against a WPC. WPC tool names map to OpenClaw tool
//! names through a [`ToolMap`]; every decision goes through
//! [`crate::decide::Engine`].

use std::collections::BTreeMap;

use crate::decide::{Basis, Call, CompileError, Decision, Engine, Verdict};
use crate::policy::Policy;

use super::catalog;

/// WPC tool name → the OpenClaw tools (or `group:*`) that perform it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolMap(BTreeMap<String, Vec<String>>);

/// The built-in mapping; `[openclaw_audit.tool_map]` in `wpc.toml` replaces
/// entries key by key. An OpenClaw tool no entry maps to is decided under
/// its own name.
pub const DEFAULT_TOOL_MAP: &[(&str, &[&str])] = &[
    ("exec", &["exec"]),
    ("shell", &["exec"]),
    ("bash", &["exec"]),
    ("process", &["process"]),
    ("read", &["read", "ls"]),
    ("write", &["write", "edit", "apply_patch"]),
    ("mcp", &[catalog::MCP]),
];

impl Default for ToolMap {
    fn default() -> Self {
        ToolMap(
            DEFAULT_TOOL_MAP
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
        )
    }
}

impl ToolMap {
    /// The defaults with `overrides` replacing whole entries.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> ToolMap {
        let mut map = ToolMap::default();
        for (wpc, tools) in overrides {
            map.0.insert(wpc.clone(), tools.clone());
        }
        map
    }

    /// The WPC tool names whose permission an OpenClaw tool needs.
    pub fn wpc_names<'a>(&'a self, tool: &'a str) -> Vec<&'a str> {
        let names: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, tools)| tools.iter().any(|t| covers(t, tool)))
            .map(|(wpc, _)| wpc.as_str())
            .collect();
        if names.is_empty() { vec![tool] } else { names }
    }

    /// The OpenClaw tools a WPC name maps to (itself when unmapped).
    pub fn openclaw_tools(&self, wpc: &str) -> Vec<&'static str> {
        let targets: Vec<String> = self
            .0
            .get(wpc)
            .cloned()
            .unwrap_or_else(|| vec![wpc.to_owned()]);
        catalog::tools()
            .filter(|tool| targets.iter().any(|t| covers(t, tool)))
            .collect()
    }
}

fn covers(entry: &str, tool: &str) -> bool {
    let entry = catalog::normalize(entry);
    match catalog::group(&entry) {
        Some(members) => members.contains(&tool),
        None => entry == tool,
    }
}

/// A WPC to audit against, with its compiled engine.
pub struct Target {
    pub policy: Policy,
    pub engine: Engine,
    pub tool_map: ToolMap,
    /// Only this agent is held to the WPC (from a `[[openclaw]]` mapping).
    pub agent: Option<String>,
    /// The verdict for every catalog tool, decided once.
    verdicts: Vec<(&'static str, ToolVerdict)>,
}

/// How an OpenClaw tool fares under the WPC.
#[derive(Clone, Debug)]
pub enum ToolVerdict {
    Allowed,
    /// A WPC deny pattern matches one of its WPC names.
    Denied(Decision),
    /// No allow pattern admits one of its WPC names (default deny, or a gate
    /// that fails closed).
    Outside(Decision),
}

impl Target {
    pub fn new(
        policy: Policy,
        tool_map: ToolMap,
        agent: Option<String>,
    ) -> Result<Target, CompileError> {
        let engine = Engine::new(&policy.wpc)?;
        let verdicts = catalog::tools()
            .map(|tool| (tool, decide(&engine, &tool_map, tool)))
            .collect();
        Ok(Target {
            policy,
            engine,
            tool_map,
            agent,
            verdicts,
        })
    }

    /// Every WPC name of the tool must be allowed (with or without an
    /// approval gate, which the WPC runtime enforces); a deny is reported in
    /// preference to a default deny.
    pub fn verdict(&self, tool: &str) -> ToolVerdict {
        match self.verdicts.iter().find(|(t, _)| *t == tool) {
            Some((_, verdict)) => verdict.clone(),
            None => decide(&self.engine, &self.tool_map, tool),
        }
    }
}

fn decide(engine: &Engine, tool_map: &ToolMap, tool: &str) -> ToolVerdict {
    let mut outside = None;
    for name in tool_map.wpc_names(tool) {
        let decision = engine.decide_per_call(&Call::tool(name));
        match (decision.verdict, &decision.basis) {
            (Verdict::Allow | Verdict::Approval, _) => {}
            (Verdict::Deny, Basis::DenyPattern { .. }) => return ToolVerdict::Denied(decision),
            (Verdict::Deny, _) => outside = outside.or(Some(decision)),
        }
    }
    outside.map_or(ToolVerdict::Allowed, ToolVerdict::Outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_map_and_overrides() {
        let map = ToolMap::default();
        assert_eq!(map.wpc_names("exec"), ["bash", "exec", "shell"]);
        assert_eq!(map.wpc_names("ls"), ["read"]);
        assert_eq!(map.wpc_names("web_fetch"), ["web_fetch"]);
        assert_eq!(
            map.openclaw_tools("write"),
            ["write", "edit", "apply_patch"]
        );
        let custom = ToolMap::with_overrides(&BTreeMap::from([(
            "search".to_owned(),
            vec!["group:web".to_owned()],
        )]));
        assert_eq!(custom.wpc_names("x_search"), ["search"]);
        assert_eq!(
            custom.openclaw_tools("search"),
            ["web_search", "web_fetch", "x_search"]
        );
    }
}

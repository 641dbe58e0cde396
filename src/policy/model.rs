//! The typed WPC (docs/wpc-format.md). Built only from payloads that passed the schema,
//! so deserializing cannot disagree with what the schema allows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wpc {
    pub wpc_version: String,
    pub policy_name: String,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_did: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    pub constraints: Constraints,
    pub binding: Binding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    pub tool_policy: ToolPolicy,
    pub sandbox: Sandbox,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_calls: Option<ModelCalls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Egress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<Mcp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolPolicy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sandbox {
    pub required: bool,
    #[serde(rename = "workspaceAccess")]
    pub workspace_access: WorkspaceAccess,
    pub elevated_exec: ElevatedExec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
}

/// Ordered from least to most access, so `a > b` means `a` grants more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceAccess {
    None,
    Ro,
    Rw,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElevatedExec {
    Deny,
    Allow,
}

/// Ordered from least to most reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    None,
    EgressAllowlist,
    Open,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub when: String,
    pub require: Requirement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    HumanApproval,
    TicketId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCalls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_providers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_models: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    pub allowlist: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl_seconds: Option<u64>,
}

/// `[constraints.mcp]`: the MCP servers a job may use, their tools and the
/// pinned tool definitions (docs/wpc-format.md#mcp-servers-and-tools).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mcp {
    pub servers: Vec<McpServer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_servers: Option<Vec<String>>,
    /// `SERVER/TOOL` → lowercase hex SHA-256 of the tool definition's JCS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_tools: Option<BTreeMap<String, String>>,
}

impl Mcp {
    /// The entry of the server named `name`, if the policy lists it.
    pub fn server(&self, name: &str) -> Option<(usize, &McpServer)> {
        self.servers
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
    }

    /// The pin of `server`'s `tool`, if the policy pins it.
    pub fn pin(&self, server: &str, tool: &str) -> Option<&str> {
        let pins = self.pinned_tools.as_ref()?;
        pins.iter()
            .find(|(key, _)| key.split_once('/') == Some((server, tool)))
            .map(|(_, hash)| hash.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<McpTransport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The server's tools the job may call (patterns over the tool's own
    /// name); absent: every tool the tool policy allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_tools: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpTransport {
    Stdio,
    Sse,
    StreamableHttp,
}

impl McpTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            McpTransport::Stdio => "stdio",
            McpTransport::Sse => "sse",
            McpTransport::StreamableHttp => "streamable-http",
        }
    }
}

/// One `[[constraints.rate_limits]]` entry: at most `max` calls of the
/// matching tools (or models) in any window of `per`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub max: u64,
    pub per: String,
}

impl RateLimit {
    /// The window in seconds; `None` only for a `per` the schema rejects.
    pub fn window_seconds(&self) -> Option<u64> {
        window_seconds(&self.per)
    }
}

/// Seconds in a window written `<count><unit>`, the unit one of `s`, `m`,
/// `h`, `d`; `None` for anything else (an unknown unit is never guessed).
pub fn window_seconds(per: &str) -> Option<u64> {
    let unit = per.chars().last()?;
    let count: u64 = per.get(..per.len() - unit.len_utf8())?.parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    count.checked_mul(scale).filter(|s| *s > 0)
}

/// `[constraints.budget]`: totals for one job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_model_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tool_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub cst_scope_hash_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional_policy_hash_pinning: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_have_four_units() {
        assert_eq!(window_seconds("30s"), Some(30));
        assert_eq!(window_seconds("1m"), Some(60));
        assert_eq!(window_seconds("1h"), Some(3600));
        assert_eq!(window_seconds("7d"), Some(604_800));
        for bad in ["", "h", "1w", "1H", "0h", "1.5h", "-1h", "1µ"] {
            assert_eq!(window_seconds(bad), None, "{bad}");
        }
    }
}

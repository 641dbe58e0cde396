//! Agent scopes: `agents.defaults` (what an agent without an entry gets) and
//! each agent of `agents.entries.<id>` or the legacy `agents.list` array.

use super::json5::Node;

/// The id of the scope for `agents.defaults`.
pub const DEFAULTS: &str = "defaults";

#[derive(Clone, Debug)]
pub struct Scope<'a> {
    /// Agent id, or [`DEFAULTS`].
    pub id: String,
    /// Config path of the scope, e.g. `agents.entries.dev` or `agents.list.2`.
    pub path: String,
    /// The agent's own object (`None` for the defaults scope).
    pub node: Option<&'a Node>,
    /// `agents.defaults`, which every agent inherits from.
    pub defaults: Option<&'a Node>,
}

/// Every scope of the config: defaults first, then agents in file order.
pub fn scopes(root: &Node) -> Vec<Scope<'_>> {
    let agents = root.get("agents");
    let defaults = agents.and_then(|a| a.get("defaults"));
    let mut scopes = vec![Scope {
        id: DEFAULTS.to_owned(),
        path: "agents.defaults".to_owned(),
        node: None,
        defaults,
    }];
    if let Some(entries) = agents.and_then(|a| a.get("entries")) {
        for member in entries.members() {
            scopes.push(Scope {
                id: member.key.clone(),
                path: format!("agents.entries.{}", member.key),
                node: Some(&member.value),
                defaults,
            });
        }
    }
    if let Some(list) = agents.and_then(|a| a.get("list")).and_then(Node::as_array) {
        for (index, item) in list.iter().enumerate() {
            let id = item
                .get("id")
                .and_then(Node::as_str)
                .map_or_else(|| format!("list.{index}"), str::to_owned);
            scopes.push(Scope {
                id,
                path: format!("agents.list.{index}"),
                node: Some(item),
                defaults,
            });
        }
    }
    scopes
}

impl<'a> Scope<'a> {
    pub fn is_defaults(&self) -> bool {
        self.node.is_none()
    }

    /// The agent's own `tools` object.
    pub fn tools(&self) -> Option<&'a Node> {
        self.node?.get("tools")
    }

    /// A sandbox setting: the agent's, else `agents.defaults.sandbox`'s.
    pub fn sandbox(&self, path: &[&str]) -> Option<&'a Node> {
        let own = self
            .node
            .and_then(|n| n.get("sandbox"))
            .and_then(|s| s.at(path));
        own.or_else(|| self.defaults?.get("sandbox")?.at(path))
    }

    /// `off` (the default), `non-main` or `all`.
    pub fn sandbox_mode(&self) -> &'a str {
        self.sandbox(&["mode"])
            .and_then(Node::as_str)
            .unwrap_or("off")
    }

    /// A tools setting: the agent's `tools.<path>`, else global `tools.<path>`.
    pub fn tool_setting(&self, root: &'a Node, path: &[&str]) -> Option<&'a Node> {
        self.tools()
            .and_then(|t| t.at(path))
            .or_else(|| root.get("tools")?.at(path))
    }

    /// Provider and model of the agent's primary model, lower case.
    pub fn model(&self) -> Option<(String, String)> {
        let model = self
            .node
            .and_then(|n| n.get("model"))
            .or_else(|| self.defaults?.get("model"))?;
        let id = model.as_str().or_else(|| model.get("primary")?.as_str())?;
        let (provider, name) = id.split_once('/')?;
        Some((provider.to_ascii_lowercase(), name.to_ascii_lowercase()))
    }

    /// Whether elevated exec is on: anything but an explicit `false` in the
    /// agent's or the global `tools.elevated.enabled` counts as on (agents
    /// can only restrict).
    pub fn elevated_enabled(&self, root: &Node) -> bool {
        let off = |n: Option<&Node>| {
            n.and_then(|n| n.at(&["elevated", "enabled"])?.as_bool()) == Some(false)
        };
        !(off(root.get("tools")) || off(self.tools()))
    }
}

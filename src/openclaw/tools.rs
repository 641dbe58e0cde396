//! The effective tool set of an agent, computed as the runtime does
//! (`resolveConfiguredToolPolicies`): a list of independent policies
//! (profile, global, agent, provider, sandbox), each with deny-wins and
//! empty-allow-means-all-not-denied, and a tool is available only if every
//! policy allows it.

use globset::{Glob, GlobMatcher};

use super::catalog::{self, MCP};
use super::json5::Node;
use super::scope::Scope;

/// One entry of an allow or deny list.
struct Entry<'a> {
    node: Option<&'a Node>,
    text: String,
    matcher: Matcher,
}

enum Matcher {
    Group(&'static [&'static str]),
    Glob(GlobMatcher),
    Exact(String),
}

impl Entry<'_> {
    fn matches(&self, tool: &str) -> bool {
        match &self.matcher {
            Matcher::Group(members) => members.contains(&tool),
            Matcher::Glob(glob) => glob.is_match(tool),
            Matcher::Exact(name) => name == tool,
        }
    }

    /// Whether the entry names the MCP plugin itself rather than matching it
    /// through a wildcard (optional plugin tools need an explicit opt-in).
    fn names_plugins(&self) -> bool {
        self.text == MCP || self.text == "group:plugins"
    }
}

fn entry<'a>(node: Option<&'a Node>, raw: &str) -> Entry<'a> {
    let text = catalog::normalize(raw);
    let matcher = if let Some(members) = catalog::group(&text) {
        Matcher::Group(members)
    } else if text.contains('*') {
        // The runtime's globs know only `*`; every other character is literal.
        let pattern: Vec<String> = text.split('*').map(globset::escape).collect();
        match Glob::new(&pattern.join("*")) {
            Ok(glob) => Matcher::Glob(glob.compile_matcher()),
            Err(_) => Matcher::Exact(text.clone()),
        }
    } else {
        Matcher::Exact(text.clone())
    };
    Entry {
        node,
        text,
        matcher,
    }
}

fn list(node: Option<&Node>) -> Option<Vec<Entry<'_>>> {
    let items = node?.as_array()?;
    Some(
        items
            .iter()
            // Blank entries are dropped, as the runtime does (so `[""]` is an
            // empty list: everything not denied).
            .filter_map(|item| {
                let text = item.as_str().filter(|s| !s.trim().is_empty())?;
                Some(entry(Some(item), text))
            })
            .collect(),
    )
}

/// Whether a list is written as `[]` (or is not a list at all).
fn written_empty(node: Option<&Node>) -> bool {
    node.and_then(Node::as_array).is_none_or(<[Node]>::is_empty)
}

fn builtin(names: &[&str]) -> Vec<Entry<'static>> {
    names.iter().map(|n| entry(None, n)).collect()
}

/// One independent policy.
struct Layer<'a> {
    /// Where it comes from, e.g. `agents.entries.dev.tools`.
    name: String,
    /// `None` or empty: everything not denied.
    allow: Option<Vec<Entry<'a>>>,
    deny: Vec<Entry<'a>>,
    /// The value that set the allow list (for blame when a tool is not in it).
    allow_node: Option<&'a Node>,
    /// A profile's `*` opts optional plugin tools in; other lists must name them.
    profile: bool,
    /// The sandbox policy always admits `view_image` unless its deny list
    /// matches `view_image` or `image`.
    sandbox: bool,
    /// A provider policy: it applies to the agent's primary model only.
    model_only: bool,
}

/// Why a tool is not available.
#[derive(Clone, Debug)]
pub struct Removal<'a> {
    /// The policy that removed it, e.g. `tools.deny` or `profile messaging`.
    pub layer: String,
    pub reason: String,
    /// The entry or list responsible, when the config wrote one.
    pub node: Option<&'a Node>,
    /// Removed only by a provider policy of the agent's primary model: a
    /// session on another model (`/model`) still has the tool.
    pub model_only: bool,
}

#[derive(Clone, Debug)]
pub struct ToolState<'a> {
    pub tool: &'static str,
    pub removed: Option<Removal<'a>>,
}

impl<'a> Layer<'a> {
    fn removes(&self, tool: &str) -> Option<Removal<'a>> {
        let image = self.sandbox && tool == "view_image";
        if let Some(deny) = self
            .deny
            .iter()
            .find(|e| e.matches(tool) || (image && e.matches("image")))
        {
            return Some(Removal {
                layer: self.name.clone(),
                reason: format!("denied by `{}`", deny.text),
                node: deny.node,
                model_only: self.model_only,
            });
        }
        if image {
            return None;
        }
        let allow = self.allow.as_ref().filter(|a| !a.is_empty())?;
        // An allow list that admits `write` also admits `apply_patch`.
        let allowed = allow
            .iter()
            .any(|e| e.matches(tool) || (tool == "apply_patch" && e.matches("write")));
        (!allowed).then(|| Removal {
            layer: self.name.clone(),
            reason: "not in its allow list".to_owned(),
            node: self.allow_node,
            model_only: self.model_only,
        })
    }
}

/// Allow/alsoAllow/deny of one scope object (`tools`, an agent's `tools`, a
/// `byProvider` entry) as a layer. `alsoAllow` without `allow` widens only.
fn policy_layer<'a>(name: String, node: &'a Node) -> Layer<'a> {
    let allow_node = node.get("allow");
    // Emptiness is the written list's: `["", "x"]` in alsoAllow widens a
    // blank-only allow, as the runtime's union does before dropping blanks.
    let allow = match (list(allow_node), list(node.get("alsoAllow"))) {
        (Some(mut allow), Some(also)) if !written_empty(allow_node) => {
            allow.extend(also);
            Some(allow)
        }
        (allow, _) => allow,
    };
    Layer {
        name,
        allow,
        deny: list(node.get("deny")).unwrap_or_default(),
        allow_node,
        profile: false,
        sandbox: false,
        model_only: false,
    }
}

fn profile_layer<'a>(
    name: String,
    profile: &'a Node,
    also_allow: Option<&'a Node>,
) -> Option<Layer<'a>> {
    let id = profile.as_str()?;
    let members = catalog::profile(id)?;
    let mut allow = builtin(members);
    allow.extend(list(also_allow).unwrap_or_default());
    Some(Layer {
        name: format!("{name} `{id}`"),
        allow: Some(allow),
        deny: Vec::new(),
        allow_node: Some(profile),
        profile: true,
        sandbox: false,
        model_only: false,
    })
}

/// The policies that apply to `scope`, in the documented order.
fn layers<'a>(root: &'a Node, scope: &Scope<'a>) -> Vec<Layer<'a>> {
    let global = root.get("tools");
    let agent = scope.tools();
    let mut layers = Vec::new();

    let (profile_at, profile) = match agent.and_then(|t| t.get("profile")) {
        Some(p) => (format!("{}.tools.profile", scope.path), Some(p)),
        None => (
            "tools.profile".to_owned(),
            global.and_then(|t| t.get("profile")),
        ),
    };
    let also_allow = agent
        .and_then(|t| t.get("alsoAllow"))
        .or_else(|| global.and_then(|t| t.get("alsoAllow")));
    if let Some(layer) = profile.and_then(|p| profile_layer(profile_at, p, also_allow)) {
        layers.push(layer);
    }
    if let Some(global) = global {
        layers.push(policy_layer("tools".to_owned(), global));
    }
    if let Some(agent) = agent {
        layers.push(policy_layer(format!("{}.tools", scope.path), agent));
    }

    let mut by_model = Vec::new();
    if let Some((provider, model)) = scope.model() {
        // One entry per scope: the `provider/model` key, else the provider's.
        let pick = |by: Option<&'a Node>, at: String| {
            let by = by?;
            [format!("{provider}/{model}"), provider.clone()]
                .iter()
                .find_map(|key| {
                    by.members()
                        .iter()
                        .find(|m| m.key.to_ascii_lowercase() == *key)
                })
                .map(|m| (format!("{at}.{}", m.key), &m.value))
        };
        let from_global = pick(
            global.and_then(|t| t.get("byProvider")),
            "tools.byProvider".to_owned(),
        );
        let from_agent = pick(
            agent.and_then(|t| t.get("byProvider")),
            format!("{}.tools.byProvider", scope.path),
        );
        // The agent's provider profile (and its alsoAllow) replaces the global one.
        let entries = [from_agent.clone(), from_global.clone()];
        let profile = entries
            .iter()
            .flatten()
            .find_map(|(at, n)| Some((format!("{at}.profile"), n.get("profile")?)));
        let also_allow = entries
            .iter()
            .flatten()
            .find_map(|(_, n)| n.get("alsoAllow").filter(|a| a.as_array().is_some()));
        if let Some((at, p)) = profile {
            by_model.extend(profile_layer(at, p, also_allow));
        }
        for (at, node) in [from_global, from_agent].into_iter().flatten() {
            by_model.push(policy_layer(at, node));
        }
    }

    if scope.sandbox_mode() == "all" {
        layers.push(sandbox_layer(root, scope));
    }
    // Last, so a tool they remove is one no other policy removes.
    layers.extend(by_model.into_iter().map(|l| Layer {
        model_only: true,
        ..l
    }));
    layers
}

/// `tools.sandbox.tools`: per key, the agent's list replaces the global one,
/// which replaces the built-in default.
fn sandbox_layer<'a>(root: &'a Node, scope: &Scope<'a>) -> Layer<'a> {
    let global = root.at(&["tools", "sandbox", "tools"]);
    let agent = scope.tools().and_then(|t| t.at(&["sandbox", "tools"]));
    let pick = |key: &str| {
        agent
            .and_then(|n| n.get(key))
            .or_else(|| global.and_then(|n| n.get(key)))
    };
    let allow_node = pick("allow");
    let configured = list(allow_node);
    let also = list(pick("alsoAllow")).unwrap_or_default();
    let deny = match list(pick("deny")) {
        Some(deny) => deny,
        // Tools an explicit allow or alsoAllow entry matches (groups and
        // globs included) drop out of the default deny.
        None => catalog::SANDBOX_DEFAULT_DENY
            .iter()
            .filter(|d| {
                !configured
                    .iter()
                    .flatten()
                    .chain(&also)
                    .any(|a| a.matches(d))
            })
            .map(|d| entry(None, d))
            .collect(),
    };
    let widen = configured.is_none() || !written_empty(allow_node);
    let mut allow = configured.unwrap_or_else(|| builtin(catalog::SANDBOX_DEFAULT_ALLOW));
    if widen {
        allow.extend(also);
    }
    Layer {
        name: "sandbox tool policy".to_owned(),
        allow: Some(allow),
        deny,
        allow_node,
        profile: false,
        sandbox: true,
        model_only: false,
    }
}

/// Every catalog tool, with the first policy that removes it (if any).
pub fn effective<'a>(root: &'a Node, scope: &Scope<'a>) -> Vec<ToolState<'a>> {
    let layers = layers(root, scope);
    let plugins_opted_in = layers.iter().any(|l| {
        l.allow.as_ref().is_some_and(|a| {
            a.iter()
                .any(|e| e.names_plugins() || (l.profile && e.text == "*"))
        })
    });
    catalog::tools()
        .map(|tool| {
            let removed = if tool == MCP && !plugins_opted_in {
                Some(Removal {
                    layer: "optional plugin tools".to_owned(),
                    reason: "not opted in (needs profile coding, messaging or full, or `bundle-mcp`/`group:plugins` in an allow list)".to_owned(),
                    node: None,
                    model_only: false,
                })
            } else {
                layers.iter().find_map(|l| l.removes(tool))
            };
            ToolState { tool, removed }
        })
        .collect()
}

/// Whether the MCP tool `name` (`<safe-server-name>__<tool>`, owned by the
/// plugin `bundle-mcp`) is available to `scope`: `None`, or the first policy
/// that removes it. An entry matches it by its name (globs included), by the
/// plugin id `bundle-mcp` or by `group:plugins`; being optional, it needs an
/// opt-in: a profile that includes plugin tools, or an allow entry naming the
/// plugin, its group or the tool (a bare `*` outside a profile does not).
pub fn mcp_tool<'a>(root: &'a Node, scope: &Scope<'a>, name: &str) -> Option<Removal<'a>> {
    PluginPolicies::new(root, scope).removal(name)
}

/// The policies of one agent scope, built once to decide many MCP tools
/// ([`mcp_tool`]).
pub struct PluginPolicies<'a> {
    layers: Vec<Layer<'a>>,
}

impl<'a> PluginPolicies<'a> {
    pub fn new(root: &'a Node, scope: &Scope<'a>) -> PluginPolicies<'a> {
        PluginPolicies {
            layers: layers(root, scope),
        }
    }

    /// `None` when the MCP tool `name` is available, else the first policy
    /// that removes it.
    pub fn removal(&self, name: &str) -> Option<Removal<'a>> {
        let name = name.to_ascii_lowercase();
        let opted_in = self.layers.iter().any(|l| {
            l.allow.as_ref().is_some_and(|a| {
                a.iter().any(|e| {
                    e.names_plugins()
                        || (l.profile && e.text == "*")
                        || (e.node.is_some() && e.text != "*" && e.matches(&name))
                })
            })
        });
        if !opted_in {
            return Some(Removal {
                layer: "optional plugin tools".to_owned(),
                reason: format!(
                    "`{name}` is not opted in (needs profile coding, messaging or full, or `bundle-mcp`, `group:plugins` or the tool in an allow list)"
                ),
                node: None,
                model_only: false,
            });
        }
        self.layers
            .iter()
            .find_map(|l| l.removes_plugin_tool(&name))
    }
}

impl<'a> Layer<'a> {
    fn removes_plugin_tool(&self, tool: &str) -> Option<Removal<'a>> {
        let hit = |e: &Entry<'_>| e.names_plugins() || e.matches(tool);
        if let Some(deny) = self.deny.iter().find(|e| hit(e)) {
            return Some(Removal {
                layer: self.name.clone(),
                reason: format!("denied by `{}`", deny.text),
                node: deny.node,
                model_only: self.model_only,
            });
        }
        let allow = self.allow.as_ref().filter(|a| !a.is_empty())?;
        (!allow.iter().any(hit)).then(|| Removal {
            layer: self.name.clone(),
            reason: "not in its allow list".to_owned(),
            node: self.allow_node,
            model_only: self.model_only,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::scope::scopes;
    use crate::report::SourceFile;

    fn available(text: &str, agent: &str) -> Vec<&'static str> {
        let root = crate::openclaw::json5::parse(&SourceFile::new("c", text.to_owned()))
            .unwrap()
            .0;
        let scopes = scopes(&root);
        let scope = scopes.iter().find(|s| s.id == agent).unwrap();
        effective(&root, scope)
            .into_iter()
            .filter(|t| t.removed.is_none())
            .map(|t| t.tool)
            .collect()
    }

    #[test]
    fn no_policy_allows_every_core_tool_but_not_plugins() {
        let tools = available("{}", "defaults");
        assert_eq!(tools.len(), 61);
        assert!(!tools.contains(&MCP));
    }

    #[test]
    fn profile_groups_aliases_and_deny_wins() {
        let tools = available(
            "{tools: {profile: 'coding', deny: ['BASH', 'group:fs'], allow: ['e*', 'Read', 'write', 'bundle-mcp']}}",
            "defaults",
        );
        // coding ∩ {e*, read, write(+apply_patch), bundle-mcp} minus exec and fs.
        assert_eq!(tools, [MCP]);
        let tools = available(
            "{tools: {profile: 'minimal', alsoAllow: ['read']}}",
            "defaults",
        );
        assert_eq!(tools, ["read", "session_status", "gateway"]);
    }

    #[test]
    fn write_in_allow_admits_apply_patch_but_deny_write_does_not_deny_it() {
        assert_eq!(
            available("{tools: {allow: ['write']}}", "defaults"),
            ["write", "apply_patch"]
        );
        assert!(available("{tools: {deny: ['write']}}", "defaults").contains(&"apply_patch"));
    }

    #[test]
    fn agent_profile_replaces_global_and_global_deny_still_applies() {
        let text = "{tools: {profile: 'minimal', deny: ['gateway']},
          agents: {entries: {dev: {tools: {profile: 'coding', deny: ['exec']}}}}}";
        let dev = available(text, "dev");
        assert!(dev.contains(&"read") && !dev.contains(&"exec") && !dev.contains(&"gateway"));
        assert_eq!(available(text, "defaults"), ["session_status"]);
    }

    #[test]
    fn sandbox_policy_applies_only_when_mode_is_all() {
        let text = "{agents: {defaults: {sandbox: {mode: 'all'}},
          entries: {a: {sandbox: {mode: 'off'}}, b: {tools: {sandbox: {tools: {allow: []}}}}}}}";
        let defaults = available(text, "defaults");
        assert_eq!(defaults.len(), catalog::SANDBOX_DEFAULT_ALLOW.len());
        assert_eq!(available(text, "a").len(), 61);
        // An explicit empty sandbox allow is allow-all minus the default deny.
        assert_eq!(
            available(text, "b").len(),
            61 - catalog::SANDBOX_DEFAULT_DENY.len()
        );
    }

    #[test]
    fn sandbox_details_of_the_runtime() {
        // An alsoAllow group re-allows default-denied tools it covers.
        let tools = available(
            "{agents: {defaults: {sandbox: {mode: 'all'}}}, tools: {sandbox: {tools: {alsoAllow: ['group:nodes']}}}}",
            "defaults",
        );
        assert!(tools.contains(&"nodes") && !tools.contains(&"gateway"));
        // view_image is always admitted in the sandbox unless `image` is denied.
        let only_read = "{agents: {defaults: {sandbox: {mode: 'all'}}}, tools: {sandbox: {tools: {allow: ['read']}}}}";
        assert_eq!(available(only_read, "defaults"), ["read", "view_image"]);
        let no_image = "{agents: {defaults: {sandbox: {mode: 'all'}}}, tools: {sandbox: {tools: {allow: ['read'], deny: ['image']}}}}";
        assert_eq!(available(no_image, "defaults"), ["read"]);
    }

    #[test]
    fn only_star_is_a_wildcard_and_blank_entries_are_dropped() {
        assert!(available("{tools: {allow: ['re?d', '[r]ead']}}", "defaults").is_empty());
        assert_eq!(
            available("{tools: {allow: ['', '  ']}}", "defaults").len(),
            61
        );
    }

    #[test]
    fn provider_policies_apply_to_the_agent_model() {
        let text = "{tools: {byProvider: {openai: {deny: ['exec']}, 'anthropic/claude-x': {profile: 'minimal'}}},
          agents: {entries: {o: {model: 'openai/gpt-5'}, c: {model: {primary: 'anthropic/claude-x'}}}}}";
        assert!(!available(text, "o").contains(&"exec"));
        assert_eq!(available(text, "c"), ["session_status", "gateway"]);
    }

    fn mcp_available(text: &str, agent: &str, tool: &str) -> bool {
        let root = crate::openclaw::json5::parse(&SourceFile::new("c", text.to_owned()))
            .unwrap()
            .0;
        let scopes = scopes(&root);
        let scope = scopes.iter().find(|s| s.id == agent).unwrap();
        mcp_tool(&root, scope, tool).is_none()
    }

    #[test]
    fn mcp_tools_need_an_opt_in_and_match_by_name_plugin_or_group() {
        let tool = "github__get_issue";
        assert!(!mcp_available("{}", "defaults", tool));
        assert!(!mcp_available("{tools: {allow: ['*']}}", "defaults", tool));
        assert!(mcp_available(
            "{tools: {profile: 'coding'}}",
            "defaults",
            tool
        ));
        assert!(mcp_available(
            "{tools: {profile: 'full'}}",
            "defaults",
            tool
        ));
        assert!(!mcp_available(
            "{tools: {profile: 'minimal'}}",
            "defaults",
            tool
        ));
        assert!(mcp_available(
            "{tools: {allow: ['GitHub__*']}}",
            "defaults",
            tool
        ));
        assert!(mcp_available(
            "{tools: {allow: ['github__get_issue']}}",
            "defaults",
            tool
        ));
        assert!(mcp_available(
            "{tools: {profile: 'minimal', alsoAllow: ['github__get_issue']}}",
            "defaults",
            tool
        ));
        assert!(!mcp_available(
            "{tools: {allow: ['github__get_issue']}}",
            "defaults",
            "github__delete_repo"
        ));
        assert!(!mcp_available(
            "{tools: {profile: 'coding', deny: ['github__*']}}",
            "defaults",
            tool
        ));
        assert!(!mcp_available(
            "{tools: {profile: 'coding', deny: ['group:plugins']}}",
            "defaults",
            tool
        ));
        // Sandboxed sessions need them in the sandbox allow list too.
        let sandboxed =
            "{tools: {profile: 'coding'}, agents: {defaults: {sandbox: {mode: 'all'}}}}";
        assert!(!mcp_available(sandboxed, "defaults", tool));
        let allowed = "{tools: {profile: 'coding', sandbox: {tools: {alsoAllow: ['github__*']}}}, agents: {defaults: {sandbox: {mode: 'all'}}}}";
        assert!(mcp_available(allowed, "defaults", tool));
    }
}

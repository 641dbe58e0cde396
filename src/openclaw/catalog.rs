//! OpenClaw's shipped tool catalog (openclaw@2026.9.6): groups, profiles,
//! aliases and the built-in default lists the runtime and its audit use.

use std::sync::LazyLock;

/// One core tool as the runtime defines it: the `group:<section>` it
/// belongs to, whether `group:openclaw` includes it (every core tool but
/// the fs/runtime basics and canvas), and the built-in profiles that allow
/// it. Groups and profiles are derived from this one table, as the runtime
/// derives them from its tool definitions, so a tool is described once.
struct CoreTool {
    name: &'static str,
    section: &'static str,
    in_openclaw_group: bool,
    profiles: &'static [&'static str],
}

const fn tool(
    name: &'static str,
    section: &'static str,
    in_openclaw_group: bool,
    profiles: &'static [&'static str],
) -> CoreTool {
    CoreTool {
        name,
        section,
        in_openclaw_group,
        profiles,
    }
}

/// The core tools in catalog order (the order groups and profiles list them).
#[rustfmt::skip]
const CORE_TOOLS: &[CoreTool] = &[
    tool("ls", "fs", false, &["coding"]),
    tool("read", "fs", false, &["coding"]),
    tool("write", "fs", false, &["coding"]),
    tool("edit", "fs", false, &["coding"]),
    tool("apply_patch", "fs", false, &["coding"]),
    tool("exec", "runtime", false, &["coding"]),
    tool("process", "runtime", false, &["coding"]),
    tool("code_execution", "runtime", true, &["coding"]),
    tool("secrets", "runtime", true, &["coding", "messaging"]),
    tool("web_search", "web", true, &["coding"]),
    tool("web_fetch", "web", true, &["coding"]),
    tool("x_search", "web", true, &["coding"]),
    tool("memory_search", "memory", true, &["coding"]),
    tool("memory_get", "memory", true, &["coding"]),
    tool("sessions", "sessions", true, &["coding", "messaging"]),
    tool("sessions_list", "sessions", true, &["coding", "messaging"]),
    tool("sessions_history", "sessions", true, &["coding", "messaging"]),
    tool("sessions_search", "sessions", true, &["coding", "messaging"]),
    tool("conversations_list", "sessions", true, &["coding", "messaging"]),
    tool("conversations_send", "sessions", true, &["coding", "messaging"]),
    tool("conversations_turn", "sessions", true, &["coding", "messaging"]),
    tool("sessions_send", "sessions", true, &["coding", "messaging"]),
    tool("sessions_spawn", "sessions", true, &["coding", "messaging"]),
    tool("github_identity_status", "sessions", true, &["coding"]),
    tool("github_publish", "sessions", true, &["coding"]),
    tool("agents_wait", "sessions", true, &["coding"]),
    tool("sessions_yield", "sessions", true, &["coding", "messaging"]),
    tool("subagents", "sessions", true, &["coding", "messaging"]),
    tool("session_status", "sessions", true, &["minimal", "coding", "messaging"]),
    tool("suggest_task", "sessions", true, &["coding"]),
    tool("dismiss_task", "sessions", true, &["coding"]),
    tool("browser", "ui", true, &[]),
    tool("screen", "ui", true, &["coding"]),
    tool("theme", "ui", true, &["coding", "messaging"]),
    tool("dashboard", "ui", true, &["coding"]),
    tool("terminal", "ui", true, &["coding"]),
    tool("portal", "ui", true, &["coding"]),
    tool("canvas", "ui", false, &[]),
    tool("show_widget", "ui", true, &[]),
    tool("message", "messaging", true, &["messaging"]),
    tool("heartbeat_respond", "automation", true, &[]),
    tool("automations", "automation", true, &["coding"]),
    tool("gateway", "automation", true, &["minimal", "coding", "messaging"]),
    tool("plugins", "automation", true, &["coding"]),
    tool("openclaw", "automation", true, &[]),
    tool("nodes", "nodes", true, &[]),
    tool("computer", "nodes", true, &[]),
    tool("mobile_ui", "nodes", true, &[]),
    tool("agents_list", "agents", true, &[]),
    tool("get_goal", "agents", true, &["coding"]),
    tool("create_goal", "agents", true, &["coding"]),
    tool("update_goal", "agents", true, &["coding"]),
    tool("progress_card", "agents", true, &["coding"]),
    tool("ask_user", "agents", true, &["coding", "messaging"]),
    tool("skill_workshop", "agents", true, &["coding"]),
    tool("view_image", "media", true, &["coding"]),
    tool("image_generate", "media", true, &["coding"]),
    tool("music_generate", "media", true, &["coding"]),
    tool("video_generate", "media", true, &["coding"]),
    tool("tts", "media", true, &[]),
    tool("pdf", "media", true, &[]),
];

/// The plugin id under which MCP server tools appear.
pub const MCP: &str = "bundle-mcp";

/// The profiles that also allow the MCP bundle plugin's tools; `full`
/// allows everything.
const PROFILES_WITH_MCP: &[&str] = &["coding", "messaging"];

/// `group:<section>` for every section, then `group:openclaw` and
/// `group:plugins`, each with its members in catalog order.
static GROUPS: LazyLock<Vec<(String, Vec<&'static str>)>> = LazyLock::new(|| {
    let mut groups: Vec<(String, Vec<&'static str>)> = Vec::new();
    for tool in CORE_TOOLS {
        let name = format!("group:{}", tool.section);
        match groups.iter_mut().find(|(group, _)| *group == name) {
            Some((_, members)) => members.push(tool.name),
            None => groups.push((name, vec![tool.name])),
        }
    }
    let openclaw = CORE_TOOLS.iter().filter(|t| t.in_openclaw_group);
    groups.push((
        "group:openclaw".to_owned(),
        openclaw.map(|t| t.name).collect(),
    ));
    // Plugin-owned tools are only known at run time; statically the one
    // stand-in is the MCP bundle plugin.
    groups.push(("group:plugins".to_owned(), vec![MCP]));
    groups
});

static PROFILES: LazyLock<Vec<(&'static str, Vec<&'static str>)>> = LazyLock::new(|| {
    let mut profiles: Vec<(&'static str, Vec<&'static str>)> = ["minimal", "coding", "messaging"]
        .into_iter()
        .map(|profile| {
            let mut allow: Vec<&'static str> = CORE_TOOLS
                .iter()
                .filter(|t| t.profiles.contains(&profile))
                .map(|t| t.name)
                .collect();
            if PROFILES_WITH_MCP.contains(&profile) {
                allow.push(MCP);
            }
            (profile, allow)
        })
        .collect();
    profiles.push(("full", vec!["*"]));
    profiles
});

/// Names normalised before matching.
pub const ALIASES: &[(&str, &str)] = &[
    ("bash", "exec"),
    ("apply-patch", "apply_patch"),
    ("cron", "automations"),
];

/// The sandbox tool policy when no scope sets one.
pub const SANDBOX_DEFAULT_ALLOW: &[&str] = &[
    "exec",
    "process",
    "read",
    "ls",
    "write",
    "edit",
    "apply_patch",
    "view_image",
    "sessions_list",
    "sessions_history",
    "sessions_search",
    "sessions_send",
    "sessions_spawn",
    "sessions_yield",
    "subagents",
    "session_status",
];
pub const SANDBOX_DEFAULT_DENY: &[&str] = &[
    "browser",
    "canvas",
    "computer",
    "mobile_ui",
    "nodes",
    "automations",
    "gateway",
];

/// Tools `POST /tools/invoke` refuses unless `gateway.tools.allow` names them.
pub const HTTP_DEFAULT_DENY: &[&str] = &[
    "exec",
    "spawn",
    "shell",
    "fs_write",
    "fs_delete",
    "fs_move",
    "apply_patch",
    "terminal",
    "portal",
    "sessions_spawn",
    "sessions_send",
    "conversations_list",
    "conversations_send",
    "conversations_turn",
    "automations",
    "gateway",
    "plugins",
    "nodes",
    "computer",
    "mobile_ui",
    "openclaw",
];

/// Node commands the runtime considers dangerous.
pub const DANGEROUS_NODE_COMMANDS: &[&str] = &[
    "camera.snap",
    "camera.clip",
    "camera.ptz.control",
    "screen.record",
    "contacts.add",
    "calendar.add",
    "reminders.add",
    "sms.send",
    "sms.search",
    "health.summary",
];

pub const RUNTIME_TOOLS: &[&str] = &["exec", "process"];
pub const FS_TOOLS: &[&str] = &["read", "write", "edit", "apply_patch"];
pub const CONTROL_PLANE_TOOLS: &[&str] = &["automations", "gateway", "plugins"];

/// Every tool the audit reasons about, in catalog order: the core tools,
/// then the MCP stand-in.
pub fn tools() -> impl Iterator<Item = &'static str> {
    CORE_TOOLS.iter().map(|t| t.name).chain([MCP])
}

pub fn group(name: &str) -> Option<&'static [&'static str]> {
    GROUPS
        .iter()
        .find(|(group, _)| group == name)
        .map(|(_, members)| members.as_slice())
}

pub fn profile(name: &str) -> Option<&'static [&'static str]> {
    PROFILES
        .iter()
        .find(|(profile, _)| *profile == name)
        .map(|(_, members)| members.as_slice())
}

/// Lower case, aliases resolved.
pub fn normalize(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map_or(lower, |(_, canonical)| (*canonical).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups and profiles exactly as `openclaw@2026.9.6` resolves them.
    #[test]
    fn catalog_matches_the_shipped_dump() {
        let dump = include_str!("../../tests/vectors/openclaw/tools-dump.txt");
        let mut section = "";
        let mut seen = 0;
        for line in dump.lines() {
            let Some((name, value)) = line.split_once(" = ") else {
                section = line;
                continue;
            };
            seen += 1;
            if section == "GROUPS" {
                let members: Vec<&str> = value.split(", ").collect();
                assert_eq!(group(name).unwrap(), members.as_slice(), "{name}");
            } else {
                let allow: serde_json::Value = serde_json::from_str(value).unwrap();
                let allow: Vec<&str> = allow["allow"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                assert_eq!(profile(name).unwrap(), allow.as_slice(), "{name}");
            }
        }
        assert_eq!(seen, 16);
        assert_eq!(tools().count(), 62);
        assert_eq!(group("group:plugins").unwrap(), [MCP]);
        assert_eq!(normalize("BASH"), "exec");
    }
}

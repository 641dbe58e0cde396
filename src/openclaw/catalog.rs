//! OpenClaw's shipped tool catalog (openclaw@2026.9.6): groups, profiles,
//! aliases and the built-in default lists the runtime and its audit use.

/// Tool groups usable in any allow or deny list, in catalog order.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("group:fs", &["ls", "read", "write", "edit", "apply_patch"]),
    (
        "group:runtime",
        &["exec", "process", "code_execution", "secrets"],
    ),
    ("group:web", &["web_search", "web_fetch", "x_search"]),
    ("group:memory", &["memory_search", "memory_get"]),
    (
        "group:sessions",
        &[
            "sessions",
            "sessions_list",
            "sessions_history",
            "sessions_search",
            "conversations_list",
            "conversations_send",
            "conversations_turn",
            "sessions_send",
            "sessions_spawn",
            "github_identity_status",
            "github_publish",
            "agents_wait",
            "sessions_yield",
            "subagents",
            "session_status",
            "suggest_task",
            "dismiss_task",
        ],
    ),
    (
        "group:ui",
        &[
            "browser",
            "screen",
            "theme",
            "dashboard",
            "terminal",
            "portal",
            "canvas",
            "show_widget",
        ],
    ),
    ("group:messaging", &["message"]),
    (
        "group:automation",
        &[
            "heartbeat_respond",
            "automations",
            "gateway",
            "plugins",
            "openclaw",
        ],
    ),
    ("group:nodes", &["nodes", "computer", "mobile_ui"]),
    (
        "group:agents",
        &[
            "agents_list",
            "get_goal",
            "create_goal",
            "update_goal",
            "progress_card",
            "ask_user",
            "skill_workshop",
        ],
    ),
    (
        "group:media",
        &[
            "view_image",
            "image_generate",
            "music_generate",
            "video_generate",
            "tts",
            "pdf",
        ],
    ),
    (
        "group:openclaw",
        &[
            "code_execution",
            "secrets",
            "web_search",
            "web_fetch",
            "x_search",
            "memory_search",
            "memory_get",
            "sessions",
            "sessions_list",
            "sessions_history",
            "sessions_search",
            "conversations_list",
            "conversations_send",
            "conversations_turn",
            "sessions_send",
            "sessions_spawn",
            "github_identity_status",
            "github_publish",
            "agents_wait",
            "sessions_yield",
            "subagents",
            "session_status",
            "suggest_task",
            "dismiss_task",
            "browser",
            "screen",
            "theme",
            "dashboard",
            "terminal",
            "portal",
            "show_widget",
            "message",
            "heartbeat_respond",
            "automations",
            "gateway",
            "plugins",
            "openclaw",
            "nodes",
            "computer",
            "mobile_ui",
            "agents_list",
            "get_goal",
            "create_goal",
            "update_goal",
            "progress_card",
            "ask_user",
            "skill_workshop",
            "view_image",
            "image_generate",
            "music_generate",
            "video_generate",
            "tts",
            "pdf",
        ],
    ),
    // Plugin-owned tools are only known at run time; statically the one
    // stand-in is the MCP bundle plugin.
    ("group:plugins", &[MCP]),
];

/// The plugin id under which MCP server tools appear.
pub const MCP: &str = "bundle-mcp";

pub const PROFILES: &[(&str, &[&str])] = &[
    ("minimal", &["session_status", "gateway"]),
    (
        "coding",
        &[
            "ls",
            "read",
            "write",
            "edit",
            "apply_patch",
            "exec",
            "process",
            "code_execution",
            "secrets",
            "web_search",
            "web_fetch",
            "x_search",
            "memory_search",
            "memory_get",
            "sessions",
            "sessions_list",
            "sessions_history",
            "sessions_search",
            "conversations_list",
            "conversations_send",
            "conversations_turn",
            "sessions_send",
            "sessions_spawn",
            "github_identity_status",
            "github_publish",
            "agents_wait",
            "sessions_yield",
            "subagents",
            "session_status",
            "suggest_task",
            "dismiss_task",
            "screen",
            "theme",
            "dashboard",
            "terminal",
            "portal",
            "automations",
            "gateway",
            "plugins",
            "get_goal",
            "create_goal",
            "update_goal",
            "progress_card",
            "ask_user",
            "skill_workshop",
            "view_image",
            "image_generate",
            "music_generate",
            "video_generate",
            MCP,
        ],
    ),
    (
        "messaging",
        &[
            "secrets",
            "sessions",
            "sessions_list",
            "sessions_history",
            "sessions_search",
            "conversations_list",
            "conversations_send",
            "conversations_turn",
            "sessions_send",
            "sessions_spawn",
            "sessions_yield",
            "subagents",
            "session_status",
            "theme",
            "message",
            "gateway",
            "ask_user",
            MCP,
        ],
    ),
    ("full", &["*"]),
];

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
    let mut seen: Vec<&'static str> = Vec::with_capacity(64);
    for (_, members) in GROUPS {
        for tool in *members {
            if !seen.contains(tool) {
                seen.push(tool);
            }
        }
    }
    seen.into_iter()
}

pub fn group(name: &str) -> Option<&'static [&'static str]> {
    GROUPS.iter().find(|(g, _)| *g == name).map(|(_, m)| *m)
}

pub fn profile(name: &str) -> Option<&'static [&'static str]> {
    PROFILES.iter().find(|(p, _)| *p == name).map(|(_, m)| *m)
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

    #[test]
    fn catalog_matches_the_shipped_dump() {
        let all: Vec<_> = tools().collect();
        assert_eq!(all.len(), 62);
        assert!(all.contains(&MCP));
        // group:openclaw is every core tool except the fs/runtime basics and canvas.
        let openclaw = group("group:openclaw").unwrap();
        for tool in &all {
            let excluded = [
                "ls",
                "read",
                "write",
                "edit",
                "apply_patch",
                "exec",
                "process",
                "canvas",
                MCP,
            ];
            assert_eq!(openclaw.contains(tool), !excluded.contains(tool), "{tool}");
        }
        assert_eq!(normalize("BASH"), "exec");
    }
}

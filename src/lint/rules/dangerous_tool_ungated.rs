use super::{DangerousToolUngated, usable_mcp_servers};
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::mcp;
use crate::policy::model::Approval;
use crate::policy::pattern::{includes, literal_prefix, overlaps};

/// Tools that run code, ship, merge or read secrets. `[lint] dangerous_tools`
/// replaces this list.
pub const DEFAULT_DANGEROUS: &[&str] = &[
    "exec",
    "shell",
    "process",
    "deploy.*",
    "*.merge",
    "secrets.*",
];

impl Rule for DangerousToolUngated {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let dangerous: Vec<String> = match &cx.settings.dangerous_tools {
            Some(list) => list.clone(),
            None => DEFAULT_DANGEROUS.iter().map(|s| (*s).to_owned()).collect(),
        };
        let tools = &policy.wpc.constraints.tool_policy;
        let approvals = &policy.wpc.constraints.approvals;
        // The first dangerous pattern `allow` reaches that no deny pattern
        // takes away and no gate names. On an MCP server, a dangerous
        // `mcp:S/T` whose `S` matches the server is `mcp:SERVER/T` there.
        let ungated = |allow: &str, denied: &[String], server: Option<&str>| {
            dangerous
                .iter()
                .find(|d| {
                    let here = server.and_then(|name| on_server(d, name));
                    overlaps(allow, d)
                        && !denied.iter().any(|deny| {
                            includes(deny, allow)
                                || includes(deny, d)
                                || here.as_deref().is_some_and(|h| includes(deny, h))
                        })
                })
                .filter(|risky| !approvals.iter().any(|gate| names_tool(gate, allow, risky)))
        };
        for (i, allow) in tools.allow.iter().enumerate() {
            if let Some(risky) = ungated(allow, &tools.deny, None) {
                report(
                    cx,
                    policy,
                    &format!("/constraints/tool_policy/allow/{i}"),
                    allow,
                    risky,
                );
            }
        }
        // A server's `tools` list allows `mcp:SERVER/PATTERN` whatever
        // `tool_policy.allow` says; its `deny_tools` and the tool policy's
        // deny patterns still take tools away.
        for usable in usable_mcp_servers(policy) {
            let server = usable.server;
            let mut denied = tools.deny.clone();
            denied.extend(
                server
                    .deny_tools
                    .iter()
                    .flatten()
                    .map(|deny| mcp::name(&server.name, deny)),
            );
            for (pointer, tool) in usable.tools() {
                let allow = mcp::name(&server.name, tool);
                if let Some(risky) = ungated(&allow, &denied, Some(&server.name)) {
                    report(cx, policy, &pointer, &allow, risky);
                }
            }
        }
    }
}

/// A dangerous `mcp:S/T` pattern as it applies to the tools of `server`:
/// `mcp:SERVER/T` when `S` matches the server.
fn on_server(dangerous: &str, server: &str) -> Option<String> {
    let (servers, tool) = dangerous.strip_prefix(mcp::PREFIX)?.split_once('/')?;
    mcp::matches(servers, server).then(|| mcp::name(server, tool))
}

fn report(cx: &mut Context<'_>, policy: &Policy, pointer: &str, allow: &str, risky: &str) {
    cx.report(
        &policy.doc,
        pointer,
        format!(
            "allow `{allow}` lets the agent use dangerous tool `{risky}` with no approval gate"
        ),
    )
    .help = Some(format!(
        "deny it, or gate it: [[constraints.approvals]] when = \"{}\" require = \"human_approval\"",
        example_condition(allow, risky)
    ));
}

/// A CEL condition for the help text that names the risky tools: the allow
/// pattern when it is a plain name, else the literal part of either pattern.
fn example_condition(allow: &str, risky: &str) -> String {
    for name in [allow, risky] {
        if literal_prefix(name) == name {
            return format!("tool == '{name}'");
        }
    }
    match (literal_prefix(risky), risky.rsplit_once('*')) {
        ("", Some((_, suffix))) if !suffix.is_empty() => format!("tool.endsWith('{suffix}')"),
        (prefix, _) if !prefix.is_empty() => format!("tool.startsWith('{prefix}')"),
        _ => format!("tool.startsWith('{}')", literal_prefix(allow)),
    }
}

/// Whether a gate's `when` names the tool. A textual test: the expression
/// mentions the literal part of the allow pattern or of the dangerous
/// pattern. (The CEL-aware check belongs to the decision engine's rules.)
fn names_tool(gate: &Approval, allow: &str, risky: &str) -> bool {
    [literal_prefix(allow), literal_prefix(risky)]
        .into_iter()
        .filter(|literal| !literal.is_empty())
        .any(|literal| gate.when.contains(literal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, lint, run};

    fn allowing(tools: &str) -> String {
        CLEAN.replace(
            "allow = [\"read\", \"repo.comment\"]",
            &format!("allow = [{tools}]"),
        )
    }

    crate::rule_tests! { lint(&DangerousToolUngated, None);
        fires_for_an_ungated_dangerous_tool:
            &[&allowing("\"deploy.prod\"")]
                => ["6:10 allow `deploy.prod` lets the agent use dangerous tool `deploy.*` with no approval gate"],
            // A pattern that reaches a dangerous tool counts too.
            &[&allowing("\"repo.*\"")] => 1;
        quiet_when_gated_denied_or_harmless:
            &[&format!(
                "{}\n[[constraints.approvals]]\nwhen = \"tool == 'deploy.prod'\"\nrequire = \"human_approval\"\n",
                allowing("\"deploy.prod\"")
            )] => 0,
            // `exec` is allowed and denied: deny wins, nothing dangerous remains.
            &[&allowing("\"exec\"")] => 0,
            &[CLEAN] => 0;
    }

    fn with_server(tools: &str, deny_tools: &str) -> String {
        format!(
            "{CLEAN}\n[constraints.mcp]\ndeny_servers = [\"scratch-*\"]\n[[constraints.mcp.servers]]\nname = \"github\"\ntools = [{tools}]\ndeny_tools = [{deny_tools}]\n[[constraints.mcp.servers]]\nname = \"scratch-1\"\ntools = [\"*\"]\n"
        )
    }

    /// The rule with `mcp:*/delete_*` as the dangerous tools.
    fn mcp_delete(texts: &[&str]) -> Vec<String> {
        let settings = LintSettings {
            dangerous_tools: Some(vec!["mcp:*/delete_*".into()]),
            ..Default::default()
        };
        run(&DangerousToolUngated, &settings, texts)
    }

    crate::rule_tests! { mcp_delete;
        fires_for_an_mcp_server_tool_list_reaching_a_dangerous_tool:
            &[&with_server("\"get_issue\", \"*\"", "")]
                => ["25:23 allow `mcp:github/*` lets the agent use dangerous tool `mcp:*/delete_*` with no approval gate"],
            &[&with_server("\"delete_repository\"", "")] => 1;
        quiet_when_the_server_denies_it_a_gate_names_it_or_the_server_is_denied:
            &[&with_server("\"*\"", "\"delete_*\"")] => 0,
            &[&format!(
                "{}[[constraints.approvals]]\nwhen = \"tool.startsWith('mcp:github/delete_')\"\nrequire = \"human_approval\"\n",
                with_server("\"*\"", "")
            )] => 0,
            &[&with_server("\"get_issue\"", "")] => 0;
    }

    #[test]
    fn help_names_the_tools() {
        assert_eq!(example_condition("exec", "exec"), "tool == 'exec'");
        assert_eq!(example_condition("*", "exec"), "tool == 'exec'");
        assert_eq!(
            example_condition("repo.*", "*.merge"),
            "tool.endsWith('.merge')"
        );
        assert_eq!(
            example_condition("deploy*", "deploy.*"),
            "tool.startsWith('deploy.')"
        );
    }

    #[test]
    fn the_list_is_configurable() {
        let settings = LintSettings {
            dangerous_tools: Some(vec!["read".into()]),
            ..Default::default()
        };
        assert_eq!(run(&DangerousToolUngated, &settings, &[CLEAN]).len(), 1);
    }
}

use super::McpServerMismatch;
use crate::openclaw::mcp::{self, Standing};
use crate::openclaw::tools::PluginPolicies;
use crate::openclaw::{Context, Rule};
use crate::policy::mcp::matches;

impl Rule for McpServerMismatch {
    fn check(&self, cx: &mut Context<'_>) {
        let Some(target) = cx.target else { return };
        let root = cx.root;
        let policies: Vec<PluginPolicies<'_>> = cx
            .target_agents()
            .iter()
            .map(|a| PluginPolicies::new(root, &a.scope))
            .collect();
        let entries = mcp::string_entries(root);
        for server in mcp::servers(root) {
            let Standing::Allowed(Some((index, entry))) = mcp::standing(target, &server.safe)
            else {
                continue;
            };
            let named = mcp::named_tools(&entries, &server);
            if !policies
                .iter()
                .any(|p| mcp::reach(p, &named, &server).any())
            {
                continue;
            }
            let at = format!("`constraints.mcp.servers[{index}]`");
            let mut problems = Vec::new();
            if let Some(want) = entry.transport {
                match (server.transport, server.transport_written) {
                    (Some(have), _) if have == want => {}
                    (Some(have), _) => problems.push(format!(
                        "its transport is `{}`, {at} allows `{}`",
                        have.as_str(),
                        want.as_str()
                    )),
                    (None, Some(written)) => problems.push(format!(
                        "its transport `{written}` is not one wpc knows, {at} allows `{}`",
                        want.as_str()
                    )),
                    (None, None) => problems.push(format!(
                        "the config does not say its transport (a `url` without `transport`), {at} allows `{}`",
                        want.as_str()
                    )),
                }
            }
            if let Some(want) = &entry.url {
                match &server.endpoint {
                    Some(have) if matches(want, have) => {}
                    Some(have) => problems.push(format!(
                        "its URL or command `{have}` does not match `{want}` of {at}"
                    )),
                    None => problems.push(format!(
                        "the config gives no `url` or `command`, {at} requires `{want}`"
                    )),
                }
            }
            for problem in problems {
                cx.report(
                    server.node,
                    format!(
                        "MCP server `{}` is not the one WPC `{}` allows: {problem}",
                        server.name,
                        target.policy.name()
                    ),
                )
                .help = Some(
                    "point the server at what the WPC allows, or update the WPC's server entry"
                        .into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::{run_with, target, with_clean};

    const MCP: &str = r#"
[[constraints.mcp.servers]]
name = "github"
transport = "stdio"
url = "npx -y @acme/github-mcp*"

[[constraints.mcp.servers]]
name = "docs"
transport = "streamable-http"
url = "https://mcp.acme.example/*"
"#;

    #[test]
    fn fires_for_another_transport_url_or_none_stated() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {profile: 'coding'}, mcp: {servers: {
            github: {url: 'https://evil.example/mcp', transport: 'sse'},
            docs: {url: 'https://mcp.acme.example/v1'}}}}";
        let found = run_with(&McpServerMismatch, config, Some(&t));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("transport is `sse`"));
        assert!(found[1].contains("`https://evil.example/mcp`"));
        assert!(found[2].contains("does not say its transport"));
    }

    #[test]
    fn quiet_when_they_match_or_nobody_reaches_the_server() {
        let t = target(&with_clean(MCP));
        let config = "{tools: {profile: 'coding'}, mcp: {servers: {
            github: {command: 'npx', args: ['-y', '@acme/github-mcp@1.2.0']},
            docs: {url: 'https://mcp.acme.example/v1', transport: 'http'}}}}";
        assert!(run_with(&McpServerMismatch, config, Some(&t)).is_empty());
        let unreachable = "{mcp: {servers: {github: {url: 'https://evil.example/mcp'}}}}";
        assert!(run_with(&McpServerMismatch, unreachable, Some(&t)).is_empty());
    }
}

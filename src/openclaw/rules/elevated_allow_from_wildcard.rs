use super::ElevatedAllowFromWildcard;
use crate::openclaw::{Context, Rule};

impl Rule for ElevatedAllowFromWildcard {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        let agents = cx.agents;
        for agent in agents {
            if !agent.scope.elevated_enabled(root) {
                continue;
            }
            let scopes = [
                (
                    agent.scope.is_defaults(),
                    root.at(&["tools", "elevated", "allowFrom"]),
                ),
                (
                    true,
                    agent
                        .scope
                        .tools()
                        .and_then(|t| t.at(&["elevated", "allowFrom"])),
                ),
            ];
            for (report, allow_from) in scopes {
                // The global list is reported once, with the defaults scope.
                let Some(allow_from) = allow_from.filter(|_| report) else {
                    continue;
                };
                for provider in allow_from.members() {
                    for sender in provider.value.as_array().unwrap_or_default() {
                        if sender.as_str() == Some("*") {
                            cx.report(sender, format!("`allowFrom.{}` contains `*`: every {} sender may run exec on the host", provider.key, provider.key))
                                .help = Some("list the sender ids that may use elevated mode".into());
                        }
                    }
                }
            }
        }
    }
}

crate::openclaw::audit_tests! { ElevatedAllowFromWildcard;
    fires_on_a_wildcard: "{tools: {elevated: {enabled: true, allowFrom: {telegram: ['*']}}}}" => ["1:59 error `allowFrom.telegram` contains `*`: every telegram sender may run exec on the host"];
    quiet_when_disabled_or_listed:
        "{tools: {elevated: {enabled: false, allowFrom: {telegram: ['*']}}}}" => 0,
        "{tools: {elevated: {allowFrom: {telegram: ['123']}}}}" => 0;
}

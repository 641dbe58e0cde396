use super::{HooksAgentIdsUnrestricted, critical_if, exposed, hooks_enabled};
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

impl Rule for HooksAgentIdsUnrestricted {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if !hooks_enabled(root) {
            return;
        }
        let ids = root.at(&["hooks", "allowedAgentIds"]);
        let wildcard = ids
            .and_then(Node::as_array)
            .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some("*")));
        if ids.is_none() || wildcard {
            let at = cx.at(&["hooks", "allowedAgentIds"]);
            cx.report_as(
                at,
                critical_if(exposed(root)),
                "webhook callers may target any agent (`hooks.allowedAgentIds` is unset or `*`)",
            )
            .help = Some("list the agent ids hooks may reach, or `[]`".into());
        }
    }
}

crate::openclaw::audit_tests! { HooksAgentIdsUnrestricted;
    fires_when_unset_or_wildcard:
        "{hooks: {enabled: true}}" => 1,
        "{hooks: {enabled: true, allowedAgentIds: ['*']}}" => 1;
    quiet_with_a_list: "{hooks: {enabled: true, allowedAgentIds: []}}" => 0;
}

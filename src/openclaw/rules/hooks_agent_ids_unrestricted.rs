use super::{critical_if, exposed, hooks_enabled};
use crate::openclaw::json5::Node;
use crate::openclaw::{Context, Rule};

crate::rule! {
    HooksAgentIdsUnrestricted, "OC022", "hooks-agent-ids-unrestricted", Error,
    "webhooks may route to any agent"
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::run;

    #[test]
    fn fires_when_unset_or_wildcard() {
        assert_eq!(
            run(&HooksAgentIdsUnrestricted, "{hooks: {enabled: true}}").len(),
            1
        );
        assert_eq!(
            run(
                &HooksAgentIdsUnrestricted,
                "{hooks: {enabled: true, allowedAgentIds: ['*']}}"
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_with_a_list() {
        assert!(
            run(
                &HooksAgentIdsUnrestricted,
                "{hooks: {enabled: true, allowedAgentIds: []}}"
            )
            .is_empty()
        );
    }
}

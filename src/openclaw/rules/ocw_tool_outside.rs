use super::{Refusal, ToolOutside, report_refused_tools};
use crate::openclaw::{AgentTools, Conformance, Context, Target};

impl Conformance for ToolOutside {
    fn check_agent(&self, cx: &mut Context<'_>, target: &Target, agent: &AgentTools<'_>) {
        report_refused_tools(cx, target, agent, Refusal::Outside, |tool| {
            format!("deny `{tool}` for this agent, or allow its WPC name in the policy")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::{run_with, target};

    #[test]
    fn fires_for_each_tool_outside() {
        let t = target(crate::policy::testing::CLEAN);
        let found = run_with(
            &ToolOutside,
            "{tools: {allow: ['read', 'ls', 'web_fetch', 'message']}}",
            Some(&t),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`web_fetch`"));
    }

    #[test]
    fn quiet_when_every_tool_is_allowed() {
        let t = target(crate::policy::testing::CLEAN);
        assert!(run_with(&ToolOutside, "{tools: {allow: ['read', 'ls']}}", Some(&t)).is_empty());
        assert!(run_with(&ToolOutside, "{}", None).is_empty());
    }
}

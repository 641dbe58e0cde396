use crate::decide::Engine;
use crate::lint::{Context, Rule, RuleMeta};
use crate::policy::Policy;
use crate::policy::pattern::is_universal;
use crate::report::Severity;

static META: RuleMeta = RuleMeta {
    code: "WPC006",
    name: "wildcard-allow",
    summary: "the policy allows every tool",
    default_severity: Severity::Error,
    doc: include_str!("../../../docs/rules/WPC006.md"),
};

pub struct WildcardAllow;

impl Rule for WildcardAllow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        for (i, allow) in policy.wpc.constraints.tool_policy.allow.iter().enumerate() {
            if is_universal(allow) {
                cx.report(
                    &policy.doc,
                    &format!("/constraints/tool_policy/allow/{i}"),
                    format!("allow `{allow}` allows every tool, including ones added later"),
                )
                .help = Some("list the tools or tool families (`repo.*`) the job needs".to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    #[test]
    fn fires_on_star() {
        let text = CLEAN.replace("allow = [\"read\", ", "allow = [\"*\", ");
        assert_eq!(
            run_default(&WildcardAllow, &[&text]),
            ["6:10 allow `*` allows every tool, including ones added later"]
        );
    }

    #[test]
    fn quiet_for_a_family_glob() {
        let text = CLEAN.replace("\"repo.comment\"]", "\"repo.*\"]");
        assert!(run_default(&WildcardAllow, &[&text]).is_empty());
    }
}

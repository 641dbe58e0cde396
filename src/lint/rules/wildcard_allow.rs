use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::pattern::is_universal;

crate::rule! {
    WildcardAllow, "WPC006", "wildcard-allow", Error,
    "the policy allows every tool"
}

impl Rule for WildcardAllow {
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

crate::lint::lint_tests! { WildcardAllow;
    fires_on_star:
        &[&CLEAN.replace("allow = [\"read\", ", "allow = [\"*\", ")]
            => ["6:10 allow `*` allows every tool, including ones added later"];
    quiet_for_a_family_glob: &[&CLEAN.replace("\"repo.comment\"]", "\"repo.*\"]")] => 0;
}

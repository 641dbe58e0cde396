use super::DeadAllow;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::pattern::includes;

impl Rule for DeadAllow {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let tools = &policy.wpc.constraints.tool_policy;
        for (i, allow) in tools.allow.iter().enumerate() {
            if let Some((j, deny)) = tools
                .deny
                .iter()
                .enumerate()
                .find(|(_, deny)| includes(deny, allow))
            {
                let finding = cx.report(
                    &policy.doc,
                    &format!("/constraints/tool_policy/allow/{i}"),
                    format!("allow `{allow}` never takes effect: deny `{deny}` covers it"),
                );
                finding.help = Some("deny wins; remove the allow, or narrow the deny".to_owned());
                finding.related.push(
                    policy
                        .doc
                        .locate(&format!("/constraints/tool_policy/deny/{j}"))
                        .annotated("the deny that covers it"),
                );
            }
        }
    }
}

crate::lint::lint_tests! { DeadAllow;
    fires_when_a_deny_covers_an_allow:
        &[&CLEAN.replace("deny = [\"exec\"]", "deny = [\"repo.*\"]")]
            => ["6:18 allow `repo.comment` never takes effect: deny `repo.*` covers it [7:9 the deny that covers it]"];
    // Allowing `repo.*` but denying `repo.merge` is the normal way to carve.
    quiet_for_a_carve_out:
        &[&CLEAN.replace("\"repo.comment\"]", "\"repo.*\"]").replace("[\"exec\"]", "[\"repo.merge\"]")] => 0;
}

use super::NameMismatch;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for NameMismatch {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let file_name = policy
            .doc
            .source
            .path()
            .file_name()
            .map(|n| n.to_string_lossy());
        let Some(stem) = file_name.as_deref().and_then(|n| n.strip_suffix(".toml")) else {
            return;
        };
        if stem != policy.name() {
            cx.report(
                &policy.doc,
                "/policy_name",
                format!(
                    "`policy_name` is `{}` but the file is `{stem}.toml`",
                    policy.name()
                ),
            )
            .help = Some(format!(
                "rename the file to `{}.toml` or the policy to `{stem}`",
                policy.name()
            ));
        }
    }
}

crate::lint::lint_tests! { NameMismatch;
    fires_when_the_stem_differs:
        &[&CLEAN.replace("policy_name = \"p\"", "policy_name = \"q\"")]
            => ["2:15 `policy_name` is `q` but the file is `p.toml`"];
    quiet_when_they_agree: &[CLEAN] => 0;
}

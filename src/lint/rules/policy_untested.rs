use super::PolicyUntested;
use crate::decide::Engine;
use crate::decide::suite::test_path;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for PolicyUntested {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let Some(tests) = test_path(policy.doc.source.path()) else {
            return;
        };
        if tests.is_file() {
            return;
        }
        let name = tests
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cx.report(
            &policy.doc,
            "/policy_name",
            format!("no test file `{name}` for this policy"),
        )
        .help = Some(
            "add cases for what it must allow, deny and send for approval; `wpc test` runs them"
                .to_owned(),
        );
    }
}

crate::lint::lint_tests! { PolicyUntested;
    // The test helper's policy lives at `policies/p.toml`, which has no test
    // file beside it.
    fires_without_a_test_file: &[CLEAN] => ["2:15 no test file `p.test.toml` for this policy"];
}

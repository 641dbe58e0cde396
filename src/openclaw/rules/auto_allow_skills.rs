use super::{AutoAllowSkills, find_keys};
use crate::openclaw::{Context, Rule};

impl Rule for AutoAllowSkills {
    fn check(&self, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        find_keys(cx.root, &|k| k == "autoAllowSkills", &mut found);
        for (_, node) in found {
            if node.as_bool() == Some(true) {
                cx.report(
                    node,
                    "`autoAllowSkills` approves every skill's commands without review",
                )
                .help = Some("set it to false and allowlist commands explicitly".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { AutoAllowSkills;
    fires_when_on: "{tools: {exec: {autoAllowSkills: true}}}" => 1;
    quiet_when_off: "{tools: {exec: {autoAllowSkills: false}}}" => 0;
}

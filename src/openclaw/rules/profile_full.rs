use super::{ProfileFull, find_keys};
use crate::openclaw::{Context, Rule};

impl Rule for ProfileFull {
    fn check(&self, cx: &mut Context<'_>) {
        let mut profiles = Vec::new();
        for scope in [cx.root.get("tools"), cx.root.get("agents")]
            .into_iter()
            .flatten()
        {
            find_keys(scope, &|k| k == "profile", &mut profiles);
        }
        for (_, node) in profiles {
            if node.as_str() == Some("full") {
                cx.report(
                    node,
                    "profile `full` allows every tool, including optional plugin tools",
                )
                .help = Some("use `coding`, `messaging` or `minimal` plus `alsoAllow`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { ProfileFull;
    fires_on_full: "{tools: {profile: 'full'}, agents: {entries: {a: {tools: {profile: 'full'}}}}}" => 2;
    quiet_on_coding: "{tools: {profile: 'coding'}}" => 0;
}

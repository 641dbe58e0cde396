use super::elevated_enabled;
use crate::openclaw::{Context, Rule};

crate::rule! {
    ElevatedEnabledByDefault, "OC041", "elevated-enabled-by-default", Warning,
    "elevated (host) exec is not explicitly disabled"
}

impl Rule for ElevatedEnabledByDefault {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if elevated_enabled(root) {
            let at = cx.at(&["tools", "elevated", "enabled"]);
            cx.report(at, "`tools.elevated.enabled` is not `false`, and OpenClaw treats anything else as enabled: `/elevated` lets exec escape the sandbox")
                .help = Some("set `tools.elevated.enabled: false` unless operators need host exec".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::run;

    #[test]
    fn fires_when_unset() {
        assert_eq!(run(&ElevatedEnabledByDefault, "{}").len(), 1);
    }

    #[test]
    fn quiet_when_false() {
        assert!(
            run(
                &ElevatedEnabledByDefault,
                "{tools: {elevated: {enabled: false}}}"
            )
            .is_empty()
        );
    }
}

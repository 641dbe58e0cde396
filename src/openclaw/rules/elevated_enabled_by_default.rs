use super::elevated_enabled;
use crate::openclaw::{Context, Rule};
use crate::report::{RuleMeta, Severity};

static META: RuleMeta = RuleMeta {
    code: "OC041",
    name: "elevated-enabled-by-default",
    summary: "elevated (host) exec is not explicitly disabled",
    default_severity: Severity::Warning,
    doc: include_str!("../../../docs/rules/OC041.md"),
};

pub struct ElevatedEnabledByDefault;

impl Rule for ElevatedEnabledByDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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

use super::find_keys;
use crate::openclaw::{Context, Rule};
use crate::report::{RuleMeta, Severity};

static META: RuleMeta = RuleMeta {
    code: "OC046",
    name: "auto-allow-skills",
    summary: "skills' commands are approved for exec automatically",
    default_severity: Severity::Warning,
    doc: include_str!("../../../docs/rules/OC046.md"),
};

pub struct AutoAllowSkills;

impl Rule for AutoAllowSkills {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::run;

    #[test]
    fn fires_when_on() {
        assert_eq!(
            run(&AutoAllowSkills, "{tools: {exec: {autoAllowSkills: true}}}").len(),
            1
        );
    }

    #[test]
    fn quiet_when_off() {
        assert!(
            run(
                &AutoAllowSkills,
                "{tools: {exec: {autoAllowSkills: false}}}"
            )
            .is_empty()
        );
    }
}

use super::find_keys;
use crate::openclaw::{Context, Rule};

crate::rule! {
    AutoAllowSkills, "OC046", "auto-allow-skills", Warning,
    "skills' commands are approved for exec automatically"
}

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

use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::model::Approval;
use crate::policy::pattern::{includes, literal_prefix, overlaps};

/// Tools that run code, ship, merge or read secrets. `[lint] dangerous_tools`
/// replaces this list.
pub const DEFAULT_DANGEROUS: &[&str] = &[
    "exec",
    "shell",
    "process",
    "deploy.*",
    "*.merge",
    "secrets.*",
];

crate::rule! {
    DangerousToolUngated, "WPC007", "dangerous-tool-ungated", Error,
    "a dangerous tool is allowed without an approval gate"
}

impl Rule for DangerousToolUngated {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let dangerous: Vec<String> = match &cx.settings.dangerous_tools {
            Some(list) => list.clone(),
            None => DEFAULT_DANGEROUS.iter().map(|s| (*s).to_owned()).collect(),
        };
        let tools = &policy.wpc.constraints.tool_policy;
        for (i, allow) in tools.allow.iter().enumerate() {
            let Some(risky) = dangerous.iter().find(|d| {
                overlaps(allow, d)
                    && !tools
                        .deny
                        .iter()
                        .any(|deny| includes(deny, allow) || includes(deny, d))
            }) else {
                continue;
            };
            if policy
                .wpc
                .constraints
                .approvals
                .iter()
                .any(|gate| names_tool(gate, allow, risky))
            {
                continue;
            }
            cx.report(
                &policy.doc,
                &format!("/constraints/tool_policy/allow/{i}"),
                format!("allow `{allow}` lets the agent use dangerous tool `{risky}` with no approval gate"),
            )
            .help = Some(format!(
                "deny it, or gate it: [[constraints.approvals]] when = \"{}\" require = \"human_approval\"",
                example_condition(allow, risky)
            ));
        }
    }
}

/// A CEL condition for the help text that names the risky tools: the allow
/// pattern when it is a plain name, else the literal part of either pattern.
fn example_condition(allow: &str, risky: &str) -> String {
    for name in [allow, risky] {
        if literal_prefix(name) == name {
            return format!("tool == '{name}'");
        }
    }
    match (literal_prefix(risky), risky.rsplit_once('*')) {
        ("", Some((_, suffix))) if !suffix.is_empty() => format!("tool.endsWith('{suffix}')"),
        (prefix, _) if !prefix.is_empty() => format!("tool.startsWith('{prefix}')"),
        _ => format!("tool.startsWith('{}')", literal_prefix(allow)),
    }
}

/// Whether a gate's `when` names the tool. A textual test: the expression
/// mentions the literal part of the allow pattern or of the dangerous
/// pattern. (The CEL-aware check belongs to the decision engine's rules.)
fn names_tool(gate: &Approval, allow: &str, risky: &str) -> bool {
    [literal_prefix(allow), literal_prefix(risky)]
        .into_iter()
        .filter(|literal| !literal.is_empty())
        .any(|literal| gate.when.contains(literal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, lint, run};

    fn allowing(tools: &str) -> String {
        CLEAN.replace(
            "allow = [\"read\", \"repo.comment\"]",
            &format!("allow = [{tools}]"),
        )
    }

    crate::rule_tests! { lint(&DangerousToolUngated, None);
        fires_for_an_ungated_dangerous_tool:
            &[&allowing("\"deploy.prod\"")]
                => ["6:10 allow `deploy.prod` lets the agent use dangerous tool `deploy.*` with no approval gate"],
            // A pattern that reaches a dangerous tool counts too.
            &[&allowing("\"repo.*\"")] => 1;
        quiet_when_gated_denied_or_harmless:
            &[&format!(
                "{}\n[[constraints.approvals]]\nwhen = \"tool == 'deploy.prod'\"\nrequire = \"human_approval\"\n",
                allowing("\"deploy.prod\"")
            )] => 0,
            // `exec` is allowed and denied: deny wins, nothing dangerous remains.
            &[&allowing("\"exec\"")] => 0,
            &[CLEAN] => 0;
    }

    #[test]
    fn help_names_the_tools() {
        assert_eq!(example_condition("exec", "exec"), "tool == 'exec'");
        assert_eq!(example_condition("*", "exec"), "tool == 'exec'");
        assert_eq!(
            example_condition("repo.*", "*.merge"),
            "tool.endsWith('.merge')"
        );
        assert_eq!(
            example_condition("deploy*", "deploy.*"),
            "tool.startsWith('deploy.')"
        );
    }

    #[test]
    fn the_list_is_configurable() {
        let settings = LintSettings {
            dangerous_tools: Some(vec!["read".into()]),
            ..Default::default()
        };
        assert_eq!(run(&DangerousToolUngated, &settings, &[CLEAN]).len(), 1);
    }
}

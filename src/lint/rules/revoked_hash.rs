use std::collections::HashSet;

use super::RevokedHash;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

/// The rule's code, for the findings `lint::check` makes outside the rule
/// (revocations it cannot trust); the test below keeps it equal to the
/// table's.
pub const CODE: &str = "WPC021";

impl Rule for RevokedHash {
    fn check_released(&self, policies: &[Policy], revoked: &HashSet<String>, cx: &mut Context<'_>) {
        for policy in policies.iter().filter(|p| revoked.contains(&p.hash)) {
            let pointer = if policy.doc.value.get("revision").is_some() {
                "/revision"
            } else {
                "/policy_name"
            };
            cx.report(
                &policy.doc,
                pointer,
                format!(
                    "this content (hash {}) was revoked on the release branch; `wpc release` refuses it",
                    policy.hash
                ),
            )
            .help = Some("change the policy (bump `revision`) before releasing it again".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, policy};
    use crate::report::Described;

    #[test]
    fn the_code_constant_is_the_tables() {
        assert_eq!(RevokedHash.meta().code, CODE);
    }

    #[test]
    fn reports_only_revoked_content() {
        let revoked_policy = policy(CLEAN);
        let mut revoked = HashSet::new();
        revoked.insert(revoked_policy.hash.clone());
        let settings = crate::config::LintSettings::default();
        let mut cx = Context::new(&settings, RevokedHash.meta());
        RevokedHash.check_released(std::slice::from_ref(&revoked_policy), &revoked, &mut cx);
        assert_eq!(cx.findings.len(), 1);
        assert!(cx.findings[0].message.contains("was revoked"));
        let mut cx = Context::new(&settings, RevokedHash.meta());
        RevokedHash.check_released(&[revoked_policy], &HashSet::new(), &mut cx);
        assert!(cx.findings.is_empty());
    }
}

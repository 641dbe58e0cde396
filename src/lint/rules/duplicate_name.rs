use std::collections::HashMap;

use super::DuplicateName;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for DuplicateName {
    fn check_repo(&self, policies: &[Policy], cx: &mut Context<'_>) {
        let mut first: HashMap<&str, &Policy> = HashMap::new();
        for policy in policies {
            match first.get(policy.name()) {
                Some(earlier) => {
                    let finding = cx.report(
                        &policy.doc,
                        "/policy_name",
                        format!("policy name `{}` is already used", policy.name()),
                    );
                    finding.help = Some(
                        "releases and diffs pair policies by name; rename one of them".to_owned(),
                    );
                    finding.related.push(
                        earlier
                            .doc
                            .locate("/policy_name")
                            .annotated("first used here"),
                    );
                }
                None => {
                    first.insert(policy.name(), policy);
                }
            }
        }
    }
}

crate::lint::lint_tests! { DuplicateName;
    fires_on_the_second_use: &[CLEAN, CLEAN] => ["2:15 policy name `p` is already used [2:15 first used here]"];
    quiet_for_distinct_names: &[CLEAN, &CLEAN.replace("policy_name = \"p\"", "policy_name = \"q\"")] => 0;
}

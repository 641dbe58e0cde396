//! Policies to start unit tests from, for every module that tests over a
//! parsed policy, and the table of a rule's cases that both rule engines'
//! unit tests are written in ([`rule_tests!`](crate::rule_tests)).

use super::{Document, Policy};
use crate::report::{RuleMeta, SourceFile};

/// A valid, quiet policy to start tests from.
pub const CLEAN: &str = r#"wpc_version = "1"
policy_name = "p"
purpose = "test"

[constraints.tool_policy]
allow = ["read", "repo.comment"]
deny = ["exec"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"

[constraints.model_calls]
route_via = "clawproxy"
receipts_required = true

[binding]
cst_scope_hash_required = true
"#;

pub fn policy(text: &str) -> Policy {
    let doc = Document::parse(SourceFile::new("policies/p.toml", text)).unwrap();
    Policy::from_document(doc).unwrap()
}

/// Each rule's `CODE name`, one a line: what each rule engine's registry
/// snapshot pins (codes are stable: the list only ever grows).
pub fn rule_listing(rules: impl Iterator<Item = &'static RuleMeta>) -> String {
    rules
        .map(|m| format!("{} {}", m.code, m.name))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Declare a rule's unit tests as a table: one `#[test]` per named case, each
/// running the rule over one or more inputs and checking what it finds. The
/// first expression makes the runner (each engine's `testing` module has
/// them: a closure from an input to the findings as strings). An expected
/// value is a count (`0`: quiet), the exact findings (`["1:1 ..."]`) or a count
/// and a text the first finding contains (`(1, "denies")`).
///
/// ```ignore
/// crate::rule_tests! { lint(&DeadAllow, None);
///     fires_when_a_deny_covers_an_allow: &[&covered] => ["6:18 allow ..."];
///     quiet_for_a_carve_out: &[&carved] => 0, &[CLEAN] => 0;
/// }
/// ```
#[macro_export]
macro_rules! rule_tests {
    ($run:expr; $($name:ident: $($input:expr => $expected:expr),+;)+) => {
        $(
            #[test]
            fn $name() {
                $(
                    $crate::policy::testing::Expected::check(
                        $expected,
                        &$run($input),
                        stringify!($input),
                    );
                )+
            }
        )+
    };
}

/// What a case of [`rule_tests!`](crate::rule_tests) expects of the findings.
pub trait Expected {
    /// Panic, naming the input, unless `found` is as expected.
    fn check(self, found: &[String], input: &str);
}

/// So many findings.
impl Expected for usize {
    fn check(self, found: &[String], input: &str) {
        assert_eq!(found.len(), self, "{input}: {found:#?}");
    }
}

/// Exactly these findings, in this order.
impl<const N: usize> Expected for [&str; N] {
    fn check(self, found: &[String], input: &str) {
        assert_eq!(found, self, "{input}");
    }
}

/// So many findings, the first containing this text.
impl Expected for (usize, &str) {
    fn check(self, found: &[String], input: &str) {
        assert_eq!(found.len(), self.0, "{input}: {found:#?}");
        assert!(found[0].contains(self.1), "{input}: {found:#?}");
    }
}

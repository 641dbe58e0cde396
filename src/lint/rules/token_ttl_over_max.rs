use super::TokenTtlOverMax;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for TokenTtlOverMax {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let Some(max) = cx.settings.max_ttl_seconds else {
            return;
        };
        let ttl = policy
            .wpc
            .constraints
            .token
            .as_ref()
            .and_then(|t| t.max_ttl_seconds);
        match ttl {
            Some(ttl) if ttl > max => {
                cx.report(
                    &policy.doc,
                    "/constraints/token/max_ttl_seconds",
                    format!("token lifetime {ttl}s exceeds the repository maximum of {max}s"),
                )
                .help = Some(format!("lower `max_ttl_seconds` to at most {max}"));
            }
            Some(_) => {}
            None => {
                cx.report(
                    &policy.doc,
                    "/constraints",
                    format!(
                        "no `[constraints.token] max_ttl_seconds`; the repository maximum is {max}s"
                    ),
                )
                .help = Some(format!(
                    "add [constraints.token] max_ttl_seconds = {max} (or less)"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LintSettings;
    use crate::lint::testing::{CLEAN, run, run_default};

    fn with_ttl(ttl: u64) -> String {
        format!("{CLEAN}\n[constraints.token]\nmax_ttl_seconds = {ttl}\n")
    }

    #[test]
    fn fires_over_the_maximum_or_without_a_ttl() {
        let settings = LintSettings {
            max_ttl_seconds: Some(3600),
            ..Default::default()
        };
        assert_eq!(
            run(&TokenTtlOverMax, &settings, &[&with_ttl(7200)]),
            ["22:19 token lifetime 7200s exceeds the repository maximum of 3600s"]
        );
        assert_eq!(run(&TokenTtlOverMax, &settings, &[CLEAN]).len(), 1);
    }

    #[test]
    fn quiet_within_the_maximum_or_without_one() {
        let settings = LintSettings {
            max_ttl_seconds: Some(3600),
            ..Default::default()
        };
        assert!(run(&TokenTtlOverMax, &settings, &[&with_ttl(3600)]).is_empty());
        assert!(run_default(&TokenTtlOverMax, &[&with_ttl(999_999)]).is_empty());
    }
}

use super::RateLimitOverBudget;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;

impl Rule for RateLimitOverBudget {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let constraints = &policy.wpc.constraints;
        let Some(budget) = &constraints.budget else {
            return;
        };
        for (i, limit) in constraints.rate_limits.iter().enumerate() {
            let (what, subject, cap, key) = match (&limit.tool, &limit.model) {
                (Some(tool), _) => ("tool", tool, budget.max_tool_calls, "max_tool_calls"),
                (None, Some(model)) => ("model", model, budget.max_model_calls, "max_model_calls"),
                (None, None) => continue,
            };
            let Some(cap) = cap.filter(|cap| limit.max > *cap) else {
                continue;
            };
            cx.report(
                &policy.doc,
                &format!("/constraints/rate_limits/{i}/max"),
                format!(
                    "{what} `{subject}` may be called {} times per {}, but constraints.budget.{key} allows the whole job only {cap}: the limit reads wider than what is enforced",
                    limit.max, limit.per
                ),
            )
            .help = Some(format!(
                "lower `max` to at most {cap}, or raise constraints.budget.{key} if the job needs more"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    fn with(limits: &str, budget: &str) -> String {
        format!("{CLEAN}\n{limits}\n[constraints.budget]\n{budget}\n")
    }

    const LIMITS: &str = "[[constraints.rate_limits]]\ntool = \"repo.comment\"\nmax = 20\nper = \"1h\"\n\
        [[constraints.rate_limits]]\nmodel = \"claude-*\"\nmax = 100\nper = \"1m\"\n";

    #[test]
    fn fires_when_a_limit_exceeds_the_budget() {
        let found = run_default(
            &RateLimitOverBudget,
            &[&with(LIMITS, "max_tool_calls = 10\nmax_model_calls = 50")],
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("tool `repo.comment` may be called 20 times per 1h, but constraints.budget.max_tool_calls allows the whole job only 10"),
            "{found:?}"
        );
        assert!(found[1].contains("model `claude-*`"), "{found:?}");
    }

    #[test]
    fn quiet_within_the_budget_or_without_one() {
        for budget in [
            "max_tool_calls = 20\nmax_model_calls = 100",
            "max_input_tokens = 10",
        ] {
            assert!(
                run_default(&RateLimitOverBudget, &[&with(LIMITS, budget)]).is_empty(),
                "{budget}"
            );
        }
        assert!(run_default(&RateLimitOverBudget, &[&format!("{CLEAN}\n{LIMITS}")]).is_empty());
    }
}

//! Verify under policy, the counted part: the model and tool calls of a
//! bundle's receipts per window against `[[constraints.rate_limits]]`, their
//! totals against `[constraints.budget]`, and the bundle's own
//! `rate_limit_claims` against both (docs/bundles.md#rate-limits-and-budget).

use globset::GlobMatcher;
use jiff::Timestamp;
use serde_json::Value;

use super::reason::Code;
use super::{items, text};
use crate::crypto::envelope::parse_rfc3339;
use crate::decide::{CompileError, limit_matcher};
use crate::policy::model::{Budget, RateLimit};

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tool,
    Model,
}

impl Kind {
    fn calls(self) -> &'static str {
        match self {
            Kind::Tool => "tool calls",
            Kind::Model => "model calls",
        }
    }
}

/// One rate limit with its pattern compiled.
#[derive(Debug)]
struct Limit {
    index: usize,
    kind: Kind,
    pattern: String,
    max: u64,
    per: String,
    /// The window in seconds (`None`: a `per` the schema rejects; such a
    /// limit counts every call of the bundle as one window).
    seconds: Option<u64>,
    matcher: GlobMatcher,
}

/// The rate limits and budget of a WPC, ready to count receipts.
#[derive(Debug, Default)]
pub struct Limits {
    limits: Vec<Limit>,
    budget: Option<Budget>,
}

impl Limits {
    pub fn new(rate_limits: &[RateLimit], budget: Option<&Budget>) -> Result<Limits, CompileError> {
        let mut limits = Vec::with_capacity(rate_limits.len());
        for (index, limit) in rate_limits.iter().enumerate() {
            let (kind, pattern) = match (&limit.tool, &limit.model) {
                (Some(tool), _) => (Kind::Tool, tool),
                (None, Some(model)) => (Kind::Model, model),
                (None, None) => continue,
            };
            limits.push(Limit {
                index,
                kind,
                pattern: pattern.clone(),
                max: limit.max,
                per: limit.per.clone(),
                seconds: limit.window_seconds(),
                matcher: limit_matcher(pattern)?,
            });
        }
        Ok(Limits {
            limits,
            budget: budget.cloned(),
        })
    }
}

/// One counted call: what it called, when, and where its receipt is.
struct Counted<'a> {
    name: &'a str,
    /// `None`: no readable time; it counts in every window (fail closed).
    time: Option<Timestamp>,
    pointer: String,
}

/// The payload of a receipt (an envelope's, or the item itself) and its
/// pointer.
fn payload_of(item: &Value, at: String) -> (&Value, String) {
    match item.get("payload") {
        Some(payload) if item.get("envelope_type").is_some() => (payload, format!("{at}/payload")),
        _ => (item, at),
    }
}

fn calls<'a>(payload: &'a Value, key: &str, name_key: &str) -> Vec<Counted<'a>> {
    items(payload, key)
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (receipt, at) = payload_of(item, format!("/payload/{key}/{i}"));
            Counted {
                name: text(receipt, name_key),
                time: receipt
                    .get("timestamp")
                    .and_then(Value::as_str)
                    .and_then(|t| parse_rfc3339(t).ok()),
                pointer: at,
            }
        })
        .collect()
}

/// The first window of `seconds` (half-open: a call exactly `seconds` after
/// another is in the next window) with the most calls: the count, and the
/// calls' indices in time order. Calls without a time are in every window.
fn busiest(calls: &[&Counted<'_>], seconds: Option<u64>) -> (u64, Vec<usize>) {
    let mut timed: Vec<(Timestamp, usize)> = Vec::new();
    let mut untimed = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        match call.time {
            Some(t) => timed.push((t, i)),
            None => untimed.push(i),
        }
    }
    timed.sort();
    let Some(seconds) = seconds else {
        let all: Vec<usize> = timed.iter().map(|(_, i)| *i).chain(untimed).collect();
        return (all.len() as u64, all);
    };
    let width = i128::from(seconds) * 1_000_000_000;
    let (mut best, mut best_range) = (0usize, 0..0);
    let mut start = 0;
    for end in 0..timed.len() {
        while timed[end].0.as_nanosecond() - timed[start].0.as_nanosecond() >= width {
            start += 1;
        }
        if end + 1 - start > best {
            best = end + 1 - start;
            best_range = start..end + 1;
        }
    }
    let mut window: Vec<usize> = timed[best_range].iter().map(|(_, i)| *i).collect();
    window.extend(untimed);
    (window.len() as u64, window)
}

/// The checks of the rate limits and budget, appended through `fail`.
pub fn check(limits: &Limits, payload: &Value, fail: &mut impl FnMut(Code, String, String)) {
    let tools = calls(payload, "tool_receipts", "tool_name");
    let models = calls(payload, "receipts", "model");
    for limit in &limits.limits {
        let all = match limit.kind {
            Kind::Tool => &tools,
            Kind::Model => &models,
        };
        let matching: Vec<&Counted<'_>> = all
            .iter()
            .filter(|c| limit.matcher.is_match(c.name))
            .collect();
        let (count, window) = busiest(&matching, limit.seconds);
        if count <= limit.max {
            continue;
        }
        // Point at the call that went over.
        let over = window
            .get(usize::try_from(limit.max).unwrap_or(usize::MAX))
            .and_then(|i| matching.get(*i));
        let span = match (
            window.first().and_then(|i| matching[*i].time),
            window.last().and_then(|i| matching[*i].time),
        ) {
            (Some(first), Some(last)) => format!(" (from {first} to {last})"),
            _ => String::new(),
        };
        fail(
            Code::RateLimitExceeded,
            over.map_or_else(String::new, |c| c.pointer.clone()),
            format!(
                "{count} {} of `{}` within {}{span}, at most {} allowed (constraints.rate_limits[{}])",
                limit.kind.calls(),
                limit.pattern,
                limit.per,
                limit.max,
                limit.index
            ),
        );
    }
    let Some(budget) = &limits.budget else {
        return;
    };
    let model_events = items(payload, "event_chain")
        .iter()
        .filter(|e| super::policy::MODEL_CALL_EVENTS.contains(&text(e, "event_type")))
        .count();
    let model_calls = models.len().max(model_events);
    let tokens = |key: &str| -> u64 {
        items(payload, "receipts")
            .iter()
            .map(|r| {
                let (receipt, _) = payload_of(r, String::new());
                receipt.get(key).and_then(Value::as_u64).unwrap_or(0)
            })
            .fold(0u64, u64::saturating_add)
    };
    let lines = [
        (
            "max_model_calls",
            budget.max_model_calls,
            model_calls as u64,
            "model calls",
            "receipts",
        ),
        (
            "max_tool_calls",
            budget.max_tool_calls,
            tools.len() as u64,
            "tool calls",
            "tool_receipts",
        ),
        (
            "max_input_tokens",
            budget.max_input_tokens,
            tokens("tokens_input"),
            "input tokens",
            "receipts",
        ),
        (
            "max_output_tokens",
            budget.max_output_tokens,
            tokens("tokens_output"),
            "output tokens",
            "receipts",
        ),
    ];
    for (key, max, used, what, at) in lines {
        if let Some(max) = max
            && used > max
        {
            fail(
                Code::BudgetExceeded,
                format!("/payload/{at}"),
                format!("{used} {what}, at most {max} allowed (constraints.budget.{key})"),
            );
        }
    }
}

/// The bundle's `rate_limit_claims` against the WPC: a claim over a window
/// no longer than a matching limit's `per` may neither allow (`max_requests`)
/// nor observe more than its `max`; a claim of scope `agent` may not observe
/// more model calls or tokens than the budget.
pub fn check_claims(limits: &Limits, payload: &Value, fail: &mut impl FnMut(Code, String, String)) {
    let claims = items(payload, "rate_limit_claims");
    for (i, claim) in claims.iter().enumerate() {
        let at = format!("/payload/rate_limit_claims/{i}");
        let time = |key: &str| {
            claim
                .get(key)
                .and_then(Value::as_str)
                .and_then(|t| parse_rfc3339(t).ok())
        };
        let number = |key: &str| claim.get(key).and_then(Value::as_f64);
        let scope = text(claim, "scope");
        let key = text(claim, "scope_key");
        // The protocol checks (rate_limit::check) report unreadable claims.
        let (Some(start), Some(end), Some(max), Some(observed)) = (
            time("window_start"),
            time("window_end"),
            number("max_requests"),
            number("observed_requests"),
        ) else {
            continue;
        };
        let length = end.as_second().saturating_sub(start.as_second());
        let kind = match scope {
            "tool" => Kind::Tool,
            "model" => Kind::Model,
            "agent" => {
                if let Some(budget) = &limits.budget {
                    let lines = [
                        (
                            "observed_requests",
                            "max_model_calls",
                            budget.max_model_calls,
                        ),
                        (
                            "observed_tokens_input",
                            "max_input_tokens",
                            budget.max_input_tokens,
                        ),
                        (
                            "observed_tokens_output",
                            "max_output_tokens",
                            budget.max_output_tokens,
                        ),
                    ];
                    for (field, line, max) in lines {
                        if let (Some(max), Some(observed)) = (max, number(field))
                            && observed > max as f64
                        {
                            fail(
                                Code::BudgetExceeded,
                                format!("{at}/{field}"),
                                format!(
                                    "the agent's claim observes {observed} in one window, over the job's budget of {max} (constraints.budget.{line})"
                                ),
                            );
                        }
                    }
                }
                continue;
            }
            _ => continue,
        };
        for limit in limits
            .limits
            .iter()
            .filter(|l| l.kind == kind && l.matcher.is_match(key))
        {
            let Some(per) = limit.seconds else { continue };
            if length > i64::try_from(per).unwrap_or(i64::MAX) {
                continue;
            }
            let max_allowed = limit.max as f64;
            let rule = format!(
                "at most {} per {} (constraints.rate_limits[{}], `{}`)",
                limit.max, limit.per, limit.index, limit.pattern
            );
            if observed > max_allowed {
                fail(
                    Code::RateLimitExceeded,
                    format!("{at}/observed_requests"),
                    format!(
                        "the claim observes {observed} requests of `{key}` in {length}s; the policy allows {rule}"
                    ),
                );
            } else if max > max_allowed {
                fail(
                    Code::RateLimitClaimInconsistent,
                    format!("{at}/max_requests"),
                    format!(
                        "the claim allows {max} requests of `{key}` in {length}s; the policy allows {rule}"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits(toml_limits: Value, budget: Value) -> Limits {
        let rate: Vec<RateLimit> = serde_json::from_value(toml_limits).unwrap();
        let budget: Option<Budget> = serde_json::from_value(budget).unwrap();
        Limits::new(&rate, budget.as_ref()).unwrap()
    }

    fn run(limits: &Limits, payload: &Value) -> Vec<(Code, String, String)> {
        let mut out = Vec::new();
        check(limits, payload, &mut |c, p, m| out.push((c, p, m)));
        check_claims(limits, payload, &mut |c, p, m| out.push((c, p, m)));
        out
    }

    fn tool(name: &str, at: &str) -> Value {
        json!({"tool_name": name, "timestamp": at})
    }

    #[test]
    fn tool_calls_are_counted_per_sliding_window() {
        let l = limits(
            json!([{"tool": "mcp:github/add_*", "max": 2, "per": "1h"}]),
            Value::Null,
        );
        let ok = json!({"tool_receipts": [
            tool("mcp:github/add_issue_comment", "2026-02-12T00:00:00Z"),
            tool("mcp:github/add_issue_comment", "2026-02-12T00:30:00Z"),
            tool("mcp:github/add_issue_comment", "2026-02-12T01:00:00Z"),
            tool("read", "2026-02-12T01:00:01Z"),
        ]});
        // 00:00 and 01:00 are an hour apart: never in one window.
        assert!(run(&l, &ok).is_empty());
        let over = json!({"tool_receipts": [
            tool("mcp:github/add_issue_comment", "2026-02-12T00:00:00Z"),
            tool("mcp:github/add_issue_comment", "2026-02-12T00:30:00Z"),
            tool("mcp:github/add_label", "2026-02-12T00:59:59Z"),
        ]});
        let found = run(&l, &over);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Code::RateLimitExceeded);
        assert_eq!(found[0].1, "/payload/tool_receipts/2");
        assert!(
            found[0]
                .2
                .starts_with("3 tool calls of `mcp:github/add_*` within 1h"),
            "{}",
            found[0].2
        );
        // A call without a time counts in every window.
        let untimed = json!({"tool_receipts": [
            tool("mcp:github/add_issue_comment", "2026-02-12T00:00:00Z"),
            tool("mcp:github/add_issue_comment", "2026-02-12T05:00:00Z"),
            {"tool_name": "mcp:github/add_issue_comment"},
        ]});
        assert!(run(&l, &untimed).is_empty());
        let l1 = limits(
            json!([{"tool": "mcp:*", "max": 1, "per": "1h"}]),
            Value::Null,
        );
        assert_eq!(run(&l1, &untimed).len(), 1);
    }

    #[test]
    fn model_calls_and_the_budget() {
        let l = limits(
            json!([{"model": "claude-*", "max": 1, "per": "1m"}]),
            json!({"max_model_calls": 2, "max_tool_calls": 0, "max_output_tokens": 30}),
        );
        let receipt = |at: &str| json!({"envelope_type": "gateway_receipt", "payload": {"model": "claude-x", "timestamp": at, "tokens_input": 5, "tokens_output": 20}});
        let payload = json!({
            "receipts": [receipt("2026-02-12T00:00:00Z"), receipt("2026-02-12T00:00:30Z"), receipt("2026-02-12T00:05:00Z")],
            "tool_receipts": [tool("read", "2026-02-12T00:00:01Z")],
        });
        let found: Vec<String> = run(&l, &payload)
            .into_iter()
            .map(|(c, p, m)| format!("{c} {p} {m}"))
            .collect();
        assert_eq!(
            found,
            [
                "RATE_LIMIT_EXCEEDED /payload/receipts/1/payload 2 model calls of `claude-*` within 1m (from 2026-02-12T00:00:00Z to 2026-02-12T00:00:30Z), at most 1 allowed (constraints.rate_limits[0])",
                "BUDGET_EXCEEDED /payload/receipts 3 model calls, at most 2 allowed (constraints.budget.max_model_calls)",
                "BUDGET_EXCEEDED /payload/tool_receipts 1 tool calls, at most 0 allowed (constraints.budget.max_tool_calls)",
                "BUDGET_EXCEEDED /payload/receipts 60 output tokens, at most 30 allowed (constraints.budget.max_output_tokens)",
            ]
        );
    }

    #[test]
    fn claims_are_held_to_the_policy() {
        let l = limits(
            json!([{"tool": "repo.comment", "max": 5, "per": "1h"}]),
            json!({"max_model_calls": 10}),
        );
        let claim = |scope: &str, key: &str, max: u64, observed: u64, end: &str| {
            json!({
            "claim_version": "1", "scope": scope, "scope_key": key,
            "window_start": "2026-02-12T00:00:00Z", "window_end": end,
            "max_requests": max, "observed_requests": observed})
        };
        let payload = json!({"rate_limit_claims": [
            claim("tool", "repo.comment", 5, 3, "2026-02-12T00:05:00Z"),
            claim("tool", "repo.comment", 50, 3, "2026-02-12T00:05:00Z"),
            claim("tool", "repo.comment", 50, 7, "2026-02-12T00:05:00Z"),
            // A window longer than the limit's: not comparable.
            claim("tool", "repo.comment", 50, 7, "2026-02-12T05:00:00Z"),
            claim("tool", "other", 50, 7, "2026-02-12T00:05:00Z"),
            claim("agent", "did:key:z6Mk", 50, 11, "2026-02-12T00:05:00Z"),
        ]});
        let found: Vec<(Code, String)> = run(&l, &payload)
            .into_iter()
            .map(|(c, p, _)| (c, p))
            .collect();
        assert_eq!(
            found,
            [
                (
                    Code::RateLimitClaimInconsistent,
                    "/payload/rate_limit_claims/1/max_requests".to_owned()
                ),
                (
                    Code::RateLimitExceeded,
                    "/payload/rate_limit_claims/2/observed_requests".to_owned()
                ),
                (
                    Code::BudgetExceeded,
                    "/payload/rate_limit_claims/5/observed_requests".to_owned()
                ),
            ]
        );
    }
}

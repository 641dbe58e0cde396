//! `rate_limit_claims`: what the agent says it was allowed and used per
//! window (CPL v2). Checked per claim as the reference does, first failure
//! wins (docs/bundles.md#rate-limit-claims).

use serde_json::Value;

use super::reason::{Code, Failure};
use crate::crypto::envelope::parse_rfc3339;

/// The first failing claim of a schema-checked payload. `run_id` is the
/// event chain's run, when the bundle has a chain.
pub fn check(payload: &Value, run_id: Option<&str>) -> Option<Failure> {
    let claims = payload.get("rate_limit_claims")?.as_array()?;
    claims.iter().enumerate().find_map(|(i, claim)| {
        check_claim(claim, &format!("/payload/rate_limit_claims/{i}"), run_id)
    })
}

fn check_claim(claim: &Value, at: &str, run_id: Option<&str>) -> Option<Failure> {
    let fail =
        |code, key: &str, message: String| Some(Failure::new(code, format!("{at}/{key}"), message));
    let time = |key: &str| {
        claim
            .get(key)
            .and_then(Value::as_str)
            .and_then(|text| parse_rfc3339(text).ok())
    };
    let (Some(start), Some(end)) = (time("window_start"), time("window_end")) else {
        return fail(
            Code::RateLimitClaimInconsistent,
            "window_start",
            "the claim's window is not two RFC 3339 date-times".to_owned(),
        );
    };
    if start > end {
        return fail(
            Code::RateLimitWindowInvalid,
            "window_start",
            "window_start is after window_end".to_owned(),
        );
    }
    let number = |key: &str| {
        claim
            .get(key)
            .map(|v| v.as_f64().filter(|n| n.is_finite() && *n >= 0.0))
    };
    let (Some(Some(max)), Some(Some(observed))) =
        (number("max_requests"), number("observed_requests"))
    else {
        return fail(
            Code::RateLimitClaimInconsistent,
            "max_requests",
            "max_requests and observed_requests must be numbers of at least 0".to_owned(),
        );
    };
    if observed > max {
        return fail(
            Code::RateLimitExceeded,
            "observed_requests",
            format!("{observed} requests observed, at most {max} allowed"),
        );
    }
    for side in ["tokens_input", "tokens_output"] {
        let max_key = format!("max_{side}");
        let observed_key = format!("observed_{side}");
        match (number(&max_key), number(&observed_key)) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => {
                return fail(
                    Code::RateLimitClaimInconsistent,
                    &max_key,
                    format!("{max_key} and {observed_key} must be provided together"),
                );
            }
            (Some(Some(max)), Some(Some(observed))) => {
                if observed > max {
                    return fail(
                        Code::RateLimitExceeded,
                        &observed_key,
                        format!("{observed} {side} observed, at most {max} allowed"),
                    );
                }
            }
            _ => {
                return fail(
                    Code::RateLimitClaimInconsistent,
                    &max_key,
                    format!("{max_key} and {observed_key} must be numbers of at least 0"),
                );
            }
        }
    }
    if let (Some(claimed), Some(run_id)) = (claim.get("run_id"), run_id)
        && claimed.as_str() != Some(run_id)
    {
        return fail(
            Code::RateLimitClaimInconsistent,
            "run_id",
            format!("the claim's run_id is not the event chain's run `{run_id}`"),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claim() -> Value {
        json!({"claim_version":"1","scope":"agent","scope_key":"did:key:z6Mk",
            "window_start":"2026-02-16T00:00:00.000Z","window_end":"2026-02-16T00:05:00.000Z",
            "max_requests":5,"observed_requests":3,"max_tokens_input":500,
            "observed_tokens_input":300,"max_tokens_output":700,"observed_tokens_output":420,
            "run_id":"run_1"})
    }

    fn code(change: impl FnOnce(&mut Value), run_id: Option<&str>) -> Option<(Code, String)> {
        let mut claim = claim();
        change(&mut claim);
        check(&json!({ "rate_limit_claims": [claim] }), run_id).map(|f| (f.code, f.pointer))
    }

    #[test]
    fn each_claim_fault_gives_its_code_and_field() {
        let at = |key: &str| format!("/payload/rate_limit_claims/0/{key}");
        assert_eq!(code(|_| {}, Some("run_1")), None);
        assert_eq!(
            code(
                |c| c["window_start"] = json!("2026-02-16T00:06:00.000Z"),
                None
            ),
            Some((Code::RateLimitWindowInvalid, at("window_start")))
        );
        // Equal ends are a valid (empty) window.
        assert_eq!(
            code(|c| c["window_start"] = c["window_end"].clone(), None),
            None
        );
        assert_eq!(
            code(|c| c["observed_requests"] = json!(9), None),
            Some((Code::RateLimitExceeded, at("observed_requests")))
        );
        assert_eq!(
            code(|c| c["observed_tokens_output"] = json!(701), None),
            Some((Code::RateLimitExceeded, at("observed_tokens_output")))
        );
        assert_eq!(
            code(
                |c| drop(c.as_object_mut().unwrap().remove("observed_tokens_input")),
                None
            ),
            Some((Code::RateLimitClaimInconsistent, at("max_tokens_input")))
        );
        assert_eq!(
            code(|_| {}, Some("run_2")),
            Some((Code::RateLimitClaimInconsistent, at("run_id")))
        );
        // Without a chain, the run id is not compared.
        assert_eq!(code(|c| c["run_id"] = json!("other"), None), None);
    }
}

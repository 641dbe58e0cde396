//! WPC v1: `allowed_providers`, `allowed_models` and `egress_allowlist`.
//! The gateway enforces providers AND models; nothing else of a WPC.

use serde_json::{Map, Value, json};

use super::{Gap, Problem, ProblemKind, providers};
use crate::policy::Wpc;
use crate::policy::model::Network;

/// The providers v1 names (its schema's enum).
pub const PROVIDERS: [&str; 3] = ["openai", "anthropic", "google"];
/// `allowed_models` and `egress_allowlist`: at most 256 items each.
pub const MAX_LIST_ITEMS: usize = 256;

pub(super) fn problems(wpc: &Wpc, out: &mut Vec<Problem>) {
    let calls = wpc.constraints.model_calls.as_ref();
    if let Some(list) = calls.and_then(|m| m.allowed_providers.as_ref()) {
        let pointer = "/constraints/model_calls/allowed_providers";
        if list.is_empty() {
            out.push(empty_list(pointer, "providers"));
        }
        for (i, provider) in list.iter().enumerate() {
            if !PROVIDERS.contains(&provider.to_ascii_lowercase().as_str()) {
                out.push(Problem {
                    kind: ProblemKind::V1Vocabulary,
                    pointer: format!("{pointer}/{i}"),
                    message: format!(
                        "provider `{provider}` is not one v1 can name ({})",
                        PROVIDERS.join(", ")
                    ),
                });
            }
        }
    }
    if let Some(list) = calls.and_then(|m| m.allowed_models.as_ref()) {
        let pointer = "/constraints/model_calls/allowed_models";
        if list.is_empty() {
            out.push(empty_list(pointer, "models"));
        }
        too_long(list, pointer, "allowed_models", out);
    }
    super::model_pattern_problems(wpc, out);
    if let Some(egress) = &wpc.constraints.egress {
        too_long(
            &egress.allowlist,
            "/constraints/egress/allowlist",
            "egress_allowlist",
            out,
        );
    }
    super::egress_pattern_problems(wpc, out);
}

fn empty_list(pointer: &str, what: &str) -> Problem {
    Problem {
        kind: ProblemKind::V1Vocabulary,
        pointer: pointer.to_owned(),
        message: format!(
            "an empty list allows no {what} here, but v1 reads an empty list as no restriction"
        ),
    }
}

fn too_long(list: &[String], pointer: &str, field: &str, out: &mut Vec<Problem>) {
    if list.len() > MAX_LIST_ITEMS {
        out.push(Problem {
            kind: ProblemKind::Limit,
            pointer: pointer.to_owned(),
            message: format!(
                "{} items; v1 `{field}` holds at most {MAX_LIST_ITEMS}",
                list.len()
            ),
        });
    }
}

pub(super) fn fields(wpc: &Wpc, payload: &mut Map<String, Value>) {
    let calls = wpc.constraints.model_calls.as_ref();
    if let Some(list) = calls.and_then(|m| m.allowed_providers.as_ref()) {
        payload.insert("allowed_providers".into(), json!(providers(list)));
    }
    if let Some(list) = calls.and_then(|m| m.allowed_models.as_ref()) {
        payload.insert("allowed_models".into(), json!(list));
    }
    // An empty v1 list means "anything", so a policy that reaches nowhere
    // leaves the field out rather than writing `[]`; v1 gateways do not
    // enforce egress either way (the gap says so).
    let reaches_out = wpc.constraints.sandbox.network != Some(Network::None);
    if let Some(egress) = &wpc.constraints.egress
        && reaches_out
        && !egress.allowlist.is_empty()
    {
        payload.insert("egress_allowlist".into(), json!(egress.allowlist));
    }
}

pub(super) fn gaps(wpc: &Wpc) -> Vec<Gap> {
    let c = &wpc.constraints;
    let mut out = Vec::new();
    if c.mcp.is_some() || !c.rate_limits.is_empty() || c.budget.is_some() {
        out.push(Gap {
            pointer: "/constraints".to_owned(),
            message: "v1 has no MCP servers, pins, rate limits or budget: a gateway enforcing \
                      the v1 export does not check them (they travel in `metadata`)"
                .to_owned(),
        });
    }
    out.insert(
        0,
        Gap {
            pointer: "/constraints".to_owned(),
            message: "a gateway enforcing the v1 export checks only the model provider and model \
                  (`allowed_providers` and `allowed_models`); tool allow and deny, approval \
                  gates, workspace access and egress travel in `metadata` and are not enforced"
                .to_owned(),
        },
    );
    out
}

//! One lint rule per file.

/// Declare a rule that reports the Claw export problems of one kind, for
/// every exported version (after `only`: that version alone): its metadata
/// as [`crate::rule!`] and its check, [`report_claw_problems`].
macro_rules! claw_rule {
    (
        $rule:ident, $code:literal, $name:literal, $severity:ident, $summary:literal,
        $kind:ident $(only $version:ident)?
    ) => {
        crate::rule! { $rule, $code, $name, $severity, $summary }

        impl crate::lint::Rule for $rule {
            fn check_policy(
                &self,
                policy: &crate::policy::Policy,
                _engine: &crate::decide::Engine,
                cx: &mut crate::lint::Context<'_>,
            ) {
                crate::lint::rules::report_claw_problems(
                    crate::claw::ProblemKind::$kind,
                    None $(.or(Some(crate::claw::ClawVersion::$version)))?,
                    policy,
                    cx,
                );
            }
        }
    };
}

pub mod approval_unknown_variable;
pub mod approval_when_syntax;
pub mod approval_without_approvers;
pub mod claw_export_inexact;
pub mod claw_issuer_missing;
pub mod claw_limit;
pub mod claw_pattern;
pub mod claw_v1_unexpressible;
pub mod cst_binding_not_required;
pub mod dangerous_tool_ungated;
pub mod dead_allow;
pub mod dead_approval_gate;
pub mod duplicate_name;
pub mod elevated_exec_allowed;
pub mod mcp_server_without_tools;
pub mod mcp_tool_unpinned;
pub mod model_calls_unreceipted;
pub mod name_mismatch;
pub mod policy_untested;
pub mod rate_limit_over_budget;
pub mod revoked_hash;
pub mod rw_workspace_ungated;
pub mod sandbox_not_required;
pub mod secret_key_committed;
pub mod suppression_unused;
pub mod suppression_without_reason;
pub mod token_ttl_over_max;
pub mod trusted_signers_invalid;
pub mod wildcard_allow;

use crate::claw::{self, ClawVersion, ProblemKind};
use crate::lint::Context;
use crate::policy::Policy;

/// Report the export problems of `kind` for every version the repository
/// exports to (`only`: just that version), each once even when several
/// versions share it.
fn report_claw_problems(
    kind: ProblemKind,
    only: Option<ClawVersion>,
    policy: &Policy,
    cx: &mut Context<'_>,
) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for version in ClawVersion::ALL {
        if !cx.claw.enabled(version) || only.is_some_and(|v| v != version) {
            continue;
        }
        for problem in claw::problems(policy, version, cx.claw) {
            let key = (problem.pointer.clone(), problem.message.clone());
            if problem.kind == kind && !seen.contains(&key) {
                cx.report(&policy.doc, &problem.pointer, problem.message)
                    .help = Some(format!(
                    "see docs/claw.md; `wpc compile --target claw-{version}` refuses this policy"
                ));
                seen.push(key);
            }
        }
    }
}

//! The lint rules: the table of every rule's code, name, severity and
//! summary ([`REGISTRY`]), then one file per rule with what it checks.

/// Implement [`Rule`] for a rule that reports the Claw export problems of
/// one kind, for every exported version (after `only`: that version alone),
/// with [`report_claw_problems`].
macro_rules! claw_rule {
    ($rule:ident, $kind:ident $(only $version:ident)?) => {
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

mod approval_unknown_variable;
mod approval_when_syntax;
mod approval_without_approvers;
mod claw_export_inexact;
mod claw_issuer_missing;
mod claw_limit;
mod claw_pattern;
mod claw_v1_unexpressible;
mod cst_binding_not_required;
mod dangerous_tool_ungated;
mod dead_allow;
mod dead_approval_gate;
mod duplicate_name;
mod elevated_exec_allowed;
mod mcp_server_without_tools;
mod mcp_tool_unpinned;
mod model_calls_unreceipted;
mod name_mismatch;
mod policy_untested;
mod rate_limit_over_budget;
pub(super) mod revoked_hash;
mod rw_workspace_ungated;
mod sandbox_not_required;
mod secret_key_committed;
pub(super) mod suppression_unused;
pub(super) mod suppression_without_reason;
mod token_ttl_over_max;
mod trusted_signers_invalid;
mod wildcard_allow;

use super::{BUILTIN, Context, Rule};
use crate::claw::{self, ClawVersion, ProblemKind};
use crate::policy::Policy;
use crate::policy::mcp::{self, ServerStanding};
use crate::policy::model::{Mcp, McpServer};

crate::rules! {
    /// Every lint rule, in code order, after the built-in checks.
    pub static REGISTRY: Registry<dyn Rule> = after BUILTIN;
    NameMismatch, "WPC003", "policy-name-mismatch", Error,
        "`policy_name` differs from the file name";
    DuplicateName, "WPC004", "duplicate-policy-name", Error,
        "two policies share a `policy_name`";
    DeadAllow, "WPC005", "dead-allow", Warning,
        "an allow pattern can never match because a deny pattern covers it";
    WildcardAllow, "WPC006", "wildcard-allow", Error,
        "the policy allows every tool";
    DangerousToolUngated, "WPC007", "dangerous-tool-ungated", Error,
        "a dangerous tool is allowed without an approval gate";
    SandboxNotRequired, "WPC008", "sandbox-not-required", Error,
        "the agent may run outside a sandbox";
    RwWorkspaceUngated, "WPC009", "rw-workspace-ungated", Warning,
        "the workspace is writable and no action needs an approval";
    ElevatedExecAllowed, "WPC010", "elevated-exec-allowed", Error,
        "the agent may execute commands with elevated privileges";
    ModelCallsUnreceipted, "WPC011", "model-calls-unreceipted", Warning,
        "model calls are not routed through a receipting gateway with receipts required";
    CstBindingNotRequired, "WPC012", "cst-binding-not-required", Error,
        "tokens are not required to be bound to this policy's scope hash";
    TokenTtlOverMax, "WPC013", "token-ttl-over-max", Error,
        "the token lifetime exceeds the repository maximum";
    ApprovalWhenSyntax, "WPC014", "approval-when-syntax", Error,
        "an approval gate's `when` is not a valid CEL expression";
    ApprovalUnknownVariable, "WPC015", "approval-unknown-variable", Error,
        "an approval gate's `when` reads a variable a call does not have";
    DeadApprovalGate, "WPC016", "dead-approval-gate", Warning,
        "an approval gate names a tool the policy never allows";
    ApprovalWithoutApprovers, "WPC017", "approval-without-approvers", Error,
        "an approval gate names no approvers where the repository requires them";
    PolicyUntested, "WPC018", "policy-untested", Info,
        "a policy has no test file";
    TrustedSignersInvalid, "WPC019", "trusted-signers-invalid", Error,
        "`keys/trusted-signers.toml` lists an invalid or repeated did:key";
    SecretKeyCommitted, "WPC020", "secret-key-committed", Error,
        "a private key is committed to the policy repository";
    RevokedHash, "WPC021", "revoked-hash", Error,
        "the policy's content was revoked on the release branch";
    ClawIssuerMissing, "WPC022", "claw-issuer-missing", Error,
        "Claw export is enabled and the policy has no issuer_did";
    ClawV1Unexpressible, "WPC023", "claw-v1-unexpressible", Error,
        "the Claw WPC v1 export cannot name a provider or an empty list";
    ClawLimit, "WPC024", "claw-limit", Error,
        "a value exceeds the Claw protocol's limits for the export";
    ClawPattern, "WPC025", "claw-pattern", Error,
        "a pattern the Claw protocol's glob would read more widely";
    ClawExportInexact, "WPC026", "claw-export-inexact", Info,
        "the Claw protocol export enforces more or less than the policy";
    SuppressionWithoutReason, "WPC027", "suppression-without-reason", Error,
        "a `# wpc:ignore` suppression gives no reason";
    SuppressionUnused, "WPC028", "suppression-unused", Warning,
        "a `# wpc:ignore` suppression matches no finding or names no rule that can be suppressed";
    McpServerWithoutTools, "WPC029", "mcp-server-without-tools", Warning,
        "an MCP server is allowed with no list of its tools";
    McpToolUnpinned, "WPC030", "mcp-tool-unpinned", Warning,
        "an allowed MCP tool has no pinned definition";
    RateLimitOverBudget, "WPC031", "rate-limit-over-budget", Warning,
        "a rate limit allows more calls than the budget allows the whole job";
}

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

/// An MCP server stanza of a policy that `deny_servers` does not deny: a
/// denied server is never used, so what its stanza says is moot.
struct UsableServer<'a> {
    mcp: &'a Mcp,
    server: &'a McpServer,
    /// The stanza's JSON pointer.
    pointer: String,
}

impl<'a> UsableServer<'a> {
    /// Each tool pattern the stanza's `tools` lists, with its JSON pointer.
    fn tools(&self) -> impl Iterator<Item = (String, &'a str)> + '_ {
        self.server
            .tools
            .iter()
            .flatten()
            .enumerate()
            .map(|(j, tool)| (format!("{}/tools/{j}", self.pointer), tool.as_str()))
    }
}

/// The MCP server stanzas of a policy that its `deny_servers` does not deny,
/// in order.
fn usable_mcp_servers(policy: &Policy) -> impl Iterator<Item = UsableServer<'_>> {
    let mcp = policy.wpc.constraints.mcp.as_ref();
    mcp.into_iter().flat_map(|mcp| {
        mcp.servers
            .iter()
            .enumerate()
            .filter(move |(_, server)| {
                !matches!(
                    mcp::standing(mcp, &server.name),
                    ServerStanding::Denied { .. }
                )
            })
            .map(move |(i, server)| UsableServer {
                mcp,
                server,
                pointer: format!("/constraints/mcp/servers/{i}"),
            })
    })
}

//! One lint rule per file.

pub mod approval_unknown_variable;
pub mod approval_when_syntax;
pub mod approval_without_approvers;
pub mod cst_binding_not_required;
pub mod dangerous_tool_ungated;
pub mod dead_allow;
pub mod dead_approval_gate;
pub mod duplicate_name;
pub mod elevated_exec_allowed;
pub mod model_calls_unreceipted;
pub mod name_mismatch;
pub mod policy_untested;
pub mod revoked_hash;
pub mod rw_workspace_ungated;
pub mod sandbox_not_required;
pub mod secret_key_committed;
pub mod token_ttl_over_max;
pub mod trusted_signers_invalid;
pub mod wildcard_allow;

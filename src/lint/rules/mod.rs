//! One lint rule per file.

pub mod cst_binding_not_required;
pub mod dangerous_tool_ungated;
pub mod dead_allow;
pub mod duplicate_name;
pub mod elevated_exec_allowed;
pub mod model_calls_unreceipted;
pub mod name_mismatch;
pub mod rw_workspace_ungated;
pub mod sandbox_not_required;
pub mod token_ttl_over_max;
pub mod wildcard_allow;

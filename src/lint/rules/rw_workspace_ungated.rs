use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::model::WorkspaceAccess;

crate::rule! {
    RwWorkspaceUngated, "WPC009", "rw-workspace-ungated", Warning,
    "the workspace is writable and no action needs an approval"
}

impl Rule for RwWorkspaceUngated {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        let constraints = &policy.wpc.constraints;
        if constraints.sandbox.workspace_access == WorkspaceAccess::Rw
            && constraints.approvals.is_empty()
        {
            cx.report(
                &policy.doc,
                "/constraints/sandbox/workspaceAccess",
                "`workspaceAccess = \"rw\"` with no approval gate: every write goes through unreviewed",
            )
            .help = Some("use \"ro\" if the job only reads, or gate writes with [[constraints.approvals]]".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::{CLEAN, run_default};

    #[test]
    fn fires_for_rw_without_gates() {
        let text = CLEAN.replace("\"ro\"", "\"rw\"");
        assert_eq!(run_default(&RwWorkspaceUngated, &[&text]).len(), 1);
    }

    #[test]
    fn quiet_for_ro_or_gated_rw() {
        assert!(run_default(&RwWorkspaceUngated, &[CLEAN]).is_empty());
        let gated = format!(
            "{}\n[[constraints.approvals]]\nwhen = \"tool == 'write'\"\nrequire = \"ticket_id\"\n",
            CLEAN.replace("\"ro\"", "\"rw\"")
        );
        assert!(run_default(&RwWorkspaceUngated, &[&gated]).is_empty());
    }
}

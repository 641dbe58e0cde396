use super::RwWorkspaceUngated;
use crate::decide::Engine;
use crate::lint::{Context, Rule};
use crate::policy::Policy;
use crate::policy::model::WorkspaceAccess;

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

crate::lint::lint_tests! { RwWorkspaceUngated;
    fires_for_rw_without_gates: &[&CLEAN.replace("\"ro\"", "\"rw\"")] => 1;
    quiet_for_ro_or_gated_rw:
        &[CLEAN] => 0,
        &[&format!(
            "{}\n[[constraints.approvals]]\nwhen = \"tool == 'write'\"\nrequire = \"ticket_id\"\n",
            CLEAN.replace("\"ro\"", "\"rw\"")
        )] => 0;
}

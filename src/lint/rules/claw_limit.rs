use super::ClawLimit;

claw_rule! { ClawLimit, Limit }

crate::lint::lint_tests! { ClawLimit with every_claw_version();
    fires_when_v1_lists_or_v2_statements_overflow:
        &[&CLEAN.replace(
            "receipts_required = true",
            &format!(
                "receipts_required = true\nallowed_models = [{}]",
                (0..300).map(|i| format!("\"m{i}\"")).collect::<Vec<_>>().join(", ")
            ),
        )] => 2;
    quiet_within_limits: &[CLEAN] => 0;
}

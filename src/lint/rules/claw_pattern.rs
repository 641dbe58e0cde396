use super::ClawPattern;

claw_rule! { ClawPattern, Pattern }

crate::lint::lint_tests! { ClawPattern with every_claw_version();
    fires_for_question_marks_and_classes:
        &[&CLEAN
            .replace("allow = [\"read\", \"repo.comment\"]", "allow = [\"read?\"]")
            .replace(
                "receipts_required = true",
                "receipts_required = true\nallowed_models = [\"gpt-[45]\"]",
            )] => 2;
    quiet_for_stars_and_literals: &[CLEAN] => 0;
}

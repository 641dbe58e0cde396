use super::binds;
use crate::openclaw::{Context, Rule};
use crate::report::{RuleMeta, Severity};

static META: RuleMeta = RuleMeta {
    code: "OC043",
    name: "bind-rw",
    summary: "a sandbox bind mount is writable",
    default_severity: Severity::Warning,
    doc: include_str!("../../../docs/rules/OC043.md"),
};

pub struct BindRw;

impl Rule for BindRw {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for (path, node, source, mode) in binds(cx) {
            let read_only = mode
                .as_deref()
                .is_some_and(|m| m.split(',').any(|o| o == "ro"));
            if !read_only {
                cx.report(
                    node,
                    format!(
                        "{path}.binds mounts `{source}` read-write{}",
                        if mode.is_none() {
                            " (no mode means rw)"
                        } else {
                            ""
                        }
                    ),
                )
                .help = Some("append `:ro` unless the agent must write there".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::run;

    #[test]
    fn fires_without_ro() {
        assert_eq!(run(&BindRw, "{agents: {defaults: {sandbox: {docker: {binds: ['/a:/a', '/b:/b:rw', '/c:/c:ro']}}}}}").len(), 2);
    }

    #[test]
    fn quiet_on_ro() {
        assert!(
            run(
                &BindRw,
                "{agents: {defaults: {sandbox: {docker: {binds: ['/c:/c:ro,z']}}}}}"
            )
            .is_empty()
        );
    }
}

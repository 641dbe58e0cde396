use super::{BindRw, binds};
use crate::openclaw::{Context, Rule};

impl Rule for BindRw {
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

crate::openclaw::audit_tests! { BindRw;
    fires_without_ro: "{agents: {defaults: {sandbox: {docker: {binds: ['/a:/a', '/b:/b:rw', '/c:/c:ro']}}}}}" => 2;
    quiet_on_ro: "{agents: {defaults: {sandbox: {docker: {binds: ['/c:/c:ro,z']}}}}}" => 0;
}

use super::{BindNonAbsolute, binds};
use crate::openclaw::{Context, Rule};

impl Rule for BindNonAbsolute {
    fn check(&self, cx: &mut Context<'_>) {
        for (path, node, source, _) in binds(cx) {
            if !source.starts_with('/') {
                cx.report(node, format!("{path}.binds source `{source}` is not absolute (a relative path or a named volume): what it mounts depends on where the gateway runs"))
                    .help = Some("use an absolute host path".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { BindNonAbsolute;
    fires_on_relative_and_volumes: "{agents: {defaults: {sandbox: {docker: {binds: ['data:/data', './x:/x']}}}}}" => 2;
    quiet_on_absolute: "{agents: {defaults: {sandbox: {docker: {binds: ['/srv/x:/x:ro']}}}}}" => 0;
}

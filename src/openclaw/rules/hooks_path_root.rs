use super::{HooksPathRoot, hooks_enabled};
use crate::openclaw::{Context, Rule};

impl Rule for HooksPathRoot {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if !hooks_enabled(root) {
            return;
        }
        if let Some(path) = root.at(&["hooks", "path"]) {
            if path.as_str() == Some("/") {
                cx.report(
                    path,
                    "`hooks.path: \"/\"` puts webhook handling over every gateway route",
                )
                .help = Some("use `/hooks`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { HooksPathRoot;
    fires_on_root: "{hooks: {enabled: true, path: '/'}}" => 1;
    quiet_on_a_sub_path: "{hooks: {enabled: true, path: '/hooks'}}" => 0;
}

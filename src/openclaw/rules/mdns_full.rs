use super::{MdnsFull, critical_if, non_loopback};
use crate::openclaw::{Context, Rule};

impl Rule for MdnsFull {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if let Some(mode) = root.at(&["discovery", "mdns", "mode"]) {
            if mode.as_str() == Some("full") {
                cx.report_as(mode, critical_if(non_loopback(root)), "`discovery.mdns.mode: full` advertises the gateway's details to the whole local network")
                    .help = Some("use `minimal` (the default) or `off`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { MdnsFull;
    fires_on_full: "{discovery: {mdns: {mode: 'full'}}}" => 1;
    quiet_on_minimal: "{discovery: {mdns: {mode: 'minimal'}}}" => 0;
}

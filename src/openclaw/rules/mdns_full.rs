use super::{critical_if, non_loopback};
use crate::openclaw::{Context, Rule};

crate::rule! {
    MdnsFull, "OC019", "mdns-full", Error,
    "mDNS broadcasts full gateway details"
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::run;

    #[test]
    fn fires_on_full() {
        assert_eq!(
            run(&MdnsFull, "{discovery: {mdns: {mode: 'full'}}}").len(),
            1
        );
    }

    #[test]
    fn quiet_on_minimal() {
        assert!(run(&MdnsFull, "{discovery: {mdns: {mode: 'minimal'}}}").is_empty());
    }
}

use super::{critical_if, non_loopback};
use crate::openclaw::{Context, Rule};
use crate::report::{RuleMeta, Severity};

static META: RuleMeta = RuleMeta {
    code: "OC019",
    name: "mdns-full",
    summary: "mDNS broadcasts full gateway details",
    default_severity: Severity::Error,
    doc: include_str!("../../../docs/rules/OC019.md"),
};

pub struct MdnsFull;

impl Rule for MdnsFull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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

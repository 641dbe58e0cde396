use super::{HttpNoAuth, critical_if, exposed, has_shared_secret};
use crate::openclaw::{Context, Rule};

impl Rule for HttpNoAuth {
    fn check(&self, cx: &mut Context<'_>) {
        let root = cx.root;
        if has_shared_secret(root) {
            return;
        }
        let at = cx.at(&["gateway", "auth"]);
        cx.report_as(at, critical_if(exposed(root)), "the gateway has no usable token or password, so `/tools/invoke` (and any enabled `/v1/*` endpoint) runs tools for any caller that reaches it")
            .help = Some("set token or password auth".into());
    }
}

crate::openclaw::audit_tests! { HttpNoAuth;
    fires_critical_when_exposed:
        "{gateway: {bind: 'lan', auth: {mode: 'none'}}}" => (1, " error "),
        "{}" => (1, " warning ");
    quiet_with_a_password: "{gateway: {auth: {mode: 'password', password: {source: 'env', id: 'P'}}}}" => 0;
}

use super::{critical_if, exposed, has_shared_secret};
use crate::openclaw::{Context, Rule};

crate::rule! {
    HttpNoAuth, "OC016", "http-no-auth", Error,
    "`/tools/invoke` and the HTTP APIs are callable without a shared secret"
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::testing::run;

    #[test]
    fn fires_critical_when_exposed() {
        let found = run(
            &HttpNoAuth,
            "{gateway: {bind: 'lan', auth: {mode: 'none'}}}",
        );
        assert!(found[0].contains(" error "), "{found:?}");
        assert!(run(&HttpNoAuth, "{}")[0].contains(" warning "));
    }

    #[test]
    fn quiet_with_a_password() {
        assert!(
            run(
                &HttpNoAuth,
                "{gateway: {auth: {mode: 'password', password: {source: 'env', id: 'P'}}}}"
            )
            .is_empty()
        );
    }
}

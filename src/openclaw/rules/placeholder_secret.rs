use super::{PlaceholderSecret, shared_secrets};
use crate::openclaw::{Context, Rule};

impl Rule for PlaceholderSecret {
    fn check(&self, cx: &mut Context<'_>) {
        for (node, value) in shared_secrets(cx.root) {
            if is_placeholder(value) {
                cx.report(
                    node,
                    format!("the secret is `{value}`, a placeholder anyone can guess"),
                )
                .help = Some(
                    "generate a random secret of 32+ characters and reference it as `${VAR}`"
                        .into(),
                );
            }
        }
    }
}

/// Values OpenClaw treats as known-weak, plus common template leftovers.
pub(super) fn is_placeholder(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    v.is_empty()
        || (v.starts_with('<') && v.ends_with('>'))
        || [
            "undefined",
            "null",
            "changeme",
            "change-me",
            "change_me",
            "password",
            "token",
            "secret",
            "todo",
            "xxx",
            "replace-me",
            "your-token-here",
            "your_token_here",
            "example",
        ]
        .contains(&v.as_str())
}

crate::openclaw::audit_tests! { PlaceholderSecret;
    fires_on_placeholders:
        "{gateway: {auth: {mode: 'token', token: 'changeme'}}}" => 1,
        "{gateway: {auth: {password: ''}}, hooks: {enabled: true, token: '<token>'}}" => 2;
    quiet_on_real_secrets: "{gateway: {auth: {token: '${OPENCLAW_GATEWAY_TOKEN}'}}}" => 0;
}

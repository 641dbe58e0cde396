use super::placeholder_secret::is_placeholder;
use super::{ShortSecret, shared_secrets};
use crate::openclaw::load::references_env;
use crate::openclaw::{Context, Rule};

impl Rule for ShortSecret {
    fn check(&self, cx: &mut Context<'_>) {
        for (node, value) in shared_secrets(cx.root) {
            if !references_env(node) && !is_placeholder(value) && value.chars().count() < 24 {
                cx.report(
                    node,
                    format!(
                        "the secret is {} characters; 24 is the minimum OpenClaw recommends",
                        value.chars().count()
                    ),
                )
                .help = Some("generate a random secret of 32+ characters".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { ShortSecret;
    fires_on_short_tokens: "{gateway: {auth: {token: 'abc123'}}}" => 1;
    quiet_on_long_or_env_tokens:
        "{gateway: {auth: {token: '${T}'}}}" => 0,
        "{gateway: {auth: {token: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}}}" => 0;
}

use super::{LiteralSecret, find_keys};
use crate::openclaw::load::references_env;
use crate::openclaw::{Context, Rule};

impl Rule for LiteralSecret {
    fn check(&self, cx: &mut Context<'_>) {
        let mut found = Vec::new();
        find_keys(
            cx.root,
            &|k| {
                let k = k.to_ascii_lowercase();
                ["token", "password", "secret", "apikey", "api_key"]
                    .iter()
                    .any(|s| k.ends_with(s))
            },
            &mut found,
        );
        for (key, node) in found {
            let Some(value) = node.as_str() else { continue };
            if !value.trim().is_empty() && !references_env(node) {
                cx.report(node, format!("`{key}` is a literal secret: anyone who can read the config (or its backups) has it"))
                    .help = Some("reference it as `${VAR}` or a SecretRef `{source: \"env\", id: ...}`".into());
            }
        }
    }
}

crate::openclaw::audit_tests! { LiteralSecret;
    fires_on_literals: "{gateway: {auth: {password: 'hunter2'}}, channels: {telegram: {botToken: '123:abc'}}}" => 2;
    quiet_on_env_and_secret_refs: "{gateway: {auth: {token: '${OPENCLAW_GATEWAY_TOKEN}', password: {source: 'env', id: 'P'}}}}" => 0;
}

//! What a WPC allows besides tools: which models a job may call, and which
//! hosts it may reach. The bundle checker and the Claw export's soundness
//! test both ask these, so there is one reading of `model_calls` and
//! `egress`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::CompileError;
use crate::policy::model::{Network, Wpc};

/// `constraints.model_calls.allowed_providers` and `allowed_models`. An
/// absent list allows anything; an empty one allows nothing. Providers and
/// models are compared case-insensitively, as the gateway compares them.
#[derive(Debug)]
pub struct Models {
    providers: Option<Vec<String>>,
    models: Option<GlobSet>,
}

impl Models {
    pub fn new(wpc: &Wpc) -> Result<Models, CompileError> {
        let calls = wpc.constraints.model_calls.as_ref();
        let providers = calls
            .and_then(|m| m.allowed_providers.as_ref())
            .map(|list| list.iter().map(|p| p.to_ascii_lowercase()).collect());
        let models = calls
            .and_then(|m| m.allowed_models.as_deref())
            .map(case_insensitive_set)
            .transpose()?;
        Ok(Models { providers, models })
    }

    pub fn allows_provider(&self, provider: &str) -> bool {
        self.providers
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| p.eq_ignore_ascii_case(provider)))
    }

    pub fn allows_model(&self, model: &str) -> bool {
        self.models.as_ref().is_none_or(|set| set.is_match(model))
    }

    /// Positions in `allowed_providers` naming `provider` (for coverage).
    pub fn providers_naming(&self, provider: &str) -> Vec<usize> {
        let Some(list) = &self.providers else {
            return Vec::new();
        };
        (0..list.len())
            .filter(|&i| list[i].eq_ignore_ascii_case(provider))
            .collect()
    }

    /// Positions in `allowed_models` whose pattern matches `model` (for
    /// coverage).
    pub fn models_matching(&self, model: &str) -> Vec<usize> {
        self.models
            .as_ref()
            .map_or_else(Vec::new, |set| set.matches(model))
    }

    /// A model call is allowed when both its provider and its model are.
    pub fn allows(&self, provider: &str, model: &str) -> bool {
        self.allows_provider(provider) && self.allows_model(model)
    }
}

/// Network egress: `constraints.sandbox.network` and `constraints.egress`.
/// `network = "none"` reaches nothing; an allowlist (whatever `network`
/// says) reaches the hosts it matches, case-insensitively; `network =
/// "egress-allowlist"` without one reaches nothing; otherwise anything.
#[derive(Debug)]
pub enum Egress {
    Nowhere,
    Anywhere,
    Allowlist(GlobSet),
}

impl Egress {
    pub fn new(wpc: &Wpc) -> Result<Egress, CompileError> {
        let network = wpc.constraints.sandbox.network;
        let allowlist = wpc.constraints.egress.as_ref().map(|e| &e.allowlist);
        Ok(match (network, allowlist) {
            (Some(Network::None), _) => Egress::Nowhere,
            (_, Some(patterns)) => Egress::Allowlist(case_insensitive_set(patterns)?),
            (Some(Network::EgressAllowlist), None) => Egress::Nowhere,
            (Some(Network::Open) | None, None) => Egress::Anywhere,
        })
    }

    pub fn allows(&self, host: &str) -> bool {
        match self {
            Egress::Nowhere => false,
            Egress::Anywhere => true,
            Egress::Allowlist(set) => set.is_match(host),
        }
    }

    /// Positions in `egress.allowlist` whose pattern matches `host` (for
    /// coverage).
    pub fn allowlist_matching(&self, host: &str) -> Vec<usize> {
        match self {
            Egress::Allowlist(set) => set.matches(host),
            Egress::Nowhere | Egress::Anywhere => Vec::new(),
        }
    }
}

/// Globs where `*` runs across dots and slashes (globset's default).
fn case_insensitive_set(patterns: &[String]) -> Result<GlobSet, CompileError> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .case_insensitive(true)
            .build()
            .map_err(|source| CompileError {
                pattern: pattern.clone(),
                source,
            })?;
        set.add(glob);
    }
    set.build().map_err(|source| CompileError {
        pattern: patterns.join(", "),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{Egress as EgressTable, ModelCalls};

    fn wpc() -> Wpc {
        crate::policy::testing::policy(crate::policy::testing::CLEAN).wpc
    }

    #[test]
    fn models_absent_lists_allow_anything_empty_ones_nothing() {
        let mut policy = wpc();
        assert!(Models::new(&policy).unwrap().allows("x", "y"));
        policy.constraints.model_calls = Some(ModelCalls {
            route_via: None,
            receipts_required: None,
            allowed_providers: Some(vec!["Anthropic".into()]),
            allowed_models: Some(vec!["claude-*".into()]),
        });
        let models = Models::new(&policy).unwrap();
        assert!(models.allows("anthropic", "CLAUDE-sonnet/4"));
        assert!(!models.allows("openai", "claude-x"));
        assert!(!models.allows("anthropic", "gpt-4o"));
        policy.constraints.model_calls = Some(ModelCalls {
            route_via: None,
            receipts_required: None,
            allowed_providers: Some(vec![]),
            allowed_models: Some(vec![]),
        });
        let models = Models::new(&policy).unwrap();
        assert!(!models.allows_provider("anthropic"));
        assert!(!models.allows_model("claude-x"));
    }

    #[test]
    fn egress_follows_network_and_allowlist() {
        let mut policy = wpc();
        assert!(Egress::new(&policy).unwrap().allows("anything.example"));
        policy.constraints.sandbox.network = Some(Network::EgressAllowlist);
        assert!(!Egress::new(&policy).unwrap().allows("anything.example"));
        policy.constraints.egress = Some(EgressTable {
            allowlist: vec!["*.Example.com".into()],
        });
        let egress = Egress::new(&policy).unwrap();
        assert!(egress.allows("api.example.COM"));
        assert!(!egress.allows("example.org"));
        policy.constraints.sandbox.network = Some(Network::None);
        assert!(!Egress::new(&policy).unwrap().allows("api.example.com"));
    }
}

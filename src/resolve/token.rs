//! `wpc cst check`: a scoped token against the WPC `--policy` resolves to.

use super::{ResolveError, resolve};
use crate::config::Config;
use crate::crypto::verify::Trust;
use crate::cst::{self, IssuerError, Issuers, TokenPolicy};
use crate::error::error_enum;
use crate::fsio::ReadError;
use crate::release::Freshness;
use crate::report::{Format, Output};

/// What the command line asked of `wpc cst check`.
#[derive(Debug)]
pub struct TokenPlan {
    /// The token, or a file holding it.
    pub token: String,
    /// A policy file, envelope or hash ([`resolve`]).
    pub policy: String,
    /// The issuer's did:key, else its JWKS file.
    pub issuer: Option<String>,
    pub jwks: Option<std::path::PathBuf>,
    /// Unix seconds to compare `exp` with.
    pub now: i64,
    pub freshness: Freshness,
    pub format: Format,
}

error_enum! {
    pub enum TokenCheckError {
        Issuer(IssuerError),
        Resolve(ResolveError),
        Read(ReadError),
    }
}

/// Check the token against the policy: failing when it is not valid, or
/// when the policy is revoked on the release branch (no token pinned to it
/// is valid).
pub fn check_token(config: &Config, plan: &TokenPlan) -> Result<Output, TokenCheckError> {
    let issuers = Issuers::from_key(plan.issuer.as_deref(), plan.jwks.as_deref())?;
    let (policy, _) = resolve(
        &plan.policy,
        &Trust::any_signer_unchecked(),
        config,
        &plan.freshness,
    )?;
    if policy.revoked {
        return Ok(Output::failure(format!(
            "error: policy {} is revoked on the release branch\n",
            policy.hash
        )));
    }
    let token = cst::read_token(&plan.token)?;
    let report = cst::check(
        &token,
        &issuers,
        plan.now,
        Some(TokenPolicy {
            wpc: &policy.wpc,
            hash: &policy.hash,
        }),
    );
    Ok(report.render(plan.format, &policy.hash))
}

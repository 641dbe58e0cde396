use super::args::{FreshnessArgs, IssuerArgs};
use super::exit::Outcome;
use super::load::{current_config, parse_now};
use super::output::emit;
use crate::cst;
use crate::report::Format;
use crate::resolve::{self, TokenPlan};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a scoped token (JWS compact, EdDSA) against a WPC: exit 0 valid,
    /// 1 invalid, 2 usage or I/O.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The token, or a file holding it.
    token: String,
    /// The WPC: a policy file, a signed WPC envelope (.json), or a policy hash.
    #[arg(long, value_name = "FILE|ENVELOPE|HASH", allow_hyphen_values = true)]
    policy: String,
    #[command(flatten)]
    freshness: FreshnessArgs,
    #[command(flatten)]
    issuer: IssuerArgs,
    /// Compare exp with this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// json: the verdict and the claims as a `wpc-cst-check` document.
    #[arg(long, default_value_t = Format::Text, value_parser = cst::FORMATS)]
    format: Format,
}

pub fn run(Command::Check(args): Command) -> anyhow::Result<Outcome> {
    let config = current_config(None)?;
    let plan = TokenPlan {
        token: args.token,
        policy: args.policy,
        issuer: args.issuer.issuer,
        jwks: args.issuer.jwks,
        now: parse_now(args.now.as_deref())?.as_second(),
        freshness: args.freshness.freshness(),
        format: args.format,
    };
    emit(resolve::check_token(&config, &plan)?)
}

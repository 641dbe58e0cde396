use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::output::{Outcome, print};
use crate::config::Config;
use crate::crypto::did::DidKey;
use crate::crypto::envelope::parse_rfc3339;
use crate::crypto::verify::Trust;
use crate::cst::{self, CstReport, Issuers, TokenPolicy};
use crate::report::Format;
use crate::resolve;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check a scoped token (JWS compact, EdDSA) against a WPC: exit 0 valid,
    /// 1 invalid, 2 usage or I/O.
    Check(CheckArgs),
}

/// Where the issuer's key comes from; shared with `wpc bundle verify --cst`.
#[derive(Debug, Default, clap::Args)]
pub struct IssuerArgs {
    /// The token service's did:key.
    #[arg(long, value_name = "DID", conflicts_with = "jwks")]
    pub issuer: Option<String>,
    /// The token service's JWKS document (Ed25519 `OKP` keys).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
}

impl IssuerArgs {
    pub fn issuers(&self) -> anyhow::Result<Issuers> {
        match (&self.issuer, &self.jwks) {
            (Some(did), _) => Ok(Issuers::did(
                &DidKey::parse(did).with_context(|| format!("--issuer {did}"))?,
            )),
            (None, Some(path)) => {
                let text = crate::fsio::read_to_string(path, crate::fsio::JWKS)?;
                Issuers::jwks(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            (None, None) => bail!("give the token issuer's key: --issuer DID or --jwks FILE"),
        }
    }
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The token, or a file holding it.
    token: String,
    /// The WPC: a policy file, a signed WPC envelope (.json), or a policy hash.
    #[arg(long, value_name = "FILE|ENVELOPE|HASH", allow_hyphen_values = true)]
    policy: String,
    #[command(flatten)]
    freshness: super::args::FreshnessArgs,
    #[command(flatten)]
    issuer: IssuerArgs,
    /// Compare exp with this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// json: the verdict and the claims as a `wpc-cst-check` document.
    #[arg(long, default_value_t = Format::Text, value_parser = cst::FORMATS)]
    format: Format,
}

/// The token text: the argument itself, or the contents of the file it names.
pub fn read_token(arg: &str) -> anyhow::Result<String> {
    let path = std::path::Path::new(arg);
    // Anything at that path (a FIFO too) is read as a file, or refused.
    if path.exists() {
        let text = crate::fsio::read_to_string(path, crate::fsio::TOKEN)?;
        Ok(text.trim().to_owned())
    } else {
        Ok(arg.trim().to_owned())
    }
}

pub fn now_seconds(now: Option<&str>) -> anyhow::Result<i64> {
    Ok(match now {
        Some(text) => parse_rfc3339(text).context("--now")?.as_second(),
        None => jiff::Timestamp::now().as_second(),
    })
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Command::Check(args) = args.command;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = super::output::usable_config(Config::discover(&cwd))?;
    let issuers = args.issuer.issuers()?;
    let (policy, _) = resolve::resolve(
        &args.policy,
        &Trust::any_signer_unchecked(),
        &config,
        &args.freshness.freshness(),
    )?;
    if policy.revoked {
        // A hash resolved through the release branch may be revoked there:
        // no token pinned to it is valid.
        super::output::eprint(&format!(
            "error: policy {} is revoked on the release branch
",
            policy.hash
        ));
        return Ok(Outcome::Failed);
    }
    let token = read_token(&args.token)?;
    let now = now_seconds(args.now.as_deref())?;
    let report = cst::check(
        &token,
        &issuers,
        now,
        Some(TokenPolicy {
            wpc: &policy.wpc,
            hash: &policy.hash,
        }),
    );
    print(&match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&report.json())?),
        _ => text(&report, &policy.hash),
    })?;
    Ok(if report.valid {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

fn text(report: &CstReport, policy_hash: &str) -> String {
    let mut out = String::new();
    if report.valid {
        out.push_str(&format!("VALID   token for policy {policy_hash}\n"));
    } else {
        out.push_str("INVALID token\n");
        for failure in &report.failures {
            out.push_str(&format!("  {failure}\n"));
        }
    }
    if let Some(hash) = &report.scope_hash_b64u {
        out.push_str(&format!("scope hash {hash}\n"));
    }
    out
}

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::output::{Outcome, print};
use crate::bundle::batch;
use crate::bundle::render::{self, Context};
use crate::bundle::{Options, UnverifiedEvidence, causal};
use crate::config::Config;
use crate::crypto::envelope::parse_rfc3339;
use crate::crypto::verify::MAX_ENVELOPE_BYTES;
use crate::report::Format;
use crate::resolve::{self, PolicySource};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Verify proof bundles: exit 0 all valid, 1 any invalid, 2 usage or I/O.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Bundle files, directories (their *.json files) and globs; default:
    /// wpc.toml `[bundles] paths`.
    paths: Vec<String>,
    /// Trusted signers file: `[[gateway_signer]]` entries sign gateway
    /// receipts, `[[release_signer]]` entries sign a `--policy` envelope,
    /// `[[approver]]` entries sign the human approvals that satisfy
    /// approval gates. Default: the policy repository's
    /// keys/trusted-signers.toml.
    #[arg(long, value_name = "FILE")]
    trusted: Option<PathBuf>,
    /// A trusted gateway receipt signer (repeatable).
    #[arg(long = "gateway-signer", value_name = "DID")]
    gateway_signers: Vec<String>,
    /// Verify under this WPC: a policy file, a signed WPC envelope (.json),
    /// or a policy hash: released on the release branch (revoked there:
    /// POLICY_REVOKED), else among the working policies when the repository
    /// has no release branch.
    #[arg(long, value_name = "FILE|ENVELOPE|HASH", allow_hyphen_values = true)]
    policy: Option<String>,
    /// Every receipt's binding.token_scope_hash_b64u must equal this.
    #[arg(
        long,
        value_name = "HASH",
        conflicts_with = "cst",
        allow_hyphen_values = true
    )]
    scope_hash: Option<String>,
    /// A scoped token (or a file holding it): it must verify (with --issuer
    /// or --jwks), and every receipt must be bound to its scope hash.
    #[arg(long, value_name = "TOKEN|FILE")]
    cst: Option<String>,
    #[command(flatten)]
    freshness: super::args::FreshnessArgs,
    #[command(flatten)]
    issuer: super::args::IssuerArgs,
    /// A revoked policy hash (repeatable): bundles under it are INVALID.
    #[arg(long, value_name = "HASH", allow_hyphen_values = true)]
    revoked: Vec<String>,
    /// Compare expiry with this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Causal span graph checks. `enforce` (the protocol's default) also
    /// requires one connected graph with a root and every side-effect and
    /// human-approval receipt anchored to a gateway receipt's span;
    /// `observe` and `warn` check each span, its references, clocks,
    /// phases, confidence and cycles only.
    #[arg(long, value_enum, value_name = "MODE")]
    causal_mode: Option<causal::Mode>,
    /// `strict` locks the causal mode and CLDD coverage checks to
    /// `enforce` (asking for less is an error); `compat` uses
    /// --causal-mode as given.
    #[arg(long, value_enum, default_value_t = causal::Profile::Compat, value_name = "PROFILE")]
    causal_profile: causal::Profile,
    /// Bundle files larger than this are MALFORMED_ENVELOPE, unread
    /// (at most the default, 16 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = MAX_ENVELOPE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_ENVELOPE_BYTES as u64))]
    max_bundle_bytes: u64,
    #[arg(long, default_value_t = Format::Text, value_parser = render::FORMATS)]
    format: Format,
    /// A bundle carrying evidence wpc does not verify (urm, web receipts,
    /// attestations, metadata, ...), which could have made it INVALID:
    /// `fail` makes it INVALID (EVIDENCE_UNVERIFIED), `warn` keeps its
    /// verdict and warns. `wpc ci` and the Action fail.
    #[arg(long, value_enum, default_value_t = UnverifiedEvidence::Warn, value_name = "MODE")]
    unverified_evidence: UnverifiedEvidence,
    /// Verify only shard I of N (1-based): a deterministic partition of the
    /// bundle files by path hash, for spreading a fleet over an Actions
    /// matrix. Replay is then detected within the shard only.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// The final pass after a sharded matrix: only replay across the whole
    /// set (bundle, run and receipt ids, nonces), holding identifiers only.
    /// Signatures are checked, so an id counts only in a signed bundle;
    /// policy checks are the shards' job. Exit 1 on any replay or any
    /// bundle that fails the protocol checks.
    #[arg(
        long,
        conflicts_with_all = ["shard", "policy", "cst", "scope_hash", "revoked", "format"]
    )]
    replay_only: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Verify(args) => verify(args),
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = super::output::usable_config(Config::discover(&cwd))?;
    // In a policy repository its own trusted signers apply, as in `wpc ci`.
    let trust = resolve::bundle_trust(
        &config,
        &args.gateway_signers,
        args.trusted.as_deref(),
        args.unverified_evidence,
    )?;
    let release_trust = trust.release_trust();
    let mut options = trust.options;
    if let Some(text) = &args.now {
        options.now = parse_rfc3339(text).with_context(|| "--now".to_owned())?;
    }
    let now = options.now;
    options.causal = causal::Policy::resolve(args.causal_profile, args.causal_mode, None)
        .map_err(|failure| anyhow::anyhow!("{}: {}", failure.code, failure.message))?;
    options.max_bundle_bytes = args.max_bundle_bytes;

    let policy = match &args.policy {
        Some(spec) => {
            let (mut check, warning) =
                resolve::resolve(spec, &release_trust, &config, &args.freshness.freshness())?;
            if let Some(warning) = warning {
                super::output::eprint(&format!("note: {warning}\n"));
            }
            check.revoked |= args.revoked.contains(&check.hash);
            Some(check)
        }
        None => None,
    };

    let scope_hash = match &args.cst {
        None => args.scope_hash.clone(),
        Some(token) => {
            let token = crate::cst::read_token(token)?;
            let report = crate::cst::check(
                &token,
                &crate::cst::Issuers::from_key(
                    args.issuer.issuer.as_deref(),
                    args.issuer.jwks.as_deref(),
                )?,
                now.as_second(),
                policy.as_ref().map(|p| crate::cst::TokenPolicy {
                    wpc: &p.wpc,
                    hash: &p.hash,
                }),
            );
            if !report.valid {
                let reasons: Vec<String> =
                    report.failures.iter().map(ToString::to_string).collect();
                bail!("--cst: the token is not valid: {}", reasons.join("; "));
            }
            report.scope_hash_b64u
        }
    };

    let specs = if args.paths.is_empty() {
        config.settings.bundles.paths.clone()
    } else {
        args.paths.clone()
    };
    if specs.is_empty() {
        bail!("no bundles given, and wpc.toml has no [bundles] paths");
    }
    let mut paths = batch::collect(&specs)?;
    if let Some((index, count)) = args.shard {
        paths = batch::shard(paths, index, count);
    }
    if args.replay_only {
        // Policy and scope checks are the shards' job.
        return replay_only(&paths, &options);
    }
    // In a policy repository without --policy, each bundle is checked under
    // the WPC it claims, as `wpc ci` does.
    let claimed_from = match (&policy, &config.file) {
        (None, Some(_)) => {
            let source = PolicySource::for_config(&config, &args.freshness.freshness())?;
            if let Some(warning) = source.warning() {
                super::output::eprint(&format!("note: {warning}\n"));
            }
            Some(source)
        }
        _ => None,
    };
    let context = Context {
        gateway_signers_checked: options.gateway_signers_checked,
        policy_hash: policy.as_ref().map(|p| p.hash.clone()),
        claimed_from: claimed_from.as_ref().map(PolicySource::describe),
        unverified_evidence: options.unverified_evidence,
    };
    options.policy = policy;
    options.scope_hash = scope_hash;
    let entries = match &claimed_from {
        Some(source) => batch::verify_under_claimed(&paths, source, &options, &args.revoked)?,
        None => batch::verify_all(&paths, &options)?,
    };
    print(&render::render(args.format, &entries, &context)?)?;
    Ok(if entries.iter().all(|e| e.report.valid) {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// `--replay-only`: one line per replay, per bundle that took no part, a
/// summary.
fn replay_only(paths: &[PathBuf], options: &Options) -> anyhow::Result<Outcome> {
    let report = batch::replay_only(paths, options)?;
    let mut out = String::new();
    for replay in &report.replays {
        out.push_str(&format!(
            "REPLAY  {} {}\n",
            replay.path.display(),
            replay.failure
        ));
    }
    for (path, codes) in &report.skipped {
        let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        out.push_str(&format!(
            "INVALID {} {} (not checked for replay)\n",
            path.display(),
            codes.join(" ")
        ));
    }
    out.push_str(&format!(
        "{} bundles: {} replays, {} invalid\n",
        report.bundles,
        report.replays.len(),
        report.skipped.len()
    ));
    if !options.gateway_signers_checked {
        out.push_str(
            "note: no trusted gateway signers given (--trusted, --gateway-signer or wpc.toml \
             [bundles] gateway_signers): any valid gateway receipt signer was accepted\n",
        );
    }
    print(&out)?;
    Ok(if report.replays.is_empty() && report.skipped.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// `I/N` with 1 ≤ I ≤ N.
fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{text}` is not I/N"))
    };
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not I/N"))?;
    let (index, count) = (parse(index)?, parse(count)?);
    if index == 0 || index > count {
        return Err(format!(
            "shard {index} of {count}: I must lie between 1 and N"
        ));
    }
    Ok((index, count))
}

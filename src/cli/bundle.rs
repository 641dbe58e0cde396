use std::path::PathBuf;

use super::args::{FreshnessArgs, IssuerArgs};
use super::exit::Outcome;
use super::load::{current_config, given_time};
use super::output::emit;
use crate::bundle::{UnverifiedEvidence, causal, render};
use crate::ci::bundles::{self, Plan};
use crate::crypto::verify::MAX_ENVELOPE_BYTES;
use crate::report::Format;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify proof bundles: exit 0 all valid, 1 any invalid, 2 usage or I/O.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
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
    #[arg(long, value_name = "HASH", allow_hyphen_values = true)]
    scope_hash: Option<String>,
    /// A scoped token (or a file holding it): it must verify (with --issuer
    /// or --jwks), and every receipt must be bound to its scope hash.
    #[arg(long, value_name = "TOKEN|FILE", conflicts_with = "scope_hash")]
    cst: Option<String>,
    #[command(flatten)]
    freshness: FreshnessArgs,
    #[command(flatten)]
    issuer: IssuerArgs,
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
    #[arg(long, value_name = "I/N", value_parser = bundles::parse_shard)]
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

pub fn run(Command::Verify(args): Command) -> anyhow::Result<Outcome> {
    let plan = Plan {
        paths: args.paths,
        trusted: args.trusted,
        gateway_signers: args.gateway_signers,
        policy: args.policy,
        scope_hash: args.scope_hash,
        cst: args.cst,
        issuer: args.issuer.issuer,
        jwks: args.issuer.jwks,
        freshness: args.freshness.freshness(),
        revoked: args.revoked,
        now: given_time("--now", args.now.as_deref())?,
        causal_mode: args.causal_mode,
        causal_profile: args.causal_profile,
        max_bundle_bytes: args.max_bundle_bytes,
        format: args.format,
        unverified_evidence: args.unverified_evidence,
        shard: args.shard,
        replay_only: args.replay_only,
    };
    emit(bundles::run(&current_config(None)?, &plan)?)
}

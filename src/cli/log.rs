use std::fmt::Write as _;

use super::args::{FreshnessArgs, Place, open};
use super::output::rejected_or;
use super::output::{Outcome, print};
use crate::release::VerifiedRelease;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this policy. Default: every policy.
    policy: Option<String>,
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (repo, source) = open(&args.place)?;
    let branch = &source.branch;
    // The history shown is the verified tip's: a rolled-back or edited
    // branch is refused rather than shown without its revocations.
    let state = match VerifiedRelease::load(&repo, &source, &args.freshness.freshness()) {
        Ok(state) => state,
        Err(err) => return rejected_or(err),
    };
    let mut out = String::new();
    let mut shown = 0;
    for (name, entries) in &state.index.policies {
        if args.policy.as_deref().is_some_and(|p| p != name) {
            continue;
        }
        shown += 1;
        let _ = writeln!(out, "{name}");
        for e in entries.iter().rev() {
            let _ = write!(
                out,
                "  {}  {}  commit {}",
                e.released_at,
                e.hash,
                e.commit.get(..12).unwrap_or(&e.commit)
            );
            if let Some(pr) = e.pr {
                let _ = write!(out, "  PR #{pr}");
            }
            if !e.approved_by.is_empty() {
                let _ = write!(out, "  approved by {}", e.approved_by.join(", "));
            }
            if let Some(r) = state.revocation(&e.hash) {
                let _ = write!(out, "  REVOKED {} ({})", r.revoked_at, r.reason);
            }
            out.push('\n');
            for (version, hash) in &e.renderings {
                let _ = writeln!(out, "    {:<8}{hash}", version.rendering());
            }
        }
    }
    if let (Some(policy), 0) = (&args.policy, shown) {
        anyhow::bail!("`{policy}` was never released on `{branch}`");
    }
    print(&out)?;
    Ok(Outcome::Clean)
}

use std::fmt::Write as _;

use super::release::{Place, open};
use super::{Outcome, print};
use crate::release::Branch;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this policy. Default: every policy.
    policy: Option<String>,
    #[command(flatten)]
    place: Place,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (repo, _, _, branch) = open(&args.place, "HEAD")?;
    let state = Branch::read(&repo, &branch)?;
    anyhow::ensure!(
        state.tip.is_some(),
        "release branch `{branch}` does not exist"
    );
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
            if let Some(r) = state.revocations.iter().find(|r| r.hash == e.hash) {
                let _ = write!(out, "  REVOKED {} ({})", r.revoked_at, r.reason);
            }
            out.push('\n');
        }
    }
    if let (Some(policy), 0) = (&args.policy, shown) {
        anyhow::bail!("`{policy}` was never released on `{branch}`");
    }
    print(&out)?;
    Ok(Outcome::Clean)
}

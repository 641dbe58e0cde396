use std::path::PathBuf;

use super::{Outcome, eprint, print};
use crate::crypto::envelope::WorkPolicyContract;
use crate::crypto::verify::{Trust, verify_envelope};
use crate::policy::document::unreadable_in_brief;
use crate::policy::{Document, Policy};
use crate::report::Report;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (TOML), or its signed envelope (JSON).
    file: PathBuf,
    /// Print only the 12-character display form.
    #[arg(long)]
    short: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Some(policy) = load_or_report(&args.file)? else {
        return Ok(Outcome::Failed);
    };
    let hash = if args.short {
        crate::policy::hash::short(&policy.hash)
    } else {
        &policy.hash
    };
    print(&format!("{hash}\n"))?;
    Ok(Outcome::Clean)
}

/// Load a policy for a command that needs a valid one, from its TOML file or
/// from a signed envelope (JSON, whose hash and signature are verified; who
/// signed it is `wpc verify --trusted`'s question). A missing file is an
/// error (exit 2); an invalid policy or envelope prints why to stderr and
/// yields `None` (exit 1).
pub(super) fn load_or_report(file: &std::path::Path) -> anyhow::Result<Option<Policy>> {
    let bytes = crate::fsio::read(file, crate::fsio::ENVELOPE)?;
    let loaded = if bytes.trim_ascii_start().starts_with(b"{") {
        match verify_envelope::<WorkPolicyContract>(&bytes, &Trust::any_signer_unchecked()) {
            Ok(verified) => Policy::from_document(Document::detached(verified.into_payload())),
            Err(failure) => {
                eprint(&format!(
                    "{}: invalid envelope: {failure}\n",
                    file.display()
                ));
                return Ok(None);
            }
        }
    } else {
        crate::policy::decode_source(file, bytes)
            .map_err(|finding| vec![finding])
            .and_then(Document::parse)
            .and_then(Policy::from_document)
    };
    match loaded {
        Ok(policy) => Ok(Some(policy)),
        Err(findings) => {
            let report = Report::new(unreadable_in_brief(findings), 1);
            eprint(&report.render_brief(false));
            Ok(None)
        }
    }
}

use std::path::PathBuf;

use super::hash::load_or_report;
use super::{Outcome, print, usable_config};
use crate::policy::hash::canonical_json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (TOML), or its signed envelope (JSON).
    file: PathBuf,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = Target::Json)]
    target: Target,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Target {
    /// The canonical payload (RFC 8785 JSON): exactly the bytes that are hashed.
    Json,
    /// The OpenClaw config fragment (JSON5) that realises the policy, using
    /// the tool map of the `wpc.toml` above the policy.
    Openclaw,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Some(policy) = load_or_report(&args.file)? else {
        return Ok(Outcome::Failed);
    };
    match args.target {
        Target::Json => {
            let bytes = canonical_json(&policy.doc.value)?;
            print(&format!("{}\n", String::from_utf8_lossy(&bytes)))?;
        }
        Target::Openclaw => {
            let config = usable_config(crate::config::Config::discover(&args.file))?;
            let tool_map =
                crate::openclaw::ToolMap::with_overrides(&config.settings.openclaw_audit.tool_map);
            let target = crate::openclaw::Target::new(policy, tool_map, None)?;
            print(&crate::openclaw::compile::fragment(&target))?;
        }
    }
    Ok(Outcome::Clean)
}

use std::path::PathBuf;

use super::output::{Outcome, emit, print, usable_config};
use crate::claw::ClawVersion;
use crate::policy::hash::canonical_json;
use crate::resolve::{claw_payload, valid_policy};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (TOML), or its signed envelope (JSON).
    file: PathBuf,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = Target::Native)]
    target: Target,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Target {
    /// The canonical payload (RFC 8785 JSON): exactly the bytes that are hashed.
    #[value(alias = "json")]
    Native,
    /// The Claw protocol's WPC v1 payload (RFC 8785 JSON), see docs/claw.md.
    ClawV1,
    /// The Claw protocol's WPC v2 payload (RFC 8785 JSON), see docs/claw.md.
    ClawV2,
    /// The OpenClaw config fragment (JSON5) that realises the policy, using
    /// the tool map of the `wpc.toml` above the policy.
    Openclaw,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let policy = match valid_policy(&args.file)? {
        Ok(policy) => policy,
        Err(invalid) => return emit(invalid),
    };
    let claw = |version| claw_payload(&args.file, &policy, version);
    let bytes = match args.target {
        Target::Native => canonical_json(&policy.doc.value)?,
        Target::ClawV1 | Target::ClawV2 => {
            let version = match args.target {
                Target::ClawV1 => ClawVersion::V1,
                _ => ClawVersion::V2,
            };
            match claw(version)? {
                Ok(rendered) => rendered.bytes,
                Err(unexportable) => return emit(unexportable),
            }
        }
        Target::Openclaw => {
            let config = usable_config(crate::config::Config::discover(&args.file))?;
            let tool_map =
                crate::openclaw::ToolMap::with_overrides(&config.settings.openclaw_audit.tool_map);
            let target = crate::openclaw::Target::new(policy, tool_map, None)?;
            print(&crate::openclaw::compile::fragment(&target))?;
            return Ok(Outcome::Clean);
        }
    };
    print(&format!("{}\n", String::from_utf8_lossy(&bytes)))?;
    Ok(Outcome::Clean)
}

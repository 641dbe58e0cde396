use std::path::PathBuf;

use super::call::{CounterArgs, McpArgs};
use super::exit::Outcome;
use super::output::emit;
use crate::decide::{self, Call};
use crate::report::Format;
use crate::resolve;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 allow; 1 deny or approval required (also an invalid policy \
    or envelope, whose problems go to stderr); 2 usage or I/O error."
)]
pub struct Args {
    /// The policy file (TOML) or its signed envelope (JSON; hash and
    /// signature are verified). Lint findings do not block a decision.
    policy: PathBuf,
    /// The tool called, e.g. `repo.comment` or `mcp:github/get_issue`.
    #[arg(
        long,
        required_unless_present = "mcp_server",
        conflicts_with = "mcp_server"
    )]
    tool: Option<String>,
    /// The call's content (gates see `content`).
    #[arg(long, default_value = "", hide_default_value = true)]
    content: String,
    /// The call's arguments as a JSON object (gates see `args`).
    #[arg(long, value_name = "JSON")]
    args: Option<String>,
    /// What the call acts on: a URL, a path (gates see `target`).
    #[arg(long, default_value = "", hide_default_value = true)]
    target: String,
    /// The model of a model call (gates see `model`).
    #[arg(long, default_value = "", hide_default_value = true)]
    model: String,
    /// The model provider (gates see `provider`).
    #[arg(long, default_value = "", hide_default_value = true)]
    provider: String,
    /// The job's environment, e.g. `prod` (gates see `env`).
    #[arg(long, default_value = "", hide_default_value = true)]
    env: String,
    /// text: `VERDICT: explanation`; json: a `wpc-decision` object.
    #[arg(long, default_value_t = Format::Text, value_parser = decide::FORMATS)]
    format: Format,
    // Last: a group's help heading holds for the arguments after it.
    #[command(flatten)]
    mcp: McpArgs,
    #[command(flatten)]
    counters: CounterArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let call = Call {
        args: args
            .args
            .as_deref()
            .map(Call::args_from_json)
            .transpose()?
            .unwrap_or_default(),
        content: args.content,
        target: args.target,
        model: args.model,
        provider: args.provider,
        env: args.env,
        counters: args.counters.counters()?,
        ..args.mcp.call(args.tool)?
    };
    emit(resolve::decide(&args.policy, &call, args.format)?)
}

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Map, Value};

use super::output::{Outcome, emit};
use crate::decide::{self, Call, Counters};
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
    /// The MCP server of an MCP tool call (with --mcp-tool: the tool is
    /// `mcp:SERVER/TOOL`).
    #[arg(
        long,
        value_name = "SERVER",
        requires = "mcp_tool",
        help_heading = "MCP"
    )]
    mcp_server: Option<String>,
    /// The tool's name on its MCP server.
    #[arg(
        long,
        value_name = "TOOL",
        requires = "mcp_server",
        help_heading = "MCP"
    )]
    mcp_tool: Option<String>,
    /// The MCP server's transport: stdio, sse or streamable-http.
    #[arg(
        long,
        value_name = "TRANSPORT",
        default_value = "",
        hide_default_value = true,
        help_heading = "MCP"
    )]
    mcp_transport: String,
    /// The MCP server's URL, or its stdio command.
    #[arg(
        long,
        value_name = "URL",
        default_value = "",
        hide_default_value = true,
        help_heading = "MCP"
    )]
    mcp_url: String,
    /// The definition hash of the tool as the runtime holds it (`wpc mcp
    /// pin`); a pinned tool is denied without it.
    #[arg(
        long,
        value_name = "HEX",
        default_value = "",
        hide_default_value = true,
        help_heading = "MCP"
    )]
    definition_hash: String,
    /// Calls of TOOL so far in the current rate-limit window (repeatable).
    #[arg(long, value_name = "TOOL=N", help_heading = "Counters")]
    calls_so_far: Vec<String>,
    /// Tool calls the job made so far (budget).
    #[arg(long, value_name = "N", help_heading = "Counters")]
    tool_calls: Option<u64>,
    /// Model calls the job made so far (budget).
    #[arg(long, value_name = "N", help_heading = "Counters")]
    model_calls: Option<u64>,
    /// Input tokens the job used so far (budget).
    #[arg(long, value_name = "N", help_heading = "Counters")]
    input_tokens: Option<u64>,
    /// Output tokens the job used so far (budget).
    #[arg(long, value_name = "N", help_heading = "Counters")]
    output_tokens: Option<u64>,
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
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let tool = match (args.tool, args.mcp_server, args.mcp_tool) {
        (Some(tool), _, _) => tool,
        (None, Some(server), Some(tool)) => crate::policy::mcp::name(&server, &tool),
        // clap requires --tool or both MCP flags.
        _ => anyhow::bail!("give --tool, or --mcp-server and --mcp-tool"),
    };
    let call = Call {
        args: parse_args(args.args.as_deref())?,
        tool,
        content: args.content,
        target: args.target,
        model: args.model,
        provider: args.provider,
        env: args.env,
        mcp_transport: args.mcp_transport,
        mcp_url: args.mcp_url,
        definition_hash: args.definition_hash,
        counters: Counters {
            calls_so_far: Counters::parse_calls_so_far(&args.calls_so_far)?,
            tool_calls: args.tool_calls,
            model_calls: args.model_calls,
            input_tokens: args.input_tokens,
            output_tokens: args.output_tokens,
        },
    };
    emit(resolve::decide(&args.policy, &call, args.format)?)
}

fn parse_args(json: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    let Some(json) = json else {
        return Ok(Map::new());
    };
    match serde_json::from_str(json).context("--args is not valid JSON")? {
        Value::Object(map) => Ok(map),
        _ => anyhow::bail!("--args must be a JSON object"),
    }
}

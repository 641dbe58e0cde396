//! The argument groups of `wpc decide` that say where the call goes (its
//! MCP server) and what the job has done so far (its counters), each under
//! its own heading in `--help`.

use crate::decide::{Call, CounterError, Counters};
use crate::policy::mcp;

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "MCP")]
pub struct McpArgs {
    /// The MCP server of an MCP tool call (with --mcp-tool: the tool is
    /// `mcp:SERVER/TOOL`).
    #[arg(long, value_name = "SERVER", requires = "mcp_tool")]
    mcp_server: Option<String>,
    /// The tool's name on its MCP server.
    #[arg(long, value_name = "TOOL", requires = "mcp_server")]
    mcp_tool: Option<String>,
    /// The MCP server's transport: stdio, sse or streamable-http.
    #[arg(long, value_name = "TRANSPORT")]
    mcp_transport: Option<String>,
    /// The MCP server's URL, or its stdio command.
    #[arg(long, value_name = "URL")]
    mcp_url: Option<String>,
    /// The definition hash of the tool as the runtime holds it (`wpc mcp
    /// pin`); a pinned tool is denied without it.
    #[arg(long, value_name = "HEX")]
    definition_hash: Option<String>,
}

impl McpArgs {
    /// The call to `--tool`, else to `mcp:SERVER/TOOL`, with what it says
    /// of its server; the other fields are the caller's.
    pub fn call(self, tool: Option<String>) -> anyhow::Result<Call> {
        let tool = match (tool, self.mcp_server, self.mcp_tool) {
            (Some(tool), _, _) => tool,
            (None, Some(server), Some(tool)) => mcp::name(&server, &tool),
            // clap requires --tool or both MCP flags.
            _ => anyhow::bail!("give --tool, or --mcp-server and --mcp-tool"),
        };
        Ok(Call {
            mcp_transport: self.mcp_transport.unwrap_or_default(),
            mcp_url: self.mcp_url.unwrap_or_default(),
            definition_hash: self.definition_hash.unwrap_or_default(),
            ..Call::tool(tool)
        })
    }
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Counters")]
pub struct CounterArgs {
    /// Calls of TOOL so far in the current rate-limit window (repeatable).
    #[arg(long, value_name = "TOOL=N")]
    calls_so_far: Vec<String>,
    /// Tool calls the job made so far (budget).
    #[arg(long, value_name = "N")]
    tool_calls: Option<u64>,
    /// Model calls the job made so far (budget).
    #[arg(long, value_name = "N")]
    model_calls: Option<u64>,
    /// Input tokens the job used so far (budget).
    #[arg(long, value_name = "N")]
    input_tokens: Option<u64>,
    /// Output tokens the job used so far (budget).
    #[arg(long, value_name = "N")]
    output_tokens: Option<u64>,
}

impl CounterArgs {
    pub fn counters(self) -> Result<Counters, CounterError> {
        Ok(Counters {
            calls_so_far: Counters::parse_calls_so_far(&self.calls_so_far)?,
            tool_calls: self.tool_calls,
            model_calls: self.model_calls,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
        })
    }
}

use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit;
use crate::policy::mcp;
use crate::report::Format;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the pins of every tool of a saved MCP `tools/list` response:
    /// exit 0 printed, 1 not a valid response, 2 usage or I/O.
    Pin(PinArgs),
}

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// The server's `tools/list` response (the JSON-RPC response, or its
    /// `result`), saved as JSON.
    response: PathBuf,
    /// The server's name in the policy (`constraints.mcp.servers[].name`).
    #[arg(long, value_name = "NAME", value_parser = server_name)]
    server: String,
    /// text: the `[constraints.mcp.pinned_tools]` table; json: a
    /// `wpc-mcp-pins` object.
    #[arg(long, default_value_t = Format::Text, value_parser = mcp::FORMATS)]
    format: Format,
}

/// `--server` is not an MCP server name.
#[derive(Debug, thiserror::Error)]
#[error("a server name is 1 to 64 letters, digits, `_`, `.` or `-`, not starting with `.`")]
struct NotAServerName;

fn server_name(name: &str) -> Result<String, NotAServerName> {
    if mcp::is_server_name(name) {
        Ok(name.to_owned())
    } else {
        Err(NotAServerName)
    }
}

pub fn run(Command::Pin(args): Command) -> anyhow::Result<Outcome> {
    emit(mcp::pin_output(&args.response, &args.server, args.format)?)
}

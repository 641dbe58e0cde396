use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::args::{FreshnessArgs, Place};
use super::exit::Outcome;
use super::load::open;
use super::output::emit;
use crate::serve::{self, CacheLimits, Plan, Source};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 stopped by SIGTERM or Ctrl-C, or exported; 1 the release \
    branch does not verify; 2 usage, configuration, Git or I/O error."
)]
pub struct Args {
    /// The repository (any folder in it, or a bare repository).
    #[arg(value_name = "REPO", default_value = ".")]
    repo: PathBuf,
    /// The release branch. Default: `[release] branch` in `wpc.toml`, else
    /// `wpc-releases`.
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// The folder holding `wpc.toml`, relative to the repository root.
    #[arg(long, value_name = "DIR")]
    root: Option<String>,
    #[command(flatten)]
    freshness: FreshnessArgs,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = serve::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Allow a --listen address that is not loopback.
    #[arg(long)]
    public: bool,
    /// Write the registry as static files to DIR (replacing an earlier
    /// export there) and exit, instead of serving.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["listen", "public"])]
    export: Option<PathBuf>,
    /// KiB of rendered policy bodies kept in memory (bodies not kept are
    /// read from the repository and checked again); 0 keeps none.
    #[arg(long, value_name = "KIB", default_value_t = CacheLimits::DEFAULT_BODY_BYTES / 1024, conflicts_with = "export")]
    body_cache_kib: u64,
    /// Compiled policies (one per version decided on) kept in memory;
    /// 0 keeps none.
    #[arg(long, value_name = "N", default_value_t = CacheLimits::DEFAULT_ENGINES, conflicts_with = "export")]
    engine_cache: usize,
    /// Milliseconds a client gets to send its request line and headers.
    #[arg(long, value_name = "MS", hide = true)]
    header_timeout_ms: Option<u64>,
    /// Milliseconds a request gets to be read and answered.
    #[arg(long, value_name = "MS", hide = true)]
    request_timeout_ms: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let place = Place {
        branch: args.branch,
        repo: args.repo,
        root: args.root,
    };
    let (repo, release) = open(&place)?;
    let source = Source {
        repo: repo.location().to_path_buf(),
        release,
        freshness: args.freshness.freshness(),
    };
    drop(repo);
    emit(match &args.export {
        Some(dir) => serve::export(&source, dir)?,
        None => {
            let plan = Plan {
                listen: args.listen,
                public: args.public,
                body_cache_kib: args.body_cache_kib,
                engine_cache: args.engine_cache,
                header_timeout_ms: args.header_timeout_ms,
                request_timeout_ms: args.request_timeout_ms,
            };
            serve::run(source, &plan, Arc::new(log_line))?
        }
    })
}

/// The access log and events: JSON lines on stderr.
fn log_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

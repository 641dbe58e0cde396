//! The command line: clap definitions and one small module per subcommand.
//! Each parses its arguments, calls the library and renders the result; this
//! is the only layer that prints.
//!
//! Exit codes, the same for every command and format: 0 clean, 1 findings or
//! a failed verification, 2 usage, configuration or I/O errors.

mod args;
mod audit;
mod bundle;
mod check;
mod ci;
mod compile;
mod completions;
mod cst;
mod decide;
mod diff;
mod fetch;
mod fmt;
mod hash;
mod init;
mod keygen;
mod log;
mod man;
mod mcp;
mod new;
mod pr;
mod release;
mod replay;
mod revoke;
mod rule;
mod serve;
mod sign;
mod test;
mod verify;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Git-native policy-as-code for the Work Policy Contracts that govern AI agents.
#[derive(Debug, Parser)]
#[command(
    name = "wpc",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Schema-check and lint policies and the repository config.
    Check(check::Args),
    /// Everything CI checks (check, test, audit), in one report.
    Ci(ci::Args),
    /// Rewrite policies in the canonical layout (or check that they are).
    Fmt(fmt::Args),
    /// Print a policy's hash (policy_hash_b64u).
    Hash(hash::Args),
    /// Print a policy's canonical payload (RFC 8785 JSON).
    Compile(compile::Args),
    /// Show a rule's documentation, or list the rules.
    Rule(rule::Args),
    /// Decide one tool call: allow (exit 0), deny or approval (exit 1).
    Decide(decide::Args),
    /// Run the policy tests (NAME.test.toml) and print `N passed, N failed`.
    Test(test::Args),
    /// Write a new policy and its test file from a template.
    New(new::Args),
    /// Create a policy repository: config, a policy, its test, CI and hooks.
    Init(init::Args),
    /// Generate an Ed25519 signing key and print its did:key.
    Keygen(keygen::Args),
    /// Sign a policy (work_policy_contract) or, with --artifact, any file (artifact_digest).
    Sign(sign::Args),
    /// Verify signed WPC envelopes: exit 0 valid, 1 invalid, 2 unreadable.
    Verify(verify::Args),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the man page (roff).
    Man(man::Args),
    /// Semantic diff of the policies between two Git revisions: exit 1 when
    /// something widens.
    Diff(diff::Args),
    /// The approval bot: comment on a pull request with its policy diff and
    /// set the `wpc/approval` commit status.
    Pr(pr::Args),
    /// Audit agent runtime configs (OpenClaw) for footguns and WPC conformance.
    Audit(audit::Args),
    /// Verify Claw protocol proof bundles, alone or under a policy.
    Bundle(bundle::Args),
    /// Check Claw scoped tokens (CST) against a policy.
    Cst(cst::Args),
    /// MCP tools: pin their definitions (`wpc mcp pin`).
    Mcp(mcp::Args),
    /// Release the policies changed since the last release: check, sign and
    /// append them to the release branch (`wpc release verify` checks it).
    Release(release::Args),
    /// Decide the calls recorded in proof bundles under the policy they
    /// claim and the working one: which decisions would change.
    Replay(replay::Args),
    /// Revoke a released policy hash: a signed entry on the release branch.
    Revoke(revoke::Args),
    /// Print the verified envelope of a released hash (exit 1 if it does
    /// not verify or is revoked).
    Fetch(fetch::Args),
    /// Show the release history of the policies (hashes, commits, PRs,
    /// approvers, revocations), newest first.
    Log(log::Args),
    /// Serve the release branch as a Claw-compatible WPC registry and
    /// decision point, or export it as static files.
    Serve(serve::Args),
}

/// Exit status of a command that ran to completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report (exit 0).
    Clean,
    /// Findings or a failed verification (exit 1).
    Failed,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
        }
    }
}

/// Usage, configuration and I/O errors: exit 2.
pub const EXIT_ERROR: u8 = 2;

/// Run the CLI on the process's arguments.
pub fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2, as documented.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Ci(args) => ci::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Hash(args) => hash::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Rule(args) => rule::run(args),
        Command::Decide(args) => decide::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Test(args) => test::run(args),
        Command::Replay(args) => replay::run(args),
        Command::New(args) => new::run(args),
        Command::Init(args) => init::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Pr(args) => pr::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Bundle(args) => bundle::run(args),
        Command::Cst(args) => cst::run(args),
        Command::Release(args) => release::run(args),
        Command::Revoke(args) => revoke::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Log(args) => log::run(args),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            let mut stderr = anstream::stderr();
            // Nothing sensible is left to do if stderr is gone.
            let _ = writeln!(stderr, "error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The config for a command that acts on it (every one but `check` and
/// `ci`): warnings go to stderr and the command goes on; errors go to stderr
/// and stop it with exit 2, like any other configuration error.
fn usable_config(
    loaded: Result<
        (crate::config::Config, Vec<crate::report::Finding>),
        crate::config::ConfigError,
    >,
) -> anyhow::Result<crate::config::Config> {
    use crate::report::Report;
    match crate::config::usable(loaded) {
        Ok(usable) => {
            if !usable.warnings.is_empty() {
                eprint(&Report::new(usable.warnings, 1).text(false, false));
            }
            Ok(usable.config)
        }
        Err(err) => {
            if let crate::config::ConfigError::Invalid { findings, .. } = &err {
                eprint(&Report::new(findings.clone(), 1).text(false, false));
            }
            Err(err.into())
        }
    }
}

/// Colour for text on stdout: only on a terminal, never with `NO_COLOR`.
fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Write to stdout; a closed pipe (`wpc check | head`) is not an error worth
/// a message, but any other failure is.
fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// Write to stderr (diagnostics that must not mix with machine output).
fn eprint(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// A release branch that breaks a trust rule is exit 1 with its reason; any
/// other error is exit 2.
fn rejected_or(err: crate::release::ReleaseError) -> anyhow::Result<Outcome> {
    if err.is_rejection() {
        eprint(&format!("error: {err}\n"));
        Ok(Outcome::Failed)
    } else {
        Err(err.into())
    }
}

/// Bundles read without `[bundles] gateway_signers` trusted any signer.
fn warn_unchecked_gateways(checked: bool) {
    if !checked {
        eprint(
            "warning: no gateway signers configured ([bundles] gateway_signers): any valid \
             gateway receipt signer was accepted\n",
        );
    }
}

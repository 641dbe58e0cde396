//! Every command: its one-line help, and the module that runs it.

use clap::Subcommand;

use super::exit::Outcome;
use super::{
    audit, bundle, check, ci, compile, completions, cst, decide, diff, fetch, fmt, hash, init,
    keygen, log, man, mcp, new, pr, release, replay, revoke, rule, serve, sign, test, verify,
};

#[derive(Debug, Subcommand)]
pub enum Command {
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
    #[command(subcommand)]
    Audit(audit::Target),
    /// Verify Claw protocol proof bundles, alone or under a policy.
    #[command(subcommand)]
    Bundle(bundle::Command),
    /// Check Claw scoped tokens (CST) against a policy.
    #[command(subcommand)]
    Cst(cst::Command),
    /// MCP tools: pin their definitions (`wpc mcp pin`).
    #[command(subcommand)]
    Mcp(mcp::Command),
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

impl Command {
    /// Run the command; the caller maps the result to the exit code.
    pub fn run(self) -> anyhow::Result<Outcome> {
        match self {
            Command::Check(args) => check::run(args),
            Command::Ci(args) => ci::run(args),
            Command::Fmt(args) => fmt::run(args),
            Command::Hash(args) => hash::run(args),
            Command::Compile(args) => compile::run(args),
            Command::Rule(args) => rule::run(args),
            Command::Decide(args) => decide::run(args),
            Command::Mcp(command) => mcp::run(command),
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
            Command::Audit(command) => audit::run(command),
            Command::Bundle(command) => bundle::run(command),
            Command::Cst(command) => cst::run(command),
            Command::Release(args) => release::run(args),
            Command::Revoke(args) => revoke::run(args),
            Command::Fetch(args) => fetch::run(args),
            Command::Log(args) => log::run(args),
            Command::Serve(args) => serve::run(args),
        }
    }
}

//! The pull-request approval bot (docs/bot.md): the semantic diff of a pull
//! request from where it forked, `wpc check` of every policy at its head
//! under the base's lint settings, the approvals the base's `[approvals]`
//! require counted from the reviews GitHub has, and the "Impact on recorded
//! runs" when bundles are configured; one sticky comment and one commit
//! status say all of it.
//!
//! Who can write what: the pull request's author writes the head, so the
//! head's `wpc.toml` decides nothing here (approval rules, lint settings
//! and bundle paths all come from the base); approvals count only from
//! each reviewer's latest review of the head commit, never the author's.

pub mod command;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::bundle::batch::BatchError;
use crate::config::Config;
use crate::diff::{self, DiffError, PatternError, RevisionDiff, approvals};
use crate::error::error_enum;
use crate::git::{GitError, Oid, Repo};
use crate::github::{self, Client, GithubError, RepoName, State};
use crate::lint;
use crate::replay::{self, ReplayError, versions::Revisions};
use crate::report::{Finding, Severity};
use crate::revision::{self, RootError};

/// The hidden line that finds the bot's comment again.
pub const MARKER: &str = "<!-- wpc:approval -->";
/// The commit status the bot sets.
pub const CONTEXT: &str = "wpc/approval";
/// Findings quoted in the comment when policies fail the check.
const MAX_QUOTED_FINDINGS: usize = 20;

error_enum! {
    pub enum BotError {
        Github(GithubError),
        Git(GitError),
        Root(RootError),
        Diff(DiffError),
        Approvals(PatternError),
        Replay(ReplayError),
        #[error(
            "commit {sha} of {repo}#{number} is not in the local repository: fetch it (actions/checkout with fetch-depth: 0)"
        )]
        MissingCommit {
            sha: String,
            repo: String,
            number: u64,
        },
    }
}

/// One run of the bot on one pull request.
#[derive(Debug)]
pub struct Request<'a> {
    pub repo: &'a RepoName,
    pub number: u64,
    /// The local clone holding both the base and the head commits.
    pub git_dir: &'a Path,
    /// The folder holding `wpc.toml`, relative to the repository root;
    /// found at the base when not given.
    pub root: Option<&'a str>,
    /// Bundles to replay; `[bundles] replay` of the base when not given.
    pub replay: Option<&'a str>,
}

/// What the bot did.
#[derive(Debug)]
pub struct Outcome {
    pub state: State,
    /// The diff, the approvals and the status, for the log.
    pub summary: String,
    /// Problems reading either revision.
    pub findings: Vec<Finding>,
    /// Whether replayed bundles had their gateway signers checked (`None`
    /// when nothing was replayed).
    pub gateway_signers_checked: Option<bool>,
}

/// Judge the pull request, post (or update) the comment and set the status.
pub async fn run(client: &Client, request: &Request<'_>) -> Result<Outcome, BotError> {
    let (repo_name, number) = (request.repo, request.number);
    let pr = client.pull_request(repo_name, number).await?;

    let repo = Repo::discover(request.git_dir)?;
    let resolve = |sha: &str| {
        repo.resolve(sha).map_err(|_| BotError::MissingCommit {
            sha: sha.to_owned(),
            repo: repo_name.to_string(),
            number,
        })
    };
    let base_tip = resolve(&pr.base.sha)?;
    let head = resolve(&pr.head.sha)?;
    // The change is what the branch adds to where it forked, not the
    // difference to wherever the base branch has moved since.
    let base = repo.merge_base(base_tip, head)?;
    let root = match request.root {
        Some(root) => root.to_owned(),
        None => revision::find_root(&repo, base, request.git_dir)?,
    };
    let diff = diff::diff_revisions(&repo, base, head, &root)?;
    let errors = head_errors(&repo, head, &root, &diff)?;

    let required = diff.requirements()?;
    let reviews = client.reviews(repo_name, number).await?;
    let approvers = github::current_approvers(&reviews, &pr.user.login, &pr.head.sha);
    let teams = approvals::teams(&required);
    let mut counted = Vec::new();
    for login in approvers {
        let mut member_of = Vec::new();
        for team in &teams {
            if client.is_team_member(team, &login).await? {
                member_of.push(team.clone());
            }
        }
        counted.push(approvals::Approval {
            login,
            teams: member_of,
        });
    }
    let statuses = approvals::evaluate(&required, &counted);
    let (state, description) = status(&errors, &statuses);

    let mut body = format!("{MARKER}\n");
    body.push_str(&diff::render::markdown(&diff, &statuses, true));
    let mut gateway_signers_checked = None;
    let replay_glob = request
        .replay
        .or(diff.config.settings.bundles.replay.as_deref());
    if let Some(glob) = replay_glob {
        let place = ReplayPlace {
            repo: &repo,
            base,
            head,
            root: &root,
            git_dir: request.git_dir,
        };
        let (section, checked) = impact(&place, glob, &diff.config)?;
        gateway_signers_checked = checked;
        body.push('\n');
        body.push_str(&section);
    }
    quote_errors(&mut body, &errors);
    let _ = write!(
        body,
        "\n---\n`{CONTEXT}`: **{}** ({description}). Approvals count from each reviewer's latest review of the head commit; dismissed reviews, reviews of earlier commits and the author's own never count.\n",
        state.as_str()
    );
    let comment = client
        .upsert_comment(repo_name, number, MARKER, &body)
        .await?;
    client
        .set_status(
            repo_name,
            &pr.head.sha,
            state,
            CONTEXT,
            &description,
            Some(&comment.html_url),
        )
        .await?;

    let mut summary = diff::render::text(&diff, &statuses, true);
    let _ = writeln!(
        summary,
        "\n{CONTEXT}: {} ({description})\ncomment: {}",
        state.as_str(),
        comment.html_url
    );
    Ok(Outcome {
        state,
        summary,
        findings: diff.findings,
        gateway_signers_checked,
    })
}

/// The errors of `wpc check` over every policy at the head, under the
/// base's lint settings: a change cannot relax the rules it is checked by.
fn head_errors(
    repo: &Repo,
    head: Oid,
    root: &str,
    diff: &RevisionDiff,
) -> Result<Vec<Finding>, GitError> {
    let (_, head_policies, mut loading) = revision::policies_at(repo, head, root)?;
    loading.extend(diff.findings.iter().cloned());
    loading.sort_by_key(Finding::position);
    loading.dedup();
    let check = lint::check_policies(&diff.config, loading, &head_policies, head_policies.len());
    Ok(check
        .findings()
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect())
}

/// The commit status: failure on policy errors at the head, pending while
/// approvals are missing, else success.
fn status(errors: &[Finding], statuses: &[approvals::RequirementStatus]) -> (State, String) {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let missing: u32 = statuses.iter().map(|s| s.missing).sum();
    if !errors.is_empty() {
        (
            State::Failure,
            format!(
                "{} policy error{} at the head: see the comment",
                errors.len(),
                plural(errors.len())
            ),
        )
    } else if missing > 0 {
        let unmet: Vec<String> = statuses
            .iter()
            .filter(|s| !s.met())
            .map(|s| format!("{} {}", s.requirement.class.as_str(), s.missing))
            .collect();
        (
            State::Pending,
            format!(
                "{missing} more approval{} needed ({})",
                plural(missing as usize),
                unmet.join(", ")
            ),
        )
    } else if statuses.is_empty() {
        (State::Success, "no approval required".to_owned())
    } else {
        (
            State::Success,
            "every required approval is present".to_owned(),
        )
    }
}

fn quote_errors(body: &mut String, errors: &[Finding]) {
    if errors.is_empty() {
        return;
    }
    body.push_str("\n#### Policies that fail `wpc check`\n\n");
    for finding in errors.iter().take(MAX_QUOTED_FINDINGS) {
        let _ = writeln!(
            body,
            "- `{}` {}: {}",
            finding.position(),
            finding.code,
            finding.one_line()
        );
    }
    if errors.len() > MAX_QUOTED_FINDINGS {
        let _ = writeln!(body, "- … and {} more", errors.len() - MAX_QUOTED_FINDINGS);
    }
}

/// Where the pull request's bundles are replayed.
struct ReplayPlace<'a> {
    repo: &'a Repo,
    base: Oid,
    head: Oid,
    root: &'a str,
    git_dir: &'a Path,
}

/// The "Impact on recorded runs" section: the bundles `glob` names under
/// the PR's base and head, and whether their gateway signers were checked.
/// A glob that matches nothing yet says so rather than failing the bot.
fn impact(
    place: &ReplayPlace<'_>,
    glob: &str,
    config: &Config,
) -> Result<(String, Option<bool>), BotError> {
    // Bundle paths are matched as written: no `./` in front of them.
    let mut folder = PathBuf::new();
    if place.git_dir != Path::new(".") {
        folder.push(place.git_dir);
    }
    folder.push(place.root);
    let pattern = folder.join(glob).to_string_lossy().into_owned();
    let versions = Revisions::new(place.repo, place.base, place.head, place.root, None)?;
    match replay::replay_globs(&[pattern], config, replay::DEFAULT_EXAMPLES, |hash| {
        versions.resolve(hash)
    }) {
        Ok(replayed) => Ok((
            replay::render::markdown(&replayed.impact, replayed.counted),
            Some(replayed.gateway_signers_checked),
        )),
        Err(ReplayError::Bundles(BatchError::NoMatch(_))) => Ok((
            format!("### Impact on recorded runs\n\nNo proof bundle matches `{glob}` yet.\n"),
            None,
        )),
        Err(err) => Err(err.into()),
    }
}

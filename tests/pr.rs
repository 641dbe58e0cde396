//! End-to-end tests of `wpc pr` against an in-process mock of the GitHub
//! REST API (wiremock), with response bodies shaped like GitHub's documented
//! JSON, on real Git repositories built with git2.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use support::{TestRepo, example, example_repo, stderr, stdout};
use wiremock::matchers::{body_partial_json, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OWNER_REPO: &str = "acme/policies";
const NUMBER: u64 = 7;
const REVIEWER: &str = "policies/agent-change-reviewer.toml";

fn user(login: &str) -> Value {
    json!({
        "login": login, "id": login.len(), "node_id": "MDQ6VXNlcjE=",
        "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "type": "User", "site_admin": false
    })
}

fn pull(base: &str, head: &str) -> Value {
    let side = |name: &str, sha: &str| {
        json!({
            "label": format!("acme:{name}"), "ref": name, "sha": sha, "user": user("acme"),
            "repo": { "id": 1, "name": "policies", "full_name": OWNER_REPO, "private": true }
        })
    };
    json!({
        "url": format!("https://api.github.com/repos/{OWNER_REPO}/pulls/{NUMBER}"),
        "id": 1, "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
        "html_url": format!("https://github.com/{OWNER_REPO}/pull/{NUMBER}"),
        "number": NUMBER, "state": "open", "locked": false, "draft": false,
        "title": "Widen the reviewer", "user": user("author"), "body": "Please review.",
        "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z",
        "base": side("main", base), "head": side("widen", head),
        "author_association": "MEMBER", "merged": false, "mergeable": true
    })
}

fn review(id: u64, login: &str, state: &str, commit: &str) -> Value {
    json!({
        "id": id, "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3MQ==", "user": user(login),
        "body": "", "state": state, "commit_id": commit,
        "html_url": format!("https://github.com/{OWNER_REPO}/pull/{NUMBER}#pullrequestreview-{id}"),
        "pull_request_url": format!("https://api.github.com/repos/{OWNER_REPO}/pulls/{NUMBER}"),
        "author_association": "MEMBER", "submitted_at": "2026-11-20T11:00:00Z"
    })
}

fn comment(id: u64, body: &str) -> Value {
    let mut bot = user("github-actions[bot]");
    bot["type"] = json!("Bot");
    comment_by(id, body, bot)
}

fn comment_by(id: u64, body: &str, author: Value) -> Value {
    json!({
        "id": id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
        "url": format!("https://api.github.com/repos/{OWNER_REPO}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{OWNER_REPO}/pull/{NUMBER}#issuecomment-{id}"),
        "issue_url": format!("https://api.github.com/repos/{OWNER_REPO}/issues/{NUMBER}"),
        "body": body, "user": author,
        "created_at": "2026-11-20T10:01:00Z", "updated_at": "2026-11-20T10:01:00Z",
        "author_association": "NONE"
    })
}

fn status_answer(state: &str) -> Value {
    json!({
        "url": "https://api.github.com/repos/acme/policies/statuses/x", "id": 1,
        "node_id": "MDY6U3RhdHVzMQ==", "state": state, "description": "",
        "target_url": null, "context": "wpc/approval",
        "created_at": "2026-11-20T10:01:00Z", "updated_at": "2026-11-20T10:01:00Z"
    })
}

/// The mock API, optionally under a path prefix (`/api/v3` for GitHub
/// Enterprise Server).
struct Github {
    server: MockServer,
    prefix: &'static str,
}

impl Github {
    async fn start(prefix: &'static str) -> Github {
        Github {
            server: MockServer::start().await,
            prefix,
        }
    }

    fn url(&self) -> String {
        format!("{}{}", self.server.uri(), self.prefix)
    }

    fn at(&self, verb: &str, route: &str) -> wiremock::MockBuilder {
        Mock::given(method(verb)).and(path(format!("{}{route}", self.prefix)))
    }

    async fn pull(&self, base: &str, head: &str) {
        self.at("GET", &format!("/repos/{OWNER_REPO}/pulls/{NUMBER}"))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull(base, head)))
            .mount(&self.server)
            .await;
    }

    async fn reviews(&self, reviews: Value) {
        self.at(
            "GET",
            &format!("/repos/{OWNER_REPO}/pulls/{NUMBER}/reviews"),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(reviews))
        .mount(&self.server)
        .await;
    }

    async fn members(&self, team: &str, logins: &[&str]) {
        for login in logins {
            self.at(
                "GET",
                &format!("/orgs/acme/teams/{team}/memberships/{login}"),
            )
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "url": format!("https://api.github.com/teams/1/memberships/{login}"),
                "role": "member", "state": "active"
            })))
            .mount(&self.server)
            .await;
        }
        // Everyone else: GitHub's 404 for a non-member.
        Mock::given(method("GET"))
            .and(path_regex(format!(
                "^{}/orgs/acme/teams/{team}/memberships/[^/]+$",
                self.prefix
            )))
            .respond_with(not_found())
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    async fn comments(&self, existing: Value) {
        self.at(
            "GET",
            &format!("/repos/{OWNER_REPO}/issues/{NUMBER}/comments"),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(existing))
        .mount(&self.server)
        .await;
    }

    /// Creating a comment is expected `times` times.
    async fn create_comment(&self, times: u64) {
        self.at(
            "POST",
            &format!("/repos/{OWNER_REPO}/issues/{NUMBER}/comments"),
        )
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(1, "created")))
        .expect(times)
        .mount(&self.server)
        .await;
    }

    async fn edit_comment(&self, id: u64, times: u64) {
        self.at(
            "PATCH",
            &format!("/repos/{OWNER_REPO}/issues/comments/{id}"),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(comment(id, "edited")))
        .expect(times)
        .mount(&self.server)
        .await;
    }

    /// The status must be set once, in `state`.
    async fn status(&self, head: &str, state: &str) {
        self.at("POST", &format!("/repos/{OWNER_REPO}/statuses/{head}"))
            .and(body_partial_json(
                json!({ "state": state, "context": "wpc/approval" }),
            ))
            .respond_with(ResponseTemplate::new(201).set_body_json(status_answer(state)))
            .expect(1)
            .mount(&self.server)
            .await;
    }

    /// The bodies of the comments written (created or edited).
    async fn written_comments(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| {
                (r.method.as_str() == "POST" && r.url.path().ends_with("/comments"))
                    || r.method.as_str() == "PATCH"
            })
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                body["body"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404"
    }))
}

/// `wpc pr --repo acme/policies --pr 7` in the clone at `dir`.
fn bot(dir: &Path, api: &str) -> Output {
    support::wpc(dir)
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_EVENT_PATH")
        .env("GITHUB_TOKEN", "ghs_test")
        .env("GITHUB_API_URL", api)
        .args(["pr", "--repo", OWNER_REPO, "--pr", &NUMBER.to_string()])
        .output()
        .unwrap()
}

/// A clone with the example policies at `base` and `edit` applied to the
/// reviewer policy at `head`.
fn clone_with(edit: impl Fn(String) -> String) -> (TestRepo, String, String) {
    let mut repo = TestRepo::new(false);
    let files = example_repo();
    let changes: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), Some(t.as_str())))
        .collect();
    let base = repo.commit(&changes);
    let head = repo.commit(&[(REVIEWER, Some(&edit(example(REVIEWER))))]);
    (repo, base, head)
}

/// A widening (high, not critical): a longer token lifetime.
fn widened() -> (TestRepo, String, String) {
    clone_with(|t| t.replace("max_ttl_seconds = 1800", "max_ttl_seconds = 3600"))
}

#[tokio::test]
async fn first_run_comments_and_sets_pending_then_a_team_approval_edits_it_to_success() {
    let (repo, base, head) = widened();

    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.edit_comment(1, 0).await;
    github.status(&head, "pending").await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("wpc/approval: pending (1 more approval needed (widening 1))"));
    let written = github.written_comments().await;
    assert_eq!(written.len(), 1);
    assert!(written[0].starts_with("<!-- wpc:approval -->\n"));
    insta::assert_snapshot!("pending_comment", written[0]);
    github.server.verify().await;

    // Second run: sec1 of acme/security approved the head commit; the comment
    // the first run wrote is found by its marker and edited in place.
    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github
        .reviews(json!([review(10, "sec1", "APPROVED", &head)]))
        .await;
    github.members("security", &["sec1"]).await;
    github.members("platform", &[]).await;
    github
        .comments(json!([
            comment(5, "LGTM"),
            // Planted by someone else, before the bot's: not taken over.
            comment_by(3, "<!-- wpc:approval --> fake", user("mallory")),
            comment(1, &written[0]),
        ]))
        .await;
    github.create_comment(0).await;
    github.edit_comment(3, 0).await;
    github.edit_comment(1, 1).await;
    github.status(&head, "success").await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = github.written_comments().await;
    insta::assert_snapshot!("approved_comment", written[0]);
    github.server.verify().await;
}

#[tokio::test]
async fn the_authors_own_approval_and_dismissed_or_stale_reviews_do_not_count() {
    let (repo, base, head) = widened();
    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github
        .reviews(json!([
            review(1, "author", "APPROVED", &head),
            review(2, "sec1", "APPROVED", &head),
            review(3, "sec1", "DISMISSED", &head),
            review(4, "sec2", "APPROVED", &base),
        ]))
        .await;
    // All three are in the team: only the reviews' standing decides.
    github
        .members("security", &["author", "sec1", "sec2"])
        .await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.status(&head, "pending").await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    github.server.verify().await;
    // No membership was looked up: nobody's approval stands.
    let lookups = github
        .server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().contains("/memberships/"))
        .count();
    assert_eq!(lookups, 0);
}

#[tokio::test]
async fn a_narrowing_needs_no_approval_on_github_enterprise_from_an_event() {
    let (repo, base, head) =
        clone_with(|t| t.replace("max_ttl_seconds = 1800", "max_ttl_seconds = 600"));
    let github = Github::start("/api/v3").await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.status(&head, "success").await;

    let event = tempfile::NamedTempFile::new().unwrap();
    let payload =
        json!({ "action": "synchronize", "number": NUMBER, "pull_request": pull(&base, &head) });
    std::fs::write(event.path(), payload.to_string()).unwrap();
    let out = support::wpc(repo.path())
        .env("GITHUB_TOKEN", "ghs_test")
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_REPOSITORY", OWNER_REPO)
        .env("GITHUB_EVENT_PATH", event.path())
        .arg("pr")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("wpc/approval: success (no approval required)"));
    github.server.verify().await;
}

#[tokio::test]
async fn a_policy_that_fails_the_check_sets_failure() {
    let (repo, base, head) =
        clone_with(|t| t.replace(r#"elevated_exec = "deny""#, r#"elevated_exec = "allow""#));
    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.status(&head, "failure").await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let written = github.written_comments().await;
    assert!(
        written[0].contains("#### Policies that fail `wpc check`"),
        "{}",
        written[0]
    );
    assert!(written[0].contains("WPC"), "{}", written[0]);
    github.server.verify().await;
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried() {
    let (repo, base, head) = widened();
    let github = Github::start("").await;
    github
        .at("GET", &format!("/repos/{OWNER_REPO}/pulls/{NUMBER}"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&github.server)
        .await;
    // GitHub's primary rate limit: a 403 with no requests remaining, whose
    // reset time has already come.
    github
        .at("GET", &format!("/repos/{OWNER_REPO}/pulls/{NUMBER}/reviews"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "1700000000")
                .set_body_json(json!({
                    "message": "API rate limit exceeded for installation ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&github.server)
        .await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.status(&head, "pending").await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    github.server.verify().await;
}

#[tokio::test]
async fn a_forbidden_status_names_the_permission_the_token_needs() {
    let (repo, base, head) = widened();
    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github
        .at("POST", &format!("/repos/{OWNER_REPO}/statuses/{head}"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
            "status": "403"
        })))
        .expect(1)
        .mount(&github.server)
        .await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr(&out);
    assert!(
        stderr.contains(
            "(403: Resource not accessible by integration): the token needs `statuses: write`"
        ),
        "{stderr}"
    );
    github.server.verify().await;
}

#[tokio::test]
async fn a_missing_pull_request_or_token_is_a_clear_error() {
    let (repo, _, _) = widened();
    let github = Github::start("").await;
    github
        .at("GET", &format!("/repos/{OWNER_REPO}/pulls/{NUMBER}"))
        .respond_with(not_found())
        .mount(&github.server)
        .await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("it needs `pull-requests: read`"),
        "{}",
        stderr(&out)
    );

    let out = support::wpc(repo.path())
        .env_remove("GITHUB_TOKEN")
        .args(["pr", "--repo", OWNER_REPO, "--pr", "7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("GITHUB_TOKEN is not set"));
}

#[tokio::test]
async fn a_rejected_token_or_an_event_that_is_no_pull_request_is_a_clear_error() {
    let (repo, _, _) = widened();
    let github = Github::start("").await;
    github
        .at("GET", &format!("/repos/{OWNER_REPO}/pulls/{NUMBER}"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })))
        .expect(1)
        .mount(&github.server)
        .await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("GitHub rejected the token (401: Bad credentials)"),
        "{}",
        stderr(&out)
    );
    github.server.verify().await;

    let event = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(event.path(), r#"{"ref": "refs/heads/main", "commits": []}"#).unwrap();
    let out = support::wpc(repo.path())
        .env("GITHUB_TOKEN", "ghs_test")
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_REPOSITORY", OWNER_REPO)
        .env("GITHUB_EVENT_PATH", event.path())
        .arg("pr")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a pull request event"),
        "{}",
        stderr(&out)
    );
}

/// The files `wpc init` writes, as (path, text).
fn init_files() -> Vec<(String, String)> {
    let dir = support::init_repo();
    let root = dir.path();
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let path = e.path().strip_prefix(root).unwrap();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (path.to_string_lossy().into_owned(), text)
        })
        .collect()
}

/// A fresh `wpc init` repository (with its wpc.toml replaced by `config`
/// when given) and a head commit that moves `exec` from deny to allow.
fn exec_allowed_in_fresh_repo(config: Option<&str>) -> (TestRepo, String, String) {
    let mut repo = TestRepo::new(false);
    let mut files = init_files();
    if let Some(config) = config {
        files.retain(|(path, _)| path != "wpc.toml");
        files.push(("wpc.toml".to_owned(), config.to_owned()));
    }
    let policy = files
        .iter()
        .find(|(path, _)| path == REVIEWER)
        .map(|(_, text)| text.clone())
        .unwrap();
    let changes: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), Some(t.as_str())))
        .collect();
    let base = repo.commit(&changes);
    // Gated, so the head passes `wpc check` and only approvals decide.
    let widened = policy
        .replace(r#"allow = ["read","#, r#"allow = ["exec", "read","#)
        .replace(r#"deny = ["exec", "#, "deny = [")
        + "\n[[constraints.approvals]]\nwhen = \"tool == 'exec'\"\nrequire = \"human_approval\"\n";
    assert_ne!(widened, policy);
    let head = repo.commit(&[(REVIEWER, Some(&widened))]);
    (repo, base, head)
}

async fn assert_exec_needs_an_approval(repo: &TestRepo, base: &str, head: &str) {
    let github = Github::start("").await;
    github.pull(base, head).await;
    // The author approving their own change counts for nothing.
    github
        .reviews(json!([review(1, "author", "APPROVED", head)]))
        .await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github
        .at("POST", &format!("/repos/{OWNER_REPO}/statuses/{head}"))
        .respond_with(ResponseTemplate::new(201).set_body_json(status_answer("pending")))
        .expect(1)
        .mount(&github.server)
        .await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("wpc/approval: pending"),
        "{}",
        stdout(&out)
    );
    let states: Vec<String> = github
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().contains("/statuses/"))
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["state"].to_string())
        .collect();
    assert_eq!(states.len(), 1);
    assert_ne!(states[0], "\"success\"");
    let written = github.written_comments().await;
    assert!(
        written[0].contains("1 approval from anyone | `agent-change-reviewer` | — | ⏳ 1 missing"),
        "{}",
        written[0]
    );
    github.server.verify().await;
}

#[tokio::test]
async fn allowing_exec_in_a_fresh_init_repo_needs_an_approval() {
    let (repo, base, head) = exec_allowed_in_fresh_repo(None);
    assert_exec_needs_an_approval(&repo, &base, &head).await;
}

#[tokio::test]
async fn without_an_approvals_table_a_widening_needs_one_approval_from_someone_else() {
    let (repo, base, head) = exec_allowed_in_fresh_repo(Some("[policies]\ndir = \"policies\"\n"));
    assert_exec_needs_an_approval(&repo, &base, &head).await;
}

/// A pull request that changes no policy and only adds a release signer
/// (someone who can open a PR trying to slip in a key that may then sign
/// releases): `wpc diff` calls it critical, and `wpc pr` holds the status
/// pending until the critical approvals of `[approvals]` (two, from
/// acme/security or acme/platform) are in, one approval not being enough.
#[tokio::test]
async fn a_pull_request_that_only_adds_a_release_signer_needs_the_critical_approvals() {
    let signers_path = "keys/trusted-signers.toml";
    let mut repo = TestRepo::new(false);
    let mut files = example_repo();
    files.push((signers_path.to_owned(), example(signers_path)));
    let changes: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), Some(t.as_str())))
        .collect();
    let base = repo.commit(&changes);
    let added = "did:key:z6Mkjp44ExP1yRoq8FZTWy4deGGHuhwhrpYpYM1qMYmZkccn";
    let signers = format!(
        "{}\n[[release_signer]]\ndid = \"{added}\"\nname = \"new-ci\"\n",
        example(signers_path)
    );
    let head = repo.commit(&[(signers_path, Some(&signers))]);

    let diff = support::run(repo.path(), &["diff", &base, &head, "--format", "json"]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(diff["config"][0]["severity"], "critical", "{diff}");
    assert!(
        diff["config"][0]["explanation"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("adds release signer {added}"))),
        "{diff}"
    );
    assert_eq!(diff["approvals"][0]["class"], "critical", "{diff}");

    // Each review set and the status it must give.
    for (reviews, state) in [
        (json!([]), "pending"),
        (json!([review(1, "sec1", "APPROVED", &head)]), "pending"),
        (
            json!([
                review(1, "sec1", "APPROVED", &head),
                review(2, "plat1", "APPROVED", &head)
            ]),
            "success",
        ),
    ] {
        let github = Github::start("").await;
        github.pull(&base, &head).await;
        github.reviews(reviews).await;
        github.members("security", &["sec1"]).await;
        github.members("platform", &["plat1"]).await;
        github.comments(json!([])).await;
        github.create_comment(1).await;
        github.status(&head, state).await;
        let out = bot(repo.path(), &github.url());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("wpc/approval: {state}")),
            "{}",
            stdout(&out)
        );
        let written = github.written_comments().await;
        assert!(written[0].contains(signers_path), "{}", written[0]);
        assert!(written[0].contains("critical"), "{}", written[0]);
        github.server.verify().await;
    }
}

#[tokio::test]
async fn the_comment_shows_the_impact_on_recorded_runs() {
    // The example config replays `proofs/**/*.json`; the recorded review
    // calls `search`, which the head no longer allows.
    let (repo, base, head) = clone_with(|t| t.replace(r#""read", "search", "#, r#""read", "#));
    support::copy_dir(
        &support::root().join("examples/repo/proofs"),
        &repo.path().join("proofs"),
    );
    // An edited record of a run that never happened must not count.
    let bundle = repo
        .path()
        .join("proofs/agent-change-reviewer/review-pr-1841.json");
    let edited = std::fs::read_to_string(&bundle)
        .unwrap()
        .replace("\"repo.comment\"", "\"repo.merge\"");
    std::fs::write(repo.path().join("proofs/edited.json"), edited).unwrap();

    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.status(&head, "success").await;
    let out = bot(repo.path(), &github.url());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = github.written_comments().await;
    let comment = &written[0];
    assert!(comment.contains("### Impact on recorded runs"), "{comment}");
    assert!(
        comment.contains("| `agent-change-reviewer` | 1 | 7 | 0 | 1 | 0 |"),
        "{comment}"
    );
    assert!(
        comment.contains("- newly denied: tool `search` (allow → deny) in `proofs/agent-change-reviewer/review-pr-1841.json`, run `run_1841`"),
        "{comment}"
    );
    assert!(
        comment.contains("- not counted (protocol checks failed): `proofs/edited.json`"),
        "{comment}"
    );
    github.server.verify().await;

    // --replay overrides the config's glob.
    let github = Github::start("").await;
    github.pull(&base, &head).await;
    github.reviews(json!([])).await;
    github.comments(json!([])).await;
    github.create_comment(1).await;
    github.status(&head, "success").await;
    let out = support::wpc(repo.path())
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_EVENT_PATH")
        .env("GITHUB_TOKEN", "ghs_test")
        .env("GITHUB_API_URL", github.url())
        .args(["pr", "--repo", OWNER_REPO, "--pr", &NUMBER.to_string()])
        .args(["--replay", "proofs/deployer/*.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = github.written_comments().await;
    assert!(
        written[0].contains("2 verified bundle(s) replayed: 0 recorded call(s) change decision."),
        "{}",
        written[0]
    );
}

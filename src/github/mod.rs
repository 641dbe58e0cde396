//! A small GitHub REST client on octocrab: pull requests, reviews, team
//! membership, issue comments and commit statuses. It knows nothing about
//! policies or diffs.
//!
//! Every request is retried with exponential backoff on 5xx, 429 and
//! rate-limit 403 responses (honouring `Retry-After` and
//! `X-RateLimit-Reset`); 401, 403 and 404 become errors that name the token
//! permission the request needs. The API root is configurable, so GitHub
//! Enterprise Server (`https://HOST/api/v3`) works like github.com.

mod reviews;

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use reviews::current_approvers;

/// The public API root, used when `GITHUB_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Pages of 100 read at most from one listing (reviews, comments).
const MAX_PAGES: u32 = 50;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error(
        "GitHub rejected the token (401: {message}) while {what}: check that GITHUB_TOKEN is set and valid"
    )]
    Unauthorized { what: String, message: String },
    #[error("GitHub refused {what} (403: {message}): the token needs `{permission}`")]
    Forbidden {
        what: String,
        permission: &'static str,
        message: String,
    },
    #[error(
        "GitHub found nothing while {what} (404: {message}): it does not exist, or the token cannot see it (it needs `{permission}`)"
    )]
    NotFound {
        what: String,
        permission: &'static str,
        message: String,
    },
    #[error("GitHub answered {status} while {what}: {message}")]
    Status {
        what: String,
        status: StatusCode,
        message: String,
    },
    #[error("cannot reach GitHub while {what}: {message}")]
    Transport { what: String, message: String },
    #[error("unexpected answer from GitHub while {what}: {message}")]
    Decode { what: String, message: String },
    #[error("invalid {what} `{value}`")]
    Invalid { what: &'static str, value: String },
    #[error(
        "refusing to send the GitHub token to `{url}`: the API URL must use https:// (plain http:// only to this machine: localhost, 127.0.0.0/8, ::1)"
    )]
    InsecureApiUrl { url: String },
}

/// The token is sent with every request: only over TLS, or in the clear to
/// this machine (a local proxy, a test server).
fn check_api_url(api_url: &str) -> Result<(), GithubError> {
    let uri = api_url
        .parse::<http::Uri>()
        .map_err(|e| GithubError::Invalid {
            what: "GitHub API URL",
            value: format!("{api_url} ({e})"),
        })?;
    let loopback = |host: &str| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if uri.host().is_some_and(loopback) => Ok(()),
        _ => Err(GithubError::InsecureApiUrl {
            url: api_url.to_owned(),
        }),
    }
}

/// How often and how patiently a request is retried.
#[derive(Clone, Copy, Debug)]
struct Backoff {
    /// Retries after the first attempt.
    retries: u32,
    /// The first wait; each retry doubles it.
    base: Duration,
    /// No single wait is longer, whatever the server asks.
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            retries: 4,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// `owner/name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl std::str::FromStr for RepoName {
    type Err = GithubError;

    fn from_str(text: &str) -> Result<RepoName, GithubError> {
        let invalid = || GithubError::Invalid {
            what: "repository (expected owner/name)",
            value: text.to_owned(),
        };
        let (owner, name) = text.split_once('/').ok_or_else(invalid)?;
        if !segment(owner) || !segment(name) {
            return Err(invalid());
        }
        Ok(RepoName {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Whether `text` can stand in a URL path as it is: GitHub's owner, repo,
/// login and team slug characters (logins of apps end in `[bot]`).
fn segment(text: &str) -> bool {
    let core = text.strip_suffix("[bot]").unwrap_or(text);
    !core.is_empty()
        && core != "."
        && core != ".."
        && core
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn checked<'a>(what: &'static str, value: &'a str) -> Result<&'a str, GithubError> {
    if segment(value) {
        Ok(value)
    } else {
        Err(GithubError::Invalid {
            what,
            value: value.to_owned(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct User {
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct GitRef {
    pub sha: String,
    #[serde(rename = "ref")]
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub user: User,
    pub base: GitRef,
    pub head: GitRef,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Review {
    pub id: u64,
    /// `None` for a deleted account.
    pub user: Option<User>,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    /// The commit reviewed.
    pub commit_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub body: Option<String>,
    pub html_url: String,
}

/// A commit status state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Success,
    Pending,
    Failure,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Success => "success",
            State::Pending => "pending",
            State::Failure => "failure",
        }
    }
}

/// A request's purpose and the permission it needs, for error messages.
struct Purpose<'a> {
    what: &'a str,
    permission: &'static str,
}

pub struct Client {
    octocrab: Octocrab,
    backoff: Backoff,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the API at `api_url` authenticating with `token`. Must be
    /// called inside a Tokio runtime.
    pub fn new(token: &str, api_url: &str) -> Result<Client, GithubError> {
        check_api_url(api_url)?;
        let transport = |message: String| GithubError::Transport {
            what: "setting up the client".to_owned(),
            message,
        };
        let octocrab = Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(|e| GithubError::Invalid {
                what: "GitHub API URL",
                value: format!("{api_url} ({e})"),
            })?
            .personal_token(token.to_owned())
            .set_connect_timeout(Some(Duration::from_secs(30)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| transport(e.to_string()))?;
        Ok(Client {
            octocrab,
            backoff: Backoff::default(),
        })
    }

    /// One request, retried while the answer is transient. Returns the
    /// status and body of the final answer when it is a success or a 404
    /// (which some callers expect); every other failure is an error.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        purpose: &Purpose<'_>,
    ) -> Result<(StatusCode, String), GithubError> {
        let mut attempt = 0;
        loop {
            let response = match method {
                Method::POST => self.octocrab._post(path, body).await,
                Method::PATCH => self.octocrab._patch(path, body).await,
                _ => self.octocrab._get(path).await,
            };
            let last = attempt >= self.backoff.retries;
            let response = match response {
                Ok(response) => response,
                Err(_) if !last => {
                    tokio::time::sleep(self.delay(attempt, None)).await;
                    attempt += 1;
                    continue;
                }
                Err(err) => {
                    return Err(GithubError::Transport {
                        what: purpose.what.to_owned(),
                        message: err.to_string(),
                    });
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let text = self.octocrab.body_to_string(response).await.map_err(|e| {
                GithubError::Transport {
                    what: purpose.what.to_owned(),
                    message: e.to_string(),
                }
            })?;
            if status.is_success() || status == StatusCode::NOT_FOUND {
                return Ok((status, text));
            }
            if !last && transient(status, &headers, &text) {
                tokio::time::sleep(self.delay(attempt, Some(&headers))).await;
                attempt += 1;
                continue;
            }
            return Err(failure(status, &text, purpose));
        }
    }

    /// The wait before retry `attempt` (from 0): what the server asked for
    /// when it said, else exponential; never more than `max`.
    fn delay(&self, attempt: u32, headers: Option<&HeaderMap>) -> Duration {
        let number = |name: &str| {
            headers
                .and_then(|h| h.get(name))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let asked = number("retry-after").map(Duration::from_secs).or_else(|| {
            if number("x-ratelimit-remaining") != Some(0) {
                return None;
            }
            let reset = number("x-ratelimit-reset")?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some(Duration::from_secs(reset.saturating_sub(now)))
        });
        let exponential = self
            .backoff
            .base
            .saturating_mul(2u32.saturating_pow(attempt));
        asked.unwrap_or(exponential).min(self.backoff.max)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        purpose: &Purpose<'_>,
    ) -> Result<T, GithubError> {
        let (status, text) = self.send(Method::GET, path, None, purpose).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(failure(status, &text, purpose));
        }
        decode(&text, purpose)
    }

    /// Every item of a paginated listing (100 a page, at most
    /// [`MAX_PAGES`] pages).
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        purpose: &Purpose<'_>,
    ) -> Result<Vec<T>, GithubError> {
        let mut items = Vec::new();
        for page in 1..=MAX_PAGES {
            let batch: Vec<T> = self
                .get_json(&format!("{path}?per_page=100&page={page}"), purpose)
                .await?;
            let done = batch.len() < 100;
            items.extend(batch);
            if done {
                break;
            }
        }
        Ok(items)
    }

    pub async fn pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<PullRequest, GithubError> {
        let purpose = Purpose {
            what: &format!("reading pull request {repo}#{number}"),
            permission: "pull-requests: read",
        };
        self.get_json(&format!("/repos/{repo}/pulls/{number}"), &purpose)
            .await
    }

    /// Every review of a pull request, oldest first.
    pub async fn reviews(&self, repo: &RepoName, number: u64) -> Result<Vec<Review>, GithubError> {
        let purpose = Purpose {
            what: &format!("reading the reviews of {repo}#{number}"),
            permission: "pull-requests: read",
        };
        self.list(&format!("/repos/{repo}/pulls/{number}/reviews"), &purpose)
            .await
    }

    /// Whether `login` is an active member of `org/team`. A team the token
    /// cannot see reads as 404, the same as "not a member".
    pub async fn is_team_member(&self, team: &str, login: &str) -> Result<bool, GithubError> {
        let (org, slug) = team.split_once('/').ok_or_else(|| GithubError::Invalid {
            what: "team (expected org/slug)",
            value: team.to_owned(),
        })?;
        let path = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            checked("organization", org)?,
            checked("team", slug)?,
            checked("login", login)?
        );
        let purpose = Purpose {
            what: &format!("checking whether {login} is in team {team}"),
            permission: "read:org (members: read for a GitHub App)",
        };
        let (status, text) = self.send(Method::GET, &path, None, &purpose).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        #[derive(Deserialize)]
        struct Membership {
            state: String,
        }
        let membership: Membership = decode(&text, &purpose)?;
        Ok(membership.state == "active")
    }

    /// Create the pull request's comment holding `marker`, or edit the first
    /// one that does: one comment, updated in place on every run. `body`
    /// must contain `marker`.
    pub async fn upsert_comment(
        &self,
        repo: &RepoName,
        number: u64,
        marker: &str,
        body: &str,
    ) -> Result<Comment, GithubError> {
        let read = Purpose {
            what: &format!("reading the comments of {repo}#{number}"),
            permission: "pull-requests: read",
        };
        let comments: Vec<Comment> = self
            .list(&format!("/repos/{repo}/issues/{number}/comments"), &read)
            .await?;
        // Anyone can post a comment with the marker in it: a bot's (an App's,
        // such as github-actions) is preferred, so a planted one is not taken
        // over when the bot's own exists.
        let marked = || {
            comments
                .iter()
                .filter(|c| c.body.as_deref().is_some_and(|b| b.contains(marker)))
        };
        let existing = marked()
            .find(|c| c.user.as_ref().is_some_and(|u| u.kind == "Bot"))
            .or_else(|| marked().next());
        let write = Purpose {
            what: &format!("writing a comment on {repo}#{number}"),
            permission: "pull-requests: write",
        };
        let body = json!({ "body": body });
        let (method, path) = match existing {
            Some(comment) => (
                Method::PATCH,
                format!("/repos/{repo}/issues/comments/{}", comment.id),
            ),
            None => (
                Method::POST,
                format!("/repos/{repo}/issues/{number}/comments"),
            ),
        };
        let (status, text) = self.send(method, &path, Some(&body), &write).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(failure(status, &text, &write));
        }
        decode(&text, &write)
    }

    /// Set the commit status `context` on `sha`. GitHub caps the
    /// description at 140 characters; longer ones are cut.
    pub async fn set_status(
        &self,
        repo: &RepoName,
        sha: &str,
        state: State,
        context: &str,
        description: &str,
        target_url: Option<&str>,
    ) -> Result<(), GithubError> {
        let sha = checked("commit SHA", sha)?;
        let purpose = Purpose {
            what: &format!("setting the commit status {context} on {sha}"),
            permission: "statuses: write",
        };
        let description: String = description.chars().take(140).collect();
        let mut body = json!({
            "state": state.as_str(),
            "context": context,
            "description": description,
        });
        if let Some(url) = target_url {
            body["target_url"] = json!(url);
        }
        let path = format!("/repos/{repo}/statuses/{sha}");
        let (status, text) = self
            .send(Method::POST, &path, Some(&body), &purpose)
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Err(failure(status, &text, &purpose));
        }
        Ok(())
    }
}

/// Worth retrying: server errors, 429, and 403s that are rate limits
/// (primary: no requests remaining; secondary: said in the message).
fn transient(status: StatusCode, headers: &HeaderMap, body: &str) -> bool {
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return true;
    }
    status == StatusCode::FORBIDDEN
        && (headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v.as_bytes() == b"0")
            || headers.contains_key("retry-after")
            || body.to_ascii_lowercase().contains("rate limit"))
}

/// GitHub's `message`, or the start of a body that is not its JSON.
fn message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect::<String>().trim().to_owned())
}

fn failure(status: StatusCode, body: &str, purpose: &Purpose<'_>) -> GithubError {
    let what = purpose.what.to_owned();
    let message = message(body);
    match status {
        StatusCode::UNAUTHORIZED => GithubError::Unauthorized { what, message },
        StatusCode::FORBIDDEN => GithubError::Forbidden {
            what,
            permission: purpose.permission,
            message,
        },
        StatusCode::NOT_FOUND => GithubError::NotFound {
            what,
            permission: purpose.permission,
            message,
        },
        status => GithubError::Status {
            what,
            status,
            message,
        },
    }
}

fn decode<T: DeserializeOwned>(text: &str, purpose: &Purpose<'_>) -> Result<T, GithubError> {
    serde_json::from_str(text).map_err(|e| GithubError::Decode {
        what: purpose.what.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_and_segments() {
        let repo: RepoName = "acme/policies".parse().unwrap();
        assert_eq!(repo.to_string(), "acme/policies");
        for bad in ["acme", "acme/", "/x", "a/b/c", "a/../b", "a/b?x", "a/.."] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad}");
        }
        assert!(segment("github-actions[bot]") && !segment("x y") && !segment("[bot]"));
    }

    #[test]
    fn the_token_goes_only_over_tls_or_to_this_machine() {
        for ok in [
            "https://api.github.com",
            "https://ghe.example.com/api/v3/",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:3000/api",
            "http://LOCALHOST",
            "http://[::1]:9000",
        ] {
            assert!(check_api_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://api.github.com",
            "http://10.0.0.1",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
            "http://[::2]",
            "ftp://127.0.0.1",
            "api.github.com",
            "//127.0.0.1",
        ] {
            let err = check_api_url(refused).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("refusing to send the GitHub token")
                    || matches!(err, GithubError::Invalid { .. }),
                "{refused}: {err}"
            );
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_transient() {
        let mut limited = HeaderMap::new();
        limited.insert("x-ratelimit-remaining", "0".parse().unwrap());
        let none = HeaderMap::new();
        assert!(transient(StatusCode::BAD_GATEWAY, &none, ""));
        assert!(transient(StatusCode::TOO_MANY_REQUESTS, &none, ""));
        assert!(transient(StatusCode::FORBIDDEN, &limited, ""));
        assert!(transient(
            StatusCode::FORBIDDEN,
            &none,
            r#"{"message":"You have exceeded a secondary rate limit"}"#
        ));
        assert!(!transient(
            StatusCode::FORBIDDEN,
            &none,
            r#"{"message":"Resource not accessible by integration"}"#
        ));
        assert!(!transient(StatusCode::UNAUTHORIZED, &none, ""));
    }

    #[tokio::test]
    async fn waits_follow_the_server_then_double_and_are_capped() {
        let client = Client::new("t", "http://127.0.0.1:9").unwrap();
        let mut asked = HeaderMap::new();
        asked.insert("retry-after", "7".parse().unwrap());
        assert_eq!(client.delay(0, Some(&asked)), Duration::from_secs(7));
        asked.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(client.delay(0, Some(&asked)), Duration::from_secs(60));
        let mut exhausted = HeaderMap::new();
        exhausted.insert("x-ratelimit-remaining", "0".parse().unwrap());
        exhausted.insert("x-ratelimit-reset", "1".parse().unwrap());
        assert_eq!(client.delay(3, Some(&exhausted)), Duration::ZERO);
        assert_eq!(client.delay(0, None), Duration::from_secs(1));
        assert_eq!(client.delay(2, None), Duration::from_secs(4));
        assert_eq!(client.delay(30, None), Duration::from_secs(60));
    }

    #[test]
    fn errors_name_the_permission() {
        let purpose = Purpose {
            what: "setting the commit status wpc/approval on abc",
            permission: "statuses: write",
        };
        let err = failure(
            StatusCode::FORBIDDEN,
            r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com"}"#,
            &purpose,
        );
        assert_eq!(
            err.to_string(),
            "GitHub refused setting the commit status wpc/approval on abc (403: Resource not accessible by integration): the token needs `statuses: write`"
        );
        let err = failure(
            StatusCode::BAD_GATEWAY,
            "<html>bad gateway</html>",
            &purpose,
        );
        assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    }
}

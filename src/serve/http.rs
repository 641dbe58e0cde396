//! The routes. Requests are answered from the [`ReleaseState`] current when
//! they arrive; nothing here reads the file system or the repository, so a
//! path can only ever name a key of the state's maps.

use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::state::{Lookup, ReleaseState, is_policy_hash};
use super::store::{BodyError, EngineError};
use crate::decide::{Call, Counters};

/// Largest request body read (the registry's limit).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const JSON: &str = "application/json; charset=utf-8";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// What the registry's preflight allows.
const CORS_METHODS: &str = "GET, POST, OPTIONS";
const CORS_HEADERS: &str = "content-type, authorization, x-cst, x-scoped-token";

pub type Reply = Response<Full<Bytes>>;

/// An error in the registry's shape: `{"ok":false,"error":{"code","message"}}`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    let body = json!({"ok": false, "error": {"code": code, "message": message}});
    json_reply(status, Bytes::from(body.to_string()))
}

fn json_reply(status: StatusCode, body: Bytes) -> Reply {
    let mut reply = Response::new(Full::new(body));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    reply
}

fn not_found() -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(b"not found")));
    *reply.status_mut() = StatusCode::NOT_FOUND;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    reply
}

/// Answer one request from `state`. `degraded` is why the branch's newest
/// state is not the one served, if it is not.
pub async fn respond<B>(state: &ReleaseState, degraded: Option<&str>, request: Request<B>) -> Reply
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let readable = method == Method::GET || method == Method::HEAD;
    let mut reply = match (path.as_str(), readable) {
        _ if method == Method::OPTIONS => preflight(),
        ("/health", true) => json_reply(StatusCode::OK, state.health(degraded)),
        ("/v1/releases", true) => json_reply(StatusCode::OK, state.releases.clone()),
        ("/v1/decide", false) if method == Method::POST => match read_body(request).await {
            Ok(body) => decide(state, &body),
            Err(reply) => reply,
        },
        (wpc, true) if wpc.starts_with("/v1/wpc/") => {
            let if_none_match = request.headers().get(IF_NONE_MATCH).cloned();
            get_wpc(state, &wpc["/v1/wpc/".len()..], if_none_match.as_ref())
        }
        (wpc, _) if wpc == "/v1/wpc" || wpc.starts_with("/v1/wpc/") || wpc == "/v1/decide" => {
            error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found")
        }
        _ => not_found(),
    };
    reply
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    reply
}

fn preflight() -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    let headers = reply.headers_mut();
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(CORS_METHODS),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(CORS_HEADERS),
    );
    reply
}

/// The hash as the registry reads it from the path: URL-decoded, trimmed,
/// then checked (its messages, word for word).
fn path_hash(raw: &str) -> Result<String, Reply> {
    let invalid = |message: &str| error(StatusCode::BAD_REQUEST, "INVALID_POLICY_HASH", message);
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| invalid("policy_hash_b64u must be base64url (no padding)"))?;
    let hash = decoded.trim();
    check_hash(hash).map_err(invalid)?;
    Ok(hash.to_owned())
}

fn check_hash(hash: &str) -> Result<(), &'static str> {
    if hash.is_empty() {
        Err("policy_hash_b64u must be non-empty")
    } else if !hash
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Err("policy_hash_b64u must be base64url (no padding)")
    } else if !is_policy_hash(hash) {
        Err("policy_hash_b64u must be SHA-256 base64url length 43")
    } else {
        Ok(())
    }
}

fn get_wpc(state: &ReleaseState, raw: &str, if_none_match: Option<&HeaderValue>) -> Reply {
    let hash = match path_hash(raw) {
        Ok(hash) => hash,
        Err(reply) => return reply,
    };
    let rendering = match state.lookup(&hash) {
        Lookup::Served(rendering) => rendering,
        Lookup::Revoked { reason } => return revoked(&hash, reason),
        Lookup::Unknown => return error(StatusCode::NOT_FOUND, "WPC_NOT_FOUND", "WPC not found"),
    };
    let etag = rendering.etag();
    let fresh = if_none_match.is_some_and(|tags| {
        tags.to_str().is_ok_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim().as_bytes() == etag.as_bytes() || tag.trim() == "*")
        })
    });
    let mut reply = if fresh {
        let mut reply = Response::new(Full::new(Bytes::new()));
        *reply.status_mut() = StatusCode::NOT_MODIFIED;
        reply
    } else {
        match state.body(rendering) {
            Ok(body) => json_reply(StatusCode::OK, body),
            Err(err) => return refused(&hash, &err),
        }
    };
    let headers = reply.headers_mut();
    headers.insert(ETAG, etag);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    reply
}

/// 410: the gateway treats any status but 200 and 404 as a registry error,
/// so it fails closed; the code says why.
fn revoked(hash: &str, reason: &str) -> Reply {
    error(
        StatusCode::GONE,
        "WPC_REVOKED",
        &format!("WPC {hash} is revoked: {reason}"),
    )
}

/// Marks a reply refused because a body did not read back as it verified:
/// the access log names why (the client is told only that it failed).
#[derive(Clone, Debug)]
pub struct Refused(pub String);

/// 500: the object database no longer holds what verified; nothing is
/// served in its place.
fn refused(hash: &str, err: &BodyError) -> Reply {
    let mut reply = error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "WPC_INTEGRITY",
        &format!(
            "the stored envelope of {hash} no longer matches what was verified; it is not served"
        ),
    );
    reply.extensions_mut().insert(Refused(err.to_string()));
    reply
}

async fn read_body<B>(request: Request<B>) -> Result<Bytes, Reply>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "BODY_READ_FAILED",
            "the request body could not be read",
        )),
    }
}

/// One call of `POST /v1/decide`: the hash of a released policy and the
/// call's variables, as `wpc decide` takes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideCall {
    policy_hash: String,
    tool: String,
    #[serde(default)]
    args: Map<String, Value>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    env: String,
    #[serde(default)]
    mcp_transport: String,
    #[serde(default)]
    mcp_url: String,
    #[serde(default)]
    definition_hash: String,
    #[serde(default)]
    counters: Counters,
}

fn invalid_request(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
}

/// `{...call}` → its decision; `{"calls":[...]}` → `{"ok":true,"decisions":[...]}`.
/// A batch is answered whole or not at all: the first call that cannot be
/// decided (bad hash, unknown, revoked) fails the request, naming it.
fn decide(state: &ReleaseState, body: &[u8]) -> Reply {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_JSON",
                &format!("the request body is not JSON: {err}"),
            );
        }
    };
    let Value::Object(mut fields) = value else {
        return invalid_request("the request body must be a JSON object");
    };
    let batch = fields.contains_key("calls");
    let calls: Vec<(String, Value)> = if batch {
        if fields.len() != 1 {
            return invalid_request("a batch has only `calls`");
        }
        match fields.remove("calls") {
            Some(Value::Array(calls)) => calls
                .into_iter()
                .enumerate()
                .map(|(i, call)| (format!("calls[{i}]"), call))
                .collect(),
            _ => return invalid_request("`calls` must be an array"),
        }
    } else {
        vec![("the call".to_owned(), Value::Object(fields))]
    };
    let mut decisions = Vec::with_capacity(calls.len());
    for (at, call) in calls {
        let call: DecideCall = match serde_json::from_value(call) {
            Ok(call) => call,
            Err(err) => return invalid_request(&format!("{at}: {err}")),
        };
        if let Err(message) = check_hash(&call.policy_hash) {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_POLICY_HASH",
                &format!("{at}: {message}"),
            );
        }
        let rendering = match state.lookup(&call.policy_hash) {
            Lookup::Served(rendering) => rendering,
            Lookup::Revoked { reason } => return revoked(&call.policy_hash, reason),
            Lookup::Unknown => {
                return error(
                    StatusCode::NOT_FOUND,
                    "WPC_NOT_FOUND",
                    &format!("{at}: WPC not found"),
                );
            }
        };
        let engine = match state.engine(rendering) {
            Ok(engine) => engine,
            Err(EngineError::Body(err)) => return refused(&call.policy_hash, &err),
            Err(err) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "WPC_UNDECIDABLE",
                    &format!("{at}: {err}"),
                );
            }
        };
        let decision = engine.decide(&Call {
            tool: call.tool,
            args: call.args,
            content: call.content,
            target: call.target,
            model: call.model,
            provider: call.provider,
            env: call.env,
            mcp_transport: call.mcp_transport,
            mcp_url: call.mcp_url,
            definition_hash: call.definition_hash,
            counters: call.counters,
        });
        decisions.push(decision.report(rendering.name(), rendering.hash()));
    }
    let body = if batch {
        json!({"ok": true, "decisions": decisions})
    } else {
        let mut one = Map::new();
        one.insert("ok".to_owned(), Value::Bool(true));
        if let Some(Value::Object(fields)) = decisions.pop() {
            one.extend(fields);
        }
        Value::Object(one)
    };
    json_reply(StatusCode::OK, Bytes::from(body.to_string()))
}

/// 408 for a request not answered within the request time limit.
pub fn timed_out(limit: Duration) -> Reply {
    error(
        StatusCode::REQUEST_TIMEOUT,
        "REQUEST_TIMEOUT",
        &format!("the request took longer than {} ms", limit.as_millis()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "_omUfu3k5KkSWLDdK7oemnSY1gKvu5lbEe4RGfTbpWA";

    fn message(raw: &str) -> Option<String> {
        let reply = path_hash(raw).err()?;
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
        Some(String::from_utf8_lossy(&futures_free_body(reply)).into_owned())
    }

    fn futures_free_body(reply: Reply) -> Bytes {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(reply.into_body().collect())
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn the_hash_is_url_decoded_and_trimmed_as_the_registry_does() {
        assert_eq!(path_hash(HASH).ok().as_deref(), Some(HASH));
        assert_eq!(
            path_hash(&format!("%20{HASH}%20")).ok().as_deref(),
            Some(HASH)
        );
        assert_eq!(
            path_hash(&format!("{}%5F", &HASH[..42])).ok().as_deref(),
            Some(&format!("{}_", &HASH[..42])[..])
        );
    }

    #[test]
    fn bad_hashes_get_the_registry_s_messages() {
        let cases = [
            ("", "policy_hash_b64u must be non-empty"),
            ("%20", "policy_hash_b64u must be non-empty"),
            ("abc=", "policy_hash_b64u must be base64url (no padding)"),
            ("a/b", "policy_hash_b64u must be base64url (no padding)"),
            ("..%2F..", "policy_hash_b64u must be base64url (no padding)"),
            ("%C3%28", "policy_hash_b64u must be base64url (no padding)"),
            (
                "abc",
                "policy_hash_b64u must be SHA-256 base64url length 43",
            ),
        ];
        for (raw, expected) in cases {
            let body = message(raw).unwrap_or_else(|| panic!("{raw} was accepted"));
            assert!(body.contains(expected), "{raw}: {body}");
            assert!(body.contains("INVALID_POLICY_HASH"), "{raw}: {body}");
        }
        assert!(message(&format!("{HASH}A")).is_some());
    }
}

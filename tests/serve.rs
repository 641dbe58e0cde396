//! `wpc serve` end to end: a real release branch, the server as a child
//! process on a loopback port, and a client that fetches as the Claw
//! gateway does (URL `${base}/v1/wpc/${hash}`, read `.envelope`, recompute
//! the JCS hash, verify the Ed25519 signature against the trusted signer).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The demo release key of docs/commands/release-demo (public seed).
const KEY: &str = "l5qSjGgdbSkNgbPETkEJSDlw09nrMgBeu4lBm8VPv6s";
const SIGNER: &str = "did:key:z6MkwUPBX9Vcig33pqr9wJL7ehkfmyggcJqf41tJ7G6e1Yqr";
const DEMO_HASH: &str = "_omUfu3k5KkSWLDdK7oemnSY1gKvu5lbEe4RGfTbpWA";

fn release(dir: &Path) {
    let out = support::wpc(dir)
        .arg("release")
        .env("WPC_SIGNING_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
}

/// `wpc revoke HASH --reason REASON` with the demo key.
fn revoke(dir: &Path, hash: &str, reason: &str) {
    let out = support::wpc(dir)
        .args(["revoke", hash, "--reason", reason])
        .env("WPC_SIGNING_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
}

/// A copy of `example` as a repository with one commit, released.
fn released(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::copy_dir(&support::root().join(example), dir.path());
    let signers = dir.path().join("keys/trusted-signers.toml");
    let text = std::fs::read_to_string(&signers).unwrap();
    // The example trusts its own CI key, whose secret is not public: trust
    // the demo key instead, as a fork of the example would trust its own.
    let text = regex_free_replace_release_signer(&text);
    std::fs::write(&signers, text).unwrap();
    support::git(dir.path(), &["init", "-q", "-b", "main"]);
    support::git(dir.path(), &["add", "."]);
    support::git(dir.path(), &["commit", "-q", "-m", "first"]);
    release(dir.path());
    dir
}

fn regex_free_replace_release_signer(text: &str) -> String {
    let mut out = String::new();
    let mut in_release = false;
    for line in text.lines() {
        if line.starts_with("[[") {
            in_release = line.trim() == "[[release_signer]]";
        }
        if in_release && line.starts_with("did = ") {
            out.push_str(&format!("did = \"{SIGNER}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `wpc serve` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(repo: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wpc"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(repo)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let event: Value = serde_json::from_str(&first).unwrap_or_else(|_| panic!("{first}"));
        assert_eq!(event["event"], "listening", "{first}");
        let addr = event["addr"].as_str().unwrap().parse().unwrap();
        let log = Arc::new(Mutex::new(vec![first]));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server { child, addr, log }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, lower-cased headers, body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&self.body)))
    }
}

/// Send `raw` (a whole HTTP/1.1 request) and read the response to the end.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Reply {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Reply {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(body) = body {
        raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        raw.push_str("\r\n");
    }
    exchange(addr, raw.as_bytes())
}

/// Fetch `hash` as the gateway does and verify it against `trusted`;
/// `Err` says which check failed.
fn gateway_fetch(base: &str, hash: &str, trusted: &str) -> Result<Value, String> {
    let url = format!("{base}/v1/wpc/{hash}");
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let reply = request(host.parse().unwrap(), "GET", path, None);
    if reply.status == 404 {
        return Err("WPC_NOT_FOUND".into());
    }
    if reply.status != 200 {
        return Err(format!("WPC_REGISTRY_ERROR {}", reply.status));
    }
    let body: Value = serde_json::from_slice(&reply.body).map_err(|_| "WPC_REGISTRY_BAD_JSON")?;
    let envelope = body.get("envelope").ok_or("WPC_ENVELOPE_INVALID")?;
    if envelope["payload_hash_b64u"] != hash {
        return Err("WPC_HASH_MISMATCH".into());
    }
    let jcs = serde_json_canonicalizer::to_vec(&envelope["payload"]).unwrap();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(&jcs)) != hash {
        return Err("WPC_HASH_INVALID".into());
    }
    let signer = envelope["signer_did"]
        .as_str()
        .ok_or("WPC_ENVELOPE_INVALID")?;
    if signer != trusted {
        return Err("WPC_SIGNER_NOT_ALLOWED".into());
    }
    let key = wpc::crypto::did::DidKey::parse(signer).map_err(|_| "WPC_SIGNER_DID_UNSUPPORTED")?;
    let signature = URL_SAFE_NO_PAD
        .decode(envelope["signature_b64u"].as_str().unwrap_or_default())
        .map_err(|_| "WPC_SIGNATURE_INVALID")?;
    let signature =
        ed25519_dalek::Signature::from_slice(&signature).map_err(|_| "WPC_SIGNATURE_INVALID")?;
    key.verifying_key()
        .verify_strict(hash.as_bytes(), &signature)
        .map_err(|_| "WPC_SIGNATURE_INVALID")?;
    Ok(envelope["payload"].clone())
}

/// Every hash released on the branch: each version's native hash and its
/// Claw renderings'.
fn released_hashes(repo: &Path) -> Vec<String> {
    released_versions(repo)
        .into_iter()
        .flat_map(|(native, renderings)| {
            std::iter::once(native).chain(renderings.into_iter().map(|(_, hash)| hash))
        })
        .collect()
}

/// Each released version: its native hash and its renderings (kind, hash).
fn released_versions(repo: &Path) -> Vec<(String, Vec<(String, String)>)> {
    let index: Value =
        serde_json::from_str(&support::git(repo, &["show", "wpc-releases:index.json"])).unwrap();
    index["policies"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap().iter())
        .map(|e| {
            let renderings = e
                .get("renderings")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(kind, hash)| (kind.clone(), hash.as_str().unwrap().to_owned()))
                .collect();
            (e["hash"].as_str().unwrap().to_owned(), renderings)
        })
        .collect()
}

/// A plain static file server on loopback: `GET /path` → the file under
/// `root`, else 404. What GitHub Pages or S3 does for the export.
fn file_server(root: PathBuf) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
            let file = root.join(path.trim_start_matches('/'));
            let reply = match (path.contains(".."), std::fs::read(&file)) {
                (false, Ok(body)) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend(body);
                    r
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    addr
}

#[test]
fn a_gateway_verifies_every_released_hash_of_the_example_live_and_exported() {
    let repo = released("examples/repo");
    let hashes = released_hashes(repo.path());
    // Each example policy as native, claw-v1 and claw-v2.
    assert!(hashes.len() >= 3 * 3, "{hashes:?}");
    let server = Server::start(repo.path(), &[]);
    for hash in &hashes {
        let payload = gateway_fetch(&server.base(), hash, SIGNER).unwrap();
        assert!(payload["policy_name"].is_string() || payload["policy_id"].is_string());
        // A gateway trusting another signer refuses the same document.
        assert_eq!(
            gateway_fetch(
                &server.base(),
                hash,
                "did:key:z6Mko9hTggMwjSTEaJaPUfE6tqcy2xvU6BnNq3e3o8qVBiyH"
            ),
            Err("WPC_SIGNER_NOT_ALLOWED".into())
        );
    }

    let out = tempfile::tempdir().unwrap();
    let export = out.path().join("site");
    let result = support::run(
        repo.path(),
        &["serve", "--export", export.to_str().unwrap()],
    );
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        support::stderr(&result)
    );
    let files = file_server(export.clone());
    for hash in &hashes {
        let live = request(server.addr, "GET", &format!("/v1/wpc/{hash}"), None);
        let file = std::fs::read(export.join("v1/wpc").join(hash)).unwrap();
        assert_eq!(live.body, file, "the export serves the same bytes");
        gateway_fetch(&format!("http://{files}"), hash, SIGNER).unwrap();
    }
    let releases: Value =
        serde_json::from_slice(&std::fs::read(export.join("v1/releases")).unwrap()).unwrap();
    assert_eq!(
        releases,
        request(server.addr, "GET", "/v1/releases", None).json()
    );
    let health: Value =
        serde_json::from_slice(&std::fs::read(export.join("health")).unwrap()).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        gateway_fetch(
            &format!("http://{files}"),
            "AAAAfu3k5KkSWLDdK7oemnSY1gKvu5lbEe4RGfTbpWA",
            SIGNER
        ),
        Err("WPC_NOT_FOUND".into())
    );
}

#[test]
fn errors_headers_and_methods_are_the_registry_s() {
    let repo = released("docs/commands/release-demo");
    let server = Server::start(repo.path(), &[]);
    let addr = server.addr;
    let code = |reply: &Reply| reply.json()["error"]["code"].as_str().unwrap().to_owned();

    let ok = request(addr, "GET", &format!("/v1/wpc/{DEMO_HASH}"), None);
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        ok.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(ok.header("x-request-id").is_some());
    let body = ok.json();
    assert_eq!(body["ok"], true);
    assert_eq!(body["policy_hash_b64u"], DEMO_HASH);
    let etag = ok.header("etag").unwrap().to_owned();

    let head = request(addr, "HEAD", &format!("/v1/wpc/{DEMO_HASH}"), None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let raw = format!(
        "GET /v1/wpc/{DEMO_HASH} HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(exchange(addr, raw.as_bytes()).status, 304);

    for (path, message) in [
        ("/v1/wpc/", "policy_hash_b64u must be non-empty"),
        (
            "/v1/wpc/abc=",
            "policy_hash_b64u must be base64url (no padding)",
        ),
        (
            "/v1/wpc/..%2F..%2Fetc%2Fpasswd",
            "policy_hash_b64u must be base64url (no padding)",
        ),
        (
            "/v1/wpc/abc",
            "policy_hash_b64u must be SHA-256 base64url length 43",
        ),
        (
            "/v1/wpc/%ff",
            "policy_hash_b64u must be base64url (no padding)",
        ),
    ] {
        let reply = request(addr, "GET", path, None);
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(
            reply.json(),
            serde_json::json!({"ok": false, "error": {"code": "INVALID_POLICY_HASH", "message": message}}),
            "{path}"
        );
    }
    let unknown = request(
        addr,
        "GET",
        "/v1/wpc/AAAAfu3k5KkSWLDdK7oemnSY1gKvu5lbEe4RGfTbpWA",
        None,
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(code(&unknown), "WPC_NOT_FOUND");
    for method in ["PUT", "DELETE", "POST"] {
        let reply = request(addr, method, &format!("/v1/wpc/{DEMO_HASH}"), Some("{}"));
        assert_eq!(
            (reply.status, code(&reply)),
            (404, "NOT_FOUND".to_owned()),
            "{method}"
        );
    }
    assert_eq!(request(addr, "GET", "/../../etc/passwd", None).status, 404);
    let preflight = request(addr, "OPTIONS", "/v1/wpc/x", None);
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, POST, OPTIONS")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("content-type, authorization, x-cst, x-scoped-token")
    );

    // Revoked: a documented non-200 that the gateway fails closed on,
    // picked up without a restart.
    revoke(repo.path(), DEMO_HASH, "comments without approval");
    let revoked = wait_for(|| {
        let r = request(addr, "GET", &format!("/v1/wpc/{DEMO_HASH}"), None);
        (r.status != 200).then_some(r)
    });
    assert_eq!(revoked.status, 410);
    assert_eq!(code(&revoked), "WPC_REVOKED");
    assert_eq!(
        gateway_fetch(&server.base(), DEMO_HASH, SIGNER),
        Err("WPC_REGISTRY_ERROR 410".into())
    );
    let decide = request(
        addr,
        "POST",
        "/v1/decide",
        Some(&format!(r#"{{"policy_hash":"{DEMO_HASH}","tool":"read"}}"#)),
    );
    assert_eq!(
        (decide.status, code(&decide)),
        (410, "WPC_REVOKED".to_owned())
    );

    let log = server.log();
    let access: Vec<Value> = log
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("status").is_some())
        .collect();
    assert!(access.len() > 10);
    assert!(
        access
            .iter()
            .all(|v| v["id"].is_u64() && v["method"].is_string() && v["path"].is_string())
    );
}

/// Poll until `check` gives a value (at most 1 s: the documented bound).
/// Poll until `check` holds. The server looks at the branch every 200 ms;
/// how fast it picks a change up is a benchmark's business, not a test's
/// (a loaded machine would make a tight deadline flaky), so the deadline
/// here only keeps a broken watcher from hanging the suite.
fn wait_for<T>(check: impl Fn() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not picked up within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn decide_answers_as_wpc_decide_does_single_and_batch() {
    let repo = released("docs/commands/release-demo");
    let server = Server::start(repo.path(), &[]);
    let envelope = repo.path().join("envelope.json");
    std::fs::write(
        &envelope,
        support::git(
            repo.path(),
            &["show", &format!("wpc-releases:wpc/{DEMO_HASH}.json")],
        ),
    )
    .unwrap();
    let calls = [
        ("read", ""),
        ("exec", ""),
        ("repo.comment", "SECURITY: found one"),
        ("unknown.tool", ""),
    ];
    let mut batch = Vec::new();
    for (tool, content) in calls {
        let out = support::run(
            repo.path(),
            &[
                "decide",
                "envelope.json",
                "--tool",
                tool,
                "--content",
                content,
                "--format",
                "json",
            ],
        );
        let mut expected: Value = serde_json::from_slice(&out.stdout).unwrap();
        let call = serde_json::json!({"policy_hash": DEMO_HASH, "tool": tool, "content": content});
        let reply = request(server.addr, "POST", "/v1/decide", Some(&call.to_string()));
        assert_eq!(reply.status, 200);
        let mut got = reply.json();
        assert_eq!(got["ok"], true);
        got.as_object_mut().unwrap().remove("ok");
        assert_eq!(got, expected, "{tool}");
        expected.as_object_mut().unwrap().remove("ok");
        batch.push((call, expected));
    }
    let body =
        serde_json::json!({"calls": batch.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()});
    let reply = request(server.addr, "POST", "/v1/decide", Some(&body.to_string()));
    assert_eq!(reply.status, 200);
    let decisions = reply.json()["decisions"].clone();
    assert_eq!(
        decisions,
        Value::Array(batch.into_iter().map(|(_, e)| e).collect())
    );

    let code = |body: &str| {
        let r = request(server.addr, "POST", "/v1/decide", Some(body));
        (
            r.status,
            r.json()["error"]["code"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(code("{"), (400, "INVALID_JSON".into()));
    assert_eq!(code("[]"), (400, "INVALID_REQUEST".into()));
    assert_eq!(
        code(&format!(
            r#"{{"policy_hash":"{DEMO_HASH}","tool":"read","extra":1}}"#
        )),
        (400, "INVALID_REQUEST".into())
    );
    assert_eq!(
        code(r#"{"policy_hash":"abc","tool":"read"}"#),
        (400, "INVALID_POLICY_HASH".into())
    );
    assert_eq!(
        code(&format!(
            r#"{{"calls":[{{"policy_hash":"{DEMO_HASH}","tool":"read"}},{{"policy_hash":"AAAAfu3k5KkSWLDdK7oemnSY1gKvu5lbEe4RGfTbpWA","tool":"read"}}]}}"#
        )),
        (404, "WPC_NOT_FOUND".into())
    );
    // The MCP variables and the counter context are taken as `wpc decide`
    // takes them (docs/wpc-format.md#rate-limits-and-budget).
    let call = serde_json::json!({
        "policy_hash": DEMO_HASH, "tool": "read", "mcp_transport": "stdio",
        "definition_hash": "ab", "counters": {"calls_so_far": {"read": 2}, "tool_calls": 3}
    });
    let reply = request(server.addr, "POST", "/v1/decide", Some(&call.to_string()));
    assert_eq!(reply.status, 200);
    let out = support::run(
        repo.path(),
        &[
            "decide",
            "envelope.json",
            "--tool",
            "read",
            "--mcp-transport",
            "stdio",
            "--definition-hash",
            "ab",
            "--calls-so-far",
            "read=2",
            "--tool-calls",
            "3",
            "--format",
            "json",
        ],
    );
    let expected: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply.json()["verdict"], expected["verdict"]);
    assert_eq!(
        code(&format!(
            r#"{{"policy_hash":"{DEMO_HASH}","tool":"read","counters":{{"calls":1}}}}"#
        )),
        (400, "INVALID_REQUEST".into())
    );
    assert_eq!(request(server.addr, "GET", "/v1/decide", None).status, 404);
}

#[test]
fn oversized_bodies_and_slow_clients_are_cut_off() {
    let repo = released("docs/commands/release-demo");
    let server = Server::start(
        repo.path(),
        &["--header-timeout-ms", "300", "--request-timeout-ms", "500"],
    );
    let big = "x".repeat(64 * 1024 + 1);
    let reply = request(server.addr, "POST", "/v1/decide", Some(&big));
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["error"]["code"], "PAYLOAD_TOO_LARGE");
    // Chunked, so no Content-Length gives it away.
    let mut raw = b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..17 {
        raw.extend(format!("1000\r\n{}\r\n", "y".repeat(4096)).as_bytes());
    }
    raw.extend(b"0\r\n\r\n");
    assert_eq!(exchange(server.addr, &raw).status, 413);

    // Headers never finished: the connection is closed.
    let started = Instant::now();
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // A body that never arrives: 408.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"po")
        .unwrap();
    let mut bytes = Vec::new();
    let _ = slow.read_to_end(&mut bytes);
    assert_eq!(parse(&bytes).status, 408);

    // The server is still there for others.
    assert_eq!(request(server.addr, "GET", "/health", None).status, 200);
}

#[test]
fn a_moved_branch_is_served_and_one_that_does_not_verify_degrades() {
    let repo = released("docs/commands/release-demo");
    let server = Server::start(repo.path(), &[]);
    let addr = server.addr;
    let policy = repo.path().join("policies/agent-change-reviewer.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replace("never merge, deploy or run code.", "never merge or deploy."),
    )
    .unwrap();
    support::git(repo.path(), &["commit", "-q", "-am", "second"]);
    release(repo.path());
    let versions = released_versions(repo.path());
    assert_eq!(versions.len(), 2);
    let new = versions
        .into_iter()
        .map(|(native, _)| native)
        .find(|h| *h != DEMO_HASH)
        .unwrap();
    wait_for(|| {
        (request(addr, "GET", &format!("/v1/wpc/{new}"), None).status == 200).then_some(())
    });
    let good = support::git(repo.path(), &["rev-parse", "wpc-releases"])
        .trim()
        .to_owned();
    assert_eq!(
        request(addr, "GET", "/health", None).json()["release_commit"],
        good
    );

    // Someone who can push the release branch but holds no trusted key
    // rewrites an envelope: the last verified state stays served.
    forge_envelope(repo.path(), &new, "never merge or deploy.");
    let health = wait_for(|| {
        let h = request(addr, "GET", "/health", None).json();
        (h["status"] == "degraded").then_some(h)
    });
    assert_eq!(health["release_commit"], good);
    assert!(
        health["reason"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{health}"
    );
    gateway_fetch(&server.base(), &new, SIGNER).unwrap();
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("\"event\":\"degraded\""))
    );
}

#[test]
fn serving_beyond_loopback_needs_public_and_sigterm_stops_cleanly() {
    let repo = released("docs/commands/release-demo");
    let out = support::run(repo.path(), &["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        support::stderr(&out).contains("--public"),
        "{}",
        support::stderr(&out)
    );

    let mut server = Server::start(repo.path(), &[]);
    assert_eq!(request(server.addr, "GET", "/health", None).status, 200);
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("\"event\":\"stopped\""))
    );
}

#[test]
fn export_replaces_an_earlier_export_and_refuses_any_other_folder() {
    let repo = released("docs/commands/release-demo");
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    for _ in 0..2 {
        let result = support::run(repo.path(), &["serve", "--export", site.to_str().unwrap()]);
        assert_eq!(
            result.status.code(),
            Some(0),
            "{}",
            support::stderr(&result)
        );
        assert!(site.join(format!("v1/wpc/{DEMO_HASH}")).is_file());
    }
    // Nothing else is left beside it.
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("site")]);

    let other = out.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "mine").unwrap();
    let result = support::run(repo.path(), &["serve", "--export", other.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(2));
    assert!(other.join("keep.txt").is_file());

    // A revoked hash has no file: a static host answers 404.
    let revoked = support::wpc(repo.path())
        .args(["revoke", DEMO_HASH, "--reason", "r"])
        .env("WPC_SIGNING_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(revoked.status.code(), Some(0));
    let result = support::run(repo.path(), &["serve", "--export", site.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(0));
    assert!(!site.join(format!("v1/wpc/{DEMO_HASH}")).exists());
}

#[test]
fn a_branch_that_does_not_verify_is_neither_served_nor_exported() {
    let repo = released("docs/commands/release-demo");
    // Someone who can push the release branch but holds no trusted key
    // rewrites an envelope before the server ever starts.
    forge_envelope(repo.path(), DEMO_HASH, "never merge, deploy or run code.");
    let site = repo.path().join("site");
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["serve", "--export", site.to_str().unwrap()],
    ] {
        let out = support::run(repo.path(), args);
        assert_eq!(out.status.code(), Some(1), "{}", support::stderr(&out));
        assert!(support::stdout(&out).is_empty());
        assert!(
            support::stderr(&out)
                .starts_with("error: release branch `wpc-releases` does not verify"),
            "{}",
            support::stderr(&out)
        );
    }
    assert!(!site.exists());
}

#[test]
fn claw_renderings_are_served_by_their_hash_decided_by_the_native_policy_and_revoked_together() {
    let repo = released("examples/repo");
    let versions = released_versions(repo.path());
    let server = Server::start(repo.path(), &[]);
    let releases = request(server.addr, "GET", "/v1/releases", None).json();
    let (native, renderings) = versions
        .iter()
        .find(|(_, r)| r.len() == 2)
        .expect("a version with both renderings");
    for (kind, hash) in renderings {
        // The gateway's own checks: JCS hash of the payload, signature.
        let payload = gateway_fetch(&server.base(), hash, SIGNER).unwrap();
        let version = if kind == "claw-v1" { "1" } else { "2" };
        assert_eq!(payload["policy_version"], version, "{kind}");
        assert_eq!(
            payload["metadata"]["wpc"]["policy_hash_b64u"],
            native.as_str()
        );
        // /v1/releases lists every hash of the version by kind.
        let listed = releases["policies"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|v| v.as_array().unwrap().iter())
            .find(|v| v["hash"] == native.as_str())
            .unwrap();
        assert_eq!(listed["renderings"][kind], hash.as_str(), "{listed}");
        assert_eq!(listed["renderings"]["native"], native.as_str());
        // Deciding by a rendering's hash decides under the native policy.
        for tool in ["read", "exec", "deploy.prod", "unknown.tool"] {
            let decide = |hash: &str| {
                let call = serde_json::json!({"policy_hash": hash, "tool": tool});
                let reply = request(server.addr, "POST", "/v1/decide", Some(&call.to_string()));
                assert_eq!(reply.status, 200, "{tool}");
                let mut decision = reply.json();
                decision.as_object_mut().unwrap().remove("policy_hash");
                decision
            };
            assert_eq!(decide(hash), decide(native), "{kind} {tool}");
        }
    }
    drop(server);

    // Revoking one rendering's hash revokes the version: every hash of it
    // gets the revoked status, live and in /v1/releases.
    let (_, v1) = &renderings[0];
    revoke(repo.path(), v1, "wrong");
    let server = Server::start(repo.path(), &[]);
    let all = std::iter::once(native).chain(renderings.iter().map(|(_, h)| h));
    for hash in all {
        let reply = request(server.addr, "GET", &format!("/v1/wpc/{hash}"), None);
        assert_eq!(reply.status, 410, "{hash}");
        assert_eq!(reply.json()["error"]["code"], "WPC_REVOKED");
    }
    let releases = request(server.addr, "GET", "/v1/releases", None).json();
    assert!(
        releases
            .to_string()
            .contains(&format!("\"hash\":\"{native}\""))
    );
}

#[test]
fn a_cache_too_small_for_the_bodies_still_serves_each_as_released_and_decides_alike() {
    let repo = released("examples/repo");
    let hashes = released_hashes(repo.path());
    let normal = Server::start(repo.path(), &[]);
    // About two bodies' worth, and one compiled policy: nearly every
    // request reads its envelope again or compiles its policy again.
    let small = Server::start(
        repo.path(),
        &["--body-cache-kib", "4", "--engine-cache", "1"],
    );
    for round in 0..3 {
        for hash in hashes.iter().skip(round) {
            let path = format!("/v1/wpc/{hash}");
            let (a, b) = (
                request(normal.addr, "GET", &path, None),
                request(small.addr, "GET", &path, None),
            );
            assert_eq!((a.status, b.status), (200, 200), "{hash}");
            assert_eq!(a.body, b.body, "{hash}");
            assert_eq!(a.header("etag"), b.header("etag"), "{hash}");
            gateway_fetch(&small.base(), hash, SIGNER).unwrap();
            for tool in ["read", "exec", "repo.write"] {
                let call = format!(r#"{{"policy_hash":"{hash}","tool":"{tool}"}}"#);
                let (a, b) = (
                    request(normal.addr, "POST", "/v1/decide", Some(&call)),
                    request(small.addr, "POST", "/v1/decide", Some(&call)),
                );
                assert_eq!((a.status, b.status), (200, 200), "{call}");
                assert_eq!(a.json(), b.json(), "{call}");
            }
        }
    }
    let health = request(small.addr, "GET", "/health", None).json();
    assert_eq!(health["status"], "ok", "{health}");
    assert!(health.get("refused").is_none(), "{health}");
}

#[test]
fn concurrent_gets_of_every_hash_return_bodies_that_hash_to_their_ids() {
    let repo = released("examples/repo");
    let hashes = released_hashes(repo.path());
    // A cache smaller than the bodies, so reads, inserts and evictions race.
    let server = Server::start(repo.path(), &["--body-cache-kib", "8"]);
    let base = server.base();
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let (hashes, base) = (&hashes, &base);
            scope.spawn(move || {
                for round in 0..4 {
                    for i in 0..hashes.len() {
                        let hash = &hashes[(i + thread + round) % hashes.len()];
                        // The payload's JCS hash is the id, and the
                        // signature verifies against the trusted signer.
                        gateway_fetch(base, hash, SIGNER)
                            .unwrap_or_else(|err| panic!("{hash}: {err}"));
                    }
                }
            });
        }
    });
    let health = request(server.addr, "GET", "/health", None).json();
    assert_eq!(health["status"], "ok", "{health}");
}

/// The loose object file of `id` in the repository at `repo`.
fn loose_object(repo: &Path, id: &str) -> PathBuf {
    let path = repo.join(".git/objects").join(&id[..2]).join(&id[2..]);
    assert!(path.is_file(), "{} is not a loose object", path.display());
    path
}

#[test]
fn an_envelope_changed_in_the_object_database_after_verification_is_refused() {
    let repo = released("docs/commands/release-demo");
    let claw = released_versions(repo.path())[0].1[0].1.clone();
    let blob = |hash: &str| {
        support::git(
            repo.path(),
            &["rev-parse", &format!("wpc-releases:wpc/{hash}.json")],
        )
        .trim()
        .to_owned()
    };
    let server = Server::start(repo.path(), &[]);
    let addr = server.addr;
    let call = format!(r#"{{"policy_hash":"{DEMO_HASH}","tool":"read"}}"#);
    // The native envelope's blob id now names the claw-v1 envelope's bytes
    // (a valid object, signed by the trusted signer, but not the one
    // verified under this hash), before anything was cached.
    let target = loose_object(repo.path(), &blob(DEMO_HASH));
    std::fs::remove_file(&target).unwrap();
    std::fs::copy(loose_object(repo.path(), &blob(&claw)), &target).unwrap();

    for _ in 0..2 {
        let reply = request(addr, "GET", &format!("/v1/wpc/{DEMO_HASH}"), None);
        assert_eq!(reply.status, 500);
        let body = reply.json();
        assert_eq!(body["ok"], false);
        assert_eq!(body["error"]["code"], "WPC_INTEGRITY", "{body}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        assert!(reply.header("etag").is_none());
        assert!(!String::from_utf8_lossy(&reply.body).contains(&claw));
        assert_eq!(
            gateway_fetch(&server.base(), DEMO_HASH, SIGNER),
            Err("WPC_REGISTRY_ERROR 500".into())
        );
    }
    // Deciding needs the same envelope: refused alike.
    let decide = request(addr, "POST", "/v1/decide", Some(&call));
    assert_eq!(decide.status, 500);
    assert_eq!(decide.json()["error"]["code"], "WPC_INTEGRITY");
    // The document whose object is intact is still served.
    gateway_fetch(&server.base(), &claw, SIGNER).unwrap();

    let health = request(addr, "GET", "/health", None).json();
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["refused"], 5, "{health}");
    let reason = health["reason"].as_str().unwrap();
    assert!(
        reason.contains(DEMO_HASH) && reason.contains("not the one verified"),
        "{reason}"
    );
    // Each refusal is logged with the request's id and why.
    let refused = wait_for(|| {
        let refused: Vec<Value> = server
            .log()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["event"] == "refused")
            .collect();
        (refused.len() == 5).then_some(refused)
    });
    assert!(
        refused
            .iter()
            .all(|v| v["id"].is_u64() && v["reason"].as_str().unwrap().contains(DEMO_HASH))
    );
}

/// Commits, on the release branch of `repo`, the envelope of `hash` with
/// `text` in its payload rewritten, and no new signature: what someone who
/// can push that branch but holds no trusted key can do.
fn forge_envelope(repo: &std::path::Path, hash: &str, text: &str) {
    let worktree = repo.join("rel");
    support::git(repo, &["worktree", "add", "-q", "rel", "wpc-releases"]);
    let path = worktree.join(format!("wpc/{hash}.json"));
    let forged = std::fs::read_to_string(&path)
        .unwrap()
        .replace(text, "merge at will.");
    std::fs::write(&path, forged).unwrap();
    support::git(&worktree, &["commit", "-q", "-am", "forged"]);
}

//! `wpc serve` under bounded loopback load: a release branch of 10,000
//! released versions, the server as a child process, 64 keep-alive
//! connections for a fixed time per route. Prints requests/s, p50/p99
//! latency, the server's CPU time, its RSS after start-up and after each
//! route (anonymous and file-backed) and its peak, `wpc fetch` per call
//! for comparison, and the machine's load averages before and after. The client runs on the same machine and takes its share
//! of the CPU; the server's CPU time per request says what it costs alone.
//!
//! Goals: ≥ 20,000 GET/s with p99 ≤ 5 ms, ≥ 10,000 decisions/s, RSS with
//! 10,000 versions ≤ 100 MB.
//!
//! `cargo bench --bench serve` (`SERVE_BENCH_SECONDS`, default 5 per route;
//! `SERVE_BENCH_REPO=DIR` keeps the released repository in DIR and uses it
//! again on the next run; `SERVE_BENCH_ARGS` adds options to `wpc serve`,
//! such as `--body-cache-kib 8192`)

// A benchmark whose fixed repository does not build has nothing to measure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VERSIONS: usize = 10_000;
const CONNECTIONS: usize = 64;
/// The demo release key of docs/commands/release-demo (public seed).
const KEY: &str = "l5qSjGgdbSkNgbPETkEJSDlw09nrMgBeu4lBm8VPv6s";
const WPC: &str = env!("CARGO_BIN_EXE_wpc");

fn policy(i: usize) -> String {
    format!(
        r#"wpc_version = "1"
policy_name = "p{i:05}"
purpose = "Benchmark policy {i}."

[constraints.tool_policy]
allow = ["read", "search", "repo.read", "svc{i}.read"]
deny = ["exec", "shell", "secrets.*"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"
network = "egress-allowlist"

[constraints.model_calls]
route_via = "clawproxy"
receipts_required = true

[constraints.token]
max_ttl_seconds = 900

[binding]
cst_scope_hash_required = true
"#
    )
}

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("WPC_SIGNING_KEY", KEY)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository with one commit of VERSIONS policies, released; the hashes.
fn repository(dir: &Path) -> Vec<String> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands/release-demo");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::copy(demo.join("wpc.toml"), dir.join("wpc.toml")).unwrap();
    std::fs::copy(
        demo.join("keys/trusted-signers.toml"),
        dir.join("keys/trusted-signers.toml"),
    )
    .unwrap();
    for i in 0..VERSIONS {
        std::fs::write(dir.join(format!("policies/p{i:05}.toml")), policy(i)).unwrap();
    }
    run(dir, "git", &["init", "-q", "-b", "main"]);
    run(dir, "git", &["add", "."]);
    run(dir, "git", &["commit", "-q", "-m", "policies"]);
    let started = Instant::now();
    run(dir, WPC, &["release"]);
    println!(
        "released {VERSIONS} versions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    native_hashes(dir)
}

/// The native hash of every released version.
fn native_hashes(dir: &Path) -> Vec<String> {
    released(dir, false)
}

/// Every released hash: each version's native one, and with `renderings`
/// its Claw renderings' too.
fn released(dir: &Path, renderings: bool) -> Vec<String> {
    let index = run(dir, "git", &["show", "wpc-releases:index.json"]);
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    index["policies"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap().iter())
        .flat_map(|e| {
            let claw = e["renderings"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(move |_| renderings)
                .map(|(_, hash)| hash.as_str().unwrap().to_owned());
            std::iter::once(e["hash"].as_str().unwrap().to_owned()).chain(claw)
        })
        .collect()
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

/// The 1-, 5- and 15-minute load averages: the machine is shared, and
/// every figure is read against them.
fn load_averages() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server's resident memory now: total, then anonymous (the heap) and
/// file-backed (the binary's pages and mapped Git packs).
fn rss(pid: u32) -> String {
    format!(
        "RSS {} MB (anonymous {} MB, file-backed {} MB)",
        status_kb(pid, "VmRSS:") / 1024,
        status_kb(pid, "RssAnon:") / 1024,
        status_kb(pid, "RssFile:") / 1024
    )
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Read one response on a keep-alive connection; its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    status
}

/// CONNECTIONS clients sending `request(i)` for `seconds`; (requests/s,
/// p50 ms, p99 ms, server CPU seconds per 1,000 requests).
fn load(
    addr: SocketAddr,
    pid: u32,
    seconds: f64,
    request: impl Fn(usize) -> Vec<u8> + Sync,
) -> (f64, f64, f64, f64) {
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let latencies: Vec<Vec<u32>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let request = &request;
                scope.spawn(move || {
                    let stream = TcpStream::connect(addr).unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut out = Vec::new();
                    let mut i = c * 7919;
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        writer.write_all(&request(i)).unwrap();
                        assert_eq!(read_response(&mut reader), 200);
                        out.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                        i += 1;
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let mut all: Vec<u32> = latencies.into_iter().flatten().collect();
    all.sort_unstable();
    let at = |q: f64| f64::from(all[((all.len() as f64 - 1.0) * q) as usize]) / 1000.0;
    let n = all.len() as f64;
    (n / elapsed, at(0.5), at(0.99), cpu / n * 1000.0)
}

fn main() {
    let seconds: f64 = std::env::var("SERVE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    println!("load averages at the start: {}", load_averages());
    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("SERVE_BENCH_REPO").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temporary.path());
    let hashes = if dir.join(".git").is_dir() {
        native_hashes(dir)
    } else {
        repository(dir)
    };
    assert_eq!(hashes.len(), VERSIONS);
    let extra = std::env::var("SERVE_BENCH_ARGS").unwrap_or_default();
    println!("wpc serve {extra}");

    let addr = free_port();
    let started = Instant::now();
    let mut server: Child = Command::new(WPC)
        .args(["serve", "--listen", &addr.to_string()])
        .args(extra.split_whitespace())
        .current_dir(dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while TcpStream::connect(addr).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = server.id();
    println!(
        "server verified and loaded {VERSIONS} versions in {:.2} s; {}",
        started.elapsed().as_secs_f64(),
        rss(pid)
    );

    let get = |i: usize| {
        format!(
            "GET /v1/wpc/{} HTTP/1.1\r\nHost: bench\r\n\r\n",
            hashes[i % hashes.len()]
        )
        .into_bytes()
    };
    let (rps, p50, p99, cpu) = load(addr, pid, seconds, get);
    println!(
        "GET /v1/wpc/{{hash}}: {rps:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms, server CPU {cpu:.3} s per 1,000 ({CONNECTIONS} connections, {seconds} s)"
    );
    println!("server after GET: {}", rss(pid));
    // Every rendering: three times the bodies, more than the default cache
    // holds, so most of these read their envelope from Git again.
    let every = released(dir, true);
    let get_every = |i: usize| {
        format!(
            "GET /v1/wpc/{} HTTP/1.1\r\nHost: bench\r\n\r\n",
            every[i.wrapping_mul(7) % every.len()]
        )
        .into_bytes()
    };
    let (rps, p50, p99, cpu) = load(addr, pid, seconds, get_every);
    println!(
        "GET /v1/wpc/{{hash}} over all {} hashes (native and Claw renderings): {rps:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms, server CPU {cpu:.3} s per 1,000",
        every.len()
    );
    println!("server after GET of every hash: {}", rss(pid));
    let tools = ["read", "exec", "search", "repo.write"];
    let decide = |i: usize| {
        let body = format!(
            r#"{{"policy_hash":"{}","tool":"{}"}}"#,
            hashes[i % hashes.len()],
            tools[i % tools.len()]
        );
        format!(
            "POST /v1/decide HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let (rps, p50, p99, cpu) = load(addr, pid, seconds, decide);
    println!(
        "POST /v1/decide: {rps:.0} decisions/s, p50 {p50:.2} ms, p99 {p99:.2} ms, server CPU {cpu:.3} s per 1,000 (first decision per policy compiles it)"
    );
    println!(
        "server after decide (every version's policy compiled): {}; peak RSS {} MB; {VERSIONS} released versions",
        rss(pid),
        status_kb(pid, "VmHWM:") / 1024
    );
    let _ = server.kill();
    let _ = server.wait();

    let calls = 5;
    let started = Instant::now();
    for hash in hashes.iter().take(calls) {
        run(dir, WPC, &["fetch", hash]);
    }
    println!(
        "wpc fetch: {:.0} ms per call ({calls} calls; each opens the repository and verifies one envelope)",
        started.elapsed().as_secs_f64() * 1000.0 / calls as f64
    );
    println!("load averages at the end: {}", load_averages());
}

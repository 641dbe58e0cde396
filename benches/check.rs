//! Benchmark: `wpc check` on a repository of 10,000 valid policies, and
//! `check-jsonschema` validating the same 10,000 payloads (as JSON) against
//! `schema/wpc.v1.schema.json`.
//!
//! Goal: `wpc check` ≤ 1.0 s wall on a 2-core machine.
//!
//! Run it with `scripts/bench-check.sh` (installs check-jsonschema in a venv,
//! builds release, runs this), or `cargo bench --bench check`. Without
//! `--bench` (as under `cargo test --benches`) it runs a small smoke version.
//!
//! Environment:
//! - `WPC_BENCH_POLICIES`: number of policies (default 10000; smoke 200)
//! - `WPC_BENCH_RUNS`: timed `wpc check` runs after one warm-up (default 7)
//! - `WPC_BENCH_CJS_RUNS`: check-jsonschema runs (default 2; a second run is
//!   skipped when the first took over 60 s)
//! - `WPC_BENCH_KEEP=1`: keep the generated repository (its path is printed)
//! - `WPC_BIN`: the `wpc` binary to time (default: the one Cargo built)
//! - `CHECK_JSONSCHEMA`: the check-jsonschema executable (default: from PATH)

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rayon::prelude::*;

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/wpc.v1.schema.json");
const GOAL: Duration = Duration::from_secs(1);
/// Argument bytes per check-jsonschema invocation; ARG_MAX is 2 MiB on Linux,
/// shared with the environment.
const ARG_BUDGET: usize = 1024 * 1024;

fn main() -> anyhow::Result<()> {
    let full = std::env::args().any(|a| a == "--bench");
    let policies = env_usize("WPC_BENCH_POLICIES", if full { 10_000 } else { 200 })?;
    let runs = env_usize("WPC_BENCH_RUNS", if full { 7 } else { 1 })?.max(1);
    let cjs_runs = env_usize("WPC_BENCH_CJS_RUNS", if full { 2 } else { 0 })?;
    let wpc = std::env::var_os("WPC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wpc")));

    let dir = tempfile::Builder::new()
        .prefix("wpc-bench-")
        .tempdir()
        .context("temp dir")?;
    let repo = dir.path().join("repo");
    let json_dir = dir.path().join("json");
    eprintln!("generating {policies} policies in {} ...", repo.display());
    let started = Instant::now();
    let corpus = generate(&repo, &json_dir, policies)?;
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());

    // The run must be clean, or we would be timing error rendering.
    let validation = run_wpc(&wpc, &repo, &["--fail-on", "warning"])?;
    if !validation.status.success() {
        bail!(
            "the generated repository is not lint-clean (exit {:?}):\n{}",
            validation.status.code(),
            head(&validation.stdout, 40)
        );
    }
    let wpc_said = String::from_utf8_lossy(&validation.stdout)
        .trim()
        .to_owned();
    if !wpc_said.ends_with("no findings") {
        bail!(
            "the generated repository has findings; the benchmark times a clean run:\n{}\n...\n{}",
            head(&validation.stdout, 20),
            wpc_said.lines().last().unwrap_or_default()
        );
    }

    // The validation run above was the warm-up (page cache, binary).
    let load_before = load_average();
    let mut times = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    for _ in 0..runs {
        let cpu_before = children_cpu();
        let started = Instant::now();
        let out = run_wpc(&wpc, &repo, &[])?;
        let elapsed = started.elapsed();
        if let (Some(before), Some(after)) = (cpu_before, children_cpu()) {
            cpu.push(after.saturating_sub(before));
        }
        if !out.status.success() {
            bail!("wpc check failed:\n{}", head(&out.stdout, 40));
        }
        times.push(elapsed);
    }
    times.sort();
    cpu.sort();
    let min = times[0];
    let median = times[times.len() / 2];
    let files = corpus.policies + 1; // and wpc.toml

    let cjs = check_jsonschema(&json_dir, &corpus.json_files, cjs_runs)?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut s = String::new();
    let line = "=".repeat(72);
    let _ = writeln!(
        s,
        "\n{line}\nwpc check benchmark{}\n{line}",
        if full {
            ""
        } else {
            " (smoke run: pass --bench for the real one)"
        }
    );
    let _ = writeln!(s, "machine          {cores} cores");
    let _ = writeln!(
        s,
        "corpus           {} policies (each with a .test.toml; + wpc.toml), {:.1} lines and {:.1} KiB on average, {:.1} MiB total",
        corpus.policies,
        corpus.lines as f64 / corpus.policies as f64,
        corpus.bytes as f64 / corpus.policies as f64 / 1024.0,
        corpus.bytes as f64 / (1024.0 * 1024.0)
    );
    let _ = writeln!(
        s,
        "command          {} check {}",
        wpc.display(),
        repo.display()
    );
    let _ = writeln!(s, "wpc says         {wpc_said}");
    let _ = writeln!(
        s,
        "wpc check        {} runs: min {:.3} s, median {:.3} s, max {:.3} s",
        times.len(),
        min.as_secs_f64(),
        median.as_secs_f64(),
        times[times.len() - 1].as_secs_f64()
    );
    if let Some(median_cpu) = cpu.get(cpu.len() / 2) {
        let _ = writeln!(
            s,
            "wpc cpu          median {:.2} s user+sys per run (the 1 s goal allows {:.1} s on {cores} cores)",
            median_cpu.as_secs_f64(),
            GOAL.as_secs_f64() * cores as f64,
        );
    }
    if let Some(load) = load_before {
        let _ = writeln!(
            s,
            "load average     {load} before the timed runs (other work inflates wall time)"
        );
    }
    let _ = writeln!(
        s,
        "throughput       {:.0} files/s at the median ({:.0} at the min)",
        files as f64 / median.as_secs_f64(),
        files as f64 / min.as_secs_f64()
    );
    let verdict = match (full, median <= GOAL) {
        (false, _) => "not judged (smoke run)",
        (true, true) => "MET",
        (true, false) => "MISSED",
    };
    let _ = writeln!(
        s,
        "goal             median ≤ {:.1} s: {verdict}",
        GOAL.as_secs_f64()
    );
    match cjs {
        Cjs::Skipped(why) => {
            let _ = writeln!(s, "check-jsonschema skipped: {why}");
        }
        Cjs::Timed {
            version,
            times,
            invocations,
        } => {
            let cjs_min = times.iter().min().copied().unwrap_or_default();
            let _ = writeln!(
                s,
                "check-jsonschema {version}: {} run(s) of {invocations} invocation(s) over {} JSON files: min {:.3} s ({})",
                times.len(),
                corpus.json_files.len(),
                cjs_min.as_secs_f64(),
                times
                    .iter()
                    .map(|t| format!("{:.3}", t.as_secs_f64()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let _ = writeln!(
                s,
                "ratio            check-jsonschema / wpc check = {:.1}x (min vs min), {:.1}x (min vs wpc median)",
                cjs_min.as_secs_f64() / min.as_secs_f64(),
                cjs_min.as_secs_f64() / median.as_secs_f64()
            );
            let _ = writeln!(
                s,
                "                 (wpc parses TOML, checks the schema, hashes (JCS + SHA-256) and lints;\n                  check-jsonschema parses JSON and checks the schema only)"
            );
        }
    }
    let _ = writeln!(s, "{line}");
    print!("{s}");

    if std::env::var_os("WPC_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        eprintln!("kept the corpus in {}", kept.display());
    }
    Ok(())
}

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v} is not a number")),
        Err(_) => Ok(default),
    }
}

fn run_wpc(wpc: &Path, repo: &Path, extra: &[&str]) -> anyhow::Result<Output> {
    Command::new(wpc)
        .arg("check")
        .args(extra)
        .arg(repo)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", wpc.display()))
}

/// User + system CPU time of this process's waited-for children so far
/// (Linux: `/proc/self/stat` fields cutime and cstime, in clock ticks,
/// assumed 100 per second as on every mainstream Linux).
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name, which may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); cutime and cstime are fields 16, 17.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn head(bytes: &[u8], lines: usize) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .take(lines)
        .collect::<Vec<_>>()
        .join("\n")
}

enum Cjs {
    Skipped(String),
    Timed {
        version: String,
        times: Vec<Duration>,
        invocations: usize,
    },
}

/// Time check-jsonschema over every JSON payload, in as few invocations as
/// the argument-length limit allows (their times are summed).
fn check_jsonschema(json_dir: &Path, files: &[String], runs: usize) -> anyhow::Result<Cjs> {
    if runs == 0 {
        return Ok(Cjs::Skipped(
            "WPC_BENCH_CJS_RUNS=0 (or smoke run)".to_owned(),
        ));
    }
    let exe =
        std::env::var_os("CHECK_JSONSCHEMA").unwrap_or_else(|| OsString::from("check-jsonschema"));
    let version = match Command::new(&exe).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or("?")
            .to_owned(),
        _ => {
            return Ok(Cjs::Skipped(
                "check-jsonschema not found; install it with `pipx install check-jsonschema` \
                 (or `python3 -m venv v && v/bin/pip install check-jsonschema` and put v/bin on PATH), \
                 or run scripts/bench-check.sh"
                    .to_owned(),
            ));
        }
    };
    let mut chunks: Vec<&[String]> = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, f) in files.iter().enumerate() {
        let cost = f.len() + 1 + std::mem::size_of::<usize>();
        if bytes + cost > ARG_BUDGET && i > start {
            chunks.push(&files[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += cost;
    }
    if start < files.len() {
        chunks.push(&files[start..]);
    }
    let mut times = Vec::new();
    for run in 0..runs {
        if run > 0 && times.iter().any(|t: &Duration| t.as_secs() > 60) {
            break;
        }
        eprintln!(
            "check-jsonschema run {} of {runs} ({} invocation(s)) ...",
            run + 1,
            chunks.len()
        );
        let mut total = Duration::ZERO;
        for chunk in &chunks {
            let started = Instant::now();
            let out = Command::new(&exe)
                .arg("--schemafile")
                .arg(SCHEMA)
                .args(chunk.iter())
                .current_dir(json_dir)
                .stdin(Stdio::null())
                .output()
                .context("cannot run check-jsonschema")?;
            total += started.elapsed();
            if !out.status.success() {
                bail!(
                    "check-jsonschema rejected the payloads (exit {:?}):\n{}\n{}",
                    out.status.code(),
                    head(&out.stdout, 20),
                    head(&out.stderr, 20)
                );
            }
        }
        times.push(total);
    }
    Ok(Cjs::Timed {
        version,
        times,
        invocations: chunks.len(),
    })
}

struct Corpus {
    policies: usize,
    lines: usize,
    bytes: usize,
    /// JSON payload file names, relative to the JSON folder.
    json_files: Vec<String>,
}

/// Write `wpc.toml`, `count` policies (each with a `.test.toml`) under
/// `policies/<team>/`, and each
/// policy's payload as `json/<name>.json` (read back through wpc's own loader,
/// so it is exactly the payload wpc hashes).
fn generate(repo: &Path, json_dir: &Path, count: usize) -> anyhow::Result<Corpus> {
    std::fs::create_dir_all(repo.join("policies"))?;
    std::fs::create_dir_all(json_dir)?;
    std::fs::write(repo.join("wpc.toml"), CONFIG)?;
    for team in TEAMS {
        std::fs::create_dir_all(repo.join("policies").join(team))?;
    }
    let written: Vec<(String, usize, usize)> = (0..count)
        .into_par_iter()
        .map(|i| -> anyhow::Result<(String, usize, usize)> {
            let (team, name, text) = policy(i, count);
            let path = repo
                .join("policies")
                .join(team)
                .join(format!("{name}.toml"));
            std::fs::write(&path, &text).with_context(|| path.display().to_string())?;
            // Every policy has its tests (else WPC018 reports it); `wpc check`
            // only looks for the file, `wpc test` runs it.
            let tests = repo
                .join("policies")
                .join(team)
                .join(format!("{name}.test.toml"));
            std::fs::write(&tests, TESTS).with_context(|| tests.display().to_string())?;
            let loaded = wpc::policy::Policy::load(&path).map_err(|findings| {
                anyhow::anyhow!(
                    "generated policy {} does not load: {findings:?}\n{text}",
                    path.display()
                )
            })?;
            let json_name = format!("{name}.json");
            let json = serde_json::to_vec(&loaded.doc.value)?;
            std::fs::write(json_dir.join(&json_name), json)?;
            Ok((json_name, text.lines().count(), text.len()))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut corpus = Corpus {
        policies: count,
        lines: 0,
        bytes: 0,
        json_files: Vec::with_capacity(count),
    };
    for (json_name, lines, bytes) in written {
        corpus.lines += lines;
        corpus.bytes += bytes;
        corpus.json_files.push(json_name);
    }
    Ok(corpus)
}

const CONFIG: &str = r#"# Benchmark repository generated by benches/check.rs.
[policies]
dir = "policies"

[lint]
max_ttl_seconds = 3600
dangerous_tools = ["exec", "shell", "process", "deploy.*", "*.merge", "secrets.*", "db.write*"]

[lint.rules]
WPC009 = "error"

[approvals]
widening = { teams = ["acme/security"], min = 1 }
critical = { teams = ["acme/security", "acme/platform"], min = 2 }

[release]
branch = "wpc-releases"
"#;

/// Cases that hold for every generated policy (`shell` and `*.merge` are
/// always denied, and default deny covers unknown tools).
const TESTS: &str = r#"[[case]]
name = "never runs a shell"
tool = "shell"
expect = "deny"

[[case]]
name = "never merges"
tool = "repo.merge"
expect = "deny"

[[case]]
name = "unknown tools are denied"
tool = "unknown.tool"
expect = "deny"
"#;

const TEAMS: &[&str] = &[
    "payments", "search", "growth", "platform", "data", "security", "mobile", "web", "billing",
    "support", "infra", "ml", "identity", "checkout", "catalog", "ads", "risk", "docs", "sre",
    "legal",
];

const ROLES: &[(&str, &str)] = &[
    ("reviewer", "Review pull requests and comment on them"),
    ("triager", "Label and route incoming issues"),
    (
        "analyst",
        "Answer business questions with read-only queries",
    ),
    ("writer", "Draft and update documentation pages"),
    ("oncall", "Summarise alerts and propose runbook steps"),
    (
        "deployer",
        "Roll out tagged releases to staging after a ticket is filed",
    ),
    (
        "auditor",
        "Audit dependencies and report vulnerable packages",
    ),
    (
        "assistant",
        "Answer questions from the knowledge base in chat",
    ),
    (
        "fixer",
        "Propose small code fixes on a branch for human review",
    ),
    ("reporter", "Build weekly metric reports and charts"),
];

/// Tools that are safe to allow. None overlaps a dangerous pattern except
/// the `*` families (which reach `*.merge`, always denied below).
const SAFE_TOOLS: &[&str] = &[
    "read",
    "search",
    "repo.diff",
    "repo.comment",
    "repo.read",
    "issues.read",
    "issues.comment",
    "issues.label",
    "docs.*",
    "chart.render",
    "db.query",
    "db.schema",
    "web.fetch",
    "calendar.read",
    "ticket.create",
    "ticket.read",
    "slack.post",
    "email.draft",
    "metrics.query",
    "logs.search",
    "kb.*",
    "translate",
    "summarize",
    "code.search",
    "ci.status",
    "ci.logs",
    "pkg.audit",
];

/// Extra denies; none covers a safe tool.
const EXTRA_DENY: &[&str] = &[
    "db.write*",
    "web.post",
    "repo.push",
    "email.send",
    "slack.admin*",
    "iam.*",
];

const PROVIDERS: &[&str] = &["anthropic", "openai", "google", "mistral"];
const MODELS: &[&str] = &["claude-*", "gpt-5*", "gemini-2*", "mistral-large-*"];
const HOSTS: &[&str] = &[
    "api.github.com",
    "*.acme.example",
    "warehouse.acme.example:443",
    "slack.com",
    "hooks.slack.com",
    "registry.npmjs.org",
    "pypi.org",
    "docs.acme.example",
];
const TTLS: &[u64] = &[600, 900, 1200, 1800, 2700, 3600];

/// A small deterministic generator (SplitMix64), so every run benchmarks the
/// same corpus.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// `min + below(spread)` distinct items, in pool order.
    fn some<'a>(&mut self, items: &[&'a str], min: usize, spread: usize) -> Vec<&'a str> {
        let k = min + self.below(spread);
        let mut chosen = vec![false; items.len()];
        let mut left = k.min(items.len());
        while left > 0 {
            let i = self.below(items.len());
            if !chosen[i] {
                chosen[i] = true;
                left -= 1;
            }
        }
        items
            .iter()
            .zip(chosen)
            .filter(|(_, c)| *c)
            .map(|(t, _)| *t)
            .collect()
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The `i`th policy: (team folder, policy name, TOML text). Valid and
/// lint-clean under `CONFIG`.
fn policy(i: usize, count: usize) -> (&'static str, String, String) {
    let mut rng = Rng(0x5750_4331 ^ (i as u64).wrapping_mul(0x0100_0000_01B3));
    let team = TEAMS[i % TEAMS.len()];
    let (role, purpose) = ROLES[rng.below(ROLES.len())];
    let name = format!("{team}-{role}-{i:05}");
    let deploys = role == "deployer";

    let mut allow = rng.some(SAFE_TOOLS, 3, 6);
    if deploys {
        allow.extend(["deploy.staging", "deploy.status"]);
    }
    let mut deny = vec!["exec", "shell", "process", "*.merge", "secrets.*"];
    if !deploys {
        deny.push("deploy.*");
    }
    deny.extend(rng.some(EXTRA_DENY, 0, 4));

    let workspace = match rng.below(10) {
        0..=1 => "rw",
        2 => "none",
        _ => "ro",
    };
    let network = if rng.chance(70) {
        "egress-allowlist"
    } else {
        "none"
    };

    let mut t = String::with_capacity(2048);
    let _ = writeln!(
        t,
        "# Synthetic policy {} of {count} for the wpc check benchmark.",
        i + 1
    );
    let _ = writeln!(t, "wpc_version = \"1\"");
    let _ = writeln!(t, "policy_name = \"{name}\"");
    let _ = writeln!(
        t,
        "purpose = \"{purpose} for the {team} team (agent {i}).\""
    );
    let _ = writeln!(t, "issuer_did = \"did:web:{team}.acme.example\"");
    if rng.chance(30) {
        let _ = writeln!(t, "revision = {}", rng.below(5));
    }
    let _ = writeln!(
        t,
        "\n[constraints.tool_policy]\nallow = {}\ndeny = {}",
        list(&allow),
        list(&deny)
    );
    let _ = writeln!(
        t,
        "\n[constraints.sandbox]\nrequired = true\nworkspaceAccess = \"{workspace}\"\nelevated_exec = \"deny\"\nnetwork = \"{network}\""
    );

    // Gates name tools the policy allows (concrete names, not families).
    let concrete: Vec<&str> = allow.iter().copied().filter(|t| !t.contains('*')).collect();
    let mut gates: Vec<(String, &str, String)> = Vec::new();
    if deploys {
        gates.push((
            "tool.startsWith('deploy.') && tool != 'deploy.status'".to_owned(),
            "ticket_id",
            "rollouts are tied to a change ticket".to_owned(),
        ));
    }
    for _ in 0..1 + rng.below(3) {
        let tool = concrete
            .get(rng.below(concrete.len().max(1)))
            .copied()
            .unwrap_or("read");
        let (when, reason) = match rng.below(4) {
            0 => (
                format!("tool == '{tool}' && content.contains('SECURITY:')"),
                "security findings are triaged first",
            ),
            1 => (
                format!("tool == '{tool}' && env == 'prod'"),
                "production use is reviewed",
            ),
            2 => (
                format!("tool == '{tool}' && size(content) > 4000"),
                "large outputs are reviewed",
            ),
            _ => (
                format!("tool == '{tool}' && target.startsWith('.github/')"),
                "CI configuration is protected",
            ),
        };
        gates.push((when, "human_approval", reason.to_owned()));
    }
    for (when, require, reason) in &gates {
        let _ = writeln!(
            t,
            "\n[[constraints.approvals]]\nwhen = \"{when}\"\nrequire = \"{require}\"\napprovers = [\"acme/{team}-leads\"]\nreason = \"{reason}\""
        );
    }

    let providers = rng.some(PROVIDERS, 1, 2);
    let models = rng.some(MODELS, 1, 3);
    let _ = writeln!(
        t,
        "\n[constraints.model_calls]\nroute_via = \"clawproxy\"\nreceipts_required = true\nallowed_providers = {}\nallowed_models = {}",
        list(&providers),
        list(&models)
    );
    if network == "egress-allowlist" {
        let _ = writeln!(
            t,
            "\n[constraints.egress]\nallowlist = {}",
            list(&rng.some(HOSTS, 1, 3))
        );
    }
    let _ = writeln!(
        t,
        "\n[constraints.token]\nmax_ttl_seconds = {}",
        TTLS[rng.below(TTLS.len())]
    );
    let _ = writeln!(
        t,
        "\n[binding]\ncst_scope_hash_required = true\noptional_policy_hash_pinning = {}",
        rng.chance(80)
    );
    let _ = writeln!(
        t,
        "\n[metadata]\nowner = \"acme/{team}\"\ncost_center = \"CC-{:04}\"\ntier = \"{}\"\ntags = {}",
        rng.below(10_000),
        rng.pick(&["gold", "silver", "bronze"]),
        list(&[team, role, "synthetic"])
    );
    (team, name, t)
}

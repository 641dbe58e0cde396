//! Time to audit a realistic OpenClaw config (20 agents, 5 included files)
//! against a WPC, once and as a batch of 1,000 distinct configs; prints the
//! time per config. Run: `cargo bench --bench openclaw`.

// A benchmark whose generated fixtures cannot be written has nothing to measure.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wpc::openclaw::{self, AuditOptions, Target, ToolMap};
use wpc::policy::Policy;

const AGENTS: usize = 20;
const CONFIGS: usize = 1_000;

fn agent(i: usize, n: usize) -> String {
    let profile = ["coding", "messaging", "minimal", "coding"][i % 4];
    let mode = ["all", "non-main", "all", "off"][i % 4];
    format!(
        r#"    "agent-{n}-{i}": {{
      model: "{provider}/model-{i}",
      sandbox: {{ mode: "{mode}", workspaceAccess: "ro", docker: {{ binds: ["/srv/repo-{i}:/repo:ro"], network: "none" }} }},
      tools: {{
        profile: "{profile}",
        alsoAllow: ["read", "web_fetch"],
        deny: ["group:automation", "bash", "sessions_*"],
        byProvider: {{ openai: {{ deny: ["group:ui"] }} }},
        elevated: {{ enabled: false }},
        exec: {{ mode: "allowlist", host: "sandbox" }},
      }},
    }},
"#,
        provider = if i % 2 == 0 { "anthropic" } else { "openai" },
    )
}

/// Write config `n` and its five includes under `dir`; return the main file.
fn write_config(dir: &Path, n: usize) -> PathBuf {
    std::fs::create_dir_all(dir.join("inc")).expect("mkdir");
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).expect("write");
    write(
        "inc/gateway.json5",
        r#"{ mode: "local", bind: "loopback", auth: { mode: "token", token: "${OPENCLAW_GATEWAY_TOKEN}" },
  controlUi: { allowedOrigins: ["https://ui.example"] }, trustedProxies: ["127.0.0.1"] }"#
            .to_owned(),
    );
    write(
        "inc/tools.json5",
        r#"{ profile: "coding", deny: ["group:nodes", "gateway"], fs: { workspaceOnly: true },
  elevated: { enabled: false }, exec: { mode: "ask" },
  byProvider: { "anthropic/model-3": { profile: "minimal" } },
  sandbox: { tools: { alsoAllow: ["web_fetch"] } } }"#
            .to_owned(),
    );
    write(
        "inc/sandbox.json5",
        r#"{ sandbox: { mode: "all", scope: "agent", workspaceAccess: "none", docker: { network: "none", capDrop: ["ALL"] } },
  model: "anthropic/model-0" }"#
            .to_owned(),
    );
    for (file, range) in [
        ("inc/agents-a.json5", 0..AGENTS / 2),
        ("inc/agents-b.json5", AGENTS / 2..AGENTS),
    ] {
        let agents: String = range.map(|i| agent(i, n)).collect();
        write(file, format!("{{\n{agents}}}\n"));
    }
    write(
        "openclaw.json5",
        format!(
            r#"// Config {n}: 20 agents over five included files.
{{
  gateway: {{ $include: "inc/gateway.json5", port: {port} }},
  tools: {{ $include: "inc/tools.json5" }},
  agents: {{
    defaults: {{ $include: "inc/sandbox.json5" }},
    entries: {{ $include: ["inc/agents-a.json5", "inc/agents-b.json5"] }},
  }},
  channels: {{ telegram: {{ dmPolicy: "pairing", groupPolicy: "allowlist", botToken: "${{TELEGRAM_TOKEN}}" }} }},
  hooks: {{ enabled: true, path: "/hooks", token: "${{HOOKS_TOKEN}}", allowedAgentIds: ["agent-{n}-0"] }},
  plugins: {{ allow: ["bundle-mcp"] }},
  mcp: {{ servers: {{ github: {{ command: "gh-mcp" }} }} }},
}}
"#,
            port = 18_000 + n % 1000,
        ),
    );
    dir.join("openclaw.json5")
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let policy = Policy::load(&root.join("examples/repo/policies/agent-change-reviewer.toml"))
        .expect("example policy");
    let target = Target::new(policy, ToolMap::default(), None).expect("engine");
    let options = AuditOptions::default();
    let dir = tempfile::tempdir().expect("tempdir");
    let configs: Vec<PathBuf> = (0..CONFIGS)
        .map(|n| write_config(&dir.path().join(format!("c{n}")), n))
        .collect();

    let first = openclaw::audit(&configs[0], Some(&target), &options);
    assert!(
        !first.iter().any(|f| f.code == "OC001" || f.code == "OC003"),
        "fixture does not load: {first:?}"
    );
    println!(
        "one config: {} findings (20 agents, 5 includes)",
        first.len()
    );

    // One config, repeated: the median of 200 runs after a warm-up.
    for _ in 0..20 {
        black_box(openclaw::audit(&configs[0], Some(&target), &options));
    }
    let mut samples: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            black_box(openclaw::audit(&configs[0], Some(&target), &options));
            start.elapsed()
        })
        .collect();
    samples.sort();
    println!(
        "one config:    median {:?} per config (200 runs)",
        samples[samples.len() / 2]
    );

    // 1,000 distinct configs, one after another.
    let start = Instant::now();
    let mut findings = 0;
    for config in &configs {
        findings += black_box(openclaw::audit(config, Some(&target), &options)).len();
    }
    let total = start.elapsed();
    println!(
        "1,000 configs: {total:?} total, {:?} per config ({findings} findings)",
        total / CONFIGS as u32
    );
}

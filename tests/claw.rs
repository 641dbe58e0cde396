//! The Claw protocol export (`wpc compile|hash --target claw-v1|claw-v2`):
//! every rendering validates against the protocol's own schemas, its hash
//! is SHA-256 of its JCS bytes, and the v2 export never allows a call that
//! the native decision function denies.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use support::{root, run, stderr, stdout};
use wpc::claw::evaluate::{Effect, Evaluator};
use wpc::claw::{self, ClawVersion, ExportSettings};
use wpc::decide::reach::{Egress, Models};
use wpc::decide::{Call, Engine, Verdict};
use wpc::policy::{Document, Policy};
use wpc::report::SourceFile;

const ISSUER: &str = "did:web:policies.example";

/// SplitMix64: a seeded, reproducible stream for generating policies and calls.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn policy_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".toml") && !name.ends_with(".test.toml")
        })
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Policy {
    Policy::load(path).unwrap_or_else(|f| panic!("{}: {f:?}", path.display()))
}

fn parse(name: &str, text: &str) -> Policy {
    let doc = Document::parse(SourceFile::new(format!("policies/{name}.toml"), text)).unwrap();
    Policy::from_document(doc).unwrap_or_else(|f| panic!("{text}\n{f:?}"))
}

const TOOLS: &[&str] = &[
    "read",
    "search",
    "edit",
    "write",
    "exec",
    "shell",
    "repo.diff",
    "repo.comment",
    "repo.merge",
    "deploy.prod",
    "deploy.staging",
    "deploy.status",
    "web.fetch",
    "db.query",
];
const TOOL_PATTERNS: &[&str] = &[
    "deploy.*",
    "repo.*",
    "*.merge",
    "secrets.*",
    "db.*",
    "*",
    "web.*",
];
const MODELS: &[&str] = &[
    "claude-*",
    "gpt-4o",
    "gpt-5.*",
    "gemini-*",
    "*",
    "claude-sonnet-4",
];
const HOSTS: &[&str] = &[
    "api.github.com",
    "*.wikipedia.org",
    "docs.example.com",
    "*.internal",
    "*",
];
const GATES: &[&str] = &[
    "tool == 'deploy.prod'",
    "tool.startsWith('deploy.') && tool != 'deploy.status'",
    "tool in ['edit', 'write']",
    "tool == 'repo.comment' && content.contains('SECURITY:')",
    "content.size() > 100",
    "target.startsWith('/etc')",
    "tool == 'db.query' && args.sql.contains('DELETE')",
];

fn list(rng: &mut Rng, from: &[&str], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for _ in 0..rng.below(max + 1) {
        let item = rng.pick(from).to_string();
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A random policy that both versions can carry: providers v1 names,
/// patterns with `*` and literals only.
fn generated(rng: &mut Rng, n: usize) -> (String, String) {
    let name = format!("gen-{n}");
    let mut allow = list(rng, TOOLS, 5);
    allow.extend(list(rng, TOOL_PATTERNS, 2));
    let deny = list(rng, TOOLS, 3)
        .into_iter()
        .chain(list(rng, TOOL_PATTERNS, 1))
        .collect::<Vec<_>>();
    let access = rng.pick(&["none", "ro", "rw"]);
    let mut text = format!(
        "wpc_version = \"1\"\npolicy_name = \"{name}\"\npurpose = \"generated\"\n\n\
         [constraints.tool_policy]\nallow = {}\ndeny = {}\n\n\
         [constraints.sandbox]\nrequired = true\nworkspaceAccess = \"{access}\"\nelevated_exec = \"deny\"\n",
        toml_list(&allow),
        toml_list(&deny),
    );
    if rng.chance(70) {
        text.push_str(&format!(
            "network = \"{}\"\n",
            rng.pick(&["none", "egress-allowlist", "open"])
        ));
    }
    for _ in 0..rng.below(3) {
        text.push_str(&format!(
            "\n[[constraints.approvals]]\nwhen = {:?}\nrequire = \"{}\"\n",
            rng.pick(GATES),
            rng.pick(&["human_approval", "ticket_id"])
        ));
        if rng.chance(50) {
            text.push_str("approvers = [\"acme/security\"]\n");
        }
    }
    if rng.chance(80) {
        text.push_str("\n[constraints.model_calls]\nroute_via = \"clawproxy\"\n");
        if rng.chance(70) {
            let mut providers = list(rng, &["anthropic", "openai", "google", "Anthropic"], 2);
            if providers.is_empty() {
                providers.push("anthropic".into());
            }
            text.push_str(&format!("allowed_providers = {}\n", toml_list(&providers)));
        }
        if rng.chance(70) {
            let mut models = list(rng, MODELS, 3);
            if models.is_empty() {
                models.push("claude-*".into());
            }
            text.push_str(&format!("allowed_models = {}\n", toml_list(&models)));
        }
    }
    if rng.chance(60) {
        text.push_str(&format!(
            "\n[constraints.egress]\nallowlist = {}\n",
            toml_list(&list(rng, HOSTS, 3))
        ));
    }
    text.push_str("\n[binding]\ncst_scope_hash_required = true\n");
    if rng.chance(30) {
        text.push_str("\n[metadata]\nowner = \"acme/platform\"\n");
    }
    (name, text)
}

fn validator(version: ClawVersion) -> jsonschema::Validator {
    let file = match version {
        ClawVersion::V1 => "work_policy_contract.v1.json",
        ClawVersion::V2 => "work_policy_contract.v2.json",
    };
    let text = std::fs::read_to_string(root().join("schema/clawsig/policy").join(file)).unwrap();
    jsonschema::draft202012::new(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// `wpc compile --target` and `wpc hash --target` for each policy file and
/// version: schema-valid JCS, hashed as the protocol hashes.
fn check_cli_exports(dir: &Path, files: &[PathBuf]) -> usize {
    let validators = ClawVersion::ALL.map(|v| (v, validator(v)));
    let mut checked = 0;
    for file in files {
        let file = file.to_str().unwrap();
        for (version, validator) in &validators {
            let target = format!("--target=claw-{version}");
            let out = run(dir, &["compile", &target, file]);
            assert!(out.status.success(), "{file} {version}: {}", stderr(&out));
            let text = stdout(&out);
            let bytes = text.strip_suffix('\n').unwrap();
            let value: serde_json::Value = serde_json::from_str(bytes).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{file} {version}: {errors:?}\n{bytes}");
            assert_eq!(
                serde_json_canonicalizer::to_string(&value).unwrap(),
                bytes,
                "{file} {version}: not JCS"
            );
            let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(bytes.as_bytes()));
            let out = run(dir, &["hash", &target, file]);
            assert!(out.status.success(), "{file} {version}: {}", stderr(&out));
            assert_eq!(stdout(&out), format!("{expected}\n"), "{file} {version}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn examples_templates_and_generated_policies_export_valid_payloads() {
    let examples = root().join("examples/repo");
    let example_files = policy_files(&examples.join("policies"));
    assert_eq!(example_files.len(), 5);
    check_cli_exports(&examples, &example_files);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wpc.toml"),
        format!("[claw]\nissuer_did = \"{ISSUER}\"\n"),
    )
    .unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    let templates = policy_files(&root().join("templates"));
    assert_eq!(templates.len(), 5);
    for template in &templates {
        std::fs::copy(template, policies.join(template.file_name().unwrap())).unwrap();
    }
    let mut rng = Rng(14);
    for n in 0..200 {
        let (name, text) = generated(&mut rng, n);
        std::fs::write(policies.join(format!("{name}.toml")), text).unwrap();
    }
    let files = policy_files(&policies);
    assert_eq!(check_cli_exports(dir.path(), &files), 2 * 205);
}

#[test]
fn unexportable_policies_are_refused_with_located_findings() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("templates/deployer.toml"))
        .unwrap()
        .replace(
            "allowed_providers = [\"anthropic\"]",
            "allowed_providers = [\"anthropic\", \"mistral\"]",
        );
    std::fs::write(dir.path().join("deployer.toml"), &text).unwrap();
    // No issuer anywhere: both versions refuse.
    for target in ["--target=claw-v1", "--target=claw-v2"] {
        let out = run(dir.path(), &["compile", target, "deployer.toml"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("WPC022"), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    std::fs::write(
        dir.path().join("wpc.toml"),
        format!("[claw]\nissuer_did = \"{ISSUER}\"\n"),
    )
    .unwrap();
    let out = run(dir.path(), &["hash", "--target=claw-v1", "deployer.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[WPC023]: provider `mistral`"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("deployer.toml:25:"),
        "{}",
        stderr(&out)
    );
    // v2 names any provider.
    let out = run(dir.path(), &["hash", "--target=claw-v2", "deployer.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// What the soundness check found wrong, if anything.
fn unsound_calls(
    policy: &Policy,
    v2: &Evaluator,
    rng: &mut Rng,
    calls: usize,
) -> (usize, Vec<String>) {
    let engine = Engine::new(&policy.wpc).unwrap();
    let models = Models::new(&policy.wpc).unwrap();
    let egress = Egress::new(&policy.wpc).unwrap();
    let tool_policy = &policy.wpc.constraints.tool_policy;
    let words: Vec<String> = tool_policy
        .allow
        .iter()
        .chain(&tool_policy.deny)
        .map(String::clone)
        .chain(TOOLS.iter().map(|t| t.to_string()))
        .collect();
    let model_words: Vec<String> = policy
        .wpc
        .constraints
        .model_calls
        .iter()
        .flat_map(|m| m.allowed_models.clone().unwrap_or_default())
        .chain(["claude-sonnet-4", "gpt-4o", "gemini-2", "llama-3"].map(String::from))
        .collect();
    let host_words: Vec<String> = policy
        .wpc
        .constraints
        .egress
        .iter()
        .flat_map(|e| e.allowlist.clone())
        .chain(["api.github.com", "evil.example", "en.wikipedia.org"].map(String::from))
        .collect();
    let fill = |rng: &mut Rng, word: &str| -> String {
        let fillers = [
            "",
            "x",
            "prod",
            "a.b",
            "a/b",
            "\n",
            "é",
            "X",
            "deploy.prod",
            "🙂",
        ];
        let mut out: String = word
            .chars()
            .map(|c| match c {
                '*' => rng.pick(&fillers).to_string(),
                '?' => rng.pick(&["x", "/", "é", "\n"]).to_string(),
                other => other.to_string(),
            })
            .collect();
        match rng.below(10) {
            0 => out = out.to_uppercase(),
            1 => out.push_str(rng.pick::<&str>(&fillers)),
            2 => out.insert_str(0, rng.pick::<&str>(&fillers)),
            _ => {}
        }
        out
    };
    let context = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut found = Vec::new();
    let mut count = 0;
    for _ in 0..calls {
        match rng.below(3) {
            0 => {
                let word = rng.pick(&words).clone();
                let tool = fill(rng, &word);
                let call = Call {
                    content: rng.pick(&["", "SECURITY: leak", "hello"]).to_string(),
                    target: rng.pick(&["", "/etc/passwd", "src/main.rs"]).to_string(),
                    ..Call::tool(tool.clone())
                };
                let native = engine.decide_per_call(&call).verdict;
                for approval in [None, Some("false"), Some("true")] {
                    let mut cx = context(&[("Tool:Name", &tool)]);
                    if let Some(a) = approval {
                        cx.insert("Request:HasHumanApproval".into(), a.into());
                    }
                    count += 1;
                    let allowed = v2.evaluate("tool:execute", &tool, &cx).effect == Effect::Allow;
                    let denied_natively = native == Verdict::Deny
                        || (native == Verdict::Approval && approval != Some("true"));
                    if allowed && denied_natively {
                        found.push(format!(
                            "tool {tool:?} approval {approval:?}: native {native}"
                        ));
                    }
                }
            }
            1 => {
                let provider = rng
                    .pick(&["anthropic", "Anthropic", "openai", "google", "mistral", ""])
                    .to_string();
                let word = rng.pick(&model_words).clone();
                let model = fill(rng, &word);
                let native = models.allows(&provider, &model);
                for resource in ["*", model.as_str()] {
                    count += 1;
                    let cx = context(&[("Model:Provider", &provider), ("Model:Name", &model)]);
                    let allowed =
                        v2.evaluate("model:invoke", resource, &cx).effect == Effect::Allow;
                    if allowed && !native {
                        found.push(format!("model {provider:?}/{model:?}"));
                    }
                }
            }
            _ => {
                let word = rng.pick(&host_words).clone();
                let host = fill(rng, &word);
                let native = egress.allows(&host);
                let url = format!("https://{host}/x");
                for (resource, cx) in [
                    ("*", context(&[("SideEffect:TargetDomain", &host)])),
                    (url.as_str(), context(&[("SideEffect:TargetDomain", &host)])),
                    (host.as_str(), context(&[])),
                ] {
                    count += 1;
                    let allowed = v2
                        .evaluate("side_effect:network_egress", resource, &cx)
                        .effect
                        == Effect::Allow;
                    if allowed && !native {
                        found.push(format!("egress {host:?} as {resource:?}"));
                    }
                }
            }
        }
    }
    (count, found)
}

fn v2_of(policy: &Policy) -> serde_json::Value {
    let settings = ExportSettings {
        versions: vec![ClawVersion::V2],
        issuer_did: Some(ISSUER.into()),
    };
    claw::render(policy, ClawVersion::V2, &settings)
        .unwrap()
        .payload
}

#[test]
fn the_v2_export_never_allows_what_the_native_policy_denies() {
    let mut files = policy_files(&root().join("examples/repo/policies"));
    files.extend(policy_files(&root().join("templates")));
    let mut rng = Rng(2026);
    let mut total = 0;
    let mut unsound = Vec::new();
    for file in &files {
        let policy = load(file);
        let v2 = Evaluator::new(&v2_of(&policy)).unwrap();
        let (count, found) = unsound_calls(&policy, &v2, &mut rng, 1500);
        total += count;
        unsound.extend(
            found
                .into_iter()
                .map(|f| format!("{}: {f}", file.display())),
        );
    }
    for n in 0..200 {
        let (name, text) = generated(&mut rng, n);
        let policy = parse(&name, &text);
        let v2 = Evaluator::new(&v2_of(&policy)).unwrap();
        let (count, found) = unsound_calls(&policy, &v2, &mut rng, 100);
        total += count;
        unsound.extend(found.into_iter().map(|f| format!("{name}: {f}\n{text}")));
    }
    assert!(total >= 10_000, "only {total} calls");
    assert!(
        unsound.is_empty(),
        "{} unsound calls, first: {}",
        unsound.len(),
        unsound[0]
    );
}

/// The check above can fail: an export that drops the deny statements, or
/// the approval requirement, is caught.
#[test]
fn the_soundness_check_catches_a_weakened_export() {
    let policy = parse(
        "open",
        r#"wpc_version = "1"
policy_name = "open"
purpose = "everything but exec; reads approved"

[constraints.tool_policy]
allow = ["*"]
deny = ["exec", "deploy.*"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"

[[constraints.approvals]]
when = "tool == 'read'"
require = "human_approval"

[binding]
cst_scope_hash_required = true
"#,
    );
    for dropped in ["DenyTools", "RequireApproval"] {
        let mut payload = v2_of(&policy);
        let statements = payload["statements"].as_array_mut().unwrap();
        let before = statements.len();
        statements.retain(|s| s["sid"] != dropped);
        assert_eq!(statements.len(), before - 1, "{dropped}");
        let v2 = Evaluator::new(&payload).unwrap();
        let (_, found) = unsound_calls(&policy, &v2, &mut Rng(7), 3000);
        assert!(!found.is_empty(), "dropping {dropped} went unnoticed");
    }
}

#[test]
fn example_payloads() {
    let examples = root().join("examples/repo");
    let (config, findings) = wpc::config::Config::load(&examples.join("wpc.toml")).unwrap();
    assert!(findings.is_empty());
    let settings = config.claw_export();
    assert_eq!(settings.versions, ClawVersion::ALL);
    for file in policy_files(&examples.join("policies")) {
        let policy = load(&file);
        for version in ClawVersion::ALL {
            let rendered = claw::render(&policy, version, &settings).unwrap();
            insta::assert_json_snapshot!(format!("{}.{version}", policy.name()), rendered.payload);
        }
    }
}

const MCP_TOOLS: &[&str] = &[
    "mcp:github/get_issue",
    "mcp:github/add_issue_comment",
    "mcp:github/delete_repository",
    "mcp:github/list_issues",
    "mcp:docs/search",
    "mcp:docs/x.merge",
    "mcp:scratch-1/run",
    "mcp:linear/create_issue",
    "mcp:github",
    "mcp:a/b/c",
];
const MCP_PATTERNS: &[&str] = &[
    "mcp:github/*",
    "mcp:docs/*",
    "mcp:*",
    "mcp:*/delete_*",
    "*.merge",
    "*",
    "mcp:*/*",
    "mcp:g*/get_*",
    "read",
];
const PIN: &str = "446c68d84540f38bf5e629aeed5aaa80b514aeae9f4f43a6fe6e4d6dd6b28ce0";

/// A random policy with `[constraints.mcp]` (servers with and without tool
/// lists, denied servers, transports, URLs, pins) and MCP tool patterns.
fn generated_mcp(rng: &mut Rng, n: usize) -> String {
    let allow = list(rng, MCP_PATTERNS, 3);
    let deny = list(rng, MCP_PATTERNS, 2);
    let mut text = format!(
        "wpc_version = \"1\"\npolicy_name = \"mcp-{n}\"\npurpose = \"generated\"\n\n\
         [constraints.tool_policy]\nallow = {}\ndeny = {}\n\n\
         [constraints.sandbox]\nrequired = true\nworkspaceAccess = \"ro\"\nelevated_exec = \"deny\"\n",
        toml_list(&allow),
        toml_list(&deny),
    );
    if rng.chance(40) {
        text.push_str(
            "\n[[constraints.approvals]]\nwhen = \"tool == 'mcp:github/add_issue_comment'\"\nrequire = \"human_approval\"\n",
        );
    }
    text.push_str("\n[constraints.mcp]\n");
    if rng.chance(50) {
        text.push_str("deny_servers = [\"scratch-*\"]\n");
    }
    let servers: Vec<&str> = ["github", "docs", "scratch-1"]
        .into_iter()
        .filter(|_| rng.chance(70))
        .collect();
    if servers.is_empty() {
        text.push_str("servers = []\n");
    }
    for server in servers {
        text.push_str(&format!(
            "\n[[constraints.mcp.servers]]\nname = \"{server}\"\n"
        ));
        if rng.chance(40) {
            text.push_str("transport = \"stdio\"\n");
        }
        if rng.chance(30) {
            text.push_str("url = \"https://mcp.example/*\"\n");
        }
        if rng.chance(60) {
            let tools = list(
                rng,
                &["get_issue", "add_issue_comment", "search", "list_*", "*"],
                3,
            );
            text.push_str(&format!("tools = {}\n", toml_list(&tools)));
        }
        if rng.chance(40) {
            text.push_str("deny_tools = [\"delete_*\"]\n");
        }
    }
    if rng.chance(60) {
        text.push_str(&format!(
            "\n[constraints.mcp.pinned_tools]\n\"github/get_issue\" = \"{PIN}\"\n"
        ));
    }
    text.push_str("\n[binding]\ncst_scope_hash_required = true\n");
    text
}

/// The same soundness property with `[constraints.mcp]`: the calls state
/// (or not) the server's transport and URL and the tool's definition hash,
/// natively and as the v2 context keys the export reads.
#[test]
fn the_v2_export_of_mcp_policies_never_allows_what_the_native_policy_denies() {
    let mut rng = Rng(20);
    let mut unsound = Vec::new();
    let mut allowed = 0;
    for n in 0..300 {
        let text = generated_mcp(&mut rng, n);
        let policy = parse(&format!("mcp-{n}"), &text);
        let v2 = Evaluator::new(&v2_of(&policy)).unwrap();
        let engine = Engine::new(&policy.wpc).unwrap();
        for _ in 0..60 {
            let tool = rng.pick(MCP_TOOLS).to_string();
            let transport = rng.pick(&["", "stdio", "sse"]).to_string();
            let url = rng
                .pick(&["", "https://mcp.example/v1", "https://evil.example/"])
                .to_string();
            let hash = rng.pick(&["", PIN, "00"]).to_string();
            let call = Call {
                mcp_transport: transport.clone(),
                mcp_url: url.clone(),
                definition_hash: hash.clone(),
                ..Call::tool(tool.clone())
            };
            let native = engine.decide_per_call(&call);
            for approval in [None, Some("true")] {
                let mut cx: BTreeMap<String, String> = BTreeMap::new();
                cx.insert("Tool:Name".into(), tool.clone());
                for (key, value) in [
                    ("Mcp:Transport", &transport),
                    ("Mcp:Url", &url),
                    ("Tool:DefinitionHash", &hash),
                ] {
                    if !value.is_empty() {
                        cx.insert(key.into(), value.clone());
                    }
                }
                if let Some(a) = approval {
                    cx.insert("Request:HasHumanApproval".into(), a.into());
                }
                let v2_allows = v2.evaluate("tool:execute", &tool, &cx).effect == Effect::Allow;
                allowed += usize::from(v2_allows);
                let denied_natively = native.verdict == Verdict::Deny
                    || (native.verdict == Verdict::Approval && approval.is_none());
                if v2_allows && denied_natively {
                    unsound.push(format!("{tool} {call:?} {approval:?}: {native}\n{text}"));
                }
            }
        }
    }
    // The export is not vacuous: it allows MCP tools.
    assert!(allowed > 500, "only {allowed} allowed");
    assert!(
        unsound.is_empty(),
        "{} unsound calls, first: {}",
        unsound.len(),
        unsound[0]
    );
}

/// The MCP check can fail too: without the pin and transport statements,
/// or the statements for malformed names, the export lets calls through.
#[test]
fn the_mcp_soundness_check_catches_a_weakened_export() {
    let policy = parse(
        "mcp",
        &format!(
            r#"wpc_version = "1"
policy_name = "mcp"
purpose = "pinned"

[constraints.tool_policy]
allow = ["mcp:*", "mcp:docs/*"]
deny = ["mcp:*/delete_*"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"

[constraints.mcp]

[[constraints.mcp.servers]]
name = "github"
transport = "stdio"
tools = ["get_issue", "delete_repository"]

[[constraints.mcp.servers]]
name = "docs"

[constraints.mcp.pinned_tools]
"github/get_issue" = "{PIN}"

[binding]
cst_scope_hash_required = true
"#
        ),
    );
    let payload = v2_of(&policy);
    let engine = Engine::new(&policy.wpc).unwrap();
    let unsound = |payload: &serde_json::Value| {
        let v2 = Evaluator::new(payload).unwrap();
        let mut found = 0;
        for tool in MCP_TOOLS.iter().chain(&["mcp:docs/", "mcp:docs"]) {
            for (transport, hash) in [("", ""), ("stdio", ""), ("stdio", PIN), ("sse", PIN)] {
                let call = Call {
                    mcp_transport: transport.into(),
                    definition_hash: hash.into(),
                    ..Call::tool(*tool)
                };
                let mut cx = BTreeMap::from([("Tool:Name".to_owned(), tool.to_string())]);
                for (key, value) in [("Mcp:Transport", transport), ("Tool:DefinitionHash", hash)] {
                    if !value.is_empty() {
                        cx.insert(key.into(), value.into());
                    }
                }
                let allowed = v2.evaluate("tool:execute", tool, &cx).effect == Effect::Allow;
                if allowed && engine.decide_per_call(&call).verdict != Verdict::Allow {
                    found += 1;
                }
            }
        }
        found
    };
    assert_eq!(unsound(&payload), 0);
    let sids: Vec<String> = payload["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sid"].as_str().unwrap().to_owned())
        .filter(|sid| sid.starts_with("DenyMcp") || sid == "DenyTools")
        .collect();
    assert!(sids.len() >= 3, "{sids:?}");
    for dropped in sids {
        let mut weakened = payload.clone();
        weakened["statements"]
            .as_array_mut()
            .unwrap()
            .retain(|s| s["sid"] != dropped.as_str());
        assert!(unsound(&weakened) > 0, "dropping {dropped} went unnoticed");
    }
}

//! End-to-end tests of `wpc audit openclaw` and `wpc compile --target
//! openclaw`: the real audit's runs, includes and env, hostile input, output
//! formats, and the compile → audit round trip.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{root, run, stdout, wpc};

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/openclaw")
}

/// `(code, severity, file, line)` of a finding.
type Row = (String, String, String, u64);

/// The exit status and every finding, from `--format json`.
fn findings(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<Row>) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run(dir, &all);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let list = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap_or_default().to_owned(),
                f["span"]["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (out.status.code(), list)
}

fn has(list: &[Row], code: &str, severity: &str) -> bool {
    list.iter().any(|(c, s, _, _)| c == code && s == severity)
}

// ---- the real audit's runs ----------------------------------------------------

/// The real audit's critical `checkId`s and the code of ours covering each.
const CHECK_CODES: &[(&str, &str)] = &[
    ("gateway.bind_no_auth", "OC010"),
    ("gateway.loopback_no_auth", "OC011"),
    ("gateway.control_ui.allowed_origins_required", "OC012"),
    ("gateway.control_ui.allowed_origins_wildcard", "OC012"),
    ("gateway.control_ui.host_header_origin_fallback", "OC012"),
    ("gateway.real_ip_fallback_enabled", "OC013"),
    ("gateway.tailscale_funnel", "OC014"),
    ("gateway.http.no_auth", "OC016"),
    ("gateway.tools_invoke_http.dangerous_allow", "OC017"),
    ("gateway.nodes.allow_commands_dangerous", "OC018"),
    ("discovery.mdns_full_mode", "OC019"),
    ("hooks.token_reuse_gateway_token", "OC020"),
    ("hooks.path_root", "OC021"),
    ("hooks.allowed_agent_ids_unrestricted", "OC022"),
    ("hooks.request_session_key_enabled", "OC023"),
    ("hooks.request_session_key_prefixes_missing", "OC023"),
    ("tools.exec.security_full_configured", "OC025"),
    ("security.exposure.open_channels_with_exec", "OC025"),
    ("security.exposure.open_groups_with_elevated", "OC026"),
    ("security.exposure.open_groups_with_runtime_or_fs", "OC027"),
    (
        "security.exposure.open_groups_with_control_plane_tools",
        "OC028",
    ),
    ("sandbox.dangerous_bind_mount", "OC029"),
    ("gateway.token_placeholder_value", "OC033"),
];

/// The criticals the real audit gave on the three configs of the audit-runs
/// reference (`runs/`).
const RUNS: &[(&str, &[&str])] = &[
    ("hardened", &[]),
    (
        "insecure",
        &[
            "gateway.bind_no_auth",
            "gateway.control_ui.allowed_origins_required",
            "tools.elevated.allowFrom.telegram.wildcard",
            "gateway.http.no_auth",
        ],
    ),
    ("dockersock", &["sandbox.dangerous_bind_mount"]),
];

fn code_of(check: &str) -> &'static str {
    if check.starts_with("tools.elevated.allowFrom.") && check.ends_with(".wildcard") {
        return "OC024";
    }
    CHECK_CODES
        .iter()
        .find(|(c, _)| *c == check)
        .map(|(_, code)| *code)
        .unwrap_or_else(|| panic!("no code for {check}"))
}

#[test]
fn every_critical_of_the_real_audit_runs_is_an_error_here() {
    for (config, criticals) in RUNS {
        let file = format!("runs/{config}.json5");
        let (_, list) = findings(&fixtures(), &["audit", "openclaw", &file]);
        for check in *criticals {
            let code = code_of(check);
            assert!(
                has(&list, code, "error"),
                "{config}: {check} → {code} missing in {list:?}"
            );
        }
    }
}

#[test]
fn every_critical_of_the_real_audit_is_covered() {
    let dir = fixtures().join("real");
    let recorded: Value =
        serde_json::from_slice(&std::fs::read(dir.join("real-audit.json")).unwrap()).unwrap();
    for (name, result) in recorded.as_object().unwrap() {
        let file = format!("{name}.json5");
        let (_, list) = findings(&dir, &["audit", "openclaw", &file]);
        match result.as_array() {
            Some(criticals) => {
                for check in criticals {
                    let check = check.as_str().unwrap();
                    let code = code_of(check);
                    assert!(
                        has(&list, code, "error"),
                        "{name}: {check} → {code}: {list:?}"
                    );
                }
            }
            // OpenClaw refuses the config outright; we must not pass it.
            None => assert!(
                list.iter().any(|(_, s, ..)| s == "error"),
                "{name}: {list:?}"
            ),
        }
    }
}

#[test]
fn the_hardened_config_has_no_errors() {
    let (status, list) = findings(&fixtures(), &["audit", "openclaw", "runs/hardened.json5"]);
    assert_eq!(status, Some(0), "{list:?}");
    assert!(list.iter().all(|(_, s, _, _)| s != "error"), "{list:?}");
}

#[test]
fn text_output_points_into_the_config() {
    let out = run(&fixtures(), &["audit", "openclaw", "runs/insecure.json5"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn several_configs_make_one_report() {
    let out = run(
        &fixtures(),
        &[
            "audit",
            "openclaw",
            "runs/hardened.json5",
            "runs/dockersock.json5",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["files_checked"], 2);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn json_and_sarif_match_their_schemas() {
    let validate = |schema: &str, args: &[&str]| {
        let schema: Value =
            serde_json::from_slice(&std::fs::read(root().join(schema)).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let out = run(&fixtures(), args);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    };
    let base = ["audit", "openclaw", "runs/insecure.json5", "--format"];
    validate(
        "schema/wpc-findings.v1.schema.json",
        &[&base[..], &["json"]].concat(),
    );
    validate(
        "tests/vectors/sarif/sarif-schema-2.1.0.json",
        &[&base[..], &["sarif"]].concat(),
    );
    let out = run(&fixtures(), &[&base[..], &["github"]].concat());
    assert!(stdout(&out).starts_with("::error file=runs/insecure.json5,line="));
}

// ---- includes and env ---------------------------------------------------------

#[test]
fn includes_merge_and_findings_point_into_the_included_file() {
    let dir = fixtures().join("includes");
    let (status, list) = findings(&dir, &["audit", "openclaw", "openclaw.json5"]);
    assert_eq!(status, Some(1));
    // The sibling `bind: "loopback"` overrides the included `lan`.
    assert!(!has(&list, "OC010", "error"), "{list:?}");
    // The host network comes from sub/builder.json5, two includes down.
    assert!(
        list.iter()
            .any(|(c, _, f, l)| c == "OC030" && f == "sub/builder.json5" && *l == 3),
        "{list:?}"
    );
}

#[test]
fn include_errors_are_located_and_stop_the_audit() {
    let dir = fixtures().join("includes");
    for (config, file, needle) in [
        ("cycle.json5", "cycle-b.json5", "cycle"),
        (
            "escape.json5",
            "escape.json5",
            "outside the config's folder",
        ),
        ("missing.json5", "missing.json5", "nope.json5"),
        ("deep/d0.json5", "deep/d10.json5", "deeper than 10 levels"),
    ] {
        let out = run(&dir, &["audit", "openclaw", config, "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{config}");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let list = json["findings"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{config}: {list:?}");
        assert_eq!(list[0]["code"], "OC003");
        assert_eq!(list[0]["file"], file, "{config}");
        assert!(
            list[0]["message"].as_str().unwrap().contains(needle),
            "{list:?}"
        );
    }
    // Ten levels are fine.
    let (_, list) = findings(&dir, &["audit", "openclaw", "deep/d1.json5"]);
    assert!(!list.iter().any(|(c, ..)| c == "OC003"), "{list:?}");
}

#[test]
fn include_roots_come_from_the_environment_with_env() {
    let dir = fixtures().join("includes");
    let out = wpc(&dir)
        .args([
            "audit",
            "openclaw",
            "escape.json5",
            "--env",
            "--format",
            "json",
        ])
        .env("OPENCLAW_INCLUDE_ROOTS", fixtures().join("outside"))
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"OC003") && codes.contains(&"OC044"),
        "{codes:?}"
    );
}

#[test]
fn duplicate_keys_are_errors_and_the_last_wins() {
    let dir = fixtures().join("includes");
    let (_, list) = findings(&dir, &["audit", "openclaw", "dups.json5"]);
    assert!(
        list.iter()
            .any(|(c, s, _, l)| c == "OC002" && s == "error" && *l == 4)
    );
    // The second `tools` (profile full, elevated unset) is what counts.
    assert!(has(&list, "OC044", "warning") && has(&list, "OC041", "warning"));
}

#[test]
fn env_substitution_only_with_env() {
    let dir = fixtures().join("includes");
    let (_, quiet) = findings(&dir, &["audit", "openclaw", "env.json5"]);
    assert!(!quiet.iter().any(|(c, ..)| c == "OC004"), "{quiet:?}");
    let out = wpc(&dir)
        .args([
            "audit",
            "openclaw",
            "env.json5",
            "--env",
            "--format",
            "json",
        ])
        .env("WPC_TEST_TOKEN", "short")
        .env_remove("WPC_TEST_UNSET")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unset: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "OC004")
        .collect();
    assert_eq!(unset.len(), 1, "{json}");
    assert!(
        unset[0]["message"]
            .as_str()
            .unwrap()
            .contains("WPC_TEST_UNSET")
    );
    // With the token variable unset too, the gateway has no auth.
    let (_, list) = findings(&dir, &["audit", "openclaw", "env.json5", "--env"]);
    assert!(has(&list, "OC011", "error"), "{list:?}");
    assert!(!has(&quiet, "OC011", "error"), "{quiet:?}");
}

// ---- hostile input ------------------------------------------------------------

#[test]
fn hostile_configs_are_findings_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep.json5", "[".repeat(200_000).into_bytes()),
        ("deep-objects.json5", "{a:".repeat(100_000).into_bytes()),
        (
            "huge.json5",
            format!("{{a: '{}'}}", "x".repeat(2 << 20)).into_bytes(),
        ),
        ("utf8.json5", b"{a: '\xff\xfe'}".to_vec()),
        ("empty.json5", Vec::new()),
        ("nul.json5", b"{a: 1}\0".to_vec()),
        (
            "include-nul.json5",
            b"{a: {$include: 'x\\u0000y'}}".to_vec(),
        ),
        ("include-type.json5", b"{a: {$include: 5}}".to_vec()),
        (
            "include-self.json5",
            b"{a: {$include: 'include-self.json5'}}".to_vec(),
        ),
        ("include-dir.json5", b"{a: {$include: '.'}}".to_vec()),
        (
            "long-include.json5",
            format!("{{a: {{$include: '{}'}}}}", "a".repeat(5000)).into_bytes(),
        ),
    ];
    for (name, bytes) in &cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let out = run(dir.path(), &["audit", "openclaw", name, "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let first = &json["findings"][0]["code"];
        assert!(first == "OC001" || first == "OC003", "{name}: {json}");
    }
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(
        run(&fixtures(), &["audit", "openclaw", "missing.json5"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&fixtures(), &["audit", "openclaw", "--policy", "x.toml"])
            .status
            .code(),
        Some(2)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wpc.toml"),
        "[openclaw_audit.rules]\nOC999 = \"off\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("c.json5"), "{}").unwrap();
    assert_eq!(
        run(dir.path(), &["audit", "openclaw", "c.json5"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn levels_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wpc.toml"),
        "[openclaw_audit.rules]\nOC011 = \"warning\"\nOC016 = \"off\"\nOC040 = \"off\"\nOC041 = \"off\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("c.json5"), "{}").unwrap();
    let (status, list) = findings(dir.path(), &["audit", "openclaw", "c.json5"]);
    assert_eq!(status, Some(0));
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].0.as_str(), list[0].1.as_str()),
        ("OC011", "warning")
    );
}

// ---- conformance and compile --------------------------------------------------

#[test]
fn the_example_repo_audits_clean_through_its_mapping() {
    let out = run(&root().join("examples/repo"), &["audit", "openclaw"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "5 files checked: no findings\n");
}

#[test]
fn an_insecure_config_does_not_conform() {
    let policy = root().join("examples/repo/policies/agent-change-reviewer.toml");
    let (_, list) = findings(
        &fixtures(),
        &[
            "audit",
            "openclaw",
            "runs/insecure.json5",
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    for code in ["OCW001", "OCW002", "OCW003", "OCW005"] {
        assert!(has(&list, code, "error"), "{code} missing: {list:?}");
    }
}

#[test]
fn compiled_fragments_conform_to_their_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policies = root().join("examples/repo/policies");
    let mut compiled = 0;
    for entry in std::fs::read_dir(&policies).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.ends_with(".toml") || name.ends_with(".test.toml") {
            continue;
        }
        let out = run(
            &root(),
            &["compile", path.to_str().unwrap(), "--target", "openclaw"],
        );
        assert_eq!(out.status.code(), Some(0), "{name}");
        let config = dir.path().join(name.replace(".toml", ".json5"));
        std::fs::write(&config, &out.stdout).unwrap();
        let (_, list) = findings(
            dir.path(),
            &[
                "audit",
                "openclaw",
                config.to_str().unwrap(),
                "--policy",
                path.to_str().unwrap(),
            ],
        );
        let ocw: Vec<_> = list.iter().filter(|(c, ..)| c.starts_with("OCW")).collect();
        assert!(ocw.is_empty(), "{name}: {ocw:?}");
        compiled += 1;
    }
    assert_eq!(compiled, 5);
}

#[test]
fn explain_tools_names_the_removing_layer() {
    let dir = fixtures().join("includes");
    let out = run(
        &dir,
        &[
            "audit",
            "openclaw",
            "openclaw.json5",
            "--explain-tools",
            "--agent",
            "reviewer",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("openclaw.json5 agent `reviewer` (agents.entries.reviewer, sandbox mode all): 1 tools\n  available: session_status\n"), "{text}");
    assert!(
        text.contains(
            "  - gateway                removed by sandbox tool policy: denied by `gateway`\n"
        ),
        "{text}"
    );
    assert!(text.contains("  - exec                   removed by agents.entries.reviewer.tools.profile `minimal`: not in its allow list (sub/agents-b.json5:3:44)\n"), "{text}");
    let out = run(
        &dir,
        &[
            "audit",
            "openclaw",
            "openclaw.json5",
            "--explain-tools",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "wpc-explain-tools");
    let agents: Vec<&str> = json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["defaults", "builder", "reviewer"]);
    assert_eq!(
        run(
            &dir,
            &[
                "audit",
                "openclaw",
                "openclaw.json5",
                "--explain-tools",
                "--agent",
                "nobody"
            ]
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn a_signed_envelope_is_a_policy_once_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["keygen", "--out", "k.pem"]);
    let did = stdout(&out).trim().to_owned();
    let policy = root().join("examples/repo/policies/agent-change-reviewer.toml");
    let out = run(
        dir.path(),
        &[
            "sign",
            policy.to_str().unwrap(),
            "--key",
            "k.pem",
            "-o",
            "env.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let config = root().join("examples/repo/openclaw/agent-change-reviewer.json");
    let audit = |dir: &Path| {
        run(
            dir,
            &[
                "audit",
                "openclaw",
                config.to_str().unwrap(),
                "--policy",
                "env.json",
            ],
        )
    };
    // Without a configured signer the signature is checked, the signer noted.
    let out = audit(dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [release] signer"));
    // With the signer pinned in wpc.toml it must match.
    std::fs::write(
        dir.path().join("wpc.toml"),
        format!("[release]\nsigner = \"{did}\"\n"),
    )
    .unwrap();
    assert_eq!(audit(dir.path()).status.code(), Some(0));
    let other = "did:key:z6Mkjj5WXB3yns5Nb8JtU6smLY2M3KSuqJHdVsmE9gNGHcLW";
    std::fs::write(
        dir.path().join("wpc.toml"),
        format!("[release]\nsigner = \"{other}\"\n"),
    )
    .unwrap();
    assert_eq!(audit(dir.path()).status.code(), Some(1));
    // A tampered payload never becomes a policy.
    std::fs::remove_file(dir.path().join("wpc.toml")).unwrap();
    let text = std::fs::read_to_string(dir.path().join("env.json")).unwrap();
    std::fs::write(
        dir.path().join("env.json"),
        text.replace("\"deny\": [", "\"deny\": [\"x\", "),
    )
    .unwrap();
    let out = audit(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid envelope"));
}

#[cfg(unix)]
#[test]
fn a_symlink_cannot_smuggle_an_include_out_of_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("cfg");
    std::fs::create_dir(&config_dir).unwrap();
    std::fs::write(dir.path().join("secret.json5"), "{profile: 'full'}").unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("secret.json5"),
        config_dir.join("tools.json5"),
    )
    .unwrap();
    std::fs::write(
        config_dir.join("c.json5"),
        "{tools: {$include: 'tools.json5'}}",
    )
    .unwrap();
    let (status, list) = findings(&config_dir, &["audit", "openclaw", "c.json5"]);
    assert_eq!(status, Some(1));
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].0, "OC003");
}

#[test]
fn rule_pages_are_reachable_from_the_cli() {
    let out = run(&root(), &["rule", "OC029"]);
    assert!(stdout(&out).starts_with("# OC029: dangerous-bind-mount"));
    let list = stdout(&run(&root(), &["rule", "--list"]));
    assert!(
        list.contains("\nOCW001   ocw-tool-outside-policy"),
        "{list}"
    );
}

#[test]
fn an_include_fan_out_is_bounded() {
    // Each level includes the next 20 times: 20^6 reads if unbounded.
    let dir = tempfile::tempdir().unwrap();
    for level in 0..6 {
        let next = format!("'l{}.json5'", level + 1);
        let list = vec![next; 20].join(", ");
        std::fs::write(
            dir.path().join(format!("l{level}.json5")),
            format!("{{a: {{$include: [{list}]}}}}"),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("l6.json5"), "{leaf: true}").unwrap();
    let (status, list) = findings(dir.path(), &["audit", "openclaw", "l0.json5"]);
    assert_eq!(status, Some(1));
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].0, "OC003");
}

#[test]
fn effective_tools_match_the_openclaw_runtime() {
    let cases: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("runtime/tool-policy-cases.json")).unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["audit".to_owned(), "openclaw".to_owned()];
    for (i, case) in cases.as_array().unwrap().iter().enumerate() {
        let file = format!("c{i}.json5");
        std::fs::write(dir.path().join(&file), case["config"].to_string()).unwrap();
        args.push(file);
    }
    args.extend(["--explain-tools", "--format", "json"].map(str::to_owned));
    let out = wpc(dir.path()).args(&args).output().unwrap();
    let explained: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut compared = 0;
    for scope in explained["agents"].as_array().unwrap() {
        let index: usize = scope["config"].as_str().unwrap()[1..]
            .trim_end_matches(".json5")
            .parse()
            .unwrap();
        let agent = scope["agent"].as_str().unwrap();
        let mut ours: Vec<&str> = scope["available"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .filter(|t| *t != "bundle-mcp")
            .collect();
        ours.sort_unstable();
        let expected: Vec<&str> = cases[index]["available"][agent]
            .as_array()
            .unwrap_or_else(|| panic!("c{index}: no scope {agent}"))
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            ours, expected,
            "c{index} agent {agent}: {}",
            cases[index]["config"]
        );
        compared += 1;
    }
    assert!(compared >= 100, "{compared}");
}

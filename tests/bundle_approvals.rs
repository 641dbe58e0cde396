//! Trusted approvers: a `human_approval` gate is satisfied only by a
//! `human_approval_receipt` envelope signed by an `[[approver]]` of the
//! trusted signers file serving one of the gate's teams — never by the
//! agent (who writes and signs the bundle), never unsigned. Real files,
//! through the CLI.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;

use serde_json::{Value, json};
use support::{run, stdout};
use wpc::bundle::approval::HumanApprovalReceipt;
use wpc::bundle::kit::{self, Shape};
use wpc::crypto::envelope::SignedEnvelope;
use wpc::policy::Policy;

const POLICY: &str = r#"wpc_version = "1"
policy_name = "deployer"
purpose = "Deploy, with a security approval for production."

[constraints.tool_policy]
allow = ["deploy.*"]
deny = ["exec"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "deny"

[[constraints.approvals]]
when = "tool == 'deploy.prod'"
require = "human_approval"
approvers = ["acme/security"]

[binding]
cst_scope_hash_required = false
"#;

const AGENT_SEED: u8 = 1;
const APPROVER_SEED: u8 = 4;
const STRANGER_SEED: u8 = 5;

/// A trusted signers file: the kit's gateway, and `approvers` as
/// `(seed, teams)`.
fn trusted(dir: &Path, approvers: &[(u8, &str)]) -> String {
    let mut text = format!(
        "[[gateway_signer]]\ndid = \"{}\"\n",
        kit::gateway_key().did_str()
    );
    for (seed, teams) in approvers {
        text.push_str(&format!(
            "\n[[approver]]\ndid = \"{}\"\nteams = [{teams}]\n",
            kit::key(*seed).did_str()
        ));
    }
    let path = dir.join("trusted.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

struct Setup {
    dir: tempfile::TempDir,
    policy_hash: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployer.toml");
        std::fs::write(&path, POLICY).unwrap();
        let policy_hash = Policy::load(&path).unwrap().hash;
        Setup { dir, policy_hash }
    }

    fn shape(&self, approval_signer: Option<u8>) -> Shape {
        Shape {
            tools: vec!["deploy.prod".to_owned()],
            approval_signer,
            policy_hash: Some(self.policy_hash.clone()),
            ..Shape::default()
        }
    }

    fn write(&self, name: &str, bundle: &Value) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
        name.to_owned()
    }

    /// `wpc bundle verify FILE --policy deployer.toml --trusted TRUSTED`:
    /// exit code and output.
    fn verify(&self, file: &str, approvers: &[(u8, &str)]) -> (Option<i32>, String) {
        let trusted = trusted(self.dir.path(), approvers);
        let out = run(
            self.dir.path(),
            &[
                "bundle",
                "verify",
                file,
                "--policy",
                "deployer.toml",
                "--trusted",
                &trusted,
            ],
        );
        (out.status.code(), stdout(&out))
    }
}

const SECURITY: (u8, &str) = (APPROVER_SEED, "\"acme/security\"");

fn assert_untrusted((code, text): (Option<i32>, String), why: &str) {
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("APPROVAL_UNTRUSTED"), "{text}");
    assert!(!text.contains("APPROVAL_MISSING"), "{text}");
    assert!(text.contains(why), "{why}: {text}");
}

#[test]
fn an_approval_signed_by_a_trusted_approver_of_the_gate_passes() {
    let setup = Setup::new();
    let file = setup.write(
        "approved.json",
        &kit::bundle_value(&setup.shape(Some(APPROVER_SEED))).unwrap(),
    );
    let (code, text) = setup.verify(&file, &[SECURITY]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("VALID   approved.json"), "{text}");
}

#[test]
fn the_agent_cannot_approve_itself() {
    let setup = Setup::new();
    // The approval signed with the agent's own key, the bundle signed by
    // the agent as always — even when that key is listed as an approver.
    let file = setup.write(
        "self-signed.json",
        &kit::bundle_value(&setup.shape(Some(AGENT_SEED))).unwrap(),
    );
    assert_untrusted(
        setup.verify(&file, &[SECURITY, (AGENT_SEED, "\"acme/security\"")]),
        "signed by the agent itself",
    );

    // The attack of issue 16: an unsigned explicit_approve added to a
    // bundle that had none, and the bundle re-signed by the agent.
    let mut bundle = kit::bundle_value(&Shape {
        approvals: 0,
        ..setup.shape(None)
    })
    .unwrap();
    let approval =
        kit::bundle_value(&setup.shape(None)).unwrap()["payload"]["human_approval_receipts"]
            .clone();
    bundle["payload"]["human_approval_receipts"] = approval;
    let file = setup.write("unsigned.json", &kit::resign(&bundle).unwrap());
    assert_untrusted(setup.verify(&file, &[SECURITY]), "is unsigned");
}

#[test]
fn an_approver_of_another_team_or_no_longer_trusted_does_not_count() {
    let setup = Setup::new();
    let file = setup.write(
        "approved.json",
        &kit::bundle_value(&setup.shape(Some(APPROVER_SEED))).unwrap(),
    );
    assert_untrusted(
        setup.verify(&file, &[(APPROVER_SEED, "\"acme/platform\"")]),
        "not one of the gate's approvers (acme/security)",
    );
    // Removed from the trusted file (revoked): its old approvals no longer
    // count.
    assert_untrusted(setup.verify(&file, &[]), "no [[approver]]");
    assert_untrusted(
        setup.verify(&file, &[(STRANGER_SEED, "\"acme/security\"")]),
        "no [[approver]]",
    );
}

#[test]
fn a_tampered_or_borrowed_approval_does_not_count() {
    let setup = Setup::new();
    // The approver's envelope edited (explicit_deny turned into approve is
    // the same edit), the bundle re-signed: the approval's own hash fails.
    let mut bundle = kit::bundle_value(&setup.shape(Some(APPROVER_SEED))).unwrap();
    bundle["payload"]["human_approval_receipts"][0]["payload"]["scope_hash_b64u"] =
        json!("c2NvcGVfaGFzaF9mb3JfdGhlX3Rlc3Rfa2l0X2J1bmRs");
    let file = setup.write("tampered.json", &kit::resign(&bundle).unwrap());
    let (code, text) = setup.verify(&file, &[SECURITY]);
    assert_untrusted((code, text.clone()), "does not verify");
    assert!(
        text.contains("HASH_MISMATCH at /payload/human_approval_receipts/0/payload_hash_b64u"),
        "{text}"
    );

    // A genuine approval of another run, copied in: bound to that run.
    let mut bundle = kit::bundle_value(&Shape {
        approvals: 0,
        ..setup.shape(None)
    })
    .unwrap();
    let other = kit::bundle_value(&Shape {
        seq: 7,
        ..setup.shape(Some(APPROVER_SEED))
    })
    .unwrap();
    bundle["payload"]["human_approval_receipts"] =
        other["payload"]["human_approval_receipts"].clone();
    let file = setup.write("borrowed.json", &kit::resign(&bundle).unwrap());
    let (code, text) = setup.verify(&file, &[SECURITY]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("APPROVAL_MISSING"), "{text}");

    // Signed by the approver for another policy.
    let mut payload =
        kit::bundle_value(&setup.shape(None)).unwrap()["payload"]["human_approval_receipts"][0]
            .clone();
    payload["policy_hash_b64u"] = json!("b3RoZXJfcG9saWN5X2hhc2hfb3RoZXJfcG9saWN5X2g");
    let envelope = SignedEnvelope::sign::<HumanApprovalReceipt>(
        payload,
        &kit::key(APPROVER_SEED),
        kit::issued_at(),
    )
    .unwrap();
    let mut bundle = kit::bundle_value(&setup.shape(None)).unwrap();
    bundle["payload"]["human_approval_receipts"][0] = serde_json::to_value(envelope).unwrap();
    let file = setup.write("other-policy.json", &kit::resign(&bundle).unwrap());
    assert_untrusted(setup.verify(&file, &[SECURITY]), "approves policy");
}

#[test]
fn without_trusted_approvers_a_gate_cannot_be_satisfied() {
    let setup = Setup::new();
    let file = setup.write(
        "approved.json",
        &kit::bundle_value(&setup.shape(Some(APPROVER_SEED))).unwrap(),
    );
    let out = run(
        setup.dir.path(),
        &["bundle", "verify", &file, "--policy", "deployer.toml"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("APPROVAL_UNTRUSTED"), "{text}");
}

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use rayon::prelude::*;

use crate::decide::Engine;
use crate::lint::{Context, Repository, Rule, RuleMeta};
use crate::policy::Policy;
use crate::report::{Finding, Severity, SourceFile};

static META: RuleMeta = RuleMeta {
    code: "WPC020",
    name: "secret-key-committed",
    summary: "a private key is committed to the policy repository",
    default_severity: Severity::Error,
    doc: include_str!("../../../docs/rules/WPC020.md"),
};

/// Key files are small; anything larger is not read (and not a key).
const MAX_SCANNED_BYTES: u64 = 1024 * 1024;

pub struct SecretKeyCommitted;

impl Rule for SecretKeyCommitted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        // Policies were read already; their text is scanned here, in
        // parallel with the other per-policy rules, not read again.
        if let Some(finding) = scan(&policy.doc.source, false) {
            cx.push(finding);
        }
    }

    fn check_repository(&self, repo: &Repository, cx: &mut Context<'_>) {
        // Every other file is read: spread the reads over the cores.
        let found: Vec<Finding> = repo
            .files
            .par_iter()
            .filter_map(|path| {
                let source = SourceFile::new(path, read_text(path)?);
                let under_keys = path
                    .strip_prefix(&repo.root)
                    .is_ok_and(|p| p.starts_with("keys"));
                scan(&source, under_keys)
            })
            .collect();
        for finding in found {
            cx.push(finding);
        }
    }
}

fn scan(source: &SourceFile, under_keys: bool) -> Option<Finding> {
    if let Some(range) = pem_private_key(source.text()) {
        Some(finding(source, range, "a PEM private key block"))
    } else if under_keys && let Some(range) = raw_seed(source.text()) {
        Some(finding(
            source,
            range,
            "what parses as a raw Ed25519 secret seed",
        ))
    } else {
        None
    }
}

fn finding(source: &SourceFile, range: std::ops::Range<usize>, what: &str) -> Finding {
    Finding::new(
        META.code,
        META.default_severity,
        format!("this file holds {what}"),
    )
    .at(source, range)
    .help(
        "remove it from the repository and its history, rotate the key, and load keys from \
             --key FILE or WPC_SIGNING_KEY in CI secrets",
    )
}

fn read_text(path: &Path) -> Option<String> {
    let file = crate::fsio::open_regular(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_SCANNED_BYTES).read_to_end(&mut bytes).ok()?;
    String::from_utf8(bytes).ok()
}

/// The `-----BEGIN ... PRIVATE KEY-----` line of a PEM block (PKCS#8,
/// OpenSSH, EC, RSA, encrypted: all of them).
fn pem_private_key(text: &str) -> Option<std::ops::Range<usize>> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "PRIVATE KEY-----";
    // The header may stand inside a TOML or JSON string, after a quote or a
    // comment marker, so it is searched for anywhere on its line.
    let mut from = 0;
    while let Some(found) = text[from..].find(BEGIN) {
        let start = from + found;
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        if let Some(end) = text[start..line_end].find(END) {
            return Some(start..start + end + END.len());
        }
        from = start + BEGIN.len();
    }
    None
}

/// A file whose whole content is 32 bytes in base64url, base64 or hex: the
/// formats `wpc keygen`-style tools use for raw Ed25519 seeds.
fn raw_seed(text: &str) -> Option<std::ops::Range<usize>> {
    let trimmed = text.trim();
    let unpadded = trimmed.trim_end_matches('=');
    let is_seed = URL_SAFE_NO_PAD
        .decode(unpadded)
        .is_ok_and(|b| b.len() == 32)
        || STANDARD_NO_PAD
            .decode(unpadded)
            .is_ok_and(|b| b.len() == 32)
        || (trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()));
    let start = text.len() - text.trim_start().len();
    is_seed.then_some(start..start + trimmed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LintSettings;

    fn scan(files: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        let repo = Repository {
            root: dir.path().to_path_buf(),
            files: paths,
        };
        let settings = LintSettings::default();
        let mut cx = Context::new(&settings, &META);
        SecretKeyCommitted.check_repository(&repo, &mut cx);
        cx.findings
            .iter()
            .map(|f| {
                format!(
                    "{}:{} {}",
                    f.location.as_ref().unwrap().line,
                    f.location.as_ref().unwrap().column,
                    f.message
                )
            })
            .collect()
    }

    #[test]
    fn fires_on_pem_blocks_anywhere_and_seeds_under_keys() {
        let pem = "notes\n-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            scan(&[("docs/x.md", pem)]),
            ["2:1 this file holds a PEM private key block"]
        );
        let ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
        assert_eq!(scan(&[("id", ssh)]).len(), 1);
        let seed = "  nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n";
        assert_eq!(
            scan(&[("keys/release.key", seed)]),
            ["1:3 this file holds what parses as a raw Ed25519 secret seed"]
        );
        let hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        assert_eq!(scan(&[("keys/k", hex)]).len(), 1);
    }

    #[test]
    fn fires_on_a_key_pasted_into_a_policy() {
        use crate::lint::testing::{CLEAN, run_default};
        let text = format!("{CLEAN}# -----BEGIN PRIVATE KEY-----\n");
        assert_eq!(
            run_default(&SecretKeyCommitted, &[&text]),
            ["20:3 this file holds a PEM private key block"]
        );
        assert!(run_default(&SecretKeyCommitted, &[CLEAN]).is_empty());
    }

    #[test]
    fn quiet_for_public_material() {
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
        let did = "[[release_signer]]\ndid = \"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp\"\nname = \"ci\"\n";
        let seed_outside_keys = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
        assert!(
            scan(&[
                ("keys/pub.pem", public),
                ("keys/trusted-signers.toml", did),
                ("notes.txt", seed_outside_keys)
            ])
            .is_empty()
        );
    }
}

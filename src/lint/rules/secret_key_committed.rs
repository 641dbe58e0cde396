use std::io::Read;
use std::ops::Range;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use rayon::prelude::*;

use super::SecretKeyCommitted;
use crate::decide::Engine;
use crate::lint::{Context, Repository, Rule};
use crate::policy::Policy;
use crate::report::{Described, Finding, SourceFile};

/// Key files are small; anything larger is not read (and not a key).
const MAX_SCANNED_BYTES: u64 = 1024 * 1024;

impl Rule for SecretKeyCommitted {
    fn check_policy(&self, policy: &Policy, _engine: &Engine, cx: &mut Context<'_>) {
        // Policies were read already; their text is scanned here, in
        // parallel with the other per-policy rules, not read again.
        if let Some(finding) = scan(&policy.doc.source, Place::Elsewhere) {
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
                let place = if path
                    .strip_prefix(&repo.root)
                    .is_ok_and(|p| p.starts_with("keys"))
                {
                    Place::Keys
                } else {
                    Place::Elsewhere
                };
                scan(&source, place)
            })
            .collect();
        for finding in found {
            cx.push(finding);
        }
    }
}

/// Where a file lies decides how much a bare seed-shaped value means: under
/// `keys/` a 64-digit hex string is a seed, elsewhere it is far more often a
/// SHA-256 digest, so only the base64 forms count there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Keys,
    Elsewhere,
}

fn scan(source: &SourceFile, place: Place) -> Option<Finding> {
    let text = source.text();
    if let Some(found) = pem_private_key(text) {
        Some(finding(source, found, "a PEM private key block"))
    } else if let Some(found) = raw_seed(text, place) {
        Some(finding(
            source,
            found,
            "what parses as a raw Ed25519 secret seed",
        ))
    } else {
        signing_key_assignment(text).map(|found| {
            finding(
                source,
                found,
                "a raw Ed25519 secret seed assigned to WPC_SIGNING_KEY",
            )
        })
    }
}

/// Where a secret was found: the span the finding points at and the bytes
/// that must never be shown (the key material itself).
struct Found {
    shown: Range<usize>,
    secret: Range<usize>,
}

/// The finding is located in a copy of the file with the secret masked, so
/// no renderer (text snippets today, whatever comes tomorrow) can print it.
fn finding(source: &SourceFile, found: Found, what: &str) -> Finding {
    let meta = SecretKeyCommitted.meta();
    Finding::new(
        meta.code,
        meta.default_severity,
        format!("this file holds {what}"),
    )
    .at(&redacted(source, found.secret), found.shown)
    .help(
        "remove it from the repository and its history, rotate the key, and load keys from \
             --key FILE or WPC_SIGNING_KEY in CI secrets",
    )
}

/// `source` with every character of `secret` but line breaks replaced by
/// `*`, byte for byte, so every offset into it stays valid.
fn redacted(source: &SourceFile, secret: Range<usize>) -> SourceFile {
    let text = source.text();
    let secret = secret.start.min(text.len())..secret.end.min(text.len());
    let mut masked = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        if secret.contains(&at) && c != '\n' && c != '\r' {
            masked.extend(std::iter::repeat_n('*', c.len_utf8()));
        } else {
            masked.push(c);
        }
    }
    SourceFile::new(source.path(), masked)
}

/// The first [`MAX_SCANNED_BYTES`] of a regular file as text: UTF-16 (by
/// its byte order mark, or by the NUL bytes of mostly-ASCII text) is
/// decoded, anything else is read as UTF-8 with invalid bytes replaced, so a
/// key inside a binary file or past a cut character is still found.
fn read_text(path: &Path) -> Option<String> {
    let file = crate::fsio::open_regular(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_SCANNED_BYTES).read_to_end(&mut bytes).ok()?;
    Some(decode(&bytes))
}

fn decode(bytes: &[u8]) -> String {
    match utf16_order(bytes) {
        Some((body, from)) => {
            let units = body.chunks_exact(2).map(|pair| from([pair[0], pair[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

type FromBytes = fn([u8; 2]) -> u16;

/// The UTF-16 byte order of `bytes` and the text after any byte order mark.
fn utf16_order(bytes: &[u8]) -> Option<(&[u8], FromBytes)> {
    match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((rest, u16::from_le_bytes)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, u16::from_be_bytes)),
        _ => {
            // Without a mark: ASCII text in UTF-16 has a NUL in every other
            // byte, which UTF-8 text never has.
            let head = &bytes[..bytes.len().min(512) & !1];
            let nuls = |parity: usize| {
                head.iter()
                    .skip(parity)
                    .step_by(2)
                    .filter(|&&b| b == 0)
                    .count()
            };
            let pairs = head.len() / 2;
            if pairs < 8 {
                None
            } else if nuls(1) * 10 >= pairs * 9 && nuls(0) == 0 {
                Some((bytes, u16::from_le_bytes))
            } else if nuls(0) * 10 >= pairs * 9 && nuls(1) == 0 {
                Some((bytes, u16::from_be_bytes))
            } else {
                None
            }
        }
    }
}

/// The `-----BEGIN ... PRIVATE KEY-----` line of a PEM block (PKCS#8,
/// OpenSSH, EC, RSA, encrypted: all of them); its secret is everything from
/// there to the end of the block's `-----END` line (or of the file).
fn pem_private_key(text: &str) -> Option<Found> {
    const BEGIN: &str = "-----BEGIN ";
    const HEADER_END: &str = "PRIVATE KEY-----";
    const FOOTER: &str = "-----END ";
    // The header may stand inside a TOML or JSON string, after a quote or a
    // comment marker, so it is searched for anywhere on its line.
    let mut from = 0;
    while let Some(found) = text[from..].find(BEGIN) {
        let start = from + found;
        let header_line_end = line_end(text, start);
        if let Some(end) = text[start..header_line_end].find(HEADER_END) {
            let header_end = start + end + HEADER_END.len();
            let block_end = text[header_end..]
                .find(FOOTER)
                .map_or(text.len(), |i| line_end(text, header_end + i));
            return Some(Found {
                shown: start..header_end,
                secret: header_end..block_end,
            });
        }
        from = start + BEGIN.len();
    }
    None
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |i| from + i)
}

/// A file whose whole content is 32 bytes in base64url or base64 (or, under
/// `keys/`, hex): the formats raw Ed25519 seeds are kept in.
fn raw_seed(text: &str, place: Place) -> Option<Found> {
    let trimmed = text.trim();
    let start = text.len() - text.trim_start().len();
    let range = start..start + trimmed.len();
    (is_seed(trimmed) || (place == Place::Keys && is_hex_seed(trimmed))).then(|| Found {
        shown: range.clone(),
        secret: range,
    })
}

fn is_seed(value: &str) -> bool {
    let unpadded = value.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(unpadded)
        .is_ok_and(|b| b.len() == 32)
        || STANDARD_NO_PAD
            .decode(unpadded)
            .is_ok_and(|b| b.len() == 32)
}

fn is_hex_seed(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `WPC_SIGNING_KEY=SEED` (shell or `.env` style, `export` and quotes
/// allowed) with a value that is a seed, not a reference such as `$KEY`.
fn signing_key_assignment(text: &str) -> Option<Found> {
    const NAME: &str = "WPC_SIGNING_KEY";
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let statement = line.trim_start();
        let statement = statement
            .strip_prefix("export ")
            .unwrap_or(statement)
            .trim_start();
        let Some(rest) = statement.strip_prefix(NAME) else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim();
        let bare = value.trim_matches(|c| c == '"' || c == '\'');
        if is_seed(bare) || is_hex_seed(bare) {
            // Both are slices of `line`: their offsets in it are exact.
            let offset_in_line = |part: &str| part.as_ptr() as usize - line.as_ptr() as usize;
            let name_at = line_start + offset_in_line(statement);
            let value_at = line_start + offset_in_line(bare);
            return Some(Found {
                shown: name_at..name_at + NAME.len(),
                secret: value_at..value_at + bare.len(),
            });
        }
    }
    None
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
        let mut cx = Context::new(&settings, SecretKeyCommitted.meta());
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
            scan(&[("notes/x.md", pem)]),
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
    fn fires_on_seeds_outside_keys_env_assignments_and_utf16() {
        let seed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
        assert_eq!(
            scan(&[("release.seed", seed)]),
            ["1:1 this file holds what parses as a raw Ed25519 secret seed"]
        );
        assert_eq!(
            scan(&[(".env", &format!("A=1\nexport WPC_SIGNING_KEY='{seed}'\n"))]),
            ["2:8 this file holds a raw Ed25519 secret seed assigned to WPC_SIGNING_KEY"]
        );
        let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        let big_endian: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let mut little_endian_marked = vec![0xFF, 0xFE];
        little_endian_marked.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&big_endian), text);
        assert_eq!(decode(&little_endian_marked), text);
        assert_eq!(
            decode("plain ascii text, long enough".as_bytes()),
            "plain ascii text, long enough"
        );
    }

    #[test]
    fn the_finding_never_holds_the_secret() {
        let text = "x\n-----BEGIN PRIVATE KEY-----\nSECRETBODY\n-----END PRIVATE KEY-----\ntail\n";
        let source = SourceFile::new("k.pem", text);
        let finding = super::scan(&source, Place::Elsewhere).unwrap();
        let location = finding.location.unwrap();
        let shown = location.source.text();
        assert!(!shown.contains("SECRETBODY"), "{shown}");
        assert!(
            shown.starts_with("x\n-----BEGIN PRIVATE KEY-----\n**********\n"),
            "{shown}"
        );
        assert!(shown.ends_with("\ntail\n"), "{shown}");
        assert_eq!(location.line, 2);
    }

    #[test]
    fn quiet_for_public_material_and_references() {
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
        let did = "[[release_signer]]\ndid = \"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp\"\nname = \"ci\"\n";
        let digest = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let reference =
            "WPC_SIGNING_KEY=\"$(cat /run/secrets/key)\"\nWPC_SIGNING_KEY: ${{ secrets.KEY }}\n";
        assert!(
            scan(&[
                ("keys/pub.pem", public),
                ("keys/trusted-signers.toml", did),
                ("sha256.txt", digest),
                (".env", reference),
            ])
            .is_empty()
        );
    }
}

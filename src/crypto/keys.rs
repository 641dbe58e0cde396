//! Ed25519 secret keys: loading (`--key FILE` or `WPC_SIGNING_KEY`),
//! generation, and writing a new key file.
//!
//! Two text formats are accepted: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`,
//! what `openssl genpkey -algorithm ed25519` writes, and what wpc writes) and
//! the raw 32-byte seed in unpadded base64url, which fits in an environment
//! variable or a CI secret. Secret bytes live only in zeroizing buffers, and no
//! error or `Debug` output contains them.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{SECRET_KEY_LENGTH, Signature, Signer as _, VerifyingKey};
use zeroize::Zeroizing;

use crate::crypto::did::DidKey;

/// The environment variable a signing key may be passed in.
pub const SIGNING_KEY_ENV: &str = "WPC_SIGNING_KEY";

/// An Ed25519 signing key. Its secret is zeroized on drop and never shown by
/// `Debug`, which prints the public `did:key` instead.
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
    /// Derived once: every envelope names its signer, and base58 encoding
    /// costs a noticeable share of a signature.
    did: DidKey,
}

/// Where a secret key came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file.
    File(PathBuf),
    /// The `WPC_SIGNING_KEY` environment variable.
    Env,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "key file {}", path.display()),
            Self::Env => write!(f, "environment variable {SIGNING_KEY_ENV}"),
        }
    }
}

/// Why a key could not be loaded, generated or written. Messages name the
/// file or variable and never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read (missing, not a regular file, too
    /// large).
    #[error("cannot read {source_name}: {}", error.problem)]
    Read {
        /// The file.
        source_name: KeySource,
        /// Why.
        error: crate::fsio::ReadError,
    },
    /// The text is not a key in a supported format.
    #[error("{source_name} does not hold a usable Ed25519 secret key: {reason}")]
    Format {
        /// The file or variable.
        source_name: KeySource,
        /// What is wrong, in words that do not quote the input.
        reason: String,
    },
    /// `WPC_SIGNING_KEY` holds the path of a file instead of a key.
    #[error(
        "environment variable {SIGNING_KEY_ENV} holds a file path ({}), not a key: the variable holds the key itself (PKCS#8 PEM or base64url seed); to sign with a key file, pass --key {}",
        path.display(),
        path.display()
    )]
    PathInEnv {
        /// The path found in the variable.
        path: PathBuf,
    },
    /// `write_new` found a file already at the path.
    #[error("{} already exists; refusing to overwrite a key file", path.display())]
    Exists {
        /// The path.
        path: PathBuf,
    },
    /// Writing a new key file failed.
    #[error("cannot write key file {}: {error}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("cannot generate a key: the operating system random number generator failed: {0}")]
    Random(getrandom::Error),
}

impl SigningKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; SECRET_KEY_LENGTH]);
        getrandom::fill(seed.as_mut_slice()).map_err(KeyError::Random)?;
        Ok(Self::from_seed(&seed))
    }

    /// Loads a key from a file (PKCS#8 PEM or base64url seed).
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let source_name = KeySource::File(path.to_owned());
        let read_error = |error| KeyError::Read {
            source_name: source_name.clone(),
            error,
        };
        let bytes = Zeroizing::new(crate::fsio::read(path, crate::fsio::KEY).map_err(read_error)?);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Err(format_error(
                &source_name,
                "the file is not text (a DER key? convert it to PEM with `openssl pkey -outform PEM`)",
            ));
        };
        Self::from_text(text, &source_name)
    }

    /// Loads a key from the value of the `WPC_SIGNING_KEY` variable (PKCS#8
    /// PEM or base64url seed).
    pub fn from_env_value(value: &str) -> Result<Self, KeyError> {
        Self::from_text(value, &KeySource::Env).map_err(|err| {
            // A common mix-up: the variable set to where the key is. Only a
            // value that names an existing file is echoed; it is then a path,
            // not a secret.
            let path = Path::new(value.trim());
            if matches!(err, KeyError::Format { .. }) && path.is_file() {
                KeyError::PathInEnv {
                    path: path.to_owned(),
                }
            } else {
                err
            }
        })
    }

    /// The public identity of this key.
    pub fn did(&self) -> DidKey {
        self.did.clone()
    }

    /// The `did:key` string, without a copy.
    pub fn did_str(&self) -> &str {
        self.did.as_str()
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.inner.verifying_key()
    }

    /// Writes this key as PKCS#8 PEM to a new file with mode 0600.
    ///
    /// The file appears atomically and complete, or not at all; an existing
    /// file is never replaced, even one created concurrently
    /// ([`KeyError::Exists`]).
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let write_error = |error| KeyError::Write {
            path: path.to_owned(),
            error,
        };
        let pem = self
            .inner
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|err| write_error(io::Error::other(err.to_string())))?;
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".wpc-key-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(fs::Permissions::from_mode(0o600));
        }
        let mut tmp = builder.tempfile_in(dir).map_err(write_error)?;
        tmp.write_all(pem.as_bytes()).map_err(write_error)?;
        tmp.as_file().sync_all().map_err(write_error)?;
        // A hard link (or RENAME_NOREPLACE), so a file that appeared since
        // we looked is kept and reported rather than replaced.
        tmp.persist_noclobber(path).map_err(|err| {
            if err.error.kind() == io::ErrorKind::AlreadyExists {
                KeyError::Exists {
                    path: path.to_owned(),
                }
            } else {
                write_error(err.error)
            }
        })?;
        Ok(())
    }

    /// Signs a message (for envelopes: the UTF-8 of `payload_hash_b64u`).
    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        self.inner.sign(message)
    }

    /// The key with this 32-byte seed (RFC 8032 private key). For
    /// deterministic keys in tests and the bundle test kit; real keys come
    /// from [`SigningKey::generate`].
    pub fn from_seed(seed: &[u8; SECRET_KEY_LENGTH]) -> Self {
        Self::from_inner(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    fn from_inner(inner: ed25519_dalek::SigningKey) -> Self {
        let did = DidKey::from_verifying_key(&inner.verifying_key());
        Self { inner, did }
    }

    fn from_text(text: &str, source_name: &KeySource) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format_error(source_name, "it is empty"));
        }
        if text.starts_with("-----BEGIN") {
            return Self::from_pem(text, source_name);
        }
        let seed = Zeroizing::new(URL_SAFE_NO_PAD.decode(text).map_err(|_| {
            format_error(
                source_name,
                "it is neither PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) nor a base64url seed \
                 without padding",
            )
        })?);
        let Ok(seed) = <&[u8; SECRET_KEY_LENGTH]>::try_from(seed.as_slice()) else {
            return Err(format_error(
                source_name,
                format!(
                    "the base64url seed decodes to {} bytes; an Ed25519 seed is {SECRET_KEY_LENGTH}",
                    seed.len()
                ),
            ));
        };
        Ok(Self::from_seed(seed))
    }

    fn from_pem(text: &str, source_name: &KeySource) -> Result<Self, KeyError> {
        let label = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("-----BEGIN ")
            .trim_end_matches("-----");
        let reason = match label {
            "PRIVATE KEY" => {
                return ed25519_dalek::SigningKey::from_pkcs8_pem(text)
                    .map(Self::from_inner)
                    .map_err(|_| {
                        format_error(
                            source_name,
                            "the PEM block is not a well-formed PKCS#8 Ed25519 private key",
                        )
                    });
            }
            "ENCRYPTED PRIVATE KEY" => "encrypted PKCS#8 keys are not supported".to_owned(),
            "OPENSSH PRIVATE KEY" => {
                "OpenSSH keys are not supported (use `openssl genpkey -algorithm ed25519` or \
                 `wpc keygen`)"
                    .to_owned()
            }
            "PUBLIC KEY" => "it is a public key, not a secret key".to_owned(),
            // Labels are not secret, but a garbled first line could be.
            _ if label.len() <= 40
                && label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') =>
            {
                format!("a PEM `{label}` block is not a PKCS#8 `PRIVATE KEY`")
            }
            _ => "the PEM header is not `-----BEGIN PRIVATE KEY-----`".to_owned(),
        };
        Err(format_error(source_name, reason))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("did", &self.did_str())
            .finish_non_exhaustive()
    }
}

fn format_error(source_name: &KeySource, reason: impl Into<String>) -> KeyError {
    KeyError::Format {
        source_name: source_name.clone(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_B64U: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE";

    #[test]
    fn seed_in_env_value_tolerates_whitespace() {
        let key = SigningKey::from_env_value(&format!("  {SEED_B64U}\n")).unwrap();
        assert_eq!(
            key.did().as_str(),
            "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
        );
    }

    #[test]
    fn debug_shows_the_did_only() {
        let key = SigningKey::from_env_value(SEED_B64U).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains("did:key:z6Mk"), "{debug}");
        assert!(!debug.contains(SEED_B64U), "{debug}");
        assert!(!debug.contains("inner"), "{debug}");
    }

    #[test]
    fn pem_round_trip_through_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let key = SigningKey::generate().unwrap();
        key.write_new(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        assert_eq!(SigningKey::from_file(&path).unwrap().did(), key.did());
        assert_eq!(SigningKey::from_env_value(&text).unwrap().did(), key.did());
    }

    #[test]
    fn bad_values_are_named_and_not_echoed() {
        let secretish = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";
        let cases = [
            ("", "empty"),
            ("   \n", "empty"),
            (secretish, "decodes to 34 bytes"),
            (
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=",
                "without padding",
            ),
            ("not a key at all!", "neither PKCS#8 PEM"),
            (
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----",
                "not a well-formed PKCS#8",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
                "OpenSSH",
            ),
            (
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----",
                "encrypted",
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----",
                "`EC PRIVATE KEY`",
            ),
        ];
        for (value, expected) in cases {
            let message = SigningKey::from_env_value(value).unwrap_err().to_string();
            assert!(message.contains("WPC_SIGNING_KEY"), "{message}");
            assert!(message.contains(expected), "{value:?}: {message}");
            assert!(!message.contains(secretish), "{message}");
            assert!(!message.contains("MC4CAQAw"), "{message}");
        }
    }

    #[test]
    fn a_path_in_the_variable_points_at_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("release.pem");
        SigningKey::generate().unwrap().write_new(&path).unwrap();
        let value = format!("{}\n", path.display());
        let message = SigningKey::from_env_value(&value).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "environment variable WPC_SIGNING_KEY holds a file path ({0}), not a key: the \
                 variable holds the key itself (PKCS#8 PEM or base64url seed); to sign with a key \
                 file, pass --key {0}",
                path.display()
            )
        );
        // A path to nothing is not echoed: it could be a mangled secret.
        let message = SigningKey::from_env_value("/no/such/key.pem")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("/no/such"), "{message}");
    }

    #[test]
    #[cfg(unix)]
    fn a_fifo_as_key_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        crate::fsio::make_fifo(&path);
        let message = SigningKey::from_file(&path).unwrap_err().to_string();
        assert!(
            message.ends_with("not a regular file (a FIFO); wpc reads only regular files"),
            "{message}"
        );
    }
}

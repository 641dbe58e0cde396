//! Secret key files: mode, no overwriting, clear errors without secrets.

// Test helpers outside #[test] functions unwrap too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;

use wpc::crypto::keys::{KeyError, SigningKey};

#[cfg(unix)]
#[test]
fn new_key_file_is_mode_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.pem");
    SigningKey::generate().unwrap().write_new(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // Only the key file is left behind: no temporary files.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn refuses_to_overwrite_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.pem");
    fs::write(&path, "precious").unwrap();
    let err = SigningKey::generate()
        .unwrap()
        .write_new(&path)
        .unwrap_err();
    assert!(matches!(err, KeyError::Exists { .. }), "{err:?}");
    assert!(err.to_string().contains("signing.pem"), "{err}");
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn writing_into_a_missing_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/signing.pem");
    let err = SigningKey::generate()
        .unwrap()
        .write_new(&path)
        .unwrap_err();
    assert!(matches!(err, KeyError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("signing.pem"), "{err}");
}

#[test]
fn bad_key_files_name_the_file_and_hide_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";
    let cases: [(&str, &[u8], &str); 4] = [
        ("short.key", secret.as_bytes(), "decodes to 34 bytes"),
        (
            "binary.der",
            &[0x30, 0x2e, 0x02, 0x01, 0x00, 0xff],
            "not text",
        ),
        ("empty.key", b"\n", "empty"),
        (
            "public.pem",
            b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
            "public key",
        ),
    ];
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        fs::write(&path, content).unwrap();
        let message = SigningKey::from_file(&path).unwrap_err().to_string();
        assert!(message.contains(name), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains(secret), "{message}");
    }
    let missing = dir.path().join("missing.pem");
    let message = SigningKey::from_file(&missing).unwrap_err().to_string();
    assert!(message.contains("missing.pem"), "{message}");
}

#[test]
fn seed_file_with_trailing_newline_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.key");
    fs::write(&path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n").unwrap();
    assert_eq!(
        SigningKey::from_file(&path).unwrap().did().as_str(),
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    );
}

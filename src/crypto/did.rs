//! `did:key` for Ed25519: `did:key:z` + base58btc(0xED 0x01 ‖ 32-byte public key).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use ed25519_dalek::{PUBLIC_KEY_LENGTH, VerifyingKey};

use crate::crypto::quote;
use crate::crypto::strict::{self, KeyOrder};

const PREFIX: &str = "did:key:";
/// Multibase prefix of base58btc.
const BASE58BTC: char = 'z';
/// Unsigned-varint multicodec of `ed25519-pub` (0xED).
const ED25519_PUB: [u8; 2] = [0xED, 0x01];

/// A syntactically valid `did:key` naming an Ed25519 public key that is a
/// point on the curve and not of small order.
///
/// Two `DidKey`s are equal when their keys are equal; since the encoding is
/// canonical, that is the same as their strings being equal.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DidKey {
    /// Shared, so that a key taken from a cache is copied without an
    /// allocation.
    did: Arc<str>,
    key: VerifyingKey,
    /// Decided once per key, so that every signature it checks can take
    /// the fast path of [`strict`].
    order: KeyOrder,
}

/// Parsed keys kept per thread, so that verifying thousands of envelopes
/// from the same few signers (a batch of bundles) decompresses each key once:
/// point decompression is a field exponentiation, about a quarter of the cost
/// of a signature check. Parsing is a pure function of the string, and only
/// successful parses are kept; the map is cleared when it is full.
const CACHE_LIMIT: usize = 256;

thread_local! {
    static CACHE: std::cell::RefCell<std::collections::HashMap<String, DidKey>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl DidKey {
    /// Parses and validates a `did:key` string.
    pub fn parse(did: &str) -> Result<Self, DidError> {
        if let Some(hit) = CACHE.with(|cache| cache.borrow().get(did).cloned()) {
            return Ok(hit);
        }
        let parsed = Self::parse_uncached(did)?;
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(did.to_owned(), parsed.clone());
        });
        Ok(parsed)
    }

    fn parse_uncached(did: &str) -> Result<Self, DidError> {
        let Some(multibase) = did.strip_prefix(PREFIX) else {
            return Err(DidError::NotDidKey(quote(did)));
        };
        let Some(encoded) = multibase.strip_prefix(BASE58BTC) else {
            return Err(DidError::WrongMultibase(quote(did)));
        };
        let bytes = bs58::decode(encoded)
            .with_alphabet(bs58::Alphabet::BITCOIN)
            .into_vec()
            .map_err(|err| DidError::Base58 {
                did: quote(did),
                detail: err.to_string(),
            })?;
        let Some(key_bytes) = bytes.strip_prefix(&ED25519_PUB) else {
            return Err(DidError::WrongMulticodec(quote(did)));
        };
        let key_bytes: &[u8; PUBLIC_KEY_LENGTH] =
            key_bytes.try_into().map_err(|_| DidError::WrongLength {
                did: quote(did),
                found: key_bytes.len(),
            })?;
        let key = VerifyingKey::from_bytes(key_bytes)
            .map_err(|_| DidError::NotACurvePoint(quote(did)))?;
        // A small-order key can never pass `verify_strict`; naming it here
        // gives a precise error instead of a signature failure later.
        if key.is_weak() {
            return Err(DidError::SmallOrder(quote(did)));
        }
        Ok(Self {
            did: Arc::from(did),
            key,
            order: KeyOrder::of(&key),
        })
    }

    /// The `did:key` of a public key.
    pub fn from_verifying_key(key: &VerifyingKey) -> Self {
        let mut bytes = Vec::with_capacity(ED25519_PUB.len() + PUBLIC_KEY_LENGTH);
        bytes.extend_from_slice(&ED25519_PUB);
        bytes.extend_from_slice(key.as_bytes());
        let did = format!(
            "{PREFIX}{BASE58BTC}{}",
            bs58::encode(bytes)
                .with_alphabet(bs58::Alphabet::BITCOIN)
                .into_string()
        );
        Self {
            did: Arc::from(did),
            key: *key,
            order: KeyOrder::of(key),
        }
    }

    /// The DID string.
    pub fn as_str(&self) -> &str {
        &self.did
    }

    /// The Ed25519 public key the DID names.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether `signature` is valid for `message` under this key, exactly as
    /// `verify_strict` decides ([`strict`]).
    pub(crate) fn verifies(&self, message: &[u8], signature: &ed25519_dalek::Signature) -> bool {
        strict::verify_strict(&self.key, self.order, message, signature)
    }

    /// [`DidKey::verifies`], to be decided with others
    /// ([`strict::verify_strict_all`]).
    pub(crate) fn signature_check<'a>(
        &'a self,
        message: &'a [u8],
        signature: &'a ed25519_dalek::Signature,
    ) -> strict::SignatureCheck<'a> {
        strict::SignatureCheck {
            key: &self.key,
            order: self.order,
            message,
            signature,
        }
    }
}

impl fmt::Display for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.did)
    }
}

impl fmt::Debug for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DidKey({})", self.did)
    }
}

impl FromStr for DidKey {
    type Err = DidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a string is not an Ed25519 `did:key`. Each variant quotes the input
/// (shortened when long).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// The string does not start with `did:key:`.
    #[error("`{0}` is not a did:key (it must start with `did:key:`)")]
    NotDidKey(String),
    /// The method-specific part does not start with `z` (base58btc).
    #[error(
        "`{0}` does not use base58btc multibase (the part after `did:key:` must start with `z`)"
    )]
    WrongMultibase(String),
    /// A character outside the Bitcoin base58 alphabet.
    #[error("`{did}` is not valid base58btc: {detail}")]
    Base58 {
        /// The DID as given.
        did: String,
        /// Which character, and where.
        detail: String,
    },
    /// The decoded bytes do not start with the ed25519-pub multicodec.
    #[error("`{0}` is not an Ed25519 did:key (the multicodec must be ed25519-pub, 0xED 0x01)")]
    WrongMulticodec(String),
    /// The key is not 32 bytes long.
    #[error("`{did}` holds a {found}-byte key; an Ed25519 public key is 32 bytes")]
    WrongLength {
        /// The DID as given.
        did: String,
        /// The key length found.
        found: usize,
    },
    /// The 32 bytes do not decode to a point on the Ed25519 curve.
    #[error("`{0}` does not hold a valid Ed25519 public key (not a curve point)")]
    NotACurvePoint(String),
    /// The key is a small-order point, which signs for (almost) anything.
    #[error("`{0}` holds a small-order (weak) Ed25519 public key")]
    SmallOrder(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// w3c-ccg/did-method-key `test-vectors/ed25519-x25519.json`: seed,
    /// did:key, and the key as `publicKeyBase58`.
    const W3C: [(u8, &str, &str); 5] = [
        (
            0,
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
        ),
        (
            1,
            "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
            "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
        ),
        (
            2,
            "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
            "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
        ),
        (
            3,
            "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
            "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2",
        ),
        (
            4,
            "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
            "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x",
        ),
    ];

    #[test]
    fn w3c_vectors_decode_to_their_public_keys() {
        for (_, did, pk58) in W3C {
            let expected = bs58::decode(pk58).into_vec().unwrap();
            let parsed = DidKey::parse(did).unwrap();
            assert_eq!(
                parsed.verifying_key().as_bytes().as_slice(),
                expected,
                "{did}"
            );
            assert_eq!(parsed.as_str(), did);
        }
    }

    #[test]
    fn w3c_vectors_encode_from_their_seeds() {
        for (last, did, _) in W3C {
            let mut seed = [0u8; 32];
            seed[31] = last;
            let key = SigningKey::from_bytes(&seed).verifying_key();
            assert_eq!(DidKey::from_verifying_key(&key).as_str(), did);
        }
    }

    type IsExpected = fn(&DidError) -> bool;

    fn encode_raw(bytes: &[u8]) -> String {
        format!("did:key:z{}", bs58::encode(bytes).into_string())
    }

    #[test]
    fn each_kind_of_bad_did_has_its_own_error() {
        let good = W3C[0].1;
        let key = DidKey::parse(good).unwrap().verifying_key().to_bytes();
        let with_codec = |codec: &[u8], key: &[u8]| {
            let mut bytes = codec.to_vec();
            bytes.extend_from_slice(key);
            encode_raw(&bytes)
        };
        // y = 2 is not the y coordinate of any curve point.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;

        let cases: Vec<(String, IsExpected)> = vec![
            (good.replace("did:key:", "did:web:"), |e| {
                matches!(e, DidError::NotDidKey(_))
            }),
            ("did:key".into(), |e| matches!(e, DidError::NotDidKey(_))),
            (good.replace(":z", ":f"), |e| {
                matches!(e, DidError::WrongMultibase(_))
            }),
            ("did:key:z6Mk0OIl".into(), |e| {
                matches!(e, DidError::Base58 { .. })
            }),
            (with_codec(&[0xEC, 0x01], &key), |e| {
                matches!(e, DidError::WrongMulticodec(_))
            }),
            (with_codec(&[0xE7, 0x01], &key), |e| {
                matches!(e, DidError::WrongMulticodec(_))
            }),
            (with_codec(&[0xED, 0x01], &key[..31]), |e| {
                matches!(e, DidError::WrongLength { found: 31, .. })
            }),
            (
                with_codec(&[0xED, 0x01], &[key.as_slice(), &[0]].concat()),
                |e| matches!(e, DidError::WrongLength { found: 33, .. }),
            ),
            ("did:key:z".into(), |e| {
                matches!(e, DidError::WrongMulticodec(_))
            }),
            (with_codec(&[0xED, 0x01], &not_a_point), |e| {
                matches!(e, DidError::NotACurvePoint(_))
            }),
            (with_codec(&[0xED, 0x01], &identity), |e| {
                matches!(e, DidError::SmallOrder(_))
            }),
        ];
        for (did, is_expected) in cases {
            let err = DidKey::parse(&did).unwrap_err();
            assert!(is_expected(&err), "{did}: {err:?}");
            assert!(err.to_string().contains(&did), "{err}");
        }
    }

    #[test]
    fn long_input_is_shortened_in_errors() {
        let did = format!("did:web:{}", "a".repeat(10_000));
        let message = DidKey::parse(&did).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn round_trips_through_display_and_from_str() {
        let did: DidKey = W3C[2].1.parse().unwrap();
        assert_eq!(did.to_string(), W3C[2].1);
        assert_eq!(DidKey::from_verifying_key(did.verifying_key()), did);
    }
}

//! Ed25519 `verify_strict`, for keys that are checked once and then used
//! for many signatures (a trusted gateway's receipts, an agent's bundles).
//!
//! `ed25519_dalek::VerifyingKey::verify_strict` accepts `(R, s)` on `M`
//! under key `A` exactly when
//!
//! 1. `s` is canonical (`s < ℓ`);
//! 2. `R` decompresses to a point, and neither that point nor `A` has small
//!    order;
//! 3. the encoding of `[s]B − [k]A`, `k = SHA-512(R ‖ A ‖ M) mod ℓ`, equals
//!    the bytes of `R`.
//!
//! When `A` is a point of the prime-order subgroup other than the identity
//! (checked once per key: [`KeyOrder::of`]), step 2 follows from the others
//! and need not decompress `R`, a field exponentiation that is an eighth of
//! the cost of a verification:
//!
//! - `[s]B − [k]A` is then in the prime-order subgroup, so if step 3 holds,
//!   `R` is the canonical encoding of a point of that subgroup: it
//!   decompresses, and the only small-order point it can be is the identity,
//!   which is checked;
//! - conversely, if step 3 fails, `verify_strict` fails too.
//!
//! The same acceptance set, so a bundle gets the same verdict as from
//! `verify_strict` and the Claw reference verifier. Not batch verification,
//! which does not have that property (docs/bundles.md, "Performance").
//!
//! [`verify_strict_all`] checks several signatures at once with exactly the
//! same per-signature test: it only shares the field inversion that encoding
//! `[s]B − [k]A` takes (Montgomery's trick, `compress_batch_alloc`), so each
//! verdict is still that signature's own, whatever the others are. The
//! tests compare all of this with `verify_strict` on the Wycheproof vectors
//! (singly and in one mixed batch), on signatures a key holder crafts with
//! torsion or small-order `R`, and on random mutations.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha512};

/// Whether a key may take the fast path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyOrder {
    /// In the prime-order subgroup, not the identity.
    Prime,
    /// Small order, or with a torsion component: `verify_strict` decides.
    Other,
}

impl KeyOrder {
    /// One scalar multiplication: worth it for a key that checks more than
    /// a few signatures, which is why keys are cached (`DidKey`, `Trust`).
    pub(crate) fn of(key: &VerifyingKey) -> KeyOrder {
        let point = key.to_edwards();
        if !key.is_weak() && point.is_torsion_free() {
            KeyOrder::Prime
        } else {
            KeyOrder::Other
        }
    }
}

/// `key.verify_strict(message, signature).is_ok()`, computed without
/// decompressing `R` when `order` is [`KeyOrder::Prime`].
pub(crate) fn verify_strict(
    key: &VerifyingKey,
    order: KeyOrder,
    message: &[u8],
    signature: &Signature,
) -> bool {
    if order == KeyOrder::Other {
        return key.verify_strict(message, signature).is_ok();
    }
    expected_r(key, message, signature)
        .is_some_and(|expected| expected.compress().as_bytes() == signature.r_bytes())
}

/// One signature for [`verify_strict_all`].
#[derive(Clone, Copy)]
pub(crate) struct SignatureCheck<'a> {
    pub(crate) key: &'a VerifyingKey,
    pub(crate) order: KeyOrder,
    pub(crate) message: &'a [u8],
    pub(crate) signature: &'a Signature,
}

/// [`verify_strict`] of each check, in order. The fast-path ones share one
/// field inversion per [`BATCH`] signatures instead of one each.
pub(crate) fn verify_strict_all(checks: &[SignatureCheck<'_>]) -> Vec<bool> {
    let mut verdicts = vec![false; checks.len()];
    for (offset, chunk) in (0..).step_by(BATCH).zip(checks.chunks(BATCH)) {
        let mut pending = Vec::with_capacity(chunk.len());
        let mut points = Vec::with_capacity(chunk.len());
        for (i, check) in chunk.iter().enumerate() {
            if check.order == KeyOrder::Other {
                verdicts[offset + i] = check
                    .key
                    .verify_strict(check.message, check.signature)
                    .is_ok();
            } else if let Some(point) = expected_r(check.key, check.message, check.signature) {
                pending.push(offset + i);
                points.push(point);
            }
        }
        for (i, encoded) in pending
            .into_iter()
            .zip(EdwardsPoint::compress_batch_alloc(&points))
        {
            verdicts[i] = encoded.as_bytes() == checks[i].signature.r_bytes();
        }
    }
    verdicts
}

/// Signatures per shared inversion: the saving is (n − 1)/n of the
/// inversions, and the working memory stays a few kilobytes however many
/// signatures a document holds.
const BATCH: usize = 64;

/// What a valid signature's `R` encodes, for a [`KeyOrder::Prime`] key:
/// `[s]B − [k]A`, unless `s` is not canonical or that point is the identity
/// (which has small order), when the signature is invalid (`None`).
fn expected_r(key: &VerifyingKey, message: &[u8], signature: &Signature) -> Option<EdwardsPoint> {
    let r = signature.r_bytes();
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))?;
    let digest = Sha512::new()
        .chain_update(r)
        .chain_update(key.as_bytes())
        .chain_update(message)
        .finalize();
    let k = Scalar::from_bytes_mod_order_wide(&digest.into());
    let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-key.to_edwards(), &s);
    (!expected.is_identity()).then_some(expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use ed25519_dalek::{Signer as _, SigningKey};
    use serde_json::Value;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// All paths agree (the batch one with a batch of one); returns the
    /// verdict.
    fn agree(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
        let strict = key.verify_strict(message, signature).is_ok();
        let order = KeyOrder::of(key);
        let check = SignatureCheck {
            key,
            order,
            message,
            signature,
        };
        for fast in [
            verify_strict(key, order, message, signature),
            verify_strict_all(&[check])[0],
        ] {
            assert_eq!(
                fast,
                strict,
                "key {:?} ({order:?}), signature {signature:?}",
                key.as_bytes()
            );
        }
        strict
    }

    #[test]
    fn same_verdicts_as_verify_strict_on_every_wycheproof_vector() {
        let text = include_str!("../../tests/vectors/wycheproof/ed25519_test.json");
        let doc: Value = serde_json::from_str(text).unwrap();
        let (mut compared, mut prime) = (0, 0);
        let mut all = Vec::new();
        for group in doc["testGroups"].as_array().unwrap() {
            let key_bytes: [u8; 32] = hex(group["publicKey"]["pk"].as_str().unwrap())
                .try_into()
                .unwrap();
            let Ok(key) = VerifyingKey::from_bytes(&key_bytes) else {
                continue;
            };
            if KeyOrder::of(&key) == KeyOrder::Prime {
                prime += 1;
            }
            for test in group["tests"].as_array().unwrap() {
                let Ok(signature) = Signature::from_slice(&hex(test["sig"].as_str().unwrap()))
                else {
                    continue;
                };
                let message = hex(test["msg"].as_str().unwrap());
                let verdict = agree(&key, &message, &signature);
                all.push((key, message, signature, verdict));
                compared += 1;
            }
        }
        assert!(
            compared > BATCH && prime > 0,
            "{compared} vectors, {prime} prime-order keys"
        );
        // All in one batch, valid and invalid side by side over several
        // chunks: each verdict is still that signature's own.
        let checks: Vec<_> = all
            .iter()
            .map(|(key, message, signature, _)| SignatureCheck {
                key,
                order: KeyOrder::of(key),
                message,
                signature,
            })
            .collect();
        let expected: Vec<bool> = all.iter().map(|(.., verdict)| *verdict).collect();
        assert_eq!(verify_strict_all(&checks), expected);
        assert!(expected.contains(&true) && expected.contains(&false));
    }

    /// Signatures only the key holder can make, with `R` chosen freely:
    /// `s = r + k·a` for `R = [r]B + T`. Every one must be rejected.
    #[test]
    fn crafted_torsion_and_small_order_r_are_rejected() {
        let secret = Scalar::from(0x1234_5678_9abc_u64);
        let public = ED25519_BASEPOINT_POINT * secret;
        let key = VerifyingKey::from_bytes(public.compress().as_bytes()).unwrap();
        assert_eq!(KeyOrder::of(&key), KeyOrder::Prime);
        let message = b"payload hash";
        for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
            for nonce in [Scalar::ZERO, Scalar::from(77u64 + i as u64)] {
                let r_point = ED25519_BASEPOINT_POINT * nonce + torsion;
                let r = r_point.compress();
                let digest = Sha512::new()
                    .chain_update(r.as_bytes())
                    .chain_update(key.as_bytes())
                    .chain_update(message)
                    .finalize();
                let k = Scalar::from_bytes_mod_order_wide(&digest.into());
                let s = nonce + k * secret;
                let mut bytes = [0u8; 64];
                bytes[..32].copy_from_slice(r.as_bytes());
                bytes[32..].copy_from_slice(s.as_bytes());
                let signature = Signature::from_bytes(&bytes);
                // Only the honest case (no torsion, non-zero nonce) verifies.
                let honest = i == 0 && nonce != Scalar::ZERO;
                assert_eq!(agree(&key, message, &signature), honest, "torsion {i}");
            }
        }
    }

    #[test]
    fn keys_with_a_torsion_component_take_verify_strict() {
        let secret = Scalar::from(99u64);
        let mixed = ED25519_BASEPOINT_POINT * secret + EIGHT_TORSION[1];
        let key = VerifyingKey::from_bytes(mixed.compress().as_bytes()).unwrap();
        assert_eq!(KeyOrder::of(&key), KeyOrder::Other);
        let small = VerifyingKey::from_bytes(EIGHT_TORSION[2].compress().as_bytes()).unwrap();
        assert_eq!(KeyOrder::of(&small), KeyOrder::Other);
    }

    #[test]
    fn every_single_byte_mutation_gets_the_same_verdict() {
        let signing = SigningKey::from_bytes(&[9u8; 32]);
        let key = signing.verifying_key();
        let message = b"ibhRTWt5gh47v4X1fAtBRKwEKCHZir1w-de3fNfCEu8";
        let good = signing.sign(message).to_bytes();
        assert!(agree(&key, message, &Signature::from_bytes(&good)));
        let mut signatures = vec![Signature::from_bytes(&good)];
        for index in 0..64 {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bytes = good;
                bytes[index] ^= flip;
                assert!(!agree(&key, message, &Signature::from_bytes(&bytes)));
                signatures.push(Signature::from_bytes(&bytes));
                signatures.push(Signature::from_bytes(&good));
            }
        }
        // In one batch, each good signature between two bad ones.
        let order = KeyOrder::of(&key);
        let checks: Vec<_> = signatures
            .iter()
            .map(|signature| SignatureCheck {
                key: &key,
                order,
                message,
                signature,
            })
            .collect();
        let verdicts = verify_strict_all(&checks);
        assert!(verdicts.iter().step_by(2).all(|&valid| valid));
        assert!(verdicts.iter().skip(1).step_by(2).all(|&valid| !valid));
    }
}

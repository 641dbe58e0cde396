//! Proof bundle verification throughput: 10,000 bundles × 8 gateway receipts
//! (test kit), verified end to end by `wpc::bundle::batch` from files, and,
//! in the same run, bare Ed25519 `verify_strict` over the same 9 signatures
//! per bundle with the same parallelism. Prints bundles/s for both, their
//! ratio, and the peak resident memory of the batch phase.
//!
//! The machine's speed drifts, so the two are timed in pairs close in time
//! (a chunk of bundles end to end, then the same chunk's signatures bare, or
//! the other way round): the median ratio over all pairs is the figure to
//! quote; best-round totals are printed too.
//!
//! `cargo bench --bench bundle` (`BUNDLES=N` to change the count, `ROUNDS=N`
//! the number of rounds over all bundles, 3 by default).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;
use serde_json::Value;
use wpc::bundle::batch::verify_all;
use wpc::bundle::kit::{Shape, bundle_bytes, gateway_key};
use wpc::bundle::{Options, verify_bundle};
use wpc::crypto::did::DidKey;
use wpc::crypto::verify::{Trust, verify_signature};

// The `wpc` binary's allocator (src/main.rs), so that the end-to-end figure
// is the one `wpc bundle verify` gets: parsing allocates per JSON string.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECEIPTS: usize = 8;

/// (public key, message, signature) of every envelope in a bundle.
fn signatures(bytes: &[u8]) -> Vec<([u8; 32], Vec<u8>, Vec<u8>)> {
    let doc: Value = serde_json::from_slice(bytes).unwrap();
    let mut envelopes = vec![&doc];
    envelopes.extend(doc["payload"]["receipts"].as_array().unwrap());
    envelopes
        .into_iter()
        .map(|e| {
            let did = DidKey::parse(e["signer_did"].as_str().unwrap()).unwrap();
            (
                did.verifying_key().to_bytes(),
                e["payload_hash_b64u"].as_str().unwrap().as_bytes().to_vec(),
                URL_SAFE_NO_PAD
                    .decode(e["signature_b64u"].as_str().unwrap())
                    .unwrap(),
            )
        })
        .collect()
}

/// Where one bundle's time goes, single-threaded, in µs per bundle.
fn breakdown(bytes: &[u8], options: &Options) {
    const N: u32 = 300;
    let time = |f: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..N {
            f();
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(N)
    };
    let parsed: Value = serde_json::from_slice(bytes).unwrap();
    let payload = parsed["payload"].clone();
    let triples = signatures(bytes);
    let total = time(&|| assert!(verify_bundle(bytes, options).valid));
    let parse = time(&|| {
        wpc::crypto::verify::parse_json(bytes).unwrap();
    });
    let schema = time(&|| {
        assert!(
            wpc::claw::schema::validate(wpc::claw::schema::ClawSchema::ProofBundle, &payload)
                .is_empty()
        );
    });
    let hash = time(&|| {
        wpc::crypto::stringify::stringify_hash_b64u(&payload);
    });
    let keys: Vec<_> = triples
        .iter()
        .map(|(key, message, signature)| {
            (
                VerifyingKey::from_bytes(key).unwrap(),
                message,
                Signature::from_slice(signature).unwrap(),
            )
        })
        .collect();
    let sigs = time(&|| {
        for (key, message, signature) in &keys {
            key.verify_strict(message, signature).unwrap();
        }
    });
    let with_decode = time(&|| {
        for (key, message, signature) in &triples {
            verify_signature(key, message, signature).unwrap();
        }
    });
    println!(
        "one bundle, one thread: verify_bundle {total:.0} µs; {} bare verify_strict {sigs:.0} µs ({with_decode:.0} µs with key decompression); JSON parse {parse:.0} µs; schema {schema:.0} µs; bundle hash {hash:.0} µs",
        triples.len()
    );
}

/// Peak resident set size (VmHWM) in MiB, Linux only.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time used so far by all of this process's threads, in seconds (Linux:
/// the sum of `/proc/self/task/*/schedstat`), or `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total as f64 / 1e9)
}

/// Runs `f`, returning its wall time and the CPU time it used; what `f`
/// returns is dropped after the clocks stop.
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, Option<f64>) {
    let cpu = cpu_seconds();
    let started = Instant::now();
    let result = f();
    let wall = started.elapsed();
    let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    drop(result);
    (wall, cpu)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so each phase's peak is
/// its own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Bundles per pair: enough that both threads stay busy, few enough that
/// the machine's speed hardly changes within a pair.
const CHUNK: usize = 250;

/// The totals of one round.
#[derive(Clone, Copy)]
struct Round {
    wall: Duration,
    cpu: Option<f64>,
    wall_bare: Duration,
    cpu_bare: Option<f64>,
}

impl Default for Round {
    fn default() -> Self {
        Round {
            wall: Duration::MAX,
            cpu: None,
            wall_bare: Duration::MAX,
            cpu_bare: None,
        }
    }
}

impl Round {
    /// Each figure's best (interference only adds time).
    fn best(&self, other: &Round) -> Round {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Round {
            wall: self.wall.min(other.wall),
            cpu: min(self.cpu, other.cpu),
            wall_bare: self.wall_bare.min(other.wall_bare),
            cpu_bare: min(self.cpu_bare, other.cpu_bare),
        }
    }
}

/// The ratio (bare time / end-to-end time, i.e. end-to-end throughput over
/// bare throughput) of each pair: a chunk verified end to end and its
/// signatures verified bare, one right after the other.
#[derive(Default)]
struct Pairs {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

impl Pairs {
    /// One round over all bundles, chunk by chunk, alternating which of the
    /// two goes first so that neither always follows the other.
    fn round(
        &mut self,
        paths: &[std::path::PathBuf],
        triples: &[(VerifyingKey, &[u8], Signature)],
        options: &Options,
    ) -> Round {
        let per_bundle = RECEIPTS + 1;
        let mut totals = Round {
            wall: Duration::ZERO,
            cpu: Some(0.0),
            wall_bare: Duration::ZERO,
            cpu_bare: Some(0.0),
        };
        for (i, chunk) in paths.chunks(CHUNK).enumerate() {
            let signatures = &triples[i * CHUNK * per_bundle..][..chunk.len() * per_bundle];
            let end_to_end = || {
                timed(|| {
                    let entries = verify_all(chunk, options).unwrap();
                    assert!(entries.iter().all(|e| e.report.valid));
                    entries
                })
            };
            let bare = || {
                timed(|| {
                    assert!(signatures.par_iter().all(|(key, message, signature)| {
                        key.verify_strict(message, signature).is_ok()
                    }));
                })
            };
            let ((wall, cpu), (wall_bare, cpu_bare)) = if i % 2 == 0 {
                let first = end_to_end();
                (first, bare())
            } else {
                let first = bare();
                (end_to_end(), first)
            };
            self.wall.push(wall_bare.as_secs_f64() / wall.as_secs_f64());
            if let (Some(cpu), Some(cpu_bare)) = (cpu, cpu_bare) {
                self.cpu.push(cpu_bare / cpu);
            }
            totals.wall += wall;
            totals.wall_bare += wall_bare;
            totals.cpu = totals.cpu.zip(cpu).map(|(a, b)| a + b);
            totals.cpu_bare = totals.cpu_bare.zip(cpu_bare).map(|(a, b)| a + b);
        }
        totals
    }

    /// The median wall and CPU ratios (NaN where there are none).
    fn medians(&self) -> (f64, f64) {
        let median = |values: &[f64]| {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            match sorted.len() {
                0 => f64::NAN,
                n if n % 2 == 1 => sorted[n / 2],
                n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
            }
        };
        (median(&self.wall), median(&self.cpu))
    }
}

fn main() {
    let count: usize = std::env::var("BUNDLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let mut paths = Vec::with_capacity(count);
    for seq in 0..count {
        let shape = Shape {
            seq: seq as u64,
            receipts: RECEIPTS,
            tools: Vec::new(),
            side_effects: 0,
            approvals: 0,
            ..Shape::default()
        };
        let path = dir.path().join(format!("b{seq:05}.json"));
        std::fs::write(&path, bundle_bytes(&shape).unwrap()).unwrap();
        paths.push(path);
    }
    let size = std::fs::metadata(&paths[0]).unwrap().len();
    println!(
        "generated {count} bundles × {RECEIPTS} receipts ({size} bytes each) in {:.1?}",
        started.elapsed()
    );

    let options = Options {
        gateway_trust: Trust::only([&gateway_key().did()]),
        gateway_signers_checked: true,
        ..Options::any_gateway()
    };
    // Warm up: schema compilation, thread pool.
    assert!(verify_bundle(&std::fs::read(&paths[0]).unwrap(), &options).valid);

    // The first batch alone, for its peak RSS (the paired rounds below
    // verify in chunks, which would understate it). Not timed: it has no
    // bare counterpart.
    reset_peak();
    let entries = verify_all(&paths, &options).unwrap();
    assert!(entries.iter().all(|e| e.report.valid));
    let peak = peak_mib();
    drop(entries);

    // Baseline 1: keys decompressed and signatures decoded before the clock
    // starts, so only `verify_strict` itself is timed. Baseline 2: the same
    // from raw key bytes (decompression per signature, as a verifier without
    // a key cache does).
    let raw: Vec<_> = paths
        .par_iter()
        .flat_map_iter(|p| signatures(&std::fs::read(p).unwrap()))
        .collect();
    let triples: Vec<_> = raw
        .iter()
        .map(|(key, message, signature)| {
            (
                VerifyingKey::from_bytes(key).unwrap(),
                message.as_slice(),
                Signature::from_slice(signature).unwrap(),
            )
        })
        .collect();

    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let rate = |wall: Duration| count as f64 / wall.as_secs_f64();
    let cpu_rate = |cpu: Option<f64>| cpu.map_or(f64::NAN, |cpu| count as f64 / cpu);
    let mut pairs = Pairs::default();
    let mut best = Round::default();
    for round in 1..=rounds {
        let totals = pairs.round(&paths, &triples, &options);
        println!(
            "round {round}: end to end {:.0} bundles/s, bare {:.0} bundles/s; per CPU-second {:.0} and {:.0}",
            rate(totals.wall),
            rate(totals.wall_bare),
            cpu_rate(totals.cpu),
            cpu_rate(totals.cpu_bare)
        );
        best = best.best(&totals);
    }
    let batch_rate = rate(best.wall);
    let bare_rate = rate(best.wall_bare);
    let started = Instant::now();
    let ok = raw
        .par_iter()
        .all(|(key, message, signature)| verify_signature(key, message, signature).is_ok());
    let raw_time = started.elapsed();
    assert!(ok);
    let raw_rate = count as f64 / raw_time.as_secs_f64();

    println!("threads: {}", rayon::current_num_threads());
    println!(
        "end to end (files, batch::verify_all), best of {rounds}: {batch_rate:.0} bundles/s ({:.2?})",
        best.wall
    );
    println!(
        "bare verify_strict, same {} signatures, best of {rounds}: {bare_rate:.0} bundles/s ({:.2?}; {:.0} signatures/s)",
        triples.len(),
        best.wall_bare,
        triples.len() as f64 / best.wall_bare.as_secs_f64()
    );
    println!("bare verify_strict from raw key bytes: {raw_rate:.0} bundles/s ({raw_time:.2?})");
    println!(
        "ratio end to end / bare, best rounds: {:.2} (/ bare from raw keys: {:.2}); per CPU-second {:.2}",
        batch_rate / bare_rate,
        batch_rate / raw_rate,
        cpu_rate(best.cpu) / cpu_rate(best.cpu_bare)
    );
    let (wall, cpu) = pairs.medians();
    println!(
        "ratio end to end / bare, median of {} pairs of {CHUNK} bundles: {wall:.2} wall, {cpu:.2} per CPU-second",
        pairs.wall.len()
    );
    breakdown(&std::fs::read(&paths[0]).unwrap(), &options);
    match peak {
        Some(mib) => println!("peak RSS during the batch: {mib:.1} MiB"),
        None => println!("peak RSS: not available on this platform"),
    }
}

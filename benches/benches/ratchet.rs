//! Every ratchet operation of the reference beside its primitive floor and,
//! where vodozemac has the same operation, beside vodozemac's Olm session.
//!
//! Each row of the summary table is one criterion group whose benchmark ids
//! are `ratchetproof`, `floor` and `vodozemac`. After criterion has measured a
//! group, the same variants are measured again interleaved
//! ([`ratchetproof_benches::paired`]) so that their ratios compare runs a few
//! milliseconds apart; `bench-summary` prints the table from those.
//!
//! Time is this thread's CPU time ([`CpuTime`]), not wall time: the machine has
//! two cores and builds run beside the benchmarks, and a thread waiting for a
//! core would otherwise be billed for the other process's work.
//!
//! On glibc the binary re-executes itself once with `rep movsb` memcpy turned
//! off (see [`MEMCPY_TUNABLE`]); set `GLIBC_TUNABLES` yourself to opt out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;
use std::time::Duration;

use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, SamplingMode, criterion_group};
use rand_core::CryptoRng;
use ratchetproof::commands::{ShimArgs, implementations};
use ratchetproof::runner::{Report, RunOptions, run_paths, run_paths_parallel};
use ratchetproof::shim::DEFAULT_MAX_LINE_BYTES;
use ratchetproof::{Implementation, Reference};
use ratchetproof_benches::fixtures::{
    Pair, established_pair, established_pair_in, olm_decrypt, olm_encrypt, olm_established_pair,
    rng, state_ratchet_private_key, x3dh_fixture,
};
use ratchetproof_benches::floor::signal_v3 as v3;
use ratchetproof_benches::floor::{self, FloorInputs};
use ratchetproof_benches::paired::{self, Timed, batched, iter, wall};
use ratchetproof_benches::report::{
    FLOOR, IN_PROCESS, IN_PROCESS_JOBS2, PEER, REFERENCE, SHIM_JOBS1, SHIM_JOBS2,
};
use ratchetproof_benches::{SIZES, plaintext};
use ratchetproof_protocol::suite::INFO_X3DH;
use ratchetproof_protocol::suite::v3::INFO_TEXT;
use ratchetproof_protocol::x3dh::{self, AD_LEN};
use ratchetproof_protocol::{
    ChainKey, CipherSuite, DEFAULT_SUITE, DhOutput, RootKey, SIGNAL_V3_SUITE, Session, Suite,
};

/// Messages a burst holds, and keys the skipped-store benchmark stores.
const BURST: usize = 1_000;
/// Decryptions per fresh copy of the session in the skipped-store benchmark:
/// the store shrinks from 1 000 to 900 keys over one copy.
const SKIPPED_CHUNK: u64 = 100;
/// Inputs prepared at a time by a batched variant's untimed setup (16 × 64 KiB
/// of ciphertext still fits the L2+L3 caches).
const CHUNK: u64 = 16;

/// Criterion measurement: CPU time of the benchmark thread
/// (`CLOCK_THREAD_CPUTIME_ID`), reported in the same units as wall time.
struct CpuTime;

static WALL_TIME: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

type C = Criterion<CpuTime>;

/// How a row is sampled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// Criterion's defaults from [`config`] and [`paired::rounds`] rounds.
    Normal,
    /// Milliseconds per iteration: 10 flat criterion samples, 10 rounds.
    Slow,
}

/// Whether criterion runs each benchmark once instead of measuring it: the
/// `--test` flag, or no `--bench` flag (`cargo test --benches`), as criterion
/// itself decides; `--list` runs nothing.
fn test_mode() -> bool {
    let has = |flag: &str| std::env::args().any(|a| a == flag);
    has("--test") || has("--list") || !has("--bench")
}

/// Runs one row: criterion measures each variant, then, if criterion really
/// measured (not `--test`, not filtered out), the interleaved pass runs and its
/// result is written beside criterion's.
fn row(c: &mut C, group: &str, pace: Pace, variants: Vec<(&str, Timed<'_>)>) {
    row_of_items(c, group, pace, variants, None);
}

/// [`row`] for a throughput row: one iteration processes `items` items.
fn row_of_items(
    c: &mut C,
    group: &str,
    pace: Pace,
    mut variants: Vec<(&str, Timed<'_>)>,
    items: Option<u64>,
) {
    let mut ran = false;
    let mut g = c.benchmark_group(group);
    if pace == Pace::Slow {
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    for (id, run) in &mut variants {
        g.bench_function(*id, |b| {
            b.iter_custom(|iters| {
                ran = true;
                run(iters)
            })
        });
    }
    g.finish();
    if ran && !test_mode() {
        let rounds = match pace {
            Pace::Normal => paired::rounds(),
            Pace::Slow => paired::rounds().min(10),
        };
        let mut result = paired::measure(&mut variants, rounds);
        result.items_per_iter = items;
        if let Err(e) = result.write(&paired::criterion_dir(), group) {
            eprintln!("could not write the interleaved results of {group}: {e}");
        }
    }
}

fn primitives(c: &mut C) {
    let mut r = rng(10);
    let a = floor::x25519_keygen(&mut r);
    let b = floor::x25519_keygen(&mut r);
    let key32 = [0x42u8; 32];
    let dhs = [key32; 4];
    let f = x3dh_fixture(11);
    let spk = f.bundle.signed_prekey.encode();

    row(
        c,
        "prim_x25519_dh",
        Pace::Normal,
        vec![(
            FLOOR,
            iter(|| floor::x25519_dh(black_box(&a.0), black_box(&b.1))),
        )],
    );
    row(
        c,
        "prim_x25519_keygen",
        Pace::Normal,
        vec![(FLOOR, iter(|| floor::x25519_keygen(&mut r)))],
    );
    row(
        c,
        "prim_hmac_sha256",
        Pace::Normal,
        vec![(
            FLOOR,
            iter(|| floor::hmac_sha256(black_box(&key32), black_box(&[0x01]))),
        )],
    );
    row(
        c,
        "prim_hkdf_44",
        Pace::Normal,
        vec![(FLOOR, iter(|| floor::message_keys(black_box(&key32))))],
    );
    row(
        c,
        "prim_hkdf_64",
        Pace::Normal,
        vec![(
            FLOOR,
            iter(|| floor::kdf_rk(black_box(&key32), black_box(&key32))),
        )],
    );
    row(
        c,
        "prim_hkdf_x3dh",
        Pace::Normal,
        vec![(FLOOR, iter(|| floor::x3dh_kdf(black_box(&dhs))))],
    );
    row(
        c,
        "prim_xeddsa_verify",
        Pace::Normal,
        vec![(
            FLOOR,
            iter(|| {
                floor::xeddsa_verify(
                    black_box(f.bundle.identity_key.as_bytes()),
                    black_box(&spk),
                    black_box(&f.bundle.signed_prekey_signature),
                )
            }),
        )],
    );

    let aad = vec![0xADu8; floor::aead_ad_len(AD_LEN)];
    let nonce = [7u8; 12];
    for (name, len) in SIZES {
        let pt = plaintext(len);
        let ct = floor::aes256gcm_seal(&key32, &nonce, &pt, &aad);
        row(
            c,
            &format!("prim_aes256gcm_seal_{name}"),
            Pace::Normal,
            vec![(
                FLOOR,
                iter(|| floor::aes256gcm_seal(&key32, &nonce, black_box(&pt), &aad)),
            )],
        );
        row(
            c,
            &format!("prim_aes256gcm_open_{name}"),
            Pace::Normal,
            vec![(
                FLOOR,
                iter(|| floor::aes256gcm_open(&key32, &nonce, black_box(&ct), &aad)),
            )],
        );
    }
}

fn kdfs(c: &mut C) {
    let rk = RootKey::from_bytes([1; 32]);
    let dh = DhOutput::from_bytes([2; 32]);
    let ck = ChainKey::from_bytes([3; 32]);
    row(
        c,
        "kdf_rk",
        Pace::Normal,
        vec![
            (
                REFERENCE,
                iter(|| DEFAULT_SUITE.kdf_rk(black_box(&rk), black_box(&dh))),
            ),
            (
                FLOOR,
                iter(|| floor::kdf_rk(black_box(rk.as_bytes()), black_box(dh.as_bytes()))),
            ),
        ],
    );
    row(
        c,
        "kdf_ck",
        Pace::Normal,
        vec![
            (REFERENCE, iter(|| DEFAULT_SUITE.kdf_ck(black_box(&ck)))),
            (FLOOR, iter(|| floor::kdf_ck(black_box(ck.as_bytes())))),
        ],
    );
}

fn encrypt(c: &mut C) {
    for (name, len) in SIZES {
        let pt = plaintext(len);
        let mut pair = established_pair(20);
        let inputs = FloorInputs::new(&mut rng(21), AD_LEN);
        let mut olm = olm_established_pair();
        row(
            c,
            &format!("encrypt_{name}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    iter(|| pair.alice.encrypt(black_box(&pt), &pair.ad).unwrap()),
                ),
                (
                    FLOOR,
                    iter(|| floor::encrypt(black_box(&inputs.ck), black_box(&pt), &inputs.aad)),
                ),
                (PEER, iter(|| olm_encrypt(&mut olm.alice, black_box(&pt)))),
            ],
        );
    }
}

fn decrypt(c: &mut C) {
    for (name, len) in SIZES {
        let pt = plaintext(len);
        let inputs = FloorInputs::new(&mut rng(31), AD_LEN);
        let (_, ct) = floor::encrypt(&inputs.ck, &pt, &inputs.aad);
        // Alice encrypts in the untimed setup and Bob decrypts in order: every
        // timed call is one step of an established receiving chain.
        row(
            c,
            &format!("decrypt_{name}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    batched(
                        established_pair(30),
                        CHUNK,
                        |p: &mut Pair| p.alice.encrypt(&pt, &p.ad).unwrap(),
                        |p: &mut Pair, m: &mut Vec<u8>| {
                            p.bob.decrypt(black_box(&*m), &p.ad, &mut p.rng).unwrap()
                        },
                    ),
                ),
                (
                    FLOOR,
                    batched(
                        (),
                        CHUNK,
                        |_| (),
                        |_, _| floor::decrypt(black_box(&inputs.ck), black_box(&ct), &inputs.aad),
                    ),
                ),
                (
                    PEER,
                    batched(
                        olm_established_pair(),
                        CHUNK,
                        |o| olm_encrypt(&mut o.alice, &pt),
                        |o, wire| olm_decrypt(&mut o.bob, black_box(wire)),
                    ),
                ),
            ],
        );
    }
}

fn ping_pong(c: &mut C) {
    for (name, len) in SIZES {
        let pt = plaintext(len);
        let mut pair = established_pair(40);
        let inputs = FloorInputs::new(&mut rng(41), AD_LEN);
        let mut floor_rng = rng(42);
        let mut olm = olm_established_pair();
        row(
            c,
            &format!("ping_pong_{name}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    iter(|| {
                        let to_bob = pair.alice.encrypt(black_box(&pt), &pair.ad).unwrap();
                        let at_bob = pair.bob.decrypt(&to_bob, &pair.ad, &mut pair.rng).unwrap();
                        let to_alice = pair.bob.encrypt(&at_bob, &pair.ad).unwrap();
                        pair.alice
                            .decrypt(&to_alice, &pair.ad, &mut pair.rng)
                            .unwrap()
                    }),
                ),
                (
                    FLOOR,
                    iter(|| floor::ping_pong(&inputs, &mut floor_rng, black_box(&pt))),
                ),
                (
                    PEER,
                    iter(|| {
                        let to_bob = olm_encrypt(&mut olm.alice, black_box(&pt));
                        let at_bob = olm_decrypt(&mut olm.bob, &to_bob);
                        let to_alice = olm_encrypt(&mut olm.bob, &at_bob);
                        olm_decrypt(&mut olm.alice, &to_alice)
                    }),
                ),
            ],
        );
    }
}

/// Bob with `BURST` skipped keys stored, the messages they belong to, and AD.
fn bob_with_skipped_keys(suite: Suite, seed: u64) -> (Session, Vec<Vec<u8>>, [u8; AD_LEN]) {
    let mut pair = established_pair_in(suite, seed);
    let pt = plaintext(64);
    let messages: Vec<Vec<u8>> = (0..=BURST)
        .map(|_| pair.alice.encrypt(&pt, &pair.ad).unwrap())
        .collect();
    pair.bob
        .decrypt(&messages[BURST], &pair.ad, &mut pair.rng)
        .unwrap();
    assert_eq!(pair.bob.skipped_key_count(), BURST);
    (pair.bob, messages, pair.ad)
}

/// Bob decrypting from a store of `BURST` skipped keys: a fresh copy of him
/// (untimed) per SKIPPED_CHUNK decryptions of distinct stored keys spread
/// over the store.
fn skipped_reference<'a>(
    bob: &'a Session,
    messages: &'a [Vec<u8>],
    ad: &'a [u8; AD_LEN],
    mut r: impl CryptoRng + 'a,
) -> Timed<'a> {
    Box::new(move |iters| {
        let mut total = Duration::ZERO;
        let mut done = 0;
        while done < iters {
            let chunk = SKIPPED_CHUNK.min(iters - done);
            let mut copy = bob.clone();
            let start = ThreadTime::now();
            for k in 0..chunk {
                let n = usize::try_from(k).unwrap() * (BURST / 100);
                black_box(copy.decrypt(&messages[n], ad, &mut r).unwrap());
            }
            total += start.elapsed();
            done += chunk;
        }
        total
    })
}

fn skipped(c: &mut C) {
    let (bob, messages, ad) = bob_with_skipped_keys(&DEFAULT_SUITE, 50);
    let reference = skipped_reference(&bob, &messages, &ad, rng(51));
    let inputs = FloorInputs::new(&mut rng(52), AD_LEN);
    let pt = plaintext(64);
    let (_, mk) = floor::kdf_ck(&inputs.ck);
    let ct = floor::seal_with(&mk, &pt, &inputs.aad);
    row(
        c,
        "skipped_decrypt",
        Pace::Normal,
        vec![
            (REFERENCE, reference),
            (
                FLOOR,
                iter(|| floor::open_with(black_box(&mk), black_box(&ct), &inputs.aad)),
            ),
        ],
    );
}

fn burst(c: &mut C) {
    let mut pair = established_pair(60);
    let pt = plaintext(64);
    let messages: Vec<Vec<u8>> = (0..BURST)
        .map(|_| pair.alice.encrypt(&pt, &pair.ad).unwrap())
        .collect();
    let inputs = FloorInputs::new(&mut rng(61), AD_LEN);
    let cts = floor::burst_ciphertexts(&inputs.ck, BURST, &pt, &inputs.aad);
    row(
        c,
        "burst_1000",
        Pace::Slow,
        vec![
            (
                REFERENCE,
                batched(
                    pair,
                    1,
                    |p: &mut Pair| p.bob.clone(),
                    |p: &mut Pair, bob: &mut Session| {
                        for message in messages.iter().rev() {
                            black_box(bob.decrypt(message, &p.ad, &mut p.rng).unwrap());
                        }
                    },
                ),
            ),
            (
                FLOOR,
                iter(|| floor::burst(black_box(&inputs.ck), black_box(&cts), &inputs.aad)),
            ),
        ],
    );
}

fn x3dh_agreement(c: &mut C) {
    x3dh_rows(c, "", &DEFAULT_SUITE, INFO_X3DH, 70);
}

/// X3DH initiate and respond (with a one-time prekey) in `suite`, whose
/// X3DH HKDF info is `info`, against the floor with the same info: rows
/// `{prefix}x3dh_initiate` and `{prefix}x3dh_respond`.
fn x3dh_rows(c: &mut C, prefix: &str, suite: Suite, info: &[u8], seed: u64) {
    let f = x3dh_fixture(seed);
    let mut r1 = rng(seed + 1);
    let mut r2 = rng(seed + 2);
    let alice_private = f.alice_identity.private_key().to_bytes();
    let (_, opk) = f.bundle.one_time_prekey.unwrap();
    let spk_encoded = f.bundle.signed_prekey.encode();
    row(
        c,
        &format!("{prefix}x3dh_initiate"),
        Pace::Normal,
        vec![
            (
                REFERENCE,
                iter(|| {
                    x3dh::initiate(
                        suite,
                        black_box(&f.alice_identity),
                        black_box(&f.bundle),
                        &mut r1,
                    )
                    .unwrap()
                }),
            ),
            (
                FLOOR,
                iter(|| {
                    floor::x3dh_initiate_with(
                        info,
                        &mut r2,
                        black_box(&alice_private),
                        black_box(f.bundle.identity_key.as_bytes()),
                        f.bundle.signed_prekey.as_bytes(),
                        &spk_encoded,
                        &f.bundle.signed_prekey_signature,
                        opk.as_bytes(),
                    )
                }),
            ),
        ],
    );

    let bob_private = f.bob_identity.private_key().to_bytes();
    let spk_private = f.signed_prekey.private_key().to_bytes();
    let opk_private = f.one_time_prekey.private_key().to_bytes();
    row(
        c,
        &format!("{prefix}x3dh_respond"),
        Pace::Normal,
        vec![
            (
                REFERENCE,
                iter(|| {
                    x3dh::respond(
                        suite,
                        black_box(&f.bob_identity),
                        &f.signed_prekey,
                        Some(&f.one_time_prekey),
                        f.alice_identity.public_key(),
                        black_box(&f.alice_ephemeral),
                    )
                    .unwrap()
                }),
            ),
            (
                FLOOR,
                iter(|| {
                    floor::x3dh_respond_with(
                        info,
                        black_box(&bob_private),
                        &spk_private,
                        &opk_private,
                        f.alice_identity.public_key().as_bytes(),
                        black_box(f.alice_ephemeral.as_bytes()),
                    )
                }),
            ),
        ],
    );
}

fn state(c: &mut C) {
    let plain = established_pair(80).bob;
    let (with_keys, _, _) = bob_with_skipped_keys(&DEFAULT_SUITE, 81);
    state_rows(c, "", &[("", &plain), ("_1000", &with_keys)]);
}

/// Serialize and deserialize rows `{prefix}state_(de)serialize{suffix}`.
fn state_rows(c: &mut C, prefix: &str, sessions: &[(&str, &Session)]) {
    for &(suffix, session) in sessions {
        row(
            c,
            &format!("{prefix}state_serialize{suffix}"),
            Pace::Normal,
            vec![(REFERENCE, iter(|| black_box(session).to_bytes()))],
        );
        let bytes = session.to_bytes();
        // DHs's private key, found in the encoder's output (not at an offset).
        let dhs = state_ratchet_private_key(session);
        row(
            c,
            &format!("{prefix}state_deserialize{suffix}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    iter(|| Session::from_bytes(black_box(&bytes)).unwrap()),
                ),
                (FLOOR, iter(|| floor::x25519_public(black_box(&dhs)))),
            ],
        );
    }
}

/// The whole vector suite through the runner, against the reference: what CI
/// runs on every commit (loading and parsing the JSON included).
fn vector_suite(c: &mut C) {
    let vectors = vectors_dir();
    let options = RunOptions::default();
    let run = || {
        let report = run_paths(
            &mut Reference::new(),
            std::slice::from_ref(&vectors),
            &options,
            |_, _, _| {},
        )
        .unwrap();
        assert!(!report.cases.is_empty());
        report
    };
    row(c, "vector_suite", Pace::Slow, vec![(REFERENCE, iter(run))]);
}

/// The primitives of the signal-v3 floors that the default suite's lack.
fn v3_primitives(c: &mut C) {
    let key32 = [0x42u8; 32];
    let iv = [7u8; 16];
    row(
        c,
        "prim_hkdf_80",
        Pace::Normal,
        vec![(FLOOR, iter(|| v3::message_keys(black_box(&key32))))],
    );
    let ad = [0xADu8; v3::MAC_AD_LEN];
    for (name, len) in SIZES {
        let pt = plaintext(len);
        let ct = v3::aes256cbc_encrypt(&key32, &iv, &pt);
        row(
            c,
            &format!("prim_aes256cbc_encrypt_{name}"),
            Pace::Normal,
            vec![(
                FLOOR,
                iter(|| v3::aes256cbc_encrypt(&key32, &iv, black_box(&pt))),
            )],
        );
        row(
            c,
            &format!("prim_aes256cbc_decrypt_{name}"),
            Pace::Normal,
            vec![(
                FLOOR,
                iter(|| v3::aes256cbc_decrypt(&key32, &iv, black_box(&ct))),
            )],
        );
        // The MAC covers the ciphertext and about 45 bytes of framing.
        let message = vec![0x33u8; ct.len() + 45];
        row(
            c,
            &format!("prim_hmac_sha256_mac_{name}"),
            Pace::Normal,
            vec![(FLOOR, iter(|| v3::mac(&key32, &ad, black_box(&message))))],
        );
    }
}

/// The signal-v3 rows: the same operations on `SIGNAL_V3_SUITE`, each beside
/// its own floor ([`v3`]) and, for encrypt, decrypt and ping-pong, beside
/// vodozemac's Olm (which also uses AES-256-CBC with a truncated HMAC).
fn signal_v3(c: &mut C) {
    const SUITE: Suite = &SIGNAL_V3_SUITE;
    let rk = RootKey::from_bytes([1; 32]);
    let dh = DhOutput::from_bytes([2; 32]);
    let ck = ChainKey::from_bytes([3; 32]);
    row(
        c,
        "v3_kdf_rk",
        Pace::Normal,
        vec![
            (
                REFERENCE,
                iter(|| SUITE.kdf_rk(black_box(&rk), black_box(&dh))),
            ),
            (
                FLOOR,
                iter(|| v3::kdf_rk(black_box(rk.as_bytes()), black_box(dh.as_bytes()))),
            ),
        ],
    );
    row(
        c,
        "v3_kdf_ck",
        Pace::Normal,
        vec![
            (REFERENCE, iter(|| SUITE.kdf_ck(black_box(&ck)))),
            (FLOOR, iter(|| v3::kdf_ck(black_box(ck.as_bytes())))),
        ],
    );

    for (name, len) in SIZES {
        let pt = plaintext(len);
        let mut pair = established_pair_in(SUITE, 120);
        let inputs = FloorInputs::with_aad_len(&mut rng(121), v3::MAC_AD_LEN);
        let mut olm = olm_established_pair();
        row(
            c,
            &format!("v3_encrypt_{name}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    iter(|| pair.alice.encrypt(black_box(&pt), &pair.ad).unwrap()),
                ),
                (
                    FLOOR,
                    iter(|| {
                        v3::encrypt(
                            black_box(&inputs.ck),
                            &v3::HEADER,
                            black_box(&pt),
                            &inputs.aad,
                        )
                    }),
                ),
                (PEER, iter(|| olm_encrypt(&mut olm.alice, black_box(&pt)))),
            ],
        );
    }

    for (name, len) in SIZES {
        let pt = plaintext(len);
        let inputs = FloorInputs::with_aad_len(&mut rng(131), v3::MAC_AD_LEN);
        let (_, mk) = v3::kdf_ck(&inputs.ck);
        let message = v3::seal_with(&mk, &v3::HEADER, &pt, &inputs.aad);
        let range = v3::ciphertext_range(&message);
        row(
            c,
            &format!("v3_decrypt_{name}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    batched(
                        established_pair_in(SUITE, 130),
                        CHUNK,
                        |p: &mut Pair| p.alice.encrypt(&pt, &p.ad).unwrap(),
                        |p: &mut Pair, m: &mut Vec<u8>| {
                            p.bob.decrypt(black_box(&*m), &p.ad, &mut p.rng).unwrap()
                        },
                    ),
                ),
                (
                    FLOOR,
                    iter(|| {
                        v3::decrypt(
                            black_box(&inputs.ck),
                            black_box(&message),
                            range.clone(),
                            &inputs.aad,
                        )
                    }),
                ),
                (
                    PEER,
                    batched(
                        olm_established_pair(),
                        CHUNK,
                        |o| olm_encrypt(&mut o.alice, &pt),
                        |o, wire| olm_decrypt(&mut o.bob, black_box(wire)),
                    ),
                ),
            ],
        );
    }

    for (name, len) in SIZES {
        let pt = plaintext(len);
        let mut pair = established_pair_in(SUITE, 140);
        let inputs = FloorInputs::with_aad_len(&mut rng(141), v3::MAC_AD_LEN);
        let mut floor_rng = rng(142);
        let mut olm = olm_established_pair();
        row(
            c,
            &format!("v3_ping_pong_{name}"),
            Pace::Normal,
            vec![
                (
                    REFERENCE,
                    iter(|| {
                        let to_bob = pair.alice.encrypt(black_box(&pt), &pair.ad).unwrap();
                        let at_bob = pair.bob.decrypt(&to_bob, &pair.ad, &mut pair.rng).unwrap();
                        let to_alice = pair.bob.encrypt(&at_bob, &pair.ad).unwrap();
                        pair.alice
                            .decrypt(&to_alice, &pair.ad, &mut pair.rng)
                            .unwrap()
                    }),
                ),
                (
                    FLOOR,
                    iter(|| v3::ping_pong(&inputs, &mut floor_rng, black_box(&pt))),
                ),
                (
                    PEER,
                    iter(|| {
                        let to_bob = olm_encrypt(&mut olm.alice, black_box(&pt));
                        let at_bob = olm_decrypt(&mut olm.bob, &to_bob);
                        let to_alice = olm_encrypt(&mut olm.bob, &at_bob);
                        olm_decrypt(&mut olm.alice, &to_alice)
                    }),
                ),
            ],
        );
    }

    let (bob, messages, ad) = bob_with_skipped_keys(SUITE, 150);
    let reference = skipped_reference(&bob, &messages, &ad, rng(151));
    let inputs = FloorInputs::with_aad_len(&mut rng(152), v3::MAC_AD_LEN);
    let (_, mk) = v3::kdf_ck(&inputs.ck);
    let message = v3::seal_with(&mk, &v3::HEADER, &plaintext(64), &inputs.aad);
    let range = v3::ciphertext_range(&message);
    row(
        c,
        "v3_skipped_decrypt",
        Pace::Normal,
        vec![
            (REFERENCE, reference),
            (
                FLOOR,
                iter(|| {
                    v3::open_with(
                        black_box(&mk),
                        black_box(&message),
                        range.clone(),
                        &inputs.aad,
                    )
                }),
            ),
        ],
    );

    let mut pair = established_pair_in(SUITE, 160);
    let pt = plaintext(64);
    let messages: Vec<Vec<u8>> = (0..BURST)
        .map(|_| pair.alice.encrypt(&pt, &pair.ad).unwrap())
        .collect();
    let inputs = FloorInputs::with_aad_len(&mut rng(161), v3::MAC_AD_LEN);
    let floor_messages = v3::burst_messages(&inputs.ck, BURST, &pt, &inputs.aad);
    row(
        c,
        "v3_burst_1000",
        Pace::Slow,
        vec![
            (
                REFERENCE,
                batched(
                    pair,
                    1,
                    |p: &mut Pair| p.bob.clone(),
                    |p: &mut Pair, bob: &mut Session| {
                        for message in messages.iter().rev() {
                            black_box(bob.decrypt(message, &p.ad, &mut p.rng).unwrap());
                        }
                    },
                ),
            ),
            (
                FLOOR,
                iter(|| {
                    v3::burst(
                        black_box(&inputs.ck),
                        black_box(&floor_messages),
                        &inputs.aad,
                    )
                }),
            ),
        ],
    );

    x3dh_rows(c, "v3_", SUITE, INFO_TEXT, 170);

    let plain = established_pair_in(SUITE, 180).bob;
    state_rows(c, "v3_", &[("", &plain)]);
}

/// The vector suite's throughput in cases per second, in wall time: in
/// process (`run_paths` against [`Reference`], and two references in
/// parallel) and through the reference shim with one and two processes,
/// started as `ratchetproof run --shim` starts them ([`implementations`]).
/// Every variant loads and parses the files, and the shim variants start and
/// stop their processes, inside the timing: what a user of `run` waits for.
fn vector_suite_throughput(c: &mut C) {
    let vectors = vectors_dir();
    let paths = std::slice::from_ref(&vectors);
    let options = RunOptions::default();
    let expected = run_paths(&mut Reference::new(), paths, &options, |_, _, _| {})
        .unwrap()
        .cases
        .len();
    let check = move |report: Report| {
        assert_eq!(report.cases.len(), expected, "a run lost cases");
        assert!(report.success(), "a vector failed:\n{}", report.to_text());
        report
    };
    // The same source as `ratchetproof-reference-shim`, built by cargo for this
    // benchmark (benches/Cargo.toml), run as `sh -c COMMAND` like any shim.
    let shim = ShimArgs {
        command: shell_quote(env!("CARGO_BIN_EXE_bench-reference-shim")),
        timeout_ms: 10_000,
        max_line_bytes: DEFAULT_MAX_LINE_BYTES,
    };
    let parallel = |imps: &mut [Box<dyn Implementation + Send>]| {
        check(run_paths_parallel(imps, paths, &options, &|_, _| {}).unwrap())
    };
    let through_shim = |jobs: u16| {
        let mut imps = implementations(Some(&shim), jobs, &mut std::io::sink())
            .unwrap_or_else(|e| panic!("starting {}: {e}", shim.command));
        parallel(&mut imps)
    };
    row_of_items(
        c,
        "vector_suite_throughput",
        Pace::Slow,
        vec![
            (
                IN_PROCESS,
                wall(|| {
                    check(run_paths(&mut Reference::new(), paths, &options, |_, _, _| {}).unwrap())
                }),
            ),
            (
                IN_PROCESS_JOBS2,
                wall(|| parallel(&mut implementations(None, 2, &mut std::io::sink()).unwrap())),
            ),
            (SHIM_JOBS1, wall(|| through_shim(1))),
            (SHIM_JOBS2, wall(|| through_shim(2))),
        ],
        Some(expected as u64),
    );
}

/// `path` quoted for `sh -c`.
fn shell_quote(path: &str) -> String {
    format!("'{}'", path.replace('\'', r"'\''"))
}

fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn config() -> C {
    Criterion::default()
        .with_measurement(CpuTime)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .without_plots()
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = primitives, kdfs, encrypt, decrypt, ping_pong, skipped, burst, x3dh_agreement, state,
        vector_suite, signal_v3, v3_primitives, vector_suite_throughput
}

/// glibc before 2.39 copies large buffers with `rep movsb`, which on AMD Zen 3
/// and 4 (this machine) is up to 20× slower when the destination is not
/// 64-byte aligned and the source is (glibc bug 30994). Whether a 64 KiB
/// message hits that depends on where malloc happens to put a buffer, which
/// made the 64 KiB rows measure heap layout instead of the protocol. This
/// threshold keeps memcpy on its vector loop for any size.
const MEMCPY_TUNABLE: &str = "glibc.cpu.x86_rep_movsb_threshold=4294967295";

/// Re-runs this benchmark binary with [`MEMCPY_TUNABLE`] unless `GLIBC_TUNABLES`
/// is already set; returns the child's exit code, or `None` to run here.
fn rerun_with_memcpy_tunable() -> Option<i32> {
    if !cfg!(all(target_os = "linux", target_env = "gnu"))
        || std::env::var_os("GLIBC_TUNABLES").is_some()
    {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let status = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", MEMCPY_TUNABLE)
        .status()
        .ok()?;
    Some(status.code().unwrap_or(1))
}

fn main() {
    if let Some(code) = rerun_with_memcpy_tunable() {
        std::process::exit(code);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

//! The fuzz targets (`src/fuzz.rs`) on every `cargo test`: each seed, every finding saved from a
//! fuzzing run under `tests/fuzz-regressions/<target>/`, and a fixed set of mutations of the
//! seeds (the same on every run). `scripts/fuzz` runs the same targets coverage-guided for a
//! time budget; this keeps what it found fixed.

use std::path::Path;

use tminus::fuzz::{Outcome, TARGETS, Target, seeds};

/// A small, fixed pseudo-random sequence (xorshift) so every run tries the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that matter to YAML, JSON, metric math and terminals.
const DICTIONARY: &[&[u8]] = &[
    b"\n",
    b"  ",
    b"- ",
    b": ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b"#",
    b"&a ",
    b"*a",
    b"!!",
    b"|",
    b">",
    b"\t",
    b"\\u0000",
    b"\x1b]52;c;",
    b"\xe2\x80\x8d",
    b"\xff",
    b"\xe4\xb8",
    b"-1",
    b"1e308",
    b"NaN",
    b"999999999999999999999",
    b"T-0",
    b"T+3d",
    b"0s",
    b"(",
    b")",
    b",",
    b"METRICS()",
    b"FILL(m1, 0)",
    b"null",
    b"true",
    b"~",
    b"0x10",
    b"\r\n",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())];
                out.splice(at..at, word.iter().copied());
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let end = (at + 1 + rng.below(256)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            4 => out.truncate(at),
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(512)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let end = (at + rng.below(8)).min(out.len());
                out[at..end].reverse();
            }
        }
    }
    out
}

/// Cases tried, and how many the target refused, accepted and skipped (not UTF-8).
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    refused: usize,
    accepted: usize,
    skipped: usize,
}

impl Tally {
    fn count(&mut self, o: Outcome) {
        self.cases += 1;
        match o {
            Outcome::Refused => self.refused += 1,
            Outcome::Accepted => self.accepted += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }
}

fn run_all(target: &str, f: Target, mutations: usize) -> Tally {
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let mut tally = Tally::default();
    for (name, bytes) in &seeds {
        let outcome = std::panic::catch_unwind(|| f(bytes));
        assert_eq!(
            outcome.ok(),
            Some(Outcome::Accepted),
            "{target}: the seed {name}"
        );
        tally.count(Outcome::Accepted);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            let outcome = std::panic::catch_unwind(|| f(&bytes));
            let Ok(o) = outcome else {
                panic!("{target}: {} fails again", e.path().display());
            };
            tally.count(o);
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    for i in 0..mutations {
        let (_, seed) = &seeds[i % seeds.len()];
        let (_, other) = &seeds[rng.below(seeds.len())];
        let case = mutate(&mut rng, seed, other);
        match std::panic::catch_unwind(|| f(&case)) {
            Ok(o) => tally.count(o),
            Err(_) => {
                let saved = std::env::temp_dir().join(format!("tminus-fuzz-{target}-{i}"));
                std::fs::write(&saved, &case).unwrap();
                panic!(
                    "{target}: mutation {i} failed; the case is in {}",
                    saved.display()
                );
            }
        }
    }
    eprintln!("{target}: {tally:?}");
    // Mutations that all bounce off the parser, or all slip through, exercise only half.
    assert!(
        tally.refused > 0 && tally.accepted > 0,
        "{target}: {tally:?}"
    );
    tally
}

fn target(name: &str) -> Target {
    TARGETS.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn runbooks_from_elsewhere_are_refused_located_or_open_as_a_war_room() {
    run_all("runbook", target("runbook"), 400);
}

#[test]
fn themes_are_refused_located_or_resolve() {
    run_all("theme", target("theme"), 1_000);
}

#[test]
fn expressions_are_refused_at_a_column_or_evaluate() {
    run_all("expr", target("expr"), 5_000);
}

#[test]
fn journals_open_or_are_refused_by_line_and_never_brick_the_next_start() {
    run_all("journal", target("journal"), 300);
}

#[test]
fn recordings_replay_or_are_refused_by_name() {
    run_all("recording", target("recording"), 300);
}

/// For `scripts/fuzz`: writes every target's seeds under `$TMINUS_FUZZ_SEEDS/<target>/`.
#[test]
#[ignore = "run by scripts/fuzz"]
fn write_seeds() {
    let dir = std::path::PathBuf::from(
        std::env::var_os("TMINUS_FUZZ_SEEDS").expect("TMINUS_FUZZ_SEEDS names a directory"),
    );
    for (target, _) in TARGETS {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).unwrap();
        for (name, bytes) in seeds(target) {
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }
}

//! Every input a fuzz target ever crashed on, replayed through the very function the target
//! runs (`fuzz/src/lib.rs`, included below), on stable, in plain `cargo test`.
//!
//! Inputs live in `tests/fuzz_regressions/<target>/`, one file each, named after the
//! libFuzzer artifact they came from; docs/reliability.md says what each one broke. A
//! directory whose name is not a target fails the test, so an input cannot be skipped by a
//! typo. Each input must also finish quickly: hangs are findings too.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
pub(crate) mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions")
}

/// The inputs saved for `target`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir().join(target)) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn replay(target: &str) {
    let (_, run) = targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    for path in inputs(target) {
        let data = std::fs::read(&path).expect("a readable input");
        let start = Instant::now();
        run(&data);
        let took = start.elapsed();
        // Debug builds are ~10x slower than the fuzzer's: 10 s is its own hang limit.
        assert!(
            took < Duration::from_secs(20),
            "{}: took {took:?}",
            path.display()
        );
    }
}

#[test]
fn every_directory_names_a_target() {
    let Ok(rd) = std::fs::read_dir(dir()) else {
        return;
    };
    for e in rd {
        let e = e.expect("a readable directory entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            assert!(
                targets::TARGETS.iter().any(|(t, _)| *t == name),
                "tests/fuzz_regressions/{name}/ is not a fuzz target"
            );
        }
    }
}

/// Every target runs on a few fixed inputs too, so a target that no longer builds against
/// the library is caught by `cargo test`, not only by the nightly fuzz build.
#[test]
fn every_target_runs_on_trivial_inputs() {
    for (name, run) in targets::TARGETS {
        for data in [
            &b""[..],
            b"\0",
            b"\n\n",
            b"PK\x03\x04",
            b"{\"log\":{\"entries\":[{}]}}",
        ] {
            let start = Instant::now();
            run(data);
            assert!(start.elapsed() < Duration::from_secs(20), "{name}");
        }
    }
}

macro_rules! replay_tests {
    ($($t:ident),* $(,)?) => {
        $(
            #[test]
            fn $t() {
                replay(stringify!($t));
            }
        )*
        #[test]
        fn every_target_has_a_replay_test() {
            let listed = [$(stringify!($t)),*];
            for (name, _) in targets::TARGETS {
                assert!(listed.contains(name), "add {name} to replay_tests!");
            }
        }
    };
}

replay_tests!(
    saz_reader,
    saz_meta,
    http_head,
    body_decode,
    har_reader,
    www_authenticate,
    aadsts,
    jwt_claims,
    ews_soap,
    autodiscover_pox,
    redact_text,
    capture_rewrite,
    redact_planted,
    autodiscover_json,
    federation,
    gateway,
    netlog_reader,
);

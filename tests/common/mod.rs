//! Helpers shared by the integration tests: run the real binary or the same command in this
//! process, find the samples and the shared public corpus, validate reports against the
//! published JSON Schema.
#![allow(dead_code)]

pub mod fixture;
pub mod leaks;
pub mod redact;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `samples/<name>`.
pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
}

/// A zip of captures (`ticket-attachments.zip`, `variants/zipped-saz.saz`): `analyze` reads
/// each capture inside, `sessions` and `redact` refuse it (tests/attachments.rs).
pub fn is_zip_of_captures(p: &Path) -> bool {
    traceadal::capture::attachments::inspect(p, "", &Default::default())
        .ok()
        .flatten()
        .is_some()
}

/// Run `traceadal` with `args`, no stdin, and the environment given.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_traceadal"));
    cmd.args(args).stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the traceadal binary runs")
}

pub fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

/// `traceadal ARGS` run in this process (`traceadal::cli::run_captured`): the code the binary
/// runs, its output and exit code, without starting a process (stdin as from /dev/null, no
/// terminal). For what a command computes and prints; [`run`] for what only the process
/// shows. Not for `batch` (see `run_captured`).
pub fn run_in(args: &[&str]) -> Output {
    let c = traceadal::cli::run_captured(args.iter().copied());
    Output {
        status: exit_status(c.exit as i32),
        stdout: c.stdout,
        stderr: c.stderr,
    }
}

#[cfg(unix)]
fn exit_status(code: i32) -> ExitStatus {
    std::os::unix::process::ExitStatusExt::from_raw(code << 8)
}

#[cfg(windows)]
fn exit_status(code: i32) -> ExitStatus {
    std::os::windows::process::ExitStatusExt::from_raw(code as u32)
}

/// `traceadal analyze PATH --format json`, in this process ([`run_in`]): the exit code and
/// the parsed report.
pub fn analyze_json(path: &Path) -> (i32, Value) {
    let out = run_in(&[
        "analyze",
        path.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    let code = out.status.code().expect("exited normally");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not one JSON report ({e}); stderr: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

/// The published JSON Schema of `traceadal.report/1`.
pub fn report_schema() -> jsonschema::Validator {
    docs_schema("report-schema.json")
}

/// A JSON Schema published in `docs/` (`report-schema.json`, `diff-schema.json`).
pub fn docs_schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs").join(name))
        .unwrap_or_else(|_| panic!("docs/{name} exists"));
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Compare `actual` with `tests/expected/<file>`, or write it when `TRACEADAL_BLESS=1`;
/// `bless` is the command that rewrites it, for the message.
pub fn golden(file: &str, actual: &str, bless: &str) {
    let path = root().join("tests/expected").join(file);
    if std::env::var("TRACEADAL_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write the expected output");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run TRACEADAL_BLESS=1 {bless}, read it, commit it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{file} differs from tests/expected (TRACEADAL_BLESS=1 to accept after reading the diff)"
    );
}

/// Panic with every violation when `report` does not follow the schema.
pub fn assert_schema_valid(validator: &jsonschema::Validator, report: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: report violates docs/report-schema.json: {errors:#?}"
    );
}

/// The shared public corpus: `$TRACEADAL_CORPUS`, else `shared/captures` beside the
/// repository (`../shared/captures`; from a worktree, beside any folder above it). The tests
/// that use it are `#[ignore]`d; run with `--ignored`, they fail here when it is missing.
pub fn corpus() -> PathBuf {
    let root = root();
    let candidates = std::env::var_os("TRACEADAL_CORPUS")
        .map(PathBuf::from)
        .into_iter()
        .chain(root.ancestors().map(|a| a.join("shared").join("captures")));
    for c in candidates {
        if c.join("SOURCES.txt").is_file() {
            return c;
        }
    }
    panic!(
        "the public capture corpus is missing: set TRACEADAL_CORPUS to a folder holding \
         SOURCES.txt, saz/ and har/, or put it at {}",
        root.join("../shared/captures").display()
    );
}

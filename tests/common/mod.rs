//! Helpers shared by the integration tests: run the real binary, find the samples and the
//! shared public corpus, validate reports against the published JSON Schema.
#![allow(dead_code)]

pub mod fixture;
pub mod redact;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `samples/<name>`.
pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
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

/// `traceadal analyze PATH --format json`: the exit code and the parsed report.
pub fn analyze_json(path: &Path) -> (i32, Value) {
    let out = run(&[
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
    let text = std::fs::read_to_string(root().join("docs/report-schema.json"))
        .expect("docs/report-schema.json exists");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
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

/// The shared public corpus: `$TRACEADAL_CORPUS`, else `../shared/captures` beside the repo.
/// `None` outside CI when neither exists; in CI a missing corpus is a failure.
pub fn corpus() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("TRACEADAL_CORPUS").map(PathBuf::from),
        Some(root().join("../shared/captures")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.join("SOURCES.txt").is_file() {
            return Some(c);
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("the shared capture corpus is missing: set TRACEADAL_CORPUS or put it at ../shared/captures");
    }
    eprintln!("skipping: no shared capture corpus (TRACEADAL_CORPUS or ../shared/captures); this passes only outside CI");
    None
}

//! The integration tests, as one test binary (`[[test]] name = "integration"` in Cargo.toml,
//! `autotests = false`): one link instead of eighteen, and every test runs in one pool.
//!
//! Each `tests/<name>.rs` is a module here; `tests/common/` holds the shared helpers. A new
//! test file must be added below: `every_test_file_is_a_module` fails until it is.
//!
//! Tests that need something beyond the repository (the public capture corpus, Chromium,
//! node and `npm ci` in tests/browser) are `#[ignore]`d with the reason; `cargo test --
//! --ignored` runs them, and they fail, saying what is missing, when it is missing.

mod common;

mod adversarial;
mod analyze_samples;
mod architecture;
mod attachments;
mod batch;
mod batch_cli;
mod capture_limits;
mod cli;
mod convert;
mod corpus_har;
mod corpus_saz;
mod explain_identity;
mod fuzz_regressions;
mod har_hostile;
mod hostile_files;
mod html_browser;
mod html_render;
mod http_auth_hostile;
mod netlog;
mod powershell_syntax;
mod precision;
mod recorded_har;
mod redact;
mod redact_har;
mod redact_saz;
mod redact_stream;
mod redact_terms;
mod rules_samples;
mod samples_reproducible;
mod saz_hostile;
mod secrets;
// Issue 21 item 3.
mod diff;
mod show_sessions;
mod stdin;
mod terminal;
mod write_errors;
// Issue 20: Fiddler's session ids.
mod fiddler_ids;
// Secrets in every encoding: the redaction matrix.
mod redact_matrix;

/// Every `tests/*.rs` but this file is declared as a module above: with `autotests = false`
/// cargo no longer finds test files by itself, so a file left out would never run.
#[test]
fn every_test_file_is_a_module() {
    let dir = common::root().join("tests");
    let this = std::fs::read_to_string(dir.join("main.rs")).expect("tests/main.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if module != "main" && !this.contains(&format!("\nmod {module};\n")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "not declared in tests/main.rs, so never compiled: {missing:?}"
    );
}

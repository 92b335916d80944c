//! The HTML report in a real browser: Debian's Chromium, headless, driven by Playwright
//! (`tests/browser/check.js`, which only observes; the assertions are here).
//!
//! Needs `/usr/bin/chromium` (or `TRACEADAL_CHROMIUM`), `node`, and `npm ci` run in
//! `tests/browser`, so both tests are `#[ignore]`d: `cargo test -- --ignored` runs them
//! (`.ci/run` installs what they need and does), and they fail, saying what is missing, when
//! one is missing.
//!
//! - `fixture_page_in_chromium`: a hand-built analysis (tests/common/fixture.rs) with
//!   planted markup and secrets; needs no capture reader.
//! - `sample_reports_in_chromium`: `traceadal analyze --format html` on the generated
//!   samples and on a copy of the HAR sample with a `<script>` planted in a header.
//!   Needs the SAZ/HAR readers, the auth parsers and the sample generator.
//!
//! Screenshots are written to `target/html-screenshots/` for a person to look at.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use traceadal::redact::Redactor;
use traceadal::report::html::{self, HtmlInput};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What the browser tests need, or why they cannot run.
fn browser() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("TRACEADAL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!(
            "{} not found: install Debian's chromium (apt-get install -y chromium)",
            chromium.display()
        ));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node not found: install Node.js".into());
    }
    let module = Path::new(ROOT).join("tests/browser/node_modules/playwright-core");
    if !module.exists() {
        return Err(format!(
            "{} missing: run `npm ci` in tests/browser",
            module.display()
        ));
    }
    Ok(chromium)
}

/// Chromium's path when the test can run; a failure saying what is missing when it cannot.
fn require_browser() -> PathBuf {
    browser().unwrap_or_else(|why| panic!("the browser test cannot run: {why}"))
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(ROOT).join("target/html-browser").join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Run check.js over `pages` (name, html file) and return its results by name.
fn observe(chromium: &Path, dir: &Path, pages: &[(&str, PathBuf)]) -> Vec<Value> {
    let spec = serde_json::json!({
        "chromium": chromium,
        "screenshots": Path::new(ROOT).join("target/html-screenshots"),
        "pages": pages.iter().map(|(name, file)| serde_json::json!({"name": name, "file": file})).collect::<Vec<_>>(),
    });
    let spec_path = dir.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap_or_else(|e| panic!("spec: {e}"));
    let out = Command::new("node")
        .arg(Path::new(ROOT).join("tests/browser/check.js"))
        .arg(&spec_path)
        .output()
        .unwrap_or_else(|e| panic!("node: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "check.js failed: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check.js output: {e}\n{stderr}"));
    let results = v["results"].as_array().cloned().unwrap_or_default();
    for r in &results {
        if let Some(f) = r["failure"].as_str() {
            panic!("{}: browser run failed: {f}", r["name"]);
        }
    }
    results
}

fn ids(v: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

/// The checks every page must pass. `flows` are the sessions of each flow and its attempt
/// count, from the report.
fn check_page(r: &Value, flows: &[(Vec<u64>, usize)], script: &str) {
    let name = r["name"].as_str().unwrap_or("?");
    let errors = r["consoleErrors"].as_array().cloned().unwrap_or_default();
    assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
    // Nothing fetched but the page itself.
    let url = r["url"].as_str().unwrap_or("");
    for req in r["requests"].as_array().into_iter().flatten() {
        let req = req.as_str().unwrap_or("");
        assert!(
            req == url || req.starts_with("data:"),
            "{name}: fetched {req}"
        );
    }
    assert_eq!(r["scripts"], 1, "{name}: only our script");
    assert!(
        r["pwned"].is_null(),
        "{name}: planted script ran: {}",
        r["pwned"]
    );
    let broken = r["brokenLinks"].as_array().cloned().unwrap_or_default();
    assert!(
        broken.is_empty(),
        "{name}: links without target: {broken:?}"
    );

    let drawn = r["flows"].as_array().cloned().unwrap_or_default();
    assert_eq!(drawn.len(), flows.len(), "{name}: one diagram per flow");
    for (i, (d, (sessions, attempts))) in drawn.iter().zip(flows).enumerate() {
        assert_eq!(
            &ids(&d["req"]),
            sessions,
            "{name} flow {i}: one request arrow per session"
        );
        let mut answered = ids(&d["resp"]);
        answered.extend(ids(&d["noResponse"]));
        answered.sort_unstable();
        assert_eq!(
            &answered, sessions,
            "{name} flow {i}: one response arrow (or no-response mark) per session"
        );
        assert_eq!(
            d["attempts"].as_u64(),
            Some(*attempts as u64),
            "{name} flow {i}: attempts"
        );
        let folded: u64 = d["folds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .sum();
        if *attempts > 1 && folded > 0 {
            // Folded arrows are hidden until expanded.
            assert!(
                d["visibleReq"].as_u64().unwrap_or(0) < sessions.len() as u64,
                "{name} flow {i}: folded"
            );
        }
    }
    if !flows.is_empty() {
        assert_eq!(
            r["visibleReqExpanded"], true,
            "{name}: expand shows every arrow"
        );
        assert_eq!(
            r["linkTargetMarked"], true,
            "{name}: a session link reaches its detail"
        );
    }

    if script.is_empty() {
        assert!(r["copied"].is_null(), "{name}: no script, no copy button");
    } else {
        assert_eq!(
            r["fixScript"].as_str(),
            Some(script),
            "{name}: script shown as is"
        );
        assert_eq!(r["copied"], "yes", "{name}: copy button");
        assert_eq!(
            r["clipboard"].as_str(),
            Some(script),
            "{name}: clipboard holds the script"
        );
        assert_eq!(r["copiedFallback"], "yes", "{name}: fallback copy");
        assert_eq!(
            r["clipboardFallback"].as_str(),
            Some(script),
            "{name}: fallback clipboard"
        );
    }
    let shot = PathBuf::from(r["screenshot"].as_str().unwrap_or(""));
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "{name}: screenshot {} ({size} bytes)",
        shot.display()
    );
    eprintln!("{name}: screenshot {}", shot.display());
}

#[test]
#[ignore = "needs Chromium, node and `npm ci` in tests/browser: run with --ignored (CI does)"]
fn fixture_page_in_chromium() {
    let chromium = require_browser();
    let f = common::fixture::build();
    let dir = work_dir("fixture");
    let mut page = Vec::new();
    html::write(
        &mut page,
        &[HtmlInput {
            report: &f.report,
            analysis: &f.analysis,
            details: &f.details,
        }],
        Redactor::default(),
    )
    .unwrap_or_else(|e| panic!("render: {e}"));
    // As `output::emit` would write it.
    let page = Redactor::default()
        .text(&String::from_utf8_lossy(&page))
        .into_owned();
    let file = dir.join("fixture-500011.html");
    std::fs::write(&file, page).unwrap_or_else(|e| panic!("{e}"));

    let results = observe(&chromium, &dir, &[("fixture-500011", file)]);
    let flows: Vec<(Vec<u64>, usize)> = f
        .analysis
        .flows
        .iter()
        .map(|fl| (fl.sessions.clone(), fl.attempts.len()))
        .collect();
    let r = &results[0];
    check_page(r, &flows, &f.report.powershell);
    // The planted markup is shown, as text.
    let text = r["text"].as_str().unwrap_or("");
    assert!(
        text.contains(common::fixture::PLANTED),
        "planted header shown as text"
    );
    assert!(text.contains("</pre><script>window.__pwned = 4</script>"));
    assert!(!text.contains(common::fixture::REFRESH_SECRET));
    assert_eq!(r["verdict"], "Verdict: ERROR");
}

/// Run the traceadal binary; returns stdout.
fn traceadal(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("traceadal: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report of `capture` as JSON, and its HTML page written to `html`.
fn report_and_page(capture: &Path, html: &Path) -> Value {
    let c = capture.to_string_lossy();
    let (code, json, err) = traceadal(&["analyze", &c, "--format", "json"]);
    assert!(
        code == 0 || code == 1,
        "{c}: analyze failed ({code}): {err}"
    );
    let (code, _, err) = traceadal(&[
        "analyze",
        &c,
        "--format",
        "html",
        "-o",
        &html.to_string_lossy(),
    ]);
    assert!(code == 0 || code == 1, "{c}: html failed ({code}): {err}");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{c}: report json: {e}"))
}

fn flows_of(report: &Value) -> Vec<(Vec<u64>, usize)> {
    report["loops"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                ids(&l["sessions"]),
                l["attempts"].as_u64().unwrap_or(0) as usize,
            )
        })
        .collect()
}

#[test]
#[ignore = "needs Chromium, node and `npm ci` in tests/browser: run with --ignored (CI does)"]
fn sample_reports_in_chromium() {
    let chromium = require_browser();
    let samples = Path::new(ROOT).join("samples");
    let names = [
        "adal-500011-json.saz",
        "two-hosts.saz",
        "healthy-token-issued.har",
    ];
    for n in names {
        assert!(
            samples.join(n).exists(),
            "samples/{n} missing: the sample generator (samplegen) writes it"
        );
    }
    let dir = work_dir("samples");
    let mut pages = Vec::new();
    let mut reports = Vec::new();
    for n in names {
        let html = dir.join(format!("{n}.html"));
        reports.push(report_and_page(&samples.join(n), &html));
        pages.push((n, html));
    }
    // A copy of the HAR sample with markup planted in a response header and a body.
    let har = std::fs::read_to_string(samples.join("healthy-token-issued.har"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut har: Value = serde_json::from_str(&har).unwrap_or_else(|e| panic!("{e}"));
    for entry in har["log"]["entries"].as_array_mut().into_iter().flatten() {
        if let Some(h) = entry["response"]["headers"].as_array_mut() {
            h.push(serde_json::json!({"name": "X-Planted", "value": common::fixture::PLANTED}));
        }
        if let Some(h) = entry["request"]["headers"].as_array_mut() {
            h.push(
                serde_json::json!({"name": "X-Planted-Request", "value": common::fixture::PLANTED}),
            );
        }
    }
    let planted = dir.join("planted.har");
    std::fs::write(&planted, har.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let planted_html = dir.join("planted.har.html");
    reports.push(report_and_page(&planted, &planted_html));
    pages.push(("planted-har", planted_html));

    let results = observe(&chromium, &dir, &pages);
    for (r, report) in results.iter().zip(&reports) {
        let flows = flows_of(report);
        check_page(r, &flows, report["powershell"].as_str().unwrap_or(""));
    }
    // The loop sample: one flow, several attempts, folded, AADSTS500011 on the arrows.
    let loop_flows = flows_of(&reports[0]);
    assert!(!loop_flows.is_empty(), "adal-500011-json.saz: a flow");
    assert!(loop_flows[0].1 > 1, "adal-500011-json.saz: a loop");
    assert!(results[0]["text"]
        .as_str()
        .unwrap_or("")
        .contains("AADSTS500011"));
    // Two hosts: two flows.
    assert!(
        flows_of(&reports[1]).len() >= 2,
        "two-hosts.saz: a flow per host"
    );
    // The planted header is shown as text, and (when a flow cites the session) in a
    // detail block; it never ran.
    let planted_text = results[3]["text"].as_str().unwrap_or("");
    if !flows_of(&reports[3]).is_empty() {
        assert!(
            planted_text.contains(common::fixture::PLANTED),
            "planted header shown as text"
        );
    }
    assert!(results[3]["pwned"].is_null());
}

//! `traceadal redact` streams through the readers (capture::formats): the captures the
//! analysis reads but the old whole-file redact refused (invalid UTF-8 in a HAR string, a
//! `NaN` or `1e999`, trailing garbage after a cut `.har.gz`) are now rewritten, and the copy
//! analyses as the original does. Also runs the `capture_rewrite` fuzz target on the samples
//! and trivial inputs on stable.

use crate::common;
// The fuzz targets' bodies, compiled once for the whole test binary.
use crate::fuzz_regressions::targets;

use std::io::Write;
use std::path::Path;

use common::{analyze_json, root, run};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const ENTRY: &str = r#"{"startedDateTime":"2024-03-01T10:00:00.000+01:00","time":5,
 "request":{"method":"GET","url":"https://mail.contoso.com/EWS/Exchange.asmx","httpVersion":"HTTP/1.1",
   "headers":[{"name":"Authorization","value":"Bearer eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2lnbmF0dXJlLXNlY3JldC0x"}]},
 "response":{"status":401,"statusText":"Unauthorized","httpVersion":"HTTP/1.1",
   "headers":[{"name":"WWW-Authenticate","value":"Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"x\""},
              {"name":"Set-Cookie","value":"X-BackEndCookie=SECRET-COOKIE-1; path=/"}],
   "content":{"mimeType":"text/html","text":""}}}"#;

fn har(entries: &[&str]) -> String {
    format!(
        "{{\"log\":{{\"version\":\"1.2\",\"creator\":{{\"name\":\"t\"}},\"entries\":[{}]}}}}",
        entries.join(",")
    )
}

/// The parts of a report that are evidence (as tests/redact.rs compares them).
fn findings(report: &Value) -> Value {
    let f: Vec<Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::json!({"id": f["id"], "sessions": f["sessions"]}))
        .collect();
    serde_json::json!({"findings": f, "loops": report["loops"], "aadsts": report["aadsts"]})
}

/// `redact` succeeds where it used to refuse, writes no secret, and the copy gives the same
/// findings and the same sessions, but for `repaired` entries the copy reads and the
/// original does not. `damaged`: the original lost part of itself, so its verdict is
/// inconclusive (exit 3); the copy is whole again and says nothing of the damage (a known
/// difference: the rewrite does not yet record what it repaired, issue 17).
fn redacts_like_it_reads(name: &str, bytes: &[u8], repaired: u64, damaged: bool) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out.har");
    let r = run(&["redact", s(&input), s(&out)]);
    assert_eq!(r.status.code(), Some(0), "{name}: {r:?}");
    let copy = std::fs::read(&out).unwrap();
    let json: Value = serde_json::from_slice(&copy).expect("the copy is JSON");
    assert!(json["log"]["entries"].is_array(), "{name}");
    let text = String::from_utf8_lossy(&copy);
    assert!(!text.contains("c2lnbmF0dXJlLXNlY3JldC0x"), "{name}: {text}");
    assert!(!text.contains("SECRET-COOKIE-1"), "{name}");
    let (code_a, a) = analyze_json(&input);
    let (code_b, b) = analyze_json(&out);
    if damaged {
        assert_eq!(
            (code_a, code_b),
            (3, 0),
            "{name}: {}",
            a["verdict"]["summary"]
        );
    } else {
        assert_eq!(code_a, code_b, "{name}");
    }
    assert_eq!(findings(&a), findings(&b), "{name}");
    let sessions = |r: &Value| r["capture"]["sessions"].as_u64().unwrap();
    assert_eq!(sessions(&a) + repaired, sessions(&b), "{name}");
}

#[test]
fn invalid_utf8_in_a_string_is_rewritten() {
    let mut bytes = har(&[ENTRY, ENTRY, ENTRY]).into_bytes();
    // Into the second entry's `statusText`.
    let at = bytes
        .windows(12)
        .enumerate()
        .filter(|(_, w)| w == b"Unauthorized")
        .nth(1)
        .unwrap()
        .0;
    bytes.splice(at..at, [0xff, 0xfe]);
    // The bad bytes become U+FFFD in the copy: that entry now reads.
    redacts_like_it_reads("utf8.har", &bytes, 1, true);
}

#[test]
fn nan_and_out_of_range_numbers_are_rewritten() {
    let nan = ENTRY.replace("\"time\":5", "\"time\":NaN");
    let big = ENTRY.replace("\"time\":5", "\"time\":1e999");
    redacts_like_it_reads("nan.har", har(&[ENTRY, &nan, ENTRY]).as_bytes(), 0, false);
    redacts_like_it_reads("big.har", har(&[ENTRY, &big, ENTRY]).as_bytes(), 0, false);
}

#[test]
fn trailing_garbage_after_a_cut_gzip_is_rewritten() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(har(&[ENTRY, ENTRY]).as_bytes()).unwrap();
    let mut bytes = gz.finish().unwrap();
    bytes.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0]);
    redacts_like_it_reads("cut.har.gz", &bytes, 0, true);
}

/// The fuzz target on every sample and a few trivial inputs: it asserts that whatever is
/// rewritten reads again.
#[test]
fn the_rewrite_fuzz_target_runs_on_the_samples() {
    for data in [
        &b""[..],
        b"\0",
        b"PK\x03\x04",
        b"{\"log\":{\"entries\":[{}]}}",
        b"{\"log\":{\"entries\":[{}, 1, {\"request\": 2}",
    ] {
        targets::capture_rewrite(data);
    }
    for dir in ["samples", "samples/variants"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            let p = e.path();
            if p.is_file() && p.extension().is_some_and(|x| x != "md") {
                targets::capture_rewrite(&std::fs::read(&p).unwrap());
            }
        }
    }
}

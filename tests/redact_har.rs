//! `traceadal redact` of a HAR tells the same story (issue 17): `analyze --format json` of
//! the redacted copy has the same finding ids, missing SPNs, AADSTS codes, verdict status
//! and exit code as the original, for every HAR sample and (with `--ignored`) every HAR of
//! the shared public corpus. A damaged HAR is written whole, its damage listed on stderr by
//! entry, never by content. (`tests/redact.rs` holds what is common to SAZ and HAR.)

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::common::redact::{capture_text, story};
use crate::common::{analyze_json, corpus, root, run, run_in};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Redact `input` to `out` (in this process) and check the copy's story against the
/// original's; `false` when `analyze` cannot read `input` (then `redact` refuses it too).
fn same_story(input: &Path, out: &Path) -> bool {
    let r = run_in(&["redact", s(input), s(out)]);
    let unread = run_in(&["analyze", s(input), "--format", "json"]);
    if unread.status.code() == Some(2) {
        assert_eq!(r.status.code(), Some(2), "{}: {r:?}", input.display());
        return false;
    }
    let (code_a, a) = analyze_json(input);
    assert_eq!(r.status.code(), Some(0), "{}: {r:?}", input.display());
    let (code_b, b) = analyze_json(out);
    assert_eq!(code_a, code_b, "exit code of {}", input.display());
    assert_eq!(story(&a), story(&b), "{}", input.display());
    true
}

fn hars_in(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            hars_in(&p, out);
        } else if name.ends_with(".har") || name.ends_with(".har.gz") || name.ends_with(".zhar") {
            out.push(p);
        }
    }
}

#[test]
fn every_sample_har_tells_the_same_story_after_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    hars_in(&root().join("samples"), &mut files);
    files.sort();
    assert!(files.len() >= 30, "{} HAR samples", files.len());
    for p in &files {
        assert!(
            same_story(p, &dir.path().join("out.har")),
            "{}",
            p.display()
        );
    }
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_shared_har_tells_the_same_story_after_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    hars_in(&corpus().join("har"), &mut files);
    files.sort();
    assert!(files.len() >= 15, "{} HARs in the corpus", files.len());
    let compared = files
        .iter()
        .filter(|p| same_story(p, &dir.path().join("out.har")))
        .count();
    assert!(
        compared >= 15,
        "only {compared} of {} compared",
        files.len()
    );
}

const SECRETS: [&str; 6] = [
    "SECRET-estsauth-1",
    "SECRET-persistent-2",
    "SECRET-rt-3",
    "SECRET-ws-4",
    "SECRET-nan-5",
    "SECRET-array-6",
];

/// A HAR with a secret in each place the normalising rewrite must reach, and damage the
/// reader survives: invalid UTF-8 in a string, `NaN`, an entry that is an array, base64
/// that does not decode.
fn damaged_har() -> Vec<u8> {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let e1 = serde_json::json!({
        "startedDateTime": "2024-03-01T10:00:00.000Z",
        "request": {"method": "POST", "url": "https://login.microsoftonline.com/common/oauth2/token",
            "headers": [], "postData": {"mimeType": "application/x-www-form-urlencoded",
            "encoding": "Base64", "text": b64("grant_type=refresh_token&refresh_token=SECRET-rt-3")}},
        "response": {"status": 200, "headers": [{"name": "Set-Cookie",
            "value": "ESTSAUTH=SECRET-estsauth-1; path=/\nESTSAUTHPERSISTENT=SECRET-persistent-2; path=/"}],
            "content": {"mimeType": "text/plain", "text": "ok"}},
        "_webSocketMessages": [{"type": "send", "time": 1.0, "opcode": 2,
            "data": b64("access_token=SECRET-ws-4")}]
    });
    let e5 = serde_json::json!({
        "request": {"method": "GET", "url": "https://x.contoso.com/"},
        "response": {"status": 200, "content": {"text": "@@@ not base64", "encoding": "base64"}}
    });
    let mut har = format!(r#"{{"log": {{"version": "1.2", "entries": [{e1}, "#).into_bytes();
    har.extend_from_slice(b"{\"request\": {\"method\": \"GET\", \"url\": \"https://x/\xff\"}, \"response\": {\"status\": 200}}, ");
    har.extend_from_slice(
        br#"{"request": {"method": "GET", "url": "https://x/?code=SECRET-nan-5"}, "time": NaN}, "#,
    );
    har.extend_from_slice(
        br#"[{"request": {"url": "https://x/?refresh_token=SECRET-array-6"}}], "#,
    );
    har.extend_from_slice(format!("{e5}]}}}}").as_bytes());
    har
}

#[test]
fn a_damaged_har_is_written_whole_with_its_damage_listed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("damaged.har");
    std::fs::write(&input, damaged_har()).unwrap();
    let out = dir.path().join("out.har");
    let r = run(&["redact", s(&input), s(&out)]);
    let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    for line in [
        "entry 2: invalid UTF-8 replaced by U+FFFD",
        "entry 3: not valid JSON",
        "entry 4: an array, not an entry object; written as null",
        "entry 5: response body: 14 bytes of base64 that does not decode; replaced by a placeholder",
    ] {
        assert!(stderr.contains(line), "{line:?} not in {stderr}");
    }
    let bytes = std::fs::read(&out).unwrap();
    let text = String::from_utf8(bytes).expect("the copy is UTF-8");
    let v: Value = serde_json::from_str(&text).expect("the copy is JSON");
    let entries = v["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert!(entries[2].is_null() && entries[3].is_null());
    // Two Set-Cookie items now, each replaced.
    let cookies: Vec<&str> = entries[0]["response"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        [
            "ESTSAUTH=REDACTEDREDACTEDR; path=/",
            "ESTSAUTHPERSISTENT=REDACTEDREDACTEDRED; path=/"
        ]
    );
    // No secret anywhere: not in the file, not in what the reader decodes of it, not on
    // stderr.
    let everything = capture_text(&out);
    for secret in SECRETS {
        assert!(!everything.contains(secret), "{secret} in the copy");
        assert!(!stderr.contains(secret), "{secret} on stderr");
    }
    // The copy reads as the original does.
    let (code_a, a) = analyze_json(&input);
    let (code_b, b) = analyze_json(&out);
    assert_eq!((code_a, story(&a)), (code_b, story(&b)));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A `.har.gz` cut short and one with garbage after its member: `redact` writes what
/// `analyze` reads, and says where the capture breaks off.
#[test]
fn a_cut_or_trailing_garbage_har_gz_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read(root().join("samples/healthy-workday.har")).unwrap();
    let gz = gzip(&sample);
    let mut trailing = gz.clone();
    trailing.extend_from_slice(b"\x00garbage after the member");
    for (name, bytes) in [
        ("cut.har.gz", gz[..gz.len() * 2 / 3].to_vec()),
        ("trailing.har.gz", trailing),
        ("cut.har", sample[..sample.len() * 2 / 3].to_vec()),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, &bytes).unwrap();
        let out = dir.path().join("out.har");
        let r = run(&["redact", s(&input), s(&out)]);
        let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
        assert_eq!(r.status.code(), Some(0), "{name}: {stderr}");
        assert!(
            stderr.contains("the capture breaks off"),
            "{name}: {stderr}"
        );
        let copy: Value = serde_json::from_slice(&std::fs::read(&out).unwrap())
            .unwrap_or_else(|e| panic!("{name}: the copy is not JSON: {e}"));
        let listed = |p: &Path| {
            let o = run_in(&["sessions", "--format", "json", s(p)]);
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|r| r["url"].clone())
                .collect::<Vec<_>>()
        };
        let before = listed(&input);
        let after = listed(&out);
        assert_eq!(
            copy["log"]["entries"].as_array().unwrap().len(),
            after.len(),
            "{name}"
        );
        assert!(!after.is_empty(), "{name}");
        assert_eq!(before[..after.len()], after[..], "{name}");
    }
}

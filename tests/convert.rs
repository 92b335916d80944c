//! `traceadal convert` (issue 21): every sample converts both ways, and
//!
//! - the redacted conversion tells the story of `redact`'s copy (same finding ids, missing
//!   SPNs, AADSTS codes, verdict, exit code), and with `--show-secrets` the story of the
//!   original;
//! - round trips (SAZ -> HAR -> SAZ, HAR -> SAZ -> HAR) keep the sessions: count, methods,
//!   URLs, statuses, header names in order (the framing headers aside: a HAR holds bodies
//!   decoded, so its SAZ stores them identity-encoded with one `Content-Length`), decoded
//!   bodies;
//! - the SAZ is read by an independent zip reader (Python's `zipfile`): Fiddler's layout and
//!   numbering, each `_c.txt` an HTTP request;
//! - the HAR is read by another project's HAR reader (haralyzer, `#[ignore]`d: CI installs
//!   it), and every capture of the public corpus converts and keeps its session count
//!   (`#[ignore]`d: needs the corpus).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use traceadal::capture::write::is_framing;
use traceadal::capture::{Capture, DecodeLimits, Password, ReadOptions};

use crate::common::{corpus, root, run_env, run_in};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The shipped samples, SAZ and HAR, with the format variants (`samples/variants`: other
/// numbering, encodings, compressed HAR, missing responses...).
fn samples() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["samples", "samples/variants"] {
        out.extend(
            std::fs::read_dir(root().join(dir))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_string_lossy();
                    [".saz", ".har", ".har.gz", ".zhar"]
                        .iter()
                        .any(|x| name.ends_with(x))
                }),
        );
    }
    out.sort();
    assert!(out.len() >= 110, "{} samples", out.len());
    out
}

fn is_saz(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "saz")
}

/// The other format's extension, and the input's own.
fn exts(p: &Path) -> (&'static str, &'static str) {
    if is_saz(p) {
        ("har", "saz")
    } else {
        ("saz", "har")
    }
}

/// What a diagnosis says: the exit code and `common::redact::story` of the JSON report.
fn story(path: &Path) -> Value {
    let out = run_in(&["analyze", s(path), "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not a JSON report ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json!({"exit": out.status.code(), "story": crate::common::redact::story(&report)})
}

/// One session as the round trip must keep it.
#[derive(Debug, PartialEq, Eq)]
struct Kept {
    method: String,
    url: String,
    status: Option<u16>,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
    request_body: Vec<u8>,
    response_body: Vec<u8>,
}

fn names(h: &traceadal::capture::Headers) -> Vec<String> {
    h.iter()
        .filter(|(n, _)| !is_framing(n))
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect()
}

fn sessions_with(path: &Path, password: Option<&str>) -> Vec<Kept> {
    let options = ReadOptions {
        password: password.map(Password::new),
        ..ReadOptions::default()
    };
    let capture =
        Capture::open(path, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let limits = DecodeLimits::default();
    capture
        .map_sessions(|r| {
            r.ok().map(|s| Kept {
                method: s.request.method.clone(),
                url: s.request.url.clone(),
                status: s.status(),
                request_headers: names(&s.request.headers),
                response_headers: s
                    .response
                    .as_ref()
                    .map(|r| names(&r.headers))
                    .unwrap_or_default(),
                request_body: s.request.decoded_body_partial(&limits).bytes,
                response_body: s
                    .response
                    .as_ref()
                    .map(|r| r.decoded_body_partial(&limits).bytes)
                    .unwrap_or_default(),
            })
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .flatten()
        .collect()
}

fn sessions(path: &Path) -> Vec<Kept> {
    sessions_with(path, None)
}

fn convert(input: &Path, out: &Path, extra: &[&str]) {
    let _ = std::fs::remove_file(out);
    let mut args = vec!["convert", s(input), s(out)];
    args.extend_from_slice(extra);
    let r = run_in(&args);
    assert_eq!(
        r.status.code(),
        Some(0),
        "convert {} {}: {}",
        input.display(),
        out.display(),
        String::from_utf8_lossy(&r.stderr)
    );
}

fn assert_same_sessions(a: &Path, b: &Path) {
    let (x, y) = (sessions(a), sessions(b));
    assert_eq!(
        x.len(),
        y.len(),
        "{} vs {}: session count",
        a.display(),
        b.display()
    );
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        assert_eq!(
            p,
            q,
            "{} vs {}: session {}",
            a.display(),
            b.display(),
            i + 1
        );
    }
}

#[test]
fn every_sample_converts_with_the_same_diagnosis_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for input in samples() {
        let (ext, back) = exts(&input);
        if input.ends_with("zipped-saz.saz") {
            // A zip holding a SAZ, not a SAZ: both commands refuse it, naming what it holds.
            for cmd in ["redact", "convert"] {
                let out = d.join(format!("refused.{ext}"));
                let r = run_in(&[cmd, s(&input), s(&out)]);
                assert_eq!(r.status.code(), Some(2), "{cmd} {}", input.display());
                assert!(
                    String::from_utf8_lossy(&r.stderr).contains("a zip of 1 capture(s)"),
                    "{cmd}: {}",
                    String::from_utf8_lossy(&r.stderr)
                );
                assert!(!out.exists());
            }
            continue;
        }
        // Redacted (the default): the story of redact's copy.
        let redacted = d.join(format!("redacted.{back}"));
        let r = run_in(&["redact", s(&input), s(&redacted)]);
        assert_eq!(r.status.code(), Some(0), "redact {}", input.display());
        let converted = d.join(format!("converted.{ext}"));
        convert(&input, &converted, &[]);
        assert_same_sessions(&redacted, &converted);
        let round = d.join(format!("round.{back}"));
        convert(&converted, &round, &["--show-secrets"]);
        assert_same_sessions(&redacted, &round);
        let redacted_story = story(&redacted);
        for (copy, what) in [
            (&converted, "redacted conversion"),
            (&round, "redacted round trip"),
        ] {
            assert_eq!(redacted_story, story(copy), "{}: {what}", input.display());
        }
        // --show-secrets: the story of the original, and its sessions.
        let plain = d.join(format!("plain.{ext}"));
        convert(&input, &plain, &["--show-secrets"]);
        let plain_round = d.join(format!("plain-round.{back}"));
        convert(&plain, &plain_round, &["--show-secrets"]);
        assert_same_sessions(&plain, &plain_round);
        let original = story(&input);
        for (copy, what) in [(&plain, "conversion"), (&plain_round, "round trip")] {
            assert_eq!(original, story(copy), "{}: {what}", input.display());
        }
        if back == "har" {
            // A HAR holds bodies decoded: its sessions survive a SAZ and back as they were.
            assert_same_sessions(&input, &plain_round);
        }
    }
}

#[test]
fn the_output_format_comes_from_the_name_or_to_and_the_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("samples/healthy-workday.saz");
    let out = dir.path().join("copy.json");
    let r = run_in(&["convert", s(&input), s(&out)]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--to har|saz"));
    convert(&input, &out, &["--to", "har"]);
    assert!(std::fs::read(&out).unwrap().starts_with(b"{\n  \"log\""));
    // IN as OUT is refused, also through another name.
    let copy = dir.path().join("in.saz");
    std::fs::copy(&input, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let alias = dir.path().join(".").join("in.saz");
    let r = run_in(&["convert", s(&copy), s(&alias), "--to", "saz"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    // --redact-term needs a redacted conversion.
    let r = run_in(&[
        "convert",
        s(&input),
        s(&out),
        "--show-secrets",
        "--redact-term",
        "contoso",
    ]);
    assert_eq!(r.status.code(), Some(2));
    // Nothing is left beside OUT.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("traceadal-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_summary_says_what_was_written_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("samples/adal-500011-json.saz");
    let out = dir.path().join("a.har");
    let r = run_in(&["convert", s(&input), s(&out)]);
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("(HAR 1.2, 35 entries)"), "{text}");
    assert!(
        text.contains(
            "replaced 52 secret(s): refresh tokens: 4, codes: 6, cookies: 38, other tokens: 4"
        ),
        "{text}"
    );
    let r = run_in(&["convert", s(&input), s(&out), "--show-secrets"]);
    assert!(String::from_utf8_lossy(&r.stdout).contains("secrets kept (--show-secrets)"));
}

/// The HAR's shape: HAR 1.2 as Chrome writes it, a binary body in base64.
#[test]
fn the_har_has_chrome_s_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.har");
    convert(
        &root().join("samples/adal-500011-json.saz"),
        &out,
        &["--show-secrets"],
    );
    let har: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "traceadal");
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 35);
    for e in entries {
        for k in [
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
        ] {
            assert!(e.get(k).is_some(), "{k} missing: {e}");
        }
        for k in [
            "method",
            "url",
            "httpVersion",
            "headers",
            "queryString",
            "cookies",
            "headersSize",
            "bodySize",
        ] {
            assert!(e["request"].get(k).is_some(), "request.{k} missing");
        }
        for k in [
            "status",
            "statusText",
            "httpVersion",
            "headers",
            "cookies",
            "content",
            "redirectURL",
            "headersSize",
            "bodySize",
        ] {
            assert!(e["response"].get(k).is_some(), "response.{k} missing");
        }
        assert!(e["timings"]["wait"].is_number());
    }
    assert!(entries.iter().any(|e| e["_process"]
        .as_str()
        .is_some_and(|p| p.starts_with("outlook"))));
    assert!(entries
        .iter()
        .any(|e| e["response"]["content"]["encoding"] == "base64"));
    assert!(entries
        .iter()
        .any(|e| e["request"]["postData"]["params"].is_array()));
}

/// Python's own zip reader and HTTP header parser over a converted SAZ.
const SAZ_CHECK: &str = r#"
import re, sys, zipfile, email.parser
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
assert names[0] == "[Content_Types].xml", names[:1]
assert names[-1] == "_index.htm", names[-1:]
raw = names[1:-1]
n = len(raw) // 3
assert len(raw) == 3 * n, len(raw)
pad = len(str(n))
for i in range(n):
    stem = "raw/%0*d" % (pad, i + 1)
    assert raw[3 * i: 3 * i + 3] == [stem + "_c.txt", stem + "_s.txt", stem + "_m.xml"], raw[3 * i: 3 * i + 3]
    c = z.read(stem + "_c.txt")
    head, sep, body = c.partition(b"\r\n\r\n")
    assert sep, stem
    line, _, fields = head.partition(b"\r\n")
    assert re.match(rb"^[A-Z]+ \S+ HTTP/1\.[01]$", line), line
    msg = email.parser.BytesHeaderParser().parsebytes(fields + b"\r\n\r\n")
    assert len(msg.defects) == 0, (stem, msg.defects)
    length = msg.get("Content-Length")
    if length is not None and msg.get("Transfer-Encoding") is None:
        assert int(length) == len(body), (stem, length, len(body))
    assert b"<Session SID=\"%d\"" % (i + 1) in z.read(stem + "_m.xml"), stem
assert z.comment.startswith(b"Fiddler"), z.comment
print(n)
"#;

#[test]
fn python_s_zipfile_reads_the_saz_as_fiddler_lays_it_out() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "adal-500011-json.har",
        "blind-tunnels.har",
        "healthy-workday.har",
    ] {
        let input = root().join("samples").join(name);
        let out = dir.path().join("x.saz");
        convert(&input, &out, &[]);
        let r = Command::new("python3")
            .args(["-c", SAZ_CHECK, s(&out)])
            .output()
            .expect("python3 runs");
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let n: usize = String::from_utf8_lossy(&r.stdout).trim().parse().unwrap();
        assert_eq!(n, sessions(&input).len(), "{name}");
    }
}

/// haralyzer (a HAR library of another project) over converted samples: entry counts and
/// URLs as traceadal reads them.
const HARALYZER_CHECK: &str = r#"
import json, sys
from haralyzer import HarParser
for path, want in json.load(open(sys.argv[1])):
    with open(path, encoding="utf-8") as f:
        parser = HarParser(json.load(f))
    entries = [e for page in [parser] for e in page.har_data["entries"]]
    urls = [e["request"]["url"] for e in entries]
    assert len(urls) == len(want), (path, len(urls), len(want))
    assert urls == want, (path, [u for u, w in zip(urls, want) if u != w][:3])
    # haralyzer's own entry objects read every entry.
    from haralyzer.assets import HarEntry
    for e in entries:
        h = HarEntry(e)
        assert h.request.method and h.status is not None and h.url
print("ok")
"#;

fn haralyzer_python() -> String {
    std::env::var("TRACEADAL_HARALYZER_PYTHON").unwrap_or_else(|_| {
        let venv = root().join("target/haralyzer-venv/bin/python3");
        if venv.is_file() {
            venv.to_string_lossy().into_owned()
        } else {
            "python3".into()
        }
    })
}

#[test]
#[ignore = "needs haralyzer (pip; .ci/run installs it in target/haralyzer-venv, or set TRACEADAL_HARALYZER_PYTHON): run with --ignored (CI does)"]
fn haralyzer_reads_the_converted_hars() {
    let python = haralyzer_python();
    let probe = Command::new(&python)
        .args(["-c", "import haralyzer"])
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "haralyzer is missing for {python}: pip install haralyzer, or set TRACEADAL_HARALYZER_PYTHON"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for input in samples()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "saz"))
        // A zip holding a SAZ is refused (checked in the round-trip test above).
        .filter(|p| !p.ends_with("zipped-saz.saz"))
    {
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        let out = dir.path().join(format!("{stem}.har"));
        convert(&input, &out, &[]);
        // The URLs as HAR writes them: a tunnel's `host:port` as `http://host:port`.
        let urls: Vec<String> = sessions(&out)
            .into_iter()
            .map(|k| {
                if k.method == "CONNECT" && !k.url.contains("://") {
                    format!("http://{}", k.url)
                } else {
                    k.url
                }
            })
            .collect();
        assert_eq!(urls.len(), sessions(&input).len(), "{stem}");
        cases.push(json!([s(&out), urls]));
    }
    let list = dir.path().join("cases.json");
    std::fs::write(&list, serde_json::to_vec(&cases).unwrap()).unwrap();
    let r = Command::new(&python)
        .args(["-c", HARALYZER_CHECK, s(&list)])
        .output()
        .expect("python runs");
    assert!(
        r.status.success(),
        "haralyzer: {}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_corpus_capture_converts_and_keeps_its_sessions() {
    let base = corpus();
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    // Every capture a reader opens: `saz/invalid` and the corrupted HARs are not captures.
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in ["saz", "har", "har/mitmproxy"] {
        files.extend(
            std::fs::read_dir(base.join(sub))
                .unwrap_or_else(|e| panic!("{sub}: {e}"))
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "saz" || x == "har" || x == "zhar")
                }),
        );
    }
    files.sort();
    {
        for input in files {
            let opens = Capture::open(
                &input,
                &ReadOptions {
                    password: Some(Password::new("fiddler")),
                    ..ReadOptions::default()
                },
            )
            .and_then(|c| c.map_sessions(|_| ()).map(|_| ()));
            if opens.is_err() {
                continue;
            }
            let encrypted = input.to_string_lossy().contains("synthetic__");
            let (env, pw): (&[(&str, &str)], &[&str]) = if encrypted {
                (&[("PW", "fiddler")], &["--password-env", "PW"])
            } else {
                (&[], &[])
            };
            let want = sessions_with(&input, encrypted.then_some("fiddler")).len();
            for (to, extra) in [("saz", &[][..]), ("har", &["--show-secrets"][..])] {
                let out = dir.path().join(format!("out.{to}"));
                let _ = std::fs::remove_file(&out);
                let mut args = vec!["convert", s(&input), s(&out), "--to", to];
                args.extend_from_slice(extra);
                args.extend_from_slice(pw);
                let r = run_env(&args, env);
                assert_eq!(
                    r.status.code(),
                    Some(0),
                    "{}: {}",
                    input.display(),
                    String::from_utf8_lossy(&r.stderr)
                );
                assert_eq!(sessions(&out).len(), want, "{} -> {to}", input.display());
            }
            n += 1;
        }
    }
    assert!(n >= 15, "only {n} corpus captures");
}

//! Helpers for the `redact` tests: everything a capture file holds, as text.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use traceadal::capture::{Capture, DecodeLimits, Password, ReadOptions};

/// Everything in the capture at `path`, as text: the file's bytes (every zip entry inflated,
/// with `password` when encrypted), and every session's URL, headers and decoded bodies as
/// traceadal reads them.
pub fn capture_text_with(path: &Path, password: Option<&str>) -> String {
    let mut text = String::new();
    let bytes = std::fs::read(path).unwrap_or_default();
    if bytes.starts_with(b"PK") {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        for i in 0..zip.len() {
            let opts = zip::ZipReadOptions::new().password(password.map(str::as_bytes));
            let Ok(mut e) = zip.by_index_with_options(i, opts) else {
                continue;
            };
            let mut data = Vec::new();
            let _ = e.read_to_end(&mut data);
            text.push_str(&String::from_utf8_lossy(&data));
            text.push('\n');
        }
    } else {
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    let options = ReadOptions {
        password: password.map(Password::new),
        ..ReadOptions::default()
    };
    let capture = Capture::open(path, &options).expect("the capture opens");
    let limits = DecodeLimits::default();
    let sessions = capture
        .map_sessions(|r| {
            let Ok(s) = r else { return String::new() };
            let mut t = format!("{} {}\n", s.request.method, s.request.url);
            for (n, v) in s.request.headers.iter() {
                t.push_str(&format!("{n}: {v}\n"));
            }
            t.push_str(&String::from_utf8_lossy(
                &s.request.decoded_body_partial(&limits).bytes,
            ));
            if let Some(r) = &s.response {
                for (n, v) in r.headers.iter() {
                    t.push_str(&format!("{n}: {v}\n"));
                }
                t.push_str(&String::from_utf8_lossy(
                    &r.decoded_body_partial(&limits).bytes,
                ));
            }
            t
        })
        .expect("the sessions read");
    for s in sessions {
        text.push_str(&s);
        text.push('\n');
    }
    text
}

pub fn capture_text(path: &Path) -> String {
    capture_text_with(path, None)
}

/// The story a report tells, as `redact` must keep it: finding ids, missing SPNs, AADSTS
/// codes and the verdict's status (issue 17: `analyze(redact(x))` tells what `analyze(x)`
/// does).
pub fn story(report: &Value) -> Value {
    let ids: Vec<&Value> = report["findings"]
        .as_array()
        .map(|f| f.iter().map(|f| &f["id"]).collect())
        .unwrap_or_default();
    serde_json::json!({
        "finding_ids": ids,
        "missing_spns": report["missing_spns"],
        "aadsts": report["aadsts"],
        "verdict": report["verdict"]["status"],
    })
}

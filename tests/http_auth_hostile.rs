//! Hostile HTTP and auth content inside well-formed SAZ files (issue 8), through the real
//! binary: `traceadal analyze --format json` on a crafted capture must exit 0 or 1 (never
//! crash, never 2 for a readable archive), within seconds, and name a damaged session in
//! `capture.errors`.
//!
//! The archive-level cases (bombs, truncation, names) are in `saz_hostile.rs`, HAR-level ones
//! in `har_hostile.rs`, and the parsers' own proptests sit in their modules; this file covers
//! what only a message's content can break: huge or countless headers, chunked framing,
//! content codings, `WWW-Authenticate`, AADSTS messages, `$Config` pages and JWTs.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

const TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/token";
const AUTODISCOVER: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
const FORM: &str = "grant_type=refresh_token&resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&refresh_token=x";

/// One session: the raw `_c.txt` and `_s.txt` bytes (`None`: aborted).
struct Raw {
    request: Vec<u8>,
    response: Option<Vec<u8>>,
}

fn post(url: &str, headers: &str, body: &str) -> Vec<u8> {
    let host = url.split('/').nth(2).unwrap_or("x");
    format!(
        "POST {url} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!("HTTP/1.1 {status}\r\n{headers}\r\n").into_bytes();
    v.extend_from_slice(body);
    v
}

/// A SAZ of `sessions`, numbered from 1, written with the zip crate.
fn saz(dir: &Path, name: &str, sessions: &[Raw]) -> PathBuf {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (i, s) in sessions.iter().enumerate() {
        let id = i + 1;
        w.start_file(format!("raw/{id:02}_c.txt"), opts).unwrap();
        w.write_all(&s.request).unwrap();
        if let Some(r) = &s.response {
            w.start_file(format!("raw/{id:02}_s.txt"), opts).unwrap();
            w.write_all(r).unwrap();
        }
    }
    w.set_comment("Fiddler (v5.0.20204.45441) Session Archive.")
        .unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `analyze --format json`: exit code, report, time taken. Exit 2 is never acceptable here:
/// every archive is readable.
fn analyze(path: &Path) -> (i32, Value, Duration) {
    let start = Instant::now();
    let (code, report) = common::analyze_json(path);
    let took = start.elapsed();
    assert!(code == 0 || code == 1, "{}: exit {code}", path.display());
    assert!(
        took < Duration::from_secs(30),
        "{}: took {took:?}",
        path.display()
    );
    (code, report, took)
}

/// The `capture.errors` messages of session `id`.
fn errors_of(report: &Value, id: u64) -> Vec<String> {
    report["capture"]["errors"]
        .as_array()
        .expect("capture.errors is an array")
        .iter()
        .filter(|e| e["session"].as_u64() == Some(id))
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every AADSTS code in the report's findings and events, as text.
fn mentions(report: &Value, needle: &str) -> bool {
    report.to_string().contains(needle)
}

/// The sessions the report's `aadsts` section lists for `code`.
fn code_in_sessions(report: &Value, code: u64) -> Vec<u64> {
    report["aadsts"]
        .as_array()
        .expect("aadsts is an array")
        .iter()
        .filter(|a| a["code"].as_u64() == Some(code))
        .flat_map(|a| a["sessions"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s.as_u64())
        .collect()
}

fn token_session(resp: Vec<u8>) -> Raw {
    Raw {
        request: post(TOKEN, "", FORM),
        response: Some(resp),
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const ERROR_JSON: &str = r#"{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[500011]}"#;

#[test]
fn ten_megabyte_header_lines_and_100000_headers() {
    let dir = tempfile::tempdir().unwrap();
    let long = "a".repeat(10 * 1024 * 1024);
    let many: String = (0..100_000).map(|i| format!("X-H{i}: v{i}\r\n")).collect();
    let path = saz(
        dir.path(),
        "headers.saz",
        &[
            Raw {
                request: post(AUTODISCOVER, &format!("X-Long: {long}\r\n"), ""),
                response: Some(response(
                    "401 Unauthorized",
                    &format!("WWW-Authenticate: Bearer realm=\"{long}\"\r\n"),
                    b"",
                )),
            },
            Raw {
                request: post(AUTODISCOVER, &many, ""),
                response: Some(response("200 OK", &many, b"")),
            },
            // An obs-folded header of 10 MB in 100 000 continuation lines.
            Raw {
                request: post(AUTODISCOVER, "", ""),
                response: Some(response(
                    "200 OK",
                    &format!("X-Fold: a\r\n{}", " b\r\n".repeat(100_000)),
                    b"",
                )),
            },
        ],
    );
    let (_, report, _) = analyze(&path);
    assert_eq!(
        report["capture"]["sessions"].as_u64(),
        Some(3),
        "{report:#}"
    );
    // The 10 MB value never reaches the report (redaction and caps keep it out).
    assert!(report.to_string().len() < 1024 * 1024);
}

#[test]
fn chunked_framing_that_lies_names_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let json_hdr = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n";
    let path = saz(
        dir.path(),
        "chunked.saz",
        &[
            // A chunk size that overflows u64.
            token_session(response(
                "400 Bad Request",
                json_hdr,
                b"ffffffffffffffffffffffff\r\n{\"error\":\"x\"}\r\n0\r\n\r\n",
            )),
            // A chunk that claims more than is there.
            token_session(response(
                "400 Bad Request",
                json_hdr,
                format!("{:x}\r\n{ERROR_JSON}", ERROR_JSON.len() + 100).as_bytes(),
            )),
            // Not hex at all.
            token_session(response(
                "400 Bad Request",
                json_hdr,
                b"zz\r\nnope\r\n0\r\n\r\n",
            )),
        ],
    );
    let (_, report, _) = analyze(&path);
    for id in 1..=3 {
        let errs = errors_of(&report, id);
        assert!(
            errs.iter().any(|e| e.contains("chunk")),
            "session {id}: {errs:?}\n{report:#}"
        );
    }
}

#[test]
fn transfer_encoding_lists_are_undone_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut chunked = format!("{:x}\r\n", gzip(ERROR_JSON.as_bytes()).len()).into_bytes();
    chunked.extend(gzip(ERROR_JSON.as_bytes()));
    chunked.extend(b"\r\n0\r\n\r\n");
    let path = saz(
        dir.path(),
        "te.saz",
        &[token_session(response(
            "400 Bad Request",
            "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n",
            &chunked,
        ))],
    );
    let (code, report, _) = analyze(&path);
    assert_eq!(code, 1, "{report:#}");
    assert!(mentions(&report, "500011"));
    assert!(errors_of(&report, 1).is_empty(), "{report:#}");
}

#[test]
fn gzip_that_ends_early_and_brotli_garbage_name_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let g = gzip(ERROR_JSON.repeat(50).as_bytes());
    let path = saz(
        dir.path(),
        "codings.saz",
        &[
            token_session(response(
                "400 Bad Request",
                "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
                &g[..g.len() / 2],
            )),
            token_session(response(
                "400 Bad Request",
                "Content-Type: application/json\r\nContent-Encoding: br\r\n",
                b"\xff\xfe\xfd this is not brotli \x00\x01\x02",
            )),
            token_session(response(
                "400 Bad Request",
                "Content-Type: application/json\r\nContent-Encoding: compress\r\n",
                ERROR_JSON.as_bytes(),
            )),
        ],
    );
    let (_, report, _) = analyze(&path);
    for (id, what) in [(1, "gzip"), (2, "br"), (3, "compress")] {
        let errs = errors_of(&report, id);
        assert!(
            errs.iter().any(|e| e.contains(what)),
            "session {id}: {errs:?}\n{report:#}"
        );
    }
}

#[test]
fn www_authenticate_unbalanced_and_escaped_quotes_and_10000_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let many = (0..10_000)
        .map(|i| format!("Scheme{i} realm=\"r{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let challenge = |v: &str| Raw {
        request: post(AUTODISCOVER, "", ""),
        response: Some(response(
            "401 Unauthorized",
            &format!("WWW-Authenticate: {v}\r\n"),
            b"",
        )),
    };
    let path = saz(
        dir.path(),
        "challenges.saz",
        &[
            challenge("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000, trusted_issuers=\"x@y"),
            challenge(r#"Bearer realm="a\"b\\", authorization_uri="https://login.windows.net/common/oauth2/authorize\""#),
            challenge(&many),
            challenge(&format!("{many}, Bearer authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"")),
            challenge("\"\"\"\"\"=,=,=\\"),
            token_session(response(
                "400 Bad Request",
                "Content-Type: application/json\r\n",
                ERROR_JSON.as_bytes(),
            )),
        ],
    );
    let (code, report, took) = analyze(&path);
    assert_eq!(
        report["capture"]["sessions"].as_u64(),
        Some(6),
        "{report:#}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The loop behind the challenges is still found.
    assert_eq!(code, 1, "{report:#}");
    assert!(mentions(&report, "500011"), "{report:#}");
    assert!(errors_of(&report, 4).is_empty(), "{report:#}");
}

#[test]
fn aadsts_cut_mid_code_config_not_json_and_bad_jwts() {
    let dir = tempfile::tempdir().unwrap();
    let html = |cfg: &str| {
        response(
            "200 OK",
            "Content-Type: text/html; charset=utf-8\r\n",
            format!("<html><script>//<![CDATA[\n$Config={cfg};\n//]]></script></html>").as_bytes(),
        )
    };
    let path = saz(
        dir.path(),
        "auth-text.saz",
        &[
            // JSON cut inside the code.
            token_session(response(
                "400 Bad Request",
                "Content-Type: application/json\r\n",
                br#"{"error":"invalid_resource","error_description":"AADSTS5000"#,
            )),
            // A redirect whose description is cut mid-code.
            Raw {
                request: post(TOKEN, "", FORM),
                response: Some(response(
                    "302 Found",
                    "Location: urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%\r\n",
                    b"",
                )),
            },
            // $Config that is not JSON at all, and one that never closes.
            token_session(html("{iErrorCode: 500011, sErrorCode: '500011', strServiceExceptionMessage: \"AADSTS500011: x")),
            token_session(html("not json [[[{{{ \"iErrorCode\":")),
            // JWTs with bad base64: presented to EWS, and as a WAM request= assertion.
            Raw {
                request: post(
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    "Authorization: Bearer eyJ!!!.@@@@.sig\r\n",
                    "",
                ),
                response: Some(response("401 Unauthorized", "WWW-Authenticate: Bearer\r\n", b"")),
            },
            Raw {
                request: post(
                    TOKEN,
                    "",
                    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&request=eyJhbGciOiJub25lIn0.eyJ%%%%.x&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c",
                ),
                response: Some(response("400 Bad Request", "Content-Type: application/json\r\n", ERROR_JSON.as_bytes())),
            },
            Raw {
                request: post(
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21haWwuY29udG9zby5jb20i.c2ln\r\n",
                    "",
                ),
                response: Some(response("200 OK", "", b"")),
            },
        ],
    );
    let (_, report, _) = analyze(&path);
    assert_eq!(
        report["capture"]["sessions"].as_u64(),
        Some(7),
        "{report:#}"
    );
    // The sign-in page whose $Config is not JSON still gives its code away; the WAM
    // request with a bad JWT still has its error read.
    assert!(code_in_sessions(&report, 500011).contains(&3), "{report:#}");
    assert!(code_in_sessions(&report, 500011).contains(&6), "{report:#}");
    // A code cut short is kept as the digits that are there (see `aadsts_codes`).
    assert!(code_in_sessions(&report, 5000).contains(&1), "{report:#}");
}

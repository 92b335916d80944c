//! Every public HAR in the shared corpus (`../shared/captures/har`, or `$TRACEADAL_CORPUS/har`)
//! lists through the real binary with the exact entry count and facts from SOURCES.txt; where
//! mitmproxy's expected flows (`.json` companions) exist, every entry's method, host, URL,
//! status and body length is checked against them. Bodies are checked through the library.
//!
//! Every test here needs the corpus, so all are `#[ignore]`d: `cargo test -- --ignored` runs
//! them (CI does), and they fail, saying so, when the corpus is missing.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use traceadal::capture::{Capture, ReadOptions, Session, SessionResult};

const BIN: &str = env!("CARGO_BIN_EXE_traceadal");

fn corpus() -> PathBuf {
    common::corpus()
}

fn har(corpus: &Path, name: &str) -> PathBuf {
    let top = corpus.join("har").join(name);
    if top.exists() {
        top
    } else {
        corpus.join("har").join("mitmproxy").join(name)
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run traceadal")
}

fn list(path: &Path) -> (Vec<Value>, String) {
    let out = run(&["sessions", "--format", "json", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{}: exit {:?}, stderr: {stderr}",
        path.display(),
        out.status.code(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    (v.as_array().expect("array").clone(), stderr)
}

/// One entry's expected facts: id, status (`None`: no response), method, host.
type Fact = (u64, Option<u16>, &'static str, &'static str);

struct Expect {
    file: &'static str,
    entries: usize,
    facts: &'static [Fact],
    /// mitmproxy's expected flows for this HAR.
    companion: Option<&'static str>,
    websocket: &'static [u64],
}

const EXPECT: &[Expect] = &[
    Expect {
        file: "real-saz2har__demo.har",
        entries: 1,
        facts: &[(1, Some(200), "GET", "jsonplaceholder.typicode.com")],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__charles.har",
        entries: 1,
        facts: &[(1, Some(200), "GET", "mitmproxy.org")],
        companion: Some("mitmproxy__charles.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__chrome.har",
        entries: 3,
        facts: &[
            (1, Some(304), "GET", "mitmproxy.org"),
            (2, None, "GET", "www.google.com"),
            (3, Some(200), "GET", "www.google.com"),
        ],
        companion: Some("mitmproxy__chrome.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__firefox.har",
        entries: 14,
        facts: &[
            (1, Some(304), "GET", "mitmproxy.org"),
            (12, Some(200), "GET", "s3-us-west-2.amazonaws.com"),
            (14, Some(200), "GET", "mitmproxy.org"),
        ],
        companion: Some("mitmproxy__firefox.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__head-content-length.har",
        entries: 1,
        facts: &[(1, Some(200), "HEAD", "files.pythonhosted.org")],
        companion: Some("mitmproxy__head-content-length.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__insomnia.har",
        entries: 1,
        facts: &[(1, Some(200), "GET", "mitm.it")],
        companion: Some("mitmproxy__insomnia.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__postdata.har",
        entries: 1,
        facts: &[(
            1,
            Some(200),
            "POST",
            "signal-metrics-collector-beta.s-onetag.com",
        )],
        companion: Some("mitmproxy__postdata.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__safari.har",
        entries: 19,
        facts: &[
            (1, Some(200), "GET", "mitmproxy.org"),
            (18, Some(200), "GET", "s3-us-west-2.amazonaws.com"),
        ],
        companion: Some("mitmproxy__safari.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__with-bom.har",
        entries: 1,
        facts: &[(
            1,
            Some(200),
            "POST",
            "signal-metrics-collector-beta.s-onetag.com",
        )],
        companion: Some("mitmproxy__with-bom.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__invalid_content_encoding.har",
        entries: 1,
        facts: &[(1, Some(401), "POST", "fmfmobile.icloud.com")],
        companion: Some("mitmproxy__invalid_content_encoding.json"),
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_corrupted_gzip_body.har",
        entries: 1,
        facts: &[(1, Some(200), "GET", "127.0.0.1")],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_diff_data.har",
        entries: 5,
        facts: &[
            (1, Some(200), "POST", "jnn-pa.googleapis.com"),
            (3, Some(200), "GET", "s0.2mdn.net"),
            (4, Some(200), "POST", "clients4.google.com"),
            (5, Some(200), "GET", "slack.com"),
        ],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_error_log.har",
        entries: 2,
        facts: &[
            (1, None, "GET", "163.com"),
            (2, Some(405), "POST", "httpbin.org"),
        ],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_event_stream.har",
        entries: 2,
        facts: &[
            (1, Some(200), "GET", "clientstream.launchdarkly.com"),
            (2, Some(200), "GET", "clientstream.launchdarkly.com"),
        ],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_incomplete_log.har",
        entries: 4,
        facts: &[
            (1, None, "GET", "example.com"),
            (2, None, "GET", "google.com"),
            (3, None, "POST", "google.com"),
            (4, None, "POST", "google.com"),
        ],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_successful_log.har",
        entries: 2,
        facts: &[
            (1, Some(200), "GET", "example.com"),
            (2, Some(200), "POST", "httpbin.org"),
        ],
        companion: None,
        websocket: &[],
    },
    Expect {
        file: "mitmproxy__flows_websocket.har",
        entries: 3,
        facts: &[
            (1, Some(101), "GET", "demo.piesocket.com"),
            (3, Some(101), "GET", "demo.piesocket.com"),
        ],
        companion: None,
        websocket: &[1, 2, 3],
    },
    Expect {
        file: "mitmproxy__flows_compressed.zhar",
        entries: 2,
        facts: &[
            (1, Some(200), "GET", "example.com"),
            (2, Some(200), "POST", "httpbin.org"),
        ],
        companion: None,
        websocket: &[],
    },
];

/// Not HARs, on purpose: each must end with exit 2 and the file named.
const INVALID: &[(&str, &str)] = &[
    ("mitmproxy__corrupted_brokenfile.har", "invalid JSON"),
    ("mitmproxy__corrupted_broken_headers.json", "no log object"),
    ("mitmproxy__har_extractor.har", "no log object"),
];

fn status_of(row: &Value) -> Option<u16> {
    row["status"].as_u64().map(|s| s as u16)
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_har_lists_with_its_count_and_facts() {
    let corpus = corpus();
    for e in EXPECT {
        let path = har(&corpus, e.file);
        let (rows, _stderr) = list(&path);
        assert_eq!(rows.len(), e.entries, "{}: entry count", e.file);
        let ids: Vec<u64> = rows.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert_eq!(
            ids,
            (1..=e.entries as u64).collect::<Vec<_>>(),
            "{}: ids",
            e.file
        );
        for &(id, status, method, host) in e.facts {
            let row = &rows[id as usize - 1];
            assert_eq!(status_of(row), status, "{} #{id}: status", e.file);
            assert_eq!(row["method"], method, "{} #{id}: method", e.file);
            assert_eq!(row["host"], host, "{} #{id}: host", e.file);
            assert_eq!(
                row["aborted"].as_bool(),
                Some(status.is_none()),
                "{} #{id}: aborted",
                e.file
            );
        }
        for row in &rows {
            let id = row["id"].as_u64().unwrap();
            assert_eq!(
                row["websocket"].as_bool(),
                Some(e.websocket.contains(&id)),
                "{} #{id}: websocket",
                e.file
            );
            assert_eq!(row["tunnel"].as_bool(), Some(false));
        }
    }
}

/// mitmproxy's own import of the same HAR, entry by entry: method, host, URL, status (0 is
/// "no response" here) and the byte length of the decoded response body.
#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_har_agrees_with_mitmproxys_expected_flows() {
    let corpus = corpus();
    let mut checked = 0;
    for e in EXPECT {
        let Some(companion) = e.companion else {
            continue;
        };
        let (rows, _) = list(&har(&corpus, e.file));
        let flows: Value =
            serde_json::from_slice(&std::fs::read(har(&corpus, companion)).unwrap()).unwrap();
        let flows = flows.as_array().unwrap();
        assert_eq!(rows.len(), flows.len(), "{}: count vs companion", e.file);
        for (row, flow) in rows.iter().zip(flows) {
            let id = row["id"].as_u64().unwrap();
            let req = &flow["request"];
            assert_eq!(row["method"], req["method"], "{} #{id}", e.file);
            assert_eq!(row["host"], req["host"], "{} #{id}", e.file);
            let scheme = req["scheme"].as_str().unwrap();
            let port = req["port"].as_u64().unwrap();
            let default = matches!((scheme, port), ("https", 443) | ("http", 80));
            let authority = if default {
                req["host"].as_str().unwrap().to_string()
            } else {
                format!("{}:{port}", req["host"].as_str().unwrap())
            };
            let url = format!("{scheme}://{authority}{}", req["path"].as_str().unwrap());
            assert_eq!(row["url"], url.as_str(), "{} #{id}: url", e.file);
            let resp = &flow["response"];
            match resp["status_code"].as_u64() {
                Some(0) | None => assert_eq!(status_of(row), None, "{} #{id}", e.file),
                Some(code) => {
                    assert_eq!(status_of(row), Some(code as u16), "{} #{id}", e.file);
                    assert_eq!(
                        row["response_bytes"], resp["contentLength"],
                        "{} #{id}: body length",
                        e.file
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 42, "entries cross-checked against mitmproxy");
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn invalid_files_exit_2_naming_the_file() {
    let corpus = corpus();
    for (file, why) in INVALID {
        let path = har(&corpus, file);
        let out = run(&["sessions", "--format", "json", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(file),
            "{file}: stderr names the file: {stderr}"
        );
        assert!(stderr.contains(why), "{file}: {why:?} in {stderr}");
        assert!(out.stdout.is_empty(), "{file}: no listing");
    }
}

/// Every `.har`/`.zhar` in the folder is covered above: a file added to the corpus without
/// expectations fails here rather than going untested.
#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_corpus_har_is_covered() {
    let corpus = corpus();
    let mut found = BTreeSet::new();
    for dir in [corpus.join("har"), corpus.join("har").join("mitmproxy")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".har") || name.ends_with(".zhar") {
                found.insert(name);
            }
        }
    }
    let known: BTreeSet<String> = EXPECT
        .iter()
        .map(|e| e.file.to_string())
        .chain(INVALID.iter().map(|(f, _)| f.to_string()))
        .collect();
    let missing: Vec<_> = found.difference(&known).collect();
    assert!(missing.is_empty(), "HARs without expectations: {missing:?}");
}

fn sessions(path: &Path) -> Vec<Session> {
    let capture = Capture::open(path, &ReadOptions::default()).unwrap();
    capture
        .map_sessions(|r: SessionResult| r)
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn response_body(s: &Session) -> &[u8] {
    &s.response.as_ref().expect("a response").body.raw
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn bodies_are_decoded_from_base64_and_text() {
    let corpus = corpus();

    // Chrome: base64 PNG, 7108 bytes.
    let chrome = sessions(&har(&corpus, "mitmproxy__chrome.har"));
    let png = response_body(&chrome[2]);
    assert_eq!(png.len(), 7108);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(chrome[1].response.is_none() && chrome[1].flags.aborted);
    assert_eq!(chrome[0].request.version, "HTTP/2");
    assert!(
        chrome[0]
            .request
            .headers
            .iter()
            .all(|(n, _)| !n.starts_with(':')),
        "pseudo-headers are folded into method and URL"
    );

    // Firefox: base64 favicon (ICO header 00 00 01 00).
    let firefox = sessions(&har(&corpus, "mitmproxy__firefox.har"));
    let ico = response_body(&firefox[13]);
    assert_eq!(ico.len(), 98065);
    assert!(ico.starts_with(&[0, 0, 1, 0]));
    assert!(!firefox[13].response.as_ref().unwrap().body.wire);

    // mitmproxy: base64 JPEG; the zlib-compressed .zhar's HTML; a form POST.
    let diff = sessions(&har(&corpus, "mitmproxy__flows_diff_data.har"));
    assert!(response_body(&diff[2]).starts_with(&[0xff, 0xd8, 0xff]));
    let zhar = sessions(&har(&corpus, "mitmproxy__flows_compressed.zhar"));
    let html = String::from_utf8_lossy(response_body(&zhar[0]));
    assert!(html.contains("<title>Example Domain</title>"), "{html}");
    assert_eq!(zhar[1].request.body.raw, b"key1=value1&key2=value2");

    // BOM'd copy reads like the original.
    let plain = sessions(&har(&corpus, "mitmproxy__postdata.har"));
    let bom = sessions(&har(&corpus, "mitmproxy__with-bom.har"));
    assert_eq!(plain, bom);
    assert!(plain[0].request.body.raw.starts_with(b"{\"metadata\":"));

    // Timers: startedDateTime with its offset, plus `time`.
    let t = &plain[0].timers;
    let (begin, done) = (
        t.client_begin_request.unwrap(),
        t.client_done_response.unwrap(),
    );
    assert!(done >= begin);

    // A server IP, a 401 with its WWW-Authenticate-free headers intact, Set-Cookie kept.
    let icloud = sessions(&har(&corpus, "mitmproxy__invalid_content_encoding.har"));
    let r = icloud[0].response.as_ref().unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.headers.get("content-encoding"), Some("UTF-8"));
    assert!(r.headers.contains("set-cookie"));
}

use std::io::Read;
use std::rc::Rc;

use crate::capture::testkit::Pieces;
use crate::capture::Session;

use super::*;

fn read(json: &[u8]) -> Result<Vec<SessionResult>, CaptureErrorKind> {
    map_reader(json, &HarLimits::default(), |r| r)
}

fn read_with(json: &[u8], limits: HarLimits) -> Result<Vec<SessionResult>, CaptureErrorKind> {
    map_reader(json, &limits, |r| r)
}

fn har(entries: &str) -> String {
    format!(r#"{{"log":{{"version":"1.2","creator":{{"name":"t"}},"entries":[{entries}]}}}}"#)
}

const ENTRY: &str = r#"{"startedDateTime":"2024-03-01T10:00:00.000+01:00","time":250,
    "request":{"method":"GET","url":"https://AutoDiscover.contoso.com/autodiscover/autodiscover.json","httpVersion":"HTTP/1.1",
      "headers":[{"name":"Host","value":"autodiscover.contoso.com"},{"name":"Authorization","value":"Bearer"}]},
    "response":{"status":401,"statusText":"Unauthorized","httpVersion":"HTTP/1.1",
      "headers":[{"name":"WWW-Authenticate","value":"Bearer client_id=\"x\""},{"name":"www-authenticate","value":"NTLM"}],
      "content":{"size":5,"mimeType":"text/plain","text":"aGVsbG8=","encoding":"base64"}},
    "serverIPAddress":"[2001:db8::1]","timings":{"blocked":-1,"dns":1,"connect":2,"send":3,"wait":100,"receive":4}}"#;

fn ok(r: &SessionResult) -> &Session {
    match r {
        Ok(s) => s,
        Err(e) => panic!("expected a session, got {e}"),
    }
}

/// What serde_json sees through the guard, and the entries taken out on the way.
fn through_guard(json: &str) -> (String, Vec<String>) {
    let stats = Rc::new(Stats::default());
    let mut guard = Guard::new(json.as_bytes(), &HarLimits::default(), Rc::clone(&stats));
    let (mut seen, mut taken) = (Vec::new(), Vec::new());
    let mut byte = [0u8; 1];
    // One byte per call, as serde_json reads.
    while guard.read(&mut byte).unwrap() == 1 {
        seen.push(byte[0]);
        if let Some(cut) = stats.entry.borrow_mut().take() {
            assert_eq!(json.as_bytes()[cut.start as usize], b'{');
            taken.push(String::from_utf8(cut.bytes).unwrap());
        }
    }
    (String::from_utf8(seen).unwrap(), taken)
}

#[test]
fn the_guard_takes_out_exactly_the_objects_of_log_entries() {
    let json = r#"{"pages":[{"entries":[{"a":1}]}], "log" : {"entries" :[ {"x":"}]{\"","y":[{}]}, null, {} ],"z":{"entries":[{}]}}}"#;
    let (seen, taken) = through_guard(json);
    assert_eq!(
        seen,
        r#"{"pages":[{"entries":[{"a":1}]}], "log" : {"entries" :[ 0, null, 0 ],"z":{"entries":[{}]}}}"#
    );
    assert_eq!(taken, [r#"{"x":"}]{\"","y":[{}]}"#, "{}"]);
    // Not `log.entries` of the top-level object: passed through whole.
    for other in [
        r#"{"\u006cog":{"entries":[{}]}}"#,
        r#"[{"log":{"entries":[{}]}}]"#,
        r#"{"log":{"entries":{"a":{}}}}"#,
        r#"{"x":"log","y":{"entries":[{}]}}"#,
        r#"{"log":[{"entries":[{}]}]}"#,
        r#"{"logs":{"entries":[{}]},"log":{"entry":[{}]}}"#,
    ] {
        assert_eq!(through_guard(other), (other.to_string(), vec![]), "{other}");
    }
}

#[test]
fn entries_taken_out_read_as_before_and_a_broken_one_is_named() {
    // A key spelled with an escape is read by serde_json directly: the same sessions.
    let direct = read(har(ENTRY).replace(r#""log""#, r#""\u006cog""#).as_bytes()).unwrap();
    let taken = read(har(ENTRY).as_bytes()).unwrap();
    assert_eq!(format!("{direct:?}"), format!("{taken:?}"));
    let text = har(&format!(
        r#"{ENTRY},{{"request":{{"method":tru}}}},{ENTRY}"#
    ));
    let out = read(text.as_bytes()).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(ok(&out[2]).id, 3, "reading goes on after the broken entry");
    let e = out[1].as_ref().unwrap_err();
    assert_eq!(e.session, Some(2));
    let at = text.find("tru}").unwrap();
    assert!(
        e.message
            .starts_with(&format!("invalid JSON near byte offset {}", at + 3)),
        "{}",
        e.message
    );
}

#[test]
fn reads_an_entry_into_the_session_model() {
    let out = read(har(ENTRY).as_bytes()).unwrap();
    assert_eq!(out.len(), 1);
    let s = ok(&out[0]);
    assert_eq!(s.id, 1);
    assert_eq!(s.request.method, "GET");
    assert_eq!(s.host().as_deref(), Some("autodiscover.contoso.com"));
    assert_eq!(s.request.headers.len(), 2);
    let resp = s.response.as_ref().unwrap();
    assert_eq!(resp.status, 401);
    assert_eq!(resp.body.raw, b"hello");
    assert!(!resp.body.wire);
    let www: Vec<_> = resp.headers.get_all("WWW-Authenticate").collect();
    assert_eq!(www, vec!["Bearer client_id=\"x\"", "NTLM"]);
    assert_eq!(s.host_ip.as_deref(), Some("2001:db8::1"));
    let begin = s.timers.client_begin_request.unwrap();
    assert_eq!(begin.offset().local_minus_utc(), 3600);
    let done = s.timers.client_done_response.unwrap();
    assert_eq!((done - begin).num_milliseconds(), 250);
    let got = s.timers.server_got_request.unwrap();
    assert_eq!((got - begin).num_milliseconds(), 6);
    assert_eq!(
        (s.timers.server_begin_response.unwrap() - begin).num_milliseconds(),
        106
    );
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert!(!s.flags.aborted);
}

#[test]
fn keys_in_any_order_unknown_fields_and_duplicates() {
    let json = format!(
        r#"{{"x":[1,{{"y":null}}],"log":{{"entries":[{ENTRY},{ENTRY}],"creator":{{"name":"late"}},
           "pages":[],"_custom":{{"deep":[[[]]]}}}},"log2":1}}"#
    );
    let out = read(json.as_bytes()).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(ok(&out[1]).id, 2);

    let dup = r#"{"log":{"entries":[{"request":{"method":"GET","method":"POST","url":"http://a/"},
        "response":{"status":200,"status":204}}]}}"#;
    let out = read(dup.as_bytes()).unwrap();
    let s = ok(&out[0]);
    assert_eq!(s.request.method, "POST");
    assert_eq!(s.status(), Some(204));
}

#[test]
fn http2_pseudo_headers_fold_into_method_and_url() {
    let e = r#"{"request":{"httpVersion":"http/2.0","headers":[
        {"name":":method","value":"POST"},{"name":":authority","value":"login.microsoftonline.com"},
        {"name":":scheme","value":"https"},{"name":":path","value":"/common/oauth2/token"},
        {"name":"content-type","value":"application/x-www-form-urlencoded"}],
        "postData":{"mimeType":"application/x-www-form-urlencoded","params":[
          {"name":"grant_type","value":"refresh_token"},{"name":"resource","value":"https://autodiscover.contoso.com/"}]}},
        "response":{"status":400,"headers":[],"content":{"text":"{}"}}}"#;
    let out = read(har(e).as_bytes()).unwrap();
    let s = ok(&out[0]);
    assert_eq!(s.request.method, "POST");
    assert_eq!(
        s.request.url,
        "https://login.microsoftonline.com/common/oauth2/token"
    );
    assert_eq!(s.request.version, "HTTP/2");
    assert_eq!(s.request.headers.len(), 1, "pseudo-headers are folded");
    assert_eq!(
        String::from_utf8_lossy(&s.request.body.raw),
        "grant_type=refresh_token&resource=https%3A%2F%2Fautodiscover.contoso.com%2F"
    );
    assert_eq!(s.host().as_deref(), Some("login.microsoftonline.com"));
}

#[test]
fn status_zero_missing_response_and_error_are_aborted() {
    let es = [
        r#"{"request":{"method":"GET","url":"http://a/"},"response":{"status":0,"_error":"net::ERR_FAILED"}}"#,
        r#"{"request":{"method":"GET","url":"http://a/"}}"#,
        r#"{"request":{"method":"GET","url":"http://a/"},"response":{"status":200,"_error":"net::ERR_ABORTED"}}"#,
    ]
    .join(",");
    let out = read(har(&es).as_bytes()).unwrap();
    assert!(ok(&out[0]).response.is_none() && ok(&out[0]).flags.aborted);
    assert!(ok(&out[1]).response.is_none() && ok(&out[1]).flags.aborted);
    assert_eq!(ok(&out[2]).status(), Some(200));
    assert!(ok(&out[2]).flags.aborted);
}

#[test]
fn websocket_and_tunnel_flags() {
    let es = [
        r#"{"request":{"method":"GET","url":"https://a/ws"},"response":{"status":101},"_webSocketMessages":[{"type":"send"}]}"#,
        r#"{"request":{"method":"CONNECT","url":"https://outlook.office365.com:443"},"response":{"status":200}}"#,
    ]
    .join(",");
    let out = read(har(&es).as_bytes()).unwrap();
    assert!(ok(&out[0]).flags.websocket);
    let t = ok(&out[1]);
    assert!(t.flags.tunnel);
    assert_eq!(t.request.url, "outlook.office365.com:443");
    assert_eq!(t.host().as_deref(), Some("outlook.office365.com"));
}

#[test]
fn wrong_types_are_problems_not_failures() {
    let e = r#"{"time":"12.5","request":{"method":7,"url":"http://a/","headers":[["x"],{"name":"A","value":5},"s"]},
        "response":{"status":"302","statusText":false,"headers":{"a":1},"content":{"text":"!!","encoding":"base64"}}}"#;
    let out = read(har(e).as_bytes()).unwrap();
    let s = ok(&out[0]);
    assert_eq!(s.request.method, "7");
    assert_eq!(s.request.headers.get("a"), Some("5"));
    assert_eq!(s.status(), Some(302));
    let p = s.problems.join("\n");
    for want in [
        "request.method: expected string, found number",
        "request.headers[0]: expected object, found array",
        "request.headers[2]: expected object, found string",
        "response.status: expected number, found string",
        "response.headers: expected array, found object",
        "response body: invalid base64",
    ] {
        assert!(p.contains(want), "missing {want:?} in {p}");
    }
    assert!(s.response.as_ref().unwrap().body.raw.is_empty());
}

#[test]
fn broken_entries_are_errors_and_reading_goes_on() {
    let es = format!(r#"{ENTRY},42,{{"response":{{"status":200}}}},null,{ENTRY}"#);
    let out = read(har(&es).as_bytes()).unwrap();
    assert_eq!(out.len(), 5);
    assert!(out[0].is_ok() && out[4].is_ok());
    assert_eq!(ok(&out[4]).id, 5);
    for (i, want) in [(1, "not an object"), (2, "no request"), (3, "null")] {
        let e = out[i].as_ref().unwrap_err();
        assert_eq!(e.session, Some(i as u64 + 1));
        assert!(e.message.contains(want), "{}", e.message);
    }
}

#[test]
fn not_a_har_is_a_capture_error() {
    for (json, want) in [
        (&b"{}"[..], "no log object"),
        (b"[]", "no log object: the file holds a JSON array"),
        (
            b"{\"test_response\":{\"log\":{\"entries\":[]}}}",
            "no log object",
        ),
        (b"{\"log\":[2,1,3]}", "no log object: `log` is a JSON array"),
        (b"{\"log\":{\"version\":\"1.2\"}}", "no log.entries array"),
        (b"{\"log\":{\"entries\":{}}}", "`entries` is a JSON object"),
        (b"{\"log\": [ 2,1,3 ] \"request:\"}", "invalid JSON"),
        (b"", "capture ends early"),
    ] {
        match read(json) {
            Err(CaptureErrorKind::Har(m)) => assert!(m.contains(want), "{m} !~ {want}"),
            other => panic!(
                "{:?}: {:?}",
                String::from_utf8_lossy(json),
                other.map(|v| v.len())
            ),
        }
    }
    assert!(read(b"{\"log\":{\"entries\":[]}}").unwrap().is_empty());
}

#[test]
fn truncation_returns_what_was_read_and_names_the_next_entry() {
    let full = har(&[ENTRY, ENTRY, ENTRY].join(","));
    let cut = &full.as_bytes()[..full.len() * 3 / 4];
    let out = read(cut).unwrap();
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[1].is_ok());
    let e = out[2].as_ref().unwrap_err();
    assert_eq!(e.session, Some(3));
    assert!(e.message.starts_with("capture ends early"), "{}", e.message);
}

#[test]
fn invalid_utf8_names_entry_and_offset() {
    let mut bytes = har(&format!("{ENTRY},{ENTRY}")).into_bytes();
    let pos = bytes.len() - 40;
    let at = bytes[..pos].iter().rposition(|&b| b == b'"').unwrap() - 1;
    bytes[at] = 0xff;
    let out = read(&bytes).unwrap();
    let e = out.last().unwrap().as_ref().unwrap_err();
    assert_eq!(e.session, Some(2));
    assert!(e.message.contains("byte offset"), "{}", e.message);
}

#[test]
fn deep_nesting_is_a_clean_error_anywhere() {
    let deep = "[".repeat(100_000);
    for json in [
        deep.clone(),
        format!(r#"{{"x":{deep}"#),
        har(&format!(r#"{ENTRY},{{"request":{{"x":{deep}"#)),
    ] {
        match read(json.as_bytes()) {
            Err(CaptureErrorKind::Har(m)) => assert!(m.contains("nested deeper"), "{m}"),
            Ok(v) => {
                let e = v.last().unwrap().as_ref().unwrap_err();
                assert!(e.message.contains("nested deeper"), "{}", e.message);
                assert_eq!(e.session, Some(2));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn overlong_strings_are_cut_and_reported() {
    let limits = HarLimits {
        max_string: 1000,
        ..HarLimits::default()
    };
    let big = "é".repeat(5000);
    let b64 = "QUJD".repeat(1000);
    let es = format!(
        r#"{{"request":{{"method":"GET","url":"http://a/","x":"{big}"}},"response":{{"status":200,"content":{{"text":"{b64}","encoding":"base64"}}}}}},
           {{"request":{{"method":"GET","url":"http://a/{big}\"\\u00e9"}}}},{ENTRY}"#
    );
    let out = read_with(har(&es).as_bytes(), limits).unwrap();
    assert_eq!(out.len(), 3);
    let s = ok(&out[0]);
    let body = &s.response.as_ref().unwrap().body;
    assert!(body.truncated);
    assert_eq!(body.raw.len(), 750);
    assert!(body.raw.iter().all(|b| b"ABC".contains(b)));
    assert!(s.problems.iter().any(|p| p.contains("were cut")));
    assert!(ok(&out[1]).request.url.len() <= 1004);
    assert!(ok(&out[2]).problems.is_empty());
}

#[test]
fn a_string_of_escapes_only_that_cannot_be_cut_is_a_clean_error() {
    let limits = HarLimits {
        max_string: 16,
        ..HarLimits::default()
    };
    let escapes = "\\u0041".repeat(300_000);
    let json = har(&format!(r#"{ENTRY},{{"request":{{"url":"{escapes}"}}}}"#));
    let out = read_with(json.as_bytes(), limits).unwrap();
    assert_eq!(out.len(), 2);
    let e = out[1].as_ref().unwrap_err();
    assert_eq!(e.session, Some(2));
    assert!(e.message.contains("cannot be cut safely"), "{}", e.message);
}

#[test]
fn bom_gzip_and_zlib_are_read() {
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;
    let json = har(ENTRY);
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(json.as_bytes());
    assert_eq!(read(&bom).unwrap().len(), 1);
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&bom).unwrap();
    assert_eq!(read(&gz.finish().unwrap()).unwrap().len(), 1);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(json.as_bytes()).unwrap();
    let z = z.finish().unwrap();
    assert!(ok(&read(&z).unwrap()[0]).response.is_some());
    // A corrupt deflate stream is a clean error.
    let mut bad = z.clone();
    let n = bad.len();
    bad[10..n - 4].iter_mut().for_each(|b| *b ^= 0x5a);
    assert!(read(&bad).is_err() || read(&bad).unwrap().last().unwrap().is_err());
}

#[test]
fn many_entries_come_back_in_order_across_batches() {
    let limits = HarLimits {
        batch_entries: 7,
        ..HarLimits::default()
    };
    let es = vec![ENTRY; 100].join(",");
    let out = read_with(har(&es).as_bytes(), limits).unwrap();
    let ids: Vec<u64> = out.iter().map(|r| ok(r).id).collect();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
}

#[test]
fn messages_never_quote_content() {
    let secret = "eyJSECRETSECRET";
    let es = format!(
        r#"{{"request":{{"method":"GET","url":"http://a/","headers":[{{"name":"Authorization","value":["{secret}"]}}]}},
           "response":{{"status":"{secret}","content":{{"text":"{secret}!","encoding":"base64"}}}}}},{{"request":{{"url":"{secret}"#
    );
    let out = read(har(&es).as_bytes()).unwrap();
    for r in &out {
        let text = match r {
            Ok(s) => s.problems.join("|"),
            Err(e) => e.to_string(),
        };
        assert!(!text.contains("SECRET"), "{text}");
    }
}

#[test]
fn version_normalisation() {
    assert_eq!(normalize_version("http/2.0".into()), "HTTP/2");
    assert_eq!(normalize_version("h3".into()), "HTTP/3");
    assert_eq!(normalize_version("http/1.1".into()), "HTTP/1.1");
    assert_eq!(normalize_version("HTTP/1.0".into()), "HTTP/1.0");
    assert_eq!(normalize_version("".into()), "");
}

mod props {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    /// Any JSON value, strings with quotes, escapes and non-ASCII included.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            // `\u{1}` is written as `\u0001`: a six-byte escape.
            r#"[a-zA-Z0-9 "\\/é€\n\t\u{1}{}\[\]:,]{0,40}"#.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("[a-z]{1,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// An entry with HAR's fields holding any JSON, or any JSON at all.
    fn entry_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            3 => (any_json(), any_json(), any_json(), any_json(), any_json()).prop_map(
                |(method, url, headers, response, started)| json!({
                    "startedDateTime": started,
                    "request": {"method": method, "url": url, "headers": headers},
                    "response": response,
                })
            ),
            1 => any_json(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read(&bytes);
        }

        #[test]
        fn json_ish_text_never_panics(text in r#"[\[\]{}":,0-9a-z\\ .eE+-]{0,300}"#) {
            let _ = read(text.as_bytes());
            let _ = read(format!(r#"{{"log":{{"entries":[{text}"#).as_bytes());
        }

        /// A HAR rewritten with a scrubber that changes nothing reads back to the same
        /// sessions (and is the same bytes), but for an entry that is an array: it is
        /// written as `null` (its text never copied), unreadable in both.
        #[test]
        fn identity_rewrite_reads_back_the_same(
            entries in proptest::collection::vec(entry_value(), 0..5),
            batch_entries in 1usize..4,
        ) {
            let list = entries.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(",\n");
            let text = har(&list);
            let limits = HarLimits { batch_entries, ..HarLimits::default() };
            let mut out = Vec::new();
            let r = super::super::rewrite_reader(
                text.as_bytes(),
                &limits,
                &mut out,
                &mut crate::capture::rewrite::Identity,
            )
            .unwrap();
            let want = entries
                .iter()
                .map(|e| if e.is_array() { "null".to_string() } else { e.to_string() })
                .collect::<Vec<_>>()
                .join(",\n");
            let want = har(&want);
            prop_assert_eq!(r.entries, entries.iter().filter(|e| e.is_object()).count());
            prop_assert_eq!(r.notes.len(), entries.iter().filter(|e| e.is_array()).count());
            prop_assert_eq!(&out[..out.len() - 1], want.as_bytes());
            let a = read_with(text.as_bytes(), limits);
            let b = read_with(&out, limits);
            if entries.iter().any(Value::is_array) {
                // The same sessions; the array entries unreadable in both.
                let ok = |v: &Result<Vec<SessionResult>, CaptureErrorKind>| -> Vec<Option<String>> {
                    v.as_ref().map(|s| s.iter().map(|r| r.as_ref().ok().map(|s| format!("{s:?}"))).collect()).unwrap_or_default()
                };
                prop_assert_eq!(ok(&a), ok(&b));
            } else {
                prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
            }
        }

        /// Entries the guard takes out read exactly as serde_json reads them in the
        /// stream (a `log` key spelled with an escape keeps them in it), cut strings
        /// included.
        #[test]
        fn taking_entries_out_changes_nothing(
            entries in proptest::collection::vec(entry_value(), 0..4),
            max_string in proptest::sample::select(vec![16u64, 1 << 20]),
            split in 0usize..7,
        ) {
            let list = entries.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(",");
            let taken = har(&list);
            let direct = taken.replacen(r#""log""#, r#""\u006cog""#, 1);
            let limits = HarLimits { max_string, batch_entries: 2, ..HarLimits::default() };
            let a = format!("{:?}", read_with(taken.as_bytes(), limits));
            let b = format!("{:?}", read_with(direct.as_bytes(), limits));
            prop_assert_eq!(&a, &b);
            // Read a few bytes at a time, an escape, a string or an entry can be split
            // at any byte by the end of the guard's buffer.
            let trickled = map_reader(Pieces::new(taken.as_bytes(), &[1 + split % 7]), &limits, |r| r);
            prop_assert_eq!(format!("{:?}", trickled), a);
        }

        /// An entry's text parsed as a `&str` after one UTF-8 check reads exactly as parsed
        /// from bytes, string by string checked: the same entry, or the same error at the
        /// same place (bytes that are not UTF-8, lone surrogates, bad escapes, control
        /// characters anywhere).
        #[test]
        fn parsing_an_entry_as_str_is_parsing_its_bytes(
            entry in entry_value(),
            at in 0usize..400,
            with in proptest::sample::select(vec![
                &b"\xff"[..], b"\xc3", "é".as_bytes(), b"\\ud800", b"\\udc00x", b"\\ud83d\\ude00",
                b"\\q", b"\x01", b"\"", b"\\", b"",
            ]),
        ) {
            let mut bytes = entry.to_string().into_bytes();
            let at = at.min(bytes.len());
            bytes.splice(at..at, with.iter().copied());
            let as_str = format!("{:?}", parse_entry(&bytes).map_err(|e| e.to_string()));
            let as_bytes = format!(
                "{:?}",
                serde_json::from_slice::<Field<RawEntry>>(&bytes).map_err(|e| e.to_string())
            );
            prop_assert_eq!(as_str, as_bytes);
        }

        /// The eight-at-a-time search finds what a plain search finds.
        #[test]
        fn find_quote_or_backslash_is_a_plain_search(
            bytes in proptest::collection::vec(
                prop_oneof![8 => any::<u8>(), 1 => Just(b'"'), 1 => Just(b'\\')],
                0..200,
            ),
            from in 0usize..200,
        ) {
            let bytes = &bytes[from.min(bytes.len())..];
            let plain = bytes.iter().position(|&b| b == b'"' || b == b'\\');
            prop_assert_eq!(find_quote_or_backslash(bytes), plain);
        }

        #[test]
        fn mutated_entries_never_panic(
            at in 0usize..2000,
            with in proptest::sample::select(vec![b'"', b'{', b'[', b']', b'}', b',', b'1', b'\\', 0xff, b'n']),
            cut in 0usize..2000,
        ) {
            let mut bytes = har(&format!("{ENTRY},{ENTRY}")).into_bytes();
            let at = at % bytes.len();
            bytes[at] = with;
            bytes.truncate(bytes.len() - cut % bytes.len());
            let limits = HarLimits { max_string: 16, batch_entries: 1, ..HarLimits::default() };
            let _ = read_with(&bytes, limits);
        }
    }
}

/// A base64 body cut by `max_string` inside a multi-byte character is invalid base64, not a
/// panic (slicing it to whole base64 quanta went inside the character).
#[test]
fn a_cut_base64_body_with_non_ascii_text_is_a_problem_not_a_panic() {
    let e = r#"{"request":{"method":"GET","url":"https://a/"},
        "response":{"status":200,"content":{"text":">=/o/ </i😀abc","encoding":"base64"}}}"#;
    let limits = HarLimits {
        max_string: 12,
        ..HarLimits::default()
    };
    let out = read_with(har(e).as_bytes(), limits).unwrap();
    let s = ok(&out[0]);
    let body = &s.response.as_ref().unwrap().body;
    assert!(body.truncated && body.raw.is_empty(), "{body:?}");
    assert!(
        s.problems
            .iter()
            .any(|p| p == "response body: invalid base64"),
        "{:?}",
        s.problems
    );
}

/// A header list read into [`Headers`] directly ([`RawHeaders`]) gives what reading it as a
/// list of `Field<RawHeader>`s (every name and value a `String`) and the `headers_of` of then
/// gave: the same headers, pseudo-headers and problems in the same order, from a `&str`
/// (strings borrowed), bytes or a stream (strings copied out of serde_json's scratch).
mod header_lists {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::capture::Headers;

    /// `headers_of` as it was over `List<RawHeader>`.
    fn reference(
        list: Field<List<RawHeader>>,
        path: &str,
        pseudo: &mut Pseudo,
        problems: &mut Vec<String>,
    ) -> Headers {
        let Some(list) = list.take(path, problems) else {
            return Headers::new();
        };
        let mut headers = Vec::new();
        if list.dropped > 0 {
            problems.push(dropped_headers(path, list.dropped));
        }
        for (i, item) in list.items.into_iter().enumerate() {
            let item_path = || format!("{path}[{i}]");
            let Some(h) = item.take_at(item_path, problems) else {
                continue;
            };
            let name = h.name.take_at(|| format!("{}.name", item_path()), problems);
            let value = h
                .value
                .take_at(|| format!("{}.value", item_path()), problems)
                .unwrap_or_default();
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                problems.push(format!("{}: header without a name", item_path()));
                continue;
            };
            if !name.starts_with(':') {
                headers.push((name, value));
                continue;
            }
            if let Some(slot) = pseudo.slot(&name) {
                slot.get_or_insert(value);
            }
        }
        headers.into_iter().collect()
    }

    type Read = (Headers, [Option<String>; 5], Vec<String>);

    fn outcome(headers: Headers, p: Pseudo, problems: Vec<String>) -> Read {
        (
            headers,
            [p.method, p.scheme, p.authority, p.path, p.status],
            problems,
        )
    }

    fn old_way(json: &str) -> Read {
        let list: Field<List<RawHeader>> = serde_json::from_str(json).unwrap();
        let (mut pseudo, mut problems) = (Pseudo::default(), Vec::new());
        let h = reference(list, "request.headers", &mut pseudo, &mut problems);
        outcome(h, pseudo, problems)
    }

    fn new_way(list: Field<RawHeaders>) -> Read {
        let (mut pseudo, mut problems) = (Pseudo::default(), Vec::new());
        let h = headers_of(list, "request.headers", &mut pseudo, &mut problems);
        outcome(h, pseudo, problems)
    }

    fn check(json: &str) {
        let want = old_way(json);
        assert_eq!(new_way(serde_json::from_str(json).unwrap()), want, "{json}");
        assert_eq!(
            new_way(serde_json::from_slice(json.as_bytes()).unwrap()),
            want,
            "{json}"
        );
        assert_eq!(
            new_way(serde_json::from_reader(json.as_bytes()).unwrap()),
            want,
            "{json}"
        );
    }

    #[test]
    fn every_kind_of_item_reads_as_before() {
        check(
            r#"[{"name":"Host","value":"a"},null,7,"s",true,[1,{}],{},{"name":""},
            {"name":null,"value":"v"},{"name":5,"value":false},{"name":"X","value":{"a":1}},
            {"name":"X","value":[1]},{"name":[1],"value":"v"},{"name":{"a":1}},
            {"name":"A\"\\u00e9\n","value":"\ud83d\ude00 \t"},{"name":"B","name":"C","value":"1","value":2},
            {"name":":Authority","value":"h:1"},{"name":":authority","value":"second"},
            {"name":":path"},{"name":":other","value":"x"},{"name":":status","value":" 204"},
            {"value":"no name","extra":[1,2,{"name":"in extra"}]},{"name":"Last","value":1.5e3}]"#,
        );
        check("[]");
        check("{}");
        // Past the cap: the rest read as before (the same errors), counted and dropped.
        let mut long = vec![r#"{"name":"a","value":"b"}"#; MAX_LIST - 1];
        long.extend([r#"{"name":":path","value":"/"}"#, "7", r#"{"name":5}"#]);
        check(&format!("[{}]", long.join(",")));
        check("\"headers\"");
        check("null");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-zA-Z:é\"\\\\\n -]{0,8}".prop_map(Value::from),
            prop::sample::select(vec![
                ":method",
                ":Scheme",
                ":authority",
                ":path",
                ":status",
                ":x",
                "Host",
                ""
            ])
            .prop_map(Value::from),
            Just(json!([1, "a", {"name": "n"}])),
            Just(json!({"name": "n", "value": "v"})),
        ]
    }

    /// An item: mostly objects of `name` and `value` (some repeated, other keys beside).
    fn item() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec!["name", "value", "name", "value", "other"]);
        prop_oneof![
            1 => json_value().prop_map(|v| v.to_string()),
            4 => prop::collection::vec((key, json_value()), 0..4).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_header_list_reads_as_before(items in prop::collection::vec(item(), 0..12)) {
            check(&format!("[{}]", items.join(",")));
        }
    }
}

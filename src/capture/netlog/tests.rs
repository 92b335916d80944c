//! The reader on hand-written logs: sessions, restarts, bodies, stripped credentials, cuts,
//! and hostile input (a property test: any bytes, no panic).

use super::*;
use crate::capture::{DecodeLimits, Session};

const CONSTANTS: &str = r#"{"logEventTypes":{"REQUEST_ALIVE":1,"URL_REQUEST_START_JOB":2,"HTTP_TRANSACTION_SEND_REQUEST_HEADERS":3,"HTTP_TRANSACTION_READ_RESPONSE_HEADERS":4,"URL_REQUEST_JOB_FILTERED_BYTES_READ":5,"HTTP_STREAM_REQUEST_BOUND_TO_JOB":6,"SOCKET_IN_USE":7,"SSL_SOCKET_BYTES_SENT":8,"HTTP_TRANSACTION_HTTP2_SEND_REQUEST_HEADERS":9,"SSL_CONNECT":10},"logSourceType":{"URL_REQUEST":1,"SOCKET":2},"logEventPhase":{"PHASE_BEGIN":1,"PHASE_END":2,"PHASE_NONE":0},"timeTickOffset":"1764806400000","logCaptureMode":"MODE","clientInfo":{"command_line":"msedgewebview2.exe --embedded-browser-webview=1 --webview-exe-name=ms-teams.exe --x"}}"#;

fn log(mode: &str, events: &[String], end: bool) -> Vec<u8> {
    let mut s = format!(
        "{{\"constants\":{},\n\"events\": [\n",
        CONSTANTS.replace("MODE", mode)
    );
    s.push_str(&events.join(",\n"));
    if end {
        s.push_str("\n],\n\"polledData\": {}}\n");
    } else {
        s.push_str(",\n{\"source\":{\"id\":9,\"ty");
    }
    s.into_bytes()
}

fn ev(ty: u32, src: u64, src_ty: u32, phase: u32, time: u64, params: &str) -> String {
    format!(
        r#"{{"type":{ty},"source":{{"id":{src},"type":{src_ty}}},"phase":{phase},"time":"{time}","params":{params}}}"#
    )
}

/// A request's `REQUEST_ALIVE` and `URL_REQUEST_START_JOB`, both beginning at `time`.
fn start(src: u64, time: u64, url: &str, method: &str) -> [String; 2] {
    [
        ev(1, src, 1, 1, time, &format!(r#"{{"url":"{url}"}}"#)),
        ev(
            2,
            src,
            1,
            1,
            time,
            &format!(r#"{{"url":"{url}","method":"{method}"}}"#),
        ),
    ]
}

fn read(bytes: &[u8]) -> (Vec<Session>, Vec<String>) {
    let mut sessions = Vec::new();
    let mut problems = Vec::new();
    map_reader_into(
        bytes,
        &ReadOptions::default(),
        |r| r,
        |r| match r {
            Ok(s) => sessions.push(s),
            Err(e) => problems.push(e.message),
        },
    )
    .unwrap();
    (sessions, problems)
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Autodiscover answers 401, the job restarts with a token; then a token POST (body from the
/// socket) answered with AADSTS500011 JSON.
fn exchange(mode: &str, bytes: bool) -> Vec<u8> {
    let body = r#"{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant."}"#;
    let form = "grant_type=refresh_token&resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&refresh_token=fake";
    let (auth, cookie) = if mode == "Default" {
        ("[1234 bytes were stripped]", "[20 bytes were stripped]")
    } else {
        ("Bearer eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.sig", "x=1")
    };
    let bytes_param = |s: &str| {
        if bytes {
            format!(r#"{{"byte_count":{},"bytes":"{}"}}"#, s.len(), b64(s))
        } else {
            format!(r#"{{"byte_count":{}}}"#, s.len())
        }
    };
    let url = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    let token = "https://login.microsoftonline.com/common/oauth2/token";
    let mut e = start(5, 100, url, "GET").to_vec();
    e.extend([
        ev(
            3,
            5,
            1,
            0,
            101,
            r#"{"line":"GET /autodiscover/autodiscover.xml HTTP/1.1\r\n","headers":["Host: autodiscover.contoso.com","Accept: */*"]}"#,
        ),
        ev(
            4,
            5,
            1,
            0,
            120,
            r#"{"headers":["HTTP/1.1 401 Unauthorized","WWW-Authenticate: Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@9188040d-6c67-4c5b-b112-36a304b66dad\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"","Content-Length: 0"]}"#,
        ),
        ev(
            3,
            5,
            1,
            0,
            130,
            &format!(
                r#"{{"headers":["Host: autodiscover.contoso.com","Authorization: {auth}","Cookie: {cookie}"]}}"#
            ),
        ),
        ev(
            4,
            5,
            1,
            0,
            140,
            r#"{"headers":["HTTP/1.1 401 Unauthorized","Content-Length: 0"]}"#,
        ),
        ev(1, 5, 1, 2, 141, "{}"),
    ]);
    e.extend(start(6, 200, token, "POST"));
    e.extend([
        ev(
            6,
            6,
            1,
            0,
            201,
            r#"{"source_dependency":{"id":40,"type":17}}"#,
        ),
        ev(10, 42, 2, 1, 201, "{}"),
        ev(
            7,
            42,
            2,
            1,
            202,
            r#"{"source_dependency":{"id":40,"type":17}}"#,
        ),
        ev(
            3,
            6,
            1,
            0,
            203,
            &format!(
                r#"{{"headers":["Host: login.microsoftonline.com","Content-Type: application/x-www-form-urlencoded","Content-Length: {}"]}}"#,
                form.len()
            ),
        ),
    ]);
    if bytes {
        let sent = format!(
            "POST /common/oauth2/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n{form}"
        );
        e.push(ev(
            8,
            42,
            2,
            0,
            203,
            &format!(
                r#"{{"byte_count":{},"bytes":"{}"}}"#,
                sent.len(),
                b64(&sent)
            ),
        ));
    }
    e.extend([
        ev(4, 6, 1, 0, 250, &format!(r#"{{"headers":["HTTP/1.1 400 Bad Request","Content-Type: application/json; charset=utf-8","Content-Length: {}"]}}"#, body.len())),
        ev(5, 6, 1, 0, 251, &bytes_param(body)),
        ev(7, 42, 2, 2, 252, "{}"),
        ev(1, 6, 1, 2, 252, "{}"),
    ]);
    log(mode, &e, true)
}

#[test]
fn sessions_come_from_each_request_hop_with_heads_bodies_and_times() {
    let (s, problems) = read(&exchange("Everything", true));
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(s.len(), 3);
    assert_eq!(
        s.iter()
            .map(|s| (s.id, s.request.method.as_str(), s.status()))
            .collect::<Vec<_>>(),
        vec![
            (1, "GET", Some(401)),
            (2, "GET", Some(401)),
            (3, "POST", Some(400))
        ]
    );
    assert_eq!(s[0].request.version, "HTTP/1.1");
    assert!(s[0]
        .response
        .as_ref()
        .unwrap()
        .headers
        .get("www-authenticate")
        .is_some());
    assert!(s[1]
        .request
        .headers
        .get("authorization")
        .unwrap()
        .starts_with("Bearer "));
    assert_eq!(s[0].process.as_deref(), Some("ms-teams"));
    let t = s[0].timers.client_begin_request.unwrap();
    assert_eq!(t.to_rfc3339(), "2025-12-04T00:00:00.101+00:00");
    let limits = DecodeLimits::default();
    let form = String::from_utf8(s[2].request.decoded_body(&limits).unwrap()).unwrap();
    assert!(
        form.starts_with("grant_type=refresh_token&resource="),
        "{form}"
    );
    let answer = s[2]
        .response
        .as_ref()
        .unwrap()
        .decoded_body(&limits)
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).contains("AADSTS500011"));
    assert!(!s
        .iter()
        .any(|s| s.flags.body_unrecorded || s.flags.credentials_stripped));
}

#[test]
fn the_default_mode_flags_stripped_credentials_and_unlogged_bodies() {
    let (s, problems) = read(&exchange("Default", false));
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(s.len(), 3);
    assert_eq!(
        s[1].request.headers.get("authorization"),
        Some("[1234 bytes were stripped]")
    );
    assert!(s[1].flags.credentials_stripped);
    assert!(!s[0].flags.credentials_stripped);
    // The token request's form and Entra's answer went over the wire, unlogged.
    assert!(s[2].flags.body_unrecorded);
    assert!(s[2].request.body.is_empty());
    assert!(
        !s[0].flags.body_unrecorded,
        "a 401 without a body lost nothing"
    );
}

#[test]
fn a_cut_log_is_read_up_to_the_cut_with_a_problem() {
    let full = exchange("Everything", true);
    let text = String::from_utf8(full).unwrap();
    // Cut inside the POST's answer bytes event.
    let at = text.rfind("\"byte_count\":").unwrap() + 5;
    let (s, problems) = read(&text.as_bytes()[..at]);
    assert_eq!(s.len(), 3, "the open request is kept as it stands");
    assert_eq!(s[2].status(), Some(400));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("the NetLog is cut short at byte"),
        "{}",
        problems[0]
    );
    // The usual cut: the last event line half written, no closing brackets.
    let events = vec![ev(1, 5, 1, 1, 1, r#"{"url":"https://x/"}"#)];
    let (s, problems) = read(&log("Everything", &events, false));
    assert!(s.is_empty());
    assert_eq!(problems.len(), 1);
}

#[test]
fn http2_pseudo_headers_give_method_and_url() {
    let events = vec![
        ev(1, 5, 1, 1, 1, "{}"),
        ev(
            9,
            5,
            1,
            0,
            2,
            r#"{"headers":[":method: POST",":authority: login.microsoftonline.com",":scheme: https",":path: /common/oauth2/token","content-type: application/x-www-form-urlencoded"]}"#,
        ),
        ev(
            4,
            5,
            1,
            0,
            3,
            r#"{"headers":["HTTP/1.1 200","content-type: application/json"]}"#,
        ),
        ev(1, 5, 1, 2, 4, "{}"),
    ];
    let (s, problems) = read(&log("IncludeSensitive", &events, true));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].request.method, "POST");
    assert_eq!(
        s[0].request.url,
        "https://login.microsoftonline.com/common/oauth2/token"
    );
    assert_eq!(s[0].request.version, "HTTP/2");
    assert!(s[0].request.headers.get(":path").is_none());
}

#[test]
fn not_a_netlog_is_an_error_and_hostile_events_are_problems() {
    let err = |b: &[u8]| map_reader_into(b, &ReadOptions::default(), |r| r, |_| ()).is_err();
    assert!(err(b"[1,2]"));
    assert!(err(b""));
    assert!(err(b"{}"));
    let events = vec![
        "{\"type\":1}".to_string(),
        "{\"type\":\"REQUEST_ALIVE\",\"source\":{\"id\":1,\"type\":\"URL_REQUEST\"},\"phase\":\"PHASE_BEGIN\",\"time\":\"x\"}".into(),
        "{\"type\":2,\"source\":{\"id\":1,\"type\":1},\"phase\":1,\"params\":{\"url\":7,\"method\":[]}}".into(),
        "{\"type\":4,\"source\":{\"id\":1,\"type\":1},\"phase\":0,\"params\":{\"headers\":[\"HTTP/1.1 9999 x\",\":\",\"x\",5]}}".into(),
    ];
    let (s, problems) = read(&log("Everything", &events, true));
    assert!(s.is_empty());
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn sniffing() {
    assert!(sniff(b"\xef\xbb\xbf {\n \"constants\": {"));
    assert!(sniff(b"{\"x\":1,\"logEventTypes\":{"));
    assert!(!sniff(b"{\"log\":{\"entries\":[]}}"));
    assert!(!sniff(b"[\"constants\"]"));
    assert!(sniff_strict(b"{\"constants\":{}}").is_ok());
    assert!(sniff_strict(b"{\"events\":[]}").is_err());
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any bytes after a NetLog's head: no panic, whatever is read.
        #[test]
        fn any_tail_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..2048), cut in 0usize..4000) {
            let mut bytes = exchange("Everything", true);
            bytes.truncate(cut.min(bytes.len()));
            bytes.extend_from_slice(&tail);
            let _ = map_reader_into(&bytes[..], &ReadOptions::default(), |r| r, |_| ());
        }

        /// Events of the right shape with any values: no panic.
        #[test]
        fn any_event_values_never_panic(
            ty in 0u32..12, src in 0u64..4, st in 0u32..3, ph in 0u32..3,
            time in any::<i64>(), params in "[ -~]{0,80}",
        ) {
            let params = serde_json::to_string(&params).unwrap();
            let e = format!(r#"{{"type":{ty},"source":{{"id":{src},"type":{st}}},"phase":{ph},"time":"{time}","params":{{"headers":[{params}],"url":{params},"bytes":{params},"byte_count":5,"line":{params}}}}}"#);
            let events = vec![e.clone(), e.clone(), e];
            let _ = map_reader_into(&log("Everything", &events, true)[..], &ReadOptions::default(), |r| r, |_| ());
        }
    }
}

/// A request that stays open the whole log (a long poll) does not hold every later session
/// in memory: past the cap they are handed over, and the open one comes after them.
#[test]
fn a_request_open_all_along_holds_back_a_bounded_number() {
    let mut events = vec![
        ev(
            2,
            1,
            1,
            1,
            1,
            r#"{"url":"https://outlook.office.com/poll","method":"GET"}"#,
        ),
        ev(3, 1, 1, 0, 1, r#"{"headers":["Host: outlook.office.com"]}"#),
    ];
    for i in 0..3000u64 {
        let src = 10 + i;
        events.push(ev(
            2,
            src,
            1,
            1,
            2,
            r#"{"url":"https://mail.contoso.com/c","method":"GET"}"#,
        ));
        events.push(ev(
            3,
            src,
            1,
            0,
            2,
            r#"{"headers":["Host: mail.contoso.com"]}"#,
        ));
        events.push(ev(4, src, 1, 0, 2, r#"{"headers":["HTTP/1.1 200 OK"]}"#));
        events.push(ev(1, src, 1, 2, 2, "{}"));
    }
    let mut order = Vec::new();
    map_reader_into(
        &log("Everything", &events, true)[..],
        &ReadOptions::default(),
        |r| r.map(|s| s.id),
        |r| order.extend(r.ok()),
    )
    .unwrap();
    assert_eq!(order.len(), 3001);
    let at = order.iter().position(|&id| id == 1).unwrap();
    assert!(
        at > 1000,
        "sessions were handed over before the open one ended: {at}"
    );
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=3001).collect::<Vec<_>>());
}

/// Requests that overlap are numbered by when they sent their heads and handed over in
/// that order, whichever ends first.
#[test]
fn overlapping_requests_keep_their_order() {
    let head = |src: u64, t: u64| ev(3, src, 1, 0, t, r#"{"headers":["Host: mail.contoso.com"]}"#);
    let answer = |src: u64, t: u64| ev(4, src, 1, 0, t, r#"{"headers":["HTTP/1.1 200 OK"]}"#);
    let mut events = Vec::new();
    for (a, b) in [(10u64, 11u64), (12, 13)] {
        events.push(ev(
            2,
            a,
            1,
            1,
            1,
            r#"{"url":"https://mail.contoso.com/a","method":"GET"}"#,
        ));
        events.push(head(a, 2));
        events.push(ev(
            2,
            b,
            1,
            1,
            3,
            r#"{"url":"https://mail.contoso.com/b","method":"GET"}"#,
        ));
        events.push(head(b, 4));
        events.push(answer(b, 5));
        events.push(ev(1, b, 1, 2, 6, "{}"));
        events.push(answer(a, 7));
        events.push(ev(1, a, 1, 2, 8, "{}"));
    }
    // Many more, so that sessions are handed over while the log is read.
    for i in 0..600u64 {
        let src = 100 + i;
        events.push(ev(
            2,
            src,
            1,
            1,
            9,
            r#"{"url":"https://mail.contoso.com/c","method":"GET"}"#,
        ));
        events.push(head(src, 9));
        events.push(answer(src, 9));
        events.push(ev(1, src, 1, 2, 9, "{}"));
    }
    let (s, problems) = read(&log("Everything", &events, true));
    assert!(problems.is_empty(), "{problems:?}");
    let ids: Vec<u64> = s.iter().map(|s| s.id).collect();
    assert_eq!(ids, (1..=604).collect::<Vec<_>>());
    let urls: Vec<&str> = s[..4].iter().map(|s| s.request.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "https://mail.contoso.com/a",
            "https://mail.contoso.com/b",
            "https://mail.contoso.com/a",
            "https://mail.contoso.com/b"
        ]
    );
}

//! Bodies read out of band ([`super::bodies`]) give what reading them in band gives: the
//! same sessions (every field, body bytes, problems), the same errors and the same rewritten
//! bytes, on entries with bodies holding every kind of escape, surrogates paired and lone,
//! control characters, invalid UTF-8, duplicate and escaped keys, bodies around
//! `max_string`, all read in pieces of random sizes.

use std::io::Read;
use std::rc::Rc;

use proptest::prelude::*;

use super::*;
use crate::capture::rewrite::Identity;
use crate::capture::testkit::Pieces;

/// Every session or error, and every rewritten byte, of `text`, read on this thread.
pub(super) fn read_here(text: &[u8], sizes: &[usize], limits: &HarLimits) -> (String, String) {
    lex_on_this_thread(|| {
        let pieces = || Pieces::new(text, sizes);
        let read = map_reader(pieces(), limits, |r| r);
        let mut out = Vec::new();
        let rewritten = rewrite_reader(pieces(), limits, &mut out, &mut Identity);
        (
            format!("{read:?}"),
            format!("{rewritten:?} {}", String::from_utf8_lossy(&out)),
        )
    })
}

/// The entries the guard takes out of `text`, with the bodies it notes.
pub(super) fn cut_entries(text: &[u8], limits: &HarLimits) -> Vec<CutEntry> {
    let stats = Rc::new(Stats::default());
    let mut guard = Guard::new(text, limits, Rc::clone(&stats));
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = guard.read(&mut byte) {
        out.extend(stats.entry.borrow_mut().take());
    }
    out
}

/// The contents of a JSON string: text, escapes of every kind, and what makes serde_json
/// refuse it.
pub(super) fn contents() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        8 => "[a-zA-Z0-9 <>=/:.-]{1,60}".prop_map(String::into_bytes),
        4 => proptest::sample::select(vec![
            &br#"\""#[..], br"\\", br"\/", br"\n", br"\r", br"\t", br"\b", br"\f", br"\u0041",
            br"\u00e9", br"\u20AC", br"\u0000", br"\uD83D\uDE00", br"\ud83d\ude00",
            "é€😀".as_bytes(), br#"<a b=\"c\">"#,
        ])
        .prop_map(<[u8]>::to_vec),
        1 => proptest::sample::select(vec![
            &br"\uD83D"[..], br"\uDE00", br"\uD83Dx", br"\u12", br"\x", br"\", b"\x01",
            b"\n", b"\x1f", b"\xff", b"\xc3", b"\xed\xa0\x80", br#"""#,
        ])
        .prop_map(<[u8]>::to_vec),
        2 => (1usize..400, proptest::sample::select(vec![&b"a"[..], br#"\""#, b"\xc3\xa9", br"\\"]))
            .prop_map(|(n, b)| b.repeat(n)),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// A body's value: mostly a string, sometimes anything else JSON allows there.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => contents().prop_map(|c| [&b"\""[..], &c, b"\""].concat()),
        1 => proptest::sample::select(vec![&b"12"[..], b"null", b"true", b"{\"a\":\"b\"}", b"[\"x\"]", b"\"\""])
            .prop_map(<[u8]>::to_vec),
    ]
}

/// A `text` key as it may be spelled, mostly plainly.
fn text_key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => Just(r#""text":"#),
        1 => Just(r#""text" : "#),
        1 => Just(r#""te\u0078t":"#),
        1 => Just(r#""Text":"#),
    ]
}

/// The members of a body's object (`postData`, `content`): its text, perhaps twice, and
/// whatever else; as [`chars`].
fn body_object() -> impl Strategy<Value = String> {
    (
        text_key(),
        value(),
        proptest::option::of((text_key(), value())),
        prop_oneof![
            Just(""),
            Just(r#","encoding":"base64""#),
            Just(r#","mimeType":"text/xml""#)
        ],
    )
        .prop_map(|(key, body, again, tail)| {
            let mut bytes = [b"{\"size\":1,", key.as_bytes(), &body].concat();
            if let Some((key, body)) = again {
                bytes.extend_from_slice(&[b",", key.as_bytes(), &body].concat());
            }
            bytes.extend_from_slice(tail.as_bytes());
            bytes.push(b'}');
            chars(&bytes)
        })
}

/// Bytes carried in a `String`, each byte one char (the entries are assembled with
/// `format!`, and some bytes are not UTF-8); [`bytes`] undoes it.
pub(super) fn chars(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

pub(super) fn bytes(chars: &str) -> Vec<u8> {
    chars.chars().map(|c| c as u32 as u8).collect()
}

/// One entry: a request body, a response body, each where HAR puts it or somewhere else,
/// duplicated objects, damage.
pub(super) fn entry() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::option::of(body_object()),
        proptest::option::of(body_object()),
        0usize..6,
        proptest::option::of(body_object()),
    )
        .prop_map(|(post, content, shape, other)| {
            let post = post.map(|p| format!(r#","postData":{p}"#)).unwrap_or_default();
            let content = content
                .map(|c| format!(r#","content":{c}"#))
                .unwrap_or_default();
            let other = other.unwrap_or_else(|| "{}".into());
            let request = format!(
                r#"{{"method":"POST","url":"https://h.test/x","headers":[{{"name":"A","value":"b"}}]{post}}}"#
            );
            let response = format!(r#"{{"status":200,"headers":[]{content}}}"#);
            let e = match shape {
                // As HAR has it.
                0 | 1 => format!(r#"{{"startedDateTime":"2024-03-01T10:00:00Z","request":{request},"response":{response}}}"#),
                // A `text` at a body's depth elsewhere.
                2 => format!(r#"{{"request":{request},"response":{{"status":200,"x":{other}}},"cache":{{"y":{other}}}}}"#),
                // `request` and `response` twice.
                3 => format!(r#"{{"request":{request},"response":{response},"request":{request},"response":{{"status":404,"content":{other}}}}}"#),
                // The body objects twice.
                4 => format!(r#"{{"request":{{"method":"POST","url":"https://h.test/","postData":{other}{post}}},"response":{{"status":200,"content":{other}{content}}}}}"#),
                // Not an entry's layout at all.
                _ => format!(r#"{{"request":{{"method":"GET","url":"https://h.test/","a":[{request}]}},"response":{response},"b":{{"c":{other}}}}}"#),
            };
            bytes(&e)
        })
}

pub(super) fn har(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut text = br#"{"log":{"version":"1.2","entries":["#.to_vec();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        text.extend_from_slice(e);
    }
    text.extend_from_slice(b"]}}");
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Read with bodies out of band and in band: the same sessions, errors and rewrite.
    #[test]
    fn bodies_out_of_band_read_as_in_band(
        entries in proptest::collection::vec(entry(), 0..5),
        damage in proptest::option::of((0usize..100_000, proptest::sample::select(b"\"{}[],\\1x\x01".to_vec()))),
        cut in proptest::option::of(0usize..100_000),
        sizes in proptest::collection::vec(
            proptest::sample::select(vec![1usize, 7, 63, 64, 65, 200, 4096, usize::MAX]),
            1..4,
        ),
        max_string in proptest::sample::select(vec![100u64, 128, 129, 200, 300, 1 << 20]),
    ) {
        let mut text = har(&entries);
        if let Some((at, byte)) = damage {
            let at = at % text.len();
            text[at] = byte;
        }
        if let Some(cut) = cut {
            text.truncate(cut % (text.len() + 1));
        }
        let limits = HarLimits { max_string, batch_entries: 2, ..HarLimits::default() };
        let out_of_band = read_here(&text, &sizes, &limits);
        let in_band = bodies_in_band(|| read_here(&text, &sizes, &limits));
        prop_assert_eq!(out_of_band, in_band);
    }

    /// Entry by entry: whenever the out-of-band parse answers, it is the in-band parse.
    #[test]
    fn an_entry_parsed_out_of_band_is_the_entry_parsed_in_band(
        entries in proptest::collection::vec(entry(), 1..4),
        max_string in proptest::sample::select(vec![128u64, 200, 1 << 20]),
    ) {
        let limits = HarLimits { max_string, ..HarLimits::default() };
        for cut in cut_entries(&har(&entries), &limits) {
            // Each noted range is a string's contents as the guard reads strings (where
            // JSON's do not end there, `\u` before a backslash, the reader refuses it).
            for r in &cut.bodies {
                prop_assert_eq!(cut.bytes[r.start - 1], b'"');
                prop_assert_eq!(cut.bytes[r.end], b'"');
                if super::bodies::unescape(&cut.bytes[r.clone()]).is_some() {
                    let backslashes = cut.bytes[..r.end].iter().rev().take_while(|&&b| b == b'\\').count();
                    prop_assert_eq!(backslashes % 2, 0);
                }
            }
            if let Some(entry) = parse_entry_out_of_band(&cut.bytes, &cut.bodies) {
                let in_band = parse_entry(&cut.bytes);
                prop_assert!(in_band.is_ok());
                prop_assert_eq!(format!("{entry:?}"), format!("{:?}", in_band.unwrap()));
            }
        }
    }
}

/// A HAR as browsers write it: every body of 128 bytes or more is noted and read out of
/// band, and the sessions are those read in band.
#[test]
fn long_bodies_of_a_plain_entry_go_out_of_band() {
    let soap = r#"<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><FindItem Traversal=\"Shallow\"/>\u00e9\n</soap:Body></soap:Envelope>"#;
    let entry = format!(
        r#"{{"startedDateTime":"2024-03-01T10:00:00.000Z","request":{{"method":"POST","url":"https://h.test/EWS/Exchange.asmx",
        "headers":[{{"name":"Content-Type","value":"text/xml"}}],"postData":{{"mimeType":"text/xml","text":"{soap}"}}}},
        "response":{{"status":200,"headers":[],"content":{{"size":5,"mimeType":"text/xml","text" : "{soap}{soap}"}}}},"time":1}}"#
    );
    let text = har(&vec![entry.into_bytes(); 300]);
    let limits = HarLimits::default();
    let cuts = cut_entries(&text, &limits);
    assert_eq!(cuts.len(), 300);
    for cut in &cuts {
        assert_eq!(cut.bodies.len(), 2, "{:?}", cut.bodies);
        let out = parse_entry_out_of_band(&cut.bytes, &cut.bodies).expect("out of band");
        assert_eq!(
            format!("{out:?}"),
            format!("{:?}", parse_entry(&cut.bytes).unwrap())
        );
    }
    let out_of_band = read_here(&text, &[usize::MAX], &limits);
    assert_eq!(
        out_of_band,
        bodies_in_band(|| read_here(&text, &[usize::MAX], &limits))
    );
    assert_eq!(out_of_band.0.matches("Ok(Session {").count(), 300);
}

/// The guard notes no body when recording (the rewriter reads whole entries), nor a short
/// string, nor one it cut.
#[test]
fn what_the_guard_does_not_note() {
    let long = "x".repeat(300);
    let text = har(&[
        format!(r#"{{"request":{{"postData":{{"text":"{long}"}}}}}}"#).into_bytes(),
        br#"{"request":{"postData":{"text":"short"}}}"#.to_vec(),
    ]);
    let noted = |limits: &HarLimits| -> Vec<usize> {
        cut_entries(&text, limits)
            .iter()
            .map(|c| c.bodies.len())
            .collect()
    };
    assert_eq!(noted(&HarLimits::default()), [1, 0]);
    let cut = HarLimits {
        max_string: 200,
        ..HarLimits::default()
    };
    assert_eq!(noted(&cut), [0, 0]);
    let stats = Rc::new(Stats::default());
    let mut guard = Guard::new(&text[..], &HarLimits::default(), Rc::clone(&stats)).recording();
    let mut byte = [0u8; 1];
    while let Ok(1) = guard.read(&mut byte) {
        if let Some(c) = stats.entry.borrow_mut().take() {
            assert!(c.bodies.is_empty());
        }
    }
}

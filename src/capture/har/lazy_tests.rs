//! Bodies kept JSON-escaped ([`crate::capture::Stored::JsonString`]) read exactly as the
//! eager reading did: the same sessions, problems and errors, and every reader of a body
//! (`len`, `is_empty`, `bytes`, `starts_with`, `decode_partial` under any cap) the same
//! answer. The eager reading is the code it replaced, kept here: serde_json reads the
//! entry's bytes with every body's text undone into a `String`.

use proptest::prelude::*;

use super::*;
use crate::capture::body::{decode_partial, json_unescape, json_unescaped_len, DecodeLimits};
use crate::capture::{Body, Headers, Session, Stored};

/// How an item read before bodies were kept escaped.
fn eager(item: &Item, limits: &HarLimits) -> Option<SessionResult> {
    let Item::Text {
        id,
        text,
        cut_strings,
        compressed,
    } = item
    else {
        // Read in the stream: eagerly, as before.
        return None;
    };
    Some(
        match serde_json::from_slice::<Field<RawEntry<EagerText>>>(&text.bytes) {
            Ok(entry) => entry_result(*id, entry, *cut_strings, limits),
            Err(e) => {
                let at = text.start + offset_in(&text.bytes, &e);
                Err(SessionError {
                    session: Some(*id),
                    message: describe_json_error(&e, at, *compressed),
                })
            }
        },
    )
}

/// Every item of `json` read both ways: (now, before).
fn both_ways(json: &[u8], limits: &HarLimits) -> Vec<(SessionResult, Option<SessionResult>)> {
    let mut out = Vec::new();
    let _ = stream_items(
        json,
        limits,
        false,
        |item| {
            let before = eager(&item, limits);
            (item.into_result(limits), before)
        },
        |pair| out.push(pair),
    );
    out
}

fn bodies(s: &Session) -> Vec<(&Body, &Headers)> {
    let mut out = vec![(&s.request.body, &s.request.headers)];
    if let Some(r) = &s.response {
        out.push((&r.body, &r.headers));
    }
    out
}

/// Both readings agree, body by body, through every way a body is read. Returns how many
/// bodies were kept escaped.
fn assert_same(now: &SessionResult, before: &SessionResult, prefix: &[u8]) -> usize {
    assert_eq!(now, before);
    let (Ok(now), Ok(before)) = (now, before) else {
        return 0;
    };
    let mut escaped = 0;
    for ((a, headers), (b, _)) in bodies(now).into_iter().zip(bodies(before)) {
        assert_eq!(b.stored, Stored::Bytes);
        escaped += usize::from(matches!(a.stored, Stored::JsonString { .. }));
        assert_eq!(&*a.bytes(), &b.raw[..]);
        assert_eq!(a.len(), b.raw.len(), "{a:?}");
        assert_eq!(a.is_empty(), b.raw.is_empty());
        assert_eq!(a.starts_with(prefix), b.raw.starts_with(prefix));
        for max_decoded in [0, 3, 17, u64::MAX / 4] {
            let limits = DecodeLimits {
                max_decoded,
                ..DecodeLimits::default()
            };
            assert_eq!(
                decode_partial(a, headers, &limits),
                decode_partial(b, headers, &limits)
            );
        }
    }
    escaped
}

/// Pieces of a JSON string's inside: mostly text and valid escapes, sometimes what
/// serde_json refuses (bad escapes, lone surrogates, control characters, bytes that are not
/// UTF-8).
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => "[a-zA-Z0-9 +/=<>:.-]{0,12}".prop_map(String::into_bytes),
        6 => proptest::sample::select(vec![
            r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t", r"\\u0041",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        3 => any::<u16>().prop_map(|u| format!("\\u{u:04x}").into_bytes()),
        1 => (0xD800u16..0xE000).prop_map(|u| format!("\\u{u:04X}").into_bytes()),
        2 => (0xD800u16..0xDC00, 0xDC00u16..0xE000)
            .prop_map(|(h, l)| format!("\\u{h:04x}\\u{l:04X}").into_bytes()),
        3 => any::<String>().prop_map(|s| {
            let j = serde_json::to_string(&s).unwrap();
            j.as_bytes()[1..j.len() - 1].to_vec()
        }),
        1 => Just("é€😀".as_bytes().to_vec()),
        1 => proptest::sample::select(vec![
            &b"\\x"[..], b"\\u12", b"\\u12zz", b"\x01", b"\n", b"\xff", b"\xc3", b"\\",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

/// A body's JSON text: a string of pieces, base64 of some bytes (wrapped, padded or not,
/// `/` escaped or not, URL-safe, or damaged), or another JSON value.
fn body_text() -> impl Strategy<Value = (Vec<u8>, bool)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
    use base64::Engine;
    let string = proptest::collection::vec(piece(), 0..10).prop_map(|p| {
        let mut s = vec![b'"'];
        s.extend(p.concat());
        s.push(b'"');
        s
    });
    let base64 = (
        proptest::collection::vec(any::<u8>(), 0..60),
        0..3u8,
        proptest::sample::select(vec!["", r"\n", r"\r\n", " "]),
        any::<bool>(),
        proptest::option::of((
            0usize..80,
            proptest::sample::select(vec!["*", "=", r"\u00e9"]),
        )),
    )
        .prop_map(|(bytes, engine, wrap, escape_slash, damage)| {
            let mut text = match engine {
                0 => STANDARD.encode(&bytes),
                1 => STANDARD_NO_PAD.encode(&bytes),
                _ => URL_SAFE.encode(&bytes),
            };
            if escape_slash {
                text = text.replace('/', r"\/");
            }
            let mut wrapped = String::new();
            for (i, c) in text.chars().enumerate() {
                if i > 0 && i % 16 == 0 {
                    wrapped.push_str(wrap);
                }
                wrapped.push(c);
            }
            if let Some((at, with)) = damage {
                let mut at = at.min(wrapped.len());
                while !wrapped.is_char_boundary(at) {
                    at -= 1;
                }
                wrapped.insert_str(at, with);
            }
            format!("\"{wrapped}\"").into_bytes()
        });
    prop_oneof![
        6 => (string, any::<bool>()),
        3 => (base64, Just(true)),
        1 => (
            proptest::sample::select(vec!["null", "12", "true", r#"{"a":"\n"}"#, r#"["\"x"]"#]),
            any::<bool>(),
        )
            .prop_map(|(v, b)| (v.as_bytes().to_vec(), b)),
    ]
}

fn encoding(base64: bool, spelled: u8) -> &'static str {
    match (base64, spelled % 3) {
        (false, _) => "",
        (true, 0) => r#","encoding":"base64""#,
        (true, 1) => r#","encoding":" BASE64 ""#,
        (true, _) => r#","encoding":7"#,
    }
}

/// An entry with a request and a response body, the response's `text` possibly repeated.
fn entry(
    request: &(Vec<u8>, bool),
    response: &(Vec<u8>, bool),
    repeated: Option<&(Vec<u8>, bool)>,
    spelled: u8,
) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(
        br#"{"startedDateTime":"2024-03-01T10:00:00Z","request":{"method":"POST","url":"https://h/x","headers":[{"name":"Content-Type","value":"text/xml"}],"postData":{"mimeType":"text/xml","text":"#,
    );
    e.extend_from_slice(&request.0);
    e.extend_from_slice(encoding(request.1, spelled).as_bytes());
    e.extend_from_slice(br#"}},"response":{"status":200,"headers":[],"content":{"#);
    if let Some(first) = repeated {
        e.extend_from_slice(b"\"text\":");
        e.extend_from_slice(&first.0);
        e.push(b',');
    }
    e.extend_from_slice(b"\"text\":");
    e.extend_from_slice(&response.0);
    e.extend_from_slice(encoding(response.1, spelled / 3).as_bytes());
    e.extend_from_slice(b"}}}");
    e
}

fn har_of(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = br#"{"log":{"version":"1.2","entries":["#.to_vec();
    out.extend(entries.join(&b',').iter());
    out.extend_from_slice(b"]}}");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Random bodies, with escapes, surrogates, base64 and what serde_json refuses, read
    /// the same both ways, also with strings cut at a small `max_string` and with the file
    /// cut short anywhere.
    #[test]
    fn lazy_bodies_read_as_eager_ones(
        bodies in proptest::collection::vec((body_text(), body_text(), proptest::option::of(body_text())), 1..4),
        spelled in 0u8..9,
        max_string in proptest::sample::select(vec![6u64, 24, 64, 1 << 20]),
        cut in proptest::option::of(0usize..4000),
        prefix in proptest::sample::select(vec![&b""[..], b"a", b"\"", b"\\", b"[traceadal redact: "]),
    ) {
        let entries: Vec<Vec<u8>> = bodies
            .iter()
            .map(|(req, resp, first)| entry(req, resp, first.as_ref(), spelled))
            .collect();
        let mut json = har_of(&entries);
        if let Some(cut) = cut {
            json.truncate(cut.min(json.len()));
        }
        let limits = HarLimits { max_string, batch_entries: 2, ..HarLimits::default() };
        for (now, before) in both_ways(&json, &limits) {
            // An entry read in the stream (a body's `\\"` left a string open, and the
            // guard lost the entries' path) is read eagerly as before.
            if let Some(before) = before {
                assert_same(&now, &before, prefix);
            }
        }
    }

    /// Unescaping a literal the reader keeps gives what serde_json reads, and its length
    /// is counted right; a literal serde_json skips (escapes valid, no control character)
    /// but does not read into a `String` has no length, so the reader does not keep it.
    #[test]
    fn unescaping_is_serde_jsons(pieces in proptest::collection::vec(piece(), 0..12), max in 0usize..40) {
        let mut literal = vec![b'"'];
        literal.extend(pieces.concat());
        literal.push(b'"');
        let skipped = std::str::from_utf8(&literal).is_ok()
            && serde_json::from_slice::<serde::de::IgnoredAny>(&literal).is_ok();
        match serde_json::from_slice::<String>(&literal) {
            Ok(text) => {
                prop_assert_eq!(json_unescape(&literal, usize::MAX), text.as_bytes());
                prop_assert_eq!(json_unescape(&literal, max), &text.as_bytes()[..max.min(text.len())]);
                prop_assert_eq!(json_unescaped_len(&literal), Some(text.len()));
            }
            Err(_) if skipped => prop_assert_eq!(json_unescaped_len(&literal), None),
            Err(_) => {}
        }
    }
}

/// What the generated captures hold: SOAP bodies full of `\"` are kept escaped (a
/// surrogate pair too), bodies without an escape are not, a lone surrogate makes the entry
/// read eagerly, and every reader sees the same bytes.
#[test]
fn soap_bodies_are_kept_escaped_until_read() {
    let soap = r#"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><m:FindItem Traversal=\"Shallow\"/>\u00e9\ud83d\ude00</s:Envelope>"#;
    let read_one = |soap: &str| {
        let e = entry(
            &(format!("\"{soap}\"").into_bytes(), false),
            &(br#""plain text""#.to_vec(), false),
            None,
            0,
        );
        let mut read = both_ways(&har_of(&[e]), &HarLimits::default());
        assert_eq!(read.len(), 1);
        let (now, before) = read.remove(0);
        (now, before.unwrap())
    };
    let (now, before) = read_one(soap);
    assert_eq!(assert_same(&now, &before, b"<?xml"), 1);
    let s = now.as_ref().unwrap();
    assert_eq!(s.response.as_ref().unwrap().body.stored, Stored::Bytes);
    let Stored::JsonString { len } = s.request.body.stored else {
        panic!("{:?}", s.request.body);
    };
    let text = String::from_utf8(s.request.body.bytes().into_owned()).unwrap();
    assert_eq!(text.len(), len);
    assert!(text.starts_with(r#"<?xml version="1.0"?>"#) && text.ends_with("é😀</s:Envelope>"));

    let (now, before) = read_one(&soap.replace(r"\ude00", ""));
    assert_eq!(assert_same(&now, &before, b"<?xml"), 0);
    assert!(now.is_err());
}

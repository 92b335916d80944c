use std::io::Write as _;

use super::*;
use crate::capture::rewrite::SazEntryKind as K;
use crate::capture::saz::websocket::test_support::{file, frame};
use crate::redact::Kind;

const RT: &str = "SECRET-RT-abcdefgh";

fn entry<'a>(label: &'a str, kind: K, bytes: &'a [u8]) -> SazEntry<'a> {
    SazEntry {
        label,
        session: None,
        kind: Some(kind),
        bytes,
        cut: false,
        damaged: None,
    }
}

fn response(head: &str, body: &[u8]) -> Vec<u8> {
    let mut m = head.as_bytes().to_vec();
    m.extend_from_slice(body);
    m
}

/// The response entry `msg` rewritten with `limits`: the text, and the outcome.
fn rewrite_with(msg: &[u8], limits: &DecodeLimits) -> (Vec<u8>, Outcome) {
    let mut out = Outcome::default();
    let new = scrub_entry(entry("raw/7_s.txt", K::Response, msg), limits, &mut out).unwrap();
    (new, out)
}

fn rewrite(msg: &[u8]) -> (String, Outcome) {
    let (new, out) = rewrite_with(msg, &DecodeLimits::default());
    (String::from_utf8(new).unwrap(), out)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn token_json() -> String {
    format!(r#"{{"refresh_token":"{RT}","token_type":"Bearer"}}"#)
}

#[test]
fn a_folded_header_is_joined_and_scrubbed_whole() {
    let jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbS8ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
    let msg = format!(
        "GET https://outlook.office.com/x HTTP/1.1\nHost: outlook.office.com\nAuthorization: Bearer\n  {jwt}\nno colon line\n\n"
    );
    let mut out = Outcome::default();
    let new = scrub_entry(
        entry("raw/1_c.txt", K::Request, msg.as_bytes()),
        &DecodeLimits::default(),
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(new).unwrap();
    let (head, _) = jwt.rsplit_once('.').unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "GET https://outlook.office.com/x HTTP/1.1");
    assert_eq!(lines[1], "Host: outlook.office.com");
    assert!(
        lines[2].starts_with(&format!("Authorization: Bearer {head}.")),
        "{text}"
    );
    assert_eq!(lines.len(), 5, "{text:?}");
    assert_eq!(&lines[3..], ["", ""]);
    assert!(!text.contains("c2lnbmF0dXJl"), "{text}");
    assert!(!text.contains("no colon"), "{text}");
    assert!(!text.contains('\n') || !text.replace("\r\n", "").contains('\n'));
    assert_eq!(out.counts.get(Kind::BearerToken), 1);
}

#[test]
fn chunk_extensions_trailers_and_bytes_after_the_last_chunk_are_gone() {
    let body =
        "5;ext=SECRET-EXT-1\r\nhello\r\n0\r\nX-Trailer: SECRET-TRAILER-2\r\n\r\nSECRET-AFTER-3";
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        body.as_bytes(),
    );
    let (text, out) = rewrite(&msg);
    assert_eq!(
        text,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    );
    assert!(out.notes.is_empty(), "{:?}", out.notes);
}

#[test]
fn bytes_after_a_gzip_member_are_gone_and_the_body_marked_partial() {
    let mut body = gzip(token_json().as_bytes());
    body.extend_from_slice(b"SECRET-GARBAGE-after-the-member");
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n",
        &body,
    );
    let (text, out) = rewrite(&msg);
    let expected_body = token_json().replace(RT, "REDACTEDREDACTEDRE");
    assert_eq!(
        text,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Traceadal-Redacted: body-partial\r\nContent-Length: {}\r\n\r\n{expected_body}",
            expected_body.len()
        )
    );
    assert_eq!(out.counts.get(Kind::RefreshToken), 1);
    assert_eq!(out.notes.len(), 1);
    assert!(out.notes[0].starts_with("raw/7_s.txt: the body decodes only in part"));
}

#[test]
fn a_double_gzip_body_is_stored_decoded() {
    let body = gzip(&gzip(token_json().as_bytes()));
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip, gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        &{
            let mut c = format!("{:x}\r\n", body.len()).into_bytes();
            c.extend_from_slice(&body);
            c.extend_from_slice(b"\r\n0\r\n\r\n");
            c
        },
    );
    let (text, out) = rewrite(&msg);
    let expected_body = token_json().replace(RT, "REDACTEDREDACTEDRE");
    assert_eq!(
        text,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{expected_body}",
            expected_body.len()
        )
    );
    assert!(out.notes.is_empty());
}

#[test]
fn a_zstd_body_is_replaced_by_a_placeholder() {
    let body = b"(zstd bytes with SECRET-ZSTD inside)";
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Encoding: zstd\r\n\r\n",
        body,
    );
    let (text, out) = rewrite(&msg);
    let placeholder = format!(
        "[traceadal redact: body removed: application/json, {} bytes stored, content-encoding zstd not decoded]",
        body.len()
    );
    assert_eq!(
        text,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Traceadal-Redacted: body-removed, body-unread\r\nContent-Length: {}\r\n\r\n{placeholder}",
            placeholder.len()
        )
    );
    assert_eq!(
        out.notes,
        ["raw/7_s.txt: body replaced by a placeholder (content-encoding zstd not decoded)"]
    );
}

#[test]
fn a_body_past_the_cap_is_replaced_by_a_placeholder() {
    let json = token_json();
    for (max, coded) in [(0u64, false), (10, false), (10, true)] {
        let limits = DecodeLimits {
            max_decoded: max,
            ..DecodeLimits::default()
        };
        let (head, body) = if coded {
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\r\n",
                gzip(json.as_bytes()),
            )
        } else {
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
                json.clone().into_bytes(),
            )
        };
        let (new, out) = rewrite_with(&response(head, &body), &limits);
        let text = String::from_utf8(new).unwrap();
        let placeholder = format!(
            "[traceadal redact: body removed: application/json, {} bytes stored, decoded it is larger than the {max}-byte decode cap (--max-body-mib)]",
            body.len()
        );
        assert!(text.ends_with(&format!("\r\n\r\n{placeholder}")), "{text}");
        assert!(text.contains("X-Traceadal-Redacted: body-removed, body-unread\r\n"));
        assert!(!text.contains("SECRET"));
        assert_eq!(out.notes.len(), 1);
    }
}

#[test]
fn a_binary_body_is_replaced_and_an_image_kept() {
    let binary = b"\x08\x96\x01\x12\x12SECRET-RT-protobuf\xff\xfe\x00";
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 24\r\n\r\n",
        binary,
    );
    let (text, _) = rewrite(&msg);
    let placeholder = format!(
        "[traceadal redact: body removed: application/octet-stream, {} bytes stored, binary content is not kept]",
        binary.len()
    );
    assert_eq!(
        text,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Traceadal-Redacted: body-removed\r\nContent-Length: {}\r\n\r\n{placeholder}",
            placeholder.len()
        )
    );
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\xff\xd8";
    let msg = response("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n", png);
    let (new, out) = rewrite_with(&msg, &DecodeLimits::default());
    let mut expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        png.len()
    )
    .into_bytes();
    expected.extend_from_slice(png);
    assert_eq!(new, expected);
    assert!(out.notes.is_empty());
}

#[test]
fn a_utf16_body_is_scrubbed_and_stays_utf16() {
    let json = token_json();
    let mut body = vec![0xff, 0xfe];
    body.extend(json.encode_utf16().flat_map(u16::to_le_bytes));
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-16\r\n\r\n",
        &body,
    );
    let (new, out) = rewrite_with(&msg, &DecodeLimits::default());
    let at = new.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let units: Vec<u16> = new[at + 2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(&new[at..at + 2], [0xff, 0xfe]);
    assert_eq!(
        String::from_utf16(&units).unwrap(),
        json.replace(RT, "REDACTEDREDACTEDRE")
    );
    assert_eq!(out.counts.get(Kind::RefreshToken), 1);
    // Without a mark or a charset: found by its shape.
    let body: Vec<u8> = json.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let msg = response("HTTP/1.1 200 OK\r\n\r\n", &body);
    let (new, _) = rewrite_with(&msg, &DecodeLimits::default());
    let units: Vec<u16> = new[new.len() - body.len()..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert!(!String::from_utf16(&units).unwrap().contains(RT));
}

#[test]
fn an_empty_body_keeps_its_framing_headers() {
    let msg = b"HTTP/1.1 304 Not Modified\nContent-Length: 1234\nContent-Encoding: gzip\n\n";
    let (text, _) = rewrite(msg);
    assert_eq!(
        text,
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nContent-Encoding: gzip\r\n\r\n"
    );
    // A blank response entry is Fiddler's "no response".
    assert_eq!(rewrite(b"  \r\n").0, "");
}

#[test]
fn what_is_not_an_http_message_is_replaced() {
    let mut out = Outcome::default();
    let new = scrub_entry(
        entry(
            "raw/3_c.txt",
            K::Request,
            b"\x16\x03\x01 refresh_token=SECRET",
        ),
        &DecodeLimits::default(),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        new,
        b"[traceadal redact: entry removed: raw/3_c.txt: first line is not an HTTP request line]\r\n"
    );
    assert_eq!(out.notes.len(), 1);
    assert!(http::parse_request(&new, SchemeHint::Unknown).is_err());
}

#[test]
fn a_cut_entry_keeps_its_head_and_loses_its_body() {
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
        token_json().as_bytes(),
    );
    let mut out = Outcome::default();
    let e = SazEntry {
        cut: true,
        ..entry("raw/7_s.txt", K::Response, &msg)
    };
    let new =
        String::from_utf8(scrub_entry(e, &DecodeLimits::default(), &mut out).unwrap()).unwrap();
    assert!(
        new.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"),
        "{new}"
    );
    assert!(
        new.contains("X-Traceadal-Redacted: body-removed, body-unread\r\n"),
        "{new}"
    );
    assert!(new.ends_with(&format!(
        "[traceadal redact: body removed: application/json, {} bytes stored, the entry is larger than the {}-byte read cap]",
        token_json().len(),
        DecodeLimits::default().max_decoded + crate::capture::saz::HEAD_ALLOWANCE
    )), "{new}");
    assert!(!new.contains(RT));
}

/// The payload of the record at `index` of a rewritten `_w.txt`, and its header block.
fn ws_records(w: &[u8]) -> Vec<(String, Vec<u8>)> {
    assert!(w.starts_with(b"\r\n"));
    let mut pos = 2;
    let mut out = Vec::new();
    while pos < w.len() {
        let end = pos + w[pos..].windows(4).position(|x| x == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8(w[pos..end].to_vec()).unwrap();
        let len: usize = head
            .lines()
            .next()
            .unwrap()
            .split(": ")
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        out.push((head, w[end..end + len].to_vec()));
        assert_eq!(&w[end + len..end + len + 2], b"\r\n");
        pos = end + len + 2;
    }
    out
}

#[test]
fn websocket_frames_are_unmasked_joined_inflated_and_scrubbed() {
    let secret = format!(r#"{{"type":1,"refresh_token":"{RT}"}}"#);
    let (a, b) = secret.as_bytes().split_at(10);
    // A masked client message in two fragments; a compressed server message.
    let mut deflated = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(secret.as_bytes()).unwrap();
        e.flush().unwrap();
        e.get_ref().clone()
    };
    assert!(deflated.ends_with(&[0, 0, 0xff, 0xff]));
    deflated.truncate(deflated.len() - 4);
    let w = file(&[
        (true, frame(false, false, 1, a, Some([1, 2, 3, 4]))),
        (false, frame(true, true, 1, &deflated, None)),
        (true, frame(true, false, 0, b, Some([9, 8, 7, 6]))),
        (false, frame(true, false, 2, b"\x00\x01\xffbinary", None)),
        (
            true,
            frame(true, false, 8, b"\x03\xe8bye", Some([5, 5, 5, 5])),
        ),
    ]);
    let mut out = Outcome::default();
    let new = scrub_entry(
        entry("raw/2_w.txt", K::WebSocket, &w),
        &DecodeLimits::default(),
        &mut out,
    )
    .unwrap();
    let records = ws_records(&new);
    let scrubbed = secret.replace(RT, "REDACTEDREDACTEDRE");
    let text_frame = |p: &str| {
        let mut f = vec![0x81, p.len() as u8];
        f.extend_from_slice(p.as_bytes());
        f
    };
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(
        records[0].0.starts_with("Response-Length: "),
        "{}",
        records[0].0
    );
    assert_eq!(records[0].1, text_frame(&scrubbed));
    assert!(records[1].0.starts_with("Request-Length: "));
    // The joined message keeps its first fragment's header lines, where its last one was.
    assert!(records[1]
        .0
        .contains("ID: 1\r\nBitFlags: 0\r\nDoneRead: 2018-11-26T17:07:03.6899253+09:00\r\n"));
    assert_eq!(records[1].1, text_frame(&scrubbed));
    assert_eq!(
        records[2].1,
        text_frame("[traceadal redact: binary websocket message removed, 9 bytes]")
    );
    assert_eq!(records[3].1, b"\x88\x05\x03\xe8bye");
    assert_eq!(out.counts.get(Kind::RefreshToken), 2);
    assert!(!String::from_utf8_lossy(&new).contains(RT));
}

#[test]
fn a_websocket_file_that_does_not_parse_is_replaced_whole() {
    let mut w = file(&[(
        true,
        frame(true, false, 1, RT.as_bytes(), Some([1, 2, 3, 4])),
    )]);
    w.truncate(w.len() - 6);
    let mut out = Outcome::default();
    let new = scrub_entry(
        entry("raw/2_w.txt", K::WebSocket, &w),
        &DecodeLimits::default(),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        new,
        b"[traceadal redact: websocket messages removed: raw/2_w.txt: a message cut short]\r\n"
    );
    assert_eq!(out.notes.len(), 1);
}

#[test]
fn the_public_websocket_capture_shape_parses() {
    // The first two records of nekoxy2's websocket.saz (raw/2_w.txt), frames as stored.
    let client = b"\x81\x9c\x4e\x70\xea\xb5\x1c\x1f\x89\xde\x6e\x19\x9e\x95\x39\x19\x9e\xdd\x6e\x38\xbe\xf8\x02\x45\xca\xe2\x2b\x12\xb9\xda\x2d\x1b\x8f\xc1";
    let w = file(&[
        (true, client.to_vec()),
        (
            false,
            frame(true, false, 1, b"Rock it with HTML5 WebSocket", None),
        ),
    ]);
    let mut out = Outcome::default();
    let new = scrub_entry(
        entry("raw/2_w.txt", K::WebSocket, &w),
        &DecodeLimits::default(),
        &mut out,
    )
    .unwrap();
    let records = ws_records(&new);
    assert_eq!(records[0].1[..2], [0x81, 28]);
    assert_eq!(&records[0].1[2..], b"Rock it with HTML5 WebSocket");
    assert_eq!(
        records[1].1,
        frame(true, false, 1, b"Rock it with HTML5 WebSocket", None)
    );
    assert!(out.notes.is_empty());
}

#[test]
fn a_legacy_charset_page_is_kept_and_a_secret_with_a_high_byte_goes_whole() {
    let body = b"<p>caf\xe9</p><input name=\"password\" value=\"h\xe9llo-SECRET\"> \x83\x7a";
    let msg = response("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", body);
    let (new, out) = rewrite_with(&msg, &DecodeLimits::default());
    // The placeholder is as long as the value read as text (the high byte one character of
    // two UTF-8 bytes).
    let kept = b"<p>caf\xe9</p><input name=\"password\" value=\"REDACTEDREDAC\"> \x83\x7a";
    let mut expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        kept.len()
    )
    .into_bytes();
    expected.extend_from_slice(kept);
    assert_eq!(new, expected);
    assert_eq!(out.counts.get(Kind::Password), 1);
    // Not a text type, or a NUL in it: binary.
    let msg = response(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
        b"a\x00\xe9b",
    );
    let (text, _) = rewrite(&msg);
    assert!(text.ends_with("binary content is not kept]"), "{text}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn kinds() -> impl Strategy<Value = K> {
        prop_oneof![
            Just(K::Request),
            Just(K::Response),
            Just(K::WebSocket),
            Just(K::Meta)
        ]
    }

    proptest! {
        /// Any bytes, as any entry: no panic, and a request or response comes out either as
        /// an HTTP message with a CRLF head or as one placeholder line.
        #[test]
        fn arbitrary_entries_never_panic(
            raw in proptest::collection::vec(any::<u8>(), 0..2048),
            kind in kinds(),
            cut in any::<bool>(),
        ) {
            let e = SazEntry { label: "raw/1_s.txt", session: Some(1), kind: Some(kind), bytes: &raw, cut, damaged: None };
            let limits = DecodeLimits { max_decoded: 4096, ..DecodeLimits::default() };
            let mut out = Outcome::default();
            let new = scrub_entry(e, &limits, &mut out);
            if matches!(kind, K::Request | K::Response) {
                let new = new.unwrap();
                prop_assert!(
                    new.is_empty()
                        || new.starts_with(b"[traceadal redact: entry removed: ")
                        || new.windows(4).any(|w| w == b"\r\n\r\n")
                );
            }
        }

        /// A message in normal form is its own normal form.
        #[test]
        fn normal_form_is_a_fixpoint(
            first in "(GET|POST) https://[a-z]{1,8}\\.example/[ -~]{0,30} HTTP/1\\.1",
            lines in proptest::collection::vec("[A-Za-z-]{1,12}:[ -~]{0,40}", 0..8),
            folded in proptest::collection::vec(any::<bool>(), 8),
            body in "[ -~]{0,200}",
            chunked in any::<bool>(),
        ) {
            let mut head = first.clone();
            for (i, l) in lines.iter().enumerate() {
                head.push_str(if folded[i] { "\n\t" } else { "\r\n" });
                head.push_str(l);
            }
            let body = if chunked && !body.is_empty() {
                head.push_str("\r\nTransfer-Encoding: chunked");
                format!("{:x};e=1\r\n{body}\r\n0\r\nT: x\r\n\r\n", body.len())
            } else {
                body
            };
            let msg = format!("{head}\r\n\r\n{body}");
            let limits = DecodeLimits::default();
            let mut out = Outcome::default();
            let once = normalise_message(&entry("raw/1_c.txt", K::Request, msg.as_bytes()), true, &limits, &mut out);
            let twice = normalise_message(&entry("raw/1_c.txt", K::Request, &once), true, &limits, &mut out);
            prop_assert_eq!(String::from_utf8_lossy(&once), String::from_utf8_lossy(&twice));
        }
    }
}

/// `healthy-workday.saz` with its entries apart: every request first, then every other
/// entry in reverse, so no session's entries follow each other.
fn entries_apart(saz: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(saz)).unwrap();
    let mut all: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        all.push((String::from_utf8_lossy(e.name_raw()).into_owned(), data));
    }
    let (mut order, mut rest): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(name, _)| name.ends_with("_c.txt"));
    rest.reverse();
    order.extend(rest);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in order {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Every shipped SAZ redacted with its sessions scrubbed apart on the pool is the copy
/// scrubbed in order: the same bytes, notes, counts and dropped bodies, with the user's
/// rules and with and without `--drop-bodies-except-auth`. So is a SAZ whose sessions'
/// entries are far apart, where what a request decides for its response (its bodies kept,
/// a bare token answer) is carried by the scrubber itself.
#[test]
fn sessions_scrubbed_apart_are_the_copy_scrubbed_in_order() {
    use crate::capture::rewrite::{InOrder, RewriteOptions, Scrubber};
    use crate::capture::saz::rewrite::rewrite_bytes;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut sazs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "saz"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    sazs.sort();
    assert!(sazs.len() >= 15, "{}", sazs.len());
    let workday = sazs
        .iter()
        .find(|(name, _)| name.ends_with("/healthy-workday.saz"))
        .map(|(_, bytes)| entries_apart(bytes))
        .unwrap();
    sazs.push(("healthy-workday.saz, entries apart".into(), workday));
    let user = std::sync::Arc::new(
        crate::redact::UserRules::new(&["contoso".into()], &["user[0-9]+".into()]).unwrap(),
    );
    let opts = RewriteOptions::default();
    let (mut changed, mut kept_apart) = (0, 0);
    for (name, bytes) in &sazs {
        for drop in [false, true] {
            let settings = || crate::redact::Placeholders {
                user: user.clone(),
                reads_body: drop.then_some(crate::auth::reads_body as crate::redact::ReadsBody),
                ..crate::redact::Placeholders::default()
            };
            let mut apart = settings();
            assert!(apart.saz_sessions().is_some());
            let mut in_order = InOrder(settings());
            let (mut a, mut b) = (
                std::io::Cursor::new(Vec::new()),
                std::io::Cursor::new(Vec::new()),
            );
            let ra = rewrite_bytes(bytes.clone(), &mut a, &opts, &mut apart);
            let rb = rewrite_bytes(bytes.clone(), &mut b, &opts, &mut in_order);
            let (ra, rb) = match (ra, rb) {
                (Ok(ra), Ok(rb)) => (ra, rb),
                (Err(ea), Err(eb)) => {
                    assert_eq!(ea.to_string(), eb.to_string(), "{name}");
                    continue;
                }
                (ra, rb) => panic!("{name}: {:?} against {:?}", ra.err(), rb.err()),
            };
            let (a, b) = (a.into_inner(), b.into_inner());
            assert!(a == b, "{name} (drop {drop}): the copies differ");
            assert_eq!(ra.notes, rb.notes, "{name}");
            assert_eq!((ra.entries, &ra.what), (rb.entries, &rb.what), "{name}");
            assert_eq!(apart.outcome.counts, in_order.0.outcome.counts, "{name}");
            assert_eq!(apart.outcome.notes, in_order.0.outcome.notes, "{name}");
            assert_eq!(apart.bodies_dropped, in_order.0.bodies_dropped, "{name}");
            changed += usize::from(a != *bytes);
            if drop && name.ends_with("entries apart") {
                // Responses whose requests came long before them kept their bodies.
                let copy = crate::capture::saz::SazArchive::from_bytes(a, &Default::default())
                    .unwrap()
                    .map_sessions(|s| {
                        s.is_ok_and(|s| {
                            s.response.as_ref().is_some_and(|r| {
                                !r.body.is_empty()
                                    && !r.body.raw.starts_with(
                                        crate::capture::rewrite::PLACEHOLDER_PREFIX.as_bytes(),
                                    )
                            })
                        })
                    })
                    .unwrap();
                kept_apart = copy.into_iter().filter(|kept| *kept).count();
            }
        }
    }
    assert!(
        changed > sazs.len(),
        "{changed} of {} copies changed",
        2 * sazs.len()
    );
    assert!(kept_apart > 20, "{kept_apart} responses kept their bodies");
}

//! The block lexer against the scalar one, and both against `Guard::step` byte by byte, on
//! JSON-ish bytes read in random pieces: everything the guard hands out must be the same.

use std::io::Read;
use std::rc::Rc;

use proptest::prelude::*;

use super::*;
use crate::capture::testkit::Pieces;

/// Everything the guard hands out, read one byte a call as serde_json reads: each byte
/// passed on, each entry taken out (where, its bytes, the skeleton before it), the cuts and
/// the offset after every call, and the error that ends it. Also how many bytes the block
/// lexer took.
fn lexed(
    input: &[u8],
    sizes: &[usize],
    limits: &HarLimits,
    record: bool,
    lexing: Lexing,
) -> (String, u64) {
    use std::fmt::Write as _;
    let stats = Rc::new(Stats::default());
    let reader = Pieces::new(input, sizes);
    let guard = Guard::new(reader, limits, Rc::clone(&stats)).lexing(lexing);
    let mut guard = if record { guard.recording() } else { guard };
    let mut out = String::new();
    let mut byte = [0u8; 1];
    loop {
        match guard.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => write!(out, "{:02x}", byte[0]).unwrap(),
            Err(e) => {
                write!(out, "\nerror {e} at {}", stats.offset.get()).unwrap();
                break;
            }
        }
        if let Some(cut) = stats.entry.borrow_mut().take() {
            write!(
                out,
                "\nentry at {}: {:?} after {:?}\n",
                cut.start,
                String::from_utf8_lossy(&cut.bytes),
                String::from_utf8_lossy(&cut.prefix)
            )
            .unwrap();
        }
        // What the next byte is lexed from; `key` is left out (only the scalar paths of
        // `step` write it, and only `key_len` is read outside an entry).
        write!(
            out,
            "[{} {} {} {} {:?}]",
            stats.offset.get(),
            stats.cuts.get(),
            guard.depth,
            guard.key_len,
            guard.lex
        )
        .unwrap();
    }
    let skeleton = stats.skeleton.borrow();
    write!(out, "\nend: {:?}", String::from_utf8_lossy(&skeleton)).unwrap();
    (out, guard.blocks_lexed)
}

/// One piece of JSON-ish text: mostly what a HAR holds, with the oddities the lexers must
/// agree on (escapes split anywhere, `\u` followed by a quote, backslashes outside strings,
/// unbalanced brackets, invalid UTF-8) and strings around a few lengths of interest.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let content = prop_oneof![
        6 => "[a-zA-Z0-9 /:;=+.,-]{1,40}".prop_map(String::into_bytes),
        2 => proptest::sample::select(vec![
            &br#"\""#[..], br"\\", br"\n", br"\/", br"\u00e9", br"\uD83D\uDE00", br"\u",
            br#"\u12""#, br"\u\\", br#"\\\""#, br"\\\\\\", br"\", "é€😀".as_bytes(),
            b"\xff", b"\xc3", b"{[}]", b"u",
        ])
        .prop_map(<[u8]>::to_vec),
        1 => (1usize..300, proptest::sample::select(b"aZ\\\"{}u".to_vec()))
            .prop_map(|(n, b)| std::iter::repeat_n(b, n).collect()),
        1 => (50usize..140).prop_map(|n| b"e\xc3\xa9\\u0041x".iter().copied().cycle().take(n).collect()),
    ];
    let string = proptest::collection::vec(content, 0..8).prop_map(|parts| {
        let mut s = vec![b'"'];
        parts.iter().for_each(|p| s.extend_from_slice(p));
        s.push(b'"');
        s
    });
    prop_oneof![
        4 => string,
        3 => proptest::sample::select(vec![
            &b"{"[..], b"}", b"[", b"]", b",", b":", b" ", b"\n", b"1", b"null", b"true",
            b"{\"name\":", b"\"value\":", b"},", b"],", b"\\", b"\\\"", b"[[[[[[[[", b"]]]]]]]]",
        ])
        .prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 1..20),
        1 => (1usize..12, proptest::sample::select(vec![&b"["[..], b"]", b"{\"a\":", b"}"]))
            .prop_map(|(n, b)| b.repeat(n)),
    ]
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(vec![
            &br#"{"log":{"entries":["#[..],
            br#"{"log": {"version":"1.2","entries" : [ {"a":1},"#,
            b"[",
            b"",
        ]),
        proptest::collection::vec(piece(), 0..60),
    )
        .prop_map(|(head, pieces)| {
            let mut text = head.to_vec();
            pieces.iter().for_each(|p| text.extend_from_slice(p));
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn the_block_lexer_hands_out_what_the_scalar_and_byte_lexers_do(
        text in text(),
        sizes in proptest::collection::vec(
            proptest::sample::select(vec![1usize, 2, 5, 63, 64, 65, 100, 300, 4096, usize::MAX]),
            1..4,
        ),
        max_string in proptest::sample::select(vec![16u64, 63, 64, 65, 100, 128, 200, 1 << 20]),
        max_depth in proptest::sample::select(vec![5u32, 6, 9, 40, 512]),
        record in any::<bool>(),
    ) {
        let limits = HarLimits { max_string, max_depth, ..HarLimits::default() };
        let (bytes, _) = lexed(&text, &sizes, &limits, record, Lexing::Bytes);
        let (scalar, _) = lexed(&text, &sizes, &limits, record, Lexing::Scalar);
        prop_assert_eq!(&scalar, &bytes);
        let (blocks, _) = lexed(&text, &sizes, &limits, record, Lexing::Blocks);
        prop_assert_eq!(&blocks, &bytes);
    }
}

/// `text` read whole in one piece, lexed by blocks and by the scalar lexer: the same; how
/// many bytes the blocks took.
fn same_as_scalar(text: &str, limits: &HarLimits) -> u64 {
    let read = |lexing| lexed(text.as_bytes(), &[usize::MAX], limits, false, lexing);
    let (blocks, lexed_by_blocks) = read(Lexing::Blocks);
    assert_eq!(blocks, read(Lexing::Scalar).0, "{text}");
    lexed_by_blocks
}

/// Every way a string can reach `max_string` near a block's edge: blocks must stop before
/// any byte where the string could be cut, wherever the string starts.
#[test]
fn strings_around_max_string_at_every_alignment() {
    for max_string in [64u64, 65, 100, 128] {
        for len in max_string.saturating_sub(66)..=max_string + 2 {
            for pad in 0..64 {
                for fill in ["a", "é", "\\u0041"] {
                    let body: String = fill
                        .repeat(len as usize)
                        .chars()
                        .take(len as usize)
                        .collect();
                    let text = format!(
                        r#"{{"log":{{"entries":[{{"p":"{}","s":"{body}","t":[1]}},{{}}]}}}}"#,
                        "x".repeat(pad)
                    );
                    same_as_scalar(
                        &text,
                        &HarLimits {
                            max_string,
                            ..HarLimits::default()
                        },
                    );
                }
            }
        }
    }
}

/// Nesting that reaches `max_depth`, or closes the entry, at every place in a block.
#[test]
fn nesting_around_max_depth_at_every_alignment() {
    for max_depth in 4u32..=9 {
        for n in 0..8 {
            for pad in 0..64 {
                for inner in ["[", "{\"a\":[", "[{}"] {
                    let open = inner.repeat(n);
                    let close: String = open
                        .chars()
                        .rev()
                        .filter_map(|c| match c {
                            '[' => Some(']'),
                            '{' => Some('}'),
                            _ => None,
                        })
                        .collect();
                    let close = close.replace("}]", "]").replace("]}", "]");
                    let text = format!(
                        r#"{{"log":{{"entries":[{{"p":"{}","n":{open}1{close}}},{{"q":[{{}}]}}]}}}}"#,
                        "x".repeat(pad)
                    );
                    same_as_scalar(
                        &text,
                        &HarLimits {
                            max_depth,
                            ..HarLimits::default()
                        },
                    );
                }
            }
        }
    }
}

/// On a HAR as browsers write it, nearly every byte of the entries goes through the block
/// lexer (the scalar one takes only the tail of each buffer and the odd refused block).
#[test]
fn the_block_lexer_takes_nearly_all_of_a_real_har() {
    let entry = r#"{"startedDateTime":"2024-03-01T10:00:00.000+01:00","time":250,
      "request":{"method":"POST","url":"https://outlook.office365.com/EWS/Exchange.asmx","httpVersion":"HTTP/1.1",
        "headers":[{"name":"Host","value":"outlook.office365.com"},{"name":"Content-Type","value":"text/xml; charset=utf-8"}],
        "postData":{"mimeType":"text/xml","text":"<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><FindItem Traversal=\"Shallow\"/></soap:Body></soap:Envelope>"}},
      "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[{"name":"Content-Length","value":"5"}],
        "content":{"size":5,"mimeType":"text/plain","text":"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=","encoding":"base64"}},
      "timings":{"send":1,"wait":100,"receive":4}}"#;
    let text = format!(
        r#"{{"log":{{"version":"1.2","entries":[{}]}}}}"#,
        vec![entry; 400].join(",")
    );
    let lexed_by_blocks = same_as_scalar(&text, &HarLimits::default());
    let share = lexed_by_blocks as f64 / text.len() as f64;
    assert!(share > 0.95, "{lexed_by_blocks} of {} bytes", text.len());
}

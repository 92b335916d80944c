//! The byte scanner that takes a NetLog apart without parsing it whole: the `constants`
//! object and each object of the `events` array are copied out of the stream as JSON text
//! (each parsed on its own by serde_json), everything else is skipped.
//!
//! Chrome writes `{"constants": {...}, "events": [` first, then one event a line, and the
//! closing `]}` (with `polledData`) only when logging stops: a log cut mid-write is common
//! (a crash, a copy taken while Edge still logs). The scanner hands over what it read up to
//! the cut and says where it stopped; it never needs more memory than one event (capped:
//! longer ones are skipped and counted) or the constants (capped).

use std::io::Read;

/// Bounds of the scan.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScanLimits {
    /// Longest event kept, in bytes of JSON text (a raw-bytes event holds its body in
    /// base64); longer ones are skipped and counted.
    pub max_event: usize,
    /// Longest `constants` object kept.
    pub max_constants: usize,
    /// Deepest nesting accepted anywhere.
    pub max_depth: u32,
}

/// What the scan hands to its caller.
pub(super) enum Item<'a> {
    /// The `constants` object's JSON text.
    Constants(&'a [u8]),
    /// One event object's JSON text.
    Event(&'a [u8]),
    /// An event longer than [`ScanLimits::max_event`], skipped.
    Oversized,
}

/// How the scan ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The top-level object closed.
    Complete,
    /// The bytes ran out inside the log (cut short), at this offset.
    Cut { offset: u64 },
    /// Not JSON the scanner can follow (nesting too deep, bytes after the end, a stray
    /// closer), at this offset.
    Broken { offset: u64, why: &'static str },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    None,
    Constants,
    Event,
}

/// Scan `reader`, handing each item to `f`. I/O errors end the scan as a cut.
pub(super) fn scan<R: Read>(reader: R, limits: &ScanLimits, f: impl FnMut(Item<'_>)) -> End {
    scan_with::<R, true>(reader, limits, f)
}

/// [`scan`], with the bytes of a string copied as runs (`RUNS`) or a byte at a time, as it
/// was first written: the tests hold the one to the other.
fn scan_with<R: Read, const RUNS: bool>(
    mut reader: R,
    limits: &ScanLimits,
    mut f: impl FnMut(Item<'_>),
) -> End {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut offset: u64 = 0;
    let mut depth: u32 = 0;
    let mut in_str = false;
    let mut esc = false;
    let mut started = false;
    let mut closed = false;
    // The last string read at depth 1 (a key of the top object), and the key whose value
    // is being read.
    let mut last_key: Vec<u8> = Vec::new();
    let mut key_open = false;
    let mut key: Vec<u8> = Vec::new();
    let mut in_events = false;
    let mut capture = Capture::None;
    let mut buf: Vec<u8> = Vec::new();
    let mut oversized = false;
    let mut bom = 0usize;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut i = 0;
        while i < n {
            // Inside a string that is not a key of the top object (event text, base64 bodies:
            // most of a NetLog's bytes), the bytes up to the next quote or backslash change
            // no state: they are copied (or found too long) as a run.
            if RUNS && in_str && !esc && !key_open {
                let run = memchr::memchr2(b'"', b'\\', &chunk[i..n]).unwrap_or(n - i);
                if run > 0 {
                    if capture != Capture::None && !oversized {
                        let max = if capture == Capture::Event {
                            limits.max_event
                        } else {
                            limits.max_constants
                        };
                        // Byte by byte, the byte at which `buf` holds `max` finds it too long.
                        if buf.len() + run > max {
                            oversized = true;
                            buf = Vec::new();
                        } else {
                            buf.extend_from_slice(&chunk[i..i + run]);
                        }
                    }
                    i += run;
                    continue;
                }
            }
            let b = chunk[i];
            let at = offset + i as u64;
            i += 1;
            if !started {
                // An optional BOM, white space, then the top object.
                if at < 3 && bom == at as usize && b == b"\xef\xbb\xbf"[bom] {
                    bom += 1;
                    continue;
                }
                if b.is_ascii_whitespace() {
                    continue;
                }
                if b != b'{' {
                    return End::Broken {
                        offset: at,
                        why: "does not begin with a JSON object",
                    };
                }
                started = true;
                depth = 1;
                continue;
            }
            if closed {
                if b.is_ascii_whitespace() {
                    continue;
                }
                return End::Broken {
                    offset: at,
                    why: "bytes after the end of the log",
                };
            }
            if capture != Capture::None && !oversized {
                let max = if capture == Capture::Event {
                    limits.max_event
                } else {
                    limits.max_constants
                };
                if buf.len() >= max {
                    oversized = true;
                    buf = Vec::new();
                } else {
                    buf.push(b);
                }
            }
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    in_str = false;
                    key_open = false;
                } else if key_open && last_key.len() < 64 {
                    last_key.push(b);
                }
                continue;
            }
            match b {
                b'"' => {
                    in_str = true;
                    if depth == 1 {
                        key_open = true;
                        last_key.clear();
                    }
                }
                b':' if depth == 1 => key = std::mem::take(&mut last_key),
                b',' if depth == 1 => key.clear(),
                b'{' | b'[' => {
                    if depth >= limits.max_depth {
                        return End::Broken {
                            offset: at,
                            why: "nested deeper than the limit",
                        };
                    }
                    depth += 1;
                    if depth == 2 && b == b'{' && key == b"constants" {
                        capture = Capture::Constants;
                        buf.clear();
                        buf.push(b);
                        oversized = false;
                    } else if depth == 2 && b == b'[' && key == b"events" {
                        in_events = true;
                    } else if depth == 3 && in_events && b == b'{' {
                        capture = Capture::Event;
                        buf.clear();
                        buf.push(b);
                        oversized = false;
                    }
                }
                b'}' | b']' => {
                    if depth == 0 {
                        return End::Broken {
                            offset: at,
                            why: "a closing bracket without an opening one",
                        };
                    }
                    depth -= 1;
                    match (depth, capture) {
                        (1, Capture::Constants) | (2, Capture::Event) => {
                            f(match (oversized, capture) {
                                (true, _) => Item::Oversized,
                                (false, Capture::Constants) => Item::Constants(&buf),
                                (false, _) => Item::Event(&buf),
                            });
                            capture = Capture::None;
                        }
                        (1, _) if in_events => in_events = false,
                        (0, _) => closed = true,
                        _ => {}
                    }
                    if capture == Capture::None && buf.capacity() > 1024 * 1024 {
                        buf = Vec::new();
                    }
                }
                _ => {}
            }
        }
        offset += n as u64;
    }
    if closed {
        End::Complete
    } else if !started {
        End::Broken {
            offset,
            why: "holds no JSON object",
        }
    } else {
        End::Cut { offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::Pieces;
    use proptest::prelude::*;

    fn items(text: &[u8]) -> (Vec<String>, End) {
        let limits = ScanLimits {
            max_event: 64,
            max_constants: 64,
            max_depth: 8,
        };
        let mut out = Vec::new();
        let end = scan(text, &limits, |i| {
            out.push(match i {
                Item::Constants(c) => format!("C{}", String::from_utf8_lossy(c)),
                Item::Event(e) => format!("E{}", String::from_utf8_lossy(e)),
                Item::Oversized => "big".into(),
            })
        });
        (out, end)
    }

    #[test]
    fn constants_and_events_are_taken_out_and_the_rest_skipped() {
        let (out, end) = items(
            b"\xef\xbb\xbf {\"x\":{\"events\":[{}]},\"constants\":{\"a\":\"}\\\"{\"},\n\"events\":[\n{\"t\":1},\n[2],\n{\"s\":\"]\"}],\"polledData\":{}}\n",
        );
        assert_eq!(
            out,
            vec!["C{\"a\":\"}\\\"{\"}", "E{\"t\":1}", "E{\"s\":\"]\"}"]
        );
        assert_eq!(end, End::Complete);
    }

    #[test]
    fn a_cut_log_gives_what_it_read_and_where_it_stopped() {
        let (out, end) = items(b"{\"constants\":{},\"events\":[{\"t\":1},{\"t\":2},{\"t\":");
        assert_eq!(out, vec!["C{}", "E{\"t\":1}", "E{\"t\":2}"]);
        assert_eq!(end, End::Cut { offset: 47 });
    }

    #[test]
    fn hostile_shapes_end_the_scan_without_panicking() {
        assert!(matches!(items(b"[1]").1, End::Broken { .. }));
        assert!(matches!(items(b"{}}").1, End::Broken { .. }));
        assert!(matches!(items(b"{}{").1, End::Broken { .. }));
        assert!(matches!(items(b"   ").1, End::Broken { .. }));
        assert!(matches!(
            items(b"{\"events\":[[[[[[[[[[[[[[").1,
            End::Broken { .. }
        ));
        let long = format!("{{\"events\":[{{\"x\":\"{}\"}},{{}}]}}", "a".repeat(100));
        let (out, end) = items(long.as_bytes());
        assert_eq!(out, vec!["big", "E{}"]);
        assert_eq!(end, End::Complete);
    }

    /// What a scan hands over and how it ends, as text.
    fn record(
        scanner: impl FnOnce(&[u8], &ScanLimits, &mut dyn FnMut(Item<'_>)) -> End,
        text: &[u8],
        limits: &ScanLimits,
    ) -> (Vec<String>, End) {
        let mut out = Vec::new();
        let end = scanner(text, limits, &mut |i| {
            out.push(match i {
                Item::Constants(c) => format!("C{}", String::from_utf8_lossy(c)),
                Item::Event(e) => format!("E{}", String::from_utf8_lossy(e)),
                Item::Oversized => "big".into(),
            })
        });
        (out, end)
    }

    /// NetLog-shaped text: a few events with strings (escapes, brackets and quotes inside),
    /// nested objects and arrays, cut or damaged at random by the caller.
    fn netlog_text() -> impl Strategy<Value = Vec<u8>> {
        let string = proptest::string::string_regex(r#"([a-z{}\[\]:,]|\\[\\"n]|\\u00e9){0,40}"#)
            .unwrap()
            .prop_map(|s| format!("\"{s}\""))
            .boxed();
        let value = prop_oneof![
            string.clone(),
            (string.clone(), string.clone()).prop_map(|(k, v)| format!("{{{k}:{v}}}")),
            proptest::collection::vec(string.clone(), 0..4)
                .prop_map(|v| format!("[{}]", v.join(","))),
            Just("12".to_string()),
        ];
        let event = proptest::collection::vec((string.clone(), value), 0..4).prop_map(|kv| {
            let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", body.join(","))
        });
        (proptest::collection::vec(event, 0..6), string, 0usize..3).prop_map(
            |(events, constant, tail)| {
                let tail = ["]}\n", "]", ""][tail];
                format!(
                    "{{\"constants\":{{\"k\":{constant}}},\n\"events\": [\n{}\n{tail}",
                    events.join(",\n")
                )
                .into_bytes()
            },
        )
    }

    proptest! {
        /// Copying a string's runs whole hands over the same items, finds the same events too
        /// long and ends at the same offset as a byte at a time: on NetLog-shaped text, cut
        /// anywhere or with a byte changed, read in short pieces, with small limits.
        #[test]
        fn runs_copied_whole_scan_like_a_byte_at_a_time(
            text in netlog_text(),
            cut in any::<proptest::sample::Index>(),
            poke in proptest::option::of((any::<proptest::sample::Index>(), any::<u8>())),
            piece in 1usize..40,
            max_event in 1usize..80,
            max_constants in 1usize..40,
        ) {
            let mut text = text;
            text.truncate(cut.index(text.len() + 1));
            if let (Some((at, b)), false) = (poke, text.is_empty()) {
                let at = at.index(text.len());
                text[at] = b;
            }
            let limits = ScanLimits { max_event, max_constants, max_depth: 6 };
            let fast = record(|t, l, f| scan(Pieces::new(t, &[piece]), l, f), &text, &limits);
            let slow = record(|t, l, f| scan_with::<_, false>(t, l, f), &text, &limits);
            prop_assert_eq!(fast, slow);
        }
    }
}

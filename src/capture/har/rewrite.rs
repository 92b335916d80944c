//! A HAR rewritten entry by entry through a [`Scrubber`], streamed through the reader's own
//! lexer: memory follows the largest entry (and one batch), not the file.
//!
//! The byte guard ([`super::lexer::Guard`]) runs as for reading, recording the bytes around
//! the entries (the skeleton: `{"log": {"version": ..., "entries": [`, the commas between
//! entries, `]}}`), and serde_json checks the skeleton as it does for analysis, so the file
//! that reads is the file that rewrites. Each entry's JSON text goes to
//! [`Scrubber::har_entry_at`] with its number; each string of the skeleton to
//! [`Scrubber::field`] with its key (a key itself to [`Scrubber::text`]). What the scrubber
//! leaves alone is written byte for byte. Differences from the input, all noted:
//!
//! - Nothing is compressed (a `.har.gz` comes out plain), a BOM is dropped, and strings are
//!   never cut (the string cap of reading does not apply; the entry is held whole).
//! - Invalid UTF-8 in an entry is replaced by U+FFFD before the scrubber sees it.
//! - An entry that is not JSON the scrubber can read (a `NaN`, `1e999`, a bad escape: what
//!   makes the reader report that entry) is written as `null`, which the reader reports as
//!   an unreadable entry in the same place.
//! - An element of `log.entries` the lexer did not take out (an entry under a key spelled
//!   with escapes, read by serde_json in the stream) is found in the skeleton
//!   ([`Skeleton::write`]): an object goes to the scrubber as an entry, an array is written
//!   as `null` (its text never copied), a scalar is kept (a string scrubbed).
//! - A file that breaks off (cut, damaged compression, trailing garbage) is written up to
//!   the last whole entry and closed, as the reader reads it up to there.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use super::parse::{Ending, Item};
use super::{stream_items, HarLimits};
use crate::capture::rewrite::{
    EntryScrubber, RewriteOptions, Rewritten, Scrubber, Tally, WriteSeek,
};
use crate::capture::CaptureErrorKind;

/// Rewrite the HAR at `input` into `output`, every entry through `scrubber`.
pub fn rewrite(
    input: &Path,
    output: &mut dyn WriteSeek,
    opts: &RewriteOptions,
    scrubber: &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind> {
    let file = File::open(input)?;
    let limits = HarLimits {
        // Nothing is cut in a copy: an entry is held whole, as serde_json needs it anyway.
        max_string: u64::MAX / 4,
        ..HarLimits::from_options(&opts.read)
    };
    rewrite_reader(file, &limits, output, scrubber)
}

/// An entry the lexer took out of the stream, with the skeleton before it; `None` for an
/// element serde_json read in the stream (a scalar, an array, an object under a key spelled
/// with escapes): its text is in the skeleton, where [`Skeleton::write`] finds it.
struct Piece {
    id: u64,
    prefix: Vec<u8>,
    entry: Entry,
}

/// An entry's text, or (with the scrubber's [`EntryScrubber`]) the entry already scrubbed
/// on the pool.
enum Entry {
    Text(Vec<u8>),
    Scrubbed { scrubbed: Scrubbed, tally: Tally },
}

/// `item` as the writer takes it, its entry scrubbed here when `apart` is given: this runs
/// on the rayon pool, for each entry as the lexer hands it on.
fn piece_of(item: Item, apart: Option<&dyn EntryScrubber>) -> Option<Piece> {
    let Item::Text { id, text, .. } = item else {
        return None;
    };
    let entry = match apart {
        None => Entry::Text(text.bytes),
        Some(scrubber) => {
            let (scrubbed, tally) = scrubbed(id, text.bytes, |json, notes| {
                scrubber.har_entry_at(id, json, notes)
            });
            Entry::Scrubbed { scrubbed, tally }
        }
    };
    Some(Piece {
        id,
        prefix: text.prefix,
        entry,
    })
}

/// [`rewrite`] from any reader (plain, gzip or zlib), with explicit limits.
pub fn rewrite_reader<R: Read + Send>(
    reader: R,
    limits: &HarLimits,
    output: &mut dyn Write,
    scrubber: &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind> {
    let mut out = Rewritten::default();
    let mut skeleton = Skeleton::new();
    let mut failed: Option<CaptureErrorKind> = None;
    let mut buf = Vec::new();
    let apart = scrubber.har_entries();
    let apart = apart.as_deref();
    let pieces = |item| piece_of(item, apart);
    let (ending, read, trailing) = stream_items(reader, limits, true, pieces, |piece| {
        let Some(Piece { id, prefix, entry }) = piece else {
            return;
        };
        if failed.is_some() {
            return;
        }
        buf.clear();
        out.entries += skeleton.write(&prefix, &mut buf, scrubber, &mut out.notes);
        skeleton.drop_scalar(&mut buf);
        skeleton.next_id = id + 1;
        let done = match entry {
            Entry::Text(text) => in_order(id, text, scrubber),
            Entry::Scrubbed { scrubbed, tally } => {
                scrubber.absorb(tally);
                scrubbed
            }
        };
        done.write(&mut buf, &mut out.notes);
        out.entries += 1;
        if let Err(e) = output.write_all(&buf) {
            failed = Some(CaptureErrorKind::Io(e));
        }
        // A huge entry's buffer is not kept for the rest of the file.
        if buf.capacity() > 1 << 20 {
            buf = Vec::new();
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    buf.clear();
    match ending {
        Ending::NotHar(message) | Ending::Refused(message) => {
            return Err(CaptureErrorKind::Har(message))
        }
        Ending::Done { .. } => {
            out.entries += skeleton.write(&trailing, &mut buf, scrubber, &mut out.notes);
        }
        Ending::Failed { message, .. } if read == 0 => {
            return Err(CaptureErrorKind::Har(message));
        }
        Ending::Failed { session, .. } => {
            // Up to where the top-level value closes, if it does (trailing garbage);
            // else closed after the last whole entry.
            let mut tentative = skeleton.clone();
            let mut tail = Vec::new();
            let mut tail_notes = Vec::new();
            let n = tentative.write(&trailing, &mut tail, scrubber, &mut tail_notes);
            let stopped = match session {
                Some(id) => format!("at entry {id}"),
                None => "after the last entry".into(),
            };
            if tentative.done && skeleton.reads_on(&tail) {
                buf = tail;
                out.entries += n;
                out.notes.append(&mut tail_notes);
                out.notes.push(format!(
                    "the capture breaks off {stopped}; what follows the JSON was left out"
                ));
            } else if skeleton.frames.is_empty() {
                // Nothing written yet (the file broke before its first entry the lexer
                // took out): an empty HAR, which reads as no sessions.
                buf.extend_from_slice(br#"{"log": {"version": "1.2", "entries": []}}"#);
                out.notes.push(format!(
                    "the capture breaks off {stopped}; no entry before it could be kept"
                ));
            } else {
                skeleton.close(&mut buf);
                out.notes.push(format!(
                    "the capture breaks off {stopped}; the {} entries before it were written",
                    out.entries
                ));
            }
        }
    }
    buf.push(b'\n');
    output.write_all(&buf)?;
    output.flush()?;
    out.what = format!("HAR 1.2, {} entries", out.entries);
    Ok(out)
}

/// One entry through the scrubber: what to write, and the notes on it in order.
struct Scrubbed {
    /// The entry's text (invalid UTF-8 replaced), written when the scrubber keeps it.
    text: String,
    result: Result<Option<Vec<u8>>, String>,
    notes: Vec<String>,
}

/// Entry `id`'s JSON text through `scrub` (an [`EntryScrubber`]'s `har_entry_at`), and what
/// `scrub` returns beside its result (the entry's [`Tally`]).
fn scrubbed<T>(
    id: u64,
    text: Vec<u8>,
    scrub: impl FnOnce(&str, &mut Vec<String>) -> (Result<Option<Vec<u8>>, String>, T),
) -> (Scrubbed, T) {
    let mut notes = Vec::new();
    let text = match String::from_utf8(text) {
        Ok(t) => t,
        Err(e) => {
            notes.push(format!(
                "entry {id}: invalid UTF-8 replaced by U+FFFD (the reader reports this entry)"
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let (result, beside) = scrub(&text, &mut notes);
    let result = result.map_err(|why| {
        format!(
            "entry {id}: {why}; written as null (the reader reports this entry as unreadable too)"
        )
    });
    let scrubbed = Scrubbed {
        text,
        result,
        notes,
    };
    (scrubbed, beside)
}

/// Entry `id`'s JSON text through `scrubber`, on the writing thread.
fn in_order(id: u64, text: Vec<u8>, scrubber: &mut dyn Scrubber) -> Scrubbed {
    scrubbed(id, text, |json, notes| {
        (scrubber.har_entry_at(id, json, notes), ())
    })
    .0
}

impl Scrubbed {
    /// The entry into `buf`, its notes after `notes`.
    fn write(self, buf: &mut Vec<u8>, notes: &mut Vec<String>) {
        notes.extend(self.notes);
        match self.result {
            Ok(None) => buf.extend_from_slice(self.text.as_bytes()),
            Ok(Some(new)) => buf.extend_from_slice(&new),
            Err(note) => {
                notes.push(note);
                buf.extend_from_slice(b"null");
            }
        }
    }
}

/// One open array or object of the skeleton.
#[derive(Clone)]
struct Frame {
    object: bool,
    /// The key this value is under (for an array's elements, the array's key).
    key: Option<String>,
    /// In an object: the next string is a key.
    expect_key: bool,
    /// The last key read in this object.
    pending: Option<String>,
    /// This array is a `log.entries`: its elements are entries.
    entries: bool,
    /// In an entries array: the next value is an element.
    expect_element: bool,
}

/// The writer's view of the skeleton: which brackets are open (so a cut file can be
/// closed), under which keys (so that a string is scrubbed with its key, and an element of
/// `log.entries` that the lexer did not take out is known), and whether the top-level value
/// has ended.
#[derive(Clone)]
struct Skeleton {
    frames: Vec<Frame>,
    done: bool,
    /// The index of the next element of `log.entries`, as the reader numbers them.
    next_id: u64,
    /// Where in the buffer [`Skeleton::write`] wrote the first byte of a bare scalar it
    /// is still in, when that scalar is an element of `log.entries` (see
    /// [`Skeleton::drop_scalar`]).
    scalar: Option<usize>,
}

impl Skeleton {
    fn new() -> Self {
        Skeleton {
            frames: Vec::new(),
            done: false,
            next_id: 1,
            scalar: None,
        }
    }

    /// Take out of `buf` the start of a bare scalar written just before an entry the lexer
    /// took out. serde_json reads what precedes the entry's stand-in with it (`,-` and the
    /// stand-in `0` make the number `-0`), so the reader reads the entry in that element's
    /// place, but written before the entry's object (`-{...}`) it is not JSON: the copy
    /// has the entry alone there (the `capture_rewrite` fuzz target's third find).
    fn drop_scalar(&mut self, buf: &mut Vec<u8>) {
        if let Some(at) = self.scalar.take() {
            buf.truncate(at);
        }
    }

    /// Write `bytes` of skeleton into `buf`, each string through the scrubber, up to the end
    /// of the top-level value; the number of entries (elements of `log.entries` objects)
    /// written from it. An element of `log.entries` found here is an entry the lexer did not
    /// take out: an object goes through the scrubber as an entry, anything else that is not
    /// a scalar is written as `null`. What is cut by the end of `bytes` is dropped.
    fn write(
        &mut self,
        bytes: &[u8],
        buf: &mut Vec<u8>,
        scrubber: &mut dyn Scrubber,
        notes: &mut Vec<String>,
    ) -> usize {
        let mut entries = 0;
        let mut i = 0;
        self.scalar = None;
        while i < bytes.len() && !self.done {
            let b = bytes[i];
            if !matches!(b, b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z') {
                self.scalar = None;
            }
            if let Some(f) = self.frames.last_mut() {
                if f.entries && f.expect_element && !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                    f.expect_element = false;
                    if !matches!(b, b']' | b',' | b'{' | b'[' | b'"') {
                        self.scalar = Some(buf.len());
                    }
                    if b != b']' && b != b',' {
                        let id = self.next_id;
                        self.next_id += 1;
                        if b == b'{' || b == b'[' {
                            let Some(end) = value_end(bytes, i) else {
                                return entries;
                            };
                            if b == b'{' {
                                in_order(id, bytes[i..end].to_vec(), scrubber).write(buf, notes);
                                entries += 1;
                            } else {
                                notes.push(format!(
                                    "entry {id}: an array, not an entry object; written as null \
                                     (the reader reports this entry as unreadable too)"
                                ));
                                buf.extend_from_slice(b"null");
                            }
                            i = end;
                            continue;
                        }
                    }
                }
            }
            match b {
                b'"' => {
                    let Some(end) = string_end(bytes, i) else {
                        // A string cut by the end of the file: what follows is dropped.
                        return entries;
                    };
                    let raw = &bytes[i..end];
                    let key_now = self.frames.last().is_some_and(|f| f.object && f.expect_key);
                    if key_now {
                        let decoded = string(raw, None, buf, scrubber, notes);
                        if let Some(f) = self.frames.last_mut() {
                            f.expect_key = false;
                            f.pending = Some(decoded);
                        }
                    } else {
                        let key = self.frames.last().and_then(|f| {
                            if f.object {
                                f.pending.clone()
                            } else {
                                f.key.clone()
                            }
                        });
                        string(
                            raw,
                            Some(key.as_deref().unwrap_or("")),
                            buf,
                            scrubber,
                            notes,
                        );
                    }
                    i = end;
                    continue;
                }
                b'{' | b'[' => {
                    let key = self.frames.last().and_then(|f| {
                        if f.object {
                            f.pending.clone()
                        } else {
                            f.key.clone()
                        }
                    });
                    // `{"log": {"entries": [`: the path the reader takes entries from.
                    let entries_list = b == b'['
                        && key.as_deref() == Some("entries")
                        && self.frames.len() == 2
                        && self.frames[1].key.as_deref() == Some("log");
                    self.frames.push(Frame {
                        object: b == b'{',
                        key,
                        expect_key: b == b'{',
                        pending: None,
                        entries: entries_list,
                        expect_element: entries_list,
                    });
                }
                b'}' | b']' => {
                    // A bracket closing the other kind (`]` for an object): not JSON, and
                    // the reader stops there too. Nothing from here is written: a cut file's
                    // caller closes what is open ([`Skeleton::close`]), where copying on
                    // would have closed the top-level value with the wrong brackets.
                    if self.frames.last().is_some_and(|f| f.object != (b == b'}')) {
                        return entries;
                    }
                    self.frames.pop();
                    if self.frames.is_empty() {
                        self.done = true;
                    }
                }
                b',' => {
                    if let Some(f) = self.frames.last_mut() {
                        f.expect_key = f.object;
                        f.expect_element = f.entries;
                    }
                }
                _ => {}
            }
            buf.push(b);
            i += 1;
        }
        entries
    }

    /// Whether `tail`, written after what this skeleton wrote (its open brackets, and a
    /// value last when any is open: the entry written before), makes JSON that parses. A
    /// file the reader could not read to its end may still balance its brackets after the
    /// last entry with something in between that is not JSON (`"entries": ["a": 1]`):
    /// such a tail is not written.
    fn reads_on(&self, tail: &[u8]) -> bool {
        let mut text = Vec::with_capacity(tail.len() + 4 * self.frames.len());
        for (i, f) in self.frames.iter().enumerate() {
            text.extend_from_slice(if f.object { br#"{"":"# } else { b"[" });
            if i + 1 == self.frames.len() {
                text.push(b'0');
            }
        }
        text.extend_from_slice(tail);
        serde_json::from_slice::<serde::de::IgnoredAny>(&text).is_ok()
    }

    /// Close every bracket still open.
    fn close(&mut self, buf: &mut Vec<u8>) {
        while let Some(f) = self.frames.pop() {
            buf.push(if f.object { b'}' } else { b']' });
        }
        self.done = true;
    }
}

/// The end (one past the closing quote) of the JSON string starting at `bytes[start]`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end (one past the closing bracket) of the array or object starting at `bytes[start]`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// One JSON string of the skeleton (quotes included), scrubbed: as text when it is a key
/// (`key` is `None`), else as the value of `key`. Returns the decoded string.
fn string(
    raw: &[u8],
    key: Option<&str>,
    buf: &mut Vec<u8>,
    scrubber: &mut dyn Scrubber,
    notes: &mut Vec<String>,
) -> String {
    let (value, lossy) = match serde_json::from_slice::<String>(raw) {
        Ok(v) => (v, false),
        Err(_) => {
            let fixed = String::from_utf8_lossy(raw);
            match serde_json::from_str::<String>(&fixed) {
                Ok(v) => (v, true),
                Err(_) => (String::new(), true),
            }
        }
    };
    if lossy {
        notes.push("a string outside the entries is not valid JSON text; rewritten".into());
    }
    let new = match key {
        None => scrubber.text(&value),
        Some(key) => scrubber.field(key, &value),
    };
    match new {
        Some(new) => write_string(&new, buf),
        None if lossy => write_string(&value, buf),
        None => buf.extend_from_slice(raw),
    }
    value
}

fn write_string(s: &str, buf: &mut Vec<u8>) {
    // Serialising a `str` cannot fail.
    if serde_json::to_writer(&mut *buf, s).is_err() {
        buf.extend_from_slice(b"\"\"");
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::capture::rewrite::{Identity, SazEntry};
    use crate::capture::SessionResult;

    fn read(bytes: &[u8]) -> Result<Vec<SessionResult>, CaptureErrorKind> {
        super::super::map_reader(bytes, &HarLimits::default(), |r| r)
    }

    fn rewritten(bytes: &[u8], scrubber: &mut dyn Scrubber) -> (Vec<u8>, Rewritten) {
        let mut out = Vec::new();
        let r = rewrite_reader(bytes, &HarLimits::default(), &mut out, scrubber).unwrap();
        (out, r)
    }

    fn ids(sessions: &[SessionResult]) -> Vec<(Option<u64>, bool)> {
        sessions
            .iter()
            .map(|s| match s {
                Ok(s) => (Some(s.id), true),
                Err(e) => (e.session, false),
            })
            .collect()
    }

    const ENTRY: &str = r#"{"startedDateTime":"2024-03-01T10:00:00.000+01:00","request":{"method":"GET","url":"https://x.contoso.com/a","headers":[{"name":"Host","value":"x.contoso.com"}]},"response":{"status":200,"headers":[]}}"#;

    fn har(entries: &[&str]) -> String {
        format!(
            "{{\"log\": {{\"version\": \"1.2\", \"creator\": {{\"name\": \"t\"}},\n  \"entries\": [\n    {}\n  ]}}}}",
            entries.join(",\n    ")
        )
    }

    /// Upper-cases every string it is given: shows which pieces went through the scrubber.
    struct Upper(Vec<String>);

    impl Scrubber for Upper {
        fn text(&mut self, text: &str) -> Option<String> {
            self.0.push(text.to_string());
            Some(text.to_uppercase())
        }
        fn har_entry(&mut self, json: &str) -> Result<Option<Vec<u8>>, String> {
            let v: serde_json::Value = serde_json::from_str(json).map_err(|_| "bad".to_string())?;
            self.0.push(format!("entry:{}", v["request"]["url"]));
            Ok(Some(b"{}".to_vec()))
        }
        fn saz_entry(&mut self, _: SazEntry<'_>) -> Option<Vec<u8>> {
            None
        }
    }

    /// Parses each entry as the redact scrubber does, changes nothing.
    struct Parses;

    impl Scrubber for Parses {
        fn text(&mut self, _: &str) -> Option<String> {
            None
        }
        fn har_entry(&mut self, json: &str) -> Result<Option<Vec<u8>>, String> {
            serde_json::from_str::<serde_json::Value>(json)
                .map(|_| None)
                .map_err(|e| format!("not valid JSON ({:?})", e.classify()))
        }
        fn saz_entry(&mut self, _: SazEntry<'_>) -> Option<Vec<u8>> {
            None
        }
    }

    #[test]
    fn identity_is_byte_for_byte_and_reads_back_the_same() {
        let text = har(&[ENTRY, ENTRY, "7", ENTRY]);
        let (out, r) = rewritten(text.as_bytes(), &mut Identity);
        assert_eq!(out, format!("{text}\n").into_bytes());
        assert_eq!(r.entries, 3);
        assert!(r.notes.is_empty());
        let a = read(text.as_bytes()).unwrap();
        let b = read(&out).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn skeleton_strings_and_entries_each_reach_the_scrubber() {
        let text = har(&[ENTRY, ENTRY]);
        let mut up = Upper(Vec::new());
        let (out, _) = rewritten(text.as_bytes(), &mut up);
        let out = String::from_utf8(out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["LOG"]["VERSION"], "1.2");
        assert_eq!(v["LOG"]["ENTRIES"], serde_json::json!([{}, {}]));
        assert_eq!(up.0.iter().filter(|s| s.starts_with("entry:")).count(), 2);
    }

    #[test]
    fn compressed_and_bom_come_out_plain() {
        let text = har(&[ENTRY]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"\xef\xbb\xbf").unwrap();
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let (out, r) = rewritten(&gz, &mut Identity);
        assert_eq!(out, format!("{text}\n").into_bytes());
        assert_eq!(r.entries, 1);
    }

    /// What the reader reads, the rewriter rewrites: an entry with invalid UTF-8, a `NaN`
    /// or `1e999` costs that entry in both, in the same place.
    #[test]
    fn entries_the_reader_reports_keep_their_place() {
        let mut bytes =
            har(&[ENTRY, "@@", ENTRY, r#"{"time": NaN}"#, r#"{"time": 1e999}"#]).into_bytes();
        // `@@` becomes an entry holding a string with bytes that are not UTF-8.
        let at = bytes.windows(2).position(|w| w == b"@@").unwrap();
        let broken = {
            let mut e = ENTRY.as_bytes().to_vec();
            let i = e.windows(2).position(|w| w == b"/a").unwrap();
            e.splice(i + 2..i + 2, [0xff, 0xfe]);
            e
        };
        bytes.splice(at..at + 2, broken);
        let original = read(&bytes).unwrap();
        let (out, r) = rewritten(&bytes, &mut Parses);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 5);
        let again = read(&out).unwrap();
        assert_eq!(again.len(), original.len());
        // The bad numbers are unreadable in both; the invalid UTF-8 is replaced, so that
        // entry reads now.
        assert_eq!(ids(&original)[0], ids(&again)[0]);
        assert_eq!(ids(&original)[2..], ids(&again)[2..]);
        assert!(!ids(&original)[1].1 && ids(&again)[1].1);
        assert!(!ids(&again)[3].1 && !ids(&again)[4].1);
        assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
        assert!(r.notes[0].starts_with("entry 2: invalid UTF-8"));
        assert!(r.notes[1].starts_with("entry 4: ") && r.notes[1].ends_with("unreadable too)"));
    }

    /// Notes each entry it scrubs and keeps only its URL; counts the entries it scrubbed
    /// and in which order it learnt of them: itself, on the writing thread, or (with
    /// `apart`) through [`TagsApart`] on the pool and [`Scrubber::absorb`].
    struct Tags {
        apart: bool,
        order: Vec<u64>,
    }

    struct TagsApart;

    fn tag(id: u64, json: &str, notes: &mut Vec<String>) -> Result<Option<Vec<u8>>, String> {
        notes.push(format!("entry {id} scrubbed"));
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|_| "not JSON".to_string())?;
        Ok(Some(
            format!("{{\"url\":{}}}", v["request"]["url"]).into_bytes(),
        ))
    }

    impl EntryScrubber for TagsApart {
        fn har_entry_at(
            &self,
            id: u64,
            json: &str,
            notes: &mut Vec<String>,
        ) -> (Result<Option<Vec<u8>>, String>, Tally) {
            (tag(id, json, notes), Tally(Box::new(id)))
        }
    }

    impl Scrubber for Tags {
        fn text(&mut self, _: &str) -> Option<String> {
            None
        }
        fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Err("har_entry_at is the one called".into())
        }
        fn har_entry_at(
            &mut self,
            id: u64,
            json: &str,
            notes: &mut Vec<String>,
        ) -> Result<Option<Vec<u8>>, String> {
            self.order.push(id);
            tag(id, json, notes)
        }
        fn saz_entry(&mut self, _: SazEntry<'_>) -> Option<Vec<u8>> {
            None
        }
        fn har_entries(&self) -> Option<Box<dyn EntryScrubber>> {
            self.apart
                .then(|| Box::new(TagsApart) as Box<dyn EntryScrubber>)
        }
        fn absorb(&mut self, tally: Tally) {
            let id = tally.0.downcast::<u64>().expect("a TagsApart tally");
            self.order.push(*id);
        }
    }

    /// Entries scrubbed apart on the pool come out as they do one by one in order: the same
    /// bytes, the same notes in the same order (invalid UTF-8 before the scrubber's own, an
    /// unreadable entry's after), every tally absorbed once, in entry order, across many
    /// small batches.
    #[test]
    fn entries_scrubbed_apart_come_out_as_in_order() {
        let mut entries: Vec<String> = (0..150)
            .map(|i| ENTRY.replace("/a\"", &format!("/a{i}\"")))
            .collect();
        entries[40] = r#"{"time": NaN}"#.into();
        entries[41] = "7".into();
        let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
        let mut bytes = har(&refs).into_bytes();
        let at = bytes.windows(4).position(|w| w == b"/a77").unwrap();
        bytes.splice(at + 2..at + 2, [0xff, 0xfe]);
        let limits = HarLimits {
            batch_entries: 7,
            ..HarLimits::default()
        };
        let run = |apart: bool| {
            let mut tags = Tags {
                apart,
                order: Vec::new(),
            };
            let mut out = Vec::new();
            let r = rewrite_reader(&bytes[..], &limits, &mut out, &mut tags).unwrap();
            (out, r.notes, r.entries, tags.order)
        };
        let (in_order, apart) = (run(false), run(true));
        assert_eq!(
            String::from_utf8_lossy(&apart.0),
            String::from_utf8_lossy(&in_order.0)
        );
        assert_eq!(apart.1, in_order.1);
        assert_eq!(apart.2, in_order.2);
        assert_eq!(apart.3, in_order.3);
        // Entry 42 (`7`) is a scalar the skeleton keeps: 149 entries reach the scrubber.
        let expected: Vec<u64> = (1..=150).filter(|&id| id != 42).collect();
        assert_eq!(apart.3, expected);
        let notes = &apart.1;
        assert_eq!(notes.len(), 151, "{notes:?}");
        assert_eq!(notes[40], "entry 41 scrubbed");
        assert!(
            notes[41].starts_with("entry 41: not JSON; written as null"),
            "{notes:?}"
        );
        assert!(
            notes[77].starts_with("entry 78: invalid UTF-8"),
            "{notes:?}"
        );
        assert_eq!(notes[78], "entry 78 scrubbed");
        let v: serde_json::Value = serde_json::from_slice(&apart.0).expect("valid JSON");
        let list = v["log"]["entries"].as_array().unwrap();
        assert_eq!(list.len(), 150);
        assert_eq!(list[0]["url"], "https://x.contoso.com/a0");
        assert_eq!(list[40], serde_json::Value::Null);
        assert_eq!(list[41], 7);
        assert_eq!(list[149]["url"], "https://x.contoso.com/a149");
    }

    /// A bracket that closes the other kind after the last entry (`}]` where `}}` should
    /// be, or `]]`): the reader stops there, and the copy is closed after the last whole
    /// entry with the brackets that match, never copied on with the wrong ones (the
    /// `capture_rewrite` fuzz target found a copy that was not JSON).
    #[test]
    fn a_closing_bracket_of_the_wrong_kind_is_not_copied() {
        for tail in ["]}]", "]]}", "]}}]", "}}}"] {
            let text =
                format!("{{\"log\": {{\"version\": \"1.2\", \"entries\": [{ENTRY}, {ENTRY}{tail}");
            let original = read(text.as_bytes());
            let (out, r) = rewritten(text.as_bytes(), &mut Identity);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                panic!("{tail}: not JSON ({e}): {}", String::from_utf8_lossy(&out))
            });
            assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 2, "{tail}");
            assert_eq!(r.entries, 2, "{tail}");
            assert!(
                r.notes.iter().any(|n| n.contains("breaks off")),
                "{tail}: {:?}",
                r.notes
            );
            // Both entries read in the original too, before its error.
            let original = original.unwrap();
            assert_eq!(original.iter().filter(|s| s.is_ok()).count(), 2, "{tail}");
        }
    }

    /// Damage after the last entry that still balances the brackets (a key inside the
    /// entries list), or before any entry was taken out: the copy is JSON that reads, with
    /// the entries that could be kept (the `capture_rewrite` fuzz target's second find:
    /// the copy was a lone newline).
    #[test]
    fn damage_that_balances_its_brackets_is_not_copied() {
        for (text, kept) in [
            // The reader stops at the last `}`, which closes the top-level value: the
            // brackets balance, the key before it has no value.
            (
                format!("{{\"log\": {{\"version\": \"1.2\", \"entries\": [{ENTRY}]}}, \"x\" }}"),
                1,
            ),
            (
                format!("{{\"log\": {{\"version\": \"1.2\", \"entries\": [{ENTRY}, \"a\": 1]}}}}"),
                1,
            ),
            (
                "{\"log\": {\"version\": \"1.2\", \"entries\": [\"a\": [], 7]}}".to_string(),
                0,
            ),
            (
                format!("{{\"log\": {{\"entries\": [\"cookies\": [], {ENTRY}]}}}}"),
                0,
            ),
        ] {
            let (out, r) = rewritten(text.as_bytes(), &mut Identity);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                panic!("{text}: not JSON ({e}): {}", String::from_utf8_lossy(&out))
            });
            assert_eq!(
                v["log"]["entries"].as_array().map(Vec::len),
                Some(kept),
                "{text}"
            );
            assert_eq!(r.entries, kept, "{text}");
            assert!(
                r.notes.iter().any(|n| n.contains("breaks off")),
                "{text}: {:?}",
                r.notes
            );
            assert_eq!(read(&out).unwrap().len(), kept, "{text}");
        }
    }

    /// A bare scalar's start right before an entry (`,-{...}`): serde_json reads it with the
    /// entry's stand-in as one number (`-0`), so the reader reads the entry in that place;
    /// the copy has the entry alone there and is JSON that reads the same sessions (the
    /// `capture_rewrite` fuzz target's third find wrote `-{...}`).
    #[test]
    fn a_scalar_read_with_an_entrys_stand_in_is_left_out() {
        for junk in ["-", "1", "-1.", "2e", "12"] {
            for text in [
                format!("{{\"log\": {{\"version\": \"1.2\", \"entries\": [{ENTRY},{junk}{ENTRY}]}}}}"),
                format!("{{\"log\": {{\"version\": \"1.2\", \"entries\": [{junk}{ENTRY}, 7, {ENTRY}]}}}}"),
            ] {
                let original = read(text.as_bytes()).unwrap();
                let (out, r) = rewritten(text.as_bytes(), &mut Identity);
                let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                    panic!("{text}: not JSON ({e}): {}", String::from_utf8_lossy(&out))
                });
                let entries = v["log"]["entries"].as_array().unwrap();
                assert!(entries.iter().all(|e| e.is_object() || e == 7), "{text}");
                let copy = read(&out).unwrap();
                assert_eq!(ids(&copy), ids(&original), "{text}");
                let objects = entries.iter().filter(|e| e.is_object()).count();
                assert_eq!((r.entries, objects), (2, 2), "{text}");
            }
        }
        // A scalar element that ends before the entry stays: `7, {...}`.
        let text = format!("{{\"log\": {{\"version\": \"1.2\", \"entries\": [7, {ENTRY}]}}}}");
        let (out, _) = rewritten(text.as_bytes(), &mut Identity);
        assert_eq!(String::from_utf8(out).unwrap(), format!("{text}\n"));
    }

    #[test]
    fn a_file_cut_short_is_closed_after_the_last_whole_entry() {
        let text = har(&[ENTRY, ENTRY, ENTRY]);
        let cut = &text.as_bytes()[..text.len() - 40];
        let (out, r) = rewritten(cut, &mut Identity);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 2);
        assert_eq!(r.entries, 2);
        assert!(
            r.notes[0].contains("breaks off at entry 3"),
            "{:?}",
            r.notes
        );
        // The reader reads the same two entries, then reports the cut.
        let original = read(cut).unwrap();
        assert_eq!(ids(&original)[..2], ids(&read(&out).unwrap())[..]);
    }

    #[test]
    fn trailing_garbage_after_a_cut_gzip_is_left_out() {
        let text = har(&[ENTRY, ENTRY]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let mut bytes = gz.finish().unwrap();
        // A second member cut short, as a mail gateway or a failed append leaves it.
        bytes.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0]);
        let original = read(&bytes).unwrap();
        assert!(
            original.last().unwrap().is_err(),
            "the reader reports the break"
        );
        let (out, r) = rewritten(&bytes, &mut Identity);
        assert_eq!(out, format!("{text}\n").into_bytes());
        assert_eq!(r.entries, 2);
        assert!(r.notes[0].contains("what follows the JSON was left out"));
    }

    /// Records the id of each entry it is handed; writes `{"seen": id}` instead.
    struct Ids(Vec<u64>);

    impl Scrubber for Ids {
        fn text(&mut self, _: &str) -> Option<String> {
            None
        }
        fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Err("not called".into())
        }
        fn har_entry_at(
            &mut self,
            id: u64,
            json: &str,
            _: &mut Vec<String>,
        ) -> Result<Option<Vec<u8>>, String> {
            serde_json::from_str::<serde_json::Value>(json).map_err(|_| "bad".to_string())?;
            self.0.push(id);
            Ok(Some(format!("{{\"seen\":{id}}}").into_bytes()))
        }
        fn saz_entry(&mut self, _: SazEntry<'_>) -> Option<Vec<u8>> {
            None
        }
    }

    /// Entries under a key spelled with escapes are read by serde_json in the stream, not
    /// taken out by the lexer: they are found in the skeleton and rewritten as entries, with
    /// the reader's numbering; an entry that is an array is written as `null`, its text
    /// never copied.
    #[test]
    fn what_the_lexer_does_not_take_out_is_rewritten_from_the_skeleton() {
        let array = r#"[{"headers": [{"name": "Cookie", "value": "SECRET-in-array"}]}]"#;
        let escaped = har(&[ENTRY, "7", array, ENTRY]).replace("\"entries\"", "\"entri\\u0065s\"");
        let mut ids = Ids(Vec::new());
        let (out, r) = rewritten(escaped.as_bytes(), &mut ids);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!text.contains("SECRET-in-array"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["log"]["entri\u{65}s"],
            serde_json::json!([{"seen": 1}, 7, null, {"seen": 4}])
        );
        assert_eq!(ids.0, [1, 4]);
        assert_eq!(r.entries, 2);
        assert_eq!(
            r.notes,
            [
                "entry 3: an array, not an entry object; written as null (the reader reports \
              this entry as unreadable too)"
            ]
        );
        // The same for a plain file, where the objects are taken out by the lexer.
        let plain = har(&[ENTRY, array, ENTRY]);
        let mut ids = Ids(Vec::new());
        let (out, r) = rewritten(plain.as_bytes(), &mut ids);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["log"]["entries"],
            serde_json::json!([{"seen": 1}, null, {"seen": 3}])
        );
        assert_eq!(ids.0, [1, 3]);
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].starts_with("entry 2: an array"));
        // The reader numbers them the same and reports 2 as unreadable in both.
        let before = ids_of(&read(plain.as_bytes()).unwrap());
        let after = ids_of(&read(&out).unwrap());
        assert_eq!(before.len(), after.len());
        assert_eq!(before[1], (Some(2), false));
        assert_eq!(after[1], (Some(2), false));
    }

    fn ids_of(sessions: &[SessionResult]) -> Vec<(Option<u64>, bool)> {
        ids(sessions)
    }

    /// Strings outside the entries go through the scrubber with their key.
    #[test]
    fn skeleton_strings_are_scrubbed_with_their_key() {
        struct Keys(Vec<(String, String)>);
        impl Scrubber for Keys {
            fn text(&mut self, t: &str) -> Option<String> {
                self.0.push((String::new(), t.to_string()));
                None
            }
            fn field(&mut self, key: &str, value: &str) -> Option<String> {
                self.0.push((key.to_string(), value.to_string()));
                Some("X".into())
            }
            fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
                Ok(None)
            }
            fn saz_entry(&mut self, _: SazEntry<'_>) -> Option<Vec<u8>> {
                None
            }
        }
        let text =
            r#"{"log": {"version": "1.2", "pages": [{"title": "t", "_x": ["a"]}], "entries": []}}"#;
        let mut k = Keys(Vec::new());
        let (out, _) = rewritten(text.as_bytes(), &mut k);
        let pairs: Vec<(&str, &str)> = k.0.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("", "log"),
                ("", "version"),
                ("version", "1.2"),
                ("", "pages"),
                ("", "title"),
                ("title", "t"),
                ("", "_x"),
                ("_x", "a"),
                ("", "entries")
            ]
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"log": {"version": "X", "pages": [{"title": "X", "_x": ["X"]}], "entries": []}}
"#
        );
    }

    #[test]
    fn a_cut_gzip_and_garbage_after_a_gzip_member() {
        let many: Vec<String> = (0..300)
            .map(|i| ENTRY.replace("/a\"", &format!("/{i}\"")))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(har(&many).as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        // Cut: the entries before the cut, closed; the reader reads the same ones.
        let cut = &gz[..gz.len() / 2];
        let (out, r) = rewritten(cut, &mut Identity);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let n = v["log"]["entries"].as_array().unwrap().len();
        assert!(n > 0 && n < 300 && n == r.entries, "{n}");
        assert!(r.notes[0].contains("breaks off"), "{:?}", r.notes);
        let before = read(cut).unwrap();
        assert_eq!(before.len(), n + 1, "the entries, then the break");
        assert_eq!(ids(&before[..n]), ids(&read(&out).unwrap()));
        let text = har(&[ENTRY, ENTRY, ENTRY]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        // Garbage (not a gzip member) after a whole member: the document, nothing after.
        let mut garbage = gz.clone();
        garbage.extend_from_slice(b"\x00\x01SECRET-garbage");
        let (out, r) = rewritten(&garbage, &mut Identity);
        assert_eq!(out, format!("{text}\n").into_bytes());
        assert_eq!(r.entries, 3);
    }

    #[test]
    fn a_plain_bom_is_dropped() {
        let text = har(&[ENTRY]);
        let bytes = [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat();
        let (out, r) = rewritten(&bytes, &mut Identity);
        assert_eq!(out, format!("{text}\n").into_bytes());
        assert_eq!(r.entries, 1);
    }

    #[test]
    fn not_a_har_is_the_readers_error() {
        for bad in [&b"{}"[..], b"[]", b"{\"log\": 1}", b"nonsense", b""] {
            let mut out = Vec::new();
            let e = rewrite_reader(bad, &HarLimits::default(), &mut out, &mut Identity);
            let r = read(bad);
            assert!(e.is_err() && r.is_err(), "{bad:?}");
            assert_eq!(e.unwrap_err().to_string(), r.unwrap_err().to_string());
        }
    }
}

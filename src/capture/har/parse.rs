//! The parse thread: serde_json over the byte guard, batches of entries sent to the mapper.
//!
//! JSON can only be read in order, so one thread (`har-parse`) runs the lexer and the
//! skeleton's visitors and hands the entries on in batches over a bounded channel; how
//! reading ended ([`Ending`]) decides whether the capture is unreadable or only cut short.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::read::{MultiGzDecoder, ZlibDecoder};
use serde::de::Deserializer;

#[allow(unused_imports)]
use super::*;
use crate::capture::body::{INFLATE_RATIO_FLOOR, MAX_INFLATE_RATIO};
use crate::capture::detect::is_zlib_header;
use crate::capture::{SessionError, SessionResult};

/// How reading ended.
pub(super) enum Ending {
    /// The JSON was read to its end. `warnings` are capture-level oddities.
    Done { warnings: Vec<SessionError> },
    /// Valid JSON, but not a HAR.
    NotHar(String),
    /// Reading was refused as a whole: a compressed HAR inflating past its cap (a
    /// compression bomb). Nothing of it is analysed.
    Refused(String),
    /// Reading stopped: invalid JSON, truncation, bad compression.
    Failed {
        message: String,
        session: Option<u64>,
    },
}

/// What the parser hands to the mapper.
pub(super) enum Item {
    /// An entry the guard took out of the stream, as its JSON text: the mapper's threads
    /// parse it, so that the parse thread only finds where entries begin and end (parsing
    /// the entries was two thirds of its work, and it is the one thread a HAR is read on).
    Text {
        id: u64,
        text: CutEntry,
        /// Strings of this entry the guard cut to `max_string`.
        cut_strings: u64,
        /// The file is gzip or zlib: error offsets are offsets of the decompressed text.
        compressed: bool,
    },
    /// An entry serde_json parsed in the stream (one the guard's path test did not take).
    Entry {
        id: u64,
        entry: Box<Field<RawEntry>>,
        cut_strings: u64,
    },
}

impl Item {
    pub(super) fn into_result(self, limits: &HarLimits) -> SessionResult {
        match self {
            Item::Text {
                id,
                text,
                cut_strings,
                compressed,
            } => {
                // The entry reader first; serde_json where it gives up.
                if text.fast() {
                    if let Some(entry) = read_entry(&text.bytes, &text.bodies) {
                        return entry_result(id, entry, cut_strings, limits);
                    }
                }
                if let Some(entry) = parse_entry_out_of_band(&text.bytes, &text.bodies) {
                    return entry_result(id, entry, cut_strings, limits);
                }
                match parse_entry(&text.bytes) {
                    // Its brackets balance, so a syntax error inside costs this entry only.
                    Ok(entry) => entry_result(id, entry, cut_strings, limits),
                    Err(e) => {
                        let at = text.start + offset_in(&text.bytes, &e);
                        Err(SessionError {
                            session: Some(id),
                            message: describe_json_error(&e, at, compressed),
                        })
                    }
                }
            }
            Item::Entry {
                id,
                entry,
                cut_strings,
            } => entry_result(id, *entry, cut_strings, limits),
        }
    }
}

/// An entry's JSON text parsed. Text that is UTF-8 as a whole (every real entry) is checked
/// once and parsed as a `&str`, so that serde_json does not check every string again (those
/// checks, one call per header name and value, cost 0.2 G instructions on the 10k HAR); other
/// text is parsed from bytes, which gives the error it always gave.
pub(super) fn parse_entry(bytes: &[u8]) -> serde_json::Result<Field<RawEntry>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// One element of `log.entries`, read: an object becomes a session, anything else an error.
pub(super) fn entry_result(
    id: u64,
    entry: Field<RawEntry>,
    cut_strings: u64,
    limits: &HarLimits,
) -> SessionResult {
    let broken = |message: String| {
        Err(SessionError {
            session: Some(id),
            message,
        })
    };
    match entry {
        Field { value: Some(e), .. } => convert(id, e, cut_strings, limits),
        Field {
            value: None,
            wrong: Some(kind),
        } => broken(format!("entry is not an object (found {kind})")),
        Field {
            value: None,
            wrong: None,
        } => broken("entry is null".into()),
    }
}

/// Where the parser hands each batch of entries: `false` once nobody takes them any more.
pub(super) type Outlet<'s> = &'s mut dyn FnMut(Vec<Item>) -> bool;

/// Lex and parse `reader` on this thread, handing the entries in batches to `out`; how
/// reading ended, and (when `record`) the skeleton after the last entry taken.
pub(super) fn parse_stream<R: Read>(
    reader: R,
    limits: HarLimits,
    record: bool,
    out: Outlet<'_>,
) -> (Ending, Vec<u8>) {
    let stats = Rc::new(Stats::default());
    let ending = parse_with(reader, limits, record, out, &stats);
    let trailing = std::mem::take(&mut *stats.skeleton.borrow_mut());
    (ending, trailing)
}

fn parse_with<R: Read>(
    reader: R,
    limits: HarLimits,
    record: bool,
    out: Outlet<'_>,
    stats: &Rc<Stats>,
) -> Ending {
    let bomb: Rc<Cell<Option<String>>> = Rc::new(Cell::new(None));
    let (stream, compressed) = match open_stream(reader, limits.max_inflated, Rc::clone(&bomb)) {
        Ok(s) => s,
        Err(e) => {
            return Ending::Failed {
                message: format!("cannot read: {e}"),
                session: None,
            }
        }
    };
    let guard = Guard::new(stream, &limits, Rc::clone(stats));
    let guard = if record { guard.recording() } else { guard };
    let mut de = serde_json::Deserializer::from_reader(guard);
    let mut st = ParseState {
        out,
        batch: Vec::new(),
        batch_start: 0,
        next_id: 1,
        cuts_mark: 0,
        in_entries: false,
        log_objects: 0,
        log_wrong: None,
        entries_arrays: 0,
        entries_wrong: None,
        stats: Rc::clone(stats),
        limits,
        receiver_gone: false,
        compressed,
    };
    let top = de.deserialize_any(TopVisitor { st: &mut st });
    let top = match top.and_then(|t| de.end().map(|()| t)) {
        Ok(top) => top,
        Err(e) => {
            if let Some(message) = bomb.take() {
                st.flush();
                return Ending::Refused(message);
            }
            let ending = if st.receiver_gone {
                Ending::Done {
                    warnings: Vec::new(),
                }
            } else {
                let session = st.in_entries.then_some(st.next_id);
                Ending::Failed {
                    message: describe_json_error(&e, stats.offset.get(), compressed),
                    session,
                }
            };
            st.flush();
            return ending;
        }
    };
    st.flush();
    if let Some(kind) = top {
        return Ending::NotHar(format!("no log object: the file holds a JSON {kind}"));
    }
    if st.log_objects == 0 {
        return Ending::NotHar(match st.log_wrong {
            Some(kind) => format!("no log object: `log` is a JSON {kind}"),
            None => "no log object".into(),
        });
    }
    if st.entries_arrays == 0 {
        return Ending::NotHar(match st.entries_wrong {
            Some(kind) => format!("no log.entries array: `entries` is a JSON {kind}"),
            None => "no log.entries array".into(),
        });
    }
    let mut warnings = Vec::new();
    if st.log_objects > 1 || st.entries_arrays > 1 {
        warnings.push(SessionError {
            session: None,
            message: "the HAR repeats `log` or `log.entries`; every entries list was read, \
                      numbered on"
                .into(),
        });
    }
    Ending::Done { warnings }
}

/// Wrap the reader in the decompressor its first bytes call for.
pub(super) fn open_stream<'a, R: Read + 'a>(
    reader: R,
    max_inflated: u64,
    bomb: Rc<Cell<Option<String>>>,
) -> io::Result<(Box<dyn Read + 'a>, bool)> {
    let input = Rc::new(Cell::new(0u64));
    let counted = Counted {
        inner: reader,
        count: Rc::clone(&input),
    };
    let mut buffered = BufReader::with_capacity(BUFFER, counted);
    let head = buffered.fill_buf()?;
    let cap = |decoder: Box<dyn Read + 'a>| -> Box<dyn Read + 'a> {
        Box::new(InflateCap {
            inner: decoder,
            input,
            out: 0,
            max: max_inflated,
            floor: INFLATE_RATIO_FLOOR,
            ratio: MAX_INFLATE_RATIO,
            bomb,
        })
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((cap(Box::new(MultiGzDecoder::new(buffered))), true))
    } else if is_zlib_header(head) {
        Ok((cap(Box::new(ZlibDecoder::new(buffered))), true))
    } else {
        Ok((Box::new(buffered), false))
    }
}

/// Counts the bytes read through it: the compressed input, for the inflate ratio.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Stops a decompressed stream that inflates past `max` bytes, or past `ratio` times its
/// input once over `floor` ([`MAX_INFLATE_RATIO`], [`INFLATE_RATIO_FLOOR`]), and says why in
/// `bomb` (the reader's error alone would read as a damaged file).
struct InflateCap<'a> {
    inner: Box<dyn Read + 'a>,
    input: Rc<Cell<u64>>,
    out: u64,
    max: u64,
    floor: u64,
    ratio: u64,
    bomb: Rc<Cell<Option<String>>>,
}

impl Read for InflateCap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let input = self.input.get().max(1);
        let why = if self.out > self.max {
            Some(format!(
                "the compressed HAR inflates past the cap of {} MiB (--max-inflated-mib) from \
                 {} bytes: a compression bomb, or raise the cap",
                self.max >> 20,
                input
            ))
        } else if self.out > self.floor && self.out / input > self.ratio {
            Some(format!(
                "the compressed HAR inflates more than {} times its size ({} MiB from {} \
                 bytes so far): a compression bomb, not a capture",
                self.ratio,
                self.out >> 20,
                input
            ))
        } else {
            None
        };
        match why {
            Some(message) => {
                self.bomb.set(Some(message.clone()));
                Err(io::Error::other(message))
            }
            None => Ok(n),
        }
    }
}

/// A serde_json error as a message with the byte offset, never quoting content.
pub(super) fn describe_json_error(e: &serde_json::Error, offset: u64, compressed: bool) -> String {
    use serde_json::error::Category;
    let at = if compressed {
        format!("byte offset {offset} of the decompressed HAR")
    } else {
        format!("byte offset {offset}")
    };
    match e.classify() {
        Category::Eof => format!("capture ends early: the JSON stops at {at} ({e})"),
        Category::Syntax => format!("invalid JSON near {at}: {e}"),
        // A compressed file cut short: the decompressor says so before the JSON can.
        Category::Io if e.io_error_kind() == Some(io::ErrorKind::UnexpectedEof) => {
            format!("capture ends early: the compressed stream stops at {at} ({e})")
        }
        Category::Io => format!("cannot read the capture near {at}: {e}"),
        // serde's data errors quote the offending value; say where, not what.
        Category::Data => format!(
            "unexpected JSON value near {at} (line {}, column {})",
            e.line(),
            e.column()
        ),
    }
}

/// Where in `bytes` serde_json's error points (it gives a line and a column).
pub(super) fn offset_in(bytes: &[u8], e: &serde_json::Error) -> u64 {
    let mut line_start = 0;
    for _ in 1..e.line() {
        match memchr::memchr(b'\n', &bytes[line_start..]) {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    (line_start + e.column().saturating_sub(1)).min(bytes.len()) as u64
}

pub(super) struct ParseState<'s> {
    pub(super) out: Outlet<'s>,
    pub(super) batch: Vec<Item>,
    pub(super) batch_start: u64,
    /// The index of the next entry, counted from 1 across every `entries` list.
    pub(super) next_id: u64,
    pub(super) cuts_mark: u64,
    pub(super) in_entries: bool,
    pub(super) log_objects: u32,
    pub(super) log_wrong: Option<Kind>,
    pub(super) entries_arrays: u32,
    pub(super) entries_wrong: Option<Kind>,
    pub(super) stats: Rc<Stats>,
    pub(super) limits: HarLimits,
    pub(super) receiver_gone: bool,
    /// The file is gzip or zlib: error offsets are offsets of the decompressed text.
    pub(super) compressed: bool,
}

/// The message used to stop serde when the mapper side has gone away.
pub(super) const STOPPED: &str = "reader stopped";

impl ParseState<'_> {
    /// Queue one entry: parsed in the stream, or its text when the guard took it out.
    pub(super) fn emit(
        &mut self,
        entry: Field<RawEntry>,
        text: Option<CutEntry>,
    ) -> Result<(), ()> {
        let id = self.next_id;
        self.next_id += 1;
        let cuts = self.stats.cuts.get();
        let cut_strings = cuts - self.cuts_mark;
        self.cuts_mark = cuts;
        let item = match text {
            Some(text) => Item::Text {
                id,
                text,
                cut_strings,
                compressed: self.compressed,
            },
            None => Item::Entry {
                id,
                entry: Box::new(entry),
                cut_strings,
            },
        };
        self.batch.push(item);
        let bytes = self.stats.offset.get().saturating_sub(self.batch_start);
        if self.batch.len() >= self.limits.batch_entries || bytes >= self.limits.batch_bytes {
            self.flush();
        }
        if self.receiver_gone {
            Err(())
        } else {
            Ok(())
        }
    }

    pub(super) fn flush(&mut self) {
        self.batch_start = self.stats.offset.get();
        if self.batch.is_empty() || self.receiver_gone {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        if !(self.out)(batch) {
            self.receiver_gone = true;
        }
    }
}

#[cfg(test)]
mod inflate_tests {
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Read `compressed` through the cap; the message the cap left, if it stopped it.
    fn read(compressed: &[u8], max: u64, floor: u64) -> (u64, Option<String>) {
        let input = Rc::new(Cell::new(0));
        let bomb = Rc::new(Cell::new(None));
        let counted = Counted {
            inner: compressed,
            count: Rc::clone(&input),
        };
        let mut cap = InflateCap {
            inner: Box::new(MultiGzDecoder::new(BufReader::new(counted))),
            input,
            out: 0,
            max,
            floor,
            ratio: MAX_INFLATE_RATIO,
            bomb: Rc::clone(&bomb),
        };
        let n = io::copy(&mut cap, &mut io::sink()).unwrap_or(0);
        (n, bomb.take())
    }

    #[test]
    fn a_bomb_stops_at_the_ratio_and_anything_at_the_absolute_cap() {
        let spaces = gz(&vec![b' '; 4 << 20]);
        let (_, why) = read(&spaces, u64::MAX, 1 << 20);
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("more than 100 times its size")),
            "{why:?}"
        );
        // Below the floor, any ratio is let through.
        assert_eq!(read(&spaces, u64::MAX, 8 << 20), (4 << 20, None));
        // Text that compresses like a HAR is let through; past the absolute cap it is not.
        let har: Vec<u8> = (0..60_000u32)
            .flat_map(|i| format!("{{\"url\":\"https://h/{i}\",\"status\":200}},").into_bytes())
            .collect();
        let (n, why) = read(&gz(&har), u64::MAX, 1024);
        assert_eq!((n, why), (har.len() as u64, None));
        let (_, why) = read(&gz(&har), 1 << 20, 1024);
        assert!(why.is_some_and(|w| w.contains("past the cap of 1 MiB")));
    }
}

//! HAR 1.2 captures: Chrome, Edge, Firefox, Safari, Charles, Insomnia, mitmproxy, saz2har and
//! Fiddler's own export, plain, gzip-compressed (`.har.gz`) or zlib-compressed (mitmproxy's
//! `.zhar`), with or without a UTF-8 BOM.
//!
//! # Why it is built this way
//!
//! * **Streaming.** A HAR exported from a long Outlook repro can be 1–2 GB. Building a
//!   `serde_json::Value` of it would need several times that in memory, so the reader walks
//!   `{"log": {..., "entries": [...]}}` with hand-written serde visitors and deserializes one
//!   entry at a time into [`RawEntry`]. Entries are handed over in small batches and dropped
//!   once mapped: memory follows the batch, not the capture.
//! * **Each entry parsed from a slice.** serde_json reading from `io::Read` takes one byte per
//!   call, which made its string parsing three quarters of the HAR's cost. The byte guard
//!   (below) copies each object of `log.entries` out of the stream and serde_json parses the
//!   copy with `from_slice`, which scans strings in bulk: half the instructions, twice the
//!   speed, the same sessions (see [`Guard`]).
//! * **Parallel mapping, sequential parsing.** JSON can only be parsed in order, so one thread
//!   parses while the caller's mapper (listing rows, auth events) runs on the rayon pool. A
//!   bounded channel (one batch in flight) keeps the parser from running ahead of the mapper.
//!   Results come back in entry order.
//! * **Tolerant per field.** Captures are re-saved by tools that put numbers where strings
//!   belong, drop optional fields or repeat keys. Every field is read through [`Field`], which
//!   accepts any JSON value, converts what it sensibly can, and remembers what it found so the
//!   session gets a problem ("request.url: expected string, found number") instead of the whole
//!   capture being rejected. Objects are read with hand-written map visitors (not
//!   `#[derive(Deserialize)]`), because derive rejects duplicate keys; here the last one wins.
//! * **Hostile input.** A guard between the decompressor and serde_json counts bytes (for error
//!   offsets), refuses nesting deeper than [`HarLimits::max_depth`] (serde_json's own recursion
//!   limit does not cover values it skips), and cuts any JSON string longer than
//!   [`HarLimits::max_string`] so a 1 GB string costs a problem, not 1 GB of memory. A syntax
//!   error inside an entry object (invalid UTF-8, a bad literal) costs that entry only: the
//!   guard knows where the object ends. One elsewhere, or a file cut short, stops parsing
//!   (JSON cannot be resynchronised), but the entries read before it are returned, followed
//!   by an error naming the entry and byte offset where reading stopped.
//! * **No secrets in messages.** Problems and errors name fields, kinds and offsets, never header
//!   or body content, and serde's own "invalid type: string \"...\"" messages (which quote the
//!   value) are never shown.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, SyncSender};

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta};
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::detect::is_zlib_header;
use super::headers::Headers;
use super::session::{Body, Request, Response, Session, SessionFlags, Timers};
use super::{CaptureErrorKind, ReadOptions, SessionError, SessionResult};

/// Bounds that keep a hostile or enormous HAR from exhausting memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HarLimits {
    /// Longest JSON string kept whole, in bytes of JSON text. Longer strings are cut (at a
    /// character boundary) and the session reports it; the body is marked truncated.
    pub max_string: u64,
    /// Deepest nesting of arrays and objects accepted anywhere in the file. Real HARs nest
    /// about eight levels (Chrome's `_initiator` stacks a few dozen).
    pub max_depth: u32,
    /// Most items kept of one list (headers, form params); the rest are dropped and reported.
    pub max_list: usize,
    /// Entries handed to the mapper at once. Since the mapper's threads parse the entries,
    /// a batch of 256 cost 6 MiB more peak memory on a 100k-entry HAR than one of 64, for
    /// no measurable speed (docs/performance.md).
    pub batch_entries: usize,
    /// JSON bytes after which a batch is handed over even if it has fewer entries, so a
    /// batch of huge entries stays small.
    pub batch_bytes: u64,
}

impl Default for HarLimits {
    fn default() -> Self {
        HarLimits::for_decoded(super::body::DEFAULT_MAX_DECODED)
    }
}

impl HarLimits {
    /// Limits for a decoded-body cap of `max_decoded` bytes: a base64 body of that size is
    /// 4/3 as long as JSON text, so strings up to that length are kept whole.
    pub fn for_decoded(max_decoded: u64) -> Self {
        HarLimits {
            max_string: (max_decoded / 3)
                .saturating_mul(4)
                .saturating_add(1024)
                .max(64 * 1024),
            max_depth: 512,
            max_list: 100_000,
            batch_entries: 64,
            batch_bytes: 8 * 1024 * 1024,
        }
    }

    pub fn from_options(options: &ReadOptions) -> Self {
        HarLimits::for_decoded(options.limits.max_decoded)
    }
}

/// A HAR file, opened. Reading happens in [`HarSource::map_sessions`], which streams.
pub struct HarSource {
    path: PathBuf,
    limits: HarLimits,
}

impl HarSource {
    /// Check that `path` can be opened. Whether it is a HAR at all (a `log` object with
    /// `entries`) is only known once it is read: a 2 GB file is not parsed twice.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        File::open(path)?;
        Ok(HarSource {
            path: path.to_path_buf(),
            limits: HarLimits::from_options(options),
        })
    }

    /// The same, with explicit limits.
    pub fn with_limits(mut self, limits: HarLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Read every entry and map it with `f` (on the rayon pool), in entry order. See
    /// [`map_reader`].
    pub fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        let file = File::open(&self.path)?;
        map_reader(file, &self.limits, f)
    }

    /// Map every entry with `f` and hand the results to `sink` in entry order, one parsed
    /// batch at a time (see [`map_reader_into`]).
    pub fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        let file = File::open(&self.path)?;
        map_reader_into(file, &self.limits, f, sink)
    }
}

/// Read a HAR (plain, gzip or zlib, BOM or not) from `reader` and map every entry with `f`.
///
/// Returns the mapped results in entry order. An entry that cannot be read at all (not an
/// object, no request) reaches `f` as an `Err` with its index and the rest go on. When the
/// file breaks off (truncated, invalid JSON, bad compression) after some entries were read,
/// those entries are returned followed by one `Err` naming the entry where reading stopped.
/// When nothing could be read (not JSON, no `log`, no `log.entries`), the whole capture is an
/// error.
pub fn map_reader<R, T, F>(reader: R, limits: &HarLimits, f: F) -> Result<Vec<T>, CaptureErrorKind>
where
    R: Read + Send,
    T: Send,
    F: Fn(SessionResult) -> T + Sync + Send,
{
    let mut out = Vec::new();
    map_reader_into(reader, limits, f, |t| out.push(t))?;
    Ok(out)
}

/// [`map_reader`], handing each result to `sink` in entry order as its batch is mapped,
/// so that only one batch of results is alive besides what `sink` keeps. When it returns an
/// error the capture is unreadable as a whole, and what `sink` was given is to be dropped.
pub fn map_reader_into<R, T, F, S>(
    reader: R,
    limits: &HarLimits,
    f: F,
    mut sink: S,
) -> Result<(), CaptureErrorKind>
where
    R: Read + Send,
    T: Send,
    F: Fn(SessionResult) -> T + Sync + Send,
    S: FnMut(T),
{
    let limits = *limits;
    let (tx, rx) = sync_channel::<Vec<Item>>(1);
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("har-parse".into())
            // Visitors nest about ten levels; the margin is for serde_json's own frames.
            .stack_size(16 * 1024 * 1024)
            .spawn_scoped(scope, move || parse_stream(reader, limits, tx))?;
        let mut read = 0usize;
        for batch in rx.iter() {
            read += batch.len();
            let mapped: Vec<T> = batch
                .into_par_iter()
                .map(|item| f(item.into_result(&limits)))
                .collect();
            mapped.into_iter().for_each(&mut sink);
        }
        let ending = parser
            .join()
            .map_err(|_| CaptureErrorKind::Har("internal error while reading the HAR".into()))?;
        match ending {
            // A failure before any entry was read leaves nothing to analyse.
            Ending::Failed { message, .. } if read == 0 => Err(CaptureErrorKind::Har(message)),
            Ending::Failed { message, session } => {
                sink(f(Err(SessionError { session, message })));
                Ok(())
            }
            Ending::NotHar(message) => Err(CaptureErrorKind::Har(message)),
            Ending::Done { warnings } => {
                warnings.into_iter().for_each(|w| sink(f(Err(w))));
                Ok(())
            }
        }
    })
}

/// Generates the scalar `visit_*` methods of a structural visitor (top level, `log`,
/// `entries`): each evaluates `$body` with `kind` bound to what was found instead.
macro_rules! scalar_kinds {
    (|$me:ident, $kind:ident| $body:expr) => {
        fn visit_bool<E: serde::de::Error>($me, _: bool) -> Result<Self::Value, E> {
            let $kind = Kind::Bool;
            $body
        }
        fn visit_i64<E: serde::de::Error>($me, _: i64) -> Result<Self::Value, E> {
            let $kind = Kind::Number;
            $body
        }
        fn visit_u64<E: serde::de::Error>($me, _: u64) -> Result<Self::Value, E> {
            let $kind = Kind::Number;
            $body
        }
        fn visit_f64<E: serde::de::Error>($me, _: f64) -> Result<Self::Value, E> {
            let $kind = Kind::Number;
            $body
        }
        fn visit_str<E: serde::de::Error>($me, _: &str) -> Result<Self::Value, E> {
            let $kind = Kind::String;
            $body
        }
        fn visit_unit<E: serde::de::Error>($me) -> Result<Self::Value, E> {
            let $kind = Kind::Null;
            $body
        }
    };
}

// ---------------------------------------------------------------------------------------
// The parse thread
// ---------------------------------------------------------------------------------------

/// How reading ended.
enum Ending {
    /// The JSON was read to its end. `warnings` are capture-level oddities.
    Done { warnings: Vec<SessionError> },
    /// Valid JSON, but not a HAR.
    NotHar(String),
    /// Reading stopped: invalid JSON, truncation, bad compression.
    Failed {
        message: String,
        session: Option<u64>,
    },
}

/// What the parser hands to the mapper.
enum Item {
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
    fn into_result(self, limits: &HarLimits) -> SessionResult {
        match self {
            Item::Text {
                id,
                text,
                cut_strings,
                compressed,
            } => match serde_json::from_slice::<Field<RawEntry>>(&text.bytes) {
                // Its brackets balance, so a syntax error inside costs this entry only.
                Ok(entry) => entry_result(id, entry, cut_strings, limits),
                Err(e) => {
                    let at = text.start + offset_in(&text.bytes, &e);
                    Err(SessionError {
                        session: Some(id),
                        message: describe_json_error(&e, at, compressed),
                    })
                }
            },
            Item::Entry {
                id,
                entry,
                cut_strings,
            } => entry_result(id, *entry, cut_strings, limits),
        }
    }
}

/// One element of `log.entries`, read: an object becomes a session, anything else an error.
fn entry_result(
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

fn parse_stream<R: Read>(reader: R, limits: HarLimits, tx: SyncSender<Vec<Item>>) -> Ending {
    let stats = Rc::new(Stats::default());
    let (stream, compressed) = match open_stream(reader) {
        Ok(s) => s,
        Err(e) => {
            return Ending::Failed {
                message: format!("cannot read: {e}"),
                session: None,
            }
        }
    };
    let guard = Guard::new(stream, &limits, Rc::clone(&stats));
    let mut de = serde_json::Deserializer::from_reader(guard);
    let mut st = ParseState {
        tx,
        batch: Vec::new(),
        batch_start: 0,
        next_id: 1,
        cuts_mark: 0,
        in_entries: false,
        log_objects: 0,
        log_wrong: None,
        entries_arrays: 0,
        entries_wrong: None,
        stats: Rc::clone(&stats),
        limits,
        receiver_gone: false,
        compressed,
    };
    let top = de.deserialize_any(TopVisitor { st: &mut st });
    let top = match top.and_then(|t| de.end().map(|()| t)) {
        Ok(top) => top,
        Err(e) => {
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
fn open_stream<'a, R: Read + 'a>(reader: R) -> io::Result<(Box<dyn Read + 'a>, bool)> {
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((Box::new(MultiGzDecoder::new(buffered)), true))
    } else if is_zlib_header(head) {
        Ok((Box::new(ZlibDecoder::new(buffered)), true))
    } else {
        Ok((Box::new(buffered), false))
    }
}

/// A serde_json error as a message with the byte offset, never quoting content.
fn describe_json_error(e: &serde_json::Error, offset: u64, compressed: bool) -> String {
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
fn offset_in(bytes: &[u8], e: &serde_json::Error) -> u64 {
    let mut line_start = 0;
    for _ in 1..e.line() {
        match memchr::memchr(b'\n', &bytes[line_start..]) {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    (line_start + e.column().saturating_sub(1)).min(bytes.len()) as u64
}

struct ParseState {
    tx: SyncSender<Vec<Item>>,
    batch: Vec<Item>,
    batch_start: u64,
    /// The index of the next entry, counted from 1 across every `entries` list.
    next_id: u64,
    cuts_mark: u64,
    in_entries: bool,
    log_objects: u32,
    log_wrong: Option<Kind>,
    entries_arrays: u32,
    entries_wrong: Option<Kind>,
    stats: Rc<Stats>,
    limits: HarLimits,
    receiver_gone: bool,
    /// The file is gzip or zlib: error offsets are offsets of the decompressed text.
    compressed: bool,
}

/// The message used to stop serde when the mapper side has gone away.
const STOPPED: &str = "reader stopped";

impl ParseState {
    /// Queue one entry: parsed in the stream, or its text when the guard took it out.
    fn emit(&mut self, entry: Field<RawEntry>, text: Option<CutEntry>) -> Result<(), ()> {
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

    fn flush(&mut self) {
        self.batch_start = self.stats.offset.get();
        if self.batch.is_empty() || self.receiver_gone {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        if self.tx.send(batch).is_err() {
            self.receiver_gone = true;
        }
    }
}

/// The top level: `None` for an object (its `log` handled on the way), else what it was.
struct TopVisitor<'a> {
    st: &'a mut ParseState,
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Option<Kind>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            if key.as_str() == "log" {
                map.next_value_seed(LogSeed { st: &mut *self.st })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Some(Kind::Array))
    }

    scalar_kinds!(|self, kind| Ok(Some(kind)));
}

struct LogSeed<'a> {
    st: &'a mut ParseState,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR log object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.st.log_objects += 1;
        while let Some(key) = map.next_key::<Key>()? {
            if key.as_str() == "entries" {
                map.next_value_seed(EntriesSeed { st: &mut *self.st })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        drain_seq(seq)?;
        self.st.log_wrong = Some(Kind::Array);
        Ok(())
    }

    scalar_kinds!(|self, kind| {
        self.st.log_wrong = Some(kind);
        Ok(())
    });
}

struct EntriesSeed<'a> {
    st: &'a mut ParseState,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR entries array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        self.st.entries_arrays += 1;
        self.st.in_entries = true;
        self.st.cuts_mark = self.st.stats.cuts.get();
        while let Some(element) = seq.next_element::<Field<RawEntry>>()? {
            // An object the guard took out of the stream arrives as a `0`, its text beside.
            let taken = self.st.stats.entry.borrow_mut().take();
            if self.st.emit(element, taken).is_err() {
                return Err(A::Error::custom(STOPPED));
            }
        }
        self.st.in_entries = false;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        drain_map(map)?;
        self.st.entries_wrong = Some(Kind::Object);
        Ok(())
    }

    scalar_kinds!(|self, kind| {
        self.st.entries_wrong = Some(kind);
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// The byte guard
// ---------------------------------------------------------------------------------------

/// What the guard tells the parser: where it is, how many strings it cut, and the entries
/// it cut out of the stream.
#[derive(Default)]
struct Stats {
    /// Bytes of (decompressed) JSON read so far, BOM included.
    offset: Cell<u64>,
    cuts: Cell<u64>,
    /// The entry the guard took out of the stream last, not yet parsed (see [`Guard`]).
    entry: RefCell<Option<CutEntry>>,
}

/// One object of `log.entries`, as the JSON text the guard passed (strings already cut).
struct CutEntry {
    /// Offset of its `{` in the (decompressed) file.
    start: u64,
    bytes: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Lex {
    Outside,
    Str {
        len: u64,
        esc: Esc,
    },
    /// Swallowing the rest of a string that was cut.
    Skip {
        backslash: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    Backslash,
    Hex(u8),
}

/// What became of one byte.
enum Step {
    /// Passed on as it is.
    Keep,
    /// Replaced by a `"`: the string was cut here.
    Cut,
    /// Swallowed (the rest of a cut string).
    Drop,
    /// The `{` of an entry of `log.entries`: the guard takes the entry out of the stream.
    Entry,
}

/// An open array or object at depth 1 to 3, as far as finding `log.entries` needs.
#[derive(Clone, Copy, Default)]
struct Frame {
    object: bool,
    /// The key being read names the next step of the path: `log` at depth 1, `entries` at
    /// depth 2.
    on_path: bool,
}

/// How far past `max_string` the guard looks for a place where a string can be cut without
/// breaking an escape or a UTF-8 sequence before it gives up.
const CUT_SLACK: u64 = 1 << 20;

/// Sits between the (decompressed) bytes and serde_json: skips a BOM, counts bytes, limits
/// nesting, cuts overlong strings, and takes every object of `log.entries` out of the
/// stream.
///
/// serde_json's reader interface takes one byte per call and copies string bytes one by one;
/// parsing a slice is several times faster (strings are scanned in bulk). So the guard, which
/// must look at every byte anyway, copies each entry object into [`Stats::entry`] and passes
/// serde_json a `0` in its place; the entries visitor queues the copy ([`Item::Text`]) and
/// the mapper's threads parse it with `serde_json::from_slice`, so the one thread a HAR is
/// read on only lexes. serde_json still parses the skeleton (`log`, `pages`, the entries
/// list) and everything the path test does not recognise (a key spelled with escapes, an
/// entry that is not an object) in the stream, so only the speed differs.
struct Guard<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    started: bool,
    lex: Lex,
    depth: u32,
    offset: u64,
    max_string: u64,
    max_depth: u32,
    stats: Rc<Stats>,
    /// Depths 1 to 3 (index 0 unused).
    frames: [Frame; 4],
    /// The first bytes of the last string read, and its length in raw bytes.
    key: [u8; 8],
    key_len: u64,
    /// The entry being copied, while one is.
    entry: Option<Vec<u8>>,
    entry_start: u64,
}

impl<R: Read> Guard<R> {
    fn new(inner: R, limits: &HarLimits, stats: Rc<Stats>) -> Self {
        Guard {
            inner,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            started: false,
            lex: Lex::Outside,
            depth: 0,
            offset: 0,
            max_string: limits.max_string,
            max_depth: limits.max_depth,
            stats,
            frames: [Frame::default(); 4],
            key: [0; 8],
            key_len: 0,
            entry: None,
            entry_start: 0,
        }
    }

    /// Refill the buffer; `false` at end of input. The first fill skips a UTF-8 BOM.
    fn refill(&mut self) -> io::Result<bool> {
        self.pos = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(0) => break,
                Ok(n) => {
                    self.len += n;
                    // Past the first three bytes one read is enough.
                    if self.started || self.len >= 3 {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if !self.started {
            self.started = true;
            if self.buf[..self.len].starts_with(b"\xef\xbb\xbf") {
                self.pos = 3;
                self.offset = 3;
            }
        }
        Ok(self.pos < self.len)
    }

    fn fail(&self, what: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, what)
    }

    fn too_deep(&self) -> io::Error {
        self.fail(format!("JSON nested deeper than {} levels", self.max_depth))
    }

    /// Inside `log.entries` of the top-level object, where an object is an entry.
    fn on_entries_path(&self) -> bool {
        let [_, log, entries, list] = self.frames;
        log.object && log.on_path && entries.object && entries.on_path && !list.object
    }

    /// The last string read was the key that leads on from depth `depth`.
    fn key_leads_on(&self, depth: u32) -> bool {
        let want: &[u8] = match depth {
            1 => b"log",
            2 => b"entries",
            _ => return false,
        };
        self.key_len == want.len() as u64 && self.key[..want.len()] == *want
    }
}

/// A byte before which a string can be cut: not inside an escape (checked by the caller),
/// not a backslash or quote, and not a UTF-8 continuation byte.
fn is_safe_cut(b: u8) -> bool {
    (b < 0x80 && b != b'\\' && b != b'"') || b >= 0xc0
}

impl<R: Read> Guard<R> {
    /// The common case of serde_json's one-byte reads: a byte that changes no state but a
    /// string's length. `None` sends the byte through [`Guard::step`].
    #[inline(always)]
    fn plain_byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        match &mut self.lex {
            Lex::Outside
                if !matches!(b, b'"' | b'[' | b'{' | b']' | b'}')
                    && (self.depth > 2 || !matches!(b, b':' | b',')) => {}
            Lex::Str {
                len,
                esc: Esc::None,
            } if *len < self.max_string && b != b'"' && b != b'\\' => {
                if let Some(k) = self.key.get_mut(*len as usize) {
                    *k = b;
                }
                *len += 1;
            }
            _ => return None,
        }
        self.pos += 1;
        self.offset += 1;
        self.stats.offset.set(self.offset);
        Some(b)
    }

    /// Advance the lexer over `b` (already counted in `pos` and `offset`).
    fn step(&mut self, b: u8) -> io::Result<Step> {
        match self.lex {
            Lex::Outside => match b {
                b'"' => {
                    self.lex = Lex::Str {
                        len: 0,
                        esc: Esc::None,
                    }
                }
                b'[' | b'{' => {
                    let entry = b == b'{'
                        && self.depth == 3
                        && self.entry.is_none()
                        && self.on_entries_path();
                    self.depth += 1;
                    if self.depth > self.max_depth {
                        return Err(self.too_deep());
                    }
                    if let Some(frame) = self.frames.get_mut(self.depth as usize) {
                        *frame = Frame {
                            object: b == b'{',
                            on_path: false,
                        };
                    }
                    if entry {
                        return Ok(Step::Entry);
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                b':' => {
                    let leads_on = self.key_leads_on(self.depth);
                    if let Some(frame) = self.frames.get_mut(self.depth as usize) {
                        frame.on_path = frame.object && leads_on;
                    }
                }
                b',' => {
                    if let Some(frame) = self.frames.get_mut(self.depth as usize) {
                        frame.on_path = false;
                    }
                }
                _ => {}
            },
            Lex::Str { len, esc } => {
                if esc == Esc::None && b != b'"' && len >= self.max_string {
                    if is_safe_cut(b) {
                        // End the string here; the rest, `b` included, is swallowed.
                        self.lex = Lex::Skip { backslash: false };
                        self.key_len = len;
                        self.stats.cuts.set(self.stats.cuts.get() + 1);
                        return Ok(Step::Cut);
                    }
                    if len >= self.max_string.saturating_add(CUT_SLACK) {
                        return Err(self.fail(format!(
                            "a JSON string longer than {} bytes cannot be cut safely",
                            self.max_string
                        )));
                    }
                }
                let esc = match esc {
                    Esc::None if b == b'\\' => Esc::Backslash,
                    Esc::None if b == b'"' => {
                        self.lex = Lex::Outside;
                        self.key_len = len;
                        return Ok(Step::Keep);
                    }
                    Esc::None => Esc::None,
                    Esc::Backslash if b == b'u' => Esc::Hex(4),
                    Esc::Backslash => Esc::None,
                    Esc::Hex(k) if k > 1 => Esc::Hex(k - 1),
                    Esc::Hex(_) => Esc::None,
                };
                if let Some(k) = self.key.get_mut(len as usize) {
                    *k = b;
                }
                self.lex = Lex::Str { len: len + 1, esc };
            }
            Lex::Skip { backslash } => {
                self.lex = if backslash {
                    Lex::Skip { backslash: false }
                } else if b == b'\\' {
                    Lex::Skip { backslash: true }
                } else if b == b'"' {
                    Lex::Outside
                } else {
                    Lex::Skip { backslash: false }
                };
                return Ok(Step::Drop);
            }
        }
        Ok(Step::Keep)
    }

    /// Copy buffered bytes into the entry being taken out, until its closing brace (`true`)
    /// or the end of the buffer (`false`).
    ///
    /// The common bytes are handled here in bulk and copied as slices: inside a string, the
    /// run up to the next quote or backslash and the closing quote; outside one, the run up
    /// to the next quote or bracket (an entry sits at depth 4 and deeper, where `:` and `,`
    /// move no frame) and that quote or bracket; in the swallowed rest of a cut string,
    /// everything up to the next quote or backslash is dropped; the nesting limit is checked
    /// at each opening bracket as `step` checks it. Cuts, the string-length limits and an
    /// escape split by the end of the buffer go through [`Guard::step`].
    fn copy_entry(&mut self, entry: &mut Vec<u8>) -> io::Result<bool> {
        // `buf[mark..pos]` is passed on unchanged but not copied yet.
        let mut mark = self.pos;
        let done = loop {
            if self.pos >= self.len {
                break false;
            }
            let window = &self.buf[self.pos..self.len];
            match self.lex {
                Lex::Str {
                    len,
                    esc: Esc::None,
                } if len < self.max_string => {
                    let room = self.max_string.saturating_sub(len).min(window.len() as u64);
                    let room = &window[..room as usize];
                    match find_quote_or_backslash(room) {
                        Some(i) if room[i] == b'"' => {
                            self.lex = Lex::Outside;
                            self.key_len = len + i as u64;
                            self.advance(i + 1);
                        }
                        Some(i) => {
                            // An escape: `\uXXXX` is six bytes, any other two. Whether it is
                            // a valid one is serde_json's to say; no string is cut inside
                            // one. At the end of the buffer it goes through `step`.
                            let escape = match window.get(i + 1) {
                                Some(b'u') => 6,
                                Some(_) => 2,
                                None => 0,
                            };
                            let whole = escape > 0 && i + escape <= window.len();
                            let run = if whole { i + escape } else { i };
                            self.lex = Lex::Str {
                                len: len + run as u64,
                                esc: Esc::None,
                            };
                            self.advance(run);
                            if !whole && self.step_copied(entry, &mut mark)? {
                                break true;
                            }
                        }
                        None => {
                            self.lex = Lex::Str {
                                len: len + room.len() as u64,
                                esc: Esc::None,
                            };
                            self.advance(room.len());
                        }
                    }
                }
                Lex::Outside if self.depth > 3 => {
                    let stop = window
                        .iter()
                        .position(|&b| matches!(b, b'"' | b'[' | b'{' | b']' | b'}'));
                    let Some(i) = stop else {
                        self.advance(window.len());
                        continue;
                    };
                    let stop = window[i];
                    self.advance(i);
                    match stop {
                        b'"' => {
                            self.lex = Lex::Str {
                                len: 0,
                                esc: Esc::None,
                            };
                            self.advance(1);
                        }
                        b']' | b'}' => {
                            self.advance(1);
                            self.depth -= 1;
                            if self.depth <= 3 {
                                break true;
                            }
                        }
                        _ => {
                            self.advance(1);
                            self.depth += 1;
                            if self.depth > self.max_depth {
                                return Err(self.too_deep());
                            }
                        }
                    }
                }
                Lex::Skip { backslash: false } => {
                    let found = memchr::memchr2(b'"', b'\\', window);
                    let run = found.unwrap_or(window.len());
                    // Swallowed: nothing of it is copied.
                    entry.extend_from_slice(&self.buf[mark..self.pos]);
                    self.advance(run);
                    mark = self.pos;
                    if found.is_some() && self.step_copied(entry, &mut mark)? {
                        break true;
                    }
                }
                _ => {
                    if self.step_copied(entry, &mut mark)? {
                        break true;
                    }
                }
            }
        };
        entry.extend_from_slice(&self.buf[mark..self.pos]);
        Ok(done)
    }

    /// Pass `n` bytes of the buffer that change no state but the position.
    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    /// Put the byte at `pos` through [`Guard::step`] while copying an entry: a cut string
    /// ends in a `"` and its rest is left out. `true` when the entry has ended.
    fn step_copied(&mut self, entry: &mut Vec<u8>, mark: &mut usize) -> io::Result<bool> {
        let b = self.buf[self.pos];
        self.advance(1);
        match self.step(b)? {
            Step::Keep | Step::Entry => {}
            Step::Cut => {
                entry.extend_from_slice(&self.buf[*mark..self.pos - 1]);
                entry.push(b'"');
                *mark = self.pos;
            }
            Step::Drop => {
                entry.extend_from_slice(&self.buf[*mark..self.pos - 1]);
                *mark = self.pos;
            }
        }
        Ok(self.depth <= 3 && matches!(self.lex, Lex::Outside))
    }
}

/// The first quote or backslash in `bytes`. Most strings of a HAR are short (header names,
/// values, mime types), where testing eight bytes at a time in a `u64` beats memchr's set-up;
/// long ones (bodies) go to memchr after the first 64 bytes.
#[inline(always)]
fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let head = &bytes[..bytes.len().min(64)];
    let mut chunks = head.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let Ok(eight) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let v = u64::from_le_bytes(eight);
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        // The high bit of each byte that is zero in `quote` or `backslash`; a borrow can
        // mark a byte after a true match too, but never one before it, so the lowest
        // marked byte is the first match.
        let hits = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGH;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    if let Some(i) = rest.iter().position(|&b| b == b'"' || b == b'\\') {
        return Some(at + i);
    }
    let head = head.len();
    memchr::memchr2(b'"', b'\\', &bytes[head..]).map(|i| head + i)
}

impl<R: Read> Read for Guard<R> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // serde_json reads one byte at a time; keep that path short. `pos < len` is checked
        // by `plain_byte` through `get`, and `len` never exceeds the buffer.
        if out.len() == 1 && self.pos < self.len && self.entry.is_none() {
            if let Some(b) = self.plain_byte() {
                out[0] = b;
                return Ok(1);
            }
        }
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.len {
                if n > 0 || !self.refill()? {
                    break;
                }
                continue;
            }
            if let Some(mut entry) = self.entry.take() {
                let done = self.copy_entry(&mut entry);
                match done {
                    Ok(true) => {
                        *self.stats.entry.borrow_mut() = Some(CutEntry {
                            start: self.entry_start,
                            bytes: entry,
                        });
                        // What serde_json sees in the entry's place.
                        out[n] = b'0';
                        n += 1;
                        break;
                    }
                    Ok(false) => self.entry = Some(entry),
                    Err(e) => {
                        self.stats.offset.set(self.offset);
                        return Err(e);
                    }
                }
                continue;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            self.offset += 1;
            match self.step(b)? {
                Step::Keep => {
                    out[n] = b;
                    n += 1;
                }
                Step::Cut => {
                    out[n] = b'"';
                    n += 1;
                }
                Step::Drop => {}
                Step::Entry => {
                    self.entry_start = self.offset - 1;
                    let mut entry = Vec::with_capacity(4096);
                    entry.push(b);
                    self.entry = Some(entry);
                }
            }
        }
        self.stats.offset.set(self.offset);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------
// Lenient fields
// ---------------------------------------------------------------------------------------

/// The kind of a JSON value, for problem messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Bool,
    Array,
    Object,
    /// Only for the structural parts (`log`, `entries`); a null field is a missing one.
    Null,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "boolean",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Null => "null",
        })
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A value read from a HAR field that may have any JSON type.
///
/// `value` is what could be made of it; `wrong` the kind found when it was not the kind the
/// field wants (the value may still have been converted, e.g. a number where a string
/// belongs). `null` and a missing field both leave the default: nothing, nothing wrong.
#[derive(Debug)]
pub(crate) struct Field<T> {
    value: Option<T>,
    wrong: Option<Kind>,
}

impl<T> Default for Field<T> {
    fn default() -> Self {
        Field {
            value: None,
            wrong: None,
        }
    }
}

impl<T: Lenient> Field<T> {
    fn found(kind: Kind, value: Option<T>) -> Self {
        Field {
            value,
            wrong: (kind != T::KIND).then_some(kind),
        }
    }

    /// The value, noting a problem at `path` when the JSON had another kind.
    fn take(self, path: &str, problems: &mut Vec<String>) -> Option<T> {
        self.take_at(|| path.to_string(), problems)
    }

    /// [`Field::take`] with the path made only when there is a problem to name (the path of
    /// every header of every entry, formatted up front, was 8% of reading a HAR).
    fn take_at(self, path: impl FnOnce() -> String, problems: &mut Vec<String>) -> Option<T> {
        if let Some(kind) = self.wrong {
            let path = path();
            problems.push(match self.value {
                Some(_) => format!("{path}: expected {}, found {kind} (converted)", T::KIND),
                None => format!("{path}: expected {}, found {kind} (ignored)", T::KIND),
            });
        }
        self.value
    }
}

/// How a Rust type is made from whatever JSON value a tolerant field holds.
pub(crate) trait Lenient: Sized {
    /// The JSON kind the field should have.
    const KIND: Kind;

    fn of_str(_: &str) -> Option<Self> {
        None
    }
    fn of_f64(_: f64) -> Option<Self> {
        None
    }
    fn of_i64(v: i64) -> Option<Self> {
        Self::of_f64(v as f64)
    }
    fn of_u64(v: u64) -> Option<Self> {
        Self::of_f64(v as f64)
    }
    fn of_bool(_: bool) -> Option<Self> {
        None
    }
    fn of_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        drain_seq(seq)?;
        Ok(None)
    }
    fn of_map<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        drain_map(map)?;
        Ok(None)
    }
}

impl<'de, T: Lenient> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Bool, T::of_bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Number, T::of_i64(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Number, T::of_u64(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::Number, T::of_f64(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Field<T>, E> {
        Ok(Field::found(Kind::String, T::of_str(v)))
    }
    fn visit_unit<E>(self) -> Result<Field<T>, E> {
        Ok(Field::default())
    }
    fn visit_none<E>(self) -> Result<Field<T>, E> {
        Ok(Field::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<T>, A::Error> {
        Ok(Field::found(Kind::Array, T::of_seq(seq)?))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<T>, A::Error> {
        Ok(Field::found(Kind::Object, T::of_map(map)?))
    }
}

impl Lenient for String {
    const KIND: Kind = Kind::String;

    fn of_str(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
    fn of_f64(v: f64) -> Option<Self> {
        Some(v.to_string())
    }
    fn of_i64(v: i64) -> Option<Self> {
        Some(v.to_string())
    }
    fn of_u64(v: u64) -> Option<Self> {
        Some(v.to_string())
    }
    fn of_bool(v: bool) -> Option<Self> {
        Some(v.to_string())
    }
}

impl Lenient for f64 {
    const KIND: Kind = Kind::Number;

    fn of_str(v: &str) -> Option<Self> {
        v.trim().parse().ok().filter(|x: &f64| x.is_finite())
    }
    fn of_f64(v: f64) -> Option<Self> {
        Some(v)
    }
}

/// An array whose items traceadal does not need, only its presence (`_webSocketMessages`,
/// which can hold megabytes of frames).
#[derive(Debug, Default)]
pub(crate) struct Present;

impl Lenient for Present {
    const KIND: Kind = Kind::Array;

    fn of_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        drain_seq(seq)?;
        Ok(Some(Present))
    }
}

/// The list cap is not a const generic, so it lives here: big enough for any real header
/// list, small enough that 10 million tiny headers cost a problem, not gigabytes.
const MAX_LIST: usize = 100_000;

/// An array of tolerant items, at most [`MAX_LIST`] kept.
#[derive(Debug)]
pub(crate) struct List<T> {
    items: Vec<Field<T>>,
    dropped: u64,
}

impl<T: Lenient> Lenient for List<T> {
    const KIND: Kind = Kind::Array;

    fn of_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut list = List {
            items: Vec::new(),
            dropped: 0,
        };
        while let Some(item) = seq.next_element::<Field<T>>()? {
            if list.items.len() < MAX_LIST {
                list.items.push(item);
            } else {
                list.dropped += 1;
            }
        }
        Ok(Some(list))
    }
}

/// An object key, matched without allocating: every key the reader knows is short.
struct Key {
    buf: [u8; 32],
    len: usize,
}

impl Key {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                let mut key = Key {
                    buf: [0; 32],
                    len: 0,
                };
                // A longer key is no key the reader knows: leave it empty.
                if v.len() <= key.buf.len() {
                    key.buf[..v.len()].copy_from_slice(v.as_bytes());
                    key.len = v.len();
                }
                Ok(key)
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Declares a HAR object: a struct of [`Field`]s read by a map visitor that ignores unknown
/// keys and lets a repeated key's last value win.
macro_rules! har_object {
    ($(#[$doc:meta])* $name:ident { $($key:literal => $field:ident : $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        pub(crate) struct $name {
            $($field: Field<$ty>,)*
        }

        impl Lenient for $name {
            const KIND: Kind = Kind::Object;

            fn of_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
                let mut out = $name::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key.as_str() {
                        $($key => out.$field = map.next_value()?,)*
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Some(out))
            }
        }
    };
}

har_object! {
    /// One `log.entries[]` item, as much of it as traceadal uses.
    RawEntry {
        "startedDateTime" => started: String,
        "time" => time: f64,
        "request" => request: RawRequest,
        "response" => response: RawResponse,
        "serverIPAddress" => server_ip: String,
        "timings" => timings: RawTimings,
        "_webSocketMessages" => ws_messages: Present,
        "_error" => error: String,
        // Not in any HAR seen so far; read in case an exporter (Fiddler's) names the process.
        "_processInfo" => process_info: String,
        "_process" => process: String,
    }
}

har_object! {
    RawRequest {
        "method" => method: String,
        "url" => url: String,
        "httpVersion" => version: String,
        "headers" => headers: List<RawHeader>,
        "postData" => post: RawPostData,
    }
}

har_object! {
    RawHeader {
        "name" => name: String,
        "value" => value: String,
    }
}

har_object! {
    RawPostData {
        "text" => text: String,
        "params" => params: List<RawHeader>,
        // HAR 1.3 proposal; some exporters already write it.
        "encoding" => encoding: String,
    }
}

har_object! {
    RawResponse {
        "status" => status: f64,
        "statusText" => reason: String,
        "httpVersion" => version: String,
        "headers" => headers: List<RawHeader>,
        "content" => content: RawContent,
        "_error" => error: String,
    }
}

har_object! {
    RawContent {
        "text" => text: String,
        "encoding" => encoding: String,
    }
}

har_object! {
    RawTimings {
        "blocked" => blocked: f64,
        "dns" => dns: f64,
        "connect" => connect: f64,
        "send" => send: f64,
        "wait" => wait: f64,
        "receive" => receive: f64,
    }
}

// ---------------------------------------------------------------------------------------
// Entry -> Session
// ---------------------------------------------------------------------------------------

/// HTTP/2 and HTTP/3 pseudo-headers of a request, folded into method and URL.
#[derive(Default)]
struct Pseudo {
    method: Option<String>,
    scheme: Option<String>,
    authority: Option<String>,
    path: Option<String>,
    status: Option<String>,
}

fn convert(id: u64, raw: RawEntry, cut_strings: u64, limits: &HarLimits) -> SessionResult {
    let mut problems = Vec::new();
    if cut_strings > 0 {
        problems.push(format!(
            "{cut_strings} string value(s) longer than {} bytes were cut",
            limits.max_string
        ));
    }
    let Some(req) = raw.request.take("request", &mut problems) else {
        return Err(SessionError {
            session: Some(id),
            message: "entry has no request object".into(),
        });
    };

    let mut pseudo = Pseudo::default();
    let headers = headers_of(req.headers, "request.headers", &mut pseudo, &mut problems);
    let method = req
        .method
        .take("request.method", &mut problems)
        .filter(|m| !m.is_empty())
        .or_else(|| pseudo.method.take())
        .unwrap_or_else(|| {
            problems.push("request.method missing".into());
            String::new()
        });
    let url = req
        .url
        .take("request.url", &mut problems)
        .unwrap_or_default();
    let url = full_url(url, &method, &pseudo, &headers, &mut problems);
    let version = normalize_version(
        &req.version
            .take("request.httpVersion", &mut problems)
            .unwrap_or_default(),
    );
    let body = match req.post.take("request.postData", &mut problems) {
        Some(post) => post_body(post, limits, &mut problems),
        None => Body::default(),
    };
    let request = Request {
        method,
        url,
        version,
        headers,
        body,
    };

    let entry_error = raw
        .error
        .take("_error", &mut problems)
        .filter(|e| !e.is_empty());
    let mut aborted = entry_error.is_some();
    let response = match raw.response.take("response", &mut problems) {
        Some(resp) => {
            let (response, error) = response_of(resp, limits, &mut problems);
            aborted |= error || response.is_none();
            response
        }
        None => {
            aborted = true;
            None
        }
    };
    let timers = timers_of(
        raw.started.take("startedDateTime", &mut problems),
        raw.time.take("time", &mut problems),
        raw.timings.take("timings", &mut problems),
        &mut problems,
    );
    let host_ip = raw
        .server_ip
        .take("serverIPAddress", &mut problems)
        .map(|ip| {
            ip.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        })
        .filter(|ip| !ip.is_empty());
    let process = raw
        .process_info
        .take("_processInfo", &mut problems)
        .or_else(|| raw.process.take("_process", &mut problems))
        .filter(|p| !p.is_empty());
    let websocket = raw
        .ws_messages
        .take("_webSocketMessages", &mut problems)
        .is_some()
        || response.as_ref().is_some_and(|r| r.status == 101);
    let flags = SessionFlags {
        aborted,
        tunnel: request.method.eq_ignore_ascii_case("CONNECT"),
        websocket,
    };
    Ok(Session {
        id,
        timers,
        process,
        client_ip: None,
        host_ip,
        request,
        response,
        flags,
        problems,
    })
}

/// The response, or `None` when the HAR says none came (status 0 or missing). The flag says
/// the exporter recorded an error (`_error`).
fn response_of(
    resp: RawResponse,
    limits: &HarLimits,
    problems: &mut Vec<String>,
) -> (Option<Response>, bool) {
    let error = resp
        .error
        .take("response._error", problems)
        .is_some_and(|e| !e.is_empty());
    let mut pseudo = Pseudo::default();
    let headers = headers_of(resp.headers, "response.headers", &mut pseudo, problems);
    let status = resp
        .status
        .take("response.status", problems)
        .or_else(|| pseudo.status.as_deref().and_then(|s| s.trim().parse().ok()));
    let status = match status {
        // Status 0: the exporter saw no response (Chrome's failed requests, mitmproxy's
        // incomplete flows).
        None | Some(0.0) => return (None, error),
        Some(s) if s.fract() == 0.0 && (100.0..=999.0).contains(&s) => s as u16,
        Some(_) => {
            problems.push("response.status is not an HTTP status code".into());
            return (None, error);
        }
    };
    let reason = resp
        .reason
        .take("response.statusText", problems)
        .unwrap_or_default();
    let version = normalize_version(
        &resp
            .version
            .take("response.httpVersion", problems)
            .unwrap_or_default(),
    );
    let body = match resp.content.take("response.content", problems) {
        Some(content) => {
            let encoding = content.encoding.take("response.content.encoding", problems);
            match content.text.take("response.content.text", problems) {
                Some(text) => {
                    text_body(text, encoding.as_deref(), "response body", limits, problems)
                }
                None => Body::default(),
            }
        }
        None => Body::default(),
    };
    (
        Some(Response {
            version,
            status,
            reason,
            headers,
            body,
        }),
        error,
    )
}

/// Headers in order, pseudo-headers taken out into `pseudo`.
fn headers_of(
    list: Field<List<RawHeader>>,
    path: &str,
    pseudo: &mut Pseudo,
    problems: &mut Vec<String>,
) -> Headers {
    let mut headers = Headers::new();
    let Some(list) = list.take(path, problems) else {
        return headers;
    };
    if list.dropped > 0 {
        problems.push(format!(
            "{path}: {} more headers than the {MAX_LIST} kept were dropped",
            list.dropped
        ));
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
        let slot = match name.to_ascii_lowercase().as_str() {
            ":method" => &mut pseudo.method,
            ":scheme" => &mut pseudo.scheme,
            ":authority" => &mut pseudo.authority,
            ":path" => &mut pseudo.path,
            ":status" => &mut pseudo.status,
            n if n.starts_with(':') => continue,
            _ => {
                headers.push(name, value);
                continue;
            }
        };
        slot.get_or_insert(value);
    }
    headers
}

/// The request URL made absolute: HAR exporters write it absolute, but hand-made or
/// re-saved files may leave it out or relative, and HTTP/2 carries it in pseudo-headers.
fn full_url(
    url: String,
    method: &str,
    pseudo: &Pseudo,
    headers: &Headers,
    problems: &mut Vec<String>,
) -> String {
    let is_connect = method.eq_ignore_ascii_case("CONNECT");
    if url.contains("://") {
        if is_connect {
            // The session model writes a tunnel as `host:port`.
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            return rest.split('/').next().unwrap_or(rest).to_string();
        }
        return url;
    }
    let authority = pseudo
        .authority
        .clone()
        .or_else(|| headers.get("host").map(|h| h.trim().to_string()))
        .filter(|a| !a.is_empty());
    if is_connect {
        return if url.is_empty() {
            authority.unwrap_or_default()
        } else {
            url
        };
    }
    let Some(authority) = authority else {
        problems.push(if url.is_empty() {
            "request.url missing and no :authority or Host header to rebuild it".into()
        } else {
            "request.url is not absolute and no :authority or Host header gives the host".into()
        });
        return url;
    };
    let scheme = pseudo.scheme.as_deref().unwrap_or("https");
    let path = match (url.is_empty(), pseudo.path.as_deref()) {
        (false, _) => url.as_str(),
        (true, Some(p)) => p,
        (true, None) => "/",
    };
    let sep = if path.starts_with('/') { "" } else { "/" };
    if url.is_empty() {
        problems.push("request.url missing; rebuilt from the request headers".into());
    }
    format!("{scheme}://{authority}{sep}{path}")
}

/// `http/2.0`, `h2`, `HTTP/2` all mean HTTP/2; the session model writes `HTTP/x[.y]`.
fn normalize_version(v: &str) -> String {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    match lower.as_str() {
        "" => String::new(),
        "h2" | "http/2" | "http/2.0" => "HTTP/2".into(),
        "h3" | "http/3" | "http/3.0" => "HTTP/3".into(),
        _ if lower.starts_with("http/") => format!("HTTP/{}", &v[5..]),
        _ => v.to_string(),
    }
}

/// The request body: `postData.text`, else `postData.params` re-encoded as a form.
fn post_body(post: RawPostData, limits: &HarLimits, problems: &mut Vec<String>) -> Body {
    let encoding = post.encoding.take("request.postData.encoding", problems);
    let text = post.text.take("request.postData.text", problems);
    let params = post.params.take("request.postData.params", problems);
    match (text, params) {
        (Some(text), _) if !text.is_empty() => {
            text_body(text, encoding.as_deref(), "request body", limits, problems)
        }
        (_, Some(params)) if !params.items.is_empty() => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (i, item) in params.items.into_iter().enumerate() {
                let path = format!("request.postData.params[{i}]");
                let Some(p) = item.take(&path, problems) else {
                    continue;
                };
                let name = p
                    .name
                    .take(&format!("{path}.name"), problems)
                    .unwrap_or_default();
                let value = p
                    .value
                    .take(&format!("{path}.value"), problems)
                    .unwrap_or_default();
                form.append_pair(&name, &value);
            }
            Body {
                raw: form.finish().into_bytes(),
                wire: false,
                truncated: false,
            }
        }
        _ => Body::default(),
    }
}

/// A HAR text body, base64-decoded when the HAR says so. HAR text is already de-chunked and
/// content-decoded by the exporter, so `wire` is false.
fn text_body(
    text: String,
    encoding: Option<&str>,
    what: &str,
    limits: &HarLimits,
    problems: &mut Vec<String>,
) -> Body {
    // The guard cuts a string one byte past the limit at the earliest.
    let truncated = text.len() as u64 >= limits.max_string;
    if truncated {
        problems.push(format!(
            "{what} truncated at {} bytes of HAR text",
            text.len()
        ));
    }
    let base64 = encoding.is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
    if !base64 {
        return Body {
            raw: text.into_bytes(),
            wire: false,
            truncated,
        };
    }
    let mut b64 = text.as_str();
    if truncated {
        // A cut base64 text only decodes up to its last whole quantum.
        b64 = &b64[..b64.len() - b64.len() % 4];
    }
    match decode_base64(b64) {
        Some(raw) => Body {
            raw,
            wire: false,
            truncated,
        },
        None => {
            problems.push(format!("{what}: invalid base64"));
            Body {
                raw: Vec::new(),
                wire: false,
                truncated,
            }
        }
    }
}

/// Standard base64 with or without padding; exporters that wrap lines or use the URL-safe
/// alphabet are accepted too.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let standard = GeneralPurpose::new(&alphabet::STANDARD, config);
    if let Ok(raw) = standard.decode(text) {
        return Some(raw);
    }
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if let Ok(raw) = standard.decode(&compact) {
        return Some(raw);
    }
    GeneralPurpose::new(&alphabet::URL_SAFE, config)
        .decode(&compact)
        .ok()
}

/// `startedDateTime` and the durations after it (milliseconds; -1 means "not applicable").
fn timers_of(
    started: Option<String>,
    time: Option<f64>,
    timings: Option<RawTimings>,
    problems: &mut Vec<String>,
) -> Timers {
    let mut timers = Timers::default();
    let Some(started) = started else {
        return timers;
    };
    let begin = match parse_time(&started) {
        Some((t, exact)) => {
            if !exact {
                problems.push("startedDateTime has no UTC offset; read as UTC".into());
            }
            t
        }
        None => {
            problems.push("startedDateTime is not an RFC 3339 time".into());
            return timers;
        }
    };
    timers.client_begin_request = Some(begin);
    timers.client_done_response = time.and_then(|ms| after(begin, ms));
    if let Some(t) = timings {
        let mut ms = |f: Field<f64>, name: &str| -> Option<f64> {
            f.take(&format!("timings.{name}"), problems)
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let before_send: f64 = [
            ms(t.blocked, "blocked"),
            ms(t.dns, "dns"),
            ms(t.connect, "connect"),
        ]
        .into_iter()
        .flatten()
        .sum();
        let send = ms(t.send, "send");
        let wait = ms(t.wait, "wait");
        let receive = ms(t.receive, "receive");
        if let Some(send) = send {
            let got = before_send + send;
            timers.server_got_request = after(begin, got);
            if let Some(wait) = wait {
                timers.server_begin_response = after(begin, got + wait);
                if let Some(receive) = receive {
                    timers.server_done_response = after(begin, got + wait + receive);
                }
            }
        }
    }
    timers
}

/// RFC 3339, or a local time without offset (read as UTC, `false`).
fn parse_time(s: &str) -> Option<(DateTime<FixedOffset>, bool)> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t, true));
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some((naive.and_utc().fixed_offset(), false))
}

/// `begin` plus `ms` milliseconds, when that is a sane duration (under ~300 years).
fn after(begin: DateTime<FixedOffset>, ms: f64) -> Option<DateTime<FixedOffset>> {
    if !ms.is_finite() || !(0.0..=1e13).contains(&ms) {
        return None;
    }
    begin.checked_add_signed(TimeDelta::microseconds((ms * 1000.0).round() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &[u8]) -> Result<Vec<SessionResult>, CaptureErrorKind> {
        map_reader(json, &HarLimits::default(), |r| r)
    }

    fn read_with(json: &[u8], limits: HarLimits) -> Result<Vec<SessionResult>, CaptureErrorKind> {
        map_reader(json, &limits, |r| r)
    }

    /// A reader that hands out at most `.1` bytes a call, as a slow pipe would.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
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
        assert_eq!(normalize_version("http/2.0"), "HTTP/2");
        assert_eq!(normalize_version("h3"), "HTTP/3");
        assert_eq!(normalize_version("http/1.1"), "HTTP/1.1");
        assert_eq!(normalize_version("HTTP/1.0"), "HTTP/1.0");
        assert_eq!(normalize_version(""), "");
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
                let trickled = map_reader(Trickle(taken.as_bytes(), 1 + split % 7), &limits, |r| r);
                prop_assert_eq!(format!("{:?}", trickled), a);
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
}

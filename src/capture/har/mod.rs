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
//!   Results come back in entry order. A caller that already keeps every core busy with a
//!   capture each (`batch`) has the calling thread lex instead ([`lex_on_this_thread`]).
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
//!
//! # Layout
//!
//! This file is the API and the threading (a parse thread, the rayon pool mapping batches);
//! [`parse`] is the parse thread, [`visitors`] the skeleton's serde visitors, [`lexer`] the
//! byte guard, [`lenient`] the tolerant fields and HAR objects, [`convert`] entry -> session.

mod bodies;
#[cfg(test)]
pub(super) mod bodies_tests;
mod convert;
mod fast;
#[cfg(test)]
mod fast_tests;
mod lenient;
mod lexer;
mod parse;
mod rewrite;
pub mod sniff;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod threading_tests;
mod visitors;

use bodies::*;
use convert::*;
use fast::*;
use lenient::*;
use lexer::*;
use parse::*;
use visitors::*;

pub use convert::{decode_base64, NO_UTC_OFFSET};
pub use rewrite::{rewrite, rewrite_reader};
pub use sniff::{looks_like_har_json, sniff, sniff_strict};

use std::cell::Cell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::LocalKey;

use rayon::prelude::*;

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
    /// Most bytes a compressed HAR may inflate to (see [`super::DecodeLimits::max_inflated`]).
    pub max_inflated: u64,
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
            max_inflated: super::body::DEFAULT_MAX_INFLATED,
        }
    }

    pub fn from_options(options: &ReadOptions) -> Self {
        HarLimits {
            max_inflated: options.limits.max_inflated,
            ..HarLimits::for_decoded(options.limits.max_decoded)
        }
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
/// so that only a few batches of results are alive besides what `sink` keeps. When it returns an
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
    let (ending, read, _) = stream_items(
        reader,
        &limits,
        false,
        |item| f(item.into_result(&limits)),
        &mut sink,
    )?;
    match ending {
        // A failure before any entry was read leaves nothing to analyse.
        Ending::Refused(message) => Err(CaptureErrorKind::Har(message)),
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
}

thread_local! {
    /// Set by [`lex_on_this_thread`] while its work runs.
    static LEX_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Run `work`, reading every HAR it reads on this thread without a `har-parse` thread: the
/// calling thread lexes, and maps each batch of entries as it is complete (on the rayon
/// pool it runs in, as the results are mapped otherwise). For a caller that already keeps
/// every core busy with a capture of its own (`batch`), where a lexer thread per capture
/// only adds a thread to schedule and a hand-over every batch. The same output either way.
pub fn lex_on_this_thread<T>(work: impl FnOnce() -> T) -> T {
    with_set(&LEX_HERE, work)
}

/// Run `work` with `flag` set on this thread, as it was again after (even if `work` panics).
fn with_set<T>(flag: &'static LocalKey<Cell<bool>>, work: impl FnOnce() -> T) -> T {
    struct Restore(&'static LocalKey<Cell<bool>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            self.0.set(self.1);
        }
    }
    let _restore = Restore(flag, flag.replace(true));
    work()
}

thread_local! {
    /// Set by [`bodies_in_band`] while its work runs.
    static BODIES_IN_BAND: Cell<bool> = const { Cell::new(false) };
}

/// Run `work` with every body read in band, by serde_json with the rest of its entry, as
/// before [`bodies`] (for the tests that hold the two readings equal). Only a guard made on
/// this thread sees it: use it within [`lex_on_this_thread`].
#[cfg(test)]
pub(crate) fn bodies_in_band<T>(work: impl FnOnce() -> T) -> T {
    with_set(&BODIES_IN_BAND, work)
}

thread_local! {
    /// Set by [`entries_by_serde`] while its work runs.
    #[cfg(test)]
    static ENTRIES_BY_SERDE: Cell<bool> = const { Cell::new(false) };
}

/// Run `work` with every entry read by serde_json alone, as before the entry reader
/// ([`fast`]), for the tests that hold the two readings equal. As [`bodies_in_band`], only a
/// guard made on this thread sees it.
#[cfg(test)]
pub(crate) fn entries_by_serde<T>(work: impl FnOnce() -> T) -> T {
    with_set(&ENTRIES_BY_SERDE, work)
}

/// One batch mapped with `f` on the pool, the results handed to `sink` in entry order.
fn map_batch<T: Send>(
    batch: Vec<Item>,
    f: &(impl Fn(Item) -> T + Sync + Send),
    sink: &mut impl FnMut(T),
) {
    let mapped: Vec<T> = batch.into_par_iter().map(f).collect();
    mapped.into_iter().for_each(sink);
}

/// How many batches of entries may be mapping on the pool at once while the oldest is
/// handed on: enough that a worker finishing its part of one batch finds another to help
/// with, few enough that memory stays a few batches of entry texts.
const BATCHES_IN_FLIGHT: usize = 3;

/// The threading both the reader and the rewriter run: the parse thread lexes `reader` and
/// sends batches of [`Item`]s; up to [`BATCHES_IN_FLIGHT`] + 1 of them are mapped with `f`
/// on the rayon pool at once (one at a time when this thread is a pool's own), and the
/// results are handed to `sink` in entry order, on this thread. Returns how reading ended,
/// the number of items read, and (when `record`) the skeleton bytes after the last entry.
/// Within [`lex_on_this_thread`], the calling thread lexes and maps each batch itself.
fn stream_items<R, T, F, S>(
    reader: R,
    limits: &HarLimits,
    record: bool,
    f: F,
    mut sink: S,
) -> Result<(Ending, usize, Vec<u8>), CaptureErrorKind>
where
    R: Read + Send,
    T: Send,
    F: Fn(Item) -> T + Sync + Send,
    S: FnMut(T),
{
    let limits = *limits;
    if LEX_HERE.get() {
        let mut read = 0usize;
        let (ending, trailing) = parse_stream(reader, limits, record, &mut |batch| {
            read += batch.len();
            map_batch(batch, &f, &mut sink);
            true
        });
        return Ok((ending, read, trailing));
    }
    let (tx, rx) = sync_channel::<Vec<Item>>(1);
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("har-parse".into())
            // Visitors nest about ten levels; the margin is for serde_json's own frames.
            .stack_size(16 * 1024 * 1024)
            .spawn_scoped(scope, move || {
                parse_stream(reader, limits, record, &mut |batch| tx.send(batch).is_ok())
            })?;
        let mut read = 0usize;
        if rayon::current_thread_index().is_some() {
            // On a pool's own thread, waiting for a batch would keep that thread from
            // mapping it (a pool of one would wait for ever): one batch at a time.
            for batch in rx.iter() {
                read += batch.len();
                map_batch(batch, &f, &mut sink);
            }
        } else {
            // Batches are mapped on the pool while this thread hands the oldest one's
            // results to `sink`, in entry order: mapping one batch at a time and then
            // sinking it left the pool idle while the sink ran, and a core idle at the end
            // of every batch.
            rayon::in_place_scope(|pool| {
                let mut in_flight: VecDeque<Receiver<Vec<T>>> = VecDeque::new();
                let f = &f;
                let mut deliver = |mapped: Receiver<Vec<T>>| {
                    // A batch whose mapping panicked sends nothing: the scope raises the panic.
                    if let Ok(mapped) = mapped.recv() {
                        mapped.into_iter().for_each(&mut sink);
                    }
                };
                for batch in rx.iter() {
                    read += batch.len();
                    let (done, mapped) = sync_channel(1);
                    pool.spawn(move |_| {
                        let _ = done.send(batch.into_par_iter().map(f).collect());
                    });
                    in_flight.push_back(mapped);
                    if in_flight.len() > BATCHES_IN_FLIGHT {
                        in_flight.pop_front().into_iter().for_each(&mut deliver);
                    }
                }
                in_flight.into_iter().for_each(deliver);
            });
        }
        let (ending, trailing) = parser
            .join()
            .map_err(|_| CaptureErrorKind::Har("internal error while reading the HAR".into()))?;
        Ok((ending, read, trailing))
    })
}

//! Fiddler SAZ archives: a zip of `raw/NN_c.txt` (request), `raw/NN_s.txt` (response),
//! `raw/NN_m.xml` (metadata) and sometimes `raw/NN_w.txt` (websocket frames).
//!
//! Design choices, each forced by real or hostile files:
//! - Entry names are only ever parsed into (session number, kind); they are never used as
//!   filesystem paths, so `..`, absolute names and NUL bytes are harmless. `\` separators,
//!   any zero-padding and any order are accepted; a second entry for the same session and
//!   kind is ignored (the first in central-directory order wins) and reported on the session
//!   and, counted, on the archive.
//! - The central directory is streamed once by [`zip_dir`], our own reader of it, straight
//!   into what reading needs: where each entry starts, its sizes, CRC and method
//!   ([`EntryLoc`], 32 bytes), and the session index (16 bytes a session). The zip crate's
//!   `ZipArchive` would keep ~230 bytes an entry (77 MiB for the 300k entries of a
//!   100k-session SAZ) while it opens. A clean plain entry (stored or deflated, local header
//!   agreeing with the directory, nothing interpreted in its extra field) is read by
//!   [`fast`]: one positional read, one inflate call by a per-thread inflate state reset
//!   per entry, size and CRC checked. Any other entry (encrypted, zip64 or AES fields,
//!   damaged, lying sizes, past the cap), or one the fast path finds anything wrong with,
//!   is read from its local header with the zip crate's stream reader (decryption,
//!   inflate), sizes and CRC taken from the central directory, as before: the fast path
//!   never changes what is read or reported. Workers clone a positional reader (`pread` on
//!   a shared `File`), so parallel reads need neither a lock nor a second parse.
//! - Every entry is read through a cap: raw entries at `max_decoded + HEAD_ALLOWANCE`,
//!   metadata at 1 MiB, so an entry that inflates to 4 GB costs at most the cap and is
//!   reported on its session. Only one session per worker is in memory at a time.
//! - Encryption is detected from the central directory (names are readable without the
//!   password) and the password is checked at open time by fully reading the smallest
//!   encrypted entry, so a wrong password is one clear error, not one per session.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use zip::read::read_zipfile_from_stream_with_options;
use zip::result::ZipError;
use zip::ZipReadOptions;

use super::http::{self, SchemeHint};
use super::saz_meta::{self, bits, BitFlagsRadix, SazMeta, MAX_META_BYTES};
use super::session::{Body, Request, Response, Session, SessionFlags};
use super::zip_dir::{self, EntryLoc};
use super::{CaptureErrorKind, Password, ReadOptions, SessionError, SessionResult};

pub mod attachments;
mod fast;
pub mod rewrite;
pub mod sniff;
pub mod websocket;

/// Room for the message head on top of the body cap: header lines may be megabytes long.
pub const HEAD_ALLOWANCE: u64 = 16 * 1024 * 1024;

/// The kinds of per-session entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
    Meta,
    WebSocket,
}

impl Kind {
    fn file_name(self, id: u64) -> String {
        format!("raw/{id}{}", self.suffix())
    }

    /// What follows the session number in the entry's name.
    fn suffix(self) -> &'static str {
        match self {
            Kind::Request => "_c.txt",
            Kind::Response => "_s.txt",
            Kind::Meta => "_m.xml",
            Kind::WebSocket => "_w.txt",
        }
    }
}

/// The entries of one session, by index into the central directory: 16 bytes, since a
/// 100k-session SAZ keeps 100k of them.
#[derive(Debug, Clone, Copy, Default)]
struct Entries {
    request: Option<EntryIndex>,
    response: Option<EntryIndex>,
    meta: Option<EntryIndex>,
    websocket: Option<EntryIndex>,
}

/// An index into the central directory, stored plus one so that `Option` costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntryIndex(NonZeroU32);

impl EntryIndex {
    /// `None` past 4 294 967 294 records, a directory no file on a ticket has.
    fn new(i: usize) -> Option<Self> {
        u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_add(1))
            .and_then(NonZeroU32::new)
            .map(EntryIndex)
    }

    fn get(self) -> usize {
        self.0.get() as usize - 1
    }
}

impl Entries {
    fn slot(&mut self, kind: Kind) -> &mut Option<EntryIndex> {
        match kind {
            Kind::Request => &mut self.request,
            Kind::Response => &mut self.response,
            Kind::Meta => &mut self.meta,
            Kind::WebSocket => &mut self.websocket,
        }
    }
}

/// A `Read + Seek` over a shared file using positional reads: cheap to clone, no shared
/// cursor, so every rayon worker gets its own without reopening the file. The bytes may
/// also be in memory ([`SazArchive::from_bytes`], used by the fuzz target and tests).
#[derive(Debug, Clone)]
struct PosReader {
    data: Backing,
    pos: u64,
    len: u64,
}

#[derive(Debug, Clone)]
enum Backing {
    File(Arc<File>),
    Memory(Arc<[u8]>),
}

impl Read for PosReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len {
            return Ok(0);
        }
        let n = match &self.data {
            Backing::File(file) => read_at(file, buf, self.pos)?,
            Backing::Memory(bytes) => {
                let start = usize::try_from(self.pos).unwrap_or(usize::MAX);
                let rest = bytes.get(start..).unwrap_or(&[]);
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                n
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PosReader {
    fn seek(&mut self, from: SeekFrom) -> io::Result<u64> {
        let target = match from {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )),
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

/// Sessions mapped between two hand-overs to the sink: large enough that the workers seldom
/// wait for each other at a batch's end (a session costs ~25 µs), small enough that a batch
/// of mapped results is a few hundred KiB.
pub const MAP_BATCH: usize = 1024;

/// An opened SAZ: where its entries are and the session index.
pub struct SazArchive {
    reader: PosReader,
    /// Every entry of the central directory, by its index there.
    locs: Vec<EntryLoc>,
    sessions: Vec<(u64, Entries)>,
    /// Problems the directory showed for a session (an entry listed twice), by session.
    notes: BTreeMap<u64, Vec<String>>,
    password: Option<Password>,
    options: ReadOptions,
    radix: BitFlagsRadix,
    warnings: Vec<String>,
}

impl SazArchive {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let reader = PosReader {
            data: Backing::File(Arc::new(file)),
            pos: 0,
            len,
        };
        Self::from_reader(reader, options)
    }

    /// A SAZ already in memory, read exactly as [`SazArchive::open`] reads a file.
    pub fn from_bytes(
        bytes: impl Into<Arc<[u8]>>,
        options: &ReadOptions,
    ) -> Result<Self, CaptureErrorKind> {
        let bytes: Arc<[u8]> = bytes.into();
        let reader = PosReader {
            len: bytes.len() as u64,
            data: Backing::Memory(bytes),
            pos: 0,
        };
        Self::from_reader(reader, options)
    }

    fn from_reader(mut reader: PosReader, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        let mut index = Indexer::default();
        let len = reader.len;
        let directory = zip_dir::scan(&mut reader, len, |record| index.add(&record))?;
        let radix = if directory.comment.starts_with(b"Fiddler") {
            BitFlagsRadix::Fiddler
        } else {
            BitFlagsRadix::Other
        };
        let Index {
            sessions,
            notes,
            locs,
            warnings,
            encrypted,
            overlap,
        } = index.finish();
        if overlap {
            return Err(CaptureErrorKind::Saz(
                "entries overlap one another (the shape of a zip bomb); not read".into(),
            ));
        }
        let password = match (encrypted, &options.password) {
            (None, _) => None,
            (Some(_), None) => return Err(CaptureErrorKind::PasswordRequired),
            (Some(probe), Some(pw)) => {
                check_password(&reader, &probe, pw)?;
                Some(pw.clone())
            }
        };
        Ok(SazArchive {
            reader,
            locs,
            sessions,
            notes,
            password,
            options: options.clone(),
            radix,
            warnings,
        })
    }

    /// Problems with the archive that belong to no session (stray or unparsable entry
    /// names, sessions without a request). Never contains entry names or content.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The number of sessions (entries `raw/NN_c.txt`).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        let mut out = Vec::with_capacity(self.sessions.len());
        self.map_sessions_into(f, |t| out.push(t))?;
        Ok(out)
    }

    /// Map every session with `f` in parallel and hand the results to `sink` in session
    /// order, [`MAP_BATCH`] sessions at a time, so that only one batch of mapped results
    /// is alive besides what `sink` keeps.
    pub fn map_sessions_into<T, F, S>(&self, f: F, mut sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        for batch in self.sessions.chunks(MAP_BATCH) {
            let mapped: Vec<T> = batch
                .par_iter()
                .map_init(
                    || self.reader.clone(),
                    |reader, (id, entries)| f(self.read_session(reader, *id, entries)),
                )
                .collect();
            mapped.into_iter().for_each(&mut sink);
        }
        Ok(())
    }

    /// The location of central-directory entry `i` (an index [`Indexer`] filed).
    fn loc(&self, i: EntryIndex) -> Option<&EntryLoc> {
        self.locs.get(i.get())
    }

    fn read_session(&self, reader: &mut PosReader, id: u64, entries: &Entries) -> SessionResult {
        let err = |message: String| SessionError {
            session: Some(id),
            message,
        };
        let raw_cap = self
            .options
            .limits
            .max_decoded
            .saturating_add(HEAD_ALLOWANCE);
        let pw = self.password.as_ref().map(|p| p.expose().as_bytes());
        let mut problems = self.notes.get(&id).cloned().unwrap_or_default();

        // Metadata first: it says whether an origin-form request was HTTPS.
        let meta = match entries.meta {
            None => None,
            Some(i) => match read_entry(reader, self.loc(i), pw, MAX_META_BYTES) {
                Ok(e) if e.truncated => {
                    problems.push(format!(
                        "{}: larger than 1 MiB, ignored",
                        Kind::Meta.file_name(id)
                    ));
                    None
                }
                Ok(e) => match saz_meta::parse(&e.bytes, self.radix) {
                    Ok(m) => Some(m),
                    Err(saz_meta::MetaError::Empty) => None,
                    Err(m) => {
                        problems.push(format!("{}: {m}", Kind::Meta.file_name(id)));
                        None
                    }
                },
                Err(e) => {
                    problems.push(format!("{}: {e}", Kind::Meta.file_name(id)));
                    None
                }
            },
        };
        let hint = match &meta {
            Some(m) if m.is_https() => SchemeHint::Https,
            _ => SchemeHint::Unknown,
        };

        let Some(ci) = entries.request else {
            return Err(err("no request entry".into()));
        };
        let c = read_entry(reader, self.loc(ci), pw, raw_cap)
            .map_err(|e| err(format!("{}: {e}", Kind::Request.file_name(id))))?;
        c.describe(&Kind::Request.file_name(id), raw_cap, &mut problems);
        let (head, offset) = http::parse_request(&c.bytes, hint)
            .map_err(|e| err(format!("{}: {e}", Kind::Request.file_name(id))))?;
        problems.extend(head.flaws.describe("request"));
        let mut body = c.bytes;
        body.drain(..offset.min(body.len()));
        let request = Request {
            method: head.method,
            url: head.url,
            version: head.version,
            headers: head.headers,
            body: Body {
                raw: body,
                wire: true,
                truncated: c.truncated || c.problem.is_some(),
            },
        };
        // Fiddler stores its notes on the TLS handshake as the body of a CONNECT.
        if !request.method.eq_ignore_ascii_case("CONNECT") {
            if let Some(p) = length_mismatch(&request.headers, request.body.len(), "request") {
                problems.push(p);
            }
        }

        let mut response = None;
        let mut response_unreadable = false;
        if let Some(si) = entries.response {
            match read_entry(reader, self.loc(si), pw, raw_cap) {
                Err(e) => {
                    response_unreadable = true;
                    problems.push(format!("{}: {e}", Kind::Response.file_name(id)));
                }
                Ok(s) if s.bytes.iter().all(u8::is_ascii_whitespace) => {}
                Ok(s) => {
                    s.describe(&Kind::Response.file_name(id), raw_cap, &mut problems);
                    match http::parse_response(&s.bytes) {
                        Err(e) => {
                            response_unreadable = true;
                            problems.push(format!("{}: {e}", Kind::Response.file_name(id)));
                        }
                        Ok((head, offset)) => {
                            problems.extend(head.flaws.describe("response"));
                            let mut body = s.bytes;
                            body.drain(..offset.min(body.len()));
                            let r = Response {
                                version: head.version,
                                status: head.status,
                                reason: head.reason,
                                headers: head.headers,
                                body: Body {
                                    raw: body,
                                    wire: true,
                                    truncated: s.truncated || s.problem.is_some(),
                                },
                            };
                            if expects_body(&request.method, r.status) {
                                if let Some(p) =
                                    length_mismatch(&r.headers, r.body.len(), "response")
                                {
                                    problems.push(p);
                                }
                            }
                            response = Some(r);
                        }
                    }
                }
            }
        }

        let status = response.as_ref().map(|r| r.status);
        let bit = |b| meta.as_ref().is_some_and(|m: &SazMeta| m.has_bit(b));
        let flags = SessionFlags {
            aborted: response.is_none() && !response_unreadable,
            tunnel: request.method.eq_ignore_ascii_case("CONNECT")
                || bit(bits::IS_BLIND_TUNNEL)
                || bit(bits::IS_DECRYPTING_TUNNEL),
            websocket: entries.websocket.is_some()
                || status == Some(101)
                || bit(bits::IS_WEBSOCKET_TUNNEL),
            ..SessionFlags::default()
        };

        let mut session = Session {
            id,
            request,
            response,
            flags,
            ..Session::default()
        };
        if let Some(m) = meta {
            // `SID` differing from the entry number is normal, not a problem (issue 20):
            // Fiddler numbers the raw/ entries of an archive in order and keeps the session's
            // id of the capturing instance in `SID` (sessions removed or only some saved:
            // raw/01 says SID 6). The entry number stays the session's number (it names the
            // raw/ files); the SID is carried as `fiddler_id` and shown beside it.
            session.fiddler_id = m.sid;
            session.process = m.process().map(str::to_string);
            session.client_ip = m.client_ip().map(str::to_string);
            session.host_ip = m.host_ip().map(str::to_string);
            session.timers = m.timers;
        }
        session.problems = problems;
        Ok(session)
    }
}

/// An entry name fit for a message: at most 60 characters, control characters replaced.
/// A longer name loses its last token too (letters, digits, `-_.~+/=%`): it may be the
/// first part of a secret that the cut made unrecognisable.
fn printable_name(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    let mut out: String = name
        .chars()
        .take(60)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if name.chars().count() > 60 {
        let kept = out
            .trim_end_matches(|c: char| c.is_alphanumeric() || "-_.~+/=%".contains(c))
            .len();
        out.truncate(kept);
        out.push_str("...");
    }
    out
}

/// Files each central-directory record under its session as the directory is scanned, and
/// notes what the archive as a whole needs: an encrypted entry to check the password on (the
/// smallest, so the check is cheap) and the space every entry takes, for the overlap check.
#[derive(Default)]
struct Indexer {
    by_id: BTreeMap<u64, Entries>,
    notes: BTreeMap<u64, Vec<String>>,
    stray: usize,
    /// Entries outside `raw/`: their count and the first few names, to say what an archive
    /// without sessions holds instead (a SAZ zipped again, a folder of exports).
    others: usize,
    other_names: Vec<String>,
    /// Records filed under a (session, kind) that already had one.
    repeated: usize,
    /// The smallest encrypted entry.
    encrypted: Option<EntryLoc>,
    locs: Vec<EntryLoc>,
}

impl Indexer {
    fn add(&mut self, record: &zip_dir::Record<'_>) {
        let i = self.locs.len();
        let loc = record.loc;
        self.locs.push(loc);
        if record.is_dir() {
            return;
        }
        if loc.encrypted && self.encrypted.is_none_or(|e| loc.compressed < e.compressed) {
            self.encrypted = Some(loc);
        }
        match (parse_entry_name(record.name), EntryIndex::new(i)) {
            (Some((id, kind)), Some(i)) => {
                let slot = self.by_id.entry(id).or_default().slot(kind);
                if slot.is_some() {
                    self.repeated += 1;
                    self.notes.entry(id).or_default().push(format!(
                        "{} appears more than once; the first was read",
                        kind.file_name(id)
                    ));
                } else {
                    *slot = Some(i);
                }
            }
            _ => {
                if is_raw_entry(record.name) {
                    self.stray += 1;
                } else {
                    self.others += 1;
                    if self.other_names.len() < 3 {
                        self.other_names.push(printable_name(record.name));
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Index {
        let mut warnings = Vec::new();
        if self.by_id.is_empty() && self.others > 0 {
            let nested = self.other_names.iter().any(|n| {
                let n = n.to_ascii_lowercase();
                n.ends_with(".saz") || n.ends_with(".har") || n.ends_with(".zip")
            });
            warnings.push(format!(
                "the archive holds no Fiddler session (no raw/NN_c.txt entry) but {} other \
                 entr{}: {}{}{}",
                self.others,
                if self.others == 1 { "y" } else { "ies" },
                self.other_names.join(", "),
                if self.others > self.other_names.len() {
                    ", ..."
                } else {
                    ""
                },
                if nested {
                    "; a capture zipped again: extract it and analyse the file inside"
                } else {
                    "; not a Fiddler capture"
                }
            ));
        }
        if self.stray > 0 {
            warnings.push(format!(
                "{} entr{} under raw/ with an unrecognised name, ignored",
                self.stray,
                if self.stray == 1 { "y" } else { "ies" }
            ));
        }
        if self.repeated > 0 {
            warnings.push(format!(
                "the archive lists the same entry name more than once ({} extra cop{}); \
                 the first of each was read",
                self.repeated,
                if self.repeated == 1 { "y" } else { "ies" }
            ));
        }
        let orphans: Vec<u64> = self
            .by_id
            .iter()
            .filter(|(_, e)| e.request.is_none())
            .map(|(id, _)| *id)
            .collect();
        if !orphans.is_empty() {
            let shown: Vec<String> = orphans.iter().take(10).map(u64::to_string).collect();
            warnings.push(format!(
                "{} session number(s) have entries but no request (_c.txt), skipped: {}{}",
                orphans.len(),
                shown.join(", "),
                if orphans.len() > 10 { ", ..." } else { "" }
            ));
        }
        let sessions = self
            .by_id
            .into_iter()
            .filter(|(_, e)| e.request.is_some())
            .collect();
        // A lower bound of the bytes each entry occupies: its fixed local header and data.
        let mut spans: Vec<(u64, u64)> = self
            .locs
            .iter()
            .map(|l| {
                let end = l
                    .header_start
                    .saturating_add(30)
                    .saturating_add(l.compressed);
                (l.header_start, end)
            })
            .collect();
        spans.sort_unstable();
        let overlap = spans.windows(2).any(|w| w[0].1 > w[1].0);
        self.locs.shrink_to_fit();
        Index {
            sessions,
            notes: self.notes,
            locs: self.locs,
            warnings,
            encrypted: self.encrypted,
            overlap,
        }
    }
}

/// What the central directory says, before any entry is read.
struct Index {
    sessions: Vec<(u64, Entries)>,
    notes: BTreeMap<u64, Vec<String>>,
    locs: Vec<EntryLoc>,
    warnings: Vec<String>,
    /// The smallest encrypted entry, to check the password on.
    encrypted: Option<EntryLoc>,
    /// Two entries share bytes: no zip writer does that, overlapping-entry bombs do (one
    /// compressed kernel listed thousands of times inflates to terabytes in total while
    /// every entry stays under the per-entry cap).
    overlap: bool,
}

/// `raw/12_c.txt`, `raw\012_c.txt`, `x/raw/12_C.TXT` -> `(12, Request)`. The last two path
/// components decide; anything before them (`..`, `/`, a folder a re-zipping tool added)
/// is ignored because the name is an id, never a path.
pub(crate) fn parse_entry_name(raw: &[u8]) -> Option<(u64, Kind)> {
    entry_name_parts(raw).map(|(_, id, kind)| (id, kind))
}

/// [`parse_entry_name`], with the number's digits as the name writes them (`"012"`): the
/// label a rewriter's notes give the entry.
pub(crate) fn entry_name_parts(raw: &[u8]) -> Option<(&str, u64, Kind)> {
    let mut parts = raw.rsplit(|&b| b == b'/' || b == b'\\');
    let file = parts.next()?;
    let dir = parts.next()?;
    if !dir.eq_ignore_ascii_case(b"raw") {
        return None;
    }
    let underscore = file.iter().position(|&b| b == b'_')?;
    let (digits, rest) = file.split_at(underscore);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = std::str::from_utf8(digits).ok()?;
    let id: u64 = digits.parse().ok()?;
    let kind = match rest.to_ascii_lowercase().as_slice() {
        b"_c.txt" => Kind::Request,
        b"_s.txt" => Kind::Response,
        b"_m.xml" => Kind::Meta,
        b"_w.txt" => Kind::WebSocket,
        _ => return None,
    };
    Some((digits, id, kind))
}

fn is_raw_entry(raw: &[u8]) -> bool {
    let mut parts = raw.rsplit(|&b| b == b'/' || b == b'\\');
    parts.next();
    parts.next().is_some_and(|d| d.eq_ignore_ascii_case(b"raw"))
}

/// An entry's bytes, at most `cap` of them.
#[derive(Debug, PartialEq, Eq)]
struct EntryBytes {
    bytes: Vec<u8>,
    /// More than `cap` bytes were there.
    truncated: bool,
    /// The entry ended in an error after `bytes` were read (CRC, damaged data).
    problem: Option<String>,
}

impl EntryBytes {
    /// What was lost of the entry `name`, as session problems: cut at `cap`, or damaged.
    fn describe(&self, name: &str, cap: u64, problems: &mut Vec<String>) {
        if self.truncated {
            problems.push(format!("{name}: larger than the {cap}-byte cap, cut there"));
        }
        if let Some(p) = &self.problem {
            problems.push(format!("{name}: {p}; kept what was read"));
        }
    }
}

/// Read the entry at `loc` through a cap. The declared size is a hint only: it comes from the
/// file and may lie, so it bounds the first allocation, never the read.
fn read_entry(
    reader: &mut PosReader,
    loc: Option<&EntryLoc>,
    password: Option<&[u8]>,
    cap: u64,
) -> Result<EntryBytes, String> {
    let loc = loc.ok_or_else(|| "not described by the central directory".to_string())?;
    // Decoders fail lazily, at the first read, with a vague error: check the method first
    // so the message says what is wrong.
    if !loc.method_supported() {
        return Err(format!(
            "unsupported compression method ({})",
            loc.method_name()
        ));
    }
    // A clean plain entry is read without the zip crate ([`fast`]); any other, or one the
    // fast path finds anything wrong with, through it, as before.
    if let Some(bytes) = fast::read(reader, loc, cap) {
        return Ok(EntryBytes {
            bytes,
            truncated: false,
            problem: None,
        });
    }
    read_through_crate(reader, loc, password, cap)
}

/// [`read_entry`] through the zip crate's stream reader: decryption, inflate, the size and
/// CRC checks, and what was read before damage kept.
fn read_through_crate(
    reader: &mut PosReader,
    loc: &EntryLoc,
    password: Option<&[u8]>,
    cap: u64,
) -> Result<EntryBytes, String> {
    let entry = open_entry(reader, loc, password).map_err(|e| entry_error(&e))?;
    let hint = entry.size().min(cap).min(1024 * 1024);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    let result = entry.take(cap.saturating_add(1)).read_to_end(&mut bytes);
    let truncated = bytes.len() as u64 > cap;
    if truncated {
        bytes.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
    }
    let problem = match result {
        Ok(_) => None,
        Err(e) => Some(io_entry_error(&e)),
    };
    if bytes.is_empty() {
        if let Some(p) = problem {
            return Err(p);
        }
    }
    Ok(EntryBytes {
        bytes,
        truncated,
        problem,
    })
}

/// The entry at `loc`, its local header read and its decoder (decryption, inflate) set up.
/// The central directory's sizes and CRC are used, as a reader of the archive by index
/// uses them: the local header may leave them to a data descriptor, and may lie.
fn open_entry<'r>(
    reader: &'r mut PosReader,
    loc: &EntryLoc,
    password: Option<&'r [u8]>,
) -> Result<zip::read::ZipFile<'r, PosReader>, ZipError> {
    reader.seek(SeekFrom::Start(loc.header_start))?;
    let options = ZipReadOptions::new()
        .password(password)
        .override_compressed_size(loc.compressed)
        .override_uncompressed_size(loc.uncompressed)
        .override_crc(loc.crc32);
    match read_zipfile_from_stream_with_options(reader, options)? {
        Some(entry) => Ok(entry),
        None => Err(ZipError::InvalidArchive(
            "no local header where the central directory says".into(),
        )),
    }
}

/// A zip error as a message about an entry. Never includes names or content.
pub(crate) fn entry_error(e: &ZipError) -> String {
    match e {
        ZipError::CompressionMethodNotSupported(m) => {
            format!("unsupported compression method {m}")
        }
        ZipError::UnsupportedArchive(m) if *m == ZipError::PASSWORD_REQUIRED => {
            "encrypted, and no password was given".into()
        }
        ZipError::UnsupportedArchive(m) => format!("unsupported: {m}"),
        ZipError::InvalidPassword => "wrong password".into(),
        ZipError::InvalidArchive(m) => format!("damaged entry: {m}"),
        ZipError::Io(e) => io_entry_error(e),
        ZipError::FileNotFound => "entry not found".into(),
        other => format!("unreadable entry: {other}"),
    }
}

pub(crate) fn io_entry_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "entry data ends early (archive truncated?)".into(),
        io::ErrorKind::InvalidData => "damaged entry data (bad compressed data or checksum)".into(),
        io::ErrorKind::Unsupported => "unsupported compression or encryption".into(),
        _ => format!("cannot read entry: {}", e.kind()),
    }
}

/// Decrypt one whole entry: AES checks its verifier up front and its MAC at the end;
/// ZipCrypto's one-byte check passes one wrong password in 256, and then the inflate or
/// the CRC fails, which also means a wrong password.
fn check_password(
    reader: &PosReader,
    probe: &EntryLoc,
    password: &Password,
) -> Result<(), CaptureErrorKind> {
    let mut reader = reader.clone();
    let entry = match open_entry(&mut reader, probe, Some(password.expose().as_bytes())) {
        Ok(e) => e,
        Err(ZipError::InvalidPassword) => return Err(CaptureErrorKind::WrongPassword),
        Err(e) => return Err(CaptureErrorKind::Saz(entry_error(&e))),
    };
    let read = io::copy(&mut entry.take(MAX_META_BYTES * 64), &mut io::sink());
    match read {
        Ok(_) => Ok(()),
        Err(_) if probe.method_supported() => Err(CaptureErrorKind::WrongPassword),
        Err(e) => Err(CaptureErrorKind::Saz(io_entry_error(&e))),
    }
}

/// Responses that carry no body whatever `Content-Length` says (RFC 9110 6.4.1).
fn expects_body(method: &str, status: u16) -> bool {
    !(method.eq_ignore_ascii_case("HEAD")
        || method.eq_ignore_ascii_case("CONNECT")
        || (100..200).contains(&status)
        || status == 204
        || status == 304)
}

/// A note when the stored body and `Content-Length` disagree (a capture cut short, or a
/// tool that edited the body). Chunked bodies carry their own framing.
fn length_mismatch(headers: &super::Headers, actual: usize, what: &str) -> Option<String> {
    if headers.contains("transfer-encoding") {
        return None;
    }
    let declared: u64 = headers.get("content-length")?.trim().parse().ok()?;
    (declared != actual as u64)
        .then(|| format!("{what} body is {actual} bytes but Content-Length says {declared}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(parse_entry_name(b"raw/1_c.txt"), Some((1, Kind::Request)));
        assert_eq!(
            parse_entry_name(b"raw\\0012_s.txt"),
            Some((12, Kind::Response))
        );
        assert_eq!(parse_entry_name(b"RAW/7_M.XML"), Some((7, Kind::Meta)));
        assert_eq!(
            parse_entry_name(b"../../raw/3_w.txt"),
            Some((3, Kind::WebSocket))
        );
        assert_eq!(
            parse_entry_name(b"/abs/raw/3_c.txt"),
            Some((3, Kind::Request))
        );
        assert_eq!(parse_entry_name(b"raw/3_c.txt\0.exe"), None);
        assert_eq!(parse_entry_name(b"raw/_c.txt"), None);
        assert_eq!(parse_entry_name(b"raw/99999999999999999999_c.txt"), None);
        assert_eq!(parse_entry_name(b"1_c.txt"), None);
        assert_eq!(parse_entry_name(b"other/1_c.txt"), None);
        assert_eq!(parse_entry_name(b"raw/1_x.txt"), None);
        assert_eq!(parse_entry_name(b"_index.htm"), None);
    }

    #[test]
    fn reads_from_memory_as_from_a_file() {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("raw/1_c.txt", opts).unwrap();
        w.write_all(b"GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n")
            .unwrap();
        w.start_file("raw/1_s.txt", opts).unwrap();
        w.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n\r\n")
            .unwrap();
        w.start_file("raw/2_c.txt", opts).unwrap();
        w.write_all(b"not http").unwrap();
        let bytes = w.finish().unwrap().into_inner();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.saz");
        std::fs::write(&path, &bytes).unwrap();
        let o = ReadOptions::default();
        let describe = |r: SessionResult| match r {
            Ok(s) => format!("{} {} {:?}", s.id, s.request.url, s.status()),
            Err(e) => e.to_string(),
        };
        let from_file = SazArchive::open(&path, &o).unwrap();
        let from_memory = SazArchive::from_bytes(bytes.clone(), &o).unwrap();
        let a = from_file.map_sessions(describe).unwrap();
        let b = from_memory.map_sessions(describe).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0], "1 http://a.example/ Some(401)");
        // Cut anywhere: an error or sessions, never a panic.
        for cut in 0..bytes.len() {
            if let Ok(z) = SazArchive::from_bytes(&bytes[..cut], &o) {
                let _ = z.map_sessions(describe);
            }
        }
    }

    /// A small SAZ of two sessions (request and response each), written by `w`.
    fn two_sessions<W: std::io::Write + std::io::Seek>(mut w: zip::ZipWriter<W>) -> W {
        use std::io::Write;
        let opts = zip::write::SimpleFileOptions::default();
        for id in 1..=2 {
            w.start_file(format!("raw/{id}_c.txt"), opts).unwrap();
            write!(
                w,
                "GET http://h{id}.example/ HTTP/1.1\r\nHost: h{id}.example\r\n\r\n"
            )
            .unwrap();
            w.start_file(format!("raw/{id}_s.txt"), opts).unwrap();
            w.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        }
        w.finish().unwrap()
    }

    fn listing(z: &SazArchive) -> Vec<String> {
        z.map_sessions(|r| match r {
            Ok(s) => format!("{} {} {:?}", s.id, s.request.url, s.status()),
            Err(e) => e.to_string(),
        })
        .unwrap()
    }

    /// Entries are read from their local headers with the central directory's sizes, so an
    /// entry whose local header leaves the sizes to a data descriptor (bit 3, as a
    /// streaming writer makes) reads like any other.
    #[test]
    fn entries_with_data_descriptors_read_from_their_local_headers() {
        let mut out = Vec::new();
        {
            let w = zip::ZipWriter::new_stream(&mut out);
            let _ = two_sessions(w);
        }
        // The first local header's flags say "sizes in a data descriptor".
        assert_eq!(&out[..4], b"PK\x03\x04");
        assert_ne!(u16::from_le_bytes([out[6], out[7]]) & 0x08, 0);
        let z = SazArchive::from_bytes(out, &ReadOptions::default()).unwrap();
        assert_eq!(
            listing(&z),
            [
                "1 http://h1.example/ Some(204)",
                "2 http://h2.example/ Some(204)"
            ]
        );
    }

    /// A local header that is not where the central directory says costs its session only.
    #[test]
    fn a_missing_local_header_costs_its_session_only() {
        let mut bytes =
            two_sessions(zip::ZipWriter::new(std::io::Cursor::new(Vec::new()))).into_inner();
        // The second session's request is the third local header in the file.
        let at = memchr::memmem::find_iter(&bytes, b"PK\x03\x04")
            .nth(2)
            .unwrap();
        bytes[at..at + 4].copy_from_slice(b"XXXX");
        let z = SazArchive::from_bytes(bytes, &ReadOptions::default()).unwrap();
        let l = listing(&z);
        assert_eq!(l[0], "1 http://h1.example/ Some(204)");
        assert!(l[1].starts_with("session 2: raw/2_c.txt: "), "{}", l[1]);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn length_notes() {
        let mut h = super::super::Headers::new();
        h.push("Content-Length", "45");
        assert!(length_mismatch(&h, 38, "response").is_some());
        assert!(length_mismatch(&h, 45, "response").is_none());
        h.push("Transfer-Encoding", "chunked");
        assert!(length_mismatch(&h, 38, "response").is_none());
    }
}

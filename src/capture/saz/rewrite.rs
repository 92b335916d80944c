//! A SAZ rewritten entry by entry through a [`Scrubber`], read with the reader's own code.
//!
//! The archive is opened as the analysis opens it ([`SazArchive`]: our central-directory
//! reader, the overlap check, the password checked once), then the directory is walked again
//! in its order and each entry read as sessions are read (its local header, decryption,
//! inflate, under the same cap). The zip crate's `ZipArchive` is never built; the zip crate
//! only writes (`ZipWriter`).
//!
//! The copy is a normalised archive, not a patched one: nothing of the input's zip is copied
//! as stored.
//! - Every entry the SAZ layout names (`raw/NN_c.txt`, `_s.txt`, `_m.xml`, `_w.txt`,
//!   `_index.htm`, `[Content_Types].xml`) is read, handed to the scrubber, and written anew
//!   (deflated; AES-256 with an output password) in the input's order, under its own name,
//!   with its own timestamp. No extra field, no entry comment.
//! - Directory entries (with data or not) and entries of any other name are left out; a note
//!   counts them (names are capture content and never printed).
//! - The archive comment is kept only when it is Fiddler's (`Fiddler (v5.0...) Session
//!   Archive. See https://...`); another comment starting with `Fiddler` becomes `Fiddler
//!   Session Archive` (the reader reads `BitFlags` as hex under a Fiddler comment); any
//!   other is dropped.
//! - A second entry of the same name is left out (the reader reads the first only).
//! - An entry the reader reads around (an unsupported method, a failed decryption, damage
//!   before any byte) is replaced by a placeholder the reader reports as unreadable in the
//!   same place ([`placeholder_entry`]). A request or response cut at the cap or damaged
//!   after some bytes goes to the scrubber with [`SazEntry::cut`] / [`SazEntry::damaged`];
//!   any other entry cut or damaged is replaced by a placeholder.
//!
//! Reading and scrubbing are most of a rewrite's time, compressing the copy a quarter. When
//! the scrubber hands out a [`SessionScrubber`], each run of one session's entries is read
//! and scrubbed on the rayon pool, a window ahead of the calling thread, which compresses
//! and writes every entry in the input's order (`apart`); the copy is the same, byte for
//! byte, as the one written entry after entry.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, DateTime, ZipWriter};

use rayon::prelude::*;

use super::zip_dir;
use super::zip_dir::EntryLoc;
use super::{
    entry_name_parts, parse_entry_name, read_entry, Backing, Kind, PosReader, SazArchive,
    HEAD_ALLOWANCE,
};
use crate::capture::rewrite::{
    RewriteOptions, Rewritten, SazEntry, Scrubber, SessionScrubber, Tally, WriteSeek,
};
use crate::capture::saz_meta::MAX_META_BYTES;
use crate::capture::CaptureErrorKind;

/// Rewrite the SAZ at `input` into `output` (a fresh file), every entry through `scrubber`.
pub fn rewrite(
    input: &Path,
    output: &mut dyn WriteSeek,
    opts: &RewriteOptions,
    scrubber: &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind> {
    let file = File::open(input)?;
    let len = file.metadata()?.len();
    let reader = PosReader {
        data: Backing::File(Arc::new(file)),
        pos: 0,
        len,
    };
    rewrite_reader(reader, output, opts, scrubber)
}

/// [`rewrite`] of a SAZ already in memory (tests, the fuzz target).
pub fn rewrite_bytes(
    bytes: impl Into<Arc<[u8]>>,
    output: &mut dyn WriteSeek,
    opts: &RewriteOptions,
    scrubber: &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind> {
    let bytes: Arc<[u8]> = bytes.into();
    let reader = PosReader {
        len: bytes.len() as u64,
        data: Backing::Memory(bytes),
        pos: 0,
    };
    rewrite_reader(reader, output, opts, scrubber)
}

/// One central-directory record, as the rewrite needs it.
struct Listed {
    name: Vec<u8>,
    loc: EntryLoc,
    modified: Option<DateTime>,
    is_dir: bool,
}

/// What an entry of the SAZ layout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Session(u64, Kind),
    /// `_index.htm`, `[Content_Types].xml`: Fiddler's own files beside `raw/`.
    Other,
}

/// The SAZ layout's name for `name`, if it has one.
fn layout(name: &[u8]) -> Option<Layout> {
    if let Some((id, kind)) = parse_entry_name(name) {
        return Some(Layout::Session(id, kind));
    }
    (name.eq_ignore_ascii_case(b"_index.htm") || name.eq_ignore_ascii_case(b"[Content_Types].xml"))
        .then_some(Layout::Other)
}

/// The archive comment the copy gets: Fiddler's kept, another Fiddler one made generic (the
/// reader reads `BitFlags` as hex when the comment starts with `Fiddler`), any other dropped.
pub(crate) fn comment_for_copy(comment: &[u8]) -> &[u8] {
    if is_fiddler_comment(comment) {
        return comment;
    }
    if comment.starts_with(b"Fiddler") {
        return b"Fiddler Session Archive";
    }
    b""
}

/// `Fiddler (v5.0.20182.28034) Session Archive. See https://fiddler2.com` and the like.
fn is_fiddler_comment(c: &[u8]) -> bool {
    let Some(rest) = c.strip_prefix(b"Fiddler (v") else {
        return false;
    };
    let v = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    let Some(rest) = rest[v..].strip_prefix(b") Session Archive.") else {
        return false;
    };
    if v == 0 || v > 24 {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let Some(url) = rest
        .strip_prefix(b" See https://")
        .or_else(|| rest.strip_prefix(b" See http://"))
    else {
        return false;
    };
    !url.is_empty()
        && url.len() <= 40
        && url
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"./-".contains(b))
}

/// What an entry that cannot be read, or is cut or damaged where nothing can use a part,
/// is replaced by: one line saying so. The reader reports a request or response entry like
/// this as unreadable (its first line is not an HTTP line), a metadata entry as not XML.
pub(crate) fn placeholder_entry(label: &str, why: &str) -> Vec<u8> {
    format!("[traceadal redact: entry removed: {label}: {why}]\r\n").into_bytes()
}

fn rewrite_reader(
    mut reader: PosReader,
    output: &mut dyn WriteSeek,
    opts: &RewriteOptions,
    scrubber: &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind> {
    // Opened as for analysis: a password is checked, an overlapping archive refused.
    let archive = SazArchive::from_reader(reader.clone(), &opts.read)?;
    let password = archive.password.clone();
    drop(archive);
    let (listed, directory) = listing(&mut reader)?;

    // Past the output's first error the zip writer writes into nothing: its drop would
    // otherwise try to finish the archive on the output that just failed and print its raw
    // error on stderr (issue 20: redact on a full disk). The first error is returned.
    let start = output.stream_position()?;
    let mut w = ZipWriter::new(Latch {
        inner: output,
        failed: false,
        pos: start,
        end: start,
    });
    w.set_raw_comment(comment_for_copy(&directory.comment).into())
        .map_err(|e| write_err(&e))?;
    let raw_cap = opts.read.limits.max_decoded.saturating_add(HEAD_ALLOWANCE);
    let pw = password.as_ref().map(|p| p.expose().as_bytes());
    let mut out = Rewritten::default();
    let Plan {
        steps: planned,
        dirs,
        others,
    } = plan(&listed, raw_cap);
    let mut writer = Writer {
        zip: &mut w,
        opts,
        out: &mut out,
        replaced: 0,
    };
    match scrubber.saz_sessions() {
        Some(sessions) => apart(&planned, &reader, pw, &*sessions, scrubber, &mut writer)?,
        None => {
            let all = Run {
                steps: 0..planned.len(),
                apart: false,
            };
            write_run(
                &planned,
                &all,
                Vec::new(),
                &reader,
                pw,
                scrubber,
                &mut writer,
            )?;
        }
    }
    let replaced = writer.replaced;
    if dirs > 0 {
        out.notes.push(format!(
            "{dirs} directory entr{} left out",
            if dirs == 1 { "y" } else { "ies" }
        ));
    }
    if others > 0 {
        out.notes.push(format!(
            "{others} entr{} not in the SAZ layout left out (names not shown)",
            if others == 1 { "y" } else { "ies" }
        ));
    }
    let mut inner = w.finish().map_err(|e| write_err(&e))?;
    inner.flush()?;
    if inner.failed {
        return Err(CaptureErrorKind::Io(std::io::Error::other(
            "the output failed while the archive was written",
        )));
    }
    out.what = if replaced > 0 {
        format!(
            "{} entries, {replaced} replaced by placeholders",
            out.entries
        )
    } else {
        format!("{} entries", out.entries)
    };
    Ok(out)
}

/// The central directory's records in its order, and the directory.
fn listing(reader: &mut PosReader) -> Result<(Vec<Listed>, zip_dir::Directory), CaptureErrorKind> {
    let mut listed = Vec::new();
    let len = reader.len;
    let directory = zip_dir::scan(reader, len, |record| {
        listed.push(Listed {
            name: record.name.to_vec(),
            loc: record.loc,
            modified: DateTime::try_from_msdos(record.dos_date, record.dos_time).ok(),
            is_dir: record.is_dir(),
        })
    })?;
    Ok((listed, directory))
}

/// What the listed entries become, in order, and what is left out.
struct Plan<'a> {
    steps: Vec<Step<'a>>,
    /// Directory entries, left out.
    dirs: usize,
    /// Entries not in the SAZ layout, left out (names not shown).
    others: usize,
}

/// What each of `listed` becomes: read under `raw_cap` (`_m.xml` under its own cap),
/// scrubbed and written, or left out with a note (a second entry of the same name), or
/// left out and counted (a directory, a name outside the SAZ layout).
fn plan(listed: &[Listed], raw_cap: u64) -> Plan<'_> {
    let mut seen = HashSet::new();
    let (mut dirs, mut others) = (0usize, 0usize);
    let mut steps = Vec::with_capacity(listed.len());
    for (i, entry) in listed.iter().enumerate() {
        if entry.is_dir {
            dirs += 1;
            continue;
        }
        let Some(layout) = layout(&entry.name) else {
            others += 1;
            continue;
        };
        let label = entry_label(&entry.name, i);
        if !seen.insert(entry.name.as_slice()) {
            steps.push(Step::Note(format!(
                "{label}: the same entry name again; the copy was left out"
            )));
            continue;
        }
        let (session, kind) = match layout {
            Layout::Session(id, k) => (Some(id), Some(k)),
            Layout::Other => (None, None),
        };
        let cap = if kind == Some(Kind::Meta) {
            MAX_META_BYTES
        } else {
            raw_cap
        };
        steps.push(Step::Entry(Planned {
            entry,
            label,
            session,
            kind,
            cap,
        }));
    }
    Plan {
        steps,
        dirs,
        others,
    }
}

/// What one listed entry becomes.
enum Step<'a> {
    /// Left out, with a note (a second entry of the same name).
    Note(String),
    /// Read, scrubbed and written.
    Entry(Planned<'a>),
}

/// An entry to read, scrub and write.
struct Planned<'a> {
    entry: &'a Listed,
    label: String,
    session: Option<u64>,
    kind: Option<Kind>,
    /// The read cap.
    cap: u64,
}

/// An entry read and scrubbed, to write.
struct Ready {
    data: Vec<u8>,
    /// The rewrite's own notes on it ([`Rewritten::notes`]).
    notes: Vec<String>,
    /// A placeholder entry stands for it: it could not be read.
    replaced: bool,
}

/// Read the entry `p` plans and hand it to `scrub`: what to write.
fn read_planned(
    reader: &mut PosReader,
    p: &Planned<'_>,
    password: Option<&[u8]>,
    scrub: impl FnOnce(SazEntry<'_>) -> Option<Vec<u8>>,
) -> Ready {
    let label = &p.label;
    let message = matches!(p.kind, Some(Kind::Request | Kind::Response));
    let placeholder = |why: String| Ready {
        data: placeholder_entry(label, &why),
        notes: vec![format!("{label}: {why}; replaced by a placeholder entry")],
        replaced: true,
    };
    match read_entry(reader, Some(&p.entry.loc), password, p.cap) {
        Err(why) => placeholder(why),
        Ok(read) if !message && (read.truncated || read.problem.is_some()) => {
            placeholder(match read.problem {
                Some(problem) => problem,
                None => format!("larger than the {}-byte cap", p.cap),
            })
        }
        Ok(read) => {
            let notes = match &read.problem {
                Some(problem) => vec![format!(
                    "{label}: {problem}; rewritten from what was read (as the analysis reads it)"
                )],
                None => Vec::new(),
            };
            let new = scrub(SazEntry {
                label,
                session: p.session,
                kind: p.kind,
                bytes: &read.bytes,
                cut: read.truncated,
                damaged: read.problem.clone(),
            });
            Ready {
                data: new.unwrap_or(read.bytes),
                notes,
                replaced: false,
            }
        }
    }
}

/// The copy's zip writer and what the rewrite tells.
struct Writer<'w, 'o> {
    zip: &'w mut ZipWriter<Latch<'o>>,
    opts: &'w RewriteOptions,
    out: &'w mut Rewritten,
    /// Entries replaced by placeholder entries.
    replaced: usize,
}

impl Writer<'_, '_> {
    /// Write `ready` as the copy of `p`'s entry: deflated (AES-256 with an output password),
    /// under its own name and timestamp.
    fn write(&mut self, p: &Planned<'_>, ready: Ready) -> Result<(), CaptureErrorKind> {
        self.out.notes.extend(ready.notes);
        if ready.replaced {
            self.replaced += 1;
        }
        let data = ready.data;
        let mut options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .large_file(data.len() as u64 > u64::from(u32::MAX) / 2);
        if let Some(t) = p.entry.modified {
            options = options.last_modified_time(t);
        }
        if let Some(pw) = &self.opts.output_password {
            options = options.with_aes_encryption(AesMode::Aes256, pw.expose());
        }
        self.zip
            .start_file_with_options(options.name(&p.entry.name[..]))
            .map_err(|e| write_err(&e))?;
        self.zip.write_all(&data)?;
        self.out.entries += 1;
        Ok(())
    }
}

/// Entries in a window the pool scrubs while the writing thread compresses the ones before.
const WINDOW_ENTRIES: usize = 256;
/// Stored bytes (as the directory declares them) after which a window closes early.
const WINDOW_BYTES: u64 = 32 << 20;
/// Windows on the pool at a time.
const WINDOWS_AHEAD: usize = 3;
/// Bytes of scrubbed entries the pool may hold, not yet written, before its runs leave the
/// rest of their entries to the writing thread: with what each of its threads is reading
/// (at most the read cap), all a rewrite holds beyond what the writing thread works on.
const HELD: u64 = 16 << 20;
/// An entry the directory says is larger than this is read on the writing thread, with the
/// rest of its run: one such entry at a time, as when entries are scrubbed in order (a SAZ of
/// twenty 60 MiB answers peaked at 197 MB in order, 377 MB when they were read ahead).
const LARGE: u64 = 4 << 20;

/// A run of planned steps: the entries of one session that follow each other in the
/// archive, one entry outside any session, or a note.
struct Run {
    steps: std::ops::Range<usize>,
    /// Scrubbed by a [`crate::capture::rewrite::SazSession`] of its own on the pool: its session was not seen
    /// before (its entries usually follow each other; when they do not, the later ones go
    /// through the scrubber itself, in order).
    apart: bool,
}

/// Where the run that begins at `planned[start]` ends.
fn run_end(planned: &[Step<'_>], start: usize) -> usize {
    let session = match &planned[start] {
        Step::Entry(Planned {
            session: Some(n), ..
        }) => *n,
        _ => return start + 1,
    };
    let mut end = start + 1;
    while let Some(Step::Entry(Planned {
        session: Some(n), ..
    })) = planned.get(end)
    {
        if *n != session {
            break;
        }
        end += 1;
    }
    end
}

/// The runs of the window that begins at `planned[start]`, and where it ends.
fn window(planned: &[Step<'_>], start: usize, seen: &mut HashSet<u64>) -> (Vec<Run>, usize) {
    let (mut runs, mut at, mut entries, mut bytes) = (Vec::new(), start, 0usize, 0u64);
    while at < planned.len() && entries < WINDOW_ENTRIES && bytes < WINDOW_BYTES {
        let end = run_end(planned, at);
        let apart = match &planned[at] {
            Step::Note(_) => false,
            Step::Entry(p) => p.session.is_none_or(|n| seen.insert(n)),
        };
        for step in &planned[at..end] {
            if let Step::Entry(p) = step {
                entries += 1;
                bytes = bytes.saturating_add(p.entry.loc.uncompressed);
            }
        }
        runs.push(Run {
            steps: at..end,
            apart,
        });
        at = end;
    }
    (runs, at)
}

/// Each run of a window that is scrubbed apart, read and scrubbed on the pool: what to
/// write and the tally of each of its first entries, all of them unless one is [`LARGE`] or
/// the pool came to hold [`HELD`] bytes (`held`, which the writing thread lowers as it
/// writes) before it: the rest are scrubbed in order on the writing thread, which bounds
/// memory on an archive of entries that each inflate to the cap.
fn scrub_window(
    planned: &[Step<'_>],
    runs: &[Run],
    reader: &PosReader,
    password: Option<&[u8]>,
    sessions: &dyn SessionScrubber,
    held: &AtomicU64,
) -> Vec<Vec<(Ready, Tally)>> {
    runs.par_iter()
        .map(|run| {
            if !run.apart {
                return Vec::new();
            }
            let mut reader = reader.clone();
            let mut session = sessions.saz_session();
            let mut done = Vec::with_capacity(run.steps.len());
            for step in &planned[run.steps.clone()] {
                let Step::Entry(p) = step else {
                    break;
                };
                if p.entry.loc.uncompressed > LARGE || held.load(Ordering::Relaxed) >= HELD {
                    break;
                }
                let mut tally = None;
                let ready = read_planned(&mut reader, p, password, |e| {
                    let (new, t) = session.saz_entry(e);
                    tally = Some(t);
                    new
                });
                held.fetch_add(ready.data.len() as u64, Ordering::Relaxed);
                // An entry that could not be read was never scrubbed: nothing counted.
                done.push((ready, tally.unwrap_or_else(|| Tally(Box::new(())))));
            }
            done
        })
        .collect()
}

/// The rewrite's entries scrubbed on the pool ([`Scrubber::saz_sessions`]) and written in
/// order: [`WINDOWS_AHEAD`] windows on the pool while the writing thread compresses and
/// writes the oldest, each entry's tally absorbed as it is written, and the runs not scrubbed apart
/// scrubbed in order by `scrubber` itself, after everything before them.
fn apart(
    planned: &[Step<'_>],
    reader: &PosReader,
    password: Option<&[u8]>,
    sessions: &dyn SessionScrubber,
    scrubber: &mut dyn Scrubber,
    writer: &mut Writer<'_, '_>,
) -> Result<(), CaptureErrorKind> {
    let mut seen = HashSet::new();
    let mut next = 0;
    let held = &AtomicU64::new(0);
    rayon::in_place_scope(|pool| {
        let mut in_flight = std::collections::VecDeque::new();
        loop {
            // Windows go to the pool before the oldest is written, so that the pool is not
            // left idle while this thread compresses.
            while in_flight.len() < WINDOWS_AHEAD && next < planned.len() {
                let (runs, after) = window(planned, next, &mut seen);
                next = after;
                let (sender, receiver) = std::sync::mpsc::sync_channel(1);
                pool.spawn(move |_| {
                    let done = scrub_window(planned, &runs, reader, password, sessions, held);
                    let _ = sender.send((runs, done));
                });
                in_flight.push_back(receiver);
            }
            let Some(oldest) = in_flight.pop_front() else {
                return Ok(());
            };
            // A window whose scrubbing panicked sends nothing: the scope raises the panic.
            let Ok((runs, done)) = oldest.recv() else {
                return Ok(());
            };
            for (run, done) in runs.iter().zip(done) {
                let bytes: u64 = done.iter().map(|(r, _)| r.data.len() as u64).sum();
                write_run(planned, run, done, reader, password, scrubber, writer)?;
                held.fetch_sub(bytes, Ordering::Relaxed);
            }
        }
    })
}

/// Write the entries of `run`, in order: the first as the pool scrubbed them (`done`, each
/// entry's tally absorbed first), the rest read and scrubbed here by `scrubber` itself, which
/// by then knows what the session's earlier entries decided.
fn write_run(
    planned: &[Step<'_>],
    run: &Run,
    done: Vec<(Ready, Tally)>,
    reader: &PosReader,
    password: Option<&[u8]>,
    scrubber: &mut dyn Scrubber,
    writer: &mut Writer<'_, '_>,
) -> Result<(), CaptureErrorKind> {
    let mut done = done.into_iter();
    let mut reader = reader.clone();
    for step in &planned[run.steps.clone()] {
        match step {
            Step::Note(note) => writer.out.notes.push(note.clone()),
            Step::Entry(p) => {
                let ready = match done.next() {
                    Some((ready, tally)) => {
                        scrubber.absorb(tally);
                        ready
                    }
                    None => read_planned(&mut reader, p, password, |e| scrubber.saz_entry(e)),
                };
                writer.write(p, ready)?;
            }
        }
    }
    Ok(())
}

/// An entry named for a message: its session entry name when it has one, with the number
/// as the archive writes it (Fiddler pads it: `raw/010_s.txt`, the name an analyst finds in
/// the zip), in the layout's folder and case; else its index (other entry names are capture
/// content, and a session entry's folders before `raw/` are too).
fn entry_label(name: &[u8], index: usize) -> String {
    match entry_name_parts(name) {
        Some((number, _, kind)) => format!("raw/{number}{}", kind.suffix()),
        None => format!("entry #{}", index + 1),
    }
}

/// A writer that, once its inner writer failed, swallows everything after (see
/// `rewrite_reader`), keeping a cursor of its own so that what the zip writer does next
/// stays consistent (it asserts on positions).
struct Latch<'a> {
    inner: &'a mut dyn WriteSeek,
    failed: bool,
    pos: u64,
    end: u64,
}

impl Latch<'_> {
    fn fail<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if r.as_ref()
            .is_err_and(|e| e.kind() != std::io::ErrorKind::Interrupted)
        {
            self.failed = true;
        }
        r
    }

    fn moved(&mut self, pos: u64) {
        self.pos = pos;
        self.end = self.end.max(pos);
    }
}

impl Write for Latch<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            self.moved(self.pos.saturating_add(buf.len() as u64));
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        if let Ok(n) = &r {
            self.moved(self.pos.saturating_add(*n as u64));
        }
        self.fail(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.fail(r)
    }
}

impl std::io::Seek for Latch<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        if self.failed {
            let p = match to {
                std::io::SeekFrom::Start(p) => p,
                std::io::SeekFrom::End(d) => self.end.saturating_add_signed(d),
                std::io::SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
            };
            self.moved(p);
            return Ok(p);
        }
        let r = self.inner.seek(to);
        if let Ok(p) = &r {
            self.moved(*p);
        }
        self.fail(r)
    }
}

fn write_err(e: &ZipError) -> CaptureErrorKind {
    match e {
        ZipError::Io(e) => CaptureErrorKind::Io(std::io::Error::new(e.kind(), e.to_string())),
        other => CaptureErrorKind::Saz(format!("cannot write the output archive: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::capture::rewrite::Identity;
    use crate::capture::saz::Kind;
    use crate::capture::ReadOptions;

    /// A note names a session's entry as the archive does, number padding included, in the
    /// layout's folder and case (never with the folders a hostile name puts before `raw/`);
    /// any other entry by its index.
    #[test]
    fn entries_are_labelled_as_the_archive_numbers_them() {
        let label = |name: &[u8]| entry_label(name, 4);
        assert_eq!(label(b"raw/010_s.txt"), "raw/010_s.txt");
        assert_eq!(label(b"raw/7_c.txt"), "raw/7_c.txt");
        assert_eq!(label(b"raw\\00012_m.xml"), "raw/00012_m.xml");
        assert_eq!(label(b"x/../RAW/0010_S.TXT"), "raw/0010_s.txt");
        assert_eq!(label(b"raw/3_w.txt"), "raw/3_w.txt");
        assert_eq!(label(b"../../etc/passwd"), "entry #5");
        assert_eq!(label(b"raw/notes.txt"), "entry #5");
    }

    fn names(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut reader = Cursor::new(bytes);
        let mut out = Vec::new();
        zip_dir::scan(&mut reader, bytes.len() as u64, |r| {
            out.push(r.name.to_vec())
        })
        .unwrap();
        out
    }

    fn sessions(bytes: Vec<u8>) -> String {
        let archive = SazArchive::from_bytes(bytes, &ReadOptions::default()).unwrap();
        format!("{:?}", archive.map_sessions(|s| s).unwrap())
    }

    /// An output that fails part-way (a full disk) is an error from the rewrite, at every
    /// point it can fail, never a panic of the zip writer's (which asserts on positions)
    /// nor its drop's message on stderr (issue 20).
    #[test]
    fn an_output_that_fails_part_way_is_an_error() {
        struct Full {
            inner: Cursor<Vec<u8>>,
            room: u64,
        }
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.inner.position() + buf.len() as u64 > self.room {
                    return Err(std::io::Error::from_raw_os_error(28));
                }
                self.inner.write(buf)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl std::io::Seek for Full {
            fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
                self.inner.seek(to)
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(root.join("samples/aadsts-50076-mfa.saz")).unwrap();
        let mut whole = Cursor::new(Vec::new());
        rewrite_bytes(
            bytes.clone(),
            &mut whole,
            &RewriteOptions::default(),
            &mut Identity,
        )
        .unwrap();
        let len = whole.into_inner().len() as u64;
        for room in (0..len).step_by(997).chain([len - 1]) {
            let mut out = Full {
                inner: Cursor::new(Vec::new()),
                room,
            };
            let r = rewrite_bytes(
                bytes.clone(),
                &mut out,
                &RewriteOptions::default(),
                &mut Identity,
            );
            assert!(r.is_err(), "room {room}");
        }
    }

    /// Every sample SAZ rewritten with a scrubber that changes nothing: the entries of the
    /// SAZ layout in the same order, the same sessions read back.
    #[test]
    fn identity_keeps_every_entry_and_session() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["samples", "samples/variants"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                let path = e.path();
                if path.extension().is_none_or(|x| x != "saz") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let mut out = Cursor::new(Vec::new());
                let r = rewrite_bytes(
                    bytes.clone(),
                    &mut out,
                    &RewriteOptions::default(),
                    &mut Identity,
                )
                .unwrap();
                let out = out.into_inner();
                let kept: Vec<Vec<u8>> = names(&bytes)
                    .into_iter()
                    .filter(|n| !n.ends_with(b"/") && layout(n).is_some())
                    .collect();
                assert_eq!(r.entries, kept.len(), "{}", path.display());
                assert_eq!(names(&out), kept, "{}", path.display());
                assert_eq!(sessions(out), sessions(bytes), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen} samples");
    }

    const REQUEST: &[u8] = b"GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n";
    const RESPONSE: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n\r\n";

    /// Archive and entry comments, extra fields, directories and names outside the SAZ
    /// layout are not in the copy; the notes count what was left out and name none of it.
    #[test]
    fn zip_metadata_and_odd_entries_are_not_copied() {
        use zip::write::FullFileOptions;
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.set_comment("made by SECRET-ARCHIVE-COMMENT").unwrap();
        let mut with_meta = FullFileOptions::default()
            .with_file_comment("SECRET-ENTRY-COMMENT")
            .validate_extra_fields(false);
        with_meta
            .add_extra_field(0x6b6b, b"SECRET-EXTRA-FIELD", false)
            .unwrap();
        w.start_file("raw/1_c.txt", with_meta.clone()).unwrap();
        w.write_all(REQUEST).unwrap();
        w.start_file("raw/1_s.txt", SimpleFileOptions::default())
            .unwrap();
        w.write_all(RESPONSE).unwrap();
        w.add_directory("SECRET-DIRECTORY-NAME/", SimpleFileOptions::default())
            .unwrap();
        w.start_file(
            "notes/SECRET-ENTRY-NAME.txt",
            SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(b"SECRET-ODD-ENTRY-DATA").unwrap();
        w.start_file(
            "_index.htm",
            SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(b"<html>index</html>").unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert!(memchr::memmem::find(&bytes, b"SECRET-EXTRA-FIELD").is_some());

        let mut out = Cursor::new(Vec::new());
        let r = rewrite_bytes(
            bytes.clone(),
            &mut out,
            &RewriteOptions::default(),
            &mut Identity,
        )
        .unwrap();
        let out = out.into_inner();
        assert!(
            memchr::memmem::find(&out, b"SECRET").is_none(),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert_eq!(
            names(&out),
            [&b"raw/1_c.txt"[..], b"raw/1_s.txt", b"_index.htm"]
        );
        assert_eq!(
            r.notes,
            [
                "1 directory entry left out",
                "1 entry not in the SAZ layout left out (names not shown)"
            ]
        );
        let mut z = zip::ZipArchive::new(Cursor::new(out.clone())).unwrap();
        assert_eq!(z.comment(), b"");
        for i in 0..z.len() {
            let e = z.by_index(i).unwrap();
            assert_eq!(e.comment(), "");
            assert_eq!(e.extra_data_fields().count(), 0);
        }
        assert_eq!(sessions(out), sessions(bytes));
    }

    #[test]
    fn only_fiddlers_archive_comment_is_kept() {
        let fiddler = b"Fiddler (v5.0.20182.28034) Session Archive. See https://fiddler2.com";
        assert_eq!(comment_for_copy(fiddler), fiddler);
        assert_eq!(
            comment_for_copy(b"Fiddler (v2.3.9) Session Archive."),
            b"Fiddler (v2.3.9) Session Archive."
        );
        for other in [
            &b"Fiddler (v5.0) Session Archive. See https://x.example/?token=a%20b"[..],
            b"Fiddler SECRET",
            b"Fiddler (v5.0) Session Archive. refresh_token=x",
        ] {
            assert_eq!(comment_for_copy(other), b"Fiddler Session Archive");
        }
        assert_eq!(comment_for_copy(b"SECRET comment"), b"");
        assert_eq!(comment_for_copy(b""), b"");
    }

    /// An entry the reader reads around: an unsupported method becomes a placeholder the
    /// reader reports in the same place; a bad CRC reaches the scrubber as damaged.
    #[test]
    fn unreadable_entries_become_placeholders_and_the_rest_is_written() {
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in [
            ("raw/1_c.txt", REQUEST),
            ("raw/1_s.txt", RESPONSE),
            ("raw/2_c.txt", REQUEST),
            ("raw/2_s.txt", RESPONSE),
            ("raw/3_c.txt", REQUEST),
        ] {
            w.start_file(name, stored).unwrap();
            w.write_all(data).unwrap();
        }
        let mut bytes = w.finish().unwrap().into_inner();
        // Central directory records: method of raw/1_s.txt to LZMA (14), CRC of raw/2_s.txt
        // wrong.
        let central: Vec<usize> = memchr::memmem::find_iter(&bytes, b"PK\x01\x02").collect();
        bytes[central[1] + 10] = 14;
        bytes[central[3] + 16] ^= 0xff;
        let local: Vec<usize> = memchr::memmem::find_iter(&bytes, b"PK\x03\x04").collect();
        bytes[local[1] + 8] = 14;
        let before = SazArchive::from_bytes(bytes.clone(), &ReadOptions::default())
            .unwrap()
            .map_sessions(|s| {
                s.map(|s| (s.id, s.response.is_some()))
                    .map_err(|e| e.to_string())
            })
            .unwrap();

        struct Seen(Vec<(String, bool, Option<String>)>);
        impl Scrubber for Seen {
            fn text(&mut self, _: &str) -> Option<String> {
                None
            }
            fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
                Ok(None)
            }
            fn saz_entry(&mut self, e: SazEntry<'_>) -> Option<Vec<u8>> {
                self.0.push((e.label.to_string(), e.cut, e.damaged.clone()));
                None
            }
        }
        let mut seen = Seen(Vec::new());
        let mut out = Cursor::new(Vec::new());
        let r = rewrite_bytes(bytes, &mut out, &RewriteOptions::default(), &mut seen).unwrap();
        assert_eq!(r.entries, 5);
        assert_eq!(
            r.notes,
            [
                "raw/1_s.txt: unsupported compression method (Lzma); replaced by a placeholder entry",
                "raw/2_s.txt: damaged entry data (bad compressed data or checksum); rewritten from what was read (as the analysis reads it)"
            ]
        );
        assert_eq!(
            seen.0
                .iter()
                .map(|(l, c, d)| (l.as_str(), *c, d.is_some()))
                .collect::<Vec<_>>(),
            [
                ("raw/1_c.txt", false, false),
                ("raw/2_c.txt", false, false),
                ("raw/2_s.txt", false, true),
                ("raw/3_c.txt", false, false)
            ]
        );
        let archive = SazArchive::from_bytes(out.into_inner(), &ReadOptions::default()).unwrap();
        let after = archive
            .map_sessions(|s| {
                s.map(|s| (s.id, s.response.is_some(), s.problems))
                    .map_err(|e| e.to_string())
            })
            .unwrap();
        assert_eq!(before.len(), 3);
        assert_eq!(after.len(), 3);
        // Session 1: no response read, before and after; the copy says why.
        assert_eq!(before[0], Ok((1, false)));
        let (id, has_response, problems) = after[0].clone().unwrap();
        assert_eq!((id, has_response), (1, false));
        assert_eq!(
            problems,
            ["raw/1_s.txt: first line is not an HTTP status line"]
        );
        assert_eq!(before[1], Ok((2, true)));
        assert!(after[1].as_ref().unwrap().1);
    }

    /// A scrubber's replacement is what the entry then holds.
    #[test]
    fn a_replaced_entry_is_stored_and_read_back() {
        struct Shout;
        impl Scrubber for Shout {
            fn text(&mut self, _: &str) -> Option<String> {
                None
            }
            fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
                Ok(None)
            }
            fn saz_entry(&mut self, e: SazEntry<'_>) -> Option<Vec<u8>> {
                (e.kind == Some(Kind::Request)).then(|| e.bytes.replace_host())
            }
        }
        trait ReplaceHost {
            fn replace_host(&self) -> Vec<u8>;
        }
        impl ReplaceHost for [u8] {
            fn replace_host(&self) -> Vec<u8> {
                String::from_utf8_lossy(self)
                    .replace("contoso.com", "CONTOSO.COM")
                    .into_bytes()
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(root.join("samples/two-hosts.saz")).unwrap();
        let mut out = Cursor::new(Vec::new());
        rewrite_bytes(bytes, &mut out, &RewriteOptions::default(), &mut Shout).unwrap();
        let archive = SazArchive::from_bytes(out.into_inner(), &ReadOptions::default()).unwrap();
        let urls = archive
            .map_sessions(|s| s.map(|s| s.request.url).unwrap_or_default())
            .unwrap();
        assert!(!urls.is_empty());
        assert!(urls.iter().all(|u| !u.contains("contoso.com")), "{urls:?}");
    }
}

#[cfg(test)]
mod apart_tests {
    use std::io::Cursor;
    use std::sync::Mutex;

    use super::*;
    use crate::capture::rewrite::{InOrder, SazSession};
    use crate::capture::ReadOptions;

    /// Replaces every `x` by `y`, counting entries; notes each response. A request with
    /// `keep` in its first line makes its session's response upper-case: state carried
    /// from a request to its response, as `redact`'s scrubber carries it.
    #[derive(Default)]
    struct Marker {
        entries: u64,
        notes: Vec<String>,
        upper: HashSet<u64>,
        /// The threads that scrubbed sessions apart.
        threads: std::sync::Arc<Mutex<HashSet<std::thread::ThreadId>>>,
    }

    struct MarkerTally {
        notes: Vec<String>,
        upper: Option<u64>,
    }

    impl Marker {
        fn entry(&mut self, e: SazEntry<'_>) -> Option<Vec<u8>> {
            self.entries += 1;
            let mut out: Vec<u8> = e
                .bytes
                .iter()
                .map(|&b| if b == b'x' { b'y' } else { b })
                .collect();
            match (e.kind, e.session) {
                (Some(Kind::Request), Some(n))
                    if e.bytes
                        .split(|&b| b == b'\n')
                        .next()
                        .is_some_and(|l| l.windows(4).any(|w| w == b"keep")) =>
                {
                    self.upper.insert(n);
                }
                (Some(Kind::Response), Some(n)) => {
                    self.notes
                        .push(format!("{}: {} bytes", e.label, e.bytes.len()));
                    if self.upper.contains(&n) {
                        out.make_ascii_uppercase();
                    }
                }
                _ => {}
            }
            Some(out)
        }
    }

    impl Scrubber for Marker {
        fn text(&mut self, _: &str) -> Option<String> {
            None
        }
        fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Ok(None)
        }
        fn saz_entry(&mut self, e: SazEntry<'_>) -> Option<Vec<u8>> {
            self.entry(e)
        }
        fn saz_sessions(&self) -> Option<Box<dyn SessionScrubber>> {
            Some(Box::new(MarkerSessions(self.threads.clone())))
        }
        fn absorb(&mut self, tally: Tally) {
            self.entries += 1;
            if let Ok(t) = tally.0.downcast::<MarkerTally>() {
                self.notes.extend(t.notes);
                self.upper.extend(t.upper);
            }
        }
    }

    struct MarkerSessions(std::sync::Arc<Mutex<HashSet<std::thread::ThreadId>>>);

    impl SessionScrubber for MarkerSessions {
        fn saz_session(&self) -> Box<dyn SazSession> {
            self.0.lock().unwrap().insert(std::thread::current().id());
            Box::new(OneMarker(Marker::default()))
        }
    }

    struct OneMarker(Marker);

    impl SazSession for OneMarker {
        fn saz_entry(&mut self, e: SazEntry<'_>) -> (Option<Vec<u8>>, Tally) {
            let session = e.session;
            let out = self.0.entry(e);
            let tally = MarkerTally {
                notes: std::mem::take(&mut self.0.notes),
                upper: session.filter(|n| self.0.upper.contains(n)),
            };
            (out, Tally(Box::new(tally)))
        }
    }

    /// A SAZ of `sessions` sessions, each a request (`keep` in every third) and a response
    /// of `body` bytes, in the order `order` gives the entry names.
    fn saz(sessions: u64, body: usize, order: impl Fn(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
        let mut entries = Vec::new();
        for n in 1..=sessions {
            let keep = if n % 3 == 0 { "keep" } else { "drop" };
            entries.push((
                format!("raw/{n}_c.txt"),
                format!("GET http://x/{keep} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
            ));
            let mut s = format!("HTTP/1.1 200 OK\r\nContent-Length: {body}\r\n\r\n").into_bytes();
            s.extend(std::iter::repeat_n(b'x', body));
            entries.push((format!("raw/{n}_s.txt"), s));
        }
        order(&mut entries);
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(name, SimpleFileOptions::default()).unwrap();
            w.write_all(&data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// A copy, the rewrite's and the scrubber's notes, and the entries the scrubber counted.
    type Written = (Vec<u8>, Vec<String>, Vec<String>, u64);

    /// The copy, the rewrite's and the scrubber's notes and the entries counted, scrubbed
    /// apart and in order; the sessions apart were scrubbed on the pool, not on this thread.
    fn both(bytes: &[u8]) -> [Written; 2] {
        let opts = RewriteOptions {
            read: ReadOptions::default(),
            output_password: None,
        };
        let mut apart = Marker::default();
        let mut a = Cursor::new(Vec::new());
        let ra = rewrite_bytes(bytes.to_vec(), &mut a, &opts, &mut apart).unwrap();
        let mut in_order = InOrder(Marker::default());
        let mut b = Cursor::new(Vec::new());
        let rb = rewrite_bytes(bytes.to_vec(), &mut b, &opts, &mut in_order).unwrap();
        let threads = apart.threads.lock().unwrap();
        assert!(!threads.is_empty() && !threads.contains(&std::thread::current().id()));
        drop(threads);
        [
            (a.into_inner(), ra.notes, apart.notes, apart.entries),
            (
                b.into_inner(),
                rb.notes,
                in_order.0.notes,
                in_order.0.entries,
            ),
        ]
    }

    /// Sessions scrubbed apart write the copy written in order, whether each session's
    /// entries follow each other, come apart (every request first, so every response is
    /// scrubbed after its request's tally is absorbed), or come in reverse (responses
    /// first: scrubbed knowing nothing of their requests, as in order).
    #[test]
    fn sessions_apart_write_what_in_order_writes() {
        type Order = fn(&mut Vec<(String, Vec<u8>)>);
        for (what, order, upper_case) in [
            ("adjacent", (|_| {}) as Order, 700 / 3),
            (
                "requests first",
                |e| e.sort_by_key(|(name, _)| !name.ends_with("_c.txt")),
                700 / 3,
            ),
            ("reversed", |e| e.reverse(), 0),
        ] {
            let bytes = saz(700, 300, order);
            let [a, b] = both(&bytes);
            assert!(a.0 == b.0, "{what}: the copies differ");
            assert_eq!(a.1, b.1, "{what}");
            assert_eq!(a.2, b.2, "{what}");
            assert_eq!(a.3, b.3, "{what}");
            assert_eq!(a.3, 1400, "{what}: every entry scrubbed once");
            let bodies: Vec<String> = SazArchive::from_bytes(a.0, &ReadOptions::default())
                .unwrap()
                .map_sessions(|s| {
                    let body = s.unwrap().response.unwrap().body.raw;
                    String::from_utf8(body).unwrap()
                })
                .unwrap();
            // Every third session's request said `keep`: its response is upper-case when the
            // request came first.
            let upper = bodies.iter().filter(|b| b.starts_with("YYY")).count();
            assert_eq!(upper, upper_case, "{what}");
            assert!(
                bodies
                    .iter()
                    .all(|b| b.starts_with("YYY") || b.starts_with("yyy")),
                "{what}"
            );
        }
    }

    /// The directory of `bytes` as the rewrite lists it, and a reader of them.
    fn listed_in(bytes: &[u8]) -> (Vec<Listed>, PosReader) {
        let mut reader = PosReader {
            len: bytes.len() as u64,
            data: Backing::Memory(bytes.to_vec().into()),
            pos: 0,
        };
        let (listed, _) = listing(&mut reader).unwrap();
        (listed, reader)
    }

    /// The pool stops scrubbing once it holds `HELD` bytes: the rest of the window's entries
    /// wait to be read on the writing thread, and the copy is the same. So does an entry
    /// the directory says is `LARGE`, with the rest of its run.
    #[test]
    fn a_window_holds_at_most_its_budget_beyond_the_entries_being_read() {
        let body = 2 << 20;
        let bytes = saz(12, body, |_| {});
        let (listed, reader) = listed_in(&bytes);
        let planned = plan(&listed, u64::MAX).steps;
        let (runs, end) = window(&planned, 0, &mut HashSet::new());
        assert_eq!((runs.len(), end), (12, 24), "one window of twelve runs");
        let marker = Marker::default();
        let sessions = marker.saz_sessions().unwrap();
        let counted = AtomicU64::new(0);
        let done = scrub_window(&planned, &runs, &reader, None, &*sessions, &counted);
        let held: usize = done.iter().flatten().map(|(r, _)| r.data.len()).sum();
        assert_eq!(counted.load(Ordering::Relaxed), held as u64);
        let scrubbed: usize = done.iter().map(Vec::len).sum();
        // 16 MiB, and at most one entry past it on each of the pool's threads.
        let threads = rayon::current_num_threads();
        assert!(
            held <= (16 << 20) + threads * (body + 100),
            "{held} bytes held"
        );
        assert!(
            scrubbed < 24,
            "all {scrubbed} entries were scrubbed on the pool"
        );
        assert!(scrubbed > 0);
        // Every run is a prefix of its session's entries.
        for (run, done) in runs.iter().zip(&done) {
            assert!(done.len() <= run.steps.len());
        }
        let [a, b] = both(&bytes);
        assert!(a.0 == b.0, "the copies differ");
        assert_eq!((a.2, a.3), (b.2, b.3));

        // Past `LARGE` by the directory, an answer is left to the writing thread: the pool
        // scrubs each session's request only.
        let bytes = saz(3, (LARGE + 1) as usize, |_| {});
        let [a, b] = both(&bytes);
        assert!(a.0 == b.0, "the copies differ");
        assert_eq!((a.2, a.3), (b.2, b.3));
        let (listed, reader) = listed_in(&bytes);
        let planned = plan(&listed, u64::MAX).steps;
        let (runs, _) = window(&planned, 0, &mut HashSet::new());
        let nothing_held = AtomicU64::new(0);
        let done = scrub_window(&planned, &runs, &reader, None, &*sessions, &nothing_held);
        assert_eq!(done.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
    }
}

//! The byte guard: the one lexer every byte of a HAR passes through.
//!
//! It sits between the decompressor and serde_json, counts bytes (error offsets), limits
//! nesting, cuts overlong strings and takes each object of `log.entries` out of the stream
//! as its JSON text, so that entries are parsed from slices on the mapper threads. The
//! rewriter ([`super::rewrite`]) runs the same guard and also keeps the bytes around the
//! entries (the skeleton), so that `redact` has no parser of its own.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::ops::Range;
use std::rc::Rc;

#[allow(unused_imports)]
use super::*;

mod blocks;
#[cfg(test)]
pub(super) mod tests;

/// What the guard tells the parser: where it is, how many strings it cut, and the entries
/// it cut out of the stream.
#[derive(Default)]
pub(super) struct Stats {
    /// Bytes of (decompressed) JSON read so far, BOM included.
    pub(super) offset: Cell<u64>,
    pub(super) cuts: Cell<u64>,
    /// The entry the guard took out of the stream last, not yet parsed (see [`Guard`]).
    pub(super) entry: RefCell<Option<CutEntry>>,
    /// With [`Guard::recording`]: the bytes passed on outside any entry since the last entry
    /// was taken (the skeleton), for the rewriter. Empty when not recording.
    pub(super) skeleton: RefCell<Vec<u8>>,
}

/// One object of `log.entries`, as the JSON text the guard passed (strings already cut).
pub(super) struct CutEntry {
    /// Offset of its `{` in the (decompressed) file.
    pub(super) start: u64,
    pub(super) bytes: Vec<u8>,
    /// When recording: the skeleton bytes between the previous entry and this one.
    pub(super) prefix: Vec<u8>,
    /// Where in `bytes` the contents (between the quotes) of long strings at a body's depth
    /// lie, in order: the strings that may be `request.postData.text` or
    /// `response.content.text` ([`Guard::body_string`]), which the mapper parses out of band
    /// ([`super::bodies`]). Only strings the guard read whole (never cut).
    pub(super) bodies: Vec<Range<usize>>,
    /// Read by serde_json alone, not the entry reader ([`entries_by_serde`]).
    #[cfg(test)]
    pub(super) by_serde: bool,
}

impl CutEntry {
    /// Whether the entry reader ([`super::fast`]) may read it: always, but in the tests that
    /// hold it to serde_json's reading.
    #[inline]
    pub(super) fn fast(&self) -> bool {
        #[cfg(test)]
        return !self.by_serde;
        #[cfg(not(test))]
        true
    }
}

/// The depth inside a body's object (`postData`, `content`): the entry is at 4, its
/// `request` and `response` at 5.
const BODY_DEPTH: u32 = 6;

/// The shortest string handed out of band: a short one costs serde_json little, and more
/// to take out than it saves.
const BODY_MIN: u64 = 128;

#[derive(Clone, Copy, Debug)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// The guard's buffer, and the capacity of the `BufReader` under it
/// ([`super::parse::open_stream`]): as large as that, the `BufReader` reads a plain file
/// straight into the guard's buffer instead of copying through its own.
pub(super) const BUFFER: usize = 256 * 1024;

/// How [`Guard::copy_entry`] lexes: in tests, the block lexer can be held to the scalar one
/// and both to [`Guard::step`] byte by byte.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lexing {
    /// 64 bytes at a time where it can, else as `Scalar` (what runs outside tests).
    Blocks,
    /// Runs between quotes and brackets found by searching, each escape or cut by `step`.
    Scalar,
    /// Every byte through `step`.
    Bytes,
}

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
pub(super) struct Guard<R> {
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
    /// Bytes of the entry being copied left out of its copy so far (the rest of a cut
    /// string): `bytes[i]` of the copy is the byte at offset `entry_start + dropped + i`
    /// past the last one left out.
    dropped: u64,
    /// [`CutEntry::bodies`] of the entry being copied.
    bodies: Vec<Range<usize>>,
    /// Note long strings at a body's depth ([`CutEntry::bodies`]): not when recording (the
    /// rewriter reads whole entries), nor within [`bodies_in_band`].
    find_bodies: bool,
    /// Keep the skeleton for the rewriter (see [`Guard::recording`]).
    record: bool,
    /// [`CutEntry::by_serde`] of every entry ([`entries_by_serde`]).
    #[cfg(test)]
    by_serde: bool,
    #[cfg(test)]
    lexing: Lexing,
    /// Bytes lexed by [`Guard::copy_blocks`].
    #[cfg(test)]
    blocks_lexed: u64,
}

impl<R: Read> Guard<R> {
    pub(super) fn new(inner: R, limits: &HarLimits, stats: Rc<Stats>) -> Self {
        Guard {
            inner,
            buf: vec![0; BUFFER],
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
            dropped: 0,
            bodies: Vec::new(),
            find_bodies: !BODIES_IN_BAND.get(),
            record: false,
            #[cfg(test)]
            by_serde: ENTRIES_BY_SERDE.get(),
            #[cfg(test)]
            lexing: Lexing::Blocks,
            #[cfg(test)]
            blocks_lexed: 0,
        }
    }

    #[cfg(test)]
    pub(super) fn lexing(mut self, lexing: Lexing) -> Self {
        self.lexing = lexing;
        self
    }

    /// Also keep every byte passed on outside an entry ([`Stats::skeleton`], and each
    /// entry's [`CutEntry::prefix`]), so that the file can be written back around its
    /// entries. The one-byte fast path is off then; the skeleton of a HAR is small.
    pub(super) fn recording(mut self) -> Self {
        self.record = true;
        self.find_bodies = false;
        self
    }

    /// A string of the entry being copied has closed: its contents began at offset
    /// `content` and are `len` bytes long, and it was read whole (never cut). Noted in
    /// [`CutEntry::bodies`] when it is long and at a body's depth.
    #[inline(always)]
    fn body_string(&mut self, content: u64, len: u64) {
        if len >= BODY_MIN && self.depth == BODY_DEPTH && self.find_bodies {
            let start = (content - self.entry_start - self.dropped) as usize;
            self.bodies.push(start..start + len as usize);
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
    /// Bytes that change no state but the position are passed over and copied as one
    /// slice: where it can, 64 at a time by the block lexer ([`Guard::copy_blocks`]), else
    /// by the scalar one ([`Guard::copy_scalar`]) up to the next block boundary. Cuts, the
    /// string-length limits and whatever the blocks refuse go through the scalar lexer.
    fn copy_entry(&mut self, entry: &mut Vec<u8>) -> io::Result<bool> {
        // `buf[mark..pos]` is passed on unchanged but not copied yet.
        let mut mark = self.pos;
        #[cfg(test)]
        let blocks = self.lexing == Lexing::Blocks;
        #[cfg(not(test))]
        let blocks = true;
        let done = loop {
            if self.pos >= self.len {
                break false;
            }
            if blocks && self.copy_blocks()? {
                break true;
            }
            let until = if blocks {
                (self.pos + 64).min(self.len)
            } else {
                self.len
            };
            if self.copy_scalar(entry, &mut mark, until)? {
                break true;
            }
        };
        keep(entry, &self.buf[mark..self.pos]);
        Ok(done)
    }

    /// Lex whole 64-byte blocks of the buffer ([`blocks::lex`]) while the state allows:
    /// `true` when the entry has ended (at its closing bracket, which is passed). Stops,
    /// with the state as [`Guard::step`] would leave it, before a block with fewer than
    /// 64 bytes left, one [`blocks::lex`] refuses, one in which the string being read could
    /// reach `max_string` (where it may be cut), and in the swallowed rest of a cut string.
    ///
    /// Only brackets outside strings change the state (most blocks have none): each
    /// opening one is checked against the nesting limit as `step` checks it, and the entry
    /// ends at the closing one that brings the depth back to 3. `key_len` is left as `step`
    /// leaves it: the length of the last string closed.
    fn copy_blocks(&mut self) -> io::Result<bool> {
        // A string opened in a block could reach `max_string` in it.
        if self.max_string < 64 {
            return Ok(false);
        }
        // The offset of `buf[0]`, and of the first byte of the string being read.
        let base = self.offset - self.pos as u64;
        let (mut carry, mut content) = match self.lex {
            Lex::Outside => (blocks::Carry::default(), 0),
            Lex::Str { len, esc } => (
                blocks::Carry {
                    in_string: true,
                    escaped: esc == Esc::Backslash,
                    hex: match esc {
                        Esc::Hex(k) => (1 << k) - 1,
                        _ => 0,
                    },
                },
                self.offset - len,
            ),
            Lex::Skip { .. } => return Ok(false),
        };
        let (max_depth, max_string) = (self.max_depth, self.max_string);
        let find_bodies = self.find_bodies;
        let mut depth = self.depth;
        let mut pos = self.pos;
        // The last block in which a string was closed: where, its quotes and bytes in
        // strings, and the first byte of the string open at its start.
        let mut closed = None;
        // The bracket (`pos + at`) where the entry ended or went too deep (`true`).
        let mut stop = None;
        while let Some(Ok(block)) = self.buf[..self.len]
            .get(pos..pos + 64)
            .map(<&[u8; 64]>::try_from)
        {
            let at = base + pos as u64;
            if carry.in_string && at - content + 64 > max_string {
                break;
            }
            let started = content;
            let Some(lexed) = blocks::lex(block, &mut carry) else {
                break;
            };
            // The first quote of a block begun inside a string (its first byte is in one
            // unless it is a quote, which flips it) closes that string, and no bracket before
            // it can have moved the depth: as `body_string`, inline since the block borrows
            // the buffer.
            if depth == BODY_DEPTH
                && find_bodies
                && lexed.quotes != 0
                && (lexed.in_string ^ lexed.quotes) & 1 == 1
            {
                let len = at + u64::from(lexed.quotes.trailing_zeros()) - started;
                if len >= BODY_MIN {
                    let start = (started - self.entry_start - self.dropped) as usize;
                    self.bodies.push(start..start + len as usize);
                }
            }
            let mut brackets = lexed.open | lexed.close;
            while brackets != 0 {
                let b = brackets.trailing_zeros();
                brackets &= brackets - 1;
                // Up one for an opening bracket, down one for a closing one.
                depth = depth + 2 * (lexed.open >> b & 1) as u32 - 1;
                if depth > max_depth || depth <= 3 {
                    stop = Some((b, depth > 3));
                    break;
                }
            }
            if let Some((b, _)) = stop {
                let upto = !0u64 >> (63 - b);
                if lexed.quotes & !lexed.in_string & upto != 0 {
                    closed = Some((at, lexed.quotes, lexed.in_string, started));
                }
                pos += b as usize + 1;
                break;
            }
            if lexed.quotes != 0 {
                if lexed.quotes & !lexed.in_string != 0 {
                    closed = Some((at, lexed.quotes, lexed.in_string, started));
                }
                if carry.in_string {
                    let opening = lexed.quotes & lexed.in_string;
                    content = at + u64::from(64 - opening.leading_zeros());
                }
            }
            pos += 64;
        }
        #[cfg(test)]
        {
            self.blocks_lexed += (pos - self.pos) as u64;
        }
        self.offset += (pos - self.pos) as u64;
        self.pos = pos;
        self.depth = depth;
        if let Some((at, quotes, in_string, started)) = closed {
            // The last closing quote before the stop, and the opening one before it.
            let upto = !0u64 >> (63 - (self.offset - 1 - at).min(63));
            let c = 63 - (quotes & !in_string & upto).leading_zeros();
            let opening = quotes & in_string & ((1u64 << c) - 1);
            let start = match opening {
                0 => started,
                o => at + u64::from(64 - o.leading_zeros()),
            };
            self.key_len = at + u64::from(c) - start;
        }
        self.lex = if stop.is_none() && carry.in_string {
            Lex::Str {
                len: self.offset - content,
                esc: match carry {
                    blocks::Carry { escaped: true, .. } => Esc::Backslash,
                    blocks::Carry { hex: 0, .. } => Esc::None,
                    blocks::Carry { hex, .. } => Esc::Hex(hex.count_ones() as u8),
                },
            }
        } else {
            Lex::Outside
        };
        match stop {
            Some((_, true)) => Err(self.too_deep()),
            Some((_, false)) => Ok(true),
            None => Ok(false),
        }
    }

    /// The scalar lexer: copy buffered bytes into the entry until its closing brace
    /// (`true`), or until `pos` reaches `until` (`false`).
    ///
    /// The common bytes are handled here in bulk and copied as slices: inside a string, the
    /// run up to the next quote or backslash and the closing quote; outside one, the run up
    /// to the next quote or bracket (an entry sits at depth 4 and deeper, where `:` and `,`
    /// move no frame) and that quote or bracket; in the swallowed rest of a cut string,
    /// everything up to the next quote or backslash is dropped; the nesting limit is checked
    /// at each opening bracket as `step` checks it. Cuts, the string-length limits and an
    /// escape split by the end of the buffer go through [`Guard::step`]. A run may pass
    /// `until`.
    fn copy_scalar(
        &mut self,
        entry: &mut Vec<u8>,
        mark: &mut usize,
        until: usize,
    ) -> io::Result<bool> {
        while self.pos < until {
            #[cfg(test)]
            if self.lexing == Lexing::Bytes {
                if self.step_copied(entry, mark)? {
                    return Ok(true);
                }
                continue;
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
                            self.body_string(self.offset - len, len + i as u64);
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
                            if !whole && self.step_copied(entry, mark)? {
                                return Ok(true);
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
                                return Ok(true);
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
                    keep(entry, &self.buf[*mark..self.pos]);
                    self.advance(run);
                    self.dropped += run as u64;
                    *mark = self.pos;
                    if found.is_some() && self.step_copied(entry, mark)? {
                        return Ok(true);
                    }
                }
                _ => {
                    if self.step_copied(entry, mark)? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
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
                keep(entry, &self.buf[*mark..self.pos - 1]);
                entry.push(b'"');
                *mark = self.pos;
            }
            Step::Drop => {
                keep(entry, &self.buf[*mark..self.pos - 1]);
                self.dropped += 1;
                *mark = self.pos;
            }
        }
        Ok(self.depth <= 3 && matches!(self.lex, Lex::Outside))
    }
}

/// Append `bytes` to the entry being copied. Its opening brace is written by the first
/// append, which also sizes it: an entry that lies whole in the buffer is allocated once,
/// at its size.
#[inline]
fn keep(entry: &mut Vec<u8>, bytes: &[u8]) {
    if entry.is_empty() {
        entry.reserve_exact(1 + bytes.len());
        entry.push(b'{');
    }
    entry.extend_from_slice(bytes);
}

/// The first quote or backslash in `bytes`. Most strings of a HAR are short (header names,
/// values, mime types), where testing eight bytes at a time in a `u64` beats memchr's set-up;
/// long ones (bodies) go to memchr after the first 64 bytes.
#[inline(always)]
pub(super) fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
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
        if out.len() == 1 && self.pos < self.len && self.entry.is_none() && !self.record {
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
                        let prefix = std::mem::take(&mut *self.stats.skeleton.borrow_mut());
                        *self.stats.entry.borrow_mut() = Some(CutEntry {
                            start: self.entry_start,
                            bytes: entry,
                            prefix,
                            bodies: std::mem::take(&mut self.bodies),
                            #[cfg(test)]
                            by_serde: self.by_serde,
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
                    if self.record {
                        self.stats.skeleton.borrow_mut().push(b);
                    }
                }
                Step::Cut => {
                    out[n] = b'"';
                    n += 1;
                    if self.record {
                        self.stats.skeleton.borrow_mut().push(b'"');
                    }
                }
                Step::Drop => {}
                Step::Entry => {
                    self.entry_start = self.offset - 1;
                    self.dropped = 0;
                    self.bodies.clear();
                    // Empty until its first append writes the `{` (see `keep`).
                    self.entry = Some(Vec::new());
                }
            }
        }
        self.stats.offset.set(self.offset);
        Ok(n)
    }
}

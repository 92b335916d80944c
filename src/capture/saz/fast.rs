//! The common entry read without the zip crate: a plain (not encrypted) stored or deflated
//! entry whose local header agrees with the central directory, read with one positional
//! read and inflated in one call by an inflate state that each worker thread keeps and
//! resets, into a buffer sized by the directory.
//!
//! Why: the zip crate makes a new inflate state (zeroed, ~40 KiB) and an 8 KiB buffer for
//! every entry and inflates through `Read` in small steps; on the 30 000 entries of a
//! 10k-session SAZ that was about a quarter of all instructions (docs/performance.md).
//!
//! Nothing here decides anything the zip crate's reading would decide differently: the
//! fast path only answers when the entry is clean (local header as the crate reads it,
//! data within the file, the deflate stream ending, exactly the directory's size, CRC
//! right). Anything else, hostile or merely unusual (encryption, zip64 or AES fields in the
//! local header, a data descriptor that disagrees, damage, a size past the cap), returns
//! `None` and the caller reads the entry through the zip crate as before, so every message
//! and every partial read stays what it was.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::cell::RefCell;

use flate2::{Crc, Decompress, FlushDecompress, Status};

use super::{Backing, PosReader};
use crate::capture::zip_dir::{EntryLoc, METHOD_DEFLATED, METHOD_STORED};

/// Entries whose compressed data is larger than this are read through the zip crate, which
/// streams: the fast path holds an entry's compressed bytes and its output at once.
const MAX_COMPRESSED: u64 = 4 * 1024 * 1024;

/// Room read after the 30-byte local header for the name and extra fields, so that one
/// positional read usually takes the whole entry (Fiddler: ~15-byte names, 36 bytes of
/// NTFS times).
const HEADER_SLACK: usize = 128;

/// Room left in the output past the declared size (see `read_with`).
const OUT_SLACK: usize = 320;

const LOCAL_SIG: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;

/// Extra-field ids the zip crate interprets (and may refuse) in a local header: an entry
/// carrying one is left to the crate.
const INTERPRETED_EXTRAS: [u16; 7] = [0x0001, 0x5455, 0x6375, 0x7075, 0x9901, 0xa11e, 0xd935];

/// A worker's reusable state: the inflater (reset per entry) and the input buffer.
struct Worker {
    inflate: Decompress,
    input: Vec<u8>,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// The entry at `loc` in full, if it is clean and at most `cap` bytes; `None` when it is to
/// be read through the zip crate instead.
pub(super) fn read(reader: &PosReader, loc: &EntryLoc, cap: u64) -> Option<Vec<u8>> {
    if loc.encrypted
        || !matches!(loc.method, METHOD_STORED | METHOD_DEFLATED)
        || loc.uncompressed > cap
        || loc.compressed > MAX_COMPRESSED
        || loc.uncompressed > MAX_COMPRESSED.saturating_mul(64)
    {
        return None;
    }
    WORKER.with(|w| {
        let mut w = w.try_borrow_mut().ok()?;
        let w = w.get_or_insert_with(|| Worker {
            inflate: Decompress::new(false),
            input: Vec::new(),
        });
        read_with(reader, loc, w)
    })
}

fn read_with(reader: &PosReader, loc: &EntryLoc, w: &mut Worker) -> Option<Vec<u8>> {
    let guess = LOCAL_LEN
        .checked_add(HEADER_SLACK)?
        .checked_add(usize::try_from(loc.compressed).ok()?)?;
    let Worker { inflate, input } = w;
    let mut bytes = bytes_at(reader, loc.header_start, guess, input)?;
    let local = Local::parse(bytes)?;
    let compressed = if local.flags & 0x08 != 0 {
        // Sizes in a data descriptor: the crate takes the directory's compressed size.
        loc.compressed
    } else {
        u64::from(local.compressed)
    };
    if local.flags & 0x01 != 0 || local.method != loc.method || compressed > MAX_COMPRESSED {
        return None;
    }
    let start = LOCAL_LEN + local.name_len + local.extra_len;
    let end = start.checked_add(usize::try_from(compressed).ok()?)?;
    if end > bytes.len() {
        // A longer name or extra field than guessed, or the local header's own size.
        bytes = bytes_at(reader, loc.header_start, end, input)?;
        if end > bytes.len() {
            return None;
        }
    }
    let extra = bytes.get(LOCAL_LEN + local.name_len..start)?;
    if !extras_left_alone(extra) {
        return None;
    }
    let data = bytes.get(start..end)?;
    let size = usize::try_from(loc.uncompressed).ok()?;
    let out = if local.method == METHOD_STORED {
        if data.len() != size {
            return None;
        }
        data.to_vec()
    } else {
        // Room past the declared size: an entry inflating to more is seen (and left to the
        // crate, which reports it), and the inflater keeps to its fast loop, which needs
        // 258 bytes of room, up to the entry's last byte.
        let mut out = Vec::with_capacity(size.checked_add(OUT_SLACK)?);
        inflate.reset(false);
        let status = inflate.decompress_vec(data, &mut out, FlushDecompress::Finish);
        if !matches!(status, Ok(Status::StreamEnd)) || out.len() != size {
            return None;
        }
        out
    };
    let mut crc = Crc::new();
    crc.update(&out);
    (crc.sum() == loc.crc32).then_some(out)
}

/// Up to `len` bytes of the file from `pos`: fewer at its end, `None` on a read error.
fn bytes_at<'a>(
    reader: &'a PosReader,
    pos: u64,
    len: usize,
    buf: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    let limit = reader.len.checked_sub(pos)?;
    let len = len.min(usize::try_from(limit).unwrap_or(usize::MAX));
    match &reader.data {
        Backing::Memory(all) => {
            let start = usize::try_from(pos).ok()?;
            all.get(start..start.checked_add(len)?)
        }
        Backing::File(file) => {
            buf.clear();
            buf.resize(len, 0);
            let mut filled = 0;
            while filled < len {
                match super::read_at(file, &mut buf[filled..], pos + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return None,
                }
            }
            buf.get(..filled)
        }
    }
}

/// The fields of a local file header the reading depends on.
struct Local {
    flags: u16,
    method: u16,
    compressed: u32,
    name_len: usize,
    extra_len: usize,
}

impl Local {
    fn parse(b: &[u8]) -> Option<Local> {
        let h = b.get(..LOCAL_LEN)?;
        let u16_at = |at: usize| u16::from_le_bytes([h[at], h[at + 1]]);
        let u32_at = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        if u32_at(0) != LOCAL_SIG {
            return None;
        }
        let local = Local {
            flags: u16_at(6),
            method: u16_at(8),
            compressed: u32_at(18),
            name_len: usize::from(u16_at(26)),
            extra_len: usize::from(u16_at(28)),
        };
        // Saturated sizes live in a zip64 field: the crate's business.
        (local.compressed != u32::MAX && u32_at(22) != u32::MAX).then_some(local)
    }
}

/// Whether the local header's extra fields are ones the zip crate reads without effect on
/// the entry's data and cannot refuse: records that tile the field exactly, none of an id
/// it interprets (zip64, AES, timestamps, Unicode names, alignment). Fiddler writes NTFS
/// times (0x000a), which the crate keeps as they are whatever their shape.
fn extras_left_alone(mut extra: &[u8]) -> bool {
    while !extra.is_empty() {
        let Some(head) = extra.get(..4) else {
            return false;
        };
        let id = u16::from_le_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
        if INTERPRETED_EXTRAS.contains(&id) {
            return false;
        }
        match extra.get(4 + len..) {
            Some(rest) => extra = rest,
            None => return false,
        }
    }
    true
}

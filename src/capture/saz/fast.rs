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
use crate::capture::zip_dir::{
    u16_at, u32_at, EntryLoc, EXTRA_AES, EXTRA_ZIP64, METHOD_DEFLATED, METHOD_STORED,
};

/// Entries whose compressed data is larger than this are read through the zip crate, which
/// streams: the fast path holds an entry's compressed bytes and its output at once.
const MAX_COMPRESSED: u64 = 4 * 1024 * 1024;

/// The output is allocated at the declared size, which may lie: entries declaring more
/// than this, or more than deflate can make of their compressed size (1032 to 1 at most),
/// are read through the zip crate, whose first allocation is capped.
const MAX_DECLARED: u64 = 64 * 1024 * 1024;
const MAX_RATIO: u64 = 1032;

/// Room read after the 30-byte local header for the name and extra fields, so that one
/// positional read usually takes the whole entry (Fiddler: ~15-byte names, 36 bytes of
/// NTFS times).
const HEADER_SLACK: usize = 128;

/// Largest input buffer a worker keeps between entries.
const KEEP_INPUT: usize = 256 * 1024;

/// Room left in the output past the declared size (see `read_with`).
const OUT_SLACK: usize = 320;

const LOCAL_SIG: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;

/// Extra-field ids the zip crate interprets (and may refuse) in a local header: an entry
/// carrying one is left to the crate.
const INTERPRETED_EXTRAS: [u16; 7] = [
    EXTRA_ZIP64,
    0x5455,
    0x6375,
    0x7075,
    EXTRA_AES,
    0xa11e,
    0xd935,
];

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
        || loc.uncompressed > MAX_DECLARED
        || loc.uncompressed
            > loc
                .compressed
                .saturating_mul(MAX_RATIO)
                .saturating_add(1024)
    {
        return None;
    }
    WORKER.with(|w| {
        let mut w = w.try_borrow_mut().ok()?;
        let w = w.get_or_insert_with(|| Worker {
            inflate: Decompress::new(false),
            input: Vec::new(),
        });
        let out = read_with(reader, loc, w);
        if w.input.capacity() > KEEP_INPUT {
            // A large entry's buffer is not kept: memory follows the session being read.
            w.input = Vec::new();
        }
        out
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
        if u32_at(h, 0) != LOCAL_SIG {
            return None;
        }
        let local = Local {
            flags: u16_at(h, 6),
            method: u16_at(h, 8),
            compressed: u32_at(h, 18),
            name_len: usize::from(u16_at(h, 26)),
            extra_len: usize::from(u16_at(h, 28)),
        };
        // Saturated sizes live in a zip64 field: the crate's business.
        (local.compressed != u32::MAX && u32_at(h, 22) != u32::MAX).then_some(local)
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
        let id = u16_at(head, 0);
        let len = usize::from(u16_at(head, 2));
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

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};
    use std::sync::Arc;

    use proptest::prelude::*;
    use zip::write::{FullFileOptions, SimpleFileOptions};
    use zip::{AesMode, CompressionMethod, ZipWriter};

    use super::super::{read_entry, read_through_crate, Backing, PosReader};
    use super::*;
    use crate::capture::zip_dir;

    /// Entry contents of every shape the inflater meets: empty, tiny, one byte short of
    /// and past the fast loop's 258 bytes, repetitive, incompressible, over 64 KiB.
    fn contents() -> Vec<Vec<u8>> {
        let mut noise = Vec::new();
        let mut x: u32 = 0x1234_5678;
        for _ in 0..70_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.push(x as u8);
        }
        vec![
            Vec::new(),
            b"x".to_vec(),
            b"HTTP/1.1 200 OK\r\n\r\n".repeat(13),
            vec![b'a'; 257],
            vec![b'a'; 259],
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n".repeat(3000),
            noise[..1500].to_vec(),
            noise,
        ]
    }

    fn write_all<W: Write + std::io::Seek>(
        mut w: ZipWriter<W>,
        opts: FullFileOptions<'_, '_>,
    ) -> W {
        for (i, c) in contents().iter().enumerate() {
            w.start_file(format!("raw/{i}_c.txt"), opts.clone())
                .unwrap();
            w.write_all(c).unwrap();
        }
        w.finish().unwrap()
    }

    /// The archives: deflated, stored, streamed (sizes in data descriptors), with NTFS
    /// times in the local headers as Fiddler writes them, AES and ZipCrypto encrypted.
    fn archives() -> Vec<(&'static str, Vec<u8>)> {
        let plain = FullFileOptions::default();
        let ntfs = {
            let mut o = plain.clone();
            let mut times = vec![0u8; 32];
            times[4] = 1;
            times[6] = 24;
            o.add_extra_field(0x000a, times, false).unwrap();
            o
        };
        let mut out = vec![
            (
                "deflated",
                write_all(ZipWriter::new(Cursor::new(Vec::new())), plain.clone()).into_inner(),
            ),
            (
                "stored",
                write_all(
                    ZipWriter::new(Cursor::new(Vec::new())),
                    plain.clone().compression_method(CompressionMethod::Stored),
                )
                .into_inner(),
            ),
            (
                "ntfs",
                write_all(ZipWriter::new(Cursor::new(Vec::new())), ntfs).into_inner(),
            ),
            (
                "aes",
                write_all(
                    ZipWriter::new(Cursor::new(Vec::new())),
                    plain.clone().with_aes_encryption(AesMode::Aes128, "pw"),
                )
                .into_inner(),
            ),
        ];
        let mut streamed = Vec::new();
        {
            let mut w = ZipWriter::new_stream(&mut streamed);
            for (i, c) in contents().iter().enumerate() {
                w.start_file(format!("raw/{i}_s.txt"), SimpleFileOptions::default())
                    .unwrap();
                w.write_all(c).unwrap();
            }
            w.finish().unwrap();
        }
        out.push(("streamed", streamed));
        out
    }

    fn locs(bytes: &[u8]) -> Vec<EntryLoc> {
        let mut out = Vec::new();
        zip_dir::scan(&mut Cursor::new(bytes), bytes.len() as u64, |r| {
            out.push(r.loc)
        })
        .unwrap();
        out
    }

    fn reader(bytes: &[u8]) -> PosReader {
        PosReader {
            len: bytes.len() as u64,
            data: Backing::Memory(Arc::from(bytes)),
            pos: 0,
        }
    }

    const CAP: u64 = 1 << 20;

    /// `read_entry` (the fast path first) and the zip crate alone agree on `loc`.
    fn agree(bytes: &[u8], loc: &EntryLoc, password: Option<&[u8]>, cap: u64) {
        let mut r = reader(bytes);
        let ours = read_entry(&mut r, Some(loc), password, cap);
        let theirs = read_through_crate(&mut reader(bytes), loc, password, cap);
        assert_eq!(ours, theirs, "{loc:?} cap {cap}");
    }

    #[test]
    fn clean_plain_entries_take_the_fast_path_and_read_as_the_crate_reads() {
        for (what, bytes) in archives() {
            let want = contents();
            for (i, loc) in locs(&bytes).iter().enumerate() {
                let fast = read(&reader(&bytes), loc, CAP);
                if what == "aes" {
                    assert_eq!(fast, None, "{what} {i}: encrypted is the crate's");
                    agree(&bytes, loc, Some(b"pw"), CAP);
                    continue;
                }
                assert_eq!(fast.as_ref(), Some(&want[i]), "{what} {i}");
                agree(&bytes, loc, None, CAP);
                // Through a file as from memory.
                let file = tempfile::tempfile().unwrap();
                std::io::Write::write_all(&mut &file, &bytes).unwrap();
                let on_disk = PosReader {
                    len: bytes.len() as u64,
                    data: Backing::File(Arc::new(file)),
                    pos: 0,
                };
                assert_eq!(read(&on_disk, loc, CAP), fast, "{what} {i} from a file");
            }
        }
    }

    /// A cap below the entry's size leaves it to the crate, which cuts it there.
    #[test]
    fn entries_past_the_cap_read_as_before() {
        for (what, bytes) in archives() {
            for loc in locs(&bytes) {
                for cap in [0, 1, loc.uncompressed.saturating_sub(1), loc.uncompressed] {
                    let password = (what == "aes").then_some(&b"pw"[..]);
                    agree(&bytes, &loc, password, cap);
                }
            }
        }
    }

    /// What the central directory says may lie, and the file may be cut or damaged: every
    /// such entry reads exactly as through the zip crate (same bytes kept, same problem),
    /// because the fast path answers only for an entry it verified in full.
    #[test]
    fn lying_directories_read_as_through_the_crate() {
        for (what, bytes) in archives() {
            let password = (what == "aes").then_some(&b"pw"[..]);
            for loc in locs(&bytes) {
                let n = loc.uncompressed;
                let c = loc.compressed;
                let lies = [
                    EntryLoc {
                        uncompressed: n + 1,
                        ..loc
                    },
                    EntryLoc {
                        uncompressed: n.saturating_sub(1),
                        ..loc
                    },
                    EntryLoc {
                        uncompressed: 0,
                        ..loc
                    },
                    EntryLoc {
                        uncompressed: u64::MAX,
                        ..loc
                    },
                    EntryLoc {
                        compressed: c + 7,
                        ..loc
                    },
                    EntryLoc {
                        compressed: c.saturating_sub(1),
                        ..loc
                    },
                    EntryLoc {
                        compressed: u64::MAX,
                        ..loc
                    },
                    EntryLoc {
                        crc32: loc.crc32 ^ 1,
                        ..loc
                    },
                    EntryLoc {
                        header_start: loc.header_start + 1,
                        ..loc
                    },
                    EntryLoc {
                        header_start: bytes.len() as u64 + 5,
                        ..loc
                    },
                    EntryLoc {
                        method: METHOD_STORED,
                        ..loc
                    },
                    EntryLoc {
                        method: METHOD_DEFLATED,
                        ..loc
                    },
                    EntryLoc {
                        encrypted: !loc.encrypted,
                        ..loc
                    },
                ];
                for lie in lies {
                    agree(&bytes, &lie, password, CAP);
                }
            }
        }
    }

    proptest! {
        /// Any byte of a deflated or streamed archive changed, or the file cut anywhere:
        /// every entry reads as through the crate.
        #[test]
        fn damaged_archives_read_as_through_the_crate(
            which in 0usize..3,
            at in any::<prop::sample::Index>(),
            value in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let (_, bytes) = archives().swap_remove([0, 2, 4][which]);
            let good = locs(&bytes);
            let at = at.index(bytes.len());
            let damaged = if cut {
                bytes[..at].to_vec()
            } else {
                let mut b = bytes.clone();
                b[at] = value;
                b
            };
            for loc in &good {
                let mut r = reader(&damaged);
                let ours = read_entry(&mut r, Some(loc), None, CAP);
                let theirs = read_through_crate(&mut reader(&damaged), loc, None, CAP);
                prop_assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn extra_fields_the_crate_interprets_are_left_to_it() {
        assert!(extras_left_alone(b""));
        assert!(extras_left_alone(&[0x0a, 0, 2, 0, 1, 2]));
        assert!(extras_left_alone(&[0x34, 0x12, 0, 0, 0x0a, 0, 0, 0]));
        // Cut short, or an id the crate reads (zip64, extended timestamp, AES).
        assert!(!extras_left_alone(&[0x0a, 0, 3, 0, 1, 2]));
        assert!(!extras_left_alone(&[0x0a, 0, 0]));
        assert!(!extras_left_alone(&[0x01, 0, 0, 0]));
        assert!(!extras_left_alone(&[0x55, 0x54, 0, 0]));
        assert!(!extras_left_alone(&[0x01, 0x99, 0, 0]));
    }
}

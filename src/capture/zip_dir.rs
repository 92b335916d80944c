//! The zip central directory, read by hand into what the SAZ reader needs of each entry.
//!
//! Why not the zip crate's `ZipArchive::new`: it keeps ~230 bytes for every entry (name,
//! extra fields, times, all sizes) for as long as the archive is open, and a SAZ of 100k
//! sessions has 300k entries: 77 MiB of index before a single session is read. The SAZ
//! reader needs only where each entry's local header is, its sizes, CRC, method and whether
//! it is encrypted ([`EntryLoc`], 32 bytes), and the name once, to file the entry under its
//! session. So the directory is streamed here, one fixed 46-byte record at a time, and each
//! record is handed to a callback with its name borrowed; nothing of it is kept here.
//! Reading an entry (local header, decryption, inflate) stays with the zip crate.
//!
//! Hostile archives are expected: every count and offset comes from the file and is checked
//! against the file's length before it is used, and no allocation is sized by a count.
//! Layout: APPNOTE.TXT 6.3 (4.3.12 central directory header, 4.3.14-16 zip64 end record and
//! locator, 4.5.3 zip64 extra field) and WinZip's AE-x note (extra field 0x9901).

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::CaptureErrorKind;

/// Where one entry's bytes are and how to check them, from the central directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntryLoc {
    /// Offset of the local file header in the file (any prefix before the archive added).
    pub header_start: u64,
    pub compressed: u64,
    pub uncompressed: u64,
    pub crc32: u32,
    /// The compression method; for an AES-encrypted entry, the one inside the encryption
    /// (the record itself says 99).
    pub method: u16,
    pub encrypted: bool,
}

impl EntryLoc {
    /// Stored or deflated: the two methods the reader is built with, and the only two that
    /// Fiddler and every tool re-saving a SAZ write.
    pub fn method_supported(&self) -> bool {
        matches!(self.method, METHOD_STORED | METHOD_DEFLATED)
    }

    /// The method's name as APPNOTE calls it, for messages.
    pub fn method_name(&self) -> String {
        match zip::CompressionMethod::name_from_u16(self.method) {
            "Unknown" => format!("method {}", self.method),
            name => name.to_string(),
        }
    }
}

pub(crate) const METHOD_STORED: u16 = 0;
pub(crate) const METHOD_DEFLATED: u16 = 8;
const METHOD_AES: u16 = 99;

/// One central-directory record as the scan hands it over.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    /// The raw name bytes: an id to parse, never a path.
    pub name: &'a [u8],
    pub loc: EntryLoc,
    /// The MS-DOS time and date of last modification (for a rewrite to keep them).
    pub dos_time: u16,
    pub dos_date: u16,
}

impl Record<'_> {
    /// A directory entry (its name ends with a separator).
    pub fn is_dir(&self) -> bool {
        matches!(self.name.last(), Some(b'/' | b'\\'))
    }
}

/// What the end records say about the archive as a whole.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// The archive comment (Fiddler writes its name and version there).
    pub comment: Vec<u8>,
}

const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: u64 = 22;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_EOCD_LEN: u64 = 56;
const CD_SIG: u32 = 0x0201_4b50;
const CD_LEN: usize = 46;
pub(crate) const EXTRA_ZIP64: u16 = 0x0001;
pub(crate) const EXTRA_AES: u16 = 0x9901;
const SPLIT: &str = "split across several files";

/// An archive whose structure is broken. Also what the zip crate's open errors map to
/// (`saz::zip_open_error`, used by `redact`), so both readers word it alike.
pub(crate) fn damaged(what: impl std::fmt::Display) -> CaptureErrorKind {
    CaptureErrorKind::Saz(format!("not a readable zip ({what})"))
}

/// A well-formed archive of a kind not read (split over several files).
pub(crate) fn unsupported(what: impl std::fmt::Display) -> CaptureErrorKind {
    CaptureErrorKind::Saz(format!("unsupported zip ({what})"))
}

/// An I/O error while reading the archive's structure: a short read means a cut file.
pub(crate) fn io_error(e: io::Error) -> CaptureErrorKind {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        CaptureErrorKind::Saz("archive is cut short".into())
    } else {
        CaptureErrorKind::Io(e)
    }
}

/// The little-endian `u16` at `at`, 0 past the end.
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// The little-endian `u32` at `at`, 0 past the end.
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    match b.get(at..at + 8) {
        Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

/// Where the central directory is, from the end records.
#[derive(Debug, PartialEq, Eq)]
struct Trailer {
    /// Offset of the first central-directory record in the file.
    cd_start: u64,
    cd_size: u64,
    entries: u64,
    /// Bytes before the archive proper (a self-extractor stub, a prepended header): added
    /// to every offset the records give.
    prefix: u64,
    comment: Vec<u8>,
}

/// Find and read the end of central directory record (and the zip64 one, when there is).
fn trailer<R: Read + Seek>(reader: &mut R, len: u64) -> Result<Trailer, CaptureErrorKind> {
    if len < EOCD_LEN {
        return Err(damaged("too short for a zip"));
    }
    // The record is 22 bytes plus a comment of at most 65 535, at the very end; the zip64
    // locator sits just before it.
    let tail_len = len.min(EOCD_LEN + u64::from(u16::MAX) + ZIP64_LOCATOR_LEN);
    let tail_start = len - tail_len;
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
    reader.seek(SeekFrom::Start(tail_start)).map_err(io_error)?;
    reader.read_exact(&mut tail).map_err(io_error)?;
    // A comment may itself hold the signature bytes: the real record is the one whose
    // comment ends exactly at the end of the file; failing that (bytes appended after the
    // archive), the last one whose comment fits.
    let fits = |i: usize, exact: bool| {
        let end = i + EOCD_LEN as usize + usize::from(u16_at(&tail, i + 20));
        u32_at(&tail, i) == EOCD_SIG
            && if exact {
                end == tail.len()
            } else {
                end <= tail.len()
            }
    };
    let last = tail.len() - EOCD_LEN as usize;
    let eocd = (0..=last)
        .rev()
        .find(|&i| fits(i, true))
        .or_else(|| (0..=last).rev().find(|&i| fits(i, false)));
    let Some(at) = eocd else {
        return Err(damaged("no end of central directory record"));
    };
    let rec = &tail[at..];
    let eocd_pos = tail_start + at as u64;
    let comment_len = usize::from(u16_at(rec, 20));
    let comment = rec[EOCD_LEN as usize..EOCD_LEN as usize + comment_len].to_vec();
    let (disk, cd_disk) = (u16_at(rec, 4), u16_at(rec, 6));
    let mut entries = u64::from(u16_at(rec, 10));
    let mut cd_size = u64::from(u32_at(rec, 12));
    let mut cd_offset = u64::from(u32_at(rec, 16));
    let mut end_of_cd = eocd_pos;

    let zip64 = at >= ZIP64_LOCATOR_LEN as usize
        && u32_at(&tail, at - ZIP64_LOCATOR_LEN as usize) == ZIP64_LOCATOR_SIG;
    if zip64 {
        let loc = &tail[at - ZIP64_LOCATOR_LEN as usize..at];
        let record_at = u64_at(loc, 8);
        if u32_at(loc, 16) > 1 {
            return Err(unsupported(SPLIT));
        }
        // Normally just before the locator; elsewhere only if a prefix moved everything.
        let locator_pos = eocd_pos - ZIP64_LOCATOR_LEN;
        let expected = locator_pos.checked_sub(ZIP64_EOCD_LEN);
        let mut rec64 = [0u8; ZIP64_EOCD_LEN as usize];
        let mut found = None;
        for pos in [Some(record_at), expected].into_iter().flatten() {
            if pos.saturating_add(ZIP64_EOCD_LEN) > locator_pos {
                continue;
            }
            reader.seek(SeekFrom::Start(pos)).map_err(io_error)?;
            reader.read_exact(&mut rec64).map_err(io_error)?;
            if u32_at(&rec64, 0) == ZIP64_EOCD_SIG {
                found = Some(pos);
                break;
            }
        }
        let Some(pos) = found else {
            return Err(damaged("zip64 end record missing"));
        };
        if u32_at(&rec64, 16) != 0 || u32_at(&rec64, 20) != 0 {
            return Err(unsupported(SPLIT));
        }
        entries = u64_at(&rec64, 32);
        cd_size = u64_at(&rec64, 40);
        cd_offset = u64_at(&rec64, 48);
        end_of_cd = pos;
    } else if disk != 0 || cd_disk != 0 {
        return Err(unsupported(SPLIT));
    }

    // The directory is where the end record says, or, when bytes were put before the
    // archive (a self-extractor stub), it ends where the end records begin, and the two
    // differ by the length of that prefix. The stated offset wins when a record is there,
    // as in the zip crate: a writer may leave bytes between the directory and its end.
    let Some(ends_at_end) = end_of_cd.checked_sub(cd_size) else {
        return Err(damaged("central directory larger than the file"));
    };
    let stated_fits = cd_offset
        .checked_add(cd_size)
        .is_some_and(|end| end <= end_of_cd);
    let (cd_start, prefix) = if stated_fits && (entries == 0 || cd_sig_at(reader, cd_offset)?) {
        (cd_offset, 0)
    } else {
        match ends_at_end.checked_sub(cd_offset) {
            Some(prefix) => (ends_at_end, prefix),
            None => return Err(damaged("central directory offset past its end")),
        }
    };
    // Each record is at least 46 bytes: a count beyond that is a lie, and would otherwise
    // size allocations.
    if entries > cd_size / CD_LEN as u64 {
        return Err(damaged(format!(
            "claims {entries} entries in a {cd_size}-byte central directory"
        )));
    }
    Ok(Trailer {
        cd_start,
        cd_size,
        entries,
        prefix,
        comment,
    })
}

/// Whether a central-directory record starts at `pos`.
fn cd_sig_at<R: Read + Seek>(reader: &mut R, pos: u64) -> Result<bool, CaptureErrorKind> {
    let mut sig = [0u8; 4];
    reader.seek(SeekFrom::Start(pos)).map_err(io_error)?;
    match reader.read_exact(&mut sig) {
        Ok(()) => Ok(u32::from_le_bytes(sig) == CD_SIG),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(io_error(e)),
    }
}

/// Read the central directory of the archive in `reader` (`len` bytes long) and call `each`
/// for every record in order. The first record that is not a record ends the scan with an
/// error: a directory is written in one piece, so a damaged one is not worth guessing at.
pub(crate) fn scan<R, F>(
    reader: &mut R,
    len: u64,
    mut each: F,
) -> Result<Directory, CaptureErrorKind>
where
    R: Read + Seek,
    F: FnMut(Record<'_>),
{
    let t = trailer(reader, len)?;
    reader.seek(SeekFrom::Start(t.cd_start)).map_err(io_error)?;
    let mut r = BufReader::with_capacity(64 * 1024, reader.take(t.cd_size));
    let mut fixed = [0u8; CD_LEN];
    let mut name = Vec::new();
    let mut extra = Vec::new();
    for n in 0..t.entries {
        r.read_exact(&mut fixed).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => damaged(format!(
                "central directory ends after {n} of {} records",
                t.entries
            )),
            _ => io_error(e),
        })?;
        if u32_at(&fixed, 0) != CD_SIG {
            return Err(damaged(format!("central directory record {n} is damaged")));
        }
        let name_len = usize::from(u16_at(&fixed, 28));
        let extra_len = usize::from(u16_at(&fixed, 30));
        let comment_len = u64::from(u16_at(&fixed, 32));
        name.resize(name_len, 0);
        extra.resize(extra_len, 0);
        let cut = |e: io::Error| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                damaged(format!("central directory record {n} runs past its end"))
            }
            _ => io_error(e),
        };
        r.read_exact(&mut name).map_err(cut)?;
        r.read_exact(&mut extra).map_err(cut)?;
        let skipped = io::copy(&mut (&mut r).take(comment_len), &mut io::sink()).map_err(cut)?;
        if skipped != comment_len {
            return Err(damaged(format!(
                "central directory record {n} runs past its end"
            )));
        }
        let loc = entry_loc(&fixed, &extra, t.prefix)
            .ok_or_else(|| damaged(format!("central directory record {n} is damaged")))?;
        each(Record {
            name: &name,
            loc,
            dos_time: u16_at(&fixed, 12),
            dos_date: u16_at(&fixed, 14),
        });
    }
    Ok(Directory { comment: t.comment })
}

/// The fixed fields of a record, with the 64-bit values of its zip64 extra field where the
/// 32-bit ones are saturated, and the inner method of an AES entry. `None` when a saturated
/// field has no 64-bit value or the offset overflows.
fn entry_loc(fixed: &[u8; CD_LEN], extra: &[u8], prefix: u64) -> Option<EntryLoc> {
    let flags = u16_at(fixed, 8);
    let mut method = u16_at(fixed, 10);
    let crc32 = u32_at(fixed, 16);
    let mut compressed = u64::from(u32_at(fixed, 20));
    let mut uncompressed = u64::from(u32_at(fixed, 24));
    let mut offset = u64::from(u32_at(fixed, 42));
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at);
        let size = usize::from(u16_at(extra, at + 2));
        let Some(field) = extra.get(at + 4..at + 4 + size) else {
            // A field cut short: what came before it stands, as other readers do.
            break;
        };
        match id {
            EXTRA_ZIP64 => {
                // Only the saturated fields are present, in this order.
                let mut i = 0;
                for value in [&mut uncompressed, &mut compressed, &mut offset] {
                    if *value == u64::from(u32::MAX) {
                        *value = field.get(i..i + 8).map(|_| u64_at(field, i))?;
                        i += 8;
                    }
                }
            }
            EXTRA_AES if method == METHOD_AES && size >= 7 => method = u16_at(field, 5),
            _ => {}
        }
        at += 4 + size;
    }
    Some(EntryLoc {
        header_start: offset.checked_add(prefix)?,
        compressed,
        uncompressed,
        crc32,
        method,
        encrypted: flags & 1 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    /// Every record's name and location.
    type Listing = Vec<(Vec<u8>, EntryLoc)>;

    fn listed(bytes: &[u8]) -> Result<(Directory, Listing), CaptureErrorKind> {
        let mut out = Vec::new();
        let dir = scan(&mut Cursor::new(bytes), bytes.len() as u64, |r| {
            out.push((r.name.to_vec(), r.loc))
        })?;
        Ok((dir, out))
    }

    fn message(e: CaptureErrorKind) -> String {
        e.to_string()
    }

    /// Agrees with the zip crate's own index on every field used, for archives it writes:
    /// stored, deflated, AES, ZipCrypto, zip64, a comment, a prefix before the archive.
    #[test]
    fn agrees_with_the_zip_crate() {
        let plain = SimpleFileOptions::default();
        let cases: Vec<(&str, SimpleFileOptions, bool)> = vec![
            ("deflated", plain, false),
            (
                "stored",
                plain.compression_method(zip::CompressionMethod::Stored),
                false,
            ),
            (
                "aes",
                plain.with_aes_encryption(zip::AesMode::Aes256, "pw"),
                false,
            ),
            ("zip64", plain.large_file(true), false),
            ("prefixed", plain, true),
        ];
        for (what, opts, prefixed) in cases {
            let mut cursor = Cursor::new(Vec::new());
            if prefixed {
                cursor.write_all(b"#!/bin/sh\nexit 0\n").unwrap();
            }
            let mut w = zip::ZipWriter::new(cursor);
            w.set_comment("Fiddler (v5.0.20253.3311)").unwrap();
            for i in 0..5 {
                w.start_file(format!("raw/{i}_c.txt"), opts).unwrap();
                w.write_all(&b"GET / HTTP/1.1\r\n\r\n".repeat(i + 1))
                    .unwrap();
            }
            w.add_directory("raw/", plain).unwrap();
            let bytes = w.finish().unwrap().into_inner();

            let (dir, ours) = listed(&bytes).unwrap();
            assert_eq!(dir.comment, b"Fiddler (v5.0.20253.3311)", "{what}");
            let mut theirs = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
            assert_eq!(ours.len(), theirs.len(), "{what}");
            for (i, (name, loc)) in ours.iter().enumerate() {
                let e = theirs.by_index_raw(i).unwrap();
                assert_eq!(name.as_slice(), e.name_raw(), "{what} {i}");
                assert_eq!(loc.header_start, e.header_start(), "{what} {i}");
                assert_eq!(loc.compressed, e.compressed_size(), "{what} {i}");
                assert_eq!(loc.uncompressed, e.size(), "{what} {i}");
                assert_eq!(loc.crc32, e.crc32(), "{what} {i}");
                assert_eq!(loc.encrypted, e.encrypted(), "{what} {i}");
                if !e.is_dir() {
                    let method = if what == "stored" {
                        METHOD_STORED
                    } else {
                        METHOD_DEFLATED
                    };
                    assert_eq!(loc.method, method, "{what} {i}");
                }
            }
        }
    }

    /// More than 65 535 entries (a SAZ of 22 000 sessions) need the zip64 end record.
    #[test]
    fn many_entries_use_the_zip64_end_record() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let n = usize::from(u16::MAX) + 3;
        for i in 0..n {
            w.start_file(format!("raw/{i}_m.xml"), opts).unwrap();
        }
        let bytes = w.finish().unwrap().into_inner();
        let z64 = bytes.len() - 22 - 20 - 56;
        assert_eq!(&bytes[z64..z64 + 4], b"PK\x06\x06");
        let (_, ours) = listed(&bytes).unwrap();
        assert_eq!(ours.len(), n);
        let mut theirs = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let last = theirs.by_index_raw(n - 1).unwrap();
        assert_eq!(ours[n - 1].0, last.name_raw());
        assert_eq!(ours[n - 1].1.header_start, last.header_start());
    }

    /// Bytes between the directory and its end record: the stated offset is used, not the
    /// position that would make the directory end at the end record.
    #[test]
    fn a_gap_before_the_end_record_keeps_the_stated_offset() {
        let good = one_entry();
        let eocd = good.len() - 22;
        let mut b = good[..eocd].to_vec();
        b.extend([0u8; 10]);
        b.extend(&good[eocd..]);
        let (_, ours) = listed(&b).unwrap();
        let (_, want) = listed(&good).unwrap();
        assert_eq!(ours, want);
    }

    #[test]
    fn a_comment_holding_the_signature_is_not_the_record() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        // A comment that spells an end record claiming 9 entries.
        let mut fake = b"PK\x05\x06\0\0\0\0\x09\0\x09\0".to_vec();
        fake.extend([0u8; 10]);
        fake.extend(b" and then some text");
        w.set_raw_comment(fake.into_boxed_slice()).unwrap();
        w.start_file("raw/1_c.txt", SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let (_, ours) = listed(&bytes).unwrap();
        assert_eq!(ours.len(), 1);
    }

    fn one_entry() -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("raw/1_c.txt", SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn lies_in_the_end_record_are_errors() {
        let good = one_entry();
        let eocd = good.len() - 22;
        let with = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[eocd + at..eocd + at + bytes.len()].copy_from_slice(bytes);
            message(listed(&b).unwrap_err())
        };
        // 65 535 entries in a directory of one record's size.
        assert!(with(10, &u16::MAX.to_le_bytes()).contains("claims 65535 entries"));
        // A directory larger than the file.
        assert!(with(12, &u32::MAX.to_le_bytes()).contains("larger than the file"));
        // Starting after where it ends.
        assert!(with(16, &(u32::MAX - 1).to_le_bytes()).contains("offset past its end"));
        // On disk 3.
        assert!(with(4, &3u16.to_le_bytes()).contains("several files"));
        // Two records claimed in one record's room.
        assert!(with(10, &2u16.to_le_bytes()).contains("claims 2 entries"));
    }

    #[test]
    fn a_damaged_record_ends_the_scan_with_its_number() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for id in 1..=2 {
            w.start_file(format!("raw/{id}_c.txt"), SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        }
        let mut b = w.finish().unwrap().into_inner();
        let second = memchr::memmem::rfind(&b, b"PK\x01\x02").unwrap();
        b[second] = b'X';
        assert!(message(listed(&b).unwrap_err()).contains("record 1 is damaged"));
    }

    #[test]
    fn no_end_record_and_cuts_are_errors_never_panics() {
        assert!(message(listed(b"").unwrap_err()).contains("too short"));
        assert!(message(listed(&[0xA5; 3000]).unwrap_err()).contains("no end of central"));
        let good = one_entry();
        for cut in 0..good.len() {
            assert!(listed(&good[..cut]).is_err(), "cut at {cut}");
        }
        // Damage to any byte of the directory: an error or a listing, never a panic.
        let cd = good.len() - 22 - (46 + 11);
        for at in cd..good.len() {
            for v in [0u8, 0xFF] {
                let mut b = good.clone();
                b[at] = v;
                let _ = listed(&b);
            }
        }
    }

    #[test]
    fn zip64_fields_replace_only_the_saturated_values() {
        let mut fixed = [0u8; CD_LEN];
        fixed[20..24].copy_from_slice(&u32::MAX.to_le_bytes()); // compressed: in zip64
        fixed[24..28].copy_from_slice(&7u32.to_le_bytes()); // uncompressed: here
        fixed[42..46].copy_from_slice(&u32::MAX.to_le_bytes()); // offset: in zip64
        let mut extra = vec![0x01, 0x00, 16, 0];
        extra.extend((5u64 << 32).to_le_bytes());
        extra.extend((6u64 << 32).to_le_bytes());
        let loc = entry_loc(&fixed, &extra, 10).unwrap();
        assert_eq!(
            (loc.compressed, loc.uncompressed, loc.header_start),
            (5 << 32, 7, (6 << 32) + 10)
        );
        // A zip64 field too short for the values it must hold: the record is damaged.
        extra.truncate(12);
        extra[2] = 8;
        assert_eq!(entry_loc(&fixed, &extra, 0), None);
        // An AES field gives the method inside the encryption.
        fixed[10..12].copy_from_slice(&99u16.to_le_bytes());
        let aes = [0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, 8, 0];
        fixed[20..24].copy_from_slice(&1u32.to_le_bytes());
        fixed[42..46].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(entry_loc(&fixed, &aes, 0).unwrap().method, METHOD_DEFLATED);
    }
}

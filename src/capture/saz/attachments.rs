//! What tickets attach (issue 21): a `.zip` that holds captures (`case1.saz`, `case2.har`)
//! rather than being one. A SAZ is itself a zip; the two are told apart by content: a SAZ
//! has `raw/` entries, a zip of attachments has none and holds entries whose first bytes one
//! of the registry's formats takes (`formats::sniff_strict`), whatever their names.
//!
//! Only asked of a zip that opened as a SAZ with no session ([`inspect`]), so a real SAZ
//! costs nothing more. Each inner capture is copied into a private temporary file (removed
//! when [`Inner`] is dropped) and opened by [`Capture::open`] as a file would be, named
//! `outer.zip!/inner.saz`. Hostile archives: entry names are only ever printed (never a
//! path: `../`, absolute and NUL names are harmless), entries that overlap were already
//! refused by the SAZ reader (the overlapping-entry bomb), each inner capture is inflated
//! under `--max-inflated-mib` and refused past 100 times its compressed size once over
//! 64 MiB (as a compressed HAR is), only one level is opened (a zip inside is refused), at
//! most [`MAX_ENTRIES`] entries are looked at, and encrypted entries need the password the
//! archive was opened with.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use super::{entry_error, is_raw_entry, open_entry, parse_entry_name, printable_name};
use super::{Backing, PosReader};
use crate::capture::formats;
use crate::capture::zip_dir::{self, EntryLoc};
use crate::capture::{Capture, CaptureErrorKind, Format, ReadOptions};

/// The most entries of one archive looked at (a ticket wraps a handful).
pub const MAX_ENTRIES: usize = 10_000;

/// How many first bytes of an entry decide whether it is a capture.
const HEAD: u64 = 4096;

/// Past this many inflated bytes, an entry may inflate at most [`MAX_RATIO`] times its
/// compressed size.
const RATIO_FLOOR: u64 = 64 * 1024 * 1024;
const MAX_RATIO: u64 = 100;

/// One entry of the archive that is a capture (or was meant to be one).
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The entry's name, printable (at most 60 characters, control characters replaced).
    pub name: String,
    /// The format its first bytes say.
    pub format: Option<Format>,
    /// Why it cannot be opened, when it cannot (encrypted without a password...).
    pub refused: Option<String>,
    loc: EntryLoc,
}

/// A zip of captures, as [`inspect`] found it.
pub struct Attachments {
    reader: PosReader,
    password: Option<Vec<u8>>,
    /// How reports name the archive (`tickets.zip`, `<stdin>`).
    pub name: String,
    /// The captures inside, in the archive's order.
    pub captures: Vec<Attachment>,
    /// Other entries (notes, screenshots): their count.
    pub others: usize,
}

/// An inner capture opened: the capture and the temporary file it is read from.
pub struct Inner {
    pub capture: Capture,
    _file: tempfile::NamedTempFile,
}

/// Is the zip at `path` (named `name` in reports) a zip of captures? `None` when it holds
/// `raw/` entries (a SAZ, whatever else it holds) or no capture at all (then it stays a SAZ
/// with no session: inconclusive, its entries listed).
pub fn inspect(
    path: &Path,
    name: &str,
    options: &ReadOptions,
) -> Result<Option<Attachments>, CaptureErrorKind> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut reader = PosReader {
        data: Backing::File(Arc::new(file)),
        pos: 0,
        len,
    };
    inspect_reader(&mut reader, name, options)
}

/// [`inspect`] of an archive in memory (the fuzz target and tests).
pub fn inspect_bytes(
    bytes: impl Into<Arc<[u8]>>,
    name: &str,
    options: &ReadOptions,
) -> Result<Option<Attachments>, CaptureErrorKind> {
    let bytes: Arc<[u8]> = bytes.into();
    let mut reader = PosReader {
        len: bytes.len() as u64,
        data: Backing::Memory(bytes),
        pos: 0,
    };
    inspect_reader(&mut reader, name, options)
}

fn inspect_reader(
    reader: &mut PosReader,
    name: &str,
    options: &ReadOptions,
) -> Result<Option<Attachments>, CaptureErrorKind> {
    let mut raw = false;
    let mut entries: Vec<(String, EntryLoc)> = Vec::new();
    let mut others = 0usize;
    let len = reader.len;
    zip_dir::scan(reader, len, |record| {
        if parse_entry_name(record.name).is_some() || is_raw_entry(record.name) {
            raw = true;
        } else if !record.is_dir() {
            if entries.len() < MAX_ENTRIES {
                entries.push((printable_name(record.name), record.loc));
            } else {
                others += 1;
            }
        }
    })?;
    if raw {
        return Ok(None);
    }
    let password = options
        .password
        .as_ref()
        .map(|p| p.expose().as_bytes().to_vec());
    let mut captures = Vec::new();
    for (entry_name, loc) in entries {
        let mut head = Vec::new();
        let read = open_entry(reader, &loc, password.as_deref())
            .map_err(|e| entry_error(&e))
            .and_then(|entry| {
                entry
                    .take(HEAD)
                    .read_to_end(&mut head)
                    .map_err(|e| super::io_entry_error(&e))
            });
        match read {
            Ok(_) => match formats::sniff_strict(&head) {
                Ok(spec) => captures.push(Attachment {
                    name: entry_name,
                    format: Some(spec.format),
                    refused: None,
                    loc,
                }),
                Err(_) => others += 1,
            },
            // What cannot be read is told only when its name says it was meant as a capture.
            Err(why) if named_like_a_capture(&entry_name) => captures.push(Attachment {
                name: entry_name,
                format: None,
                refused: Some(if loc.encrypted && password.is_none() {
                    "encrypted: give the archive's password with --password-env or --password-file"
                        .into()
                } else {
                    why
                }),
                loc,
            }),
            Err(_) => others += 1,
        }
    }
    if captures.is_empty() {
        return Ok(None);
    }
    Ok(Some(Attachments {
        reader: reader.clone(),
        password,
        name: name.to_string(),
        captures,
        others,
    }))
}

fn named_like_a_capture(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".saz", ".har", ".har.gz", ".zhar", ".zip", ".json"]
        .iter()
        .any(|ext| n.ends_with(ext))
}

impl Attachments {
    /// How reports name capture `i`: `tickets.zip!/case1.saz`.
    pub fn inner_name(&self, i: usize) -> String {
        let inner = self.captures.get(i).map_or("?", |a| a.name.as_str());
        format!("{}!/{inner}", self.name)
    }

    /// The inner captures' names, for messages: `case1.saz, case2.har`.
    pub fn listing(&self) -> String {
        let names: Vec<&str> = self.captures.iter().map(|a| a.name.as_str()).collect();
        names.join(", ")
    }

    /// Copy capture `i` out (under the limits) and open it as a file is opened. A zip of
    /// captures inside is refused: one level only.
    pub fn open(&self, i: usize, options: &ReadOptions) -> Result<Inner, String> {
        let a = self
            .captures
            .get(i)
            .ok_or_else(|| "no such entry".to_string())?;
        if let Some(why) = &a.refused {
            return Err(why.clone());
        }
        let mut file = tempfile::NamedTempFile::new()
            .map_err(|e| format!("cannot create a temporary file: {e}"))?;
        let mut reader = self.reader.clone();
        let entry = open_entry(&mut reader, &a.loc, self.password.as_deref())
            .map_err(|e| entry_error(&e))?;
        let max = options.limits.max_inflated;
        let copied =
            io::copy(&mut entry.take(max.saturating_add(1)), file.as_file_mut()).map_err(|e| {
                match e.kind() {
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
                        super::io_entry_error(&e)
                    }
                    _ => format!("cannot copy it out: {e}"),
                }
            })?;
        if copied > max {
            return Err(format!(
                "inflates past {} MiB (--max-inflated-mib): refused as a compression bomb",
                max / (1024 * 1024)
            ));
        }
        if copied > RATIO_FLOOR && copied / a.loc.compressed.max(1) > MAX_RATIO {
            return Err(format!(
                "inflates more than {MAX_RATIO} times its compressed size: refused as a compression bomb"
            ));
        }
        file.as_file_mut()
            .flush()
            .map_err(|e| format!("cannot copy it out: {e}"))?;
        let capture = Capture::open(file.path(), options).map_err(|e| e.kind.to_string())?;
        if capture.format() == Format::Saz && capture.session_hint() == Some(0) {
            let nested = inspect(file.path(), "", options).map_err(|e| e.to_string())?;
            if let Some(n) = nested {
                return Err(format!(
                    "a zip of captures inside a zip ({}): only one level is opened; extract it and analyse it",
                    n.listing()
                ));
            }
        }
        Ok(Inner {
            capture: capture.named(self.inner_name(i)),
            _file: file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;
    use zip::ZipWriter;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        try_zip_of(entries).unwrap()
    }

    fn try_zip_of(entries: &[(&str, &[u8])]) -> Option<Vec<u8>> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default()).ok()?;
            w.write_all(data).ok()?;
        }
        Some(w.finish().ok()?.into_inner())
    }

    const HAR: &[u8] =
        br#"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[]}}"#;

    #[test]
    fn a_saz_is_not_attachments_and_captures_are_found_by_content() {
        let saz = zip_of(&[("raw/01_c.txt", b"GET http://a/ HTTP/1.1\r\n\r\n")]);
        let o = ReadOptions::default();
        assert!(inspect_bytes(saz.clone(), "x", &o).unwrap().is_none());
        // A SAZ that also holds a HAR is still a SAZ.
        let both = zip_of(&[("raw/01_c.txt", b"GET / HTTP/1.1\r\n\r\n"), ("a.har", HAR)]);
        assert!(inspect_bytes(both, "x", &o).unwrap().is_none());
        let notes = zip_of(&[("notes.txt", b"hello"), ("x.json", b"{\"a\":1}")]);
        assert!(inspect_bytes(notes, "x", &o).unwrap().is_none());
        let wrapped = zip_of(&[
            ("../../case1.saz", &saz),
            ("notes.txt", b"hello"),
            ("renamed.txt", HAR),
        ]);
        let a = inspect_bytes(wrapped, "t.zip", &o).unwrap().unwrap();
        assert_eq!(a.listing(), "../../case1.saz, renamed.txt");
        assert_eq!(a.others, 1);
        assert_eq!(a.inner_name(1), "t.zip!/renamed.txt");
        assert_eq!(a.captures[0].format, Some(Format::Saz));
        assert_eq!(a.captures[1].format, Some(Format::Har));
        let inner = a.open(1, &o).unwrap();
        assert_eq!(inner.capture.format(), Format::Har);
        assert_eq!(inner.capture.path(), Path::new("t.zip!/renamed.txt"));
        let inner = a.open(0, &o).unwrap();
        assert_eq!(inner.capture.session_hint(), Some(1));
    }

    #[test]
    fn nested_zips_and_bombs_are_refused() {
        let o = ReadOptions::default();
        let inner = zip_of(&[("a.har", HAR)]);
        let outer = zip_of(&[("inner.zip", &inner)]);
        let a = inspect_bytes(outer, "t.zip", &o).unwrap().unwrap();
        let e = a.open(0, &o).err().unwrap();
        assert!(
            e.starts_with("a zip of captures inside a zip (a.har)"),
            "{e}"
        );

        let mut big = HAR.to_vec();
        big.extend(vec![b' '; 3 * 1024 * 1024]);
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file(
            "big.har",
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        w.write_all(&big).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let mut small = ReadOptions::default();
        small.limits.max_inflated = 1024 * 1024;
        let a = inspect_bytes(bytes, "t.zip", &small).unwrap().unwrap();
        let e = a.open(0, &small).err().unwrap();
        assert_eq!(
            e,
            "inflates past 1 MiB (--max-inflated-mib): refused as a compression bomb"
        );
    }

    proptest::proptest! {
        /// Whatever the bytes, inspecting and opening never panics.
        #[test]
        fn hostile_archives_never_panic(
            entries in proptest::collection::vec(
                ("[a-z./\\\\]{0,12}", proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)),
                0..4,
            ),
            cut in 0usize..400,
            flip in proptest::prelude::any::<(usize, u8)>(),
        ) {
            let named: Vec<(&str, &[u8])> =
                entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
            let Some(mut bytes) = try_zip_of(&named) else { return Ok(()) };
            if !bytes.is_empty() {
                let i = flip.0 % bytes.len();
                bytes[i] ^= flip.1;
            }
            bytes.truncate(bytes.len().saturating_sub(cut % 40));
            let o = ReadOptions::default();
            if let Ok(Some(a)) = inspect_bytes(bytes, "t.zip", &o) {
                for i in 0..a.captures.len() {
                    let _ = a.open(i, &o);
                }
            }
        }
    }
}

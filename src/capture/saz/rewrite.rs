//! A SAZ rewritten entry by entry through a [`Scrubber`], read with the reader's own code.
//!
//! The archive is opened as the analysis opens it ([`SazArchive`]: our central-directory
//! reader, the overlap check, the password checked once), then the directory is walked again
//! in its order and each entry read as sessions are read (its local header, decryption,
//! inflate, under the same cap). The zip crate's `ZipArchive` is never built; the zip crate
//! only writes (`ZipWriter`).
//!
//! - Every entry is written in the input's order, under its own name (raw bytes), with its
//!   own timestamp; the archive comment (`Fiddler (v5...) Session Archive`) is kept. Entry
//!   names are only ever names inside the output archive, never filesystem paths.
//! - An entry the scrubber leaves alone is copied as stored (a raw zip copy, compressed bytes
//!   and CRC untouched) unless it has to be re-encrypted or was encrypted.
//! - A second entry of the same name is left out (the reader reads the first only).
//! - With an output password every entry is written AES-256 encrypted.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, DateTime, ZipWriter};

use super::zip_dir::{self, EntryLoc, METHOD_STORED};
use super::{
    entry_error, open_entry, parse_entry_name, read_entry, Backing, PosReader, SazArchive,
    HEAD_ALLOWANCE,
};
use crate::capture::rewrite::{RewriteOptions, Rewritten, SazEntry, Scrubber, WriteSeek};
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
    let mut listed = Vec::new();
    let len = reader.len;
    let directory = zip_dir::scan(&mut reader, len, |record| {
        listed.push(Listed {
            name: record.name.to_vec(),
            loc: record.loc,
            modified: DateTime::try_from_msdos(record.dos_date, record.dos_time).ok(),
            is_dir: record.is_dir(),
        })
    })?;

    let mut w = ZipWriter::new(output);
    w.set_raw_comment(directory.comment.into_boxed_slice())
        .map_err(|e| write_err(&e))?;
    let cap = opts.read.limits.max_decoded.saturating_add(HEAD_ALLOWANCE);
    let pw = password.as_ref().map(|p| p.expose().as_bytes());
    let mut out = Rewritten::default();
    let mut seen = HashSet::new();
    for (i, entry) in listed.iter().enumerate() {
        let label = entry_label(&entry.name, i);
        if !seen.insert(entry.name.as_slice()) {
            out.notes.push(format!(
                "{label}: the same entry name again; the copy was left out"
            ));
            continue;
        }
        let loc = &entry.loc;
        let raw_copy_ok = !loc.encrypted && opts.output_password.is_none();
        let mut options = SimpleFileOptions::default()
            .compression_method(if loc.method == METHOD_STORED {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            })
            .large_file(loc.uncompressed > u64::from(u32::MAX) / 2);
        if let Some(t) = entry.modified {
            options = options.last_modified_time(t);
        }
        if let Some(pw) = &opts.output_password {
            options = options.with_aes_encryption(AesMode::Aes256, pw.expose());
        }
        if entry.is_dir {
            if raw_copy_ok {
                raw_copy(&mut w, &mut reader, loc, &label)?;
            } else {
                let dir = String::from_utf8_lossy(&entry.name).into_owned();
                w.add_directory(dir, options).map_err(|e| write_err(&e))?;
            }
            continue;
        }
        let read = read_entry(&mut reader, Some(loc), pw, cap)
            .map_err(|why| CaptureErrorKind::Saz(format!("{label}: {why}")))?;
        if read.truncated {
            return Err(CaptureErrorKind::Saz(format!(
                "{label}: larger than the {cap}-byte cap; raise --max-body-mib to rewrite it"
            )));
        }
        if let Some(why) = read.problem {
            return Err(CaptureErrorKind::Saz(format!("{label}: {why}")));
        }
        let new = scrubber.saz_entry(SazEntry {
            label: &label,
            kind: parse_entry_name(&entry.name).map(|(_, k)| k),
            bytes: &read.bytes,
        });
        out.entries += 1;
        match new {
            None if raw_copy_ok => raw_copy(&mut w, &mut reader, loc, &label)?,
            new => {
                let data = new.as_deref().unwrap_or(&read.bytes);
                w.start_file_with_options(options.name(&entry.name[..]))
                    .map_err(|e| write_err(&e))?;
                w.write_all(data)?;
            }
        }
    }
    let inner = w.finish().map_err(|e| write_err(&e))?;
    inner.flush()?;
    out.what = format!("{} entries", out.entries);
    Ok(out)
}

/// Copy the entry at `loc` as stored: compressed bytes and CRC untouched.
fn raw_copy(
    w: &mut ZipWriter<&mut dyn WriteSeek>,
    reader: &mut PosReader,
    loc: &EntryLoc,
    label: &str,
) -> Result<(), CaptureErrorKind> {
    let entry = open_entry(reader, loc, None)
        .map_err(|e| CaptureErrorKind::Saz(format!("{label}: {}", entry_error(&e))))?;
    w.raw_copy_file(entry).map_err(|e| write_err(&e))
}

/// An entry named for a message: its session entry name when it has one, else its index
/// (entry names are capture content).
fn entry_label(name: &[u8], index: usize) -> String {
    match parse_entry_name(name) {
        Some((id, kind)) => kind.file_name(id),
        None => format!("entry #{}", index + 1),
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

    /// Every sample SAZ rewritten with a scrubber that changes nothing: the same entries in
    /// the same order, the same sessions read back, every entry a raw copy (same CRCs).
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
                let dirs = names(&bytes).iter().filter(|n| n.ends_with(b"/")).count();
                assert_eq!(r.entries + dirs, names(&bytes).len(), "{}", path.display());
                assert_eq!(names(&out), names(&bytes), "{}", path.display());
                assert_eq!(sessions(out), sessions(bytes), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen} samples");
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

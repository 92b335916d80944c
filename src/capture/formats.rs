//! The format registry: every capture format traceadal reads, listed once.
//!
//! A format is a folder under `capture/` (`saz/`, `har/`) that provides a loose `sniff` of a
//! file's first bytes (what `Capture::open` goes by), a stricter `sniff_strict` (what a folder
//! walk adds, where stray files abound), `open` for the streaming reader, and `rewrite`
//! (every session streamed back out through a [`Scrubber`]: `traceadal redact`). Detection
//! (`detect.rs`), the batch walk (`batch::sniff`) and `redact` iterate [`ALL`] instead of
//! naming formats, so a new format is one folder, one line in [`ALL`] (and its variant in
//! `Format` and `Capture`'s source), and one fuzz target.

use std::path::Path;

use super::rewrite::{RewriteOptions, Rewritten, Scrubber, WriteSeek};
use super::{har, saz, CaptureErrorKind, Format, ReadOptions, Source};

/// A format's rewriter: the capture at the path streamed into the writer through the
/// scrubber.
pub type RewriteFn = fn(
    &Path,
    &mut dyn WriteSeek,
    &RewriteOptions,
    &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind>;

/// What a format provides.
pub struct FormatSpec {
    pub format: Format,
    /// For messages: `SAZ`, `HAR`.
    pub name: &'static str,
    /// Do these first bytes look like this format? (Checked in [`ALL`]'s order.)
    pub sniff: fn(&[u8]) -> bool,
    /// The stricter check a folder walk adds to a head `sniff` took: why not, if not.
    pub sniff_strict: fn(&[u8]) -> Result<(), &'static str>,
    /// Open the file for streaming (`Capture::open`).
    pub(crate) open: fn(&Path, &ReadOptions) -> Result<Source, CaptureErrorKind>,
    /// Stream every session of the file at the path into the writer, through the scrubber.
    pub rewrite: RewriteFn,
    /// Can encrypt what it writes ([`RewriteOptions::output_password`]).
    pub encrypts: bool,
    /// Can be encrypted, so that a password may be needed to read it.
    pub encrypted_input: bool,
}

/// Every format, in the order their sniffs are tried.
pub const ALL: &[FormatSpec] = &[
    FormatSpec {
        format: Format::Saz,
        name: "SAZ",
        sniff: saz::sniff::sniff,
        sniff_strict: saz::sniff::sniff_strict,
        open: |path, options| saz::SazArchive::open(path, options).map(Source::Saz),
        rewrite: saz::rewrite::rewrite,
        encrypts: true,
        encrypted_input: true,
    },
    FormatSpec {
        format: Format::Har,
        name: "HAR",
        sniff: har::sniff,
        sniff_strict: har::sniff_strict,
        open: |path, options| har::HarSource::open(path, options).map(Source::Har),
        rewrite: har::rewrite,
        encrypts: false,
        encrypted_input: false,
    },
];

/// The entry of `format`.
pub fn spec(format: Format) -> &'static FormatSpec {
    ALL.iter().find(|s| s.format == format).unwrap_or(&ALL[0])
}

/// The format whose loose sniff takes `head`.
pub fn sniff(head: &[u8]) -> Result<&'static FormatSpec, CaptureErrorKind> {
    if head.is_empty() {
        return Err(CaptureErrorKind::Empty);
    }
    if let Some(spec) = ALL.iter().find(|s| (s.sniff)(head)) {
        return Ok(spec);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(CaptureErrorKind::Empty);
    }
    Err(CaptureErrorKind::UnknownFormat(describe(head)))
}

/// [`sniff`], then the format's stricter check (a folder walk).
pub fn sniff_strict(head: &[u8]) -> Result<&'static FormatSpec, CaptureErrorKind> {
    let spec = sniff(head)?;
    (spec.sniff_strict)(head).map_err(|why| CaptureErrorKind::UnknownFormat(why.into()))?;
    Ok(spec)
}

fn describe(head: &[u8]) -> String {
    let n = head.len().min(8);
    let hex: Vec<String> = head[..n].iter().map(|b| format!("{b:02x}")).collect();
    format!("starts with bytes {}", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_listed_once_and_found_by_its_own_head() {
        let heads: &[(Format, &[u8])] = &[
            (Format::Saz, b"PK\x03\x04rest"),
            (Format::Har, b"\xef\xbb\xbf  {\"log\":{}}"),
        ];
        assert_eq!(ALL.len(), heads.len());
        for (format, head) in heads {
            assert_eq!(sniff(head).unwrap().format, *format);
            assert_eq!(sniff_strict(head).unwrap().format, *format);
            assert_eq!(spec(*format).format, *format);
            // No other format claims it.
            let claims = ALL.iter().filter(|s| (s.sniff)(head)).count();
            assert_eq!(claims, 1, "{format:?}");
        }
    }

    #[test]
    fn bad_heads() {
        assert!(matches!(sniff(b""), Err(CaptureErrorKind::Empty)));
        assert!(matches!(sniff(b" \n\t"), Err(CaptureErrorKind::Empty)));
        assert!(matches!(
            sniff(b"\xef\xbb\xbf\n"),
            Err(CaptureErrorKind::Empty)
        ));
        assert!(matches!(
            sniff(b"This is not a SAZ"),
            Err(CaptureErrorKind::UnknownFormat(m)) if m == "starts with bytes 54 68 69 73 20 69 73 20"
        ));
        assert!(matches!(
            sniff_strict(b"{\"headers\": []}"),
            Err(CaptureErrorKind::UnknownFormat(m)) if m.contains("\"log\"")
        ));
        assert!(sniff(b"{\"headers\": []}").is_ok());
    }
}

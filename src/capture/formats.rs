//! The format registry: every capture format traceadal reads, listed once.
//!
//! A format is a folder under `capture/` (`saz/`, `har/`) that provides a loose `sniff` of a
//! file's first bytes (what `Capture::open` goes by), a stricter `sniff_strict` (what a folder
//! walk adds, where stray files abound), `open` for the streaming reader, and `rewrite`
//! (every session streamed back out through a [`Scrubber`]: `traceadal redact`). Detection
//! (`detect.rs`), the batch walk (`batch::sniff`) and `redact` iterate [`ALL`] instead of
//! naming formats. The list is written once, in `registry!` below, which makes [`Format`],
//! the opened-capture enum `Source` with its dispatch, and [`ALL`] from it: a new format is
//! one folder (its reader implementing [`Reader`], `sniff`, `rewrite`), one entry in
//! `registry!`, and one fuzz target.

use std::path::Path;

use super::rewrite::{RewriteOptions, Rewritten, Scrubber, WriteSeek};
use super::{har, netlog, saz, CaptureErrorKind, ReadOptions, SessionResult};

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

/// What a format's streaming reader gives [`super::Capture`]. Static dispatch only: the
/// mapping methods are generic over the caller's mapper, so that no session's result is
/// boxed on the hot path.
pub(crate) trait Reader: Sized {
    fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind>;

    fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send;

    fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T);

    /// Problems of the capture that belong to no session.
    fn warnings(&self) -> &[String] {
        &[]
    }

    /// The number of sessions, when the format tells it before reading.
    fn session_hint(&self) -> Option<usize> {
        None
    }
}

/// The registry's one list. From it come the [`Format`] enum, the opened-capture enum
/// `Source` with its dispatch, and [`ALL`]: a new format is its folder and one entry here
/// (and a fuzz target).
macro_rules! registry {
    ($($variant:ident {
        id: $id:literal,
        name: $name:literal,
        reader: $reader:ty,
        sniff: $sniff:path,
        sniff_strict: $strict:path,
        rewrite: $rewrite:path,
        encrypts: $enc:literal,
        encrypted_input: $ein:literal $(,)?
    }),+ $(,)?) => {
        /// The capture file formats traceadal reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Format {
            $($variant),+
        }

        impl Format {
            /// The name reports give it (`capture.format`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Format::$variant => $id),+
                }
            }
        }

        /// An opened capture, by format (what [`FormatSpec`]'s `open` returns).
        pub(crate) enum Source {
            $($variant($reader)),+
        }

        impl Source {
            pub(crate) fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
            where
                T: Send,
                F: Fn(SessionResult) -> T + Sync + Send,
            {
                match self {
                    $(Source::$variant(r) => Reader::map_sessions(r, f)),+
                }
            }

            pub(crate) fn map_sessions_into<T, F, S>(
                &self,
                f: F,
                sink: S,
            ) -> Result<(), CaptureErrorKind>
            where
                T: Send,
                F: Fn(SessionResult) -> T + Sync + Send,
                S: FnMut(T),
            {
                match self {
                    $(Source::$variant(r) => Reader::map_sessions_into(r, f, sink)),+
                }
            }

            pub(crate) fn warnings(&self) -> &[String] {
                match self {
                    $(Source::$variant(r) => Reader::warnings(r)),+
                }
            }

            pub(crate) fn session_hint(&self) -> Option<usize> {
                match self {
                    $(Source::$variant(r) => Reader::session_hint(r)),+
                }
            }
        }

        /// Every format, in the order their sniffs are tried.
        pub const ALL: &[FormatSpec] = &[
            $(FormatSpec {
                format: Format::$variant,
                name: $name,
                sniff: $sniff,
                sniff_strict: $strict,
                open: |path, options| <$reader as Reader>::open(path, options).map(Source::$variant),
                rewrite: $rewrite,
                encrypts: $enc,
                encrypted_input: $ein,
            }),+
        ];
    };
}

registry! {
    Saz {
        id: "saz",
        name: "SAZ",
        reader: saz::SazArchive,
        sniff: saz::sniff::sniff,
        sniff_strict: saz::sniff::sniff_strict,
        rewrite: saz::rewrite::rewrite,
        encrypts: true,
        encrypted_input: true,
    },
    Har {
        id: "har",
        name: "HAR",
        reader: har::HarSource,
        sniff: har::sniff,
        sniff_strict: har::sniff_strict,
        rewrite: har::rewrite,
        encrypts: false,
        encrypted_input: false,
    },
    NetLog {
        id: "netlog",
        name: "NetLog",
        reader: netlog::NetLogSource,
        sniff: netlog::sniff,
        sniff_strict: netlog::sniff_strict,
        rewrite: netlog::rewrite,
        encrypts: false,
        encrypted_input: false,
    },
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Reader for saz::SazArchive {
    fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        saz::SazArchive::open(path, options)
    }

    fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        saz::SazArchive::map_sessions(self, f)
    }

    fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        saz::SazArchive::map_sessions_into(self, f, sink)
    }

    fn warnings(&self) -> &[String] {
        saz::SazArchive::warnings(self)
    }

    fn session_hint(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl Reader for har::HarSource {
    fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        har::HarSource::open(path, options)
    }

    fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        har::HarSource::map_sessions(self, f)
    }

    fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        har::HarSource::map_sessions_into(self, f, sink)
    }
}

impl Reader for netlog::NetLogSource {
    fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        netlog::NetLogSource::open(path, options)
    }

    fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        netlog::NetLogSource::map_sessions(self, f)
    }

    fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        netlog::NetLogSource::map_sessions_into(self, f, sink)
    }
}

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
    fn a_format_serialises_as_its_id() {
        for spec in ALL {
            let json = serde_json::to_string(&spec.format).unwrap();
            assert_eq!(json, format!("\"{}\"", spec.format.as_str()));
            assert_eq!(spec.name.to_ascii_lowercase(), spec.format.as_str());
        }
    }

    #[test]
    fn every_format_is_listed_once_and_found_by_its_own_head() {
        let heads: &[(Format, &[u8])] = &[
            (Format::Saz, b"PK\x03\x04rest"),
            (Format::Har, b"\xef\xbb\xbf  {\"log\":{}}"),
            (Format::NetLog, b"{\"constants\":{\"logEventTypes\":{}}"),
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

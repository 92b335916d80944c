//! Chromium and Edge NetLog (`chrome://net-export`, `edge://net-export`, `--log-net-log`):
//! the JSON log of Chrome's network stack, which Edge, new Teams and new Outlook (Edge
//! WebView2) write too.
//!
//! # What is read
//!
//! `constants` (the event, source and phase numbering of the Chrome that wrote it, the
//! capture mode, `timeTickOffset`, `clientInfo`) and `events`. Sessions are built from each
//! `URL_REQUEST` source's events ([`build`]): url and method, the request head as sent (HTTP/1,
//! HTTP/2 and QUIC variants), the answer's head, a redirect or an auth restart as the next
//! session, the response body when the log holds it (capture mode "Include raw bytes"), the
//! request body from the socket's bytes (HTTP/1 only), the time from `time` +
//! `timeTickOffset`, and the host app of an Edge WebView2 as the process.
//!
//! # What a NetLog cannot show
//!
//! In the default mode ("Strip private data") Chrome replaces cookies and credentials with
//! `[N bytes were stripped]`; in that mode and in "Include cookies and credentials" no body
//! is logged. The reader keeps stripped values as logged (an `Authorization` of unknown
//! scheme still says a credential was sent; the session is flagged `credentials_stripped`) and flags sessions whose bodies were read but not logged
//! (`body_unrecorded`), so the analysis says what it cannot see (`analysis::limits`) and a
//! failure whose evidence is in a body is never "OK".
//!
//! # Streaming and damage
//!
//! The file is scanned once ([`scan`]): one event's JSON at a time, sessions handed over
//! (mapped on the rayon pool) as their requests end. A log cut mid-write (Chrome writes the
//! closing `]}` only when logging stops) is read up to the cut and the cut is reported.

mod build;
mod envelope;
mod scan;
#[cfg(test)]
mod tests;

pub use build::Mode;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::rewrite::{RewriteOptions, Rewritten, Scrubber, WriteSeek};
use super::{CaptureErrorKind, ReadOptions, SessionError, SessionResult};
use build::{BuildLimits, Builder, Constants};
use scan::{End, Item, ScanLimits};

/// Sessions mapped at once.
const BATCH: usize = 64;

/// A NetLog file, opened. Reading happens in [`NetLogSource::map_sessions_into`].
pub struct NetLogSource {
    path: PathBuf,
    options: ReadOptions,
}

impl NetLogSource {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        File::open(path)?;
        Ok(NetLogSource {
            path: path.to_path_buf(),
            options: options.clone(),
        })
    }

    pub fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        let mut out = Vec::new();
        self.map_sessions_into(f, |t| out.push(t))?;
        Ok(out)
    }

    pub fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        let file = BufReader::new(File::open(&self.path)?);
        map_reader_into(file, &self.options, f, sink)
    }
}

/// Read a NetLog from `reader` and hand each mapped session to `sink` in session order.
/// What could not be read is handed over last as an `Err` without a session (the cut, events
/// that did not parse); a file with neither constants nor events is an error.
pub fn map_reader_into<R, T, F, S>(
    reader: R,
    options: &ReadOptions,
    f: F,
    mut sink: S,
) -> Result<(), CaptureErrorKind>
where
    R: Read,
    T: Send,
    F: Fn(SessionResult) -> T + Sync + Send,
    S: FnMut(T),
{
    let max_body = usize::try_from(options.limits.max_decoded).unwrap_or(usize::MAX);
    let scan_limits = ScanLimits {
        // A raw-bytes event holds at most a socket read (tens of KB) in base64.
        max_event: max_body.saturating_mul(4) / 3 + 64 * 1024,
        max_constants: 64 * 1024 * 1024,
        max_depth: 128,
    };
    let mut builder = Builder::new(BuildLimits {
        max_body,
        max_open: 20_000,
    });
    let mut batch = Vec::new();
    let flush = |batch: &mut Vec<crate::capture::Session>, sink: &mut S| {
        let mapped: Vec<T> = std::mem::take(batch)
            .into_par_iter()
            .map(|s| f(Ok(s)))
            .collect();
        mapped.into_iter().for_each(&mut *sink);
    };
    let mut constants_seen = false;
    let mut bad_constants = false;
    let end = scan::scan(reader, &scan_limits, |item| match item {
        Item::Constants(text) => {
            constants_seen = true;
            match Constants::parse(text) {
                Some(c) => builder.set_constants(c),
                None => bad_constants = true,
            }
        }
        Item::Event(text) => {
            builder.event(text);
            if builder.events % 256 == 0 {
                batch.extend(builder.ready());
                if batch.len() >= BATCH {
                    flush(&mut batch, &mut sink);
                }
            }
        }
        Item::Oversized if !constants_seen => constants_seen = true,
        Item::Oversized => builder.oversized_events += 1,
    });
    if !constants_seen && builder.events == 0 {
        return Err(CaptureErrorKind::NetLog(match end {
            End::Broken { why, .. } => why.to_string(),
            _ => "no \"constants\" and no \"events\"".into(),
        }));
    }
    batch.extend(builder.finish());
    let read = batch.len();
    flush(&mut batch, &mut sink);
    let mut problems = Vec::new();
    if builder.constants().is_none() {
        problems.push(if bad_constants || constants_seen {
            "the NetLog's \"constants\" could not be read: its events cannot be named".to_string()
        } else {
            "the NetLog has no \"constants\" before its events: they cannot be named".to_string()
        });
    }
    match end {
        End::Complete => {}
        End::Cut { offset } => problems.push(format!(
            "the NetLog is cut short at byte {offset} after {} event(s) (Chrome writes its end \
             only when logging stops): the sessions up to the cut are read, requests still \
             open there are incomplete",
            builder.events
        )),
        End::Broken { offset, why } => problems.push(format!(
            "the NetLog stops being readable at byte {offset} ({why}) after {} event(s)",
            builder.events
        )),
    }
    if builder.unreadable_events > 0 {
        problems.push(format!(
            "{} event(s) of the NetLog are not JSON objects with a source and were skipped",
            builder.unreadable_events
        ));
    }
    if builder.oversized_events > 0 {
        problems.push(format!(
            "{} event(s) of the NetLog are larger than the cap and were skipped",
            builder.oversized_events
        ));
    }
    if builder.closed_early > 0 {
        problems.push(format!(
            "{} request(s) were still open when the NetLog held too many at once: they were \
             read as far as they had gone",
            builder.closed_early
        ));
    }
    let _ = read;
    for message in problems {
        sink(f(Err(SessionError {
            session: None,
            message,
        })));
    }
    Ok(())
}

/// The loose test: a JSON object whose first key is `"constants"` (how Chrome and Edge begin
/// a NetLog) or whose head names `logEventTypes`.
pub fn sniff(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    if text[start] != b'{' {
        return false;
    }
    let rest = &text[start + 1..];
    let key = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &rest[i..]);
    key.is_some_and(|k| k.starts_with(b"\"constants\""))
        || memchr::memmem::find(text, b"\"logEventTypes\"").is_some()
}

/// The strict test is the loose one: a `"constants"` key first is no stray JSON.
pub fn sniff_strict(head: &[u8]) -> Result<(), &'static str> {
    if sniff(head) {
        Ok(())
    } else {
        Err("JSON without a NetLog \"constants\" object")
    }
}

/// `traceadal redact` does not rewrite a NetLog: its events hold secrets in forms (socket
/// bytes in base64, TLS secrets, cookies in parameters) no scrubber reads yet.
pub fn rewrite(
    _: &Path,
    _: &mut dyn WriteSeek,
    _: &RewriteOptions,
    _: &mut dyn Scrubber,
) -> Result<Rewritten, CaptureErrorKind> {
    Err(CaptureErrorKind::Unsupported(
        "is a NetLog, which traceadal redact cannot rewrite: share the analysis report \
         instead, or capture the same repro with Fiddler or as a HAR",
    ))
}

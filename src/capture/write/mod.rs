//! Writing sessions in a capture format: the [`Session`](super::Session) model back out as a
//! HAR 1.2 entry ([`har`]) or as the entries of a Fiddler SAZ ([`saz`]). `traceadal convert`
//! reads a capture with the format's own reader and writes each session with the other
//! format's writer; redaction happens before, by `redact`'s own rewrite of the input.
//!
//! What each direction cannot carry is listed in `docs/convert.md`.

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod har;
pub mod saz;

use chrono::{DateTime, FixedOffset};

use super::Headers;

/// The headers that describe how a body was framed on the wire. A body held decoded (a
/// HAR's) is written without them and with one `Content-Length` of what is written, as
/// `redact` writes a SAZ body (`redact::saz` asks [`is_framing`] too).
const FRAMING: [&str; 3] = ["transfer-encoding", "content-encoding", "content-length"];

/// Is `name` one of [`FRAMING`]?
pub fn is_framing(name: &str) -> bool {
    FRAMING.iter().any(|f| name.eq_ignore_ascii_case(f))
}

/// Milliseconds from `a` to `b`, when both are known and `b` is not before `a`.
pub fn millis(a: Option<DateTime<FixedOffset>>, b: Option<DateTime<FixedOffset>>) -> Option<f64> {
    let d = b?.signed_duration_since(a?);
    let us = d.num_microseconds()?;
    (us >= 0).then(|| us as f64 / 1000.0)
}

/// The value of the first header named `name`, or "".
fn header<'a>(h: &'a Headers, name: &str) -> &'a str {
    h.get(name).unwrap_or("")
}

//! Rewriting a capture: every session (SAZ entry, HAR entry) streamed back out through a
//! caller's [`Scrubber`], in the capture's own format.
//!
//! `traceadal redact` is the caller today (a future `convert` would be another). The
//! rewriters live beside the readers (`saz/rewrite.rs`, `har/rewrite.rs`) and read with the
//! readers' own code (the zip central-directory reader and entry reading; the HAR lexer), so
//! that a file the analysis reads is a file that can be rewritten, with one parser to harden.
//! What counts as a secret is not known here: the scrubber, defined by the caller, decides
//! (capture is the first stage and imports no later one).

use std::any::Any;
use std::io::{Seek, Write};

use super::{Password, ReadOptions};

pub use super::saz::Kind as SazEntryKind;

/// What a rewriter hands to the caller, one piece at a time, and writes back what it returns.
pub trait Scrubber {
    /// A string of the file outside any session (a HAR's `creator`, `pages`, comments): its
    /// replacement, or `None` to keep it.
    fn text(&mut self, text: &str) -> Option<String>;

    /// One HAR entry, as its JSON text (valid UTF-8): the JSON text to write instead, `None`
    /// to keep it byte for byte, or `Err` (why, never content) when it is not JSON the
    /// scrubber can read; the rewriter then writes `null` in its place.
    fn har_entry(&mut self, json: &str) -> Result<Option<Vec<u8>>, String>;

    /// One SAZ entry, whole, as read (inflated, decrypted): the bytes to store instead, or
    /// `None` to store them as read. Nothing is copied as stored (compressed bytes, extra
    /// fields, comments): every entry is written anew.
    fn saz_entry(&mut self, entry: SazEntry<'_>) -> Option<Vec<u8>>;

    /// [`Scrubber::har_entry`] for entry `id` (counted from 1, as the reader numbers
    /// sessions), with `notes` for what the user should know about it (never content).
    fn har_entry_at(
        &mut self,
        id: u64,
        json: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<Vec<u8>>, String> {
        let _ = (id, notes);
        self.har_entry(json)
    }

    /// A string of the file outside any session that is the value of key `key` of an
    /// object (a HAR's `log.comment`, a custom field): its replacement, or `None` to keep it.
    fn field(&mut self, key: &str, value: &str) -> Option<String> {
        let _ = key;
        self.text(value)
    }

    /// HAR entries scrubbed one by one on other threads, for a scrubber whose every entry
    /// comes out the same whatever entries came before it: the HAR rewriter then scrubs
    /// them on the rayon pool, as the reader maps entries, and scrubbing (nearly all of a
    /// rewrite's time) is no longer done on one core. `None` (the default): each entry goes
    /// through [`Scrubber::har_entry_at`], in order, on the writing thread.
    fn har_entries(&self) -> Option<Box<dyn EntryScrubber>> {
        None
    }

    /// Add what scrubbing one entry apart counted ([`EntryScrubber::har_entry_at`],
    /// [`SazSession::saz_entry`]); called in entry order, on the writing thread.
    fn absorb(&mut self, tally: Tally) {
        let _ = tally;
    }

    /// SAZ sessions scrubbed apart on other threads, for a scrubber that carries nothing
    /// from one session to another (what it carries from a request to its response is kept
    /// by the session's own scrubber): the SAZ rewriter then reads, decrypts, inflates and
    /// scrubs each run of one session's entries on the rayon pool, and only compresses and
    /// writes on the writing thread. A session whose entries come apart in the archive is
    /// scrubbed in order by this scrubber, once everything before it is absorbed. `None`
    /// (the default): every entry goes through [`Scrubber::saz_entry`], in order.
    fn saz_sessions(&self) -> Option<Box<dyn SessionScrubber>> {
        None
    }
}

/// What [`Scrubber::saz_sessions`] hands out: a scrubber for one session at a time, on
/// any thread.
pub trait SessionScrubber: Send + Sync {
    /// A scrubber of its own for the entries of one session not seen before (or of one
    /// entry outside any session: `_index.htm`), handed them in archive order.
    fn saz_session(&self) -> Box<dyn SazSession>;
}

/// One session's scrubber ([`SessionScrubber::saz_session`]).
pub trait SazSession: Send {
    /// [`Scrubber::saz_entry`], with what scrubbing the entry counted, noted and learnt of
    /// its session, for [`Scrubber::absorb`].
    fn saz_entry(&mut self, entry: SazEntry<'_>) -> (Option<Vec<u8>>, Tally);
}

/// What [`Scrubber::har_entries`] hands out: one HAR entry at a time, on any thread.
pub trait EntryScrubber: Send + Sync {
    /// [`Scrubber::har_entry_at`] of entry `id`, by a scrubber of its own, with what that
    /// scrubber counted, for [`Scrubber::absorb`].
    fn har_entry_at(
        &self,
        id: u64,
        json: &str,
        notes: &mut Vec<String>,
    ) -> (Result<Option<Vec<u8>>, String>, Tally);
}

/// What scrubbing one entry counted, opaque to the rewriter, which hands it back to the
/// [`Scrubber`] whose [`EntryScrubber`] counted it.
pub struct Tally(pub Box<dyn Any + Send>);

/// The header a `redact` copy adds to a message whose body it changed beyond replacing
/// secrets (`body-removed`, `body-partial`, `body-unread`, `entry-damaged`): written by the
/// rewrite, read by the analysis, so that a copy reports the damage the original had.
pub const MARKER_HEADER: &str = "X-Traceadal-Redacted";
/// The body did not decode or passed a cap in the original: the copy holds a placeholder.
pub const BODY_UNREAD: &str = "body-unread";
/// The body decoded only in part in the original: the copy holds the part that did.
pub const BODY_PARTIAL: &str = "body-partial";
/// How every body placeholder a `redact` copy writes begins (a body removed, dropped by
/// `--drop-bodies-except-auth`, or undecodable): read by the analysis to say which sessions
/// of a copy lost their bodies (`analysis::limits`).
pub const PLACEHOLDER_PREFIX: &str = "[traceadal redact: ";

/// The content type a SAZ copy's placeholder names (`[traceadal redact: body removed:
/// text/html, 274 bytes stored, ...]`): the copy's own `Content-Type` is `text/plain`, the
/// placeholder's, so a parser that judges an answer by its type alone (a web page where
/// Autodiscover XML was expected) reads the original's here.
pub fn placeholder_content_type(body: &[u8]) -> Option<&str> {
    let rest = body.strip_prefix(PLACEHOLDER_PREFIX.as_bytes())?;
    let rest = rest.strip_prefix(b"body removed: ")?;
    let end = rest.iter().position(|&b| b == b',')?;
    std::str::from_utf8(&rest[..end])
        .ok()
        .filter(|t| t.contains('/'))
}

/// One entry of a SAZ archive, for [`Scrubber::saz_entry`].
pub struct SazEntry<'a> {
    /// The entry named for messages: `raw/12_c.txt`, or `entry #7` for a name that is not a
    /// session's (names are capture content).
    pub label: &'a str,
    /// The session number the name gives (`12` of `raw/12_c.txt`); `None` for
    /// `_index.htm` and the like.
    pub session: Option<u64>,
    /// What the name says the entry is; `None` for `_index.htm` and the like.
    pub kind: Option<SazEntryKind>,
    pub bytes: &'a [u8],
    /// The entry is larger than the read cap: `bytes` are only its first part.
    pub cut: bool,
    /// The entry's data was damaged after `bytes` were read (bad CRC, a damaged deflate
    /// stream): why, never content.
    pub damaged: Option<String>,
}

/// A scrubber that changes nothing: the rewrite then only re-frames the capture. For tests
/// and the fuzz target (a rewrite must read back to the same sessions).
#[derive(Debug, Default, Clone, Copy)]
pub struct Identity;

impl Scrubber for Identity {
    fn text(&mut self, _: &str) -> Option<String> {
        None
    }

    fn har_entry(&mut self, _: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }

    fn saz_entry(&mut self, _: SazEntry<'_>) -> Option<Vec<u8>> {
        None
    }
}

/// `S` with its HAR entries and SAZ sessions scrubbed one after another on the writing thread
/// (it hands out no [`EntryScrubber`] and no [`SessionScrubber`]), for the tests and the fuzz
/// target that hold the two ways equal.
#[derive(Debug, Default, Clone)]
pub struct InOrder<S>(pub S);

impl<S: Scrubber> Scrubber for InOrder<S> {
    fn text(&mut self, text: &str) -> Option<String> {
        self.0.text(text)
    }

    fn har_entry(&mut self, json: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.har_entry(json)
    }

    fn har_entry_at(
        &mut self,
        id: u64,
        json: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<Vec<u8>>, String> {
        self.0.har_entry_at(id, json, notes)
    }

    fn field(&mut self, key: &str, value: &str) -> Option<String> {
        self.0.field(key, value)
    }

    fn saz_entry(&mut self, entry: SazEntry<'_>) -> Option<Vec<u8>> {
        self.0.saz_entry(entry)
    }
}

/// How to rewrite.
#[derive(Debug, Clone, Default)]
pub struct RewriteOptions {
    /// The input's password and the read limits (entry caps), as for reading.
    pub read: ReadOptions,
    /// Encrypt the output with this password, for formats that can ([`super::formats::FormatSpec::encrypts`]).
    pub output_password: Option<Password>,
}

/// What a rewrite did.
#[derive(Debug, Clone, Default)]
pub struct Rewritten {
    /// Entries (SAZ) or sessions (HAR) written.
    pub entries: usize,
    /// What the user should know (an entry that could not be rewritten as it was). Never
    /// content.
    pub notes: Vec<String>,
    /// What was written, for the summary line: `412 entries`, `HAR 1.2, 97 entries`.
    pub what: String,
}

/// Where a rewrite writes: a zip writer needs to seek back to its local headers.
pub trait WriteSeek: Write + Seek {}

impl<T: Write + Seek> WriteSeek for T {}

#[cfg(test)]
mod placeholder_tests {
    use super::placeholder_content_type;

    #[test]
    fn the_original_type_is_read_back_from_a_placeholder_only() {
        let p = b"[traceadal redact: body removed: text/html, 274 bytes stored, why]";
        assert_eq!(placeholder_content_type(p), Some("text/html"));
        assert_eq!(
            placeholder_content_type(b"<html>body removed: text/html,"),
            None
        );
        assert_eq!(
            placeholder_content_type(b"[traceadal redact: body removed: x"),
            None
        );
        assert_eq!(placeholder_content_type(b""), None);
    }
}

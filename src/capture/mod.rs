//! Stage 1: capture file -> sessions.
//!
//! Every format is read into the same [`Session`] model. Reading streams: a caller maps
//! each session to what it needs (a listing row, auth events) and the session, with its
//! bodies, is dropped, so memory follows the largest session, not the capture.

pub mod ascii;
pub mod atom;
pub mod body;
pub mod detail;
pub mod detect;
pub mod formats;
pub mod har;
pub mod headers;
pub mod http;
pub mod netlog;
pub mod rewrite;
pub mod saz;
pub mod saz_meta;
pub mod session;
pub mod summary;
#[cfg(test)]
pub(crate) mod testkit;
pub mod url_parts;
pub mod write;
mod zip_dir;

use std::fmt;
use std::path::{Path, PathBuf};

pub use atom::{Atom, Interner};
pub use body::{BodyError, DecodeLimits, Decoded};
pub use detail::{BodyExcerpt, ResponseDetail, SessionDetail};
pub use formats::Format;
use formats::Source;
pub use headers::Headers;
pub use saz::attachments;
pub use session::{host_of, Body, Request, Response, Session, SessionFlags, Timers};
pub use summary::{Credential, Kept, SessionSummary};

/// A password for an encrypted SAZ. Its `Debug` never shows the value.
#[derive(Clone, Default)]
pub struct Password(String);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Password(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// How to read a capture.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub password: Option<Password>,
    pub limits: DecodeLimits,
}

/// A session that could not be read. The rest of the capture still is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError {
    /// The capture's number for the session, when known.
    pub session: Option<u64>,
    /// What is wrong. Never contains header or body content.
    pub message: String,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.session {
            Some(id) => write!(f, "session {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("is a directory, not a capture file")]
    Directory,
    #[error("is empty")]
    Empty,
    #[error("is neither a SAZ (zip) nor a HAR (JSON) capture: {0}")]
    UnknownFormat(String),
    #[error("is encrypted: give the password with --password-env VAR or --password-file FILE")]
    PasswordRequired,
    #[error("wrong password")]
    WrongPassword,
    #[error("damaged SAZ archive: {0}")]
    Saz(String),
    #[error("not a readable HAR: {0}")]
    Har(String),
    #[error("not a readable NetLog: {0}")]
    NetLog(String),
    /// What the format does not support (`redact` of a NetLog).
    #[error("{0}")]
    Unsupported(&'static str),
}

/// A capture that could not be read, with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct CaptureError {
    pub path: PathBuf,
    pub kind: CaptureErrorKind,
}

impl CaptureError {
    pub fn new(path: &Path, kind: CaptureErrorKind) -> Self {
        CaptureError {
            path: path.to_path_buf(),
            kind,
        }
    }
}

/// One session or the reason it could not be read.
pub type SessionResult = Result<Session, SessionError>;

/// An opened capture file.
pub struct Capture {
    path: PathBuf,
    format: Format,
    source: Source,
}

impl Capture {
    /// Open `path`, recognising the format by its content, not its name.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Capture, CaptureError> {
        let format = detect::detect_file(path).map_err(|kind| CaptureError::new(path, kind))?;
        let source =
            (formats::spec(format).open)(path, options).map_err(|k| CaptureError::new(path, k))?;
        Ok(Capture {
            path: path.to_path_buf(),
            format,
            source,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same capture, named `name` in reports and messages (`<stdin>` for what was read
    /// from standard input into a temporary file). Reading does not use the name.
    pub fn named(mut self, name: impl Into<PathBuf>) -> Self {
        self.path = name.into();
        self
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Problems with the capture that belong to no session (for a SAZ: entries with
    /// unrecognised names, session numbers without a request). Never carries content.
    pub fn warnings(&self) -> &[String] {
        self.source.warnings()
    }

    /// Read every session and map it with `f`, in parallel where the format allows, and
    /// return the results in the capture's session order. A session that cannot be read
    /// reaches `f` as an `Err` and the rest go on.
    pub fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureError>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        self.source
            .map_sessions(f)
            .map_err(|k| CaptureError::new(&self.path, k))
    }

    /// Map every session with `f` (in parallel) and hand each result to `sink` in session
    /// order, a batch at a time: memory holds one batch of results besides what `sink`
    /// keeps, where [`Capture::map_sessions`] holds all of them at once. On an error, what
    /// `sink` was given belongs to a capture that could not be read and is to be dropped.
    pub fn map_sessions_into<T, F, S>(&self, f: F, sink: S) -> Result<(), CaptureError>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
        S: FnMut(T),
    {
        self.source
            .map_sessions_into(f, sink)
            .map_err(|k| CaptureError::new(&self.path, k))
    }

    /// The number of sessions, when the format tells it before reading (SAZ: the central
    /// directory), for sizing what is collected.
    pub fn session_hint(&self) -> Option<usize> {
        self.source.session_hint()
    }
}

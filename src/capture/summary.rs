//! What is kept of every session once its bodies are dropped: enough to list it, to place
//! it on a timeline and to cite it as evidence.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::atom::{Atom, Interner};
use super::session::{Session, SessionFlags};

/// One is kept for every session until the report is written, so its strings are
/// [`Atom`]s: the collector interns them ([`SessionSummary::intern`]) and a capture's
/// thousands of identical methods, hosts, EWS URLs and processes share one copy each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub id: u64,
    pub method: Atom,
    pub url: Atom,
    pub host: Option<Atom>,
    pub status: Option<u16>,
    pub process: Option<Atom>,
    pub start: Option<DateTime<FixedOffset>>,
    pub end: Option<DateTime<FixedOffset>>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub content_type: Option<Atom>,
    pub flags: SessionFlags,
}

impl SessionSummary {
    pub fn of(session: &Session) -> Self {
        let response = session.response.as_ref();
        SessionSummary {
            id: session.id,
            method: Atom::from(&session.request.method),
            url: Atom::from(&session.request.url),
            host: session.host().map(Atom::from),
            status: response.map(|r| r.status),
            process: session.process.as_deref().map(Atom::from),
            start: session.timers.start(),
            end: session.timers.end(),
            request_bytes: session.request.body.len() as u64,
            response_bytes: response.map_or(0, |r| r.body.len() as u64),
            content_type: response.and_then(|r| r.content_type()).map(Atom::from),
            flags: session.flags,
        }
    }

    /// Share this summary's strings with equal ones seen before.
    pub fn intern(&mut self, interner: &mut Interner) {
        interner.intern(&mut self.method);
        interner.intern(&mut self.url);
        interner.intern_opt(&mut self.host);
        interner.intern_opt(&mut self.process);
        interner.intern_opt(&mut self.content_type);
    }
}

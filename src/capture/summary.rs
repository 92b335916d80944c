//! What is kept of every session once its bodies are dropped: enough to list it, to place
//! it on a timeline and to cite it as evidence.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::session::{Session, SessionFlags};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub id: u64,
    pub method: String,
    pub url: String,
    pub host: Option<String>,
    pub status: Option<u16>,
    pub process: Option<String>,
    pub start: Option<DateTime<FixedOffset>>,
    pub end: Option<DateTime<FixedOffset>>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub content_type: Option<String>,
    pub flags: SessionFlags,
}

impl SessionSummary {
    pub fn of(session: &Session) -> Self {
        let response = session.response.as_ref();
        SessionSummary {
            id: session.id,
            method: session.request.method.clone(),
            url: session.request.url.clone(),
            host: session.host(),
            status: response.map(|r| r.status),
            process: session.process.clone(),
            start: session.timers.start(),
            end: session.timers.end(),
            request_bytes: session.request.body.len() as u64,
            response_bytes: response.map_or(0, |r| r.body.len() as u64),
            content_type: response.and_then(|r| r.content_type()).map(str::to_string),
            flags: session.flags,
        }
    }
}

//! Drives the pipeline for one capture: sessions -> events -> flows -> findings.
//!
//! Sessions are mapped to their summary and events as they are read (in parallel for SAZ)
//! and their bodies dropped, so memory follows the largest session, not the capture.

use std::path::{Path, PathBuf};

use crate::auth::{self, Event};
use crate::capture::{
    Capture, CaptureError, DecodeLimits, Format, ReadOptions, SessionError, SessionResult,
    SessionSummary,
};
use crate::flows::{self, Flow};
use crate::rules::{self, Context, Finding};

/// Everything known about one capture after analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub path: PathBuf,
    pub format: Format,
    /// Every readable session, sorted by id.
    pub sessions: Vec<SessionSummary>,
    /// Sessions that could not be read, and problems of sessions that could.
    pub errors: Vec<SessionError>,
    pub events: Vec<Event>,
    pub flows: Vec<Flow>,
    pub findings: Vec<Finding>,
}

impl Analysis {
    pub fn context(&self) -> Context<'_> {
        Context {
            sessions: &self.sessions,
            events: &self.events,
            flows: &self.flows,
        }
    }
}

/// Open and analyse the capture at `path`.
pub fn analyze_path(path: &Path, options: &ReadOptions) -> Result<Analysis, CaptureError> {
    let capture = Capture::open(path, options)?;
    analyze(&capture, &options.limits)
}

/// Analyse an opened capture.
pub fn analyze(capture: &Capture, limits: &DecodeLimits) -> Result<Analysis, CaptureError> {
    let mapped = capture.map_sessions(|r: SessionResult| match r {
        Ok(session) => {
            let events = auth::events_of(&session, limits);
            let problems: Vec<SessionError> = session
                .problems
                .iter()
                .cloned()
                .chain(auth::body_problems(&session, limits))
                .map(|p| SessionError {
                    session: Some(session.id),
                    message: p,
                })
                .collect();
            (Some(SessionSummary::of(&session)), events, problems)
        }
        Err(e) => (None, Vec::new(), vec![e]),
    })?;
    let mut events = Vec::new();
    let mut errors = Vec::new();
    // `filter_map` over the `Vec`'s own iterator collects in place: the summaries reuse the
    // mapped results' buffer, so the two are never both in memory (100k sessions: tens of MB).
    let mut sessions: Vec<SessionSummary> = mapped
        .into_iter()
        .filter_map(|(summary, ev, problems)| {
            events.extend(ev);
            errors.extend(problems);
            summary
        })
        .collect();
    sessions.shrink_to_fit();
    sessions.sort_by_key(|s| s.id);
    let flows = flows::build(&events, &sessions);
    let findings = rules::run_all(&Context {
        sessions: &sessions,
        events: &events,
        flows: &flows,
    });
    Ok(Analysis {
        path: capture.path().to_path_buf(),
        format: capture.format(),
        sessions,
        errors,
        events,
        flows,
        findings,
    })
}

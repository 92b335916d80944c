//! Drives the pipeline for one capture: sessions -> events -> flows -> findings.
//!
//! Sessions are mapped to their summary and events as they are read (in parallel for SAZ)
//! and their bodies dropped, so memory follows the largest session, not the capture.

use std::path::{Path, PathBuf};

use crate::auth::{self, Event};
use crate::capture::{
    Capture, CaptureError, DecodeLimits, Format, Interner, ReadOptions, SessionError,
    SessionResult, SessionSummary,
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
///
/// Sessions are mapped in parallel a batch at a time; this thread collects each batch,
/// interning the strings every session repeats ([`crate::capture::Atom`]), so what stays
/// per session is its summary and its few events, not copies of the same host, URL and
/// user agent (docs/performance.md).
pub fn analyze(capture: &Capture, limits: &DecodeLimits) -> Result<Analysis, CaptureError> {
    let mut sessions: Vec<SessionSummary> = Vec::with_capacity(capture.session_hint().unwrap_or(0));
    let mut events: Vec<Event> = Vec::new();
    let mut errors: Vec<SessionError> = Vec::new();
    let mut interner = Interner::new();
    capture.map_sessions_into(
        |r: SessionResult| match r {
            Ok(session) => {
                let reading = auth::read_session(&session, limits);
                let events = reading.events;
                let problems: Vec<SessionError> = session
                    .problems
                    .iter()
                    .cloned()
                    .chain(reading.problems)
                    .map(|p| SessionError {
                        session: Some(session.id),
                        message: p,
                    })
                    .collect();
                (Some(SessionSummary::of(&session)), events, problems)
            }
            Err(e) => (None, Vec::new(), vec![e]),
        },
        |(summary, ev, problems)| {
            if let Some(mut summary) = summary {
                summary.intern(&mut interner);
                sessions.push(summary);
            }
            events.extend(ev.into_iter().map(|mut e| {
                e.intern(&mut interner);
                e
            }));
            errors.extend(problems);
        },
    )?;
    drop(interner);
    sessions.shrink_to_fit();
    events.shrink_to_fit();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Atom;

    /// What is kept per session shares its repeated strings: every session to one host
    /// holds the same allocation, so memory follows the distinct values, not the sessions.
    #[test]
    fn kept_summaries_share_their_repeated_strings() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/buried-in-noise.saz");
        for path in [path.clone(), path.with_extension("har")] {
            let a = analyze_path(&path, &ReadOptions::default()).unwrap();
            assert_eq!(a.sessions.len(), 415, "{}", path.display());
            let to_autodiscover: Vec<&SessionSummary> = a
                .sessions
                .iter()
                .filter(|s| s.host.as_deref() == Some("autodiscover.contoso.com"))
                .collect();
            assert!(to_autodiscover.len() >= 3, "{}", path.display());
            let first = to_autodiscover[0];
            for s in &to_autodiscover[1..] {
                let (h1, h2) = (first.host.as_ref().unwrap(), s.host.as_ref().unwrap());
                assert!(Atom::ptr_eq(h1, h2), "{} session {}", path.display(), s.id);
                assert!(Atom::ptr_eq(&first.method, &s.method) || first.method != s.method);
            }
            // The findings are the same as before interning: the loop and its missing SPN.
            assert!(a.findings.iter().any(|f| f.id == "spn-missing"));
        }
    }
}

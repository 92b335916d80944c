//! Drives the pipeline for one capture: sessions -> events -> flows -> findings, and the
//! judgements made from them (the verdict, the AADSTS summary, per-session facts), so that
//! the report only maps what is computed here.
//!
//! Sessions are mapped to their summary and events as they are read (in parallel for SAZ)
//! and their bodies dropped, so memory follows the largest session, not the capture.

mod collector;
pub mod coverage;
mod facts;
pub mod limits;
mod verdict;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use collector::{Collector, Mapped};
pub use coverage::Coverage;
pub use facts::{AadstsSeen, SessionFacts};
pub use limits::Limit;
pub use verdict::{Status, Verdict};

use crate::auth::Event;
use crate::capture::SessionSummary;
use crate::capture::{Capture, CaptureError, DecodeLimits, Format, ReadOptions, SessionError};
use crate::flows::Flow;
use crate::rules::{Context, Finding, MissingSpn};

/// Everything known about one capture after analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub path: PathBuf,
    pub format: Format,
    /// Every readable session, sorted by id.
    pub sessions: Vec<SessionSummary>,
    /// Sessions that could not be read, and problems of sessions that could.
    pub errors: Vec<SessionError>,
    /// Every auth event, sorted by session (a session's in the order they were read).
    pub events: Vec<Event>,
    pub flows: Vec<Flow>,
    pub findings: Vec<Finding>,
    /// For each flow (same index), the finding it is evidence of: the most severe finding
    /// citing any of its sessions.
    pub explained_by: Vec<Option<String>>,
    /// The SPNs Entra ID could not find, with what proves them.
    pub missing_spns: Vec<MissingSpn>,
    /// Every AADSTS code seen, per resource.
    pub aadsts: Vec<AadstsSeen>,
    /// What the capture can show: decrypted traffic to the hosts the diagnosis needs, and
    /// the hosts seen only as undecrypted tunnels.
    pub coverage: Coverage,
    /// What the capture cannot show and what to do differently when capturing again;
    /// empty when nothing limits it.
    pub limits: Vec<Limit>,
    pub verdict: Verdict,
}

impl Analysis {
    pub fn context(&self) -> Context<'_> {
        Context::new(&self.sessions, &self.events, &self.flows)
    }

    /// What the diagrams label a session with; `None` when it has no auth event.
    pub fn facts(&self, session: u64) -> Option<SessionFacts> {
        facts::of_session(&self.events, session)
    }

    /// The sessions a report cites: every flow's, and every one a finding or an AADSTS code
    /// names. What a detailed renderer (the HTML page) shows in full.
    pub fn cited_sessions(&self) -> BTreeSet<u64> {
        let mut ids = BTreeSet::new();
        for f in &self.flows {
            ids.extend(f.sessions.iter().copied());
        }
        for f in &self.findings {
            ids.extend(f.sessions.iter().copied());
        }
        for a in &self.aadsts {
            ids.extend(a.sessions.iter().copied());
        }
        ids
    }
}

/// Open and analyse the capture at `path`.
pub fn analyze_path(path: &Path, options: &ReadOptions) -> Result<Analysis, CaptureError> {
    let capture = Capture::open(path, options)?;
    analyze(&capture, &options.limits)
}

/// Analyse an opened capture.
///
/// Sessions are mapped in parallel a batch at a time; this thread collects each batch into
/// the [`Collector`], which interns the strings every session repeats
/// ([`crate::capture::Atom`]), so what stays per session is its summary and its few events,
/// not copies of the same host, URL and user agent (docs/performance.md).
pub fn analyze(capture: &Capture, limits: &DecodeLimits) -> Result<Analysis, CaptureError> {
    Ok(collect(capture, limits)?.finish(capture.path(), capture.format()))
}

/// The first half of [`analyze`]: every session read into the collector, nothing judged
/// yet. A caller with work of its own for the end of the run (`analyze` compiling the finders
/// that redact its report) does it beside [`Collector::finish`].
pub fn collect(capture: &Capture, limits: &DecodeLimits) -> Result<Collector, CaptureError> {
    let mut collector = Collector::new(*limits, capture.session_hint().unwrap_or(0));
    for warning in capture.warnings() {
        collector.note(warning);
    }
    capture.map_sessions_into(|r| Collector::map(limits, r), |m| collector.push(m))?;
    Ok(collector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Atom;

    /// A session's facts are found among the sorted events: exactly the sessions with an
    /// event have them, and they say what those events say (docs/performance.md: no map of
    /// every session is kept for them).
    #[test]
    fn facts_of_a_session_come_from_its_own_events() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/healthy-workday.saz");
        let a = analyze_path(&path, &ReadOptions::default()).unwrap();
        let last = a.sessions.last().unwrap().id;
        let (mut issued, mut challenged) = (0, 0);
        for id in 0..=last + 1 {
            let own: Vec<&Event> = a.events.iter().filter(|e| e.session() == id).collect();
            let Some(f) = a.facts(id) else {
                assert!(own.is_empty(), "session {id}");
                continue;
            };
            assert!(!own.is_empty(), "session {id}");
            let tokens = own.iter().any(|e| {
                matches!(e, Event::TokenResult(r)
                    if matches!(r.outcome, crate::auth::TokenOutcome::Issued { .. }))
            });
            assert_eq!(f.token_issued, tokens, "session {id}");
            issued += usize::from(f.token_issued);
            challenged += usize::from(f.bearer.is_some());
        }
        assert!(issued > 0 && challenged > 0, "{issued} {challenged}");
    }

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

//! The one wiring of the pipeline. `analysis::analyze`, the rules' test kit, the fuzz targets
//! and the test fixtures all push sessions in here, so what they exercise is what ships.
//!
//! Mapping a session ([`Collector::map`]) needs no state and runs on any thread (the
//! readers call it on the rayon pool); collecting ([`Collector::push`]) runs on one thread,
//! in session order, and keeps only the summary and events; [`Collector::finish`] runs the
//! later stages once every session is in.

use std::path::Path;

use super::{coverage, facts, limits, verdict, Analysis};
use crate::auth::{self, Event};
use crate::capture::{
    DecodeLimits, Format, Interner, Session, SessionError, SessionResult, SessionSummary,
};
use crate::flows;
use crate::rules::{self, Context};

/// What one session leaves once mapped: its summary (none when it could not be read), its
/// auth events and its problems.
pub struct Mapped {
    summary: Option<SessionSummary>,
    events: Vec<Event>,
    problems: Vec<SessionError>,
}

impl Mapped {
    /// The session's summary; `None` when it could not be read.
    pub fn summary(&self) -> Option<&SessionSummary> {
        self.summary.as_ref()
    }

    /// What is wrong with the session (the reader's problems and body damage), or why it
    /// could not be read.
    pub fn problems(&self) -> &[SessionError] {
        &self.problems
    }
}

/// Sessions collected so far.
pub struct Collector {
    sessions: Vec<SessionSummary>,
    events: Vec<Event>,
    errors: Vec<SessionError>,
    interner: Interner,
    limits: DecodeLimits,
}

impl Collector {
    /// `hint`: how many sessions to make room for.
    pub fn new(limits: DecodeLimits, hint: usize) -> Self {
        Collector {
            sessions: Vec::with_capacity(hint),
            events: Vec::new(),
            errors: Vec::new(),
            interner: Interner::new(),
            limits,
        }
    }

    /// Map one session as analysis reads it: its summary, its auth events, and the damage
    /// found by the reader and in the bodies the parsers decoded.
    pub fn map(limits: &DecodeLimits, r: SessionResult) -> Mapped {
        match r {
            Ok(session) => {
                let reading = auth::read_session(&session, limits);
                let problems = session
                    .problems
                    .iter()
                    .cloned()
                    .chain(reading.problems)
                    .map(|message| SessionError {
                        session: Some(session.id),
                        message,
                    })
                    .collect();
                Mapped {
                    summary: Some(SessionSummary::of(&session)),
                    events: reading.events,
                    problems,
                }
            }
            Err(e) => Mapped {
                summary: None,
                events: Vec::new(),
                problems: vec![e],
            },
        }
    }

    /// Keep what a mapped session leaves, interning its repeated strings.
    pub fn push(&mut self, m: Mapped) {
        if let Some(mut summary) = m.summary {
            summary.intern(&mut self.interner);
            self.sessions.push(summary);
        }
        let interner = &mut self.interner;
        self.events.extend(m.events.into_iter().map(|mut e| {
            e.intern(interner);
            e
        }));
        self.errors.extend(m.problems);
    }

    /// Keep a problem of the capture as a whole (no session): what its reader noticed.
    pub fn note(&mut self, message: &str) {
        self.errors.push(SessionError {
            session: None,
            message: message.to_string(),
        });
    }

    /// Map and keep one session (the serial path: tests, fuzzing, hand-built sessions).
    pub fn push_session(&mut self, session: Session) {
        let m = Self::map(&self.limits, Ok(session));
        self.push(m);
    }

    /// Build the flows, run the rules and judge: the analysis of everything pushed.
    pub fn finish(self, path: &Path, format: Format) -> Analysis {
        let Collector {
            mut sessions,
            mut events,
            errors,
            interner,
            ..
        } = self;
        drop(interner);
        sessions.shrink_to_fit();
        events.shrink_to_fit();
        sessions.sort_by_key(|s| s.id);
        // Sessions arrive in id order, so this stable sort only checks that; it makes the
        // order `Context` relies on (session, then the order a session's events were read)
        // hold whatever order a reader hands sessions in.
        events.sort_by_key(Event::session);
        let flows = flows::build(&events, &sessions);
        let cx = Context::new(&sessions, &events, &flows);
        // The rules spread over the pool themselves; the coverage is left on this thread: run
        // beside them (`rayon::join`) it saved ~2 ms of the 10k HAR and cost 3 MiB of the
        // 100k SAZ's peak RSS.
        let findings = rules::run_all(&cx);
        let missing_spns = cx.missing_spns();
        let aadsts = facts::aadsts_seen(&events, &flows);
        let coverage = coverage::measure(&sessions, &events, &errors);
        let limits = limits::measure(&limits::Evidence {
            sessions: &sessions,
            events: &events,
            flows: &flows,
            coverage: &coverage,
            errors: &errors,
            format,
            now: chrono::Utc::now().fixed_offset(),
        });
        let explained_by = flows
            .iter()
            .map(|flow| {
                findings
                    .iter()
                    .find(|f| {
                        f.sessions
                            .iter()
                            .any(|s| flow.sessions.binary_search(s).is_ok())
                    })
                    .map(|f| f.id.clone())
            })
            .collect();
        let verdict = verdict::judge(&verdict::Evidence {
            findings: &findings,
            flows: &flows,
            missing: &missing_spns,
            coverage: &coverage,
            capture_notes: errors
                .iter()
                .filter(|e| e.session.is_none())
                .map(|e| e.message.as_str())
                .collect(),
            format: &format.as_str().to_ascii_uppercase(),
        });
        Analysis {
            path: path.to_path_buf(),
            format,
            sessions,
            errors,
            events,
            flows,
            findings,
            explained_by,
            missing_spns,
            aadsts,
            coverage,
            limits,
            verdict,
        }
    }
}

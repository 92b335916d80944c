//! Stage 2: session -> auth events.
//!
//! Each event is derived from exactly one session and knows nothing of the others; tying
//! them together is the flows stage's work. Bodies are decoded only for the sessions whose
//! host or path says an event may be inside (login endpoints, EWS SOAP), so a capture of
//! thousands of CDN and telemetry sessions costs almost nothing here.
//!
//! No event holds a token, code, password or cookie: where a credential is evidence (the
//! Bearer token Outlook presented), only its decoded claims are kept.

pub mod aadsts;
pub mod challenge;
pub mod diagnostics;
pub mod ews;
pub mod jwt;
pub mod login;
mod text;
pub mod token_result;

use serde::Serialize;

use crate::capture::{DecodeLimits, Session};

pub use challenge::{AuthScheme, BearerChallenge, Challenge};
pub use diagnostics::ExchangeDiagnostic;
pub use ews::DelegateCheck;
pub use jwt::Claims;
pub use login::{LoginKind, LoginRequest};
pub use token_result::{AadError, ErrorSource, TokenOutcome, TokenResult};

/// Something an auth rule may care about, seen in one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A 401 (or 403) with its `WWW-Authenticate` schemes and `x-ms-diagnostics`.
    Challenge(Challenge),
    /// An authorize or token request to an Entra ID (Azure AD) authority.
    Login(LoginRequest),
    /// What the authority answered: a token, or an AAD error with its AADSTS codes.
    TokenResult(TokenResult),
    /// An `x-ms-diagnostics` header on a response that was not a 401.
    Diagnostic {
        session: u64,
        url: String,
        diagnostic: ExchangeDiagnostic,
    },
    /// A Bearer token presented to a non-login host, by its claims only.
    BearerPresented {
        session: u64,
        url: String,
        claims: Claims,
    },
    /// An EWS `GetDelegate` request and what it answered.
    Delegate(DelegateCheck),
}

impl Event {
    pub fn session(&self) -> u64 {
        match self {
            Event::Challenge(c) => c.session,
            Event::Login(l) => l.session,
            Event::TokenResult(t) => t.session,
            Event::Diagnostic { session, .. } => *session,
            Event::BearerPresented { session, .. } => *session,
            Event::Delegate(d) => d.session,
        }
    }
}

/// Every auth event in one session, in a stable order (request-side events first).
pub fn events_of(session: &Session, limits: &DecodeLimits) -> Vec<Event> {
    let mut events = Vec::new();
    if let Some(login) = login::login_request(session, limits) {
        events.push(Event::Login(login));
        if let Some(result) = token_result::token_result(session, limits) {
            events.push(Event::TokenResult(result));
        }
    } else if let Some(presented) = jwt::presented_bearer(session) {
        events.push(presented);
    }
    if let Some(challenge) = challenge::challenge(session) {
        events.push(Event::Challenge(challenge));
    } else if let Some(diag) = diagnostics::on_response(session) {
        events.push(diag);
    }
    if let Some(check) = ews::delegate_check(session, limits) {
        events.push(Event::Delegate(check));
    }
    events
}

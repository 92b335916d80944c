//! Exchange's `x-ms-diagnostics` header: `2000001;reason="...";error_category="invalid_token"`.
//! TODO(auth helper): implement.

use serde::Serialize;

use super::Event;
use crate::capture::Session;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeDiagnostic {
    /// The numeric code as sent (unknown codes are data, not errors).
    pub code: String,
    pub reason: Option<String>,
    pub error_category: Option<String>,
}

impl ExchangeDiagnostic {
    /// Parse one header value.
    pub fn parse(value: &str) -> Option<ExchangeDiagnostic> {
        let _ = value;
        None
    }

    /// One line on what the code means, when it is known.
    pub fn meaning(&self) -> Option<&'static str> {
        None
    }
}

/// A diagnostic on a non-401 response, as an event.
pub fn on_response(session: &Session) -> Option<Event> {
    let _ = session;
    None
}

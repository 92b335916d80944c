//! What an authority answered: a token (never kept), or an AAD error with every AADSTS code.
//! TODO(auth helper): implement.

use serde::Serialize;

use crate::capture::{DecodeLimits, Session};

/// Where the error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSource {
    /// The token endpoint's JSON 400.
    Json,
    /// A redirect to the redirect URI with `error=...&error_description=...`.
    Redirect,
    /// The HTML sign-in page's `$Config`.
    SignInPage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AadError {
    pub source: ErrorSource,
    /// OAuth `error` (`invalid_resource`, `invalid_grant`, ...).
    pub error: Option<String>,
    /// Redacted `error_description`, first line.
    pub description: Option<String>,
    /// Every AADSTS code, in order, without duplicates.
    pub codes: Vec<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
    /// The resource principal or application named in the message (500011 / 50001).
    pub resource_named: Option<String>,
    /// The tenant named in the message.
    pub tenant_named: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TokenOutcome {
    /// A token was issued. The token itself is never kept.
    Issued {
        token_type: Option<String>,
        resource: Option<String>,
        scope: Option<String>,
        expires_in: Option<u64>,
    },
    AadError(AadError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResult {
    pub session: u64,
    pub status: u16,
    pub outcome: TokenOutcome,
}

/// Extract every AADSTS code from free text (`AADSTS500011: ...`).
pub fn aadsts_codes(text: &str) -> Vec<u32> {
    let _ = text;
    Vec::new()
}

/// The token result in a login session's response, if there is one.
pub fn token_result(session: &Session, limits: &DecodeLimits) -> Option<TokenResult> {
    let _ = (session, limits);
    None
}

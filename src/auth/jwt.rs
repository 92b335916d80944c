//! JWT claim decoding. Returns the claims only: never the signature, never the raw token.
//! TODO(auth helper): implement.

use serde::Serialize;

use super::Event;
use crate::capture::Session;

/// The claims of a JWT, as the analyst needs them. The full claim set is in `all`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Claims {
    pub aud: Option<String>,
    pub iss: Option<String>,
    pub tid: Option<String>,
    pub appid: Option<String>,
    pub upn: Option<String>,
    pub exp: Option<i64>,
    pub scp: Option<String>,
    /// Every claim of the payload (never the signature).
    pub all: serde_json::Map<String, serde_json::Value>,
}

/// Decode the payload of a compact JWT (`header.payload.signature`).
pub fn decode_claims(token: &str) -> Result<Claims, String> {
    let _ = token;
    Err("not implemented".into())
}

/// The Bearer token a request presented to a non-login host, by its claims.
pub fn presented_bearer(session: &Session) -> Option<Event> {
    let _ = session;
    None
}

//! Requests to Entra ID authorities: authorize, token, and the sign-in pages between.
//! TODO(auth helper): implement.

use serde::Serialize;

use crate::capture::{DecodeLimits, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginKind {
    /// `/oauth2/authorize` or `/oauth2/v2.0/authorize`.
    Authorize,
    /// `/oauth2/token` or `/oauth2/v2.0/token`.
    Token,
    /// Any other page of the authority (sign-in form posts, `/common/login`, ...).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginRequest {
    pub session: u64,
    pub kind: LoginKind,
    /// The authority host, lower-cased (`login.microsoftonline.com`).
    pub authority: String,
    /// The tenant path segment: `common`, `organizations`, a GUID or a domain.
    pub tenant: Option<String>,
    /// v2.0 endpoint (`scope` instead of `resource`).
    pub v2: bool,
    /// `resource`, or the resource part of a v2 `scope` (`https://host/.default` -> `https://host`).
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub grant_type: Option<String>,
    pub redirect_uri: Option<String>,
    pub login_hint: Option<String>,
    pub client_request_id: Option<String>,
    pub prompt: Option<String>,
    /// Sent by the Windows broker (WAM): the parameters came from the `request=` JWT.
    pub wam: bool,
    pub process: Option<String>,
}

/// Whether `host` is an Entra ID authority (public and sovereign clouds).
pub fn is_authority_host(host: &str) -> bool {
    let _ = host;
    false
}

/// The login request in `session`, if it went to an authority.
pub fn login_request(session: &Session, limits: &DecodeLimits) -> Option<LoginRequest> {
    let _ = (session, limits);
    None
}

/// The name of a well-known client id. TODO(auth helper): the real table.
pub fn client_name(id: &str) -> Option<&'static str> {
    match id.to_ascii_lowercase().as_str() {
        "d3590ed6-52b3-4102-aeff-aad2292ab01c" => Some("Microsoft Office"),
        _ => None,
    }
}

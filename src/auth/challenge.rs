//! `WWW-Authenticate` challenges on 401 responses.
//! TODO(auth helper): implement the parser.

use serde::Serialize;

use super::diagnostics::ExchangeDiagnostic;
use crate::capture::Session;

/// One scheme of a `WWW-Authenticate` header, with its parameters as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthScheme {
    /// The scheme name as sent (`Bearer`, `NTLM`, `Negotiate`, `Basic`).
    pub name: String,
    /// `key=value` parameters, keys lower-cased, values unquoted and unescaped.
    pub params: Vec<(String, String)>,
    /// A token68 blob (NTLM/Negotiate continuation). Kept only as its length: it is a secret.
    pub token68_len: Option<usize>,
}

impl AuthScheme {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The parameters of Exchange's hybrid Bearer challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BearerChallenge {
    pub client_id: Option<String>,
    /// `<issuer-guid>@<tenant-guid>` pairs.
    pub trusted_issuers: Vec<String>,
    /// The tenant GUIDs after `@` in `trusted_issuers`.
    pub tenant_ids: Vec<String>,
    pub token_types: Option<String>,
    /// Present when hybrid modern auth is on: where the client must get its token.
    pub authorization_uri: Option<String>,
    pub error: Option<String>,
}

/// A 401 (or 403 with `WWW-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    pub session: u64,
    pub url: String,
    /// Lower-cased host of `url`.
    pub host: String,
    pub status: u16,
    pub process: Option<String>,
    pub schemes: Vec<AuthScheme>,
    pub diagnostics: Option<ExchangeDiagnostic>,
}

impl Challenge {
    /// The Bearer scheme's parameters, when one was offered.
    pub fn bearer(&self) -> Option<BearerChallenge> {
        let _ = self;
        None
    }

    /// The resource a client asks Entra for: scheme://host of the challenged URL.
    pub fn resource(&self) -> String {
        String::new()
    }
}

/// Parse every scheme of every `WWW-Authenticate` value (repeated or comma-folded).
pub fn parse_www_authenticate<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<AuthScheme> {
    let _ = values.into_iter();
    Vec::new()
}

/// The challenge in `session`, if its response is one.
pub fn challenge(session: &Session) -> Option<Challenge> {
    let _ = session;
    None
}

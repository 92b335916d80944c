//! What is kept of every session once its bodies are dropped: enough to list it, to place
//! it on a timeline and to cite it as evidence.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::atom::{Atom, Interner};
use super::session::{Session, SessionFlags};
use super::url_parts::UrlParts;

/// One is kept for every session until the report is written, so its strings are
/// [`Atom`]s: the collector interns them ([`SessionSummary::intern`]) and a capture's
/// thousands of identical methods, hosts, EWS URLs and processes share one copy each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub id: u64,
    /// Fiddler's id of the session (`Session::fiddler_id`), SAZ only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fiddler_id: Option<u64>,
    pub method: Atom,
    pub url: Atom,
    pub host: Option<Atom>,
    pub status: Option<u16>,
    pub process: Option<Atom>,
    pub start: Option<DateTime<FixedOffset>>,
    pub end: Option<DateTime<FixedOffset>>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub content_type: Option<Atom>,
    pub flags: SessionFlags,
    /// The kind of credential the request carried, never the credential: whether a client
    /// answered Exchange's Bearer offer with a token or with Basic/NTLM/Negotiate, and
    /// whether a 401 refused a token it was just given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// What the capture kept of the session beyond its heads' schemes: whether it holds a
    /// cookie at all and whether a body was cut or removed. What `analysis::limits` reads to
    /// say what a capture cannot show (a sanitized HAR, a copy without bodies).
    #[serde(skip)]
    pub kept: Kept,
}

/// What a capture kept of one session (never the values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kept {
    /// A `Cookie` request header or a `Set-Cookie` response header is present.
    pub cookies: bool,
    /// A body was stored cut short (a size cap, Fiddler dropping it, a truncated archive).
    pub body_cut: bool,
    /// A body is a `traceadal redact` placeholder: the copy does not hold it.
    pub body_removed: bool,
}

impl Kept {
    fn of(session: &Session) -> Kept {
        let response = session.response.as_ref();
        let placeholder = |b: &super::Body| {
            b.raw
                .starts_with(super::rewrite::PLACEHOLDER_PREFIX.as_bytes())
        };
        Kept {
            cookies: session.request.headers.get("cookie").is_some()
                || response.is_some_and(|r| r.headers.get("set-cookie").is_some()),
            body_cut: session.request.body.truncated || response.is_some_and(|r| r.body.truncated),
            body_removed: placeholder(&session.request.body)
                || response.is_some_and(|r| placeholder(&r.body)),
        }
    }
}

/// The scheme of a request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Credential {
    Bearer,
    Basic,
    /// `NTLM`, or `Negotiate` carrying an NTLM message (`TlRMTVNT...`): no Kerberos ticket.
    Ntlm,
    /// `Negotiate` with a Kerberos (SPNEGO) token.
    Negotiate,
    Other,
}

impl Credential {
    /// The scheme of an `Authorization` value; `None` for an empty one.
    pub fn of(value: &str) -> Option<Credential> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.is_empty() {
            return None;
        }
        let is = |name: &str| scheme.eq_ignore_ascii_case(name);
        Some(if is("Bearer") {
            Credential::Bearer
        } else if is("Basic") {
            Credential::Basic
        } else if is("NTLM") || (is("Negotiate") && rest.trim_start().starts_with("TlRMTVNT")) {
            Credential::Ntlm
        } else if is("Negotiate") {
            Credential::Negotiate
        } else {
            Credential::Other
        })
    }

    /// Basic, NTLM or Negotiate: what a client sends when it does not use modern auth.
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            Credential::Basic | Credential::Ntlm | Credential::Negotiate
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Bearer => "Bearer",
            Credential::Basic => "Basic",
            Credential::Ntlm => "NTLM",
            Credential::Negotiate => "Negotiate (Kerberos)",
            Credential::Other => "another scheme",
        }
    }
}

impl SessionSummary {
    /// Fiddler's id when it is not the session number (an archive of selected sessions):
    /// the only case where a view shows it beside the number.
    pub fn other_fiddler_id(&self) -> Option<u64> {
        self.fiddler_id.filter(|f| *f != self.id)
    }

    pub fn of(session: &Session) -> Self {
        let response = session.response.as_ref();
        SessionSummary {
            id: session.id,
            fiddler_id: session.fiddler_id,
            method: Atom::from(&session.request.method),
            url: Atom::from(&session.request.url),
            // Borrowed from the URL unless upper case: one copy, the atom's.
            host: session
                .host_in(&UrlParts::split(&session.request.url))
                .map(|h| Atom::from(h.as_ref())),
            status: response.map(|r| r.status),
            process: session.process.as_deref().map(Atom::from),
            start: session.timers.start(),
            end: session.timers.end(),
            request_bytes: session.request.body.len() as u64,
            response_bytes: response.map_or(0, |r| r.body.len() as u64),
            content_type: response.and_then(|r| r.content_type()).map(Atom::from),
            flags: session.flags,
            credential: session
                .request
                .headers
                .get("authorization")
                .and_then(Credential::of),
            kept: Kept::of(session),
        }
    }

    /// Share this summary's strings with equal ones seen before.
    pub fn intern(&mut self, interner: &mut Interner) {
        interner.intern(&mut self.method);
        interner.intern(&mut self.url);
        interner.intern_opt(&mut self.host);
        interner.intern_opt(&mut self.process);
        interner.intern_opt(&mut self.content_type);
    }
}

#[cfg(test)]
mod tests {
    use super::Credential;

    #[test]
    fn credential_scheme_of_an_authorization_value() {
        assert_eq!(Credential::of("Bearer eyJ0eXAi"), Some(Credential::Bearer));
        assert_eq!(Credential::of("basic dXNlcjpw"), Some(Credential::Basic));
        assert_eq!(Credential::of("NTLM TlRMTVNTUAAB"), Some(Credential::Ntlm));
        assert_eq!(
            Credential::of("Negotiate TlRMTVNTUAABAAAA"),
            Some(Credential::Ntlm)
        );
        assert_eq!(
            Credential::of("Negotiate YIIHXAYGKwYBBQUCoIIH"),
            Some(Credential::Negotiate)
        );
        assert_eq!(
            Credential::of("MSAuth1.0 PFAToken"),
            Some(Credential::Other)
        );
        assert_eq!(Credential::of("  "), None);
        assert!(Credential::Basic.is_legacy() && !Credential::Bearer.is_legacy());
    }
}

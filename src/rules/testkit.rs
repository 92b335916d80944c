//! Hand-built sessions for the rules' unit tests: they go through the real auth parsers
//! (`events_of`) and flow builder, so a rule is tested on the events it will really get.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{Context, Finding};
use crate::auth::{events_of, Event};
use crate::capture::{Body, DecodeLimits, Request, Response, Session, SessionSummary};
use crate::flows::{self, Flow};

pub const HMA: &str = r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@72f988bf-0000-4000-8000-0123456789ab", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token""#;
pub const NO_TOKEN_DIAG: &str =
    r#"2000001;reason="The token has an invalid signature.";error_category="invalid_token""#;
pub const OAUTH_NOT_AVAILABLE: &str = r#"4000000;reason="Flighting is not enabled for domain 'contoso.com'.";error_category="oauth_not_available""#;

/// A session builder.
pub struct S(pub Session);

impl S {
    pub fn new(id: u64, method: &str, url: &str, status: u16) -> S {
        S(Session {
            id,
            process: Some("outlook:4242".into()),
            request: Request {
                method: method.into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                ..Request::default()
            },
            response: Some(Response {
                version: "HTTP/1.1".into(),
                status,
                ..Response::default()
            }),
            ..Session::default()
        })
    }

    pub fn req_header(mut self, k: &str, v: &str) -> S {
        self.0.request.headers.push(k, v);
        self
    }

    pub fn resp_header(mut self, k: &str, v: &str) -> S {
        if let Some(r) = self.0.response.as_mut() {
            r.headers.push(k, v);
        }
        self
    }

    pub fn req_body(mut self, b: &str) -> S {
        self.0.request.body = body(b);
        self
    }

    pub fn resp_body(mut self, b: &str) -> S {
        if let Some(r) = self.0.response.as_mut() {
            r.body = body(b);
        }
        self
    }

    /// `WWW-Authenticate` once per scheme.
    pub fn offers(mut self, schemes: &[&str]) -> S {
        for s in schemes {
            self = self.resp_header("WWW-Authenticate", s);
        }
        self
    }

    pub fn diag(self, v: &str) -> S {
        self.resp_header("X-MS-Diagnostics", v)
    }

    /// `Authorization: Bearer <a JWT with these claims>`.
    pub fn bearer(self, claims_json: &str) -> S {
        let token = format!(
            "{}.{}.U0lHTkFUVVJFLVNFQ1JFVA",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims_json)
        );
        self.req_header("Authorization", &format!("Bearer {token}"))
    }

    pub fn process(mut self, p: &str) -> S {
        self.0.process = Some(p.into());
        self
    }
}

fn body(s: &str) -> Body {
    Body {
        raw: s.as_bytes().to_vec(),
        wire: false,
        truncated: false,
    }
}

/// What `analysis` would hold for these sessions.
pub struct Built {
    pub sessions: Vec<SessionSummary>,
    pub events: Vec<Event>,
    pub flows: Vec<Flow>,
}

impl Built {
    pub fn cx(&self) -> Context<'_> {
        Context {
            sessions: &self.sessions,
            events: &self.events,
            flows: &self.flows,
        }
    }
}

pub fn build(sessions: Vec<S>) -> Built {
    let limits = DecodeLimits::default();
    let mut summaries = Vec::new();
    let mut events = Vec::new();
    for S(s) in sessions {
        events.extend(events_of(&s, &limits));
        summaries.push(SessionSummary::of(&s));
    }
    summaries.sort_by_key(|s| s.id);
    let flows = flows::build(&events, &summaries);
    Built {
        sessions: summaries,
        events,
        flows,
    }
}

/// Run one rule over these sessions.
pub fn run(rule: fn(&Context) -> Vec<Finding>, sessions: Vec<S>) -> Vec<Finding> {
    let b = build(sessions);
    rule(&b.cx())
}

/// No finding may carry a token: the fake signature and payload must not appear.
pub fn assert_no_token(findings: &[Finding]) {
    let json = serde_json::to_string(findings).unwrap_or_default();
    assert!(!json.contains("U0lHTkFUVVJF"), "{json}");
    assert!(!json.contains("eyJ"), "{json}");
}

/// The markdown report of these sessions, through the redaction layer, as `analyze` prints it.
pub fn markdown(sessions: Vec<S>) -> String {
    let b = build(sessions);
    let findings = super::run_all(&b.cx());
    let analysis = crate::analysis::Analysis {
        path: "hand-built.saz".into(),
        format: crate::capture::Format::Saz,
        sessions: b.sessions,
        errors: Vec::new(),
        events: b.events,
        flows: b.flows,
        findings,
    };
    let report = crate::report::Report::new(&analysis);
    let mut out = Vec::new();
    let _ = crate::report::markdown::write(&mut out, &report);
    let text = String::from_utf8_lossy(&out).into_owned();
    crate::redact::Redactor::new(false).text(&text).into_owned()
}

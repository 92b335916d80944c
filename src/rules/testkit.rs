//! Hand-built sessions for the rules' unit tests: they go through the pipeline `analyze`
//! runs (the collector: auth parsers, flow builder), so a rule is tested on the events it
//! will really get.

use std::path::Path;

use super::{Context, Finding};
use crate::analysis::{Analysis, Collector};
pub use crate::capture::testkit::S;
use crate::capture::{DecodeLimits, Format};

pub const HMA: &str = r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@72f988bf-0000-4000-8000-0123456789ab", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token""#;
pub const NO_TOKEN_DIAG: &str =
    r#"2000001;reason="The token has an invalid signature.";error_category="invalid_token""#;
pub const OAUTH_NOT_AVAILABLE: &str = r#"4000000;reason="Flighting is not enabled for domain 'contoso.com'.";error_category="oauth_not_available""#;

/// The analysis of these sessions, through the pipeline `analyze` runs
/// ([`crate::analysis::Collector`]): the real auth parsers, flow builder and rules.
pub fn build(sessions: Vec<S>) -> Analysis {
    let mut collector = Collector::new(DecodeLimits::default(), sessions.len());
    for S(s) in sessions {
        collector.push_session(s);
    }
    collector.finish(Path::new("hand-built.saz"), Format::Saz)
}

/// Run one rule over these sessions.
pub fn run(rule: fn(&Context) -> Vec<Finding>, sessions: Vec<S>) -> Vec<Finding> {
    rule(&build(sessions).context())
}

/// No finding may carry a token: the fake signature and payload must not appear.
pub fn assert_no_token(findings: &[Finding]) {
    let json = serde_json::to_string(findings).unwrap_or_default();
    assert!(!json.contains("U0lHTkFUVVJF"), "{json}");
    assert!(!json.contains("eyJ"), "{json}");
}

/// The markdown report of these sessions, through the redaction layer, as `analyze` prints it.
pub fn markdown(sessions: Vec<S>) -> String {
    let report = crate::report::Report::new(&build(sessions));
    let mut out = Vec::new();
    let _ = crate::report::markdown::write(&mut out, &report);
    let text = String::from_utf8_lossy(&out).into_owned();
    crate::redact::Redactor::new(false).text(&text).into_owned()
}

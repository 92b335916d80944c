//! Stage 3: auth events -> flows.
//!
//! A flow is one client getting (or failing to get) a token for one resource: the Bearer
//! challenge from the on-premises host, the authorize and token requests to Entra ID that
//! follow for that resource, and what Entra answered. A loop is a flow tried again and again:
//! the white box in Outlook is a flow with six attempts ending in AADSTS500011.

mod correlate;
pub mod judge;
pub mod resource;

use serde::Serialize;

pub use correlate::build;
pub use judge::State;
pub use resource::Resource;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A token was issued.
    Token,
    /// Entra ID answered with an AAD error.
    AadError,
    /// No answer was recorded (aborted, or the user never finished signing in).
    NoResponse,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Token => "token",
            Outcome::AadError => "aad_error",
            Outcome::NoResponse => "no_response",
        }
    }
}

/// One round of challenge -> login -> answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The 401 sessions that started it (several when the client probes more than one URL).
    pub challenges: Vec<u64>,
    /// The authorize / token requests.
    pub logins: Vec<u64>,
    /// The session in which the outcome was seen.
    pub result: Option<u64>,
    pub outcome: Outcome,
    pub aadsts: Vec<u32>,
    /// The issued token's lifetime in seconds (`expires_in`), when Entra gave one.
    pub expires_in: Option<u64>,
}

/// One flow. It is also the report's `loops[]` entry (`docs/report-schema.md`): the fields
/// are in the contract's order and serialise as the contract names them, so the report
/// holds flows, not a copy of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// The resource the client asked a token for, normalised.
    pub resource: Resource,
    /// The host whose 401 started the flow, when one did.
    pub challenge_host: Option<String>,
    pub authority: Option<String>,
    /// The best tenant identifier for a fix script: a GUID or domain from the token endpoint
    /// path, else the tenant GUID from `trusted_issuers`, else a domain named by Entra.
    pub tenant: Option<String>,
    /// The tenant's name as Entra's error message gives it (often a display name).
    pub tenant_name: Option<String>,
    pub client_id: Option<String>,
    /// The application `client_id` names (Outlook, Teams, ...), when known.
    pub client_name: Option<&'static str>,
    pub client_process: Option<String>,
    /// The challenge carried `authorization_uri`: hybrid modern auth was offered.
    pub hma_offered: bool,
    /// Some requests came through the Windows broker (WAM).
    pub wam: bool,
    /// The rounds; the report shows their count.
    #[serde(serialize_with = "count")]
    pub attempts: Vec<Attempt>,
    /// The last attempt's outcome.
    pub outcome: Outcome,
    /// How the flow went, judged by outcome and time ([`judge`]): only `looping` and
    /// `refused` are loops.
    pub state: State,
    /// Every AADSTS code seen, in order of first appearance.
    pub aadsts: Vec<u32>,
    pub first_session: u64,
    pub last_session: u64,
    /// From the first session's start to the last session's end, when the capture has times.
    pub duration_ms: Option<i64>,
    /// Every session of the flow, ascending.
    pub sessions: Vec<u64>,
    /// The `appid` (v2: `azp`) of the first readable Bearer token presented to the
    /// challenged host during the flow or after it: the client that really used the token
    /// (Outlook, Teams, OWA, a third-party app), whatever the sign-in requests said.
    pub token_appid: Option<String>,
    /// Its well-known name, when it is one.
    pub token_app_name: Option<&'static str>,
    /// The tenants the challenge named: the GUIDs after `@` in `trusted_issuers`, and the
    /// tenant path segment of `authorization_uri` when it names one (not `common`).
    #[serde(skip)]
    pub challenge_tenants: Vec<String>,
    /// The tenant path segment the client's sign-in requests named (a GUID or a domain), when
    /// they named one (not `common`, `organizations`).
    #[serde(skip)]
    pub asked_tenant: Option<String>,
}

fn count<S: serde::Serializer>(attempts: &[Attempt], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(attempts.len() as u64)
}

impl Flow {
    /// Failure repeating (see [`State::is_loop`]); not the hourly refresh cycle, not
    /// background token requests, not a step-up that ended with a token.
    pub fn is_loop(&self) -> bool {
        self.state.is_loop()
    }

    /// How long the flow lasted, for a person: `48.1 s`, `12 min 05 s`, `7 h 04 min`.
    pub fn duration_label(&self) -> Option<String> {
        self.duration_ms.map(duration_label)
    }

    /// Rounds that ended without a token.
    pub fn failed_rounds(&self) -> usize {
        self.attempts
            .iter()
            .filter(|a| a.outcome != Outcome::Token)
            .count()
    }

    /// The tenant's GUID, when the capture shows it for this flow: the best identifier when
    /// it is one, else the tenant the sign-in asked by GUID, else the one GUID the challenge
    /// named (`trusted_issuers`, `authorization_uri`) when it named exactly one. With a
    /// domain asked and one GUID named, the two are the same tenant unless the client asked
    /// the wrong one, which cannot be told from a domain without asking Entra ID (issue 20:
    /// fix scripts are keyed by this GUID, the domain kept as a label).
    pub fn tenant_guid(&self) -> Option<&str> {
        if let Some(t) = [self.tenant.as_deref(), self.asked_tenant.as_deref()]
            .into_iter()
            .flatten()
            .find(|t| is_guid(t))
        {
            return Some(t);
        }
        let mut named = self.challenge_tenants.iter().filter(|t| is_guid(t));
        let first = named.next()?;
        named
            .all(|t| t.eq_ignore_ascii_case(first))
            .then_some(first.as_str())
    }

    /// The client sent its sign-in to another tenant than the one the challenge named:
    /// `(asked, named)`. Only tenants of the same form are compared (GUID with GUID, domain
    /// with domain, case-insensitive): a domain cannot be told from a GUID without asking
    /// Entra ID.
    pub fn other_tenant_asked(&self) -> Option<(&str, &str)> {
        let asked = self.asked_tenant.as_deref()?;
        let same_form: Vec<&str> = self
            .challenge_tenants
            .iter()
            .map(String::as_str)
            .filter(|t| is_guid(t) == is_guid(asked))
            .collect();
        if same_form.is_empty() || same_form.iter().any(|t| t.eq_ignore_ascii_case(asked)) {
            return None;
        }
        Some((asked, same_form[0]))
    }

    /// The sessions in which Entra answered with an error.
    pub fn error_sessions(&self) -> Vec<u64> {
        self.attempts
            .iter()
            .filter(|a| a.outcome == Outcome::AadError)
            .filter_map(|a| a.result)
            .collect()
    }
}

/// A GUID in its 8-4-4-4-12 text form (the sign-in reader's test, for the later stages).
pub use crate::auth::login::is_guid;

/// A duration in milliseconds for a person: seconds with a decimal under two minutes, then
/// minutes and seconds, then hours and minutes.
pub fn duration_label(ms: i64) -> String {
    let secs = ms / 1000;
    if ms < 120_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if secs < 3600 {
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_a_person_says_them() {
        use super::duration_label as d;
        assert_eq!(d(48_149), "48.1 s");
        assert_eq!(d(125_000), "2 min 05 s");
        assert_eq!(d(25_480_900), "7 h 04 min");
    }
}

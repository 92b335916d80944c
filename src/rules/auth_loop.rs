//! `auth-loop`: a flow failing again and again, with no cause another rule can name.
//!
//! The white box about a minute after Outlook starts is a loop: each round a 401 from
//! on-premises, a trip to Entra ID, and an answer that does not end it. When a rule names the
//! cause (AADSTS500011 is `spn-missing`, an `aadsts-*` code, a refusal Exchange explains in
//! `x-ms-diagnostics`), the loop is that finding's evidence, not a second error: this rule
//! yields to them (`rules::RULES`) and reports only the loops left unexplained, saying what
//! is known and which sessions to open.
//!
//! Not a loop (the flow's judged state, `flows::judge`): the hourly refresh cycle (a
//! challenge after the token expired), background token requests no challenge asked for,
//! a step-up or a `prompt=none` that ended with a token, one refusal followed by a token
//! that held.

use super::{sorted, Context, Finding, Severity};
use crate::flows::State;

/// Failing rounds from which a loop is an error rather than a retry.
const ERROR_ATTEMPTS: usize = 3;

pub fn check(cx: &Context) -> Vec<Finding> {
    cx.unexplained_flows()
        .filter(|f| f.is_loop())
        .map(|f| {
            let failed = f.failed_rounds();
            let host = f
                .challenge_host
                .clone()
                .unwrap_or_else(|| f.resource.host().to_string());
            let why = if f.state == State::Refused {
                format!(
                    "each round got a token, and {host} refused it again at once (well inside \
                     its lifetime) without saying why in x-ms-diagnostics"
                )
            } else {
                let codes: Vec<String> = f.aadsts.iter().map(|c| format!("AADSTS{c}")).collect();
                if codes.is_empty() {
                    format!(
                        "{failed} round(s) ended without a token (Entra ID's answer is not in \
                         the capture: the sign-in was abandoned, or the answer was not recorded)"
                    )
                } else {
                    format!("{failed} round(s) ended with {}", codes.join(", "))
                }
            };
            let duration = f
                .duration_label()
                .map(|d| format!(" over {d}"))
                .unwrap_or_default();
            let rounds = if f.state == State::Refused {
                f.attempts.len()
            } else {
                failed
            };
            Finding {
                id: "auth-loop".into(),
                severity: if rounds >= ERROR_ATTEMPTS {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                title: format!(
                    "{} tried {} times to get a token for {}",
                    f.client_process.as_deref().unwrap_or("The client"),
                    f.attempts.len(),
                    f.resource
                ),
                sessions: sorted(f.sessions.clone()),
                evidence: format!(
                    "{} attempts from session {} to {}{duration}; {why}.",
                    f.attempts.len(),
                    f.first_session,
                    f.last_session
                ),
                fix: if f.state == State::Refused {
                    format!(
                        "Open the 401s from {host} (sessions listed) and compare the token's \
                         aud, tid and exp with the URL served: an audience or tenant mismatch \
                         (SSL offload, a name not in the SPNs), a clock skew or the OAuth \
                         configuration of Exchange (Get-AuthConfig, Get-AuthServer) makes it \
                         refuse good tokens."
                    )
                } else {
                    "Open the Entra ID sessions of the last rounds: what ended each round \
                     without a token (an abandoned sign-in page, a proxy, a timeout) is the \
                     cause; the loop stops when a round ends with a token the server accepts."
                        .into()
                },
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{build, HMA, S};
    use super::*;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    const TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/token";
    const OFFICE: &str = "resource=https%3A%2F%2Fofficeapps.live.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token=SECRET";
    const AUTODISCOVER: &str = "resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token=SECRET";

    fn token(id: u64, t: i64, form: &str) -> S {
        S::new(id, "POST", TOKEN, 200)
            .at(t)
            .req_header("Content-Type", "application/x-www-form-urlencoded")
            .req_body(form)
            .resp_header("Content-Type", "application/json")
            .resp_body(r#"{"token_type":"Bearer","access_token":"x.y.z","expires_in":3599}"#)
    }

    fn challenge(id: u64, t: i64, presented: bool) -> S {
        let s = S::new(id, "POST", AD, 401).at(t).offers(&[HMA]);
        if presented {
            s.bearer(r#"{"aud":"https://autodiscover.contoso.com/","exp":1}"#)
        } else {
            s
        }
    }

    fn ids(sessions: Vec<S>) -> Vec<(String, Severity)> {
        let a = build(sessions);
        a.findings
            .iter()
            .map(|f| (f.id.clone(), f.severity))
            .collect()
    }

    #[test]
    fn background_tokens_no_challenge_asked_for_are_no_loop() {
        let sessions: Vec<S> = (0..28)
            .map(|i| token(i + 1, i as i64 * 1020, OFFICE))
            .collect();
        assert_eq!(ids(sessions), vec![]);
    }

    #[test]
    fn the_hourly_refresh_cycle_is_no_loop() {
        let mut sessions = Vec::new();
        for h in 0..8u64 {
            let t = h as i64 * 3600;
            sessions.push(challenge(h * 3 + 1, t, h > 0));
            sessions.push(token(h * 3 + 2, t + 1, AUTODISCOVER));
            sessions.push(
                S::new(h * 3 + 3, "POST", AD, 200)
                    .at(t + 2)
                    .bearer(r#"{"aud":"https://autodiscover.contoso.com/"}"#),
            );
        }
        assert_eq!(ids(sessions), vec![]);
    }

    #[test]
    fn a_token_refused_at_once_again_and_again_is_an_error_of_its_own() {
        let mut sessions = Vec::new();
        for i in 0..4u64 {
            let t = i as i64 * 6;
            sessions.push(challenge(i * 2 + 1, t, i > 0));
            sessions.push(token(i * 2 + 2, t + 1, AUTODISCOVER));
        }
        let a = build(sessions);
        let f: Vec<&Finding> = a.findings.iter().filter(|f| f.id == "auth-loop").collect();
        assert_eq!(f.len(), 1, "{:#?}", a.findings);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].evidence.contains("refused it again at once"),
            "{}",
            f[0].evidence
        );
        assert_eq!(f[0].sessions, (1..=8).collect::<Vec<u64>>());
    }

    #[test]
    fn an_unanswered_sign_in_repeated_is_a_loop_that_says_what_is_known() {
        let mut sessions = Vec::new();
        for i in 0..3u64 {
            let t = i as i64 * 20;
            sessions.push(challenge(i * 2 + 1, t, false));
            sessions.push(
                S::new(i * 2 + 2, "POST", TOKEN, 200)
                    .at(t + 1)
                    .req_header("Content-Type", "application/x-www-form-urlencoded")
                    .req_body(AUTODISCOVER)
                    .no_response(),
            );
        }
        let a = build(sessions);
        assert_eq!(a.findings.len(), 1, "{:#?}", a.findings);
        let f = &a.findings[0];
        assert_eq!((f.id.as_str(), f.severity), ("auth-loop", Severity::Error));
        assert!(
            f.evidence.contains("3 round(s) ended without a token"),
            "{}",
            f.evidence
        );
    }
}

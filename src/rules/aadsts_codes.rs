//! `aadsts-*`: every AADSTS code other than the SPN ones, explained from the catalog, so a
//! ticket with AADSTS50076 (MFA) or 53003 (conditional access) is not sent to the SPN fix.
//!
//! Severity follows the catalog's nature: `error` for failures that need a fix (53003, 50057,
//! 50053, 50126, ...), `warning` for codes that depend on context (50079, 65001, ...), `info`
//! for steps of a normal flow (50076 on a silent call: the client must prompt). A normal step
//! becomes a `warning` when the flow it belongs to never ended with a token (the user never got
//! through it). Identity families say in their title that the SPN fix does not apply.

use std::collections::BTreeMap;

use super::evidence::{loops_sentence, quote_error};
use super::{sorted, Context, Finding, Severity};
use crate::auth::aadsts::{self, Nature, NOT_FOUND_CODES};
use crate::flows::Outcome;

/// The finding id for a code: a named family where an engineer thinks of one, else the number.
pub fn finding_id(code: u32) -> String {
    let family = match code {
        50074 | 50076 | 50079 | 50072 | 50158 => "aadsts-mfa",
        53000 | 53001 | 53002 | 53003 | 53004 | 53011 | 530003 | 530032 => {
            "aadsts-conditional-access"
        }
        50057 => "aadsts-account-disabled",
        50053 => "aadsts-account-locked",
        50126 => "aadsts-invalid-credentials",
        50055 | 50056 | 50133 | 50173 => "aadsts-password",
        50008 | 50107 | 50128 | 500021 | 80001 | 80002 | 80005 | 80007 | 80012 | 81010 | 81012 => {
            "aadsts-federation-or-sync"
        }
        65001 | 65004 | 90094 | 90095 => "aadsts-consent",
        _ => "",
    };
    if family.is_empty() {
        format!("aadsts-{code}")
    } else {
        family.to_string()
    }
}

pub fn check(cx: &Context) -> Vec<Finding> {
    // code -> sessions
    let mut seen: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (session, error) in cx.aad_errors() {
        for code in &error.codes {
            if !NOT_FOUND_CODES.contains(code) {
                seen.entry(*code).or_default().push(session);
            }
        }
    }
    seen.into_iter()
        .map(|(code, sessions)| {
            let sessions = sorted(sessions);
            let first = sessions.first().copied();
            let said = first
                .and_then(|s| cx.aad_error_at(s))
                .map(quote_error)
                .unwrap_or_default();
            let where_ = first
                .map(|s| format!(" (first in session {s}: {})", cx.describe(s)))
                .unwrap_or_default();
            match aadsts::lookup(code) {
                Some(info) => Finding {
                    id: finding_id(code),
                    severity: match info.nature {
                        Nature::Error => Severity::Error,
                        _ if STEP_UP.contains(&code) && stepped_up(cx, &sessions) => Severity::Info,
                        Nature::Warning => Severity::Warning,
                        Nature::Normal if never_got_a_token(cx, &sessions) => Severity::Warning,
                        Nature::Normal => Severity::Info,
                    },
                    title: format!(
                        "AADSTS{code} {}: {}{}",
                        info.name,
                        info.summary,
                        not_spn(code)
                    ),
                    evidence: format!(
                        "AADSTS{code} answered {} time(s){where_}.{said}{}{}",
                        sessions.len(),
                        loops_sentence(cx.flows_with(&sessions)),
                        device_note(cx, code, &sessions),
                    ),
                    fix: info.advice.to_string(),
                    sessions,
                    remedy: None,
                },
                None => Finding {
                    id: finding_id(code),
                    severity: Severity::Warning,
                    title: format!(
                        "AADSTS{code}: a code traceadal does not know{}",
                        not_spn(code)
                    ),
                    evidence: format!(
                        "AADSTS{code} answered {} time(s){where_}.{said}",
                        sessions.len()
                    ),
                    fix: format!(
                        "Look the code up at https://login.microsoftonline.com/error?code={code} \
                         and in the Entra ID sign-in logs (filter by the correlation id)."
                    ),
                    sessions,
                    remedy: None,
                },
            }
        })
        .collect()
}

/// The title's note for identity families: the ticket is not for the SPN fix.
fn not_spn(code: u32) -> &'static str {
    if finding_id(code).chars().any(|c| c.is_ascii_digit()) {
        ""
    } else {
        " (an identity or policy matter, not an SPN problem)"
    }
}

/// Codes that ask the client to step up to an interactive sign-in (MFA, a `prompt=none`
/// that needs the user): a normal step when a sign-in that ends with a token follows.
const STEP_UP: &[u32] = &[50058, 50072, 50074, 50076, 50079];

/// Every flow holding one of `sessions` went on to a token after it (there is at least one).
fn stepped_up(cx: &Context, sessions: &[u64]) -> bool {
    let flows: Vec<_> = cx.flows_with(sessions).collect();
    !flows.is_empty()
        && flows.iter().all(|f| {
            f.outcome == Outcome::Token
                && sessions
                    .iter()
                    .filter(|s| f.sessions.binary_search(s).is_ok())
                    .all(|s| f.last_session > *s)
        })
}

/// Every flow holding one of `sessions` ended without a token (and there is at least one).
fn never_got_a_token(cx: &Context, sessions: &[u64]) -> bool {
    let flows: Vec<_> = cx.flows_with(sessions).collect();
    !flows.is_empty() && flows.iter().all(|f| f.outcome != Outcome::Token)
}

/// Conditional Access answers about the device: whether the capture shows a device at all.
const DEVICE_CODES: &[u32] = &[53000, 53001, 530003, 50097];

/// For a device answer: whether the sign-in requests before it carried a device credential
/// (the PRT cookie, a PKeyAuth answer: by name, never their value), and the device and MFA
/// claims (`deviceid`, `amr`) of the tokens presented in the capture.
fn device_note(cx: &Context, code: u32, sessions: &[u64]) -> String {
    if !DEVICE_CODES.contains(&code) {
        return String::new();
    }
    let logins: Vec<_> = sessions.iter().flat_map(|s| cx.logins_before(*s)).collect();
    let mut out = String::new();
    if !logins.is_empty() {
        let ids = sorted(logins.iter().map(|(s, _)| *s).collect());
        let shown = super::session_list(&ids);
        let prt: Vec<u64> = logins
            .iter()
            .filter(|(_, d)| d.prt)
            .map(|(s, _)| *s)
            .collect();
        let pkey: Vec<u64> = logins
            .iter()
            .filter(|(_, d)| d.pkeyauth_answer)
            .map(|(s, _)| *s)
            .collect();
        if prt.is_empty() && pkey.is_empty() {
            out.push_str(&format!(
                " Device credential: none in the sign-in request(s) (session(s) {shown}): no \
                 x-ms-RefreshTokenCredential (PRT) cookie, no PKeyAuth answer"
            ));
            if logins.iter().any(|(_, d)| d.pkeyauth_supported) {
                out.push_str(" (the client announced PKeyAuth with x-ms-PKeyAuth but never answered a device challenge)");
            }
            out.push_str(": Entra ID was shown no device, so a device policy cannot be met (a browser without the account extension, a device not registered, WAM not used).");
        } else {
            let mut what = Vec::new();
            if !prt.is_empty() {
                what.push(format!(
                    "the x-ms-RefreshTokenCredential (PRT) cookie (session(s) {})",
                    super::session_list(&sorted(prt))
                ));
            }
            if !pkey.is_empty() {
                what.push(format!(
                    "a PKeyAuth answer (session(s) {})",
                    super::session_list(&sorted(pkey))
                ));
            }
            out.push_str(&format!(
                " Device credential: the sign-in carried {}: the device was shown and did not \
                 satisfy the policy (not compliant, not hybrid joined, or not the registered \
                 device).",
                what.join(" and ")
            ));
        }
    }
    let claims: Vec<_> = cx
        .presented()
        .map(|p| p.claims)
        .filter(|c| !c.all.is_empty())
        .collect();
    if !claims.is_empty() {
        let device = claims.iter().any(|c| c.all.contains_key("deviceid"));
        let mut amr: Vec<String> = Vec::new();
        for c in &claims {
            if let Some(serde_json::Value::Array(items)) = c.all.get("amr") {
                for m in items.iter().filter_map(|v| v.as_str()) {
                    if !amr.iter().any(|x| x == m) && amr.len() < 8 {
                        amr.push(m.chars().take(24).collect());
                    }
                }
            }
        }
        out.push_str(&format!(
            " Tokens presented in this capture: {} carry a deviceid claim; amr {}.",
            if device { "some" } else { "none" },
            if amr.is_empty() {
                "not present".to_string()
            } else {
                amr.join(", ")
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{build, HMA, NO_TOKEN_DIAG, S};
    use super::*;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
    const TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/token";
    const FORM: &str = "resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token=SECRET";

    fn aad(code: u32, id: u64) -> S {
        S::new(id, "POST", TOKEN, 400)
            .req_header("Content-Type", "application/x-www-form-urlencoded")
            .req_body(FORM)
            .resp_header("Content-Type", "application/json")
            .resp_body(&format!(
                r#"{{"error":"invalid_grant","error_description":"AADSTS{code}: something.","error_codes":[{code}]}}"#
            ))
    }

    fn challenge(id: u64) -> S {
        S::new(id, "POST", AD, 401)
            .offers(&[HMA, "NTLM"])
            .diag(NO_TOKEN_DIAG)
    }

    fn ok(id: u64) -> S {
        S::new(id, "POST", TOKEN, 200)
            .req_header("Content-Type", "application/x-www-form-urlencoded")
            .req_body(FORM)
            .resp_header("Content-Type", "application/json")
            .resp_body(r#"{"token_type":"Bearer","access_token":"x.y.z","expires_in":3599}"#)
    }

    #[test]
    fn mfa_alone_is_never_an_spn_problem() {
        let b = build(vec![challenge(1), aad(50076, 2), challenge(3), ok(4)]);
        let cx = b.context();
        let all = super::super::run_all(&cx);
        let ids: Vec<(&str, Severity)> = all.iter().map(|f| (f.id.as_str(), f.severity)).collect();
        // A second round that got a token: a step-up that worked, not a loop, not an SPN
        // matter.
        assert_eq!(ids, vec![("aadsts-mfa", Severity::Info)], "{all:#?}");
        let all: Vec<_> = all.into_iter().filter(|f| f.id == "aadsts-mfa").collect();
        assert!(all[0].title.contains("not an SPN problem"));
        assert!(all[0].fix.contains("do not apply the SPN fix"));
        assert!(cx.missing_spns().is_empty());
    }

    #[test]
    fn mfa_never_completed_is_a_warning_and_policy_blocks_are_errors() {
        let b = build(vec![challenge(1), aad(50076, 2)]);
        let f = check(&b.context());
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("aadsts-mfa", Severity::Warning)
        );
        for (code, id, sev) in [
            (53003, "aadsts-conditional-access", Severity::Error),
            (53000, "aadsts-conditional-access", Severity::Error),
            (50057, "aadsts-account-disabled", Severity::Error),
            (50053, "aadsts-account-locked", Severity::Error),
            (50126, "aadsts-invalid-credentials", Severity::Error),
            (50079, "aadsts-mfa", Severity::Warning),
            (65001, "aadsts-consent", Severity::Warning),
            (50107, "aadsts-federation-or-sync", Severity::Error),
        ] {
            let b = build(vec![challenge(1), aad(code, 2)]);
            let f = check(&b.context());
            assert_eq!(f.len(), 1, "{code}");
            assert_eq!((f[0].id.as_str(), f[0].severity), (id, sev), "{code}");
            assert_eq!(f[0].sessions, vec![2]);
            assert!(f[0].title.contains("not an SPN problem"), "{code}");
            assert!(b.context().missing_spns().is_empty());
        }
        let b = build(vec![challenge(1), aad(70011, 2)]);
        assert!(!check(&b.context())[0].title.contains("SPN"));
    }

    #[test]
    fn device_answers_say_whether_a_device_was_shown() {
        // No device credential at all (the client only announced PKeyAuth).
        let bare = build(vec![
            challenge(1),
            aad(53000, 2).req_header("x-ms-PKeyAuth", "1.0"),
        ]);
        let f = check(&bare.context());
        let e = &f[0].evidence;
        assert!(
            e.contains("Device credential: none in the sign-in request(s) (session(s) 2)"),
            "{e}"
        );
        assert!(e.contains("announced PKeyAuth"), "{e}");
        // The PRT cookie (by name, never its value) and a PKeyAuth answer.
        let shown = build(vec![
            challenge(1),
            aad(53001, 2).req_header("Cookie", "x-ms-gateway-slice=estsfd; x-ms-RefreshTokenCredential=eyJhbGciOiJIUzI1NiJ9.SECRETPRT.sig"),
            aad(53001, 3).req_header("Authorization", "PKeyAuth AuthToken=\"SECRETJWT\", Context=\"c\", Version=\"1.0\""),
        ]);
        let f = check(&shown.context());
        let e = &f[0].evidence;
        assert!(
            e.contains("the x-ms-RefreshTokenCredential (PRT) cookie (session(s) 2)"),
            "{e}"
        );
        assert!(e.contains("a PKeyAuth answer (session(s) 3)"), "{e}");
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert!(!json.contains("SECRET"), "{json}");
        // Other codes say nothing of devices.
        let mfa = build(vec![challenge(1), aad(50076, 2)]);
        assert!(!check(&mfa.context())[0]
            .evidence
            .contains("Device credential"));
    }

    #[test]
    fn device_and_mfa_claims_of_presented_tokens() {
        let b = build(vec![
            S::new(1, "POST", AD, 401).offers(&[HMA]).bearer(
                r#"{"aud":"https://autodiscover.contoso.com","amr":["pwd","mfa"],"deviceid":"d"}"#,
            ),
            aad(530003, 2),
        ]);
        let e = &check(&b.context())[0].evidence;
        assert!(
            e.contains("some carry a deviceid claim; amr pwd, mfa."),
            "{e}"
        );
    }
}

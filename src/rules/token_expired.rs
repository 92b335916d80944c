//! `token-expired`: the client presented a token past its `exp` (or before its `nbf`) and
//! kept presenting it.
//!
//! Every Bearer token presented to Exchange (on-premises virtual directories, Exchange
//! Online) is checked against the time of its session: the server's clock (the answer's
//! `Date`) when the answer has one, else the capture's clock (SAZ `ClientBeginRequest`, HAR
//! `startedDateTime`, both with their offset) with five minutes of tolerance.
//!
//! The hourly cycle is not a finding: a token expires, the server refuses it once, the client
//! gets a fresh one and the next request to that host gets in. Only refusals the client never
//! recovered from count: presented twice or more, an error (the client does not refresh:
//! a broken token cache, a refresh token it cannot use, a clock far off); once, at the end of
//! the capture, a warning.

use std::collections::BTreeMap;

use super::context::CLOCK_SKEW_TOLERANCE;
use super::evidence::claims_line;
use super::tokens::{accepted, exchange_host, refused, span, utc};
use super::{sorted, Context, Finding, Severity};

/// One refused presentation of a token that was out of its validity window.
struct Stale {
    session: u64,
    /// Seconds past `exp` (positive) or before `nbf` (negative).
    off_by: i64,
    /// Measured against the server's `Date` (else the capture's clock).
    server_clock: bool,
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut by_host: BTreeMap<String, Vec<Stale>> = BTreeMap::new();
    // Per host, the last session that presented a token in its validity window and got in.
    let mut good: BTreeMap<String, u64> = BTreeMap::new();
    for p in cx.presented() {
        let Some(host) = exchange_host(p.url) else {
            continue;
        };
        let server = p.server_date;
        let Some(now) = server.or_else(|| cx.session(p.session)?.start.map(|t| t.timestamp()))
        else {
            if accepted(cx, p.session) {
                good.insert(host, p.session);
            }
            continue;
        };
        let slack = if server.is_some() {
            0
        } else {
            CLOCK_SKEW_TOLERANCE
        };
        let expired = p
            .claims
            .exp
            .filter(|exp| now > exp + slack)
            .map(|exp| now - exp);
        let early = p
            .claims
            .nbf
            .filter(|nbf| *nbf > now + slack.max(CLOCK_SKEW_TOLERANCE))
            .map(|nbf| now - nbf);
        match expired.or(early) {
            Some(off_by) if refused(cx, p.session) => {
                by_host.entry(host).or_default().push(Stale {
                    session: p.session,
                    off_by,
                    server_clock: server.is_some(),
                })
            }
            Some(_) => {}
            None if accepted(cx, p.session) => {
                good.insert(host, p.session);
            }
            None => {}
        }
    }
    let clocks = cx.clock_skews();
    by_host
        .into_iter()
        .filter_map(|(host, stale)| {
            let last = stale.last()?.session;
            // The hourly cycle: refused, then a fresh token got in.
            if good.get(&host).is_some_and(|&g| g > last) {
                return None;
            }
            let first = &stale[0];
            let claims = cx.claims_in(first.session)?;
            let kept = stale.len() >= 2;
            let how = if first.off_by >= 0 {
                format!("{} past its exp", span(first.off_by))
            } else {
                format!("{} before its nbf", span(first.off_by))
            };
            let clock = if first.server_clock {
                "by the server's Date header"
            } else {
                "by the capture's clock (the answer had no Date header)"
            };
            let mut evidence = format!(
                "A token out of its validity window was presented to {host} {} time(s) and \
                 refused, first in session {}: {} ({how}, {clock}). Token: {}. No later \
                 request to {host} presented a valid token and got in.",
                stale.len(),
                first.session,
                cx.describe(first.session),
                claims_line(claims),
            );
            if let Some(nbf) = claims.nbf.filter(|_| first.off_by < 0) {
                evidence.push_str(&format!(" nbf={}.", utc(nbf)));
            }
            let mut fix = String::from(
                "The client kept a token it should have refreshed. Restart Outlook (or sign out \
                 and in again in Teams or the Office app); if it persists, check that the \
                 device reaches login.microsoftonline.com (a proxy or firewall blocking it \
                 leaves the client with its old token) and the sign-in logs for the user. ",
            );
            if let Some(c) = clocks.iter().find(|c| c.skewed && c.host == host) {
                evidence.push_str(&format!(
                    " {host}'s clock is {} {} the client's (clock-skew).",
                    span(c.delta),
                    if c.delta < 0 { "ahead of" } else { "behind" }
                ));
                fix.push_str(
                    "The clocks disagree: a client behind the server keeps using tokens the \
                     server already considers expired. Fix the time first (clock-skew says \
                     whose), then restart the client.",
                );
            } else {
                fix.push_str(
                    "Check the client's clock against the server's (w32tm /stripchart \
                     /computer:<a domain controller>).",
                );
            }
            Some(Finding {
                id: "token-expired".into(),
                severity: if kept {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                title: if kept {
                    format!("The client kept presenting an expired token to {host}")
                } else {
                    format!(
                        "An expired token was refused by {host} and the capture shows no fresh one"
                    )
                },
                sessions: sorted(stale.iter().map(|s| s.session).collect()),
                evidence,
                fix,
                remedy: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, run, HMA, S};
    use super::*;

    /// 2026-11-20 07:00:00Z, the test kit's `at(0)`.
    const T0: i64 = 1_795_158_000;

    fn date(ts: i64) -> String {
        chrono::DateTime::from_timestamp(ts, 0)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default()
    }

    fn claims(exp: i64) -> String {
        format!(
            r#"{{"aud":"https://mail.contoso.com","tid":"72f988bf-0000-4000-8000-0123456789ab","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","upn":"user@contoso.com","nbf":{},"exp":{exp}}}"#,
            exp - 3600
        )
    }

    fn ews(id: u64, secs: i64, status: u16, exp: i64) -> S {
        let s = S::new(
            id,
            "POST",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            status,
        )
        .at(secs)
        .bearer(&claims(exp))
        .resp_header("Date", &date(T0 + secs));
        if status == 401 {
            s.offers(&[HMA])
        } else {
            s
        }
    }

    #[test]
    fn the_test_clock_is_what_the_kit_says() {
        let cx = super::super::testkit::build(vec![ews(1, 0, 200, T0 + 600)]);
        let s = cx.sessions[0].start.map(|t| t.timestamp());
        assert_eq!(s, Some(T0));
    }

    #[test]
    fn kept_presenting_an_expired_token_is_an_error() {
        let f = run(
            check,
            vec![
                ews(1, 0, 200, T0 + 60),
                ews(2, 600, 401, T0 + 60),
                ews(3, 660, 401, T0 + 60),
                ews(4, 720, 401, T0 + 60),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "token-expired");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![2, 3, 4]);
        let e = &f[0].evidence;
        assert!(e.contains("9 min 00 s past its exp"), "{e}");
        assert!(e.contains("by the server's Date header"), "{e}");
        assert!(e.contains("upn=user@contoso.com"), "{e}");
        assert_no_token(&f);
    }

    #[test]
    fn once_at_the_end_is_a_warning() {
        let f = run(check, vec![ews(2, 600, 401, T0 + 60)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
    }

    /// What must not trigger it.
    #[test]
    fn the_hourly_cycle_and_accepted_tokens_do_not_trigger() {
        // Expired, refused, then a fresh token gets in: the hourly cycle.
        let hourly = vec![
            ews(1, 0, 200, T0 + 60),
            ews(2, 600, 401, T0 + 60),
            ews(3, 601, 401, T0 + 60),
            ews(4, 610, 200, T0 + 4200),
        ];
        assert!(run(check, hourly).is_empty());
        // Past exp by the capture's clock, but the server accepted it (its clock differs).
        assert!(run(check, vec![ews(1, 600, 200, T0 + 60)]).is_empty());
        // No Date header: five minutes of tolerance on the capture's clock.
        let near = S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
            .at(200)
            .bearer(&claims(T0 + 60))
            .offers(&[HMA]);
        assert!(run(check, vec![near]).is_empty());
        // A token to another service (Teams, Graph) is not judged here.
        let graph = S::new(1, "GET", "https://graph.microsoft.com/v1.0/me", 401)
            .at(600)
            .bearer(&claims(T0 + 60))
            .resp_header("Date", &date(T0 + 600));
        assert!(run(check, vec![graph]).is_empty());
        // No exp, or no time at all.
        let no_time = S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
            .bearer(&claims(T0 + 60));
        assert!(run(check, vec![no_time]).is_empty());
        let no_exp = S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 401)
            .at(600)
            .bearer(r#"{"aud":"https://mail.contoso.com"}"#);
        assert!(run(check, vec![no_exp]).is_empty());
    }

    #[test]
    fn not_yet_valid_counts_and_the_skew_is_named() {
        // The client's clock is 20 minutes ahead: its token's nbf is in the server's future.
        let ahead = |id: u64, secs: i64| {
            S::new(
                id,
                "POST",
                "https://mail.contoso.com/EWS/Exchange.asmx",
                401,
            )
            .at(secs)
            .bearer(&format!(
                r#"{{"aud":"https://mail.contoso.com","nbf":{},"exp":{}}}"#,
                T0 + secs,
                T0 + secs + 3600
            ))
            .offers(&[HMA])
            .resp_header("Date", &date(T0 + secs - 1200))
        };
        let f = run(check, vec![ahead(1, 0), ahead(2, 30)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        let e = &f[0].evidence;
        assert!(e.contains("20 min 00 s before its nbf"), "{e}");
        assert!(
            e.contains("mail.contoso.com's clock is 20 min 00 s behind the client's (clock-skew)"),
            "{e}"
        );
    }
}

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
            None if accepted(cx, p.session) && p.claims.exp.is_some() => {
                good.insert(host, p.session);
            }
            None => {}
        }
    }
    let skew = cx.clock_skew();
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
            if let Some((delta, _)) = skew {
                evidence.push_str(&format!(
                    " The client's clock is {} {} the server's (clock-skew).",
                    span(delta),
                    if delta > 0 { "ahead of" } else { "behind" }
                ));
                fix.push_str(
                    "The client's clock is off: a client behind the server keeps using tokens \
                     the server already considers expired. Fix the time first (w32tm /resync, \
                     or the device's time source), then restart the client.",
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

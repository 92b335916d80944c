//! `clock-skew`: the client's clock and the server's disagree by more than five minutes.
//!
//! Measured on the sessions that presented a token: the request's start by the capture's
//! clock (SAZ `ClientBeginRequest`, HAR `startedDateTime`, both with their UTC offset, so a
//! time zone is never a skew) against the answer's `Date` header (the server's clock, in
//! GMT). Every such session must agree (all beyond five minutes, the same way): one slow
//! answer is not a skew.
//!
//! A client behind the server keeps tokens the server already considers expired; a client
//! ahead of it sees fresh tokens as not yet valid and may refresh in a loop. The capture's
//! clock is the client's only when the capture was taken on the client (Fiddler on the
//! user's machine, a browser's HAR), which is how these captures are taken.

use super::context::CLOCK_SKEW_TOLERANCE;
use super::tokens::span;
use super::{Context, Finding, Severity};

pub fn check(cx: &Context) -> Vec<Finding> {
    let Some((delta, sessions)) = cx.clock_skew() else {
        return Vec::new();
    };
    let way = if delta > 0 { "ahead of" } else { "behind" };
    let first = sessions[0];
    vec![Finding {
        id: "clock-skew".into(),
        severity: Severity::Warning,
        title: format!("The client's clock is {} {way} the server's", span(delta)),
        evidence: format!(
            "On {} session(s) that presented a token, the request's start by the capture's \
             clock and the answer's Date header differ by more than {} min, always the same \
             way (median {} {way}); first session {}: {}. Tokens then look expired or not yet \
             valid to one side.",
            sessions.len(),
            CLOCK_SKEW_TOLERANCE / 60,
            span(delta),
            first,
            cx.describe(first),
        ),
        fix: "Set the client's clock right: on Windows `w32tm /resync` (or check the time \
              source with `w32tm /query /status`; a domain member follows its domain \
              controller), on a phone the automatic date and time setting. If the capture was \
              not taken on the client (a proxy, a server), compare that machine's clock \
              instead."
            .into(),
        sessions,
        remedy: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    /// 2026-11-20 07:00:00Z, the test kit's `at(0)`.
    const T0: i64 = 1_795_158_000;

    fn call(id: u64, secs: i64, server_off: i64) -> S {
        let date = chrono::DateTime::from_timestamp(T0 + secs + server_off, 0)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default();
        S::new(
            id,
            "POST",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            200,
        )
        .at(secs)
        .bearer(r#"{"aud":"https://mail.contoso.com"}"#)
        .resp_header("Date", &date)
    }

    #[test]
    fn a_client_behind_the_server_is_named() {
        let f = run(
            check,
            vec![call(1, 0, 900), call(2, 60, 905), call(5, 90, 899)],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "clock-skew");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].sessions, vec![1, 2, 5]);
        assert_eq!(
            f[0].title,
            "The client's clock is 15 min 00 s behind the server's"
        );
    }

    /// What must not trigger it.
    #[test]
    fn small_mixed_or_unmeasured_differences_do_not_trigger() {
        // Within five minutes.
        assert!(run(check, vec![call(1, 0, 290), call(2, 5, -200)]).is_empty());
        // One slow answer among sessions that agree: not a skew.
        assert!(run(check, vec![call(1, 0, 900), call(2, 5, 3)]).is_empty());
        // Both ways: not one clock.
        assert!(run(check, vec![call(1, 0, 900), call(2, 5, -900)]).is_empty());
        // No Date header, or no token presented (a CDN's Date is not judged).
        let no_date = S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
            .at(0)
            .bearer(r#"{"aud":"https://mail.contoso.com"}"#);
        assert!(run(check, vec![no_date]).is_empty());
        let cdn = S::new(1, "GET", "https://res.cdn.office.net/x.js", 200)
            .at(0)
            .resp_header("Date", "Fri, 20 Nov 2026 09:00:00 GMT");
        assert!(run(check, vec![cdn]).is_empty());
    }

    /// The capture's times carry their offset: a capture taken at +01:00 against a server
    /// answering in GMT is no skew.
    #[test]
    fn time_zones_are_not_a_skew() {
        // at(0) is 08:00:00+01:00; the server says 07:00:10 GMT.
        let s = S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
            .at(0)
            .bearer(r#"{"aud":"https://mail.contoso.com"}"#)
            .resp_header("Date", "Fri, 20 Nov 2026 07:00:10 GMT");
        assert!(run(check, vec![s]).is_empty());
    }
}

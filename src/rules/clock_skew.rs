//! `clock-skew`: a server's clock and the client's disagree by more than five minutes.
//!
//! Measured per host on the sessions that presented a token: the request's start by the
//! capture's clock (SAZ `ClientBeginRequest`, HAR `startedDateTime`, both with their UTC
//! offset, so a time zone is never a skew) against the answer's `Date` header (the server's
//! clock, in GMT). Every session of the host must agree (all beyond five minutes, the same
//! way): one slow answer is not a skew.
//!
//! Which clock is wrong is told by the other hosts measured: when every host measured is
//! off the same way, the client's clock is; when other hosts agree with the capture, that
//! server's is (an on-premises Exchange server off its time source). Either way tokens look
//! expired or not yet valid to one side: a client behind the server keeps tokens the server
//! already considers expired; a server ahead refuses fresh ones. The title names the host
//! and the difference, whichever clock is wrong; the evidence says which.

use super::tokens::span;
use super::{sorted, Context, Finding, Severity};

pub fn check(cx: &Context) -> Vec<Finding> {
    let clocks = cx.clock_skews();
    let agreeing: Vec<&str> = clocks
        .iter()
        .filter(|c| c.agrees)
        .map(|c| c.host.as_str())
        .collect();
    let skewed: Vec<_> = clocks.iter().filter(|c| c.skewed).collect();
    if skewed.is_empty() {
        return Vec::new();
    }
    let hosts: Vec<&str> = skewed.iter().map(|c| c.host.as_str()).collect();
    let sessions = sorted(
        skewed
            .iter()
            .flat_map(|c| c.sessions.iter().copied())
            .collect(),
    );
    let mut deltas: Vec<i64> = skewed.iter().map(|c| c.delta).collect();
    deltas.sort_unstable();
    let delta = deltas[deltas.len() / 2];
    // The host's clock against the client's: a client behind is a server ahead.
    let way = if delta < 0 { "ahead of" } else { "behind" };
    let named = join(&hosts);
    let client_fix = "Set the client's clock right: on Windows `w32tm /resync` (or check the \
                      time source with `w32tm /query /status`; a domain member follows its \
                      domain controller), on a phone the automatic date and time setting. If the \
                      capture was not taken on the client (a proxy, a server), compare that \
                      machine's clock instead.";
    let server_fix = "Set the server's clock right: on an on-premises Exchange server check its \
                      time source (`w32tm /query /status`, `w32tm /resync`; a domain member \
                      follows its domain controller, the PDC emulator an external source). \
                      Exchange checks token lifetimes by its own clock.";
    let (whose, fix) = if !agreeing.is_empty() {
        (
            format!(
                "{} other host(s) that presented tokens agree with the capture's clock: the \
                 server's clock is wrong.",
                agreeing.len()
            ),
            server_fix.to_string(),
        )
    } else if hosts.len() > 1 {
        (
            "Every host measured is off the same way: the client's clock is wrong.".to_string(),
            client_fix.to_string(),
        )
    } else {
        (
            "No other host's clock was measured: the client's clock or this server's is wrong \
             (compare both with a reliable time source)."
                .to_string(),
            format!("{client_fix} {server_fix}"),
        )
    };
    let first = sessions[0];
    vec![Finding {
        id: "clock-skew".into(),
        severity: Severity::Warning,
        title: if hosts.len() > 1 {
            format!(
                "The clocks of {named} are {} {way} the client's",
                span(delta)
            )
        } else {
            format!("The clock of {named} is {} {way} the client's", span(delta))
        },
        evidence: format!(
            "On {} session(s) to {named} that presented a token, the request's start by the \
             capture's clock and the answer's Date header differ by more than 5 min, always \
             the same way (median {}); first session {first}: {}. {whose} Tokens then look \
             expired or not yet valid to one side.",
            sessions.len(),
            span(delta),
            cx.describe(first),
        ),
        fix,
        sessions,
        remedy: None,
    }]
}

fn join(hosts: &[&str]) -> String {
    super::exchange::join(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    /// 2026-11-20 07:00:00Z, the test kit's `at(0)`.
    const T0: i64 = 1_795_158_000;

    /// A request to `url` at `secs` presenting a token, answered with a `Date` `server_off`
    /// seconds after the capture's clock.
    fn to(url: &str, id: u64, secs: i64, server_off: i64) -> S {
        let date = chrono::DateTime::from_timestamp(T0 + secs + server_off, 0)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default();
        S::new(id, "POST", url, 200)
            .at(secs)
            .bearer(r#"{"aud":"https://mail.contoso.com"}"#)
            .resp_header("Date", &date)
    }

    fn call(id: u64, secs: i64, server_off: i64) -> S {
        to(
            "https://mail.contoso.com/EWS/Exchange.asmx",
            id,
            secs,
            server_off,
        )
    }

    fn graph(id: u64, secs: i64, server_off: i64) -> S {
        to("https://graph.microsoft.com/v1.0/me", id, secs, server_off)
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
            "The clock of mail.contoso.com is 15 min 00 s ahead of the client's"
        );
        assert!(
            f[0].evidence
                .contains("the client's clock or this server's is wrong"),
            "{}",
            f[0].evidence
        );
        // Two hosts off the same way: the client's clock.
        let f = run(check, vec![call(1, 0, 900), graph(2, 5, 900)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title
                .starts_with("The clocks of graph.microsoft.com, mail.contoso.com are 15 min"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].evidence.contains("the client's clock is wrong"),
            "{}",
            f[0].evidence
        );
    }

    /// Another host agreeing with the capture's clock: the server's clock is the wrong one.
    #[test]
    fn one_server_off_while_others_agree() {
        let f = run(
            check,
            vec![call(1, 0, -900), graph(2, 5, 0), call(3, 10, -900)],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].sessions, vec![1, 3]);
        assert_eq!(
            f[0].title,
            "The clock of mail.contoso.com is 15 min 00 s behind the client's"
        );
        assert!(
            f[0].evidence
                .contains("1 other host(s) that presented tokens agree"),
            "{}",
            f[0].evidence
        );
        assert!(f[0].fix.contains("server's clock"), "{}", f[0].fix);
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

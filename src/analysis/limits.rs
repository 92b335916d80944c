//! What this capture can and cannot show, item by item, each with the one thing to do
//! differently when capturing again (report `capture_limits`).
//!
//! [`super::coverage`] measures what the verdict rests on; this names the ways the capture
//! was taken that hide part of a failure from the rules: tunnels never decrypted, the
//! client's or the broker's process not captured, a HAR exported without its credentials, a
//! capture started after the failure, bodies cut or removed, clocks that cannot be placed.
//! Nothing here changes the verdict (an inconclusive verdict is judged from the coverage);
//! a capture with no limit gets an empty list and the report prints nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde::Serialize;

use super::coverage::Coverage;
use crate::auth::login::is_authority_host;
use crate::auth::Event;
use crate::capture::har::NO_UTC_OFFSET;
use crate::capture::{Format, SessionError, SessionSummary};
use crate::flows::{Flow, State};
use crate::rules::session_list;

/// One thing the capture cannot show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// Stable, kebab-case (`docs/report-schema.md` lists them).
    pub id: &'static str,
    /// What the capture shows that limits it, with its numbers and sessions.
    pub what: String,
    /// What the analysis cannot see because of it (the rules that are blind).
    pub consequence: String,
    /// The one thing to do differently when capturing again.
    pub capture_again: String,
}

/// What the limits are judged from.
pub(super) struct Evidence<'a> {
    pub sessions: &'a [SessionSummary],
    pub events: &'a [Event],
    pub flows: &'a [Flow],
    pub coverage: &'a Coverage,
    pub errors: &'a [SessionError],
    pub format: Format,
    /// The analysis's own clock: a capture timed after it was taken on a machine whose
    /// clock was ahead.
    pub now: DateTime<FixedOffset>,
}

/// Every limit of the capture, in the order an analyst fixes them: decryption, what was
/// captured, what was kept, when.
pub(super) fn measure(e: &Evidence) -> Vec<Limit> {
    if e.sessions.is_empty() {
        // The verdict says it: the file holds nothing.
        return Vec::new();
    }
    [
        undecrypted(e),
        no_ticket_hosts(e),
        client_process(e),
        credentials_stripped(e),
        started_late(e),
        bodies_missing(e),
        clock(e),
        netlog_stripped(e),
        netlog_unrecorded(e),
    ]
    .into_iter()
    .flatten()
    .collect()
}

const DECRYPT: &str = "Turn HTTPS decryption on before reproducing (Fiddler: Tools > Options > \
HTTPS > Capture HTTPS CONNECTs and Decrypt HTTPS traffic, from all processes; trust Fiddler's \
root certificate when asked).";

/// Tunnels never decrypted, when hosts the diagnosis needs are among them.
fn undecrypted(e: &Evidence) -> Option<Limit> {
    let c = e.coverage;
    if c.blind.is_empty() {
        return None;
    }
    let decrypted: BTreeSet<&str> = e
        .sessions
        .iter()
        .filter(|s| !s.flags.tunnel)
        .filter_map(|s| s.host.as_deref())
        .collect();
    let established: Vec<&SessionSummary> = e
        .sessions
        .iter()
        .filter(|s| s.flags.tunnel && s.status.is_some_and(|c| (200..300).contains(&c)))
        .collect();
    let never = established
        .iter()
        .filter(|s| s.host.as_deref().is_some_and(|h| !decrypted.contains(h)))
        .count();
    let share = (never * 100) / established.len().max(1);
    Some(Limit {
        id: "undecrypted-tunnels",
        what: format!(
            "{never} of {} CONNECT tunnel(s) ({share}%) were never decrypted, among them those \
             to {} (the hosts the diagnosis needs).",
            established.len(),
            c.blind
                .iter()
                .map(|b| b.host.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        consequence: "What Entra ID and Exchange answered inside those tunnels (challenges, \
                      AADSTS codes, tokens) is not in this capture: no rule can fire on it."
            .into(),
        capture_again: DECRYPT.into(),
    })
}

/// Sessions, none of them to the hosts a diagnosis needs, none hidden in tunnels, and no
/// tunnel to them refused (a proxy's 407 or 403 to a CONNECT is an answer the rules read).
fn no_ticket_hosts(e: &Evidence) -> Option<Limit> {
    let c = e.coverage;
    (c.relevant_sessions == 0 && c.blind.is_empty() && c.refused_tunnels == 0).then(|| Limit {
        id: "no-ticket-hosts",
        what: format!(
            "None of the {} session(s) went to Exchange (autodiscover, EWS, MAPI), Exchange \
             Online or Entra ID.",
            c.sessions
        ),
        consequence: "Every rule is blind: the client's sign-in is not in this capture.".into(),
        capture_again: "Capture on the user's machine while Outlook or Teams shows the \
                        problem, from all processes and with no host filter."
            .into(),
    })
}

/// The process name of Fiddler's `outlook:4242` (`OUTLOOK.EXE:4242`), lower-case, without
/// `.exe`.
pub(crate) fn process_name(p: &str) -> String {
    let name = p.rsplit_once(':').map_or(p, |(n, _)| n).trim();
    let name = name.to_ascii_lowercase();
    name.strip_suffix(".exe")
        .map(str::to_string)
        .unwrap_or(name)
}

fn is_outlook(name: &str) -> bool {
    name == "outlook" || name == "olk"
}

/// The Web Account Manager's processes: the AAD broker plugin, and the background task host
/// it can run in.
fn is_broker(name: &str) -> bool {
    name == "microsoft.aad.brokerplugin" || name == "backgroundtaskhost"
}

/// A capture with process information (a SAZ) that holds neither Outlook nor the WAM
/// broker, or Outlook challenged for a token whose request is missing with the broker.
fn client_process(e: &Evidence) -> Option<Limit> {
    let names: BTreeSet<String> = e
        .sessions
        .iter()
        .filter_map(|s| s.process.as_deref())
        .map(process_name)
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        // A HAR, or a capture that records no process: nothing to say.
        return None;
    }
    let outlook = names.iter().any(|n| is_outlook(n));
    let broker = names.iter().any(|n| is_broker(n));
    let capture_again = "Capture all processes (Fiddler: the process filter in the status \
                         bar set to All Processes, no Filters tab process rule), so that \
                         Outlook and the Web Account Manager (Microsoft.AAD.BrokerPlugin) \
                         are both in it."
        .to_string();
    if !outlook && !broker && e.flows.is_empty() {
        let shown: Vec<&str> = names.iter().take(4).map(String::as_str).collect();
        return Some(Limit {
            id: "client-process-missing",
            what: format!(
                "No Outlook and no AAD broker (WAM) process in this capture; its processes \
                 are {}{}.",
                shown.join(", "),
                if names.len() > shown.len() {
                    format!(" and {} more", names.len() - shown.len())
                } else {
                    String::new()
                }
            ),
            consequence: "The client on the ticket was not captured: its challenges and \
                          token requests are not in this capture."
                .into(),
            capture_again,
        });
    }
    let challenged: Vec<u64> = e
        .events
        .iter()
        .filter_map(|ev| match ev {
            Event::Challenge(c) if c.bearer().is_some_and(|b| b.authorization_uri.is_some()) => {
                Some(c.session)
            }
            _ => None,
        })
        .collect();
    // Any trace of the token traffic (a request to Entra ID, even a tunnel, or a token
    // presented) says it was captured or came from a cache.
    let token_traffic = e
        .sessions
        .iter()
        .any(|s| s.host.as_deref().is_some_and(is_authority_host))
        || e.events
            .iter()
            .any(|ev| matches!(ev, Event::Login(_) | Event::BearerPresented { .. }));
    // A client that answered with Basic, NTLM or Kerberos chose legacy auth: it asked WAM
    // for nothing.
    let answered_legacy = e
        .sessions
        .iter()
        .any(|s| s.credential.is_some_and(|c| c.is_legacy()));
    if outlook && !broker && !token_traffic && !answered_legacy && !challenged.is_empty() {
        return Some(Limit {
            id: "client-process-missing",
            what: format!(
                "Exchange offered Bearer (session(s) {}), but neither a token request to \
                 Entra ID nor a token presented is in the capture, and the AAD broker (WAM) \
                 process never appears.",
                session_list(&challenged)
            ),
            consequence: "Outlook asks Windows' Web Account Manager for its tokens: what \
                          Entra ID answered WAM (AADSTS codes, a missing SPN) is not in this \
                          capture, and a client that never presents a token (hma-ignored) \
                          cannot be told from WAM failing out of sight."
                .into(),
            capture_again,
        });
    }
    None
}

/// No `Authorization`, `Cookie` or `Set-Cookie` header anywhere, though the capture holds
/// traffic that carries them (Entra ID's answers, or a hybrid modern auth offer a client
/// would answer with a Bearer): a browser HAR exported sanitized.
fn credentials_stripped(e: &Evidence) -> Option<Limit> {
    // Fiddler saves what it saw; browsers sanitize their HAR export.
    if e.format != Format::Har || e.coverage.relevant_sessions == 0 {
        return None;
    }
    let decrypted = e.sessions.iter().filter(|s| !s.flags.tunnel);
    let kept_any = decrypted
        .clone()
        .any(|s| s.credential.is_some() || s.kept.cookies);
    if kept_any || decrypted.count() < 2 {
        return None;
    }
    // Only where credentials were due: Entra ID answered (it always sets cookies), or
    // Exchange offered hybrid modern auth (a client that takes it up presents a Bearer).
    // Anonymous traffic (autodiscover v2, a web host's page) holds none in any export.
    let due = e.coverage.entra_sessions > 0
        || e.events.iter().any(|ev| {
            matches!(ev, Event::Challenge(c)
                if c.bearer().is_some_and(|b| b.authorization_uri.is_some()))
        });
    if !due {
        return None;
    }
    Some(Limit {
        id: "credentials-stripped",
        what: format!(
            "No Authorization, Cookie or Set-Cookie header in any of the {} session(s): the \
             HAR was exported sanitized (a browser's default export) or stripped.",
            e.coverage.sessions
        ),
        consequence: "Which tokens were presented and their claims (exchange-oauth-\
                      error's token, auth-loop's refused fresh token, bearer presented to \
                      Exchange), whether the client answered Bearer with Basic, NTLM or \
                      Negotiate (hma-ignored, hma-declined: legacy auth in use), the device \
                      (PRT) cookie. Challenges and Entra ID's answers are still read."
            .into(),
        capture_again: "Export the HAR with its sensitive data (Edge/Chrome DevTools: \
                        Network > settings > Allow to generate HAR with sensitive data, then \
                        Export HAR (with sensitive data)), or capture with Fiddler; share it \
                        through traceadal redact."
            .into(),
    })
}

/// Failures seen without their beginning: no challenge from Exchange anywhere, but a token
/// flow that did not end well or an Entra ID error.
fn started_late(e: &Evidence) -> Option<Limit> {
    let challenged = e
        .events
        .iter()
        .any(|ev| matches!(ev, Event::Challenge(c) if c.status == 401));
    if challenged {
        return None;
    }
    let failed: Vec<u64> = e
        .flows
        .iter()
        .filter(|f| f.state != State::Ok)
        .map(|f| f.first_session)
        .collect();
    let aad_error = e.events.iter().find_map(|ev| match ev {
        Event::TokenResult(r) if matches!(r.outcome, crate::auth::TokenOutcome::AadError(_)) => {
            Some(r.session)
        }
        _ => None,
    });
    let first = failed.iter().copied().chain(aad_error).min()?;
    Some(Limit {
        id: "capture-started-late",
        what: format!(
            "No 401 challenge anywhere, yet a failure is under way from session {first}: the \
             capture starts after the client was challenged."
        ),
        consequence: "The challenge is missing: which resource Exchange named and whether it \
                      offered Bearer (hma-not-advertised, http-resource, the challenge half \
                      of spn-missing) cannot be judged."
            .into(),
        capture_again: "Start the capture first, then quit Outlook (or sign out of the app) \
                        and start it again, and reproduce."
            .into(),
    })
}

/// Bodies cut short by the capture or removed by a `redact` copy.
fn bodies_missing(e: &Evidence) -> Option<Limit> {
    let removed: Vec<u64> = e
        .sessions
        .iter()
        .filter(|s| s.kept.body_removed)
        .map(|s| s.id)
        .collect();
    let cut: Vec<u64> = e
        .sessions
        .iter()
        .filter(|s| s.kept.body_cut && !s.kept.body_removed)
        .map(|s| s.id)
        .collect();
    if removed.is_empty() && cut.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    if !removed.is_empty() {
        what.push(format!(
            "{} session(s) hold a traceadal redact placeholder instead of a body (sessions \
             {}): a copy made with --drop-bodies-except-auth or of bodies that did not decode",
            removed.len(),
            session_list(&removed)
        ));
    }
    if !cut.is_empty() {
        what.push(format!(
            "{} session(s) hold a body stored cut short (sessions {})",
            cut.len(),
            session_list(&cut)
        ));
    }
    Some(Limit {
        id: "bodies-missing",
        what: format!("{}.", what.join("; ")),
        consequence: "The rules read only sign-in, token and EWS bodies (a copy keeps those); \
                      an error page, an autodiscover answer or a MAPI answer in another body \
                      cannot be shown."
            .into(),
        capture_again: "Save the sessions whole (Fiddler: File > Save > All Sessions, with \
                        streaming off) and share the original through traceadal redact \
                        without --drop-bodies-except-auth."
            .into(),
    })
}

/// Times that cannot be placed: a local time with no offset, a session that ends before
/// it starts, a clock that jumps back, a capture timed after now.
fn clock(e: &Evidence) -> Option<Limit> {
    let mut what = Vec::new();
    let naive: Vec<u64> = e
        .errors
        .iter()
        .filter(|p| p.message == NO_UTC_OFFSET)
        .filter_map(|p| p.session)
        .collect();
    if !naive.is_empty() {
        what.push(format!(
            "{} entr(ies) give startedDateTime without a UTC offset (read as UTC; sessions {})",
            naive.len(),
            session_list(&naive)
        ));
    }
    let backwards: Vec<u64> = e
        .sessions
        .iter()
        .filter(|s| matches!((s.start, s.end), (Some(a), Some(b)) if a > b))
        .map(|s| s.id)
        .collect();
    if !backwards.is_empty() {
        what.push(format!(
            "{} session(s) end before they begin (ClientDoneResponse before \
             ClientBeginRequest; sessions {})",
            backwards.len(),
            session_list(&backwards)
        ));
    }
    // Fiddler numbers sessions as requests begin: a start a minute before the previous
    // session's is the machine's clock set back (a time-zone or daylight-saving change).
    let jump = TimeDelta::seconds(60);
    let mut out_of_order = Vec::new();
    let mut last: Option<DateTime<FixedOffset>> = None;
    for s in e.sessions {
        if let Some(t) = s.start {
            match last {
                Some(l) if t + jump < l => out_of_order.push(s.id),
                _ => last = Some(t),
            }
        }
    }
    if !out_of_order.is_empty() {
        what.push(format!(
            "{} session(s) start more than a minute before a session numbered earlier \
             (sessions {})",
            out_of_order.len(),
            session_list(&out_of_order)
        ));
    }
    let future: Vec<u64> = e
        .sessions
        .iter()
        .filter(|s| s.start.is_some_and(|t| t > e.now + TimeDelta::days(1)))
        .map(|s| s.id)
        .collect();
    if !future.is_empty() {
        what.push(format!(
            "{} session(s) are timed after today (the capturing machine's clock was ahead; \
             sessions {})",
            future.len(),
            session_list(&future)
        ));
    }
    if what.is_empty() {
        return None;
    }
    Some(Limit {
        id: "clock-odd",
        what: format!("{}.", what.join("; ")),
        consequence: "Durations and the order of retries can be wrong: a loop's length, the \
                      hourly refresh told from a retry, a token's expiry against the session's \
                      time."
            .into(),
        capture_again: "Capture on a machine whose clock is synchronised (w32tm /resync) and \
                        save as SAZ, or export the HAR from a current browser (startedDateTime \
                        with its offset)."
            .into(),
    })
}

const NET_EXPORT: &str = "Log again with edge://net-export (or chrome://net-export; new \
Teams and new Outlook log through Edge WebView2) set to \"Include raw bytes (will include cookies \
and credentials)\", reproduce, then Stop Logging; or capture with Fiddler.";

/// A NetLog in its default mode ("Strip private data"): Chrome replaced cookies and
/// credentials with byte counts.
fn netlog_stripped(e: &Evidence) -> Option<Limit> {
    let stripped: Vec<u64> = e
        .sessions
        .iter()
        .filter(|s| s.flags.credentials_stripped)
        .map(|s| s.id)
        .collect();
    if stripped.is_empty() {
        return None;
    }
    Some(Limit {
        id: "credentials-stripped",
        what: format!(
            "The NetLog was captured in its default mode (\"Strip private data\"): the \
             cookies and credentials of {} session(s) are replaced by byte counts (sessions {}).",
            stripped.len(),
            session_list(&stripped)
        ),
        consequence: "Which tokens were presented and their claims (exchange-oauth-error's \
                      token, auth-loop's refused fresh token, bearer presented to Exchange), \
                      whether the client answered Bearer with Basic, NTLM or Negotiate \
                      (hma-ignored, hma-declined), the device (PRT) cookie. Challenges and the \
                      heads of Entra ID's answers are still read."
            .into(),
        capture_again: NET_EXPORT.into(),
    })
}

/// A NetLog without raw bytes: bodies went over the wire and the log holds none of them.
fn netlog_unrecorded(e: &Evidence) -> Option<Limit> {
    let unrecorded: Vec<u64> = e
        .sessions
        .iter()
        .filter(|s| s.flags.body_unrecorded)
        .map(|s| s.id)
        .collect();
    if unrecorded.is_empty() {
        return None;
    }
    Some(Limit {
        id: "bodies-not-recorded",
        what: format!(
            "The NetLog was captured without \"Include raw bytes\": {} session(s) sent or \
             received a body it does not hold (sessions {}).",
            unrecorded.len(),
            session_list(&unrecorded)
        ),
        consequence: "Everything in a body: Entra ID's AADSTS errors (JSON, sign-in page), a \
                      token request's resource and client, Autodiscover and EWS answers, \
                      federation steps. The rules that read them cannot fire, and a capture \
                      whose answers the diagnosis needs is inconclusive, never OK."
            .into(),
        capture_again: NET_EXPORT.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-04T00:00:00Z").unwrap()
    }

    fn limits(sessions: Vec<crate::capture::Session>) -> Vec<Limit> {
        limits_with(sessions, vec![])
    }

    fn limits_with(
        sessions: Vec<crate::capture::Session>,
        errors: Vec<SessionError>,
    ) -> Vec<Limit> {
        let limits_of = crate::capture::DecodeLimits::default();
        let events: Vec<Event> = sessions
            .iter()
            .flat_map(|s| crate::auth::events_of(s, &limits_of))
            .collect();
        let summaries: Vec<SessionSummary> = sessions.iter().map(SessionSummary::of).collect();
        let flows = crate::flows::build(&events, &summaries);
        let coverage = super::super::coverage::measure(&summaries, &events, &errors);
        measure(&Evidence {
            sessions: &summaries,
            events: &events,
            flows: &flows,
            coverage: &coverage,
            errors: &errors,
            format: Format::Har,
            now: now(),
        })
    }

    fn ids(l: &[Limit]) -> Vec<&'static str> {
        l.iter().map(|l| l.id).collect()
    }

    fn ews(id: u64) -> S {
        S::new(
            id,
            "POST",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            200,
        )
    }

    #[test]
    fn a_plain_healthy_capture_has_no_limit() {
        let s = vec![
            S::new(
                1,
                "GET",
                "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                200,
            )
            .req_headers(&[("Authorization", "Bearer x")])
            .0,
            ews(2).req_headers(&[("Cookie", "X-BackEndCookie=1")]).0,
        ];
        assert_eq!(ids(&limits(s)), Vec::<&str>::new());
    }

    #[test]
    fn a_sanitized_export_is_named_and_one_credential_anywhere_clears_it() {
        let bare = || {
            vec![
                S::new(1, "GET", "https://outlook.office.com/owa/", 200).0,
                ews(2).0,
                S::new(
                    4,
                    "GET",
                    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                    200,
                )
                .0,
            ]
        };
        // Without Entra ID's answers or a modern-auth offer, no credential was due: an
        // anonymous capture is not a sanitized one.
        let anonymous = vec![
            S::new(1, "GET", "https://outlook.office.com/owa/", 200).0,
            ews(2).0,
        ];
        assert_eq!(ids(&limits(anonymous)), Vec::<&str>::new());
        let l = limits(bare());
        assert_eq!(ids(&l), vec!["credentials-stripped"]);
        assert!(
            l[0].consequence.contains("hma-ignored"),
            "{}",
            l[0].consequence
        );
        let mut with_cookie = bare();
        with_cookie.push(
            S::new(3, "GET", "https://www.bing.com/", 200)
                .resp_headers(&[("Set-Cookie", "MUID=1")])
                .0,
        );
        assert_eq!(ids(&limits(with_cookie)), Vec::<&str>::new());
    }

    #[test]
    fn clock_oddities_each_say_what_they_saw() {
        let at = |id: u64, t: &str| {
            let mut s = ews(id).req_headers(&[("Authorization", "Bearer x")]).0;
            s.timers.client_begin_request = DateTime::parse_from_rfc3339(t).ok();
            s
        };
        let mut backwards = at(3, "2026-11-30T10:00:05Z");
        backwards.timers.client_done_response =
            DateTime::parse_from_rfc3339("2026-11-30T10:00:01Z").ok();
        let sessions = vec![
            at(1, "2026-11-30T10:00:00Z"),
            at(2, "2026-11-30T09:00:00Z"),
            backwards,
            at(4, "2099-01-01T00:00:00Z"),
        ];
        let errors = vec![SessionError {
            session: Some(1),
            message: NO_UTC_OFFSET.into(),
        }];
        let l = limits_with(sessions, errors);
        assert_eq!(ids(&l), vec!["clock-odd"]);
        let w = &l[0].what;
        for needle in [
            "1 entr(ies) give startedDateTime without a UTC offset (read as UTC; sessions 1)",
            "end before they begin (ClientDoneResponse before ClientBeginRequest; sessions 3)",
            "more than a minute before a session numbered earlier (sessions 2)",
            "timed after today (the capturing machine's clock was ahead; sessions 4)",
        ] {
            assert!(w.contains(needle), "{needle:?} in {w}");
        }
        // Sessions a few seconds apart in either order are concurrency, not a clock.
        let l = limits(vec![
            at(1, "2026-11-30T10:00:05Z"),
            at(2, "2026-11-30T10:00:00Z"),
        ]);
        assert_eq!(ids(&l), Vec::<&str>::new());
    }

    #[test]
    fn removed_and_cut_bodies_are_listed_apart() {
        let mut cut = ews(2).req_headers(&[("Authorization", "Bearer x")]).0;
        if let Some(r) = cut.response.as_mut() {
            r.body.raw = b"<soap".to_vec();
            r.body.truncated = true;
        }
        let removed = S::new(1, "GET", "https://mail.contoso.com/owa/", 200)
            .resp_body("[traceadal redact: response body dropped (812 bytes): not read]")
            .0;
        let l = limits(vec![removed, cut]);
        assert_eq!(ids(&l), vec!["bodies-missing"]);
        assert!(
            l[0].what.starts_with(
                "1 session(s) hold a traceadal redact placeholder instead of a body (sessions 1)"
            ),
            "{}",
            l[0].what
        );
        assert!(
            l[0].what
                .contains("1 session(s) hold a body stored cut short (sessions 2)."),
            "{}",
            l[0].what
        );
    }

    #[test]
    fn process_limits_need_process_information() {
        let from = |id: u64, url: &str, p: &str| {
            let mut s = S::new(id, "GET", url, 200)
                .req_headers(&[("Authorization", "Bearer x")])
                .0;
            s.process = Some(p.into());
            s
        };
        // Only a browser and a updater: no Outlook, no WAM, no flow.
        let l = limits(vec![
            from(1, "https://www.bing.com/", "msedge:1"),
            from(2, "https://mail.contoso.com/owa/", "msedge:1"),
            from(3, "https://ctldl.windowsupdate.com/", "svchost:9"),
        ]);
        assert_eq!(ids(&l), vec!["client-process-missing"]);
        assert!(
            l[0].what.contains("processes are msedge, svchost."),
            "{}",
            l[0].what
        );
        // Outlook with its broker, or a capture without process information: nothing.
        let l = limits(vec![
            from(1, "https://mail.contoso.com/mapi/", "OUTLOOK.EXE:1"),
            from(2, "https://www.bing.com/", "microsoft.aad.brokerplugin:2"),
        ]);
        assert_eq!(ids(&l), Vec::<&str>::new());
        let l = limits(vec![
            S::new(1, "GET", "https://www.bing.com/", 200)
                .req_headers(&[("Authorization", "Bearer x")])
                .0,
        ]);
        assert_eq!(ids(&l), vec!["no-ticket-hosts"]);
        // A proxy refused the tunnel to Exchange Online: the capture holds its answer
        // (proxy-auth-required reads it), so it is not blind to the ticket's hosts.
        let mut refused = S::new(2, "CONNECT", "outlook.office365.com:443", 407);
        refused.0.flags.tunnel = true;
        let l = limits(vec![
            S::new(1, "GET", "https://www.bing.com/", 200)
                .req_headers(&[("Authorization", "Bearer x")])
                .0,
            refused.0,
        ]);
        assert_eq!(ids(&l), Vec::<&str>::new());
    }

    /// A NetLog's default mode and a log without raw bytes each say so, with their sessions;
    /// neither flag, no NetLog limit.
    #[test]
    fn netlog_modes_name_what_they_left_out() {
        let mut stripped = ews(1)
            .req_headers(&[("Authorization", "[812 bytes were stripped]")])
            .0;
        stripped.flags.credentials_stripped = true;
        let mut unrecorded = S::new(
            2,
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            400,
        )
        .0;
        unrecorded.flags.body_unrecorded = true;
        let l = limits(vec![stripped.clone(), unrecorded]);
        assert_eq!(ids(&l), vec!["credentials-stripped", "bodies-not-recorded"]);
        assert!(l[0].what.ends_with("(sessions 1)."), "{}", l[0].what);
        assert!(
            l[1].what
                .starts_with("The NetLog was captured without \"Include raw bytes\": 1 session(s)"),
            "{}",
            l[1].what
        );
        stripped.flags.credentials_stripped = false;
        assert_eq!(ids(&limits(vec![stripped])), Vec::<&str>::new());
    }

    /// Outlook challenged for a token, and no trace of the token traffic: the broker was
    /// not captured. A token request (or a token presented from the cache) clears it.
    #[test]
    fn outlook_challenged_without_any_token_traffic_misses_the_broker() {
        const HMA: &str = r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@72f988bf-0000-4000-8000-0123456789ab", authorization_uri="https://login.windows.net/common/oauth2/authorize""#;
        let challenged = |id: u64| {
            S::new(
                id,
                "POST",
                "https://mail.contoso.com/EWS/Exchange.asmx",
                401,
            )
            .req_headers(&[("Authorization", "Bearer")])
            .offers(&[HMA, "NTLM"])
            .process("outlook:42")
            .0
        };
        let l = limits(vec![challenged(1), challenged(2)]);
        assert_eq!(ids(&l), vec!["client-process-missing"]);
        assert!(
            l[0].what
                .starts_with("Exchange offered Bearer (session(s) 1, 2), but neither"),
            "{}",
            l[0].what
        );
        let token = S::new(3, "POST", "https://login.microsoftonline.com/common/oauth2/token", 200)
            .req_body("grant_type=refresh_token&resource=https%3A%2F%2Fmail.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c")
            .process("outlook:42")
            .0;
        assert_eq!(ids(&limits(vec![challenged(1), token])), Vec::<&str>::new());
    }
}

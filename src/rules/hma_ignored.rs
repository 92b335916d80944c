//! `hma-ignored`: Exchange offered modern auth and the client never went to Entra ID for it.
//!
//! After a Bearer challenge with `authorization_uri`, an Outlook with modern auth on asks
//! Entra ID for a token for the challenged host (or presents one it holds). When the capture
//! shows neither, and no Basic/NTLM/Negotiate answer either (`hma-declined`), something
//! stopped the client between the challenge and Entra ID. What the capture can tell apart
//! is said in the evidence:
//! - CONNECTs to Entra ID's hosts refused or unanswered: a proxy or firewall blocks Entra ID;
//! - the client reached Entra ID for other resources: modern auth is off for this mailbox or
//!   host (registry, an old build), not the network;
//! - no traffic to Entra ID at all: modern auth is off on the client, or the Windows broker's
//!   (WAM's) traffic did not go through the capture; the capture cannot tell these apart.
//!
//! Does not trigger: a host for which any flow, any Bearer token or any legacy credential is
//! in the capture; autodiscover URLs abandoned for another host's autodiscover where modern
//! auth was used (Outlook tries the root domain, autodiscover.<domain>, redirects); when the tunnels to Entra ID were not
//! decrypted (the capture is blind there: the verdict says inconclusive); a host none of
//! whose URLs was challenged twice (a probe, or a capture that ended before the client came
//! back); requests to Entra ID whose bodies the capture did not record (a NetLog without raw
//! bytes: their resource is unknown, so they may be the token requests for these hosts).

use super::exchange::{self, hma_offers};
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::login::is_authority_host;
use crate::capture::url_parts::strip_query;

pub fn check(cx: &Context) -> Vec<Finding> {
    let offers = hma_offers(cx);
    if offers.is_empty() {
        return Vec::new();
    }
    let used = |host: &str| {
        cx.flows
            .iter()
            .any(|f| f.resource.host() == host || f.challenge_host.as_deref() == Some(host))
            || cx
                .sessions
                .iter()
                .any(|s| s.host.as_deref() == Some(host) && s.credential.is_some())
    };
    // Autodiscover tries several URLs (the root domain, autodiscover.<domain>, a redirect):
    // one abandoned for another where modern auth was used is no problem.
    let is_autodiscover = |id: &u64| {
        cx.session(*id)
            .is_some_and(|s| exchange::vdir_of_path(&s.url) == Some(exchange::Vdir::Autodiscover))
    };
    let autodiscover_used = offers
        .iter()
        .any(|(h, s)| s.iter().any(is_autodiscover) && used(h));
    let entra = Entra::of(cx);
    if entra.blind > 0 && entra.decrypted == 0 {
        return Vec::new();
    }
    let unread_logins = cx
        .sessions
        .iter()
        .any(|s| s.flags.body_unrecorded && s.host.as_deref().is_some_and(is_authority_host));
    if unread_logins && entra.refused.is_empty() {
        return Vec::new();
    }
    // A host counts when the client came back to the same URL and still did not go to
    // Entra ID: one offer per URL is a probe, or a capture that ended too soon.
    let ignored: Vec<(&str, &Vec<u64>)> = offers
        .iter()
        .filter(|(host, _)| !used(host))
        .filter(|(_, sessions)| !(autodiscover_used && sessions.iter().all(is_autodiscover)))
        .filter(|(_, sessions)| {
            let mut urls: Vec<&str> = sessions
                .iter()
                .filter_map(|s| cx.session(*s))
                .map(|s| strip_query(&s.url))
                .collect();
            let all = urls.len();
            urls.sort_unstable();
            urls.dedup();
            urls.len() < all
        })
        .map(|(h, s)| (*h, s))
        .collect();
    if ignored.is_empty() {
        return Vec::new();
    }
    let why = if !entra.refused.is_empty() {
        format!(
            "The client tried to reach Entra ID and was stopped: {} CONNECT(s) to {} refused or \
             unanswered (sessions {}). A proxy or firewall blocks Entra ID.",
            entra.refused.len(),
            entra.hosts.join(", "),
            session_list(&entra.refused)
        )
    } else if entra.decrypted > 0 {
        format!(
            "The client reached Entra ID ({} request(s), for other resources) but never asked \
             a token for these hosts: modern auth is off for this mailbox on the client, not \
             blocked on the network.",
            entra.decrypted
        )
    } else {
        "No request to Entra ID at all: either modern auth is off on the client (EnableADAL=0, \
         an old build), or the Windows broker's (WAM's) traffic did not go through the \
         capture; this capture cannot tell which."
            .to_string()
    };
    let hosts: Vec<&str> = ignored.iter().map(|(h, _)| *h).collect();
    let offered: Vec<String> = ignored
        .iter()
        .map(|(h, s)| format!("{h} {} time(s) (sessions {})", s.len(), session_list(s)))
        .collect();
    let mut sessions: Vec<u64> = ignored
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    sessions.extend(entra.refused.iter().copied());
    vec![Finding {
        id: "hma-ignored".into(),
        severity: Severity::Error,
        title: format!(
            "{} offered modern auth and the client never asked Entra ID for a token",
            hosts.join(", ")
        ),
        evidence: format!(
            "Bearer challenges with authorization_uri from {}; no token request for them, no \
             token presented, no other credential. {why}",
            offered.join("; "),
        ),
        fix: if entra.refused.is_empty() {
            "Check modern auth on the client: HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\\
             Identity must not set EnableADAL=0; update Outlook. If it is on, capture again \
             with every process captured (Fiddler: All Processes; for the Windows broker, the \
             AppContainer loopback exemption in WinConfig) to see the sign-in."
                .into()
        } else {
            "Allow the client to reach login.microsoftonline.com, login.windows.net, \
             login.microsoft.com and aadcdn.msftauth.net without SSL inspection or \
             authentication at the proxy (Microsoft 365 URLs and IP ranges, category \
             Optimize/Allow)."
                .into()
        },
        sessions: sorted(sessions),
        remedy: None,
    }]
}

/// What the capture holds of Entra ID's hosts.
struct Entra {
    /// Decrypted requests to an authority host.
    decrypted: usize,
    /// Established tunnels to an authority host never decrypted.
    blind: usize,
    /// Tunnels to an authority host refused (status 400 and up) or unanswered.
    refused: Vec<u64>,
    /// The authority hosts those tunnels went to.
    hosts: Vec<String>,
}

impl Entra {
    fn of(cx: &Context) -> Entra {
        let mut e = Entra {
            decrypted: 0,
            blind: 0,
            refused: Vec::new(),
            hosts: Vec::new(),
        };
        for s in cx.sessions {
            let Some(host) = s.host.as_deref().filter(|h| is_authority_host(h)) else {
                continue;
            };
            if !s.flags.tunnel {
                e.decrypted += 1;
            } else if s.status.is_some_and(|c| c < 400) {
                e.blind += 1;
            } else {
                e.refused.push(s.id);
                if !e.hosts.iter().any(|h| h == host) {
                    e.hosts.push(host.to_string());
                }
            }
        }
        // A tunnel followed by decrypted sessions was decrypted, not blind.
        if e.decrypted > 0 {
            e.blind = 0;
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{build, run, HMA, S};
    use super::*;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";

    fn offer(id: u64, t: i64) -> S {
        S::new(id, "POST", AD, 401).at(t).offers(&[HMA, "NTLM"])
    }

    fn connect(id: u64, t: i64, status: u16) -> S {
        S::new(id, "CONNECT", "login.microsoftonline.com:443", status).at(t)
    }

    fn tunnel(s: S) -> S {
        let mut s = s;
        s.0.flags.tunnel = true;
        s
    }

    #[test]
    fn offers_never_followed_up_say_what_the_capture_can_tell() {
        let f = run(check, vec![offer(1, 0), offer(2, 15)]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].evidence.contains("cannot tell which"),
            "{}",
            f[0].evidence
        );
        let f = run(
            check,
            vec![offer(1, 0), tunnel(connect(2, 1, 403)), offer(3, 15)],
        );
        assert!(
            f[0].evidence
                .contains("A proxy or firewall blocks Entra ID"),
            "{}",
            f[0].evidence
        );
        assert_eq!(f[0].sessions, vec![1, 2, 3]);
    }

    #[test]
    fn used_blind_or_too_early_to_tell_is_no_finding() {
        // The client presented a token: modern auth in use.
        let used = vec![
            offer(1, 0),
            S::new(2, "POST", AD, 200)
                .at(2)
                .bearer(r#"{"aud":"https://autodiscover.contoso.com/"}"#),
        ];
        assert!(run(check, used).is_empty());
        // Entra ID's tunnel was not decrypted: the capture cannot see the sign-in.
        assert!(run(
            check,
            vec![offer(1, 0), tunnel(connect(2, 1, 200)), offer(3, 30)]
        )
        .is_empty());
        // Each URL challenged once: probes, or a capture that ended before the client came
        // back.
        let probes = vec![
            offer(1, 0),
            S::new(
                2,
                "POST",
                "https://autodiscover.contoso.com/EWS/Exchange.asmx",
                401,
            )
            .at(1)
            .offers(&[HMA]),
        ];
        assert!(run(check, probes).is_empty());
        // Token requests whose bodies a NetLog without raw bytes did not record: their
        // resource is unknown, so they may be for the offered host. The same requests with
        // their bodies read (for another resource) still leave the offer ignored.
        let login = |unrecorded: bool| {
            let mut s = S::new(
                2,
                "POST",
                "https://login.microsoftonline.com/common/oauth2/token",
                400,
            )
            .at(1);
            s.0.flags.body_unrecorded = unrecorded;
            s
        };
        assert!(run(check, vec![offer(1, 0), login(true), offer(3, 15)]).is_empty());
        assert_eq!(
            run(check, vec![offer(1, 0), login(false), offer(3, 15)]).len(),
            1
        );
        // A probe of another URL abandoned for one where the client did use modern auth.
        let a = build(vec![
            S::new(
                1,
                "POST",
                "https://contoso.com/autodiscover/autodiscover.xml",
                401,
            )
            .at(0)
            .offers(&[HMA]),
            offer(2, 1),
            S::new(3, "POST", AD, 200)
                .at(30)
                .bearer(r#"{"aud":"https://autodiscover.contoso.com/"}"#),
        ]);
        assert!(
            a.findings.iter().all(|f| f.id != "hma-ignored"),
            "{:#?}",
            a.findings
        );
    }
}

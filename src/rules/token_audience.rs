//! `token-audience-mismatch`: a token presented to a host it was not issued for.
//!
//! Every Bearer token presented to Exchange (on-premises virtual directories, Exchange
//! Online) and refused (400 and above, or no answer) is read for its `aud`: a URL
//! (`https://mail.contoso.com`), Exchange's AppId with a host
//! (`00000002-0000-0ff1-ce00-000000000000/mail.contoso.com@<tenant>`), or Exchange Online's
//! bare AppId or URL. An audience naming another host than the request's is the mismatch
//! Exchange answers with x-ms-diagnostics 2000003, found from the token itself: also when
//! the answer carries no diagnostic (a reverse proxy, a load balancer, a 401 without it).
//!
//! When Exchange did say 2000003 on the session, `exchange-oauth-error` holds it (it comes
//! first in `rules::RULES` and this rule yields to it): Exchange's own reason quotes the
//! audience it expected and the one it got, the proof an analyst needs; this rule adds the
//! cases Exchange does not explain.
//!
//! Behind TLS offload or a proxy that rewrites `Host` (the token names the public host, the
//! request seen here names an internal one), the finding says so and the fix is the proxy's.

use std::collections::BTreeMap;

use super::evidence::claims_line;
use super::exchange::looks_external;
use super::tokens::{exchange_host, is_exchange_online, refused};
use super::{sorted, Context, Finding, Severity};
use crate::auth::EXCHANGE_ONLINE_APP_ID;
use crate::capture::host_of;

/// What an audience names.
#[derive(Debug, PartialEq, Eq)]
enum Audience {
    /// A host (from a URL or Exchange's `AppId/host@realm` form), lower-cased.
    Host(String),
    /// Exchange Online by its AppId alone.
    ExchangeOnline,
}

/// The audiences of an `aud` claim (several when it was an array), leaving out the forms
/// this rule cannot judge (another application's GUID).
fn audiences(aud: &str) -> Vec<Audience> {
    aud.split_whitespace()
        .filter_map(|a| {
            let a = a.trim();
            if a.eq_ignore_ascii_case(EXCHANGE_ONLINE_APP_ID) {
                return Some(Audience::ExchangeOnline);
            }
            if let Some(rest) = a
                .get(..EXCHANGE_ONLINE_APP_ID.len() + 1)
                .filter(|p| p.eq_ignore_ascii_case(&format!("{EXCHANGE_ONLINE_APP_ID}/")))
                .map(|p| &a[p.len()..])
            {
                let host = rest.split('@').next().unwrap_or("").trim();
                return host_of(&format!("https://{host}/")).map(Audience::Host);
            }
            if a.contains("://") {
                return host_of(a).map(Audience::Host);
            }
            None
        })
        .collect()
}

/// Whether an audience is good for `host`.
fn fits(aud: &Audience, host: &str) -> bool {
    match aud {
        Audience::ExchangeOnline => is_exchange_online(host),
        Audience::Host(a) => a == host || (is_exchange_online(a) && is_exchange_online(host)),
    }
}

fn named(aud: &Audience) -> String {
    match aud {
        Audience::ExchangeOnline => "Exchange Online".into(),
        Audience::Host(h) => h.clone(),
    }
}

pub fn check(cx: &Context) -> Vec<Finding> {
    // (request host, audience named) -> sessions
    let mut seen: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for p in cx.presented() {
        let Some(host) = exchange_host(p.url) else {
            continue;
        };
        let Some(aud) = p.claims.aud.as_deref() else {
            continue;
        };
        let auds = audiences(aud);
        if auds.is_empty() || auds.iter().any(|a| fits(a, &host)) || !refused(cx, p.session) {
            continue;
        }
        seen.entry((host, named(&auds[0])))
            .or_default()
            .push(p.session);
    }
    seen.into_iter()
        .map(|((host, aud_host), sessions)| {
            let first = sessions[0];
            let claims = cx.claims_in(first).map(claims_line).unwrap_or_default();
            let exo_on_prem = aud_host == "Exchange Online" && !is_exchange_online(&host);
            let offload = !exo_on_prem && !looks_external(&host) && looks_external(&aud_host);
            let mut evidence = format!(
                "A token for {aud_host} was presented to {host} {} time(s) and refused, first \
                 in session {first}: {}. Token: {claims}.",
                sessions.len(),
                cx.describe(first),
            );
            let fix = if exo_on_prem {
                evidence
                    .push_str(" An Exchange Online token was presented to an on-premises server.");
                "The client used its Exchange Online token on-premises: the mailbox is on \
                 premises but the client believes it is in Exchange Online (or the reverse). \
                 Check where Autodiscover sends it (Get-Mailbox / Get-RemoteMailbox in the \
                 Exchange Management Shell (on-premises): the mailbox's location; \
                 Test-OAuthConnectivity -Service EWS -TargetUri https://<host>/ews/exchange.asmx \
                 -Mailbox <user>), then restart the client so it asks for a token for the \
                 on-premises URL."
                    .to_string()
            } else if offload {
                evidence.push_str(&format!(
                    " {host} looks internal and {aud_host} public: the request was seen after \
                     TLS offload or a proxy that rewrote the Host header."
                ));
                format!(
                    "The client asked for a token for {aud_host} and a load balancer or reverse \
                     proxy forwarded the request to {host} with the Host header rewritten: \
                     Exchange checks the audience against the host it is asked for. Configure \
                     the proxy to keep the client's Host header ({aud_host}), or publish Exchange \
                     under one name inside and out."
                )
            } else {
                format!(
                    "The client presented a token for {aud_host} to {host}. Outlook asks for a \
                     token per host it calls, by the URLs Autodiscover gives: check that the \
                     virtual directories' InternalUrl and ExternalUrl name the hosts clients \
                     really call (Exchange Management Shell (on-premises): \
                     Get-WebServicesVirtualDirectory | fl Server,InternalUrl,ExternalUrl; \
                     Get-MapiVirtualDirectory | fl Server,InternalUrl,ExternalUrl), that both \
                     names are service principal names of Office 365 Exchange Online \
                     (AppId {EXCHANGE_ONLINE_APP_ID}), and that no proxy rewrites the Host \
                     header; then restart the client."
                )
            };
            Finding {
                id: "token-audience-mismatch".into(),
                severity: Severity::Error,
                title: format!("A token for {aud_host} was presented to {host}"),
                sessions: sorted(sessions),
                evidence,
                fix,
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_no_token, build, run, HMA, S};
    use super::*;

    fn claims(aud: &str) -> String {
        format!(
            r#"{{"aud":"{aud}","tid":"72f988bf-0000-4000-8000-0123456789ab","appid":"d3590ed6-52b3-4102-aeff-aad2292ab01c","upn":"user@contoso.com","exp":1795000000}}"#
        )
    }

    fn presented(id: u64, url: &str, aud: &str, status: u16) -> S {
        S::new(id, "POST", url, status)
            .bearer(&claims(aud))
            .offers(&[HMA])
    }

    #[test]
    fn audiences_are_read_in_every_form() {
        assert_eq!(
            audiences("https://Mail.Contoso.com/"),
            vec![Audience::Host("mail.contoso.com".into())]
        );
        assert_eq!(
            audiences("00000002-0000-0ff1-ce00-000000000000/mail.contoso.com@72f988bf-0000-4000-8000-0123456789ab"),
            vec![Audience::Host("mail.contoso.com".into())]
        );
        assert_eq!(
            audiences("00000002-0000-0ff1-ce00-000000000000"),
            vec![Audience::ExchangeOnline]
        );
        assert!(audiences("00000003-0000-0000-c000-000000000000").is_empty());
        assert!(fits(
            &Audience::Host("outlook.office.com".into()),
            "outlook.office365.com"
        ));
        assert!(fits(&Audience::ExchangeOnline, "outlook.office365.com"));
        assert!(!fits(&Audience::ExchangeOnline, "mail.contoso.com"));
    }

    #[test]
    fn a_token_for_another_host_refused_without_a_diagnostic() {
        let f = run(
            check,
            vec![
                presented(
                    4,
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    "https://autodiscover.contoso.com",
                    401,
                ),
                presented(
                    5,
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    "https://autodiscover.contoso.com",
                    401,
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "token-audience-mismatch");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![4, 5]);
        assert_eq!(
            f[0].title,
            "A token for autodiscover.contoso.com was presented to mail.contoso.com"
        );
        assert_no_token(&f);
    }

    #[test]
    fn tls_offload_and_exchange_online_tokens_on_premises() {
        let f = run(
            check,
            vec![presented(
                4,
                "https://exch01.corp.contoso.local/EWS/Exchange.asmx",
                "https://mail.contoso.com",
                401,
            )],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].evidence.contains("TLS offload or a proxy"),
            "{}",
            f[0].evidence
        );
        assert!(
            f[0].fix.contains("keep the client's Host header"),
            "{}",
            f[0].fix
        );
        let f = run(
            check,
            vec![presented(
                4,
                "https://mail.contoso.com/mapi/emsmdb/",
                EXCHANGE_ONLINE_APP_ID,
                401,
            )],
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].title,
            "A token for Exchange Online was presented to mail.contoso.com"
        );
    }

    /// What must not trigger it.
    #[test]
    fn matching_accepted_unjudged_or_explained_do_not_trigger() {
        let quiet = vec![
            // The right host, any case, trailing slash, AppId/host form.
            presented(1, "https://mail.contoso.com/EWS/Exchange.asmx", "https://Mail.Contoso.com/", 401),
            presented(2, "https://mail.contoso.com/EWS/Exchange.asmx", "00000002-0000-0ff1-ce00-000000000000/mail.contoso.com@72f988bf-0000-4000-8000-0123456789ab", 401),
            // Exchange Online's hosts share one audience.
            presented(3, "https://outlook.office365.com/EWS/Exchange.asmx", "https://outlook.office.com", 401),
            presented(4, "https://outlook.office365.com/mapi/emsmdb/", EXCHANGE_ONLINE_APP_ID, 401),
            // Another host, but the server accepted it.
            presented(5, "https://mail.contoso.com/EWS/Exchange.asmx", "https://autodiscover.contoso.com", 200),
            // Not Exchange: Teams' and Graph's audiences are their own.
            presented(6, "https://teams.microsoft.com/api/mt/emea/beta/users/", "https://api.spaces.skype.com", 401),
            // An audience this rule cannot map (another app's GUID).
            presented(7, "https://mail.contoso.com/EWS/Exchange.asmx", "00000003-0000-0000-c000-000000000000", 401),
        ];
        assert!(run(check, quiet).is_empty());
        // Exchange's own 2000003 holds the session: one finding, exchange-oauth-error.
        let analysis = build(vec![presented(8, "https://mail.contoso.com/EWS/Exchange.asmx", "https://autodiscover.contoso.com", 401)
            .diag(r#"2000003;reason="The hostname component of the audience claim value is invalid.";error_category="invalid_resource""#)]);
        let ids: Vec<&str> = analysis.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"exchange-oauth-error"), "{ids:?}");
        assert!(!ids.contains(&"token-audience-mismatch"), "{ids:?}");
    }
}

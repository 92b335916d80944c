//! `autodiscover-redirect`: the Autodiscover redirects a client followed, counted per
//! lookup (`RedirectAddr`, `RedirectUrl`, HTTP 301/302/307): a loop, more hops than Outlook
//! follows (10), Exchange Online and on-premises sending the client to each other, a
//! redirect to a domain that is neither the user's nor Exchange Online's.
//!
//! Error when the lookup never reached settings for the address (a loop, too many hops, the
//! ping-pong); warning otherwise (an unexpected domain: Outlook asks the user whether to
//! trust it).

use std::collections::BTreeMap;

use super::autodiscover::{chains, Chain, Settled, EMS, EXO_PS, MAX_HOPS};
use super::{session_list, sorted, Context, Finding, Severity};

pub fn check(cx: &Context) -> Vec<Finding> {
    let all = chains(cx);
    let settled = Settled::of(cx, &all);
    // One finding per address and problem, however many lookups showed it.
    let mut by: BTreeMap<(Option<String>, &'static str), Vec<&Chain>> = BTreeMap::new();
    for c in &all {
        let problem = if c.ping_pong() && c.end.is_none_or(|e| !e.is_settings()) {
            "ping-pong"
        } else if c.looped.is_some() {
            "loop"
        } else if c.hops.len() > MAX_HOPS {
            "hops"
        } else if !c.unexpected().is_empty() {
            "domain"
        } else {
            continue;
        };
        by.entry((c.address.clone(), problem)).or_default().push(c);
    }
    by.into_iter()
        .map(|((address, problem), lookups)| {
            let first = lookups[0];
            let who = address.as_deref().unwrap_or("the address asked about");
            let got = settled.has(address.as_deref());
            let sessions = sorted(lookups.iter().flat_map(|c| c.sessions()).collect());
            let path: Vec<String> = first.hops.iter().map(|h| h.target.describe()).collect();
            let runs = if lookups.len() > 1 {
                format!(" The same in {} lookups.", lookups.len())
            } else {
                String::new()
            };
            let end = match first.end {
                Some(e) if e.is_settings() => format!(" It ended with settings (session {}).", e.session),
                Some(e) => format!(" It ended with an error (session {}).", e.session),
                None => " It never reached settings.".to_string(),
            };
            let mut chain = format!(
                "{} redirect(s) for {who} starting at {} (sessions {}): {}.{end}{runs}",
                first.hops.len(),
                first.answers.first().map(|a| a.url.as_str()).unwrap_or_default(),
                session_list(&sessions),
                path.join(" -> "),
            );
            let (title, severity, fix) = match problem {
                "ping-pong" => (
                    format!("Autodiscover for {who}: Exchange Online and on-premises Exchange send the client to each other"),
                    if got { Severity::Warning } else { Severity::Error },
                    format!(
                        "The mailbox is a remote mailbox on-premises (pointing to Exchange Online) \
                         and a mail user in Exchange Online (pointing on-premises): one of the two \
                         objects is wrong. Find where the mailbox is: in {EXO_PS} `Get-Mailbox {who}` \
                         or `Get-MailUser {who} | fl ExternalEmailAddress`; in the {EMS} \
                         `Get-Mailbox {who}` or `Get-RemoteMailbox {who} | fl RemoteRoutingAddress`. \
                         For a mailbox in Exchange Online, the on-premises remote mailbox's \
                         RemoteRoutingAddress must be <alias>@<tenant>.mail.onmicrosoft.com \
                         (`Set-RemoteMailbox {who} -RemoteRoutingAddress ...`); for a mailbox \
                         on-premises, no remote mailbox may exist for it and the cloud object \
                         must be a mail user whose ExternalEmailAddress is the on-premises address \
                         (fix the on-premises object and let Entra Connect synchronise it)."
                    ),
                ),
                "loop" => (
                    format!(
                        "Autodiscover redirect loop for {who}: {} is reached twice",
                        first.looped.as_ref().map(|t| t.describe()).unwrap_or_default()
                    ),
                    if got { Severity::Warning } else { Severity::Error },
                    format!(
                        "Each answer sends the client to a place that sends it back. For a \
                         RedirectAddr loop, check the target address of the recipient on each \
                         side: in the {EMS} `Get-RemoteMailbox {who} | fl RemoteRoutingAddress` \
                         (or `Get-MailUser {who} | fl ExternalEmailAddress`), in {EXO_PS} \
                         `Get-MailUser {who} | fl ExternalEmailAddress`. For a RedirectUrl or HTTP \
                         loop, check the redirect configured on the web server or load balancer in \
                         front of /autodiscover/ and the URL clients are given: \
                         `Get-ClientAccessService | fl Name,AutoDiscoverServiceInternalUri` ({EMS})."
                    ),
                ),
                "hops" => (
                    format!("Autodiscover for {who} took {} redirects (Outlook follows {MAX_HOPS})", first.hops.len()),
                    if got { Severity::Warning } else { Severity::Error },
                    format!(
                        "Outlook stops after {MAX_HOPS} redirects. Shorten the chain: point the \
                         autodiscover DNS record (or the SCP, `Get-ClientAccessService | fl \
                         Name,AutoDiscoverServiceInternalUri` in the {EMS}) at the server that \
                         answers, and give remote mailboxes their final target address \
                         (`Get-RemoteMailbox {who} | fl RemoteRoutingAddress`)."
                    ),
                ),
                _ => {
                    // Targets only: the title stays the same when other traffic renumbers the sessions.
                    let mut hops: Vec<String> = first.unexpected().iter().map(|h| h.target.describe()).collect();
                    hops.dedup();
                    let at: Vec<String> = first.unexpected().iter().map(|h| h.session.to_string()).collect();
                    chain.push_str(&format!(" Redirected to the unexpected domain at session(s) {}.", at.join(", ")));
                    (
                        format!("Autodiscover for {who} was redirected to an unexpected domain: {}", hops.join(", ")),
                        Severity::Warning,
                        format!(
                            "A redirect to a domain that is neither {} nor Exchange Online's makes \
                             Outlook ask the user whether to let that server configure the account \
                             (and hands it the credentials that follow). If the redirect is not \
                             yours (a web host's or hosting provider's), remove it from that web \
                             server's /autodiscover/ path and publish autodiscover.{} in DNS to \
                             Exchange; if it is yours, make the target a name in the user's domain.",
                            first.domain(),
                            first.domain()
                        ),
                    )
                }
            };
            Finding {
                id: "autodiscover-redirect".into(),
                severity,
                title,
                sessions,
                evidence: chain,
                fix,
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::autodiscover_testkit::*;
    use crate::rules::testkit::run;

    #[test]
    fn a_redirect_addr_loop_is_an_error() {
        let f = run(
            check,
            vec![
                redirect(
                    1,
                    AD,
                    "user@contoso.com",
                    "user@contoso.mail.onmicrosoft.com",
                ),
                redirect(
                    2,
                    EXO_AD,
                    "user@contoso.mail.onmicrosoft.com",
                    "user@contoso.com",
                ),
                redirect(
                    3,
                    AD,
                    "user@contoso.com",
                    "user@contoso.mail.onmicrosoft.com",
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].title.contains("send the client to each other"),
            "{}",
            f[0].title
        );
        assert_eq!(f[0].sessions, vec![1, 2, 3]);
        assert!(f[0].fix.contains("Set-RemoteMailbox"), "{}", f[0].fix);
    }

    #[test]
    fn a_url_loop_and_an_unexpected_domain() {
        let f = run(
            check,
            vec![
                ad(
                    1,
                    AD,
                    "user@contoso.com",
                    200,
                    &redirect_url_xml("https://mail.contoso.com/autodiscover/autodiscover.xml"),
                ),
                ad(
                    2,
                    "https://mail.contoso.com/autodiscover/autodiscover.xml",
                    "user@contoso.com",
                    200,
                    &redirect_url_xml(AD),
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].title.contains("loop"), "{}", f[0].title);
        let f = run(
            check,
            vec![
                S::new(
                    1,
                    "GET",
                    "http://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                    302,
                )
                .resp_header(
                    "Location",
                    "https://autodiscover.webhost-example.net/autodiscover/autodiscover.xml",
                ),
                ad(
                    2,
                    "https://autodiscover.webhost-example.net/autodiscover/autodiscover.xml",
                    "user@contoso.com",
                    200,
                    &settings_xml("mail.webhost-example.net", false),
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].title.contains("unexpected domain"), "{}", f[0].title);
    }

    #[test]
    fn too_many_hops() {
        let mut s = Vec::new();
        for i in 0..12u64 {
            let url = format!("https://ad{i}.contoso.com/autodiscover/autodiscover.xml");
            let next = format!(
                "https://ad{}.contoso.com/autodiscover/autodiscover.xml",
                i + 1
            );
            s.push(ad(
                i + 1,
                &url,
                "user@contoso.com",
                200,
                &redirect_url_xml(&next),
            ));
        }
        let f = run(check, s);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].title.contains("12 redirects"), "{}", f[0].title);
    }

    /// Does not trigger: one RedirectAddr to the tenant's routing domain then settings from
    /// Exchange Online; an HTTP redirect within the domain; the same lookup run twice.
    #[test]
    fn does_not_trigger() {
        let healthy = || {
            vec![
                redirect(
                    1,
                    AD,
                    "user@contoso.com",
                    "user@contoso.mail.onmicrosoft.com",
                ),
                exo_settings(2),
                S::new(
                    3,
                    "GET",
                    "http://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                    302,
                )
                .resp_header("Location", AD),
                redirect(
                    4,
                    AD,
                    "user@contoso.com",
                    "user@contoso.mail.onmicrosoft.com",
                ),
                exo_settings(5),
            ]
        };
        assert!(run(check, healthy()).is_empty());
        // A GET to one host of the organisation redirected to another of its hosts.
        let within = vec![
            S::new(
                1,
                "GET",
                "http://mail.contoso.com/autodiscover/autodiscover.xml",
                302,
            )
            .resp_header("Location", AD),
            onprem_settings(2),
        ];
        assert!(run(check, within).is_empty());
    }
}

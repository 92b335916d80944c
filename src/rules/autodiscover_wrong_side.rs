//! `autodiscover-wrong-side`: one address given settings by both on-premises Exchange and
//! Exchange Online. Each side answers settings only for a mailbox it hosts (for a mailbox on
//! the other side it answers RedirectAddr), so settings from both mean the mailbox exists
//! twice: a cloud mailbox made for an on-premises user (an Exchange licence given while the
//! ExchangeGuid was not synchronised), or an on-premises mailbox left behind after a move.
//!
//! Evidence is per address: lookups that started with it (directly, or through redirects)
//! and ended in settings on each side. Error: whichever settings Outlook keeps, it opens a
//! mailbox that is not the one mail is delivered to.

use std::collections::BTreeMap;

use super::autodiscover::{chains, EMS, EXO_PS};
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::autodiscover::is_exchange_online_host;
use crate::auth::AutodiscoverAnswer;
use crate::capture::url_parts::UrlParts;

/// Whether settings came from Exchange Online: the `MicrosoftOnline` flag or the host that
/// answered, or an answer whose published URLs are all Exchange Online's (Exchange Online
/// answering under a name of the organisation, a CNAME, is not on-premises).
fn online(a: &AutodiscoverAnswer) -> bool {
    a.from_exchange_online()
        || (!a.published.is_empty()
            && a.published
                .iter()
                .all(|p| is_exchange_online_host(UrlParts::split(&p.url).host())))
}

/// The hosts a settings answer publishes, once each.
fn hosts(a: &AutodiscoverAnswer) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &a.published {
        let h = UrlParts::split(&p.url).host().to_ascii_lowercase();
        if !h.is_empty() && !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

#[derive(Default)]
struct Sides<'a> {
    onprem: Vec<&'a AutodiscoverAnswer>,
    online: Vec<&'a AutodiscoverAnswer>,
    sessions: Vec<u64>,
}

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut by: BTreeMap<String, Sides> = BTreeMap::new();
    for c in chains(cx) {
        let (Some(address), Some(end)) = (c.address.clone(), c.end) else {
            continue;
        };
        if !end.is_settings() {
            continue;
        }
        let s = by.entry(address).or_default();
        if online(end) {
            s.online.push(end);
        } else {
            s.onprem.push(end);
        }
        s.sessions.extend(c.sessions());
    }
    by.into_iter()
        .filter(|(_, s)| !s.onprem.is_empty() && !s.online.is_empty())
        .map(|(who, s)| {
            let (on, ex) = (s.onprem[0], s.online[0]);
            let list = |v: &[&AutodiscoverAnswer]| {
                session_list(&sorted(v.iter().map(|a| a.session).collect()))
            };
            let marker = match ex.microsoft_online {
                Some(true) => "MicrosoftOnline True",
                Some(false) => "MicrosoftOnline False",
                None => "no MicrosoftOnline",
            };
            let evidence = format!(
                "On-premises Autodiscover ({}) gave settings for {who} (session(s) {}) publishing {}; \
                 Exchange Online ({}) gave settings for it too (session(s) {}): its own endpoints, {marker}.",
                on.host,
                list(&s.onprem),
                hosts(on).join(", "),
                ex.host,
                list(&s.online),
            );
            Finding {
                id: "autodiscover-wrong-side".into(),
                severity: Severity::Error,
                title: format!(
                    "Autodiscover for {who}: both on-premises Exchange and Exchange Online answer with settings (a mailbox on each side)"
                ),
                sessions: sorted(s.sessions),
                evidence,
                fix: format!(
                    "Each side gives settings only for a mailbox it hosts, so {who} has a mailbox \
                     on both. Find the one mail is delivered to. In the {EMS}: `Get-Recipient {who} \
                     | fl RecipientTypeDetails` (UserMailbox: on-premises; RemoteUserMailbox: \
                     in Exchange Online), `Get-Mailbox {who} | fl Database,ExchangeGuid`, \
                     `Get-RemoteMailbox {who} | fl RemoteRoutingAddress`. In {EXO_PS}: \
                     `Get-Recipient {who} | fl RecipientTypeDetails` (MailUser is right for an \
                     on-premises mailbox), `Get-Mailbox {who} | fl WhenMailboxCreated,ExchangeGuid`, \
                     `Get-MailUser {who} | fl ExternalEmailAddress`. Mailbox on-premises, and an \
                     (empty) cloud mailbox made when an Exchange Online licence was given while \
                     the ExchangeGuid was not synchronised: remove the user's Exchange Online \
                     licence (the cloud object turns back into a mail user), then in {EXO_PS} \
                     `Set-User {who} -PermanentlyClearPreviousMailboxInfo` once its contents are \
                     not needed, and make sure Entra Connect synchronises the ExchangeGuid. \
                     Mailbox moved to Exchange Online, and a mailbox left (or made again) \
                     on-premises: the on-premises object must be a remote mailbox pointing to the \
                     routing address: after saving what the on-premises mailbox holds, \
                     `Disable-Mailbox {who}` then `Enable-RemoteMailbox {who} \
                     -RemoteRoutingAddress <alias>@<tenant>.mail.onmicrosoft.com` in the {EMS}, \
                     then `Get-RemoteMailbox {who} | fl RemoteRoutingAddress` must show that \
                     address (correct it with `Set-RemoteMailbox {who} -RemoteRoutingAddress`)."
                ),
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

    fn exo_settings_for(id: u64, address: &str) -> S {
        ad(
            id,
            EXO_AD,
            address,
            200,
            &settings_xml("outlook.office365.com", true),
        )
    }

    /// Exchange Online's settings for an on-premises mailbox (a duplicate cloud mailbox).
    #[test]
    fn settings_from_both_sides_for_one_address() {
        let f = run(
            check,
            vec![onprem_settings(1), exo_settings_for(2, "user@contoso.com")],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].sessions, vec![1, 2]);
        assert!(
            f[0].evidence.contains("mail.contoso.com"),
            "{}",
            f[0].evidence
        );
        assert!(
            f[0].evidence.contains("MicrosoftOnline True"),
            "{}",
            f[0].evidence
        );
        assert!(f[0].fix.contains("PermanentlyClearPreviousMailboxInfo"));
        assert!(f[0].fix.contains("Enable-RemoteMailbox"));
    }

    /// On-premises settings (a mailbox left after the move) while another lookup of the same
    /// address reaches Exchange Online's settings through the routing address.
    #[test]
    fn onprem_settings_and_a_redirected_lookup_to_exchange_online() {
        let f = run(
            check,
            vec![
                routed(1),
                exo_settings(2),
                ad(
                    3,
                    "https://mail.contoso.com/autodiscover/autodiscover.xml",
                    "user@contoso.com",
                    200,
                    &settings_xml("mail.contoso.com", false),
                ),
            ],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].sessions, vec![1, 2, 3]);
    }

    /// Does not trigger: the normal hybrid path; an on-premises mailbox answered only
    /// on-premises; a cloud mailbox answered only by Exchange Online; settings for two
    /// different addresses (the user's own mailbox in Exchange Online, a shared mailbox
    /// on-premises); Exchange Online's settings under a name of the organisation (a CNAME:
    /// every published URL is Exchange Online's); an error from one side.
    #[test]
    fn does_not_trigger() {
        let normal = vec![routed(1), exo_settings(2)];
        assert!(run(check, normal).is_empty());
        assert!(run(check, vec![onprem_settings(1), onprem_settings(2)]).is_empty());
        assert!(run(check, vec![exo_settings_for(1, "user@contoso.com")]).is_empty());
        let delegate = vec![
            exo_settings_for(1, "user@contoso.com"),
            ad(
                2,
                AD,
                "shared@contoso.com",
                200,
                &settings_xml("mail.contoso.com", false),
            ),
        ];
        assert!(run(check, delegate).is_empty());
        let cname = vec![
            exo_settings_for(1, "user@contoso.com"),
            ad(
                2,
                AD,
                "user@contoso.com",
                200,
                &settings_xml("outlook.office365.com", false),
            ),
        ];
        assert!(run(check, cname).is_empty());
        let error = vec![
            ad(
                1,
                AD,
                "user@contoso.com",
                200,
                &error_xml("500", "The email address can't be found."),
            ),
            exo_settings_for(2, "user@contoso.com"),
        ];
        assert!(run(check, error).is_empty());
    }
}

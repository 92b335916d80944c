//! `autodiscover-error`: an Autodiscover answer that is an `<Error>` (POX `ErrorCode` 500,
//! 501, 600, 601, 602, 603; SOAP `InvalidUser`, `InternalServerError`, ...).
//!
//! Error when the capture never shows the client getting settings for that address (it has
//! no profile, no EWS URL, no free/busy), warning when it got them elsewhere (another
//! candidate URL answered).

use std::collections::BTreeMap;

use super::autodiscover::{chains, Settled, EMS, EXO_PS};
use super::{session_list, sorted, Context, Finding, Severity};
use crate::auth::AutodiscoverKind;

pub fn check(cx: &Context) -> Vec<Finding> {
    let settled = Settled::of(cx, &chains(cx));
    let mut by: BTreeMap<(Option<String>, String), Seen> = BTreeMap::new();
    for a in cx.autodiscover_answers() {
        let AutodiscoverKind::Error { code, message } = &a.answer else {
            continue;
        };
        let e = by
            .entry((a.address.clone(), code.clone()))
            .or_insert_with(|| Seen {
                message: message.clone(),
                sessions: Vec::new(),
                online: false,
            });
        e.sessions.push(a.session);
        e.online |= a.from_exchange_online();
    }
    by.into_iter()
        .map(|((address, code), Seen { message, sessions, online })| {
            let got = settled.has(address.as_deref());
            let who = address.as_deref().unwrap_or("the address asked about");
            let meaning = meaning(&code);
            let quoted = message
                .as_deref()
                .map(|m| format!(" \"{m}\""))
                .unwrap_or_default();
            let first = sessions.first().copied().unwrap_or_default();
            let side = if online { "Exchange Online" } else { "on-premises Exchange" };
            let outcome = if got {
                "The client got settings for it from another answer in this capture."
            } else {
                "The capture shows no answer with settings for it: the client has no Exchange \
                 settings (no profile, no EWS, no free/busy)."
            };
            Finding {
                id: "autodiscover-error".into(),
                severity: if got { Severity::Warning } else { Severity::Error },
                title: format!("Autodiscover answered error {code} for {who} ({meaning})"),
                sessions: sorted(sessions.clone()),
                evidence: format!(
                    "{side} answered ErrorCode {code}{quoted} {} time(s) (sessions {}; first: {}). {outcome}",
                    sessions.len(),
                    session_list(&sorted(sessions.clone())),
                    cx.describe(first)
                ),
                fix: fix(&code, who, online),
                remedy: None,
            }
        })
        .collect()
}

/// One address's answers with one code.
struct Seen {
    message: Option<String>,
    sessions: Vec<u64>,
    /// Exchange Online answered (some of) them.
    online: bool,
}

/// What an error code means (MS-OXDSCLI's POX codes, the SOAP names).
fn meaning(code: &str) -> &'static str {
    match code {
        "500" | "InvalidUser" => "the e-mail address can't be found",
        "501" => "bad address: no configuration options for it",
        "600" | "InvalidRequest" => "invalid request",
        "601" => "no provider for the requested response schema",
        "602" => "bad address: configuration errors",
        "603" | "InternalServerError" => "the Autodiscover server threw an internal error",
        "ServerBusy" => "the server is too busy",
        "InvalidDomain" => "the domain is not valid",
        "NotFederated" => "the organisation is not federated",
        _ => "an Autodiscover error",
    }
}

fn fix(code: &str, who: &str, online: bool) -> String {
    match code {
        "500" | "501" | "602" | "InvalidUser" if online => format!(
            "Exchange Online knows no recipient with {who}. In {EXO_PS}: \
             `Get-Recipient {who} | fl RecipientTypeDetails,PrimarySmtpAddress,EmailAddresses` \
             (is the address a proxy address of the mailbox or mail user? If the mailbox is \
             on-premises, the mail user's ExternalEmailAddress must point there). Check that \
             directory synchronisation (Entra Connect) has synchronised the object."
        ),
        "500" | "501" | "602" | "InvalidUser" => format!(
            "On-premises Exchange knows no mailbox or remote mailbox with {who}. In the {EMS}: \
             `Get-Recipient {who} | fl RecipientTypeDetails,PrimarySmtpAddress,EmailAddresses`; \
             for a mailbox moved to Exchange Online: `Get-RemoteMailbox {who} | fl \
             RemoteRoutingAddress` and, when it is missing or wrong, `Set-RemoteMailbox {who} \
             -RemoteRoutingAddress <alias>@<tenant>.mail.onmicrosoft.com`. For the whole \
             server: `Test-OutlookWebServices -Identity {who}`."
        ),
        "600" | "601" | "InvalidRequest" => format!(
            "The request the client sent was not one the server accepts (malformed XML, or an \
             AcceptableResponseSchema it has no provider for): look at the request body in \
             the session (a proxy or add-in rewriting it, a non-Outlook client asking the \
             Outlook endpoint). On the server, in the {EMS}: `Test-OutlookWebServices \
             -Identity {who}`."
        ),
        _ => format!(
            "The Autodiscover service failed on the server. In the {EMS}: \
             `Test-OutlookWebServices -Identity {who}`, the Autodiscover logs \
             (%ExchangeInstallPath%Logging\\Autodiscover) and the MSExchangeAutodiscoverAppPool \
             application pool; `Get-ClientAccessService | fl Name,AutoDiscoverServiceInternalUri` \
             for the URL clients inside the network are given."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::autodiscover_testkit::{ad, error_xml, onprem_settings, AD};

    #[test]
    fn error_without_settings_is_an_error_with_settings_a_warning() {
        let f = crate::rules::testkit::run(
            check,
            vec![ad(
                1,
                AD,
                "user@contoso.com",
                200,
                &error_xml("500", "The email address can't be found."),
            )],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].title.contains("error 500"), "{}", f[0].title);
        assert!(f[0].fix.contains("Get-RemoteMailbox"), "{}", f[0].fix);
        let f = crate::rules::testkit::run(
            check,
            vec![
                ad(
                    1,
                    "https://contoso.com/autodiscover/autodiscover.xml",
                    "user@contoso.com",
                    200,
                    &error_xml("603", "Internal error"),
                ),
                onprem_settings(2),
            ],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
    }

    /// Does not trigger: settings, redirects, 401s, another path's XML errors.
    #[test]
    fn does_not_trigger() {
        let f = crate::rules::testkit::run(
            check,
            vec![
                onprem_settings(1),
                ad(2, AD, "user@contoso.com", 401, ""),
                ad(
                    3,
                    "https://mail.contoso.com/EWS/Exchange.asmx",
                    "user@contoso.com",
                    200,
                    &error_xml("500", "x"),
                ),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
    }
}

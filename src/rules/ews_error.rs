//! `ews-error`: EWS calls Outlook and Teams make fail inside their answer.
//!
//! EWS answers most failures with a 200 (or a 500 SOAP fault) whose `ResponseMessage`
//! holds `ResponseClass="Error"` and a `ResponseCode`. Only codes that break a user's
//! feature and have a known fix are reported: the many codes of normal operation
//! (`ErrorItemNotFound` for a stale id, `ErrorNameResolutionNoResults` for a name that
//! resolves to nobody, ...) are not.
//!
//! Looks at: `Event::EwsAnswer` of every operation except `GetUserAvailability`
//! (`freebusy-error`) and `GetDelegate` (the delegate rules). One finding per code and host.

use std::collections::BTreeMap;

use super::{sorted, Context, Finding, Severity};

/// (code, severity, meaning, fix)
const CODES: &[(&str, Severity, &str, &str)] = &[
    ("ErrorImpersonateUserDenied", Severity::Error,
     "the caller may not impersonate this user: the account (an application, Teams' or a migration service) lacks the ApplicationImpersonation role for the mailbox",
     "Exchange Management Shell (on-premises): Get-ManagementRoleAssignment -Role ApplicationImpersonation | fl RoleAssigneeName,CustomResourceScope; New-ManagementRoleAssignment -Name <name> -Role ApplicationImpersonation -User <service account> [-CustomRecipientWriteScope <scope>]. In Exchange Online use RBAC for Applications or an application access policy for the app."),
    ("ErrorImpersonationDenied", Severity::Error,
     "the caller may not impersonate this user (ApplicationImpersonation missing or out of scope)",
     "Exchange Management Shell (on-premises): New-ManagementRoleAssignment -Role ApplicationImpersonation -User <service account>; check its scope covers the mailbox."),
    ("ErrorImpersonationFailed", Severity::Error,
     "impersonation of this user failed (the user could not be resolved or logged on as)",
     "Check the impersonated address resolves to one mailbox (Get-Recipient <address>) and the service account's ApplicationImpersonation assignment."),
    ("ErrorNonExistentMailbox", Severity::Error,
     "the address has no mailbox on the server that answered: in hybrid the mailbox is usually on the other side (moved, or never created here)",
     "Get-Recipient <address> | fl RecipientTypeDetails,ExternalEmailAddress,RemoteRoutingAddress on both sides; the caller should be sent to the mailbox's side by autodiscover (a RemoteMailbox on-premises for a cloud mailbox, a MailUser in Exchange Online for an on-premises one)."),
    ("ErrorMailboxMoveInProgress", Severity::Warning,
     "the mailbox is being moved (migration to or from Exchange Online); calls fail until the move completes",
     "Get-MoveRequest <mailbox> | Get-MoveRequestStatistics (Exchange Online PowerShell for an onboarding/offboarding move; Exchange Management Shell on-premises for a local move); the client recovers after the move completes and autodiscover points at the new location."),
    ("ErrorAccessDenied", Severity::Error,
     "the caller has no permission on the mailbox or folder it asked for",
     "Get-MailboxFolderPermission <mailbox>:\\<folder> and Get-MailboxPermission <mailbox> -User <caller>; grant what the feature needs (Add-MailboxFolderPermission / Add-MailboxPermission), on the side that holds the mailbox."),
    ("ErrorMailboxStoreUnavailable", Severity::Error,
     "the mailbox database was not available (dismounted, failing over)",
     "Exchange Management Shell (on-premises): Get-MailboxDatabaseCopyStatus <database>; Get-MailboxDatabase -Status | fl Name,Mounted."),
    ("ErrorServerBusy", Severity::Warning,
     "EWS throttled the caller (its budget is spent); the answer says how long to back off",
     "Transient: the client retries after BackOffMilliseconds. When it persists: Exchange Management Shell (on-premises): Get-ThrottlingPolicyAssociation <account>; Get-ThrottlingPolicy | fl EWS*."),
    ("ErrorConnectionFailed", Severity::Error,
     "the answering server could not reach the mailbox's server",
     "Exchange Management Shell (on-premises): Test-ServiceHealth and Get-ServerComponentState on the mailbox's server; check the network between the Exchange servers."),
    ("ErrorInternalServerError", Severity::Error,
     "EWS failed inside (an unhandled exception on the server)",
     "Read the MessageText; Exchange Management Shell (on-premises): the EWS logs (%ExchangeInstallPath%Logging\\Ews) of the server in X-BEServer; Test-ServiceHealth."),
    ("ErrorExceededConnectionCount", Severity::Warning,
     "the caller has too many concurrent EWS connections (throttling)",
     "Exchange Management Shell (on-premises): Get-ThrottlingPolicy | fl EwsMaxConcurrency; reduce the number of clients/add-ins using the account."),
];

pub fn check(cx: &Context) -> Vec<Finding> {
    // (code, host) -> (sessions, operations, messages)
    type Group = (Vec<u64>, Vec<String>, Vec<String>);
    let mut groups: BTreeMap<(&'static str, String), Group> = BTreeMap::new();
    for a in cx.ews_answers().filter(|a| !a.is_availability()) {
        let host = crate::capture::host_of(&a.url).unwrap_or_else(|| "<ews host>".into());
        let mut messages: Vec<(&str, Option<&str>)> = a
            .errors
            .iter()
            .filter_map(|e| Some((e.code.as_deref()?, e.message.as_deref())))
            .collect();
        if let Some(c) = a.fault_code.as_deref() {
            messages.push((c, a.fault.as_deref()));
        }
        for (code, message) in messages {
            let Some(known) = CODES.iter().find(|k| k.0.eq_ignore_ascii_case(code)) else {
                continue;
            };
            let g = groups.entry((known.0, host.clone())).or_default();
            g.0.push(a.session);
            let op = a
                .operation
                .clone()
                .unwrap_or_else(|| "(operation not readable)".into());
            if !g.1.contains(&op) {
                g.1.push(op);
            }
            if let Some(m) = message {
                if !g.2.iter().any(|x| x == m) && g.2.len() < 2 {
                    g.2.push(m.to_string());
                }
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|((code, host), (sessions, ops, messages))| {
            let (_, severity, meaning, fix) = CODES.iter().find(|k| k.0 == code)?;
            let sessions = sorted(sessions);
            Some(Finding {
                id: "ews-error".into(),
                severity: *severity,
                title: format!("EWS calls to {host} fail with {code}"),
                evidence: format!(
                    "{} EWS answer(s) from {host} ({}; first session {}: {}) hold {code}{}. Meaning: {meaning}.",
                    sessions.len(),
                    ops.join(", "),
                    sessions[0],
                    cx.describe(sessions[0]),
                    if messages.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " \"{}\"",
                            messages.join("\"; \"")
                        )
                    },
                ),
                fix: fix.to_string(),
                sessions,
                remedy: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;

    fn req(op: &str) -> String {
        format!(
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:{op} xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></soap:Body></soap:Envelope>"#
        )
    }

    fn resp(op: &str, class: &str, code: &str) -> String {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:{op}Response xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:{op}ResponseMessage ResponseClass="{class}"><m:MessageText>Text of {code}.</m:MessageText><m:ResponseCode>{code}</m:ResponseCode></m:{op}ResponseMessage></m:ResponseMessages></m:{op}Response></s:Body></s:Envelope>"#
        )
    }

    /// A 200 to `op` whose one message has `class` and `code`.
    fn answered(id: u64, op: &str, class: &str, code: &str) -> S {
        ews(id, op, 200, &resp(op, class, code))
    }

    fn ews(id: u64, op: &str, status: u16, body: &str) -> S {
        S::new(
            id,
            "POST",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            status,
        )
        .req_body(&req(op))
        .resp_body(body)
    }

    #[test]
    fn known_codes_by_code_and_host() {
        let fault = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode><faultstring>The server cannot service this request right now. Try again later.</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode></detail></s:Fault></s:Body></s:Envelope>"#;
        let f = run(
            check,
            vec![
                answered(2, "GetFolder", "Error", "ErrorImpersonateUserDenied"),
                answered(3, "CreateItem", "Error", "ErrorImpersonateUserDenied"),
                ews(4, "FindItem", 500, fault),
            ],
        );
        let got: Vec<(&str, Severity, &[u64])> = f
            .iter()
            .map(|x| (x.title.as_str(), x.severity, x.sessions.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "EWS calls to mail.contoso.com fail with ErrorImpersonateUserDenied",
                    Severity::Error,
                    &[2, 3][..]
                ),
                (
                    "EWS calls to mail.contoso.com fail with ErrorServerBusy",
                    Severity::Warning,
                    &[4][..]
                ),
            ],
            "{f:#?}"
        );
        assert!(f[0].evidence.contains("GetFolder, CreateItem"));
        assert!(f[0].fix.contains("ApplicationImpersonation"));
    }

    /// Does not trigger: codes of normal operation, warnings, healthy answers, answers to bulk
    /// operations (not read), free/busy answers (freebusy-error's).
    #[test]
    fn does_not_trigger() {
        let big = format!(
            "{}<!--{}-->",
            resp("FindItem", "Error", "ErrorMailboxStoreUnavailable"),
            "x".repeat(3_000)
        );
        let f = run(
            check,
            vec![
                answered(2, "GetItem", "Error", "ErrorItemNotFound"),
                answered(3, "ResolveNames", "Error", "ErrorNameResolutionNoResults"),
                answered(4, "GetFolder", "Warning", "ErrorAccessDenied"),
                answered(5, "GetFolder", "Success", "NoError"),
                ews(6, "FindItem", 200, &big),
                ews(
                    7,
                    "GetUserAvailabilityRequest",
                    200,
                    &resp("GetUserAvailability", "Error", "ErrorAccessDenied"),
                ),
            ],
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}

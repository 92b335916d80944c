//! `delegate-empty`: EWS cannot read the owner's delegate list: the corrupt `LocalFreebusy`
//! item.
//!
//! Exchange keeps a mailbox's delegates in a hidden message, `LocalFreebusy`, in the
//! `Freebusy Data` folder of the non-IPM subtree. When it is damaged, `GetDelegate` answers
//! `ErrorDelegateMissingConfiguration` or `ErrorDelegateNoUser`, or an empty list although
//! Outlook shows delegates, and Teams refuses delegate scheduling.
//!
//! Looks at: every `GetDelegate` answer. An error code above is an `error`; an answered,
//! error-free, empty list is a `warning` (the mailbox may really have no delegates: then the
//! person scheduling is simply not one).

use super::evidence::owner_of;
use super::{sorted, Context, Finding, Severity};

/// Response codes that mean the delegate configuration cannot be read.
const CORRUPT_CODES: &[&str] = &["ErrorDelegateMissingConfiguration", "ErrorDelegateNoUser"];

pub fn check(cx: &Context) -> Vec<Finding> {
    let mut errors: Vec<(String, u64, String)> = Vec::new();
    let mut empty: Vec<(String, u64)> = Vec::new();
    for d in cx.delegate_checks() {
        let codes: Vec<&String> = d
            .response_codes
            .iter()
            .filter(|c| CORRUPT_CODES.iter().any(|k| k.eq_ignore_ascii_case(c)))
            .collect();
        if !codes.is_empty() {
            let text = d
                .message_texts
                .first()
                .map(|t| format!(" (\"{t}\")"))
                .unwrap_or_default();
            let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            errors.push((
                owner_of(d),
                d.session,
                format!("{}{text}", codes.join(", ")),
            ));
        } else if d.answered
            && d.delegates.is_empty()
            && d.response_codes.is_empty()
            && d.fault.is_none()
        {
            empty.push((owner_of(d), d.session));
        }
    }
    let (severity, sessions, what) = if !errors.is_empty() {
        let what: Vec<String> = errors
            .iter()
            .map(|(o, s, c)| format!("session {s}: GetDelegate for {o} answered {c}"))
            .collect();
        (
            Severity::Error,
            errors.iter().map(|e| e.1).collect::<Vec<_>>(),
            what,
        )
    } else if !empty.is_empty() {
        let what: Vec<String> = empty
            .iter()
            .map(|(o, s)| {
                format!("session {s}: GetDelegate for {o} answered NoError with no delegate")
            })
            .collect();
        (Severity::Warning, empty.iter().map(|e| e.1).collect(), what)
    } else {
        return Vec::new();
    };
    let owners: Vec<String> = {
        let mut o: Vec<String> = errors
            .iter()
            .map(|e| e.0.clone())
            .chain(empty.iter().map(|e| e.0.clone()))
            .collect();
        o.sort();
        o.dedup();
        o
    };
    let owner = owners.first().cloned().unwrap_or_default();
    let owner_arg = if owner.contains('@') {
        owner.as_str()
    } else {
        "owner@contoso.com"
    };
    vec![Finding {
        id: "delegate-empty".into(),
        severity,
        title: format!(
            "The delegate list of {} cannot be read (corrupt LocalFreebusy item?)",
            owners.join(", ")
        ),
        sessions: sorted(sessions),
        evidence: format!(
            "{}. Teams cannot confirm the delegate and refuses to schedule for the owner.",
            what.join("; ")
        ),
        fix: format!(
            "Recreate the owner's delegate configuration. 1) Note the current delegates (Outlook \
             as the owner: File > Account Settings > Delegate Access; Get-MailboxFolderPermission \
             {owner_arg}:\\Calendar). 2) Logged on as the owner (or with Full Access), start \
             MFCMapi: Session > Logon, pick the owner's profile, open the mailbox, then QuickStart \
             > Open Folder > Local Freebusy (it is in the mailbox's NON_IPM_SUBTREE / Freebusy \
             Data folder); select the message with subject LocalFreebusy and delete it (Table > \
             Delete message, permanent delete). 3) Re-add each delegate with Editor on the \
             calendar: Outlook's Delegate Access, or Add-MailboxFolderPermission -Identity \
             {owner_arg}:\\Calendar -User delegate@contoso.com -AccessRights Editor \
             -SharingPermissionFlags Delegate. 4) Check with Outlook's Delegate Access list and \
             retry scheduling in Teams after about an hour. If the owner really has no \
             delegates, add the person who schedules as one instead."
        ),
        remedy: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;
    use crate::auth::ews::tests::{resp, user, REQ};

    fn get_delegate(id: u64, body: &str) -> S {
        S::new(
            id,
            "POST",
            "https://mail.contoso.com/ews/exchange.asmx",
            200,
        )
        .req_body(REQ)
        .resp_body(body)
    }

    #[test]
    fn missing_configuration_is_an_error_with_the_mfcmapi_fix() {
        let body = resp("", "ErrorDelegateMissingConfiguration");
        let f = run(check, vec![get_delegate(4, &body)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("delegate-empty", Severity::Error)
        );
        assert_eq!(f[0].sessions, vec![4]);
        assert!(f[0]
            .evidence
            .contains("owner@contoso.com answered ErrorDelegateMissingConfiguration"));
        assert!(f[0].fix.contains("MFCMapi"));
        assert!(f[0].fix.contains("Local Freebusy"));
        assert!(f[0].fix.contains("-AccessRights Editor"));
    }

    #[test]
    fn an_empty_list_is_a_warning_and_delegates_are_not() {
        let f = run(check, vec![get_delegate(2, &resp("", "NoError"))]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        let with = resp(&user("bob@contoso.com", "Editor"), "NoError");
        assert!(run(check, vec![get_delegate(3, &with)]).is_empty());
        // An unanswered request (401, empty body) is delegate-ews-auth's business.
        let unanswered =
            S::new(5, "POST", "https://mail.contoso.com/ews/exchange.asmx", 401).req_body(REQ);
        assert!(run(check, vec![unanswered]).is_empty());
    }
}

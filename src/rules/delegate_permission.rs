//! `delegate-permission`: a delegate cannot schedule for the owner because of the calendar
//! permission EWS reports.
//!
//! Teams (through Exchange Online) checks a delegate with EWS `GetDelegate
//! IncludePermissions="true"` on the owner's on-premises mailbox. The delegate may schedule
//! only with Author or Editor on the owner's calendar (Editor is what Outlook's Delegate
//! Access sets by default). Reviewer, None or Custom gives Teams' "Looks like you don't have
//! permission to schedule meetings for this account".
//!
//! Looks at: every `GetDelegate` answer (`Event::Delegate`) and each `DelegateUser`'s
//! `CalendarFolderPermissionLevel`. One finding per owner mailbox.

use super::evidence::owner_of;
use super::exchange;
use super::{Context, Finding, Severity};

/// Calendar levels that do not allow scheduling on the owner's behalf.
const TOO_LOW: &[&str] = &["None", "Reviewer", "Custom"];

pub fn check(cx: &Context) -> Vec<Finding> {
    // (owner, "delegate: level") pairs, by session.
    let mut hits: Vec<(String, String, u64)> = Vec::new();
    for d in cx.delegate_checks() {
        for u in &d.delegates {
            let Some(level) = u.calendar_permission.as_deref() else {
                continue;
            };
            if TOO_LOW.iter().any(|l| l.eq_ignore_ascii_case(level)) {
                let who = u
                    .smtp
                    .clone()
                    .or_else(|| u.display_name.clone())
                    .unwrap_or_else(|| "(unnamed delegate)".into());
                hits.push((owner_of(d), format!("{who}: {level}"), d.session));
            }
        }
    }
    let by_owner = exchange::group(hits.iter().map(|(o, _, s)| (o.clone(), *s)));
    by_owner
        .into_iter()
        .map(|(owner, sessions)| {
            let mut who: Vec<String> = hits
                .iter()
                .filter(|(o, _, _)| *o == owner)
                .map(|(_, w, _)| w.clone())
                .collect();
            who.dedup();
            let first_delegate = who
                .first()
                .and_then(|w| w.split(':').next())
                .unwrap_or("delegate@contoso.com")
                .to_string();
            let owner_arg = if owner.contains('@') { owner.as_str() } else { "owner@contoso.com" };
            Finding {
                id: "delegate-permission".into(),
                severity: Severity::Error,
                title: format!(
                    "Delegate(s) of {owner} cannot schedule meetings for it: calendar permission below Author"
                ),
                evidence: format!(
                    "EWS GetDelegate for {owner} (session(s) {}) lists {}. Teams needs Author or \
                     Editor on the owner's calendar; otherwise it says \"Looks like you don't have \
                     permission to schedule meetings for this account\".",
                    sessions.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
                    who.join(", ")
                ),
                fix: format!(
                    "Give the delegate Editor on the owner's calendar as a delegate: in Outlook as \
                     the owner, File > Account Settings > Delegate Access > the delegate > \
                     Calendar: Editor; or in the Exchange Management Shell: \
                     Set-MailboxFolderPermission -Identity {owner_arg}:\\Calendar -User \
                     {first_delegate} -AccessRights Editor -SharingPermissionFlags Delegate \
                     (Add-MailboxFolderPermission when the delegate has no entry yet). Author is \
                     the minimum; Editor is Outlook's default. Teams picks the change up within \
                     about an hour."
                ),
                sessions,
                remedy: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, S};
    use super::*;
    use crate::auth::ews::tests::{resp, user, REQ};

    fn get_delegate(id: u64, users: &str) -> S {
        S::new(
            id,
            "POST",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            200,
        )
        .req_body(REQ)
        .resp_body(&resp(users, "NoError"))
    }

    #[test]
    fn reviewer_none_and_custom_are_reported_per_owner() {
        let users = format!(
            "{}{}{}{}",
            user("alice@contoso.com", "Reviewer"),
            user("bob@contoso.com", "Editor"),
            user("carol@contoso.com", "Custom"),
            user("dave@contoso.com", "Author"),
        );
        let f = run(check, vec![get_delegate(12, &users)]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].id.as_str(), f[0].severity),
            ("delegate-permission", Severity::Error)
        );
        assert_eq!(f[0].sessions, vec![12]);
        assert!(
            f[0].evidence
                .contains("alice@contoso.com: Reviewer, carol@contoso.com: Custom"),
            "{}",
            f[0].evidence
        );
        assert!(!f[0].evidence.contains("bob@"));
        assert!(f[0].title.contains("owner@contoso.com"));
        assert!(f[0].fix.contains(
            "-Identity owner@contoso.com:\\Calendar -User alice@contoso.com -AccessRights Editor"
        ));
    }

    #[test]
    fn editor_and_author_raise_nothing() {
        let users = format!(
            "{}{}",
            user("bob@contoso.com", "Editor"),
            user("dave@contoso.com", "Author")
        );
        assert!(run(check, vec![get_delegate(3, &users)]).is_empty());
    }
}

//! EWS `GetDelegate` (Teams' delegate scheduling check).
//! TODO(rules helper): implement.

use serde::Serialize;

use crate::capture::{DecodeLimits, Session};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegateUser {
    pub smtp: Option<String>,
    pub display_name: Option<String>,
    /// `CalendarFolderPermissionLevel`: None, Reviewer, Author, Editor, Custom.
    pub calendar_permission: Option<String>,
    pub receive_copies_of_meeting_messages: Option<bool>,
    pub view_private_items: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegateCheck {
    pub session: u64,
    pub url: String,
    pub status: Option<u16>,
    /// The mailbox whose delegates were asked for.
    pub owner: Option<String>,
    pub include_permissions: bool,
    pub delegates: Vec<DelegateUser>,
    /// `ResponseCode`s other than `NoError` (`ErrorDelegateMissingConfiguration`, ...).
    pub response_codes: Vec<String>,
    pub deliver_meeting_requests: Option<String>,
}

pub fn delegate_check(session: &Session, limits: &DecodeLimits) -> Option<DelegateCheck> {
    let _ = (session, limits);
    None
}

//! EWS answers that fail inside them: the `ResponseClass="Error"` messages (with their
//! `ResponseCode` and `MessageText`) and SOAP faults of an answer, and, for a free/busy
//! (`GetUserAvailability`) request, which mailbox each error is about.
//!
//! Reading answers costs decoding them, so only a bounded set is read ([`wants_answer`]): the
//! answers to the operations whose failure a user sees (free/busy, out-of-office, MailTips,
//! photos, meeting creation, ...) and answers with an error status (403, 5xx). The bulk of an
//! Outlook capture (`FindItem`, `SyncFolderItems`, `GetItem` answers) is not decoded: reading
//! every answer of at most 1 KB on the wire as well cost 22% more CPU time on a 10,000-session
//! capture (debug build), for errors that also show on the operations of the set. A decoded answer is
//! only parsed into a tree when its bytes spell an error (`ResponseClass="Error"` or a
//! `Fault`): a healthy answer costs its decoding only.

use serde::Serialize;

use super::xml::Tree;

/// The operations whose answers are always read (the first element of the SOAP body, as
/// [`super::EwsCall::operation`] names it).
pub const READ_OPERATIONS: &[&str] = &[
    "GetUserAvailabilityRequest",
    "GetUserOofSettingsRequest",
    "SetUserOofSettingsRequest",
    "GetMailTips",
    "GetUserPhoto",
    "GetFolder",
    "CreateItem",
    "GetServiceConfiguration",
    "GetSharingMetadata",
    "GetSharingFolder",
    "ResolveNames",
    "ExpandDL",
    "Subscribe",
    "GetUserConfiguration",
];

/// Longest `MessageText` kept.
const MAX_TEXT: usize = 400;
/// Most error messages kept per answer.
const MAX_ERRORS: usize = 32;
/// Most requested mailboxes kept per availability request.
const MAX_MAILBOXES: usize = 100;

/// One `ResponseClass="Error"` message of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerError {
    /// `ErrorProxyRequestProcessingFailed`, ... (`None` when the message names none).
    pub code: Option<String>,
    /// The `MessageText`, cut to 400 characters.
    pub message: Option<String>,
    /// For a free/busy answer, the mailbox the request asked about at the same position.
    pub mailbox: Option<String>,
}

/// An EWS answer that failed: errors inside a 200, a SOAP fault, or a 403/5xx status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EwsAnswer {
    pub session: u64,
    pub url: String,
    /// The request's operation, when it was readable.
    pub operation: Option<String>,
    pub status: Option<u16>,
    pub user_agent: Option<String>,
    /// The answer's first element in the SOAP body (`GetUserAvailabilityResponse`, ...).
    pub response: Option<String>,
    /// The error messages, in document order, at most 32.
    pub errors: Vec<AnswerError>,
    /// A SOAP fault's `faultstring`, and its `ResponseCode` when the detail names one.
    pub fault: Option<String>,
    pub fault_code: Option<String>,
}

impl EwsAnswer {
    /// A free/busy (availability) request, or an answer to one.
    pub fn is_availability(&self) -> bool {
        self.operation
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("GetUserAvailabilityRequest"))
            || self
                .response
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case("GetUserAvailabilityResponse"))
    }

    /// Every code the answer holds: its errors' and its fault's, in order, once each.
    pub fn codes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self
            .errors
            .iter()
            .filter_map(|e| e.code.as_deref())
            .chain(self.fault_code.as_deref())
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

/// Whether the answer to `operation` is read: a bounded set of operations, an error status,
/// or a request whose operation could not be read.
pub fn wants_answer(operation: Option<&str>, status: Option<u16>) -> bool {
    let Some(op) = operation else {
        return true;
    };
    if op.eq_ignore_ascii_case("GetDelegate") {
        // The delegate parser reads these (`DelegateCheck`).
        return false;
    }
    READ_OPERATIONS.iter().any(|o| o.eq_ignore_ascii_case(op))
        || status.is_some_and(|s| s == 403 || s >= 500)
}

/// Whether the decoded answer may hold an error: only then is a tree built.
pub fn may_hold_error(body: &[u8]) -> bool {
    let has = |n: &[u8]| memchr::memmem::find(body, n).is_some();
    (has(b"ResponseClass=\"Error\"") || has(b"ResponseClass='Error'") || has(b"Fault>"))
        && !has(b"GetDelegateResponse")
}

/// What an answer's tree holds.
pub(crate) struct Parts {
    pub response: Option<String>,
    pub errors: Vec<AnswerError>,
    /// The fault's text and `ResponseCode`.
    pub fault: Option<(String, Option<String>)>,
}

/// What the answer's tree holds: the response element, errors and fault. `mailboxes` are the
/// addresses an availability request asked about, in order.
pub(crate) fn read(tree: &Tree, mailboxes: &[String]) -> Parts {
    let root = tree.root();
    let response = tree
        .descendant(root, "Body")
        .and_then(|b| tree.node(b)?.children.first().copied())
        .and_then(|i| tree.node(i))
        .map(|n| n.name.chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty());
    // The position of each FreeBusyResponse, for the mailbox it answers.
    let fb: Vec<usize> = tree.descendants(root, "FreeBusyResponse");
    let mut errors = Vec::new();
    let mut i = 0;
    while tree.node(i).is_some() && errors.len() < MAX_ERRORS {
        let is_error = tree
            .attr(i, "ResponseClass")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("Error"));
        if is_error {
            let mailbox = fb
                .iter()
                .position(|&f| tree.child(f, "ResponseMessage") == Some(i))
                .and_then(|p| mailboxes.get(p).cloned());
            errors.push(AnswerError {
                code: tree.text_at(i, &["ResponseCode"]).map(|c| cap(&c, 100)),
                message: tree.text_at(i, &["MessageText"]).map(|m| cap(&m, MAX_TEXT)),
                mailbox,
            });
        }
        i += 1;
    }
    let fault = tree.descendant(root, "Fault").map(|f| {
        let text = tree
            .text_at(f, &["faultstring"])
            .or_else(|| tree.text_at(f, &["Reason", "Text"]))
            .map(|t| cap(&t, MAX_TEXT))
            .unwrap_or_else(|| "SOAP fault".to_string());
        let code = tree
            .descendants(f, "ResponseCode")
            .into_iter()
            .filter_map(|c| tree.node(c).map(|n| n.text.trim().to_string()))
            .find(|c| !c.is_empty())
            .map(|c| cap(&c, 100));
        (text, code)
    });
    Parts {
        response,
        errors,
        fault,
    }
}

/// The addresses a `GetUserAvailabilityRequest` asks about, in order.
pub(crate) fn requested_mailboxes(request: &Tree) -> Vec<String> {
    let root = request.root();
    let Some(array) = request.descendant(root, "MailboxDataArray") else {
        return Vec::new();
    };
    request
        .children(array, "MailboxData")
        .take(MAX_MAILBOXES)
        .map(|m| {
            request
                .text_at(m, &["Email", "Address"])
                .map(|a| cap(&a, 200))
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) fn cap(s: &str, n: usize) -> String {
    let s = s.trim();
    let (cut, was_cut) = crate::redact::cut::prefix_chars(s, n);
    if was_cut {
        format!("{cut}...")
    } else {
        cut.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const FB_ERROR: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FreeBusyResponseArray><FreeBusyResponse><ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></ResponseMessage></FreeBusyResponse><FreeBusyResponse><ResponseMessage ResponseClass="Error"><MessageText>Proxy web request failed., inner exception: The remote server returned an error: (401) Unauthorized.</MessageText><ResponseCode>ErrorProxyRequestProcessingFailed</ResponseCode></ResponseMessage></FreeBusyResponse></FreeBusyResponseArray></GetUserAvailabilityResponse></s:Body></s:Envelope>"#;

    #[test]
    fn availability_errors_name_their_mailbox() {
        let t = Tree::parse(FB_ERROR);
        let Parts {
            response,
            errors,
            fault,
        } = read(&t, &["a@contoso.com".into(), "b@contoso.com".into()]);
        assert_eq!(response.as_deref(), Some("GetUserAvailabilityResponse"));
        assert!(fault.is_none());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].code.as_deref(),
            Some("ErrorProxyRequestProcessingFailed")
        );
        assert_eq!(errors[0].mailbox.as_deref(), Some("b@contoso.com"));
        assert!(errors[0]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("(401)")));
        assert!(may_hold_error(FB_ERROR.as_bytes()));
        assert!(!may_hold_error(
            FB_ERROR.replace("\"Error\"", "\"Success\"").as_bytes()
        ));
    }

    #[test]
    fn bounded_reading() {
        assert!(wants_answer(Some("GetUserAvailabilityRequest"), Some(200)));
        assert!(wants_answer(Some("getfolder"), Some(200)));
        assert!(wants_answer(Some("FindItem"), Some(500)));
        assert!(!wants_answer(Some("FindItem"), Some(200)));
        assert!(!wants_answer(Some("GetDelegate"), Some(500)));
        assert!(wants_answer(None, Some(200)));
    }

    #[test]
    fn long_text_is_cut_and_hostile_input_is_harmless() {
        let long = FB_ERROR.replace("Proxy web request failed.", &"x".repeat(5_000));
        let errors = read(&Tree::parse(&long), &[]).errors;
        assert!(errors[0]
            .message
            .as_deref()
            .is_some_and(|m| m.chars().count() <= 403));
        for junk in [
            "",
            "<",
            "<a ResponseClass=\"Error\">",
            "<Fault>",
            "\u{0}<<>>",
        ] {
            let _ = read(&Tree::parse(junk), &[]);
            let _ = requested_mailboxes(&Tree::parse(junk));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(doc in ".{0,400}") {
            let t = Tree::parse(&doc);
            let _ = read(&t, &["x@y".into()]);
            let _ = requested_mailboxes(&t);
        }
    }
}

//! EWS SOAP calls: which operation a request to `/EWS/Exchange.asmx` made and how it was
//! answered ([`EwsCall`]), and, for `GetDelegate` (Teams' delegate scheduling check), the
//! owner, the delegates and their calendar permissions ([`DelegateCheck`]).
//!
//! Bodies are decoded only for EWS paths. The XML is read by `xml::Tree` (quick-xml, capped,
//! no entity expansion): a hostile or truncated body yields less, never a panic.

use std::sync::LazyLock;

use memchr::memmem;
use serde::Serialize;

use super::ews_answer::{self, EwsAnswer};
use super::target::Target;
use super::text::ends_with_ignore_case;
use super::xml::{self, Tree};
use crate::capture::body::Decoded;
use crate::capture::url_parts::UrlParts;
use crate::capture::{Atom, DecodeLimits, Interner, Session};

/// The EWS messages namespace: `GetDelegate` must be in it.
pub const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";

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
    /// A `GetDelegateResponse` was read from the answer.
    pub answered: bool,
    /// The top-level `ResponseClass` (`Success`, `Warning`, `Error`).
    pub response_class: Option<String>,
    /// `ResponseCode`s other than `NoError` (`ErrorDelegateMissingConfiguration`, ...),
    /// top-level and per delegate, in document order, without duplicates.
    pub response_codes: Vec<String>,
    /// `MessageText`s that came with them.
    pub message_texts: Vec<String>,
    pub deliver_meeting_requests: Option<String>,
    /// A SOAP fault's `faultstring`, when the answer was one.
    pub fault: Option<String>,
}

/// One request to EWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EwsCall {
    pub session: u64,
    pub url: Atom,
    /// The first element of the SOAP body (`GetUserAvailabilityRequest`, `GetDelegate`, ...),
    /// when the request body was readable.
    pub operation: Option<Atom>,
    pub status: Option<u16>,
    /// The caller's `User-Agent` (Exchange Online sends `Exchange/15.20...`).
    pub user_agent: Option<Atom>,
    pub process: Option<Atom>,
}

impl EwsCall {
    /// Share this call's strings with equal ones seen before (every call of a capture
    /// repeats the same URL, user agent and process).
    pub fn intern(&mut self, interner: &mut Interner) {
        interner.intern(&mut self.url);
        interner.intern_opt(&mut self.operation);
        interner.intern_opt(&mut self.user_agent);
        interner.intern_opt(&mut self.process);
    }

    /// A free/busy (availability) request.
    pub fn is_availability(&self) -> bool {
        self.operation
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("GetUserAvailabilityRequest"))
    }
}

/// Whether `url` is the EWS endpoint (`/EWS/Exchange.asmx`, any case, query ignored).
pub fn is_ews_url(url: &str) -> bool {
    is_ews_path(UrlParts::split(url).path)
}

/// [`is_ews_url`] of a URL's path.
pub fn is_ews_path(path: &str) -> bool {
    ends_with_ignore_case(path.trim_end_matches('/'), "/ews/exchange.asmx")
}

/// What [`ews_events`] found in one session.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EwsEvents {
    /// The call, for every EWS session.
    pub call: Option<EwsCall>,
    /// The delegate check, when the session was a `GetDelegate`.
    pub delegate: Option<DelegateCheck>,
    /// The answer's errors, when it was read ([`ews_answer::wants_answer`]) and failed.
    pub answer: Option<EwsAnswer>,
    /// Whether the answer was decoded to look for one: when the request asks `GetDelegate`,
    /// or names no operation (no body, a body that does not decode or is not SOAP) so the
    /// answer alone can show a `GetDelegateResponse`. [`crate::auth::read_session`] checks
    /// exactly the bodies the parsers decode, and learns it here rather than parsing the
    /// request a second time.
    pub answer_read: bool,
}

/// The EWS events of one session: the call, and the delegate check when it was `GetDelegate`.
pub fn ews_events(session: &Session, limits: &DecodeLimits) -> EwsEvents {
    ews_events_at(&Target::of(session), limits)
}

/// [`ews_events`] of a session whose URL and host are read.
pub fn ews_events_at(target: &Target, limits: &DecodeLimits) -> EwsEvents {
    if !is_ews_path(target.path()) {
        return EwsEvents::default();
    }
    let session = target.session;
    let request = request_view(target, limits);
    let operation = request.as_ref().and_then(|r| r.operation.as_deref());
    let delegate_read = reads_answer(request.as_ref());
    // Errors inside answers are read for a bounded set (`ews_answer::wants_answer`): a
    // request that asks `GetDelegate` is the delegate parser's alone.
    let errors_read = !request.as_ref().is_some_and(RequestView::asks_get_delegate)
        && ews_answer::wants_answer(operation, session.status());
    let answer_read = delegate_read || errors_read;
    // The answer's tree is only read for a `GetDelegate` check: when the request asks none,
    // only a `GetDelegateResponse` element in the answer makes one, and an element name is
    // always spelled out in the bytes. Other answers (FindItem, 0.5-5 KB each, most of an
    // Outlook capture) are not parsed: that was a third of the instructions of an analysis.
    // When the request names another operation outside the bounded set, the answer is not
    // even decompressed (another fifth of them): EWS answers an operation with its own
    // response element.
    let asks_delegate = request.as_ref().is_some_and(RequestView::asks_get_delegate);
    let decoded = session
        .response
        .as_ref()
        .filter(|r| answer_read && !r.body.is_empty())
        .and_then(|_| target.response_body(limits));
    let decoded = decoded.as_deref().and_then(Decoded::whole);
    let answer = errors_read
        .then(|| answer_of(session, request.as_ref(), decoded))
        .flatten();
    let response = decoded
        .filter(|b| delegate_read && (asks_delegate || contains(b, b"GetDelegateResponse")))
        .and_then(xml_of);
    let call = EwsCall {
        session: session.id,
        url: Atom::from(&session.request.url),
        operation: request
            .as_ref()
            .and_then(|r| r.operation.as_deref())
            .map(Atom::from),
        status: session.status(),
        user_agent: session
            .request
            .headers
            .get("user-agent")
            .map(|s| Atom::from(crate::redact::cut::prefix_chars(s, 200).0)),
        process: session.process.as_deref().map(Atom::from),
    };
    let tree = request.as_ref().and_then(|r| r.tree.as_ref());
    let delegate = delegate_of(session, tree, response.as_ref());
    EwsEvents {
        call: Some(call),
        delegate,
        answer,
        answer_read,
    }
}

/// The errors of an answer [`ews_answer::wants_answer`] asked for: those inside it (parsed
/// only when its bytes spell an error), or its 403/5xx status alone.
fn answer_of(
    session: &Session,
    request: Option<&RequestView>,
    body: Option<&[u8]>,
) -> Option<EwsAnswer> {
    let status = session.status();
    // A bare 403/5xx is kept for free/busy requests only (`freebusy-error`): for other
    // operations only the errors inside an answer are.
    let bad_status = status.is_some_and(|s| s == 403 || s >= 500)
        && request.is_some_and(|r| r.availability.is_some());
    let tree = body
        .filter(|b| ews_answer::may_hold_error(b))
        .and_then(xml_of);
    if tree.is_none() && !bad_status {
        return None;
    }
    let mailboxes = match (
        tree.as_ref(),
        request.and_then(|r| r.availability.as_deref()),
    ) {
        (Some(_), Some(text)) => ews_answer::requested_mailboxes(&Tree::parse(text)),
        _ => Vec::new(),
    };
    let ews_answer::Parts {
        response,
        errors,
        fault,
    } = match tree.as_ref() {
        Some(t) => ews_answer::read(t, &mailboxes),
        None => ews_answer::Parts {
            response: None,
            errors: Vec::new(),
            fault: None,
        },
    };
    if errors.is_empty() && fault.is_none() && !bad_status {
        return None;
    }
    let (fault, fault_code) = fault.map_or((None, None), |(f, c)| (Some(f), c));
    Some(EwsAnswer {
        session: session.id,
        url: session.request.url.clone(),
        operation: request.and_then(|r| r.operation.clone()),
        status,
        user_agent: session
            .request
            .headers
            .get("user-agent")
            .map(|s| crate::redact::cut::prefix_chars(s, 200).0.to_string()),
        response,
        errors,
        fault,
        fault_code,
    })
}

/// The `GetDelegate` check of a session, if it made one.
pub fn delegate_check(session: &Session, limits: &DecodeLimits) -> Option<DelegateCheck> {
    ews_events(session, limits).delegate
}

/// What the EWS parsers need of a request: its operation, from a streaming pass, and its
/// tree only when the bytes spell `GetDelegate` (an element name is never escaped), since
/// only [`delegate_of`] reads a request's tree.
struct RequestView {
    operation: Option<String>,
    tree: Option<Tree>,
    /// The text of a `GetUserAvailabilityRequest`, parsed only when its answer holds an error
    /// (for the mailboxes it asked about).
    availability: Option<String>,
}

impl RequestView {
    fn asks_get_delegate(&self) -> bool {
        self.tree.as_ref().is_some_and(asks_get_delegate)
    }
}

/// `None` when the request has no body or it does not decode.
fn request_view(target: &Target, limits: &DecodeLimits) -> Option<RequestView> {
    let decoded = target.request_body(limits);
    let body = decoded.whole().filter(|b| !b.is_empty())?;
    // The body's text is made only for what reads text (a tree, a free/busy request kept):
    // `xml::soap_operation` reads a plain envelope's bytes.
    let tree = GET_DELEGATE
        .find(body)
        .is_some()
        .then(|| Tree::parse(&xml::body_text(body)));
    let operation = match &tree {
        Some(t) => operation(t),
        None => xml::soap_operation(body),
    };
    let availability = operation
        .as_deref()
        .is_some_and(|o| o.eq_ignore_ascii_case("GetUserAvailabilityRequest"))
        .then(|| xml::body_text(body).into_owned());
    Some(RequestView {
        operation,
        tree,
        availability,
    })
}

fn reads_answer(request: Option<&RequestView>) -> bool {
    request.is_none_or(|r| r.asks_get_delegate() || r.operation.is_none())
}

/// `GetDelegate`, searched for in every EWS request: built once (`memmem::find` builds its
/// searcher on every call, which cost more than the search).
static GET_DELEGATE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"GetDelegate"));

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memmem::find(haystack, needle).is_some()
}

/// The request's `GetDelegate` element (messages namespace), as [`delegate_of`] looks for it.
fn get_delegate_request(t: &Tree) -> Option<usize> {
    t.descendants(t.root(), "GetDelegate")
        .into_iter()
        .find(|&i| t.node(i).and_then(|n| n.ns.as_deref()) == Some(MESSAGES_NS))
}

fn asks_get_delegate(t: &Tree) -> bool {
    get_delegate_request(t).is_some()
}

fn xml_of(body: &[u8]) -> Option<Tree> {
    (!body.is_empty()).then(|| Tree::parse(&xml::body_text(body)))
}

/// The first element inside the SOAP `Body`, else the document element.
fn operation(tree: &Tree) -> Option<String> {
    let root = tree.root();
    let body = tree.descendant(root, "Body");
    let first = match body {
        Some(b) => tree.node(b)?.children.first().copied(),
        None => tree.node(root)?.children.first().copied(),
    }?;
    let name = &tree.node(first)?.name;
    (!name.is_empty()).then(|| name.chars().take(100).collect())
}

fn delegate_of(
    session: &Session,
    request: Option<&Tree>,
    response: Option<&Tree>,
) -> Option<DelegateCheck> {
    let asked = request.and_then(|t| get_delegate_request(t).map(|i| (t, i)));
    let answer = response.and_then(|t| {
        t.descendant(t.root(), "GetDelegateResponse")
            .map(|i| (t, i))
    });
    if asked.is_none() && answer.is_none() {
        return None;
    }
    let mut check = DelegateCheck {
        session: session.id,
        url: session.request.url.clone(),
        status: session.status(),
        owner: None,
        include_permissions: false,
        delegates: Vec::new(),
        answered: answer.is_some(),
        response_class: None,
        response_codes: Vec::new(),
        message_texts: Vec::new(),
        deliver_meeting_requests: None,
        fault: None,
    };
    if let Some((t, req)) = asked {
        check.include_permissions = t
            .attr(req, "IncludePermissions")
            .is_some_and(|v| parse_bool(v) == Some(true));
        check.owner = t
            .child(req, "Mailbox")
            .and_then(|m| t.text_at(m, &["EmailAddress"]));
    }
    if let Some((t, resp)) = answer {
        read_answer(t, resp, &mut check);
    }
    if let Some(t) = response {
        read_fault(t, &mut check);
    }
    Some(check)
}

fn read_answer(t: &Tree, resp: usize, check: &mut DelegateCheck) {
    check.response_class = t.attr(resp, "ResponseClass").map(str::to_string);
    note_code(t, resp, check);
    for msg in t.descendants(resp, "DelegateUserResponseMessageType") {
        note_code(t, msg, check);
        for user in t.children(msg, "DelegateUser") {
            check.delegates.push(DelegateUser {
                smtp: t.text_at(user, &["UserId", "PrimarySmtpAddress"]),
                display_name: t.text_at(user, &["UserId", "DisplayName"]),
                calendar_permission: t.text_at(
                    user,
                    &["DelegatePermissions", "CalendarFolderPermissionLevel"],
                ),
                receive_copies_of_meeting_messages: t
                    .text_at(user, &["ReceiveCopiesOfMeetingMessages"])
                    .and_then(|v| parse_bool(&v)),
                view_private_items: t
                    .text_at(user, &["ViewPrivateItems"])
                    .and_then(|v| parse_bool(&v)),
            });
        }
    }
    check.deliver_meeting_requests = t.text_at(resp, &["DeliverMeetingRequests"]);
}

/// Record the `ResponseCode` and `MessageText` directly under `idx`, when not `NoError`.
fn note_code(t: &Tree, idx: usize, check: &mut DelegateCheck) {
    let Some(code) = t.text_at(idx, &["ResponseCode"]) else {
        return;
    };
    if code.eq_ignore_ascii_case("NoError") {
        return;
    }
    if !check.response_codes.contains(&code) {
        check.response_codes.push(code);
    }
    if let Some(text) = t.text_at(idx, &["MessageText"]) {
        if !check.message_texts.contains(&text) {
            check.message_texts.push(text);
        }
    }
}

fn read_fault(t: &Tree, check: &mut DelegateCheck) {
    let Some(fault) = t.descendant(t.root(), "Fault") else {
        return;
    };
    check.fault = t
        .text_at(fault, &["faultstring"])
        .or_else(|| t.text_at(fault, &["Reason", "Text"]))
        .or_else(|| Some("SOAP fault".to_string()));
    for code in t.descendants(fault, "ResponseCode") {
        if let Some(code) = t.node(code).map(|n| n.text.trim().to_string()) {
            if !code.is_empty() && !check.response_codes.contains(&code) {
                check.response_codes.push(code);
            }
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::capture::{Body, Headers, Request, Response};

    pub(crate) const REQ: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header>
  <soap:Body>
    <m:GetDelegate IncludePermissions="true"><m:Mailbox><t:EmailAddress>owner@contoso.com</t:EmailAddress></m:Mailbox></m:GetDelegate>
  </soap:Body>
</soap:Envelope>"#;

    /// The streaming operation reader agrees with the tree on SOAP-like documents of every
    /// shape: nested, empty and self-closing `Body`s, prefixes, missing end tags, junk.
    mod streaming_operation {
        use super::super::{operation, xml, Tree};
        use proptest::prelude::*;

        fn part() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("<s:Envelope xmlns:s=\"u\">".to_string()),
                Just("</s:Envelope>".to_string()),
                Just("<s:Header>".to_string()),
                Just("</s:Header>".to_string()),
                Just("<s:Body>".to_string()),
                Just("<Body/>".to_string()),
                Just("</s:Body>".to_string()),
                Just("<m:FindItem Traversal=\"Shallow\">".to_string()),
                Just("</m:FindItem>".to_string()),
                Just("<m:GetDelegate/>".to_string()),
                Just("<t:x/>".to_string()),
                Just("text &amp; more".to_string()),
                Just("<!-- c -->".to_string()),
                Just("<?xml version=\"1.0\"?>".to_string()),
                Just("<".to_string()),
                Just("</>".to_string()),
                "[a-z<>/: ]{0,6}",
            ]
        }

        proptest! {
            #[test]
            fn agrees_with_the_tree(parts in proptest::collection::vec(part(), 0..14)) {
                let doc = parts.concat();
                prop_assert_eq!(xml::soap_operation(doc.as_bytes()), operation(&Tree::parse(&doc)), "{}", doc);
            }
        }

        #[test]
        fn on_real_requests() {
            for doc in [
                super::REQ,
                "<a><Body><FindItem/></Body></a>",
                "<a><Body/></a>",
                "<Envelope/>",
                "",
            ] {
                assert_eq!(
                    xml::soap_operation(doc.as_bytes()),
                    operation(&Tree::parse(doc)),
                    "{doc}"
                );
            }
            assert_eq!(
                xml::soap_operation(super::REQ.as_bytes()).as_deref(),
                Some("GetDelegate")
            );
        }
    }

    pub(crate) fn resp(users: &str, code: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetDelegateResponse ResponseClass="{class}" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<m:ResponseCode>{code}</m:ResponseCode>
<m:ResponseMessages>{users}</m:ResponseMessages>
<m:DeliverMeetingRequests>DelegatesAndSendInformationToMe</m:DeliverMeetingRequests>
</m:GetDelegateResponse></s:Body></s:Envelope>"#,
            class = if code == "NoError" {
                "Success"
            } else {
                "Error"
            }
        )
    }

    pub(crate) fn user(smtp: &str, level: &str) -> String {
        format!(
            r#"<m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:DelegateUser><t:UserId><t:PrimarySmtpAddress>{smtp}</t:PrimarySmtpAddress><t:DisplayName>D &amp; Co</t:DisplayName></t:UserId><t:DelegatePermissions><t:CalendarFolderPermissionLevel>{level}</t:CalendarFolderPermissionLevel></t:DelegatePermissions><t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>false</t:ViewPrivateItems></m:DelegateUser></m:DelegateUserResponseMessageType>"#
        )
    }

    pub(crate) fn ews_session(id: u64, req: &str, status: u16, resp: &str) -> Session {
        let body = |s: &str| Body {
            raw: s.as_bytes().to_vec(),
            wire: false,
            truncated: false,
        };
        let mut h = Headers::new();
        h.push("User-Agent", "Exchange/15.20.7452.000/Teams");
        Session {
            id,
            request: Request {
                method: "POST".into(),
                url: "https://mail.contoso.com/ews/exchange.asmx".into(),
                headers: h,
                body: body(req),
                ..Request::default()
            },
            response: Some(Response {
                status,
                body: body(resp),
                ..Response::default()
            }),
            ..Session::default()
        }
    }

    #[test]
    fn reads_request_and_answer() {
        let s = ews_session(
            9,
            REQ,
            200,
            &resp(
                &format!(
                    "{}{}",
                    user("alice@contoso.com", "Editor"),
                    user("bob@contoso.com", "Reviewer")
                ),
                "NoError",
            ),
        );
        let EwsEvents {
            call,
            delegate: check,
            ..
        } = ews_events(&s, &DecodeLimits::default());
        let call = call.expect("an EWS call");
        assert_eq!(call.operation.as_deref(), Some("GetDelegate"));
        assert_eq!(
            call.user_agent.as_deref(),
            Some("Exchange/15.20.7452.000/Teams")
        );
        let c = check.expect("a delegate check");
        assert_eq!(c.owner.as_deref(), Some("owner@contoso.com"));
        assert!(c.include_permissions && c.answered);
        assert_eq!(c.response_class.as_deref(), Some("Success"));
        assert!(c.response_codes.is_empty());
        assert_eq!(c.delegates.len(), 2);
        assert_eq!(c.delegates[0].smtp.as_deref(), Some("alice@contoso.com"));
        assert_eq!(c.delegates[0].display_name.as_deref(), Some("D & Co"));
        assert_eq!(
            c.delegates[1].calendar_permission.as_deref(),
            Some("Reviewer")
        );
        assert_eq!(
            c.delegates[0].receive_copies_of_meeting_messages,
            Some(true)
        );
        assert_eq!(c.delegates[0].view_private_items, Some(false));
        assert_eq!(
            c.deliver_meeting_requests.as_deref(),
            Some("DelegatesAndSendInformationToMe")
        );
    }

    #[test]
    fn prefixes_vary_and_the_namespace_decides() {
        let default_ns = r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><GetDelegate xmlns="http://schemas.microsoft.com/exchange/services/2006/messages" IncludePermissions="1"><Mailbox><EmailAddress xmlns="http://schemas.microsoft.com/exchange/services/2006/types"> o@contoso.com </EmailAddress></Mailbox></GetDelegate></Body></Envelope>"#;
        let mes = REQ.replace("m:", "mes:").replace("xmlns:m=", "xmlns:mes=");
        for req in [default_ns, mes.as_str()] {
            let c = delegate_check(&ews_session(1, req, 401, ""), &DecodeLimits::default())
                .expect("a delegate check");
            assert!(c.include_permissions, "{req}");
            assert!(c.owner.is_some_and(|o| o.ends_with("@contoso.com")));
            assert!(!c.answered);
            assert_eq!(c.status, Some(401));
        }
        // Same local name, another namespace: not EWS's GetDelegate.
        let other = REQ.replace(MESSAGES_NS, "urn:other");
        assert!(
            delegate_check(&ews_session(1, &other, 200, ""), &DecodeLimits::default()).is_none()
        );
    }

    #[test]
    fn error_codes_and_faults() {
        let missing = resp("", "ErrorDelegateMissingConfiguration").replace(
            "<m:ResponseMessages>",
            "<m:MessageText>Delegate is missing configuration.</m:MessageText><m:ResponseMessages>",
        );
        let c = delegate_check(
            &ews_session(3, REQ, 200, &missing),
            &DecodeLimits::default(),
        )
        .expect("check");
        assert_eq!(c.response_codes, vec!["ErrorDelegateMissingConfiguration"]);
        assert_eq!(c.message_texts, vec!["Delegate is missing configuration."]);
        assert_eq!(c.response_class.as_deref(), Some("Error"));
        let fault = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ErrorInvalidRequest</faultcode><faultstring xml:lang="en-US">The request is invalid.</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorInvalidRequest</e:ResponseCode></detail></s:Fault></s:Body></s:Envelope>"#;
        let c = delegate_check(&ews_session(4, REQ, 500, fault), &DecodeLimits::default())
            .expect("check");
        assert_eq!(c.fault.as_deref(), Some("The request is invalid."));
        assert_eq!(c.response_codes, vec!["ErrorInvalidRequest"]);
    }

    #[test]
    fn availability_and_non_ews() {
        let req = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetUserAvailabilityRequest xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/></soap:Body></soap:Envelope>"#;
        let EwsEvents {
            call,
            delegate: check,
            answer,
            ..
        } = ews_events(&ews_session(5, req, 401, ""), &DecodeLimits::default());
        // A 401 with no body is no failed answer (the challenge says why).
        assert!(answer.is_none());
        assert!(call.is_some_and(|c| c.is_availability() && c.status == Some(401)));
        assert!(check.is_none());
        let mut s = ews_session(6, REQ, 200, "");
        s.request.url = "https://mail.contoso.com/mapi/emsmdb/".into();
        assert_eq!(
            ews_events(&s, &DecodeLimits::default()),
            EwsEvents::default()
        );
        assert!(is_ews_url("https://MAIL.contoso.com/EWS/Exchange.asmx?x=1"));
        assert!(!is_ews_url(
            "https://mail.contoso.com/ews/exchange.asmx.bak"
        ));
    }

    #[test]
    fn hostile_xml_does_not_hurt() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:GetDelegate xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:Mailbox><EmailAddress>&lol2;x</EmailAddress></m:Mailbox></m:GetDelegate></soap:Body></soap:Envelope>"#;
        let c = delegate_check(&ews_session(1, laughs, 200, ""), &DecodeLimits::default())
            .expect("check");
        assert_eq!(c.owner.as_deref(), Some("x"));
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10));
        let _ = ews_events(&ews_session(1, &deep, 200, &deep), &DecodeLimits::default());
        for junk in [
            "<",
            "<a b=",
            "<<<>>>",
            "&#xFFFFFFFF;",
            "<a>&#0;&unknown;</b></c>",
            "\u{0}",
        ] {
            let _ = ews_events(&ews_session(1, junk, 200, junk), &DecodeLimits::default());
        }
    }

    proptest::proptest! {
        #[test]
        fn truncated_bodies_never_panic(cut in 0usize..2000) {
            let full = resp(&user("a@contoso.com", "Editor"), "NoError");
            let r = &full[..cut.min(full.len())];
            let q = &REQ[..cut.min(REQ.len())];
            let _ = ews_events(&ews_session(1, q, 200, r), &DecodeLimits::default());
        }

        #[test]
        fn never_panics(req in ".{0,400}", resp_body in ".{0,400}") {
            let _ = ews_events(&ews_session(1, &req, 200, &resp_body), &DecodeLimits::default());
        }
    }
}

//! What an Autodiscover session answered: a POX (`/autodiscover/autodiscover.xml`) or SOAP
//! (`/autodiscover/autodiscover.svc`) answer's settings, redirects and errors, the URLs it
//! publishes, and the HTTP-level facts around it (a 3xx `Location`, a web server's HTML page,
//! `X-AutoDiscovery-Error`, `X-BackEndHttpStatus`).
//!
//! Bodies are decoded only for Autodiscover paths, and read by `xml::Tree` (capped, no
//! entity expansion): a hostile or truncated body yields less, never a panic. The requested
//! e-mail address is kept (the chain of redirects is followed by it); no credential is read.

use serde::Serialize;

use super::target::Target;
use super::text::ends_with_ignore_case;
use super::xml::Tree;
use crate::capture::body::Decoded;
use crate::capture::url_parts::{strip_query, UrlParts};
use crate::capture::{DecodeLimits, Session};
use crate::redact::cut::prefix_chars;

/// Most URLs kept from one answer (a real one publishes about a dozen).
const MAX_PUBLISHED: usize = 64;
/// Most characters kept of a message, header value or URL.
const MAX_TEXT: usize = 300;

/// What the answer said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// `<Action>settings</Action>` (POX) or `NoError` with settings (SOAP).
    Settings,
    /// `<Action>redirectAddr</Action>` with `<RedirectAddr>` (SOAP: `RedirectAddress`).
    RedirectAddr { address: String },
    /// `<Action>redirectUrl</Action>` with `<RedirectUrl>` (SOAP: `RedirectUrl`).
    RedirectUrl { url: String },
    /// `<Error>` with `<ErrorCode>` and `<Message>` (SOAP: an `ErrorCode` other than
    /// `NoError` and the redirects).
    Error {
        code: String,
        message: Option<String>,
    },
    /// A 301/302/303/307/308 with its `Location` (query left out).
    HttpRedirect { status: u16, location: String },
    /// An HTML page (a web server answered, not Exchange).
    WebPage { content_type: Option<String> },
    /// Anything else (a 401 challenge, an empty 200, a body that is not an answer).
    Other,
}

/// A URL an answer publishes, and where in the answer it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// `EwsUrl`, `MapiHttp MailStore ExternalUrl`, `OABUrl`, `ExternalEwsUrl`, ...
    pub source: String,
    pub url: String,
}

/// One Autodiscover session and what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutodiscoverAnswer {
    pub session: u64,
    /// The request URL without its query.
    pub url: String,
    /// The request's host, lower case.
    pub host: String,
    pub method: String,
    pub status: Option<u16>,
    /// The e-mail address asked about (POX `EMailAddress`, SOAP `Mailbox`), lower case.
    pub address: Option<String>,
    pub answer: Answer,
    /// `MicrosoftOnline` of the POX answer: `true` for Exchange Online's settings.
    pub microsoft_online: Option<bool>,
    /// The URLs the answer publishes, in document order, once each.
    pub published: Vec<Published>,
    /// The `Server` header.
    pub server: Option<String>,
    /// `X-AutoDiscovery-Error`, up to its first `<` (the rest is client addresses).
    pub discovery_error: Option<String>,
    /// `X-BackEndHttpStatus`: what the mailbox server answered Exchange's front end.
    pub backend_status: Option<u16>,
}

impl AutodiscoverAnswer {
    /// Whether this answer gave the client its settings.
    pub fn is_settings(&self) -> bool {
        matches!(self.answer, Answer::Settings)
    }

    /// Whether there is anything to say: an answer other than [`Answer::Other`], or one of
    /// the headers. A bare 401 is the challenge event's.
    pub fn says_anything(&self) -> bool {
        self.answer != Answer::Other
            || self.discovery_error.is_some()
            || self
                .backend_status
                .is_some_and(|b| b >= 500 || Some(b) != self.status)
    }

    /// Whether the answer came from Exchange Online: the `MicrosoftOnline` flag, else the
    /// host that answered.
    pub fn from_exchange_online(&self) -> bool {
        self.microsoft_online
            .unwrap_or_else(|| is_exchange_online_host(&self.host))
    }
}

/// Exchange Online's Autodiscover and client endpoints.
pub fn is_exchange_online_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    [
        "outlook.com",
        "office365.com",
        "office.com",
        "office365.us",
        "partner.outlook.cn",
    ]
    .iter()
    .any(|s| host == *s || host.strip_suffix(s).is_some_and(|r| r.ends_with('.')))
}

/// The two Autodiscover endpoints this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Pox,
    Soap,
}

fn endpoint(path: &str) -> Option<Endpoint> {
    let path = path.trim_end_matches('/');
    if ends_with_ignore_case(path, "/autodiscover/autodiscover.xml") {
        Some(Endpoint::Pox)
    } else if ends_with_ignore_case(path, "/autodiscover/autodiscover.svc") {
        Some(Endpoint::Soap)
    } else {
        None
    }
}

/// Whether `url` is an Autodiscover POX or SOAP endpoint (any case, query ignored).
pub fn is_autodiscover_url(url: &str) -> bool {
    is_autodiscover_path(UrlParts::split(url).path)
}

/// [`is_autodiscover_url`] of a URL's path.
pub fn is_autodiscover_path(path: &str) -> bool {
    endpoint(path).is_some()
}

/// The answer of one session to an Autodiscover endpoint, when it was answered.
pub fn autodiscover_answer(session: &Session, limits: &DecodeLimits) -> Option<AutodiscoverAnswer> {
    autodiscover_answer_at(&Target::of(session), limits)
}

/// [`autodiscover_answer`] of a session whose URL and host are read.
pub fn autodiscover_answer_at(
    target: &Target,
    limits: &DecodeLimits,
) -> Option<AutodiscoverAnswer> {
    let kind = endpoint(target.path())?;
    let session = target.session;
    let response = session.response.as_ref()?;
    let text = |v: &str| prefix_chars(v.trim(), MAX_TEXT).0.to_string();
    let server = response.headers.get("server").map(text);
    let discovery_error = response
        .headers
        .get("x-autodiscovery-error")
        .map(|v| v.split('<').next().unwrap_or_default())
        .map(|v| text(v.trim_end_matches([':', ';', ' '])))
        .filter(|v| !v.is_empty());
    let backend_status = response
        .headers
        .get("x-backendhttpstatus")
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok());
    let address = request_address(target, limits, kind);
    let mut out = AutodiscoverAnswer {
        session: session.id,
        url: text(strip_query(&session.request.url)),
        host: target.host_or_empty().to_string(),
        method: text(&session.request.method),
        status: Some(response.status),
        address,
        answer: Answer::Other,
        microsoft_online: None,
        published: Vec::new(),
        server,
        discovery_error,
        backend_status,
    };
    if matches!(response.status, 301 | 302 | 303 | 307 | 308) {
        if let Some(location) = response.headers.get("location") {
            out.answer = Answer::HttpRedirect {
                status: response.status,
                location: text(strip_query(location)),
            };
            return Some(out);
        }
    }
    let decoded = target.response_body(limits);
    let body = decoded
        .as_deref()
        .and_then(Decoded::whole)
        .filter(|b| !b.is_empty());
    // A redacted copy holds a text/plain placeholder where the original's page was: the
    // page's own type is in the placeholder, and tells the same story.
    let removed = response
        .headers
        .get(crate::capture::rewrite::MARKER_HEADER)
        .and_then(|_| crate::capture::rewrite::placeholder_content_type(&response.body.raw));
    let content_type = removed.or(response.content_type()).map(text);
    let Some(body) = body else {
        if content_type.as_deref().is_some_and(is_html) {
            out.answer = Answer::WebPage { content_type };
        }
        return Some(out);
    };
    let body = super::xml::body_text(body);
    let body = body.trim_start();
    if looks_html(body) || content_type.as_deref().is_some_and(is_html) {
        out.answer = Answer::WebPage { content_type };
        return Some(out);
    }
    let tree = Tree::parse(body);
    match kind {
        Endpoint::Pox => read_pox(&tree, &mut out),
        Endpoint::Soap => read_soap(&tree, &mut out),
    }
    Some(out)
}

fn is_html(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    ct.starts_with("text/html") || ct.starts_with("application/xhtml")
}

fn looks_html(body: &str) -> bool {
    let head: String = body
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// The address a POX request asks about (`EMailAddress`), or a SOAP one (`Mailbox`).
fn request_address(target: &Target, limits: &DecodeLimits, kind: Endpoint) -> Option<String> {
    let decoded = target.request_body(limits);
    let body = decoded.whole().filter(|b| !b.is_empty())?;
    let tree = Tree::parse(&super::xml::body_text(body));
    let name = match kind {
        Endpoint::Pox => "EMailAddress",
        Endpoint::Soap => "Mailbox",
    };
    let idx = tree.descendant(tree.root(), name)?;
    let node = tree.node(idx)?;
    let address = prefix_chars(node.text.trim(), MAX_TEXT)
        .0
        .to_ascii_lowercase();
    (!address.is_empty()).then_some(address)
}

fn text_of(t: &Tree, idx: usize) -> Option<String> {
    let node = t.node(idx)?;
    let s = prefix_chars(node.text.trim(), MAX_TEXT).0;
    (!s.is_empty()).then(|| s.to_string())
}

fn descendant_text(t: &Tree, idx: usize, name: &str) -> Option<String> {
    t.descendants(idx, name)
        .into_iter()
        .find_map(|i| text_of(t, i))
}

fn publish(out: &mut AutodiscoverAnswer, source: String, url: String) {
    let url = prefix_chars(strip_query(url.trim()), MAX_TEXT)
        .0
        .to_string();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return;
    }
    if out.published.len() >= MAX_PUBLISHED || out.published.iter().any(|p| p.url == url) {
        return;
    }
    out.published.push(Published { source, url });
}

/// The POX answer: `Error`, or `Account` with its `Action` and `Protocol`s.
fn read_pox(t: &Tree, out: &mut AutodiscoverAnswer) {
    let root = t.root();
    if let Some(err) = t.descendant(root, "Error") {
        if let Some(code) = descendant_text(t, err, "ErrorCode") {
            out.answer = Answer::Error {
                code,
                message: descendant_text(t, err, "Message"),
            };
            return;
        }
    }
    let Some(account) = t.descendant(root, "Account") else {
        return;
    };
    out.microsoft_online =
        descendant_text(t, account, "MicrosoftOnline").map(|v| v.eq_ignore_ascii_case("true"));
    let action = descendant_text(t, account, "Action").map(|a| a.to_ascii_lowercase());
    match action.as_deref() {
        Some("redirectaddr") => {
            if let Some(a) = descendant_text(t, account, "RedirectAddr") {
                out.answer = Answer::RedirectAddr {
                    address: a.to_ascii_lowercase(),
                };
            }
            return;
        }
        Some("redirecturl") => {
            if let Some(u) = descendant_text(t, account, "RedirectUrl") {
                out.answer = Answer::RedirectUrl {
                    url: strip_query(&u).to_string(),
                };
            }
            return;
        }
        Some("settings") => out.answer = Answer::Settings,
        _ => {}
    }
    for protocol in t.descendants(account, "Protocol") {
        let ty = t
            .attr(protocol, "Type")
            .map(str::to_string)
            .or_else(|| t.text_at(protocol, &["Type"]))
            .unwrap_or_default();
        let Some(node) = t.node(protocol) else {
            continue;
        };
        for &child in &node.children {
            let Some(c) = t.node(child) else { continue };
            match c.name.as_str() {
                "EwsUrl" | "ExternalEwsUrl" | "ASUrl" | "OABUrl" | "EcpUrl" | "EmwsUrl"
                | "OOFUrl" | "UMUrl" => {
                    if let Some(u) = text_of(t, child) {
                        publish(out, format!("{ty} {}", c.name).trim().to_string(), u);
                    }
                }
                "Server"
                    if ty.eq_ignore_ascii_case("EXHTTP") || ty.eq_ignore_ascii_case("EXPR") =>
                {
                    if let Some(h) = text_of(t, child).filter(|h| is_host_name(h)) {
                        publish(out, format!("{ty} Server"), format!("https://{h}/"));
                    }
                }
                "MailStore" | "AddressBook" => {
                    for inner in ["ExternalUrl", "InternalUrl"] {
                        if let Some(u) = t.text_at(child, &[inner]) {
                            publish(out, format!("{ty} {} {inner}", c.name), u);
                        }
                    }
                }
                "Internal" | "External" => {
                    for url in ["OWAUrl"] {
                        for i in t.children(child, url) {
                            if let Some(u) = text_of(t, i) {
                                publish(out, format!("{ty} {} {url}", c.name), u);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A bare host name (letters, digits, `-`, `.`), as POX `Server` gives it for Outlook
/// Anywhere; a GUID@domain mailbox server name is not one.
fn is_host_name(h: &str) -> bool {
    h.contains('.')
        && !h.contains('@')
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The SOAP `GetUserSettings` answer: the first `UserResponse`'s `ErrorCode`, and the
/// settings whose value is a URL.
fn read_soap(t: &Tree, out: &mut AutodiscoverAnswer) {
    let root = t.root();
    let Some(user) = t.descendant(root, "UserResponse") else {
        if let Some(code) = descendant_text(t, root, "ErrorCode").filter(|c| c != "NoError") {
            out.answer = Answer::Error {
                code,
                message: descendant_text(t, root, "ErrorMessage"),
            };
        }
        return;
    };
    let code = t.text_at(user, &["ErrorCode"]).unwrap_or_default();
    let target = t.text_at(user, &["RedirectTarget"]);
    out.answer = match (code.as_str(), target) {
        ("NoError", _) => Answer::Settings,
        ("RedirectAddress", Some(a)) => Answer::RedirectAddr {
            address: a.to_ascii_lowercase(),
        },
        ("RedirectUrl", Some(u)) => Answer::RedirectUrl {
            url: strip_query(&u).to_string(),
        },
        ("", _) => Answer::Other,
        (code, _) => Answer::Error {
            code: prefix_chars(code, MAX_TEXT).0.to_string(),
            message: t.text_at(user, &["ErrorMessage"]),
        },
    };
    for setting in t.descendants(user, "UserSetting") {
        let (Some(name), Some(value)) = (
            t.text_at(setting, &["Name"]),
            t.text_at(setting, &["Value"]),
        ) else {
            continue;
        };
        if name.ends_with("Url") {
            publish(out, name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    const AD: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";

    fn request() -> String {
        "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>User@Contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>".into()
    }

    fn answer(url: &str, status: u16, headers: &[(&str, &str)], body: &str) -> AutodiscoverAnswer {
        let s = S::new(7, "POST", url, status)
            .req_body(&request())
            .resp_headers(headers)
            .resp_body(body)
            .0;
        autodiscover_answer(&s, &DecodeLimits::default()).expect("an answer")
    }

    pub(crate) const SETTINGS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://exch01.contoso.local/mapi/emsmdb/?MailboxId=x@contoso.com</InternalUrl>
          <ExternalUrl>https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com</ExternalUrl>
        </MailStore>
      </Protocol>
      <Protocol>
        <Type>EXHTTP</Type>
        <Server>mail.contoso.com</Server>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>
        <OABUrl>https://mail.contoso.com/OAB/abc/</OABUrl>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn settings_and_published_urls() {
        let a = answer(AD, 200, &[("X-BackEndHttpStatus", "200")], SETTINGS);
        assert_eq!(a.answer, Answer::Settings);
        assert_eq!(a.address.as_deref(), Some("user@contoso.com"));
        assert_eq!(a.microsoft_online, Some(false));
        assert!(!a.from_exchange_online());
        assert_eq!(a.backend_status, Some(200));
        let urls: Vec<&str> = a.published.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://mail.contoso.com/mapi/emsmdb/",
                "https://exch01.contoso.local/mapi/emsmdb/",
                "https://mail.contoso.com/",
                "https://mail.contoso.com/EWS/Exchange.asmx",
                "https://mail.contoso.com/OAB/abc/",
            ]
        );
        assert_eq!(a.published[0].source, "mapiHttp MailStore ExternalUrl");
        assert_eq!(a.published[3].source, "EXHTTP EwsUrl");
    }

    #[test]
    fn errors_redirects_and_http() {
        let err = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="08:15:03.1" Id="2954"><ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message><DebugData /></Error></Response></Autodiscover>"#;
        let a = answer(AD, 200, &[], err);
        assert_eq!(
            a.answer,
            Answer::Error {
                code: "500".into(),
                message: Some("The email address can't be found.".into())
            }
        );
        let redirect = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectAddr</Action><RedirectAddr>User@contoso.mail.onmicrosoft.com</RedirectAddr></Account></Response></Autodiscover>"#;
        let a = answer(
            "https://AUTODISCOVER.contoso.com/AutoDiscover/AutoDiscover.XML",
            200,
            &[],
            redirect,
        );
        assert_eq!(
            a.answer,
            Answer::RedirectAddr {
                address: "user@contoso.mail.onmicrosoft.com".into()
            }
        );
        let a = answer(
            "http://autodiscover.contoso.com/autodiscover/autodiscover.xml",
            302,
            &[(
                "Location",
                "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml?x=1",
            )],
            "",
        );
        assert_eq!(
            a.answer,
            Answer::HttpRedirect {
                status: 302,
                location: "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml".into()
            }
        );
        let a = answer(
            "https://contoso.com/autodiscover/autodiscover.xml",
            404,
            &[("Server", "Apache/2.4.58 (Ubuntu)"), ("Content-Type", "text/html; charset=iso-8859-1")],
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\"><html><head><title>404 Not Found</title></head></html>",
        );
        assert!(matches!(a.answer, Answer::WebPage { .. }), "{a:?}");
        assert_eq!(a.server.as_deref(), Some("Apache/2.4.58 (Ubuntu)"));
        let a = answer(
            "https://outlook.office365.com/autodiscover/autodiscover.xml",
            401,
            &[("X-AutoDiscovery-Error", "LiveIdBasicAuth:FederatedStsUnreachable:<X-forwarded-for:198.51.100.7><ExternalUser>;")],
            "",
        );
        assert_eq!(
            a.discovery_error.as_deref(),
            Some("LiveIdBasicAuth:FederatedStsUnreachable")
        );
        assert!(a.from_exchange_online());
        let s = S::new(1, "GET", "https://mail.contoso.com/EWS/Exchange.asmx", 200).0;
        assert!(autodiscover_answer(&s, &DecodeLimits::default()).is_none());
    }

    #[test]
    fn soap_get_user_settings() {
        let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting i:type="StringSetting" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>UserDisplayName</Name><Value>User</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;
        let a = answer(
            "https://autodiscover.contoso.com/autodiscover/autodiscover.svc",
            200,
            &[],
            body,
        );
        assert_eq!(a.answer, Answer::Settings);
        assert_eq!(a.published.len(), 1);
        assert_eq!(a.published[0].source, "ExternalEwsUrl");
    }

    #[test]
    fn hostile_bodies_do_not_hurt() {
        let deep = format!("{}{}", "<Account>".repeat(10_000), "</a>".repeat(10));
        for body in [
            deep.as_str(),
            "<",
            "<Autodiscover><Response><Error><ErrorCode>",
            "&#xFFFFFFFF;<Action>redirectAddr</Action>",
            "\u{0}<html",
        ] {
            let _ = answer(AD, 200, &[], body);
            let _ = answer(
                "https://autodiscover.contoso.com/autodiscover/autodiscover.svc",
                200,
                &[],
                body,
            );
        }
        let many = format!(
            "<Autodiscover><Response><Account><Protocol>{}</Protocol></Account></Response></Autodiscover>",
            (0..500)
                .map(|i| format!("<EwsUrl>https://h{i}.contoso.com/EWS/Exchange.asmx</EwsUrl>"))
                .collect::<String>()
        );
        assert_eq!(answer(AD, 200, &[], &many).published.len(), MAX_PUBLISHED);
    }

    /// A 401 with nothing Autodiscover-specific is the challenge event's, not an answer.
    #[test]
    fn a_bare_challenge_is_no_answer() {
        let s = S::new(7, "POST", AD, 401).req_body(&request()).0;
        let reading = crate::auth::read_session(&s, &DecodeLimits::default());
        assert!(
            !reading
                .events
                .iter()
                .any(|e| matches!(e, crate::auth::Event::Autodiscover(_))),
            "{:?}",
            reading.events
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in ".{0,400}", cut in 0usize..1200) {
            let _ = answer(AD, 200, &[], &body);
            let _ = answer(AD, 200, &[], &SETTINGS[..cut.min(SETTINGS.len())]);
        }
    }
}

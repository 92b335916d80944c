//! Autodiscover v2 (`/autodiscover/autodiscover.json`): what a client asked and what it was
//! answered ([`AutodiscoverV2`]).
//!
//! Teams' calendar and delegate features and Outlook mobile find a mailbox's EWS (or
//! ActiveSync) URL with an anonymous `GET` to Exchange Online:
//! `/autodiscover/autodiscover.json?Email=<address>&Protocol=EWS` or the path form
//! `/autodiscover/autodiscover.json/v1.0/<address>?Protocol=EWS`. For a mailbox on-premises
//! Exchange Online answers `302` to the organisation's own `autodiscover.json` (adding
//! `RedirectCount=`), which must answer anonymously `200 {"Protocol":"EWS","Url":"https://..."}`.
//! Errors come as JSON `{"ErrorCode":"...","ErrorMessage":"..."}`; a proxy or web host in the
//! way answers 401/403/404, an HTML page or a 5xx.
//!
//! Only the answer body of a request to `autodiscover.json` is decoded (a few hundred bytes),
//! read with serde_json under the body cap; a hostile body yields less, never a panic. The
//! event keeps the domain of the address asked about, not the address.

use serde::Serialize;

use super::json;
use super::target::Target;
use crate::capture::url_parts::{percent_decoded, strip_query, UrlParts};
use crate::capture::{DecodeLimits, Session};
use crate::redact::cut::prefix_chars;

/// The longest string kept from an answer (a `Url`, an `ErrorMessage`, a redirect target).
const MAX_TEXT: usize = 300;

/// One request to `autodiscover.json` and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutodiscoverV2 {
    pub session: u64,
    /// The host asked, lower-cased.
    pub host: String,
    /// `scheme://host/autodiscover/autodiscover.json`: the endpoint, without the address
    /// (path form) or the query.
    pub endpoint: String,
    /// The domain of the address asked about (`Email=` or the path form), lower-cased.
    pub domain: Option<String>,
    /// `Protocol=` as asked (`EWS`, `ActiveSync`, `AutodiscoverV1`, `REST`, ...).
    pub protocol: Option<String>,
    /// `RedirectCount=`, which Exchange Online adds to the redirects it hands out.
    pub redirect_count: Option<u32>,
    pub status: Option<u16>,
    /// What the answer said.
    pub answer: V2Answer,
    /// The answer's `Server` header (a web host or proxy names itself there).
    pub server: Option<String>,
}

/// What an `autodiscover.json` request was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum V2Answer {
    /// `{"Protocol": ..., "Url": ...}`: the URL published for the protocol.
    Published {
        protocol: Option<String>,
        url: String,
    },
    /// A 3xx with a `Location`: an `autodiscover.json` target is kept as its endpoint
    /// (`scheme://host/autodiscover/autodiscover.json`), another one without its query.
    Redirect { target: String },
    /// `{"ErrorCode": ..., "ErrorMessage": ...}`.
    Error {
        code: String,
        message: Option<String>,
    },
    /// An HTML page where JSON was due (a web host, a proxy's login or error page).
    Html { title: Option<String> },
    /// Anything else: an empty or unreadable body (a bare 401, 404 or 5xx), JSON without
    /// `Url` or `ErrorCode`.
    Other,
    /// The session has no response.
    NoResponse,
}

impl AutodiscoverV2 {
    /// The URL published, with the protocol it was published for, when the answer was one.
    pub fn published(&self) -> Option<(&str, Option<&str>)> {
        match &self.answer {
            V2Answer::Published { protocol, url } => Some((url.as_str(), protocol.as_deref())),
            _ => None,
        }
    }

    /// The redirect target, when the answer was a redirect.
    pub fn redirect(&self) -> Option<&str> {
        match &self.answer {
            V2Answer::Redirect { target } => Some(target),
            _ => None,
        }
    }

    /// The JSON error code, when the answer was one.
    pub fn error_code(&self) -> Option<&str> {
        match &self.answer {
            V2Answer::Error { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Whether `url` is an autodiscover v2 request: its path is `/autodiscover/autodiscover.json`
/// (any case), possibly followed by `/v1.0/<address>`.
pub fn is_autodiscover_json_url(url: &str) -> bool {
    is_autodiscover_json_path(UrlParts::split(url).path)
}

/// [`is_autodiscover_json_url`] of a URL's path.
pub fn is_autodiscover_json_path(path: &str) -> bool {
    split_path(path).is_some()
}

/// `(endpoint path, address in the path)` of an `autodiscover.json` path. Called for every
/// session: it allocates nothing.
fn split_path(path: &str) -> Option<(&str, Option<&str>)> {
    const ENDPOINT: &str = "/autodiscover/autodiscover.json";
    let end = ENDPOINT.len();
    // The endpoint as the first segments, any case (a prefixed path is not Exchange's).
    if !path
        .as_bytes()
        .get(..end)?
        .eq_ignore_ascii_case(ENDPOINT.as_bytes())
    {
        return None;
    }
    // The matched bytes are ASCII, so `end` is a character boundary.
    let (endpoint, rest) = path.split_at(end);
    if rest.is_empty() || rest == "/" {
        return Some((endpoint, None));
    }
    // `/v1.0/<address>`
    let tail = rest.strip_prefix('/')?;
    let (version, address) = tail.split_once('/').unwrap_or((tail, ""));
    if !version.starts_with(['v', 'V']) {
        return None;
    }
    Some((endpoint, (!address.is_empty()).then_some(address)))
}

/// The endpoint (`scheme://host/autodiscover/autodiscover.json`, host lower-cased) of an
/// absolute URL, when it is an `autodiscover.json` URL.
pub fn endpoint_of(url: &str) -> Option<String> {
    let parts = UrlParts::split(url);
    let (path, _) = split_path(parts.path)?;
    let host = parts.host_port().to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let scheme = parts.scheme.unwrap_or("https").to_ascii_lowercase();
    Some(format!("{scheme}://{host}{path}"))
}

/// The autodiscover v2 event of one session, when it is a request to `autodiscover.json`.
pub fn autodiscover_v2(session: &Session, limits: &DecodeLimits) -> Option<AutodiscoverV2> {
    autodiscover_v2_at(&Target::of(session), limits)
}

/// [`autodiscover_v2`] of a session whose URL and host are read.
pub fn autodiscover_v2_at(target: &Target, limits: &DecodeLimits) -> Option<AutodiscoverV2> {
    let session = target.session;
    let parts = &target.parts;
    let (_, path_address) = split_path(parts.path)?;
    let host = target.host()?.to_string();
    let scheme = parts.scheme.unwrap_or("https").to_ascii_lowercase();
    let endpoint = format!(
        "{scheme}://{}/autodiscover/autodiscover.json",
        authority(parts, &host)
    );
    let mut email: Option<String> = path_address.map(percent_decoded);
    let mut protocol = None;
    let mut redirect_count = None;
    if let Some(q) = parts.query() {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            if k.eq_ignore_ascii_case("email") && email.is_none() {
                email = Some(v.into_owned());
            } else if k.eq_ignore_ascii_case("protocol") && protocol.is_none() {
                protocol = Some(capped(&v));
            } else if k.eq_ignore_ascii_case("redirectcount") && redirect_count.is_none() {
                redirect_count = v.trim().parse().ok();
            }
        }
    }
    let domain = email
        .as_deref()
        .and_then(|e| e.rsplit_once('@'))
        .map(|(_, d)| capped(d.trim().to_ascii_lowercase()))
        .filter(|d| !d.is_empty());
    let response = session.response.as_ref();
    let server = response.and_then(|r| r.headers.get("server")).map(capped);
    let answer = match response {
        None => V2Answer::NoResponse,
        Some(r) => answer_of(r, &scheme, &host, limits),
    };
    Some(AutodiscoverV2 {
        session: session.id,
        host,
        endpoint,
        domain,
        protocol,
        redirect_count,
        status: session.status(),
        answer,
        server,
    })
}

/// `host[:port]` as the URL wrote it, lower-cased; the `Host` header's host otherwise.
fn authority(parts: &UrlParts, host: &str) -> String {
    let hp = parts.host_port();
    if hp.is_empty() {
        host.to_string()
    } else {
        hp.to_ascii_lowercase()
    }
}

fn answer_of(
    r: &crate::capture::Response,
    scheme: &str,
    host: &str,
    limits: &DecodeLimits,
) -> V2Answer {
    if (300..400).contains(&r.status) {
        if let Some(location) = r.headers.get("location") {
            return V2Answer::Redirect {
                target: redirect_target(location.trim(), scheme, host),
            };
        }
    }
    let body = if r.body.is_empty() {
        Vec::new()
    } else {
        r.decoded_body_partial(limits).bytes
    };
    let text = String::from_utf8_lossy(&body);
    let text = json::trimmed(&text);
    if text.starts_with('{') {
        if let Some(map) = json::object(text) {
            let field = |name: &str| json::string(&map, name).map(capped);
            if let Some(code) = field("ErrorCode").filter(|c| !c.is_empty()) {
                return V2Answer::Error {
                    code,
                    message: field("ErrorMessage"),
                };
            }
            if let Some(url) = field("Url").filter(|u| !u.is_empty()) {
                return V2Answer::Published {
                    protocol: field("Protocol"),
                    url,
                };
            }
        }
        return V2Answer::Other;
    }
    let html_type = r
        .content_type()
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if html_type || looks_like_html(text) {
        return V2Answer::Html {
            title: html_title(text),
        };
    }
    V2Answer::Other
}

/// A `Location` as an absolute target: relative ones resolved against the request's origin;
/// an `autodiscover.json` target as its endpoint, another without its query.
fn redirect_target(location: &str, scheme: &str, host: &str) -> String {
    let absolute = if location.starts_with('/') && !location.starts_with("//") {
        format!("{scheme}://{host}{location}")
    } else {
        location.to_string()
    };
    capped(endpoint_of(&absolute).unwrap_or_else(|| strip_query(&absolute).to_string()))
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<html")
}

/// The `<title>` of a page, capped, whitespace folded.
fn html_title(text: &str) -> Option<String> {
    let (head, _) = prefix_chars(text, 4096);
    let lower = head.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = head.get(start..end)?;
    let folded = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!folded.is_empty()).then(|| capped(&folded))
}

fn capped(s: impl AsRef<str>) -> String {
    prefix_chars(s.as_ref(), MAX_TEXT).0.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    fn read(s: S) -> Option<AutodiscoverV2> {
        autodiscover_v2(&s.0, &DecodeLimits::default())
    }

    #[test]
    fn query_and_path_forms() {
        assert!(is_autodiscover_json_url(
            "https://outlook.office365.com/autodiscover/autodiscover.json?Email=a%40contoso.com&Protocol=EWS"
        ));
        assert!(is_autodiscover_json_url(
            "https://autodiscover.contoso.com/Autodiscover/Autodiscover.json/v1.0/a@contoso.com?Protocol=ActiveSync"
        ));
        assert!(!is_autodiscover_json_url(
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
        ));
        assert!(!is_autodiscover_json_url(
            "https://autodiscover.contoso.com/autodiscover/autodiscover.jsonx"
        ));
        assert!(!is_autodiscover_json_url(
            "https://x.contoso.com/app/autodiscover/autodiscover.json"
        ));

        let e = read(S::new(
            4,
            "GET",
            "https://outlook.office365.com/autodiscover/autodiscover.json/v1.0/User%40Contoso.com?Protocol=EWS&RedirectCount=1",
            200,
        )
        .resp_header("Content-Type", "application/json; charset=utf-8")
        .resp_body(r#"{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}"#))
        .expect("an autodiscover v2 event");
        assert_eq!(e.domain.as_deref(), Some("contoso.com"));
        assert_eq!(e.protocol.as_deref(), Some("EWS"));
        assert_eq!(e.redirect_count, Some(1));
        assert_eq!(
            e.endpoint,
            "https://outlook.office365.com/autodiscover/autodiscover.json"
        );
        assert_eq!(
            e.published(),
            Some((
                "https://outlook.office365.com/EWS/Exchange.asmx",
                Some("EWS")
            ))
        );
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert!(!json.to_ascii_lowercase().contains("user@"), "{json}");
    }

    #[test]
    fn redirects_errors_pages_and_bare_statuses() {
        let url = "https://outlook.office365.com/autodiscover/autodiscover.json?Email=user%40contoso.com&Protocol=EWS";
        let e = read(
            S::new(1, "GET", url, 302)
                .resp_header("Content-Type", "text/html; charset=utf-8")
                .resp_header("Location", "https://Autodiscover.Contoso.com/autodiscover/autodiscover.json?Email=user%40contoso.com&Protocol=EWS&RedirectCount=1")
                .resp_body("<html><head><title>Object moved</title></head></html>"),
        )
        .expect("event");
        assert_eq!(
            e.redirect(),
            Some("https://autodiscover.contoso.com/autodiscover/autodiscover.json")
        );
        let e = read(
            S::new(
                2,
                "GET",
                "/autodiscover/autodiscover.json?Email=a@contoso.com&Protocol=EWS",
                302,
            )
            .req_header("Host", "autodiscover.contoso.com")
            .resp_header("Location", "/my.policy?x=secret"),
        )
        .expect("event");
        assert_eq!(
            e.redirect(),
            Some("https://autodiscover.contoso.com/my.policy")
        );
        let e = read(
            S::new(3, "GET", url, 400)
                .resp_body(r#"{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value 'X' is invalid."}"#),
        )
        .expect("event");
        assert_eq!(e.error_code(), Some("InvalidProtocol"));
        let e = read(
            S::new(4, "GET", url, 200)
                .resp_header("Content-Type", "text/html")
                .resp_header("Server", "nginx")
                .resp_body(
                    "<!DOCTYPE html><html><head><title>\n Contoso  Home </title></head></html>",
                ),
        )
        .expect("event");
        assert_eq!(
            e.answer,
            V2Answer::Html {
                title: Some("Contoso Home".into())
            }
        );
        assert_eq!(e.server.as_deref(), Some("nginx"));
        let e = read(S::new(5, "GET", url, 401).offers(&["Negotiate", "NTLM"])).expect("event");
        assert_eq!((e.status, e.answer), (Some(401), V2Answer::Other));
        let e = read(S::new(6, "GET", url, 200).no_response()).expect("event");
        assert_eq!(e.answer, V2Answer::NoResponse);
        assert!(read(S::new(
            7,
            "GET",
            "https://mail.contoso.com/EWS/Exchange.asmx",
            200
        ))
        .is_none());
    }

    #[test]
    fn hostile_bodies_yield_less_never_a_panic() {
        let url = "https://autodiscover.contoso.com/autodiscover/autodiscover.json/v1.0/@@@?Protocol=%ff%fe&Email=x";
        for body in [
            "{",
            "{\"Url\":5}",
            "{\"ErrorCode\":\"\"}",
            &"[".repeat(10_000),
            &format!("{{\"Url\":\"{}\"}}", "é".repeat(5_000)),
            "<title>",
            "<html><title>x",
            "\u{feff}{\"url\":\"https://mail.contoso.com/EWS/Exchange.asmx\"}",
        ] {
            let e = read(S::new(1, "GET", url, 200).resp_body(body)).expect("event");
            if let V2Answer::Published { url, .. } = &e.answer {
                assert!(url.chars().count() <= MAX_TEXT);
            }
        }
        for u in [
            "https://h/autodiscover/autodiscover.json/",
            "https://h/autodiscover/autodiscover.json/v1.0",
            "https://h/autodiscover/autodiscover.json/v1.0/",
            "https://h/autodiscover/autodiscover.json//",
            "/autodiscover/autodiscover.json/é/é",
        ] {
            let _ = read(S::new(1, "GET", u, 404));
            let _ = endpoint_of(u);
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_keeps_strings_capped(
            path in ".{0,120}",
            body in ".{0,400}",
            status in 100u16..600,
        ) {
            let url = format!("https://h.contoso.com/autodiscover/autodiscover.json{path}");
            let s = S::new(1, "GET", &url, status)
                .resp_header("Location", &body)
                .resp_body(&body);
            if let Some(e) = read(s) {
                let texts = [e.domain.as_deref(), e.protocol.as_deref(), e.server.as_deref()];
                for t in texts.into_iter().flatten() {
                    proptest::prop_assert!(t.chars().count() <= MAX_TEXT);
                }
                match &e.answer {
                    V2Answer::Published { url, .. } => {
                        proptest::prop_assert!(url.chars().count() <= MAX_TEXT)
                    }
                    V2Answer::Redirect { target } => {
                        proptest::prop_assert!(target.chars().count() <= MAX_TEXT)
                    }
                    _ => {}
                }
            }
        }
    }
}

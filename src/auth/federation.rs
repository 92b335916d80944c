//! Federation: realm discovery at Entra ID, the round trip to ADFS or a third-party IdP
//! (passive sign-in pages, WS-Trust), the SAML response posted back to `login.srf`, and
//! Seamless SSO's `autologon` endpoint.
//!
//! Each event comes from one session. The user names in these sessions are kept only by
//! their domain; the assertion and the WS-Trust password are never kept.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::login::is_authority_host;
use super::saml::{self, SamlEvidence};
use super::target::Target;
use super::text::{
    bare_host, contains_ignore_case, ends_with_ignore_case, starts_with_ignore_case,
};
use super::xml::Tree;
use crate::capture::url_parts::UrlParts;
use crate::capture::{DecodeLimits, Session};
use chrono::{DateTime, FixedOffset};

/// Most bytes of an IdP page or realm answer read for its facts.
const MAX_PAGE: usize = 512 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Namespace {
    Managed,
    Federated,
    Unknown,
    /// Any other value (the raw value is not kept).
    Other,
}

/// One answer of Entra ID's realm discovery (`/common/userrealm/...`, `GetUserRealm.srf`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealmAnswer {
    pub session: u64,
    /// The domain of the user name asked about (from the URL), lower-cased.
    pub login_domain: Option<String>,
    /// `DomainName` / `domain_name` in the answer, lower-cased.
    pub domain: Option<String>,
    pub namespace: Namespace,
    /// `federation_protocol` (`WSTrust`, `SAML20`).
    pub protocol: Option<String>,
    /// The host of `AuthURL` (passive sign-in at the IdP).
    pub auth_host: Option<String>,
    /// The host of `federation_active_auth_url` / `STSAuthURL` (WS-Trust).
    pub active_auth_host: Option<String>,
    pub cloud_instance: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdpKind {
    /// ADFS passive sign-in (`/adfs/ls/`).
    AdfsPassive,
    /// WS-Trust with a user name and password (`.../usernamemixed`).
    WsTrustUsernameMixed,
    /// WS-Trust with Windows integrated auth (`.../windowstransport`).
    WsTrustWindows,
    /// Any other ADFS endpoint (`/adfs/services/trust/mex`, `/adfs/oauth2/`, ...).
    AdfsOther,
    /// PingFederate (`/idp/...`).
    PingFederate,
    /// Okta (`*.okta.com`).
    Okta,
}

/// An ADFS (or IdP) error: the codes it printed and its activity id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdpError {
    /// `MSIS7012`, `ID3242`, ...
    pub codes: Vec<String>,
    pub activity_id: Option<String>,
    /// The page is ADFS's "An error occurred" page (or a SOAP fault).
    pub error_page: bool,
}

/// A request to a federation server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdpRequest {
    pub session: u64,
    /// The host, lower-cased.
    pub host: String,
    pub kind: IdpKind,
    /// `None`: no answer was recorded (aborted, refused, timed out).
    pub status: Option<u16>,
    /// The domain of the user name a WS-Trust request carried.
    pub user_domain: Option<String>,
    pub error: Option<IdpError>,
    /// The client process, when the capture names it.
    pub process: Option<String>,
}

/// A SAML response posted to Entra ID (`login.srf`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamlPosted {
    pub session: u64,
    /// When the post was sent, by the capture's clock.
    pub sent: Option<DateTime<FixedOffset>>,
    pub evidence: SamlEvidence,
}

/// A request to Seamless SSO (`autologon.microsoftazuread-sso.com`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeamlessSso {
    pub session: u64,
    pub status: Option<u16>,
    /// The request carried `Authorization: Negotiate` (a Kerberos ticket, or NTLM).
    pub negotiate_sent: bool,
    /// A 401 offering `Negotiate`.
    pub negotiate_offered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum FederationEvent {
    Realm(RealmAnswer),
    Idp(IdpRequest),
    SamlPosted(SamlPosted),
    SeamlessSso(SeamlessSso),
}

impl FederationEvent {
    pub fn session(&self) -> u64 {
        match self {
            FederationEvent::Realm(r) => r.session,
            FederationEvent::Idp(r) => r.session,
            FederationEvent::SamlPosted(r) => r.session,
            FederationEvent::SeamlessSso(r) => r.session,
        }
    }
}

/// Seamless SSO hosts (public cloud, US Government).
const SEAMLESS_HOSTS: &[&str] = &[
    "autologon.microsoftazuread-sso.com",
    "autologon.microsoft.us",
];

/// Whether `host` is Seamless SSO's endpoint.
pub fn is_seamless_host(host: &str) -> bool {
    let h = bare_host(host);
    SEAMLESS_HOSTS.iter().any(|s| s.eq_ignore_ascii_case(h))
}

/// The kind of federation endpoint `url` on `host` is, by its path (ADFS, PingFederate) or
/// host (Okta). Entra ID's own hosts are never one.
pub fn idp_kind(host: &str, url: &str) -> Option<IdpKind> {
    idp_kind_of_path(host, UrlParts::split(url).path)
}

/// [`idp_kind`] of a URL's path. Asked of every session, twice: the path, which rules
/// nearly every session out, is looked at before the host's names are compared.
pub fn idp_kind_of_path(host: &str, path: &str) -> Option<IdpKind> {
    let host = bare_host(host);
    let kind = kind_by_path(host, path.trim_end_matches('/'))?;
    (!host.is_empty() && !is_authority_host(host) && !is_seamless_host(host)).then_some(kind)
}

/// The kind of federation endpoint a path (without trailing `/`) on a bare host is, before
/// Entra ID's own hosts are ruled out.
fn kind_by_path(host: &str, path: &str) -> Option<IdpKind> {
    let starts = |prefix| starts_with_ignore_case(path, prefix);
    if starts("/adfs/ls") {
        return Some(IdpKind::AdfsPassive);
    }
    if starts("/adfs/services/trust/") {
        if ends_with_ignore_case(path, "/usernamemixed") {
            return Some(IdpKind::WsTrustUsernameMixed);
        }
        if ends_with_ignore_case(path, "/windowstransport") {
            return Some(IdpKind::WsTrustWindows);
        }
    }
    if path.eq_ignore_ascii_case("/adfs") || starts("/adfs/") {
        return Some(IdpKind::AdfsOther);
    }
    if starts("/idp/") {
        return Some(IdpKind::PingFederate);
    }
    let okta =
        ends_with_ignore_case(host, ".okta.com") || ends_with_ignore_case(host, ".oktapreview.com");
    if okta && (contains_ignore_case(path, "/sso/wsfed") || contains_ignore_case(path, "/sso/saml"))
    {
        return Some(IdpKind::Okta);
    }
    None
}

/// Whether the analysis reads a body of this session: a federation server's request (the
/// WS-Trust user name) and answer (an error page).
pub fn reads_body(host: &str, url: &str) -> bool {
    idp_kind(host, url).is_some()
}

/// Every federation event of one session.
pub fn events(session: &Session, limits: &DecodeLimits) -> Option<FederationEvent> {
    events_at(&Target::of(session), limits)
}

/// [`events`] of a session whose URL and host are read.
pub fn events_at(target: &Target, limits: &DecodeLimits) -> Option<FederationEvent> {
    let session = target.session;
    if session.flags.tunnel || session.request.method.eq_ignore_ascii_case("CONNECT") {
        return None;
    }
    let host = target.host()?;
    if is_seamless_host(host) {
        return Some(FederationEvent::SeamlessSso(seamless(session)));
    }
    if target.is_authority() {
        return realm(target, limits)
            .map(FederationEvent::Realm)
            .or_else(|| saml_posted(target, limits).map(FederationEvent::SamlPosted));
    }
    let kind = idp_kind_of_path(host, target.path())?;
    Some(FederationEvent::Idp(idp(
        session,
        bare_host(host).to_ascii_lowercase(),
        kind,
        limits,
    )))
}

fn seamless(session: &Session) -> SeamlessSso {
    let negotiate_sent = session
        .request
        .headers
        .get_all("authorization")
        .any(|v| super::text::starts_with_ignore_case(v.trim(), "negotiate"));
    let response = session.response.as_ref();
    let negotiate_offered = response.is_some_and(|r| {
        r.status == 401
            && r.headers
                .get_all("www-authenticate")
                .any(|v| super::text::starts_with_ignore_case(v.trim(), "negotiate"))
    });
    SeamlessSso {
        session: session.id,
        status: response.map(|r| r.status),
        negotiate_sent,
        negotiate_offered,
    }
}

/// The body's text, up to [`MAX_PAGE`] bytes of what decodes.
fn text_of(body: Vec<u8>) -> String {
    let end = body.len().min(MAX_PAGE);
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// The user asked about in a realm discovery URL: `/userrealm/<user>`, `user=`, `login=`.
fn realm_user(parts: &UrlParts) -> Option<String> {
    let segments: Vec<&str> = parts.path.split('/').filter(|s| !s.is_empty()).collect();
    let in_path = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("userrealm"))
        .and_then(|i| segments.get(i + 1))
        .map(|s| {
            url::form_urlencoded::parse(format!("u={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        });
    let in_query = parts.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case("user") || k.eq_ignore_ascii_case("login"))
            .map(|(_, v)| v.into_owned())
    });
    in_path.or(in_query)
}

fn is_realm_path(path: &str) -> bool {
    contains_ignore_case(path, "/userrealm") || ends_with_ignore_case(path, "/getuserrealm.srf")
}

fn namespace(v: &str) -> Namespace {
    match v.trim().to_ascii_lowercase().as_str() {
        "managed" => Namespace::Managed,
        "federated" => Namespace::Federated,
        "unknown" => Namespace::Unknown,
        _ => Namespace::Other,
    }
}

fn host_of_url(u: &str) -> Option<String> {
    let h = bare_host(UrlParts::split(u.trim()).host()).to_ascii_lowercase();
    (!h.is_empty()).then_some(h)
}

/// A realm answer's field by any of its names (JSON key or XML element, case-insensitive).
type FieldReader = dyn Fn(&[&str]) -> Option<String>;

fn realm(target: &Target, limits: &DecodeLimits) -> Option<RealmAnswer> {
    if !is_realm_path(target.path()) {
        return None;
    }
    let session = target.session;
    let response = session.response.as_ref().filter(|r| r.status == 200)?;
    let text = text_of(response.decoded_body_partial(limits).bytes);
    let text = super::json::trimmed(&text);
    let field: Box<FieldReader> = if text.starts_with('{') {
        let map = super::json::object(text)?;
        Box::new(move |keys: &[&str]| {
            keys.iter().find_map(|k| {
                super::json::string(&map, k)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
        })
    } else if text.starts_with('<') {
        let tree = Tree::parse(text);
        let info = tree.descendant(tree.root(), "RealmInfo")?;
        Box::new(move |keys: &[&str]| keys.iter().find_map(|k| tree.text_at(info, &[k])))
    } else {
        return None;
    };
    let ns = field(&["NameSpaceType", "account_type"])?;
    let login_domain = realm_user(&target.parts)
        .and_then(|u| saml::domain_of(&u))
        .or_else(|| field(&["Login"]).and_then(|u| saml::domain_of(&u)));
    Some(RealmAnswer {
        session: session.id,
        login_domain,
        domain: field(&["DomainName", "domain_name"]).map(|d| d.to_ascii_lowercase()),
        namespace: namespace(&ns),
        protocol: field(&["federation_protocol", "FederationProtocol"]),
        auth_host: field(&["AuthURL"]).and_then(|u| host_of_url(&u)),
        active_auth_host: field(&["federation_active_auth_url", "STSAuthURL"])
            .and_then(|u| host_of_url(&u)),
        cloud_instance: field(&["cloud_instance_name", "CloudInstanceName"]),
    })
}

fn saml_posted(target: &Target, limits: &DecodeLimits) -> Option<SamlPosted> {
    let session = target.session;
    if !session.request.method.eq_ignore_ascii_case("POST") || session.request.body.is_empty() {
        return None;
    }
    if !ends_with_ignore_case(target.path(), "/login.srf") {
        return None;
    }
    let body = session.request.decoded_body_partial(limits).bytes;
    let evidence = saml::from_form(&body[..body.len().min(MAX_PAGE * 2)])?;
    Some(SamlPosted {
        session: session.id,
        sent: session.timers.start(),
        evidence,
    })
}

fn re(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => unreachable!("static pattern {pattern}: {e}"),
    }
}

static CODE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(MSIS\d{4}|ID\d{4})\b"));
static ACTIVITY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)Activity\s*ID:?(?:\s|&nbsp;|<[^>]{0,200}>){0,12}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    )
});

/// The error an IdP answer shows, if any.
fn idp_error(status: u16, text: &str) -> Option<IdpError> {
    let mut codes: Vec<String> = Vec::new();
    let fault = text.contains("Fault");
    for c in CODE.captures_iter(text).take(64) {
        let c = c[1].to_string();
        // `ID3242`-style codes are WS-Trust's, read only from a SOAP fault.
        if c.starts_with("ID") && !fault {
            continue;
        }
        if !codes.contains(&c) && codes.len() < 8 {
            codes.push(c);
        }
    }
    let lower = text.get(..text.len().min(MAX_PAGE)).unwrap_or(text);
    let error_page = lower.contains("An error occurred")
        || lower.contains(":Fault>")
        || lower.contains("<Fault")
        || lower.contains("errorMessage");
    let activity_id = ACTIVITY.captures(text).map(|c| c[1].to_ascii_lowercase());
    // A 401 is the Windows integrated handshake, not an error (its page has no code).
    let failed_status = status >= 400 && status != 401;
    (failed_status || !codes.is_empty() || (error_page && activity_id.is_some())).then_some(
        IdpError {
            codes,
            activity_id,
            error_page,
        },
    )
}

fn idp(session: &Session, host: String, kind: IdpKind, limits: &DecodeLimits) -> IdpRequest {
    let user_domain = match kind {
        IdpKind::WsTrustUsernameMixed | IdpKind::WsTrustWindows
            if !session.request.body.is_empty() =>
        {
            let text = text_of(session.request.decoded_body_partial(limits).bytes);
            let tree = Tree::parse(&text);
            tree.descendant(tree.root(), "Username")
                .and_then(|u| tree.node(u).map(|n| n.text.clone()))
                .and_then(|u| saml::domain_of(&u))
        }
        _ => None,
    };
    let response = session.response.as_ref();
    let error = response.and_then(|r| {
        let text = if r.body.is_empty() {
            String::new()
        } else {
            text_of(r.decoded_body_partial(limits).bytes)
        };
        idp_error(r.status, &text)
    });
    IdpRequest {
        session: session.id,
        host,
        kind,
        status: response.map(|r| r.status),
        user_domain,
        error,
        process: session.process.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    fn ev(s: S) -> Option<FederationEvent> {
        events(&s.0, &DecodeLimits::default())
    }

    #[test]
    fn realm_answers_json_v1_v2_and_xml() {
        let v2 = S::new(
            3,
            "GET",
            "https://login.microsoftonline.com/common/userrealm/?user=jo%40Contoso.com&api-version=2.1",
            200,
        )
        .resp_body(r#"{"NameSpaceType":"Federated","Login":"jo@contoso.com","DomainName":"contoso.com","FederationBrandName":"Contoso","AuthURL":"https://sts.contoso.com/adfs/ls/?username=jo%40contoso.com&wa=wsignin1.0","CloudInstanceName":"microsoftonline.com"}"#);
        let Some(FederationEvent::Realm(r)) = ev(v2) else {
            panic!("a realm answer")
        };
        assert_eq!(r.namespace, Namespace::Federated);
        assert_eq!(r.login_domain.as_deref(), Some("contoso.com"));
        assert_eq!(r.auth_host.as_deref(), Some("sts.contoso.com"));
        assert_eq!(r.cloud_instance.as_deref(), Some("microsoftonline.com"));
        assert!(!serde_json::to_string(&r)
            .unwrap_or_default()
            .contains("jo@"));

        let v1 = S::new(
            4,
            "GET",
            "https://login.microsoftonline.com/common/userrealm/jo@fabrikam.com?api-version=1.0",
            200,
        )
        .resp_body(
            r#"{"ver":"1.0","account_type":"Unknown","cloud_instance_name":"microsoftonline.com"}"#,
        );
        let Some(FederationEvent::Realm(r)) = ev(v1) else {
            panic!("a realm answer")
        };
        assert_eq!(r.namespace, Namespace::Unknown);
        assert_eq!(r.login_domain.as_deref(), Some("fabrikam.com"));

        let xml = S::new(5, "GET", "https://login.microsoftonline.com/GetUserRealm.srf?login=jo@contoso.com&xml=1", 200)
            .resp_body(r#"<?xml version="1.0" encoding="utf-8"?><RealmInfo Success="true"><State>3</State><UserState>2</UserState><Login>jo@contoso.com</Login><NameSpaceType>Federated</NameSpaceType><DomainName>CONTOSO.COM</DomainName><AuthURL>https://sts.contoso.com/adfs/ls/</AuthURL><STSAuthURL>https://sts.contoso.com/adfs/services/trust/2005/usernamemixed</STSAuthURL></RealmInfo>"#);
        let Some(FederationEvent::Realm(r)) = ev(xml) else {
            panic!("a realm answer")
        };
        assert_eq!(r.domain.as_deref(), Some("contoso.com"));
        assert_eq!(r.active_auth_host.as_deref(), Some("sts.contoso.com"));

        // Not realm discovery: a token request, a realm answer that is not 200.
        let other = S::new(
            6,
            "GET",
            "https://login.microsoftonline.com/common/userrealm/?user=a@b.com",
            500,
        )
        .resp_body("{}");
        assert!(ev(other).is_none());
    }

    #[test]
    fn idp_kinds_by_path_and_host() {
        let k = |h: &str, u: &str| idp_kind(h, u);
        assert_eq!(
            k(
                "sts.contoso.com",
                "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0"
            ),
            Some(IdpKind::AdfsPassive)
        );
        assert_eq!(
            k(
                "sts.contoso.com",
                "https://sts.contoso.com/adfs/services/trust/2005/usernamemixed"
            ),
            Some(IdpKind::WsTrustUsernameMixed)
        );
        assert_eq!(
            k(
                "sts.contoso.com",
                "https://sts.contoso.com/adfs/services/trust/13/windowstransport"
            ),
            Some(IdpKind::WsTrustWindows)
        );
        assert_eq!(
            k("sso.contoso.com", "https://sso.contoso.com/idp/prp.wsf"),
            Some(IdpKind::PingFederate)
        );
        assert_eq!(
            k(
                "contoso.okta.com",
                "https://contoso.okta.com/app/office365/exk1/sso/wsfed/passive"
            ),
            Some(IdpKind::Okta)
        );
        for (h, u) in [
            (
                "login.microsoftonline.com",
                "https://login.microsoftonline.com/adfs/ls",
            ),
            ("mail.contoso.com", "https://mail.contoso.com/owa/"),
            ("contoso.okta.com", "https://contoso.okta.com/api/v1/users"),
            ("cdn.contoso.com", "https://cdn.contoso.com/adfsx/ls"),
        ] {
            assert_eq!(k(h, u), None, "{u}");
        }
    }

    #[test]
    fn adfs_error_page_and_wstrust_user_domain() {
        let page = S::new(8, "GET", "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0", 200)
            .resp_body("<html><body><div id=\"errorArea\"><span>An error occurred</span><span>MSIS7012: An error occurred while processing the request.</span><span id=\"activityIdLabel\">Activity ID:</span> <span>00000000-0000-0000-4500-0080000000D0</span></div></body></html>");
        let Some(FederationEvent::Idp(r)) = ev(page) else {
            panic!("an idp request")
        };
        let e = r.error.expect("an error");
        assert_eq!(e.codes, vec!["MSIS7012"]);
        assert_eq!(
            e.activity_id.as_deref(),
            Some("00000000-0000-0000-4500-0080000000d0")
        );

        let ok = S::new(9, "GET", "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0", 200)
            .resp_body("<html><form method=\"post\" action=\"https://login.microsoftonline.com/login.srf\"><input name=\"wresult\" value=\"x\"/></form></html>");
        let Some(FederationEvent::Idp(r)) = ev(ok) else {
            panic!("an idp request")
        };
        assert_eq!(r.error, None);

        let ws = S::new(
            10,
            "POST",
            "https://sts.contoso.com/adfs/services/trust/2005/usernamemixed",
            200,
        )
        .req_body(r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><o:UsernameToken><o:Username>jo@Contoso.com</o:Username><o:Password>Hunter2!</o:Password></o:UsernameToken></o:Security></s:Header><s:Body/></s:Envelope>"#);
        let Some(FederationEvent::Idp(r)) = ev(ws) else {
            panic!("an idp request")
        };
        assert_eq!(r.kind, IdpKind::WsTrustUsernameMixed);
        assert_eq!(r.user_domain.as_deref(), Some("contoso.com"));
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(!json.contains("Hunter2") && !json.contains("jo@"), "{json}");

        let aborted = S::new(11, "GET", "https://sts.contoso.com/adfs/ls/", 0).no_response();
        let Some(FederationEvent::Idp(r)) = ev(aborted) else {
            panic!("an idp request")
        };
        assert_eq!((r.status, r.error), (None, None));
    }

    #[test]
    fn seamless_sso_requests() {
        let s = S::new(
            12,
            "GET",
            "https://autologon.microsoftazuread-sso.com/contoso.com/winauth/sso?client-request-id=x",
            401,
        )
        .resp_header("WWW-Authenticate", "Negotiate");
        let Some(FederationEvent::SeamlessSso(r)) = ev(s) else {
            panic!("seamless sso")
        };
        assert!(r.negotiate_offered && !r.negotiate_sent);
    }

    #[test]
    fn hostile_bodies_never_panic() {
        for body in [
            "",
            "{",
            "<RealmInfo>",
            "{\"NameSpaceType\":5}",
            "\u{feff}<",
            "\u{0}",
        ] {
            let s = S::new(
                1,
                "GET",
                "https://login.microsoftonline.com/common/userrealm/a@b",
                200,
            )
            .resp_body(body);
            let _ = ev(s);
            let s = S::new(
                1,
                "POST",
                "https://sts.x.com/adfs/services/trust/13/usernamemixed",
                503,
            )
            .req_body(body)
            .resp_body(body);
            let _ = ev(s);
        }
        assert!(idp_error(200, "Activity ID: <".repeat(1000).as_str()).is_none());
    }
}

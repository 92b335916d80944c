//! Intermediaries seen in one session: a pre-authenticating reverse proxy in front of
//! Exchange (F5 BIG-IP APM, Citrix NetScaler, Web Application Proxy / AD FS, Entra
//! application proxy) and the client's own forward proxy (407, block pages, gateway errors,
//! Fiddler's own error answers, tenant-restriction headers).
//!
//! Almost everything is read from heads: status, reason phrase, `Location` (its path, never
//! its query), `Server`, `Via`, the NAMES of cookies (never a value) and of vendor headers.
//! The one body read is the HTML answer of an EWS URL (a login form where SOAP was
//! expected), searched in its first [`FORM_CAP`] bytes: EWS bodies are already among those
//! `auth::reads_body` keeps. Autodiscover, MAPI, OAB and ActiveSync bodies are never read
//! (`redact --drop-bodies-except-auth` drops them); an HTML answer there counts only when a
//! pre-authentication device's cookie names it.

use serde::Serialize;

use super::ews::is_ews_path;
use super::login::is_authority_host;
use super::target::Target;
use super::text::starts_with_ignore_case;
use crate::capture::url_parts::{strip_query, UrlParts};
use crate::capture::{DecodeLimits, Headers, Session};

/// How much of an HTML answer is searched for a login form.
pub const FORM_CAP: usize = 64 * 1024;

/// One sign of an intermediary in one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewaySign {
    pub session: u64,
    /// The request URL without its query.
    pub url: String,
    /// Lower-cased host of the request (a CONNECT's target host).
    pub host: String,
    pub status: u16,
    pub sign: Sign,
    /// The device its heads name, when they name one.
    pub device: Option<Device>,
    /// What named it, none of it secret: cookie names, vendor header names, `Server`.
    pub markers: Vec<String>,
}

/// What the session shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "sign", rename_all = "snake_case")]
pub enum Sign {
    /// An Exchange virtual directory answered by a redirect to a login page (`location`:
    /// scheme, host and path of the `Location`, no query).
    LoginRedirect { location: String },
    /// An HTML login page where XML, JSON or MAPI was expected: an EWS answer holding a
    /// password form, or an HTML answer on any Exchange virtual directory carrying a
    /// pre-authentication device's cookie.
    LoginForm,
    /// A 401 on an Exchange virtual directory that neither IIS nor Exchange produced (no
    /// `Server: Microsoft-IIS`, none of Exchange's own headers). Exchange's own 401s are
    /// the challenges `auth::challenge` reads, and yield no sign here.
    ForeignUnauthorized,
    /// A 407: the schemes `Proxy-Authenticate` offered, and the scheme of the request's
    /// `Proxy-Authorization` (never its value).
    ProxyAuth {
        schemes: Vec<String>,
        answered_with: Option<String>,
    },
    /// A 403 or 451 from a proxy (a vendor's headers, or a refused CONNECT).
    Blocked,
    /// A 502, 503 or 504 from a proxy, or Fiddler's own error answer (`fiddler`: its reason
    /// phrase, e.g. "Fiddler - Connection Failed").
    GatewayFailure { fiddler: Option<String> },
    /// A request to an Entra ID authority carrying tenant-restriction headers (name, value:
    /// tenant GUIDs or domains and a policy id, not secrets).
    TenantRestriction { headers: Vec<(String, String)> },
}

/// A device named by its headers, cookies or paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Device {
    F5Apm,
    NetScaler,
    WapAdfs,
    EntraAppProxy,
    Zscaler,
    BlueCoat,
    Squid,
    PaloAlto,
    Netskope,
    Forcepoint,
    Fiddler,
}

impl Device {
    pub fn name(self) -> &'static str {
        match self {
            Device::F5Apm => "F5 BIG-IP APM",
            Device::NetScaler => "Citrix NetScaler / ADC Gateway",
            Device::WapAdfs => "Web Application Proxy / AD FS",
            Device::EntraAppProxy => "Microsoft Entra application proxy",
            Device::Zscaler => "Zscaler",
            Device::BlueCoat => "Blue Coat / Symantec ProxySG",
            Device::Squid => "Squid",
            Device::PaloAlto => "Palo Alto Networks",
            Device::Netskope => "Netskope",
            Device::Forcepoint => "Forcepoint (Websense)",
            Device::Fiddler => "Fiddler itself",
        }
    }
}

/// The request headers tenant restrictions (v1 and v2) add on the way to Entra ID.
pub const TENANT_RESTRICTION_HEADERS: &[&str] = &[
    "Restrict-Access-To-Tenants",
    "Restrict-Access-Context",
    "sec-Restrict-Tenant-Access-Policy",
];

/// Exchange's own response headers: an answer carrying one came from Exchange.
const EXCHANGE_HEADERS: &[&str] = &[
    "X-FEServer",
    "X-BEServer",
    "request-id",
    "X-CalculatedBETarget",
    "X-CalculatedFETarget",
    "X-DiagInfo",
    "X-OWA-Version",
    "X-MS-Diagnostics",
];

/// Whether a URL is on one of the Exchange virtual directories Outlook, Teams and mobile
/// clients authenticate to (Autodiscover, EWS, MAPI, OAB, ActiveSync).
pub fn is_exchange_vdir(url: &str) -> bool {
    is_exchange_vdir_at(&UrlParts::split(url))
}

/// [`is_exchange_vdir`] of a URL split: its path's first segment, compared in place.
fn is_exchange_vdir_at(url: &UrlParts) -> bool {
    let first = url.first_segment();
    [
        "autodiscover",
        "ews",
        "mapi",
        "oab",
        "microsoft-server-activesync",
    ]
    .iter()
    .any(|v| v.eq_ignore_ascii_case(first))
}

/// Whether this module reads the answer body of a request: the HTML answers of EWS only
/// (a subset of what `auth::reads_body` keeps).
fn may_read_body(target: &Target) -> bool {
    !target.is_authority() && is_ews_path(target.path())
}

/// The sign of an intermediary in `session`, if any, and whether its answer body was read.
pub fn gateway_sign(session: &Session, limits: &DecodeLimits) -> (Option<GatewaySign>, bool) {
    gateway_sign_at(&Target::of(session), limits)
}

/// [`gateway_sign`] of a session whose URL and host are read.
pub fn gateway_sign_at(target: &Target, limits: &DecodeLimits) -> (Option<GatewaySign>, bool) {
    let session = target.session;
    let Some(response) = session.response.as_ref() else {
        return (None, false);
    };
    let url = target.url();
    let status = response.status;
    let vdir = is_exchange_vdir_at(&target.parts);
    let authority = target.is_authority();
    // Most sessions are none of these: leave them before any allocation.
    let candidate = match status {
        200 => vdir && is_html(response.content_type()),
        301 | 302 | 303 | 307 | 308 | 401 => vdir,
        403 | 407 | 451 | 502..=504 => true,
        _ => false,
    } || TENANT_RESTRICTION_HEADERS
        .iter()
        .any(|h| session.request.headers.contains(h));
    if !candidate {
        return (None, false);
    }
    let host = target.host_or_empty();
    let (device, markers) = identify(session);
    let mut body_read = false;
    let sign = match status {
        301 | 302 | 303 | 307 | 308 if vdir && !authority => {
            login_redirect(&response.headers, device)
        }
        200 if may_read_body(target) && is_html(response.content_type()) => {
            body_read = true;
            let decoded = response.decoded_body_partial(limits);
            let text = decoded.bytes.get(..FORM_CAP).unwrap_or(&decoded.bytes);
            (has_password_form(text) || device.is_some_and(is_preauth_device))
                .then_some(Sign::LoginForm)
        }
        200 if vdir
            && !authority
            && is_html(response.content_type())
            && device.is_some_and(is_preauth_device) =>
        {
            Some(Sign::LoginForm)
        }
        401 if vdir && !authority && !from_exchange(&response.headers) => {
            Some(Sign::ForeignUnauthorized)
        }
        407 => Some(Sign::ProxyAuth {
            schemes: schemes(&response.headers),
            answered_with: session
                .request
                .headers
                .get("Proxy-Authorization")
                .and_then(|v| v.split_whitespace().next())
                .map(str::to_string),
        }),
        403 | 451 if device.is_some_and(is_forward_proxy) || session.flags.tunnel => {
            Some(Sign::Blocked)
        }
        502..=504 => fiddler_reason(&response.reason)
            .map(|r| Sign::GatewayFailure { fiddler: Some(r) })
            .or_else(|| {
                let proxied = device.is_some_and(is_forward_proxy)
                    || session.flags.tunnel
                    || (response.headers.contains("Via") && !from_exchange(&response.headers));
                proxied.then_some(Sign::GatewayFailure { fiddler: None })
            }),
        _ => None,
    };
    let sign = sign.or_else(|| tenant_restriction(session, authority));
    let Some(sign) = sign else {
        return (None, body_read);
    };
    let mut markers = markers;
    let device = match &sign {
        Sign::GatewayFailure { fiddler: Some(_) } => Some(Device::Fiddler),
        Sign::LoginRedirect { location } if device.is_none() => {
            let by_path = device_of_login(location);
            if by_path.is_some() {
                let path = UrlParts::split(location).path_or_root();
                markers.push(format!(
                    "login path {}",
                    path.chars().take(60).collect::<String>()
                ));
            }
            by_path
        }
        _ => device,
    };
    let event = GatewaySign {
        session: session.id,
        url: strip_query(url).to_string(),
        host: host.to_string(),
        status,
        sign,
        device,
        markers,
    };
    (Some(event), body_read)
}

fn is_forward_proxy(d: Device) -> bool {
    matches!(
        d,
        Device::Zscaler
            | Device::BlueCoat
            | Device::Squid
            | Device::PaloAlto
            | Device::Netskope
            | Device::Forcepoint
    )
}

fn is_preauth_device(d: Device) -> bool {
    matches!(
        d,
        Device::F5Apm | Device::NetScaler | Device::WapAdfs | Device::EntraAppProxy
    )
}

/// A redirect to a pre-authentication login page: by its path, or by a device's cookie.
fn login_redirect(headers: &Headers, device: Option<Device>) -> Option<Sign> {
    let location = headers.get("Location")?.trim();
    let parts = UrlParts::split(location);
    let path = parts.path_or_root().to_ascii_lowercase();
    const LOGIN_PATHS: &[&str] = &[
        "/adfs/ls",
        "/my.policy",
        "/vdesk/",
        "/vpn/index.html",
        "/cgi/login",
        "/logon/logonpoint",
        "/nf/auth/",
    ];
    let to_login_path = LOGIN_PATHS.iter().any(|p| path.starts_with(p));
    let to_entra = is_authority_host(parts.host()) && path.contains("/oauth2/");
    let by_device = device.is_some_and(is_preauth_device);
    (to_login_path || to_entra || by_device).then(|| Sign::LoginRedirect {
        location: strip_query(location).to_string(),
    })
}

/// The device a pre-authentication login URL belongs to, by its path (or Entra ID's host).
fn device_of_login(location: &str) -> Option<Device> {
    let parts = UrlParts::split(location);
    let path = parts.path_or_root().to_ascii_lowercase();
    let by_path: &[(&str, Device)] = &[
        ("/my.policy", Device::F5Apm),
        ("/vdesk/", Device::F5Apm),
        ("/vpn/index.html", Device::NetScaler),
        ("/cgi/login", Device::NetScaler),
        ("/logon/logonpoint", Device::NetScaler),
        ("/nf/auth/", Device::NetScaler),
        ("/adfs/ls", Device::WapAdfs),
    ];
    by_path
        .iter()
        .find(|(p, _)| path.starts_with(p))
        .map(|(_, d)| *d)
        .or_else(|| is_authority_host(parts.host()).then_some(Device::EntraAppProxy))
}

fn is_html(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| starts_with_ignore_case(c.trim(), "text/html"))
}

/// A `<form` and a password input, case-insensitively, in the first bytes of a page.
fn has_password_form(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    compact.contains("<form")
        && ["type=\"password\"", "type='password'", "type=password"]
            .iter()
            .any(|p| compact.contains(p))
}

/// Whether IIS / Exchange produced this answer.
fn from_exchange(headers: &Headers) -> bool {
    headers
        .get("Server")
        .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("microsoft-iis"))
        || EXCHANGE_HEADERS.iter().any(|h| headers.contains(h))
}

/// The scheme names of `Proxy-Authenticate`, once each.
fn schemes(headers: &Headers) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in headers.get_all("Proxy-Authenticate") {
        let name = v
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(',');
        if !name.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            out.push(name.chars().take(32).collect());
        }
    }
    out
}

/// Fiddler's own error answers say so in their reason phrase ("Fiddler - Connection Failed",
/// "Fiddler - DNS Lookup Failed", "Fiddler - Receive Failure").
fn fiddler_reason(reason: &str) -> Option<String> {
    let r = reason.trim();
    r.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("fiddler"))
        .then(|| r.chars().take(80).collect())
}

fn tenant_restriction(session: &Session, authority: bool) -> Option<Sign> {
    if !authority {
        return None;
    }
    let headers: Vec<(String, String)> = TENANT_RESTRICTION_HEADERS
        .iter()
        .filter_map(|name| {
            let v = session.request.headers.get(name)?;
            Some((name.to_string(), v.trim().chars().take(400).collect()))
        })
        .collect();
    (!headers.is_empty()).then_some(Sign::TenantRestriction { headers })
}

/// The device the heads name, and the non-secret markers that named it.
fn identify(session: &Session) -> (Option<Device>, Vec<String>) {
    let mut found: Vec<(Device, String)> = Vec::new();
    let response = session.response.as_ref();
    let set_cookies = response
        .into_iter()
        .flat_map(|r| r.headers.get_all("Set-Cookie"))
        .filter_map(|c| c.split(['=', ';']).next());
    let cookies = session
        .request
        .headers
        .get_all("Cookie")
        .flat_map(|c| c.split(';'))
        .filter_map(|c| c.split('=').next());
    for name in set_cookies.chain(cookies).map(str::trim) {
        if let Some(d) = cookie_device(name) {
            let marker = format!("cookie {}", name.chars().take(48).collect::<String>());
            if !found.iter().any(|(_, m)| *m == marker) {
                found.push((d, marker));
            }
        }
    }
    if let Some(r) = response {
        for (name, value) in r.headers.iter() {
            let n = name.to_ascii_lowercase();
            let v = value.to_ascii_lowercase();
            let device = if n == "server" || n == "via" {
                value_device(&v)
            } else if n.starts_with("x-bluecoat") {
                Some(Device::BlueCoat)
            } else if n.starts_with("x-squid") {
                Some(Device::Squid)
            } else if n.contains("zscaler") {
                Some(Device::Zscaler)
            } else if n.contains("netskope") {
                Some(Device::Netskope)
            } else if n.contains("websense") || n.contains("forcepoint") {
                Some(Device::Forcepoint)
            } else {
                None
            };
            if let Some(d) = device {
                let marker = if n == "server" || n == "via" {
                    format!(
                        "{name}: {}",
                        value.trim().chars().take(60).collect::<String>()
                    )
                } else {
                    format!("header {}", name.chars().take(48).collect::<String>())
                };
                if !found.iter().any(|(_, m)| *m == marker) {
                    found.push((d, marker));
                }
            }
        }
    }
    let device = found.first().map(|(d, _)| *d);
    (device, found.into_iter().map(|(_, m)| m).collect())
}

/// The device a cookie name belongs to.
fn cookie_device(name: &str) -> Option<Device> {
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "mrhsession" | "lastmrh_session" | "f5_st" | "f5_fullwt" | "f5_ht_shrinked" | "mrhsequence"
    ) {
        Some(Device::F5Apm)
    } else if lower.starts_with("nsc_") {
        Some(Device::NetScaler)
    } else if lower.starts_with("msisauth")
        || lower == "msissignout"
        || lower == "msisloopdetectioncookie"
    {
        Some(Device::WapAdfs)
    } else if lower.starts_with("azureappproxy") {
        Some(Device::EntraAppProxy)
    } else {
        None
    }
}

/// The device a lower-cased `Server` or `Via` value names.
fn value_device(v: &str) -> Option<Device> {
    const BY_VALUE: &[(&str, Device)] = &[
        ("bigip", Device::F5Apm),
        ("big-ip", Device::F5Apm),
        ("netscaler", Device::NetScaler),
        ("zscaler", Device::Zscaler),
        ("bluecoat", Device::BlueCoat),
        ("proxysg", Device::BlueCoat),
        ("squid", Device::Squid),
        ("panweb", Device::PaloAlto),
        ("netskope", Device::Netskope),
        ("websense", Device::Forcepoint),
        ("forcepoint", Device::Forcepoint),
    ];
    BY_VALUE
        .iter()
        .find(|(needle, _)| v.contains(needle))
        .map(|(_, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    fn sign(s: S) -> Option<GatewaySign> {
        gateway_sign(&s.0, &DecodeLimits::default()).0
    }

    #[test]
    fn f5_redirect_names_the_device_by_cookie_name_only() {
        let s = S::new(3, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 302)
            .resp_header("Location", "https://mail.contoso.com/my.policy?x=SECRETQ")
            .resp_header("Set-Cookie", "MRHSession=SECRETVALUE; path=/; secure")
            .resp_header("Server", "BigIP");
        let g = sign(s).expect("a sign");
        assert_eq!(
            g.sign,
            Sign::LoginRedirect {
                location: "https://mail.contoso.com/my.policy".into()
            }
        );
        assert_eq!(g.device, Some(Device::F5Apm));
        let json = serde_json::to_string(&g).unwrap_or_default();
        assert!(json.contains("cookie MRHSession"), "{json}");
        assert!(!json.contains("SECRET"), "{json}");
    }

    #[test]
    fn exchange_401_and_foreign_401() {
        let iis = S::new(1, "GET", "https://mail.contoso.com/mapi/emsmdb/", 401)
            .resp_header("Server", "Microsoft-IIS/10.0")
            .resp_header("request-id", "1");
        assert_eq!(sign(iis), None);
        let ns = S::new(2, "GET", "https://mail.contoso.com/mapi/emsmdb/", 401)
            .resp_header("Set-Cookie", "NSC_TMAS=abc; path=/");
        let g = sign(ns).expect("a sign");
        assert_eq!(g.sign, Sign::ForeignUnauthorized);
        assert_eq!(g.device, Some(Device::NetScaler));
    }

    #[test]
    fn login_form_read_on_ews_and_by_cookie_elsewhere() {
        let page = "<html><FORM method=post action=/my.policy><input type=\"password\" name=pw></form></html>";
        let html = |id, url| {
            S::new(id, "POST", url, 200)
                .resp_header("Content-Type", "text/html; charset=utf-8")
                .resp_body(page)
        };
        let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
        let ad = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
        assert_eq!(sign(html(1, ews)).map(|g| g.sign), Some(Sign::LoginForm));
        // Autodiscover bodies are not read: its HTML counts only with a device's cookie.
        assert_eq!(sign(html(2, ad)), None);
        let f5 = html(3, ad).resp_header("Set-Cookie", "MRHSession=abc; path=/");
        assert_eq!(sign(f5).map(|g| g.sign), Some(Sign::LoginForm));
        assert_eq!(sign(html(4, "https://mail.contoso.com/owa/")), None);
        let xml = S::new(5, "POST", ews, 200)
            .resp_header("Content-Type", "text/xml")
            .resp_body(page);
        assert_eq!(sign(xml), None);
    }

    /// The HTML answer searched for a login form is a body the analysis reads: when it does
    /// not decode, the session reports the problem (the capture is not "OK" unread).
    #[test]
    fn an_undecodable_html_answer_on_ews_is_a_problem() {
        // A FindItem request: the EWS parser itself does not read its answer.
        let soap = r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body><m:FindItem/></s:Body></s:Envelope>"#;
        let mut s = S::new(1, "POST", "https://mail.contoso.com/EWS/Exchange.asmx", 200)
            .req_header("Content-Type", "text/xml; charset=utf-8")
            .req_body(soap)
            .resp_header("Content-Type", "text/html")
            .resp_header("Content-Encoding", "gzip");
        if let Some(r) = s.0.response.as_mut() {
            r.body = crate::capture::Body {
                raw: vec![0x1f, 0x8b, 0x08, 0x00, 0x00],
                wire: true,
                truncated: false,
            };
        }
        let reading = super::super::read_session(&s.0, &DecodeLimits::default());
        assert_eq!(reading.problems.len(), 1, "{:?}", reading.problems);
        assert!(reading.problems[0].starts_with("response body: "));
    }

    #[test]
    fn client_side_signs() {
        let p407 = S::new(1, "CONNECT", "login.microsoftonline.com:443", 407)
            .req_header("Proxy-Authorization", "NTLM TlRMTVNTUAADAAAA")
            .resp_header("Proxy-Authenticate", "Negotiate")
            .resp_header("Proxy-Authenticate", "NTLM");
        assert_eq!(
            sign(p407).map(|g| g.sign),
            Some(Sign::ProxyAuth {
                schemes: vec!["Negotiate".into(), "NTLM".into()],
                answered_with: Some("NTLM".into())
            })
        );
        let mut fiddler = S::new(2, "GET", "https://mail.contoso.com/EWS/Exchange.asmx", 502);
        if let Some(r) = fiddler.0.response.as_mut() {
            r.reason = "Fiddler - DNS Lookup Failed".into();
        }
        let g = sign(fiddler).expect("a sign");
        assert_eq!(g.device, Some(Device::Fiddler));
        let cdn =
            S::new(3, "GET", "https://cdn.example.net/x.js", 403).resp_header("Server", "AmazonS3");
        assert_eq!(sign(cdn), None);
        let via_ok = S::new(4, "GET", "https://outlook.office365.com/x", 200)
            .resp_header("Via", "1.1 proxy.contoso.local (squid/5.7)");
        assert_eq!(sign(via_ok), None);
        let tr = S::new(
            5,
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            400,
        )
        .req_header("Restrict-Access-To-Tenants", "contoso.com,fabrikam.com")
        .req_header(
            "Restrict-Access-Context",
            "72f988bf-0000-4000-8000-0123456789ab",
        );
        match sign(tr).map(|g| g.sign) {
            Some(Sign::TenantRestriction { headers }) => assert_eq!(headers.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_heads_do_not_panic() {
        for v in ["", "=", ";;;", "\u{0}é=ü", "Negotiate,", "ﬀﬀﬀ"] {
            let s = S::new(1, "GET", v, 407)
                .req_header("Cookie", v)
                .req_header("Proxy-Authorization", v)
                .resp_header("Proxy-Authenticate", v)
                .resp_header("Set-Cookie", v)
                .resp_header("Location", v);
            let _ = sign(s);
        }
    }
}

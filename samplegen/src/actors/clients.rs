//! Clients beyond Outlook's ADAL: MSAL in Teams (v2 endpoint), MSAL.js in Outlook on the web
//! (Edge), the sign-in form, Outlook's silent authorize, and plain-http Windows background.

use crate::actors::outlook::{self, ADAL_BROWSER_UA};
use crate::actors::{hdrs, EDGE_UA, OWA_CLIENT, USER};
use crate::model::{Body, Request, BODY_HEADERS};
use crate::wire::{form, form_encode};

fn req(method: &str, url: &str, headers: Vec<(String, String)>, body: Option<Body>) -> Request {
    Request {
        method: method.into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers,
        body,
    }
}

/// ADAL's silent authorize: the interactive request with `prompt=none` (no UI shown).
pub fn adal_authorize_silent(
    authority: &str,
    tenant: &str,
    resource: &str,
    crid: &str,
    cookies: Option<&str>,
) -> Request {
    let mut r = outlook::adal_authorize(authority, tenant, resource, crid, cookies);
    r.url.push_str("&prompt=none");
    r
}

/// The sign-in form post (`/common/login`) from ADAL's embedded browser.
pub fn login_post(authority: &str, password: &str, cookies: &str) -> Request {
    let body = form(&[
        ("i13", "0"),
        ("login", USER),
        ("loginfmt", USER),
        ("type", "11"),
        ("LoginOptions", "3"),
        ("passwd", password),
        ("ps", "2"),
        ("canary", "Cz2kTz9ofSZk1Hq3QyhhHb3r0f0bXr6QqG4u3mDkUjI=:1"),
        ("flowToken", "AQABAAEAAAD--DLA3VO7QrddgJg7WevrFlowStandIn"),
    ]);
    let h = hdrs(&[
        ("Accept", "text/html, application/xhtml+xml, image/jxr, */*"),
        (
            "Referer",
            &format!("https://{authority}/common/oauth2/authorize"),
        ),
        ("Accept-Language", "en-US"),
        ("User-Agent", ADAL_BROWSER_UA),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Host", authority),
        (BODY_HEADERS, ""),
        ("Connection", "Keep-Alive"),
        ("Cache-Control", "no-cache"),
        ("Cookie", cookies),
    ]);
    req(
        "POST",
        &format!("https://{authority}/common/login"),
        h,
        Some(Body::plain(body)),
    )
}

/// An MSAL (desktop) refresh on the v2 endpoint, as Teams sends it.
pub fn msal_v2_refresh(
    authority: &str,
    tenant: &str,
    client_id: &str,
    scope: &str,
    refresh_token: &str,
    crid: &str,
) -> Request {
    let body = form(&[
        ("client_id", client_id),
        ("client_info", "1"),
        ("scope", scope),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ]);
    let h = hdrs(&[
        ("Accept", "application/json"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("x-client-SKU", "MSAL.Desktop"),
        ("x-client-Ver", "4.61.3.0"),
        ("x-client-OS", "Windows 10 Enterprise"),
        ("x-app-name", "Microsoft Teams"),
        ("x-app-ver", "24295.605.3225.8804"),
        ("x-ms-lib-capability", "retry-after, h429"),
        ("client-request-id", crid),
        ("return-client-request-id", "true"),
        ("Host", authority),
        (BODY_HEADERS, ""),
    ]);
    req(
        "POST",
        &format!("https://{authority}/{tenant}/oauth2/v2.0/token"),
        h,
        Some(Body::plain(body)),
    )
}

/// Where Outlook on the web sends MSAL.js's answers.
pub const OWA_REDIRECT: &str = "https://outlook.office.com/mail/";

fn edge_nav_headers(host: &str, dest: &str, cookies: Option<&str>) -> Vec<(String, String)> {
    let mut h = hdrs(&[
        ("Host", host),
        ("Connection", "keep-alive"),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"130\", \"Microsoft Edge\";v=\"130\", \"Not?A_Brand\";v=\"99\"",
        ),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", "\"Windows\""),
        ("Upgrade-Insecure-Requests", "1"),
        ("User-Agent", EDGE_UA),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Dest", dest),
        ("Referer", "https://outlook.office.com/"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]);
    if let Some(c) = cookies {
        h.push(("Cookie".into(), c.into()));
    }
    h
}

/// MSAL.js v2's authorize (PKCE, `response_mode=fragment`); `silent` is the hidden-iframe
/// renewal with `prompt=none`.
#[allow(clippy::too_many_arguments)]
pub fn spa_authorize(
    scope: &str,
    crid: &str,
    challenge: &str,
    state: &str,
    nonce: &str,
    silent: bool,
    cookies: Option<&str>,
) -> Request {
    let mut url = format!(
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id={OWA_CLIENT}&scope={}&redirect_uri={}&client-request-id={crid}&response_mode=fragment&response_type=code&x-client-SKU=msal.js.browser&x-client-VER=2.38.3&client_info=1&code_challenge={challenge}&code_challenge_method=S256&nonce={nonce}&state={state}&login_hint={}",
        form_encode(scope).replace('+', "%20"),
        form_encode(OWA_REDIRECT),
        form_encode(USER),
    );
    if silent {
        url.push_str("&prompt=none");
    }
    let dest = if silent { "iframe" } else { "document" };
    req(
        "GET",
        &url,
        edge_nav_headers("login.microsoftonline.com", dest, cookies),
        None,
    )
}

fn edge_cors_headers(host: &str, ctype: Option<&str>) -> Vec<(String, String)> {
    let mut h = hdrs(&[
        ("Host", host),
        ("Connection", "keep-alive"),
        (BODY_HEADERS, ""),
        ("sec-ch-ua-platform", "\"Windows\""),
        ("User-Agent", EDGE_UA),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"130\", \"Microsoft Edge\";v=\"130\", \"Not?A_Brand\";v=\"99\"",
        ),
    ]);
    if let Some(c) = ctype {
        h.push(("Content-Type".into(), c.into()));
    }
    h.extend(hdrs(&[
        ("sec-ch-ua-mobile", "?0"),
        ("Accept", "*/*"),
        ("Origin", "https://outlook.office.com"),
        (
            "Sec-Fetch-Site",
            if host == "outlook.office.com" {
                "same-origin"
            } else {
                "cross-site"
            },
        ),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Referer", "https://outlook.office.com/"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]));
    h
}

/// MSAL.js v2's token POST from the page (`Origin: https://outlook.office.com`, CORS): the
/// code redeemed with the PKCE verifier, or (`code` = `None`) a refresh.
pub fn spa_token(
    scope: &str,
    code: Option<(&str, &str)>,
    refresh_token: &str,
    crid: &str,
) -> Request {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", OWA_CLIENT),
        ("redirect_uri", OWA_REDIRECT),
        ("scope", scope),
    ];
    match code {
        Some((c, verifier)) => {
            pairs.push(("code", c));
            pairs.push(("x-client-SKU", "msal.js.browser"));
            pairs.push(("x-client-VER", "2.38.3"));
            pairs.push(("x-ms-lib-capability", "retry-after, h429"));
            pairs.push((
                "x-client-current-telemetry",
                "5|863,0,,,|@azure/msal-react,1.5.12",
            ));
            pairs.push(("x-client-last-telemetry", "5|0|||0,0"));
            pairs.push(("code_verifier", verifier));
            pairs.push(("grant_type", "authorization_code"));
        }
        None => {
            pairs.push(("x-client-SKU", "msal.js.browser"));
            pairs.push(("x-client-VER", "2.38.3"));
            pairs.push(("x-ms-lib-capability", "retry-after, h429"));
            pairs.push((
                "x-client-current-telemetry",
                "5|61,0,,,|@azure/msal-react,1.5.12",
            ));
            pairs.push(("x-client-last-telemetry", "5|0|||0,0"));
            pairs.push(("grant_type", "refresh_token"));
            pairs.push(("client_info", "1"));
            pairs.push(("refresh_token", refresh_token));
        }
    }
    pairs.push(("client-request-id", crid));
    pairs.push(("X-AnchorMailbox", "UPN:user@contoso.com"));
    let body = form(&pairs);
    req(
        "POST",
        &format!("https://login.microsoftonline.com/organizations/oauth2/v2.0/token?client-request-id={crid}"),
        edge_cors_headers(
            "login.microsoftonline.com",
            Some("application/x-www-form-urlencoded;charset=utf-8"),
        ),
        Some(Body::plain(body)),
    )
}

/// An OWA `service.svc` call from the page with the Bearer token.
pub fn owa_service(action: &str, bearer: &str, body: &str, corr: &str) -> Request {
    let mut h = edge_cors_headers(
        "outlook.office.com",
        Some("application/json; charset=utf-8"),
    );
    let at = h
        .iter()
        .position(|(n, _)| n == "sec-ch-ua-mobile")
        .unwrap_or(0);
    h.insert(at, ("authorization".into(), format!("Bearer {bearer}")));
    h.insert(at + 1, ("action".into(), action.into()));
    h.insert(at + 2, ("x-req-source".into(), "Mail".into()));
    h.insert(at + 3, ("x-owa-correlationid".into(), corr.into()));
    h.insert(
        at + 4,
        (
            "x-anchormailbox".into(),
            format!("PUID:10030000A1B2C3D4@{}", crate::actors::TENANT_GUID),
        ),
    );
    req(
        "POST",
        &format!("https://outlook.office.com/owa/service.svc?action={action}&app=Mail&n=1"),
        h,
        Some(Body::plain(body.to_string())),
    )
}

/// A plain-http GET from a Windows background service (NCSI, OCSP, CTL updates).
pub fn plain_get(url: &str, ua: &str) -> Request {
    let host = crate::model::host_of(url);
    req(
        "GET",
        url,
        hdrs(&[
            ("Connection", "Close"),
            ("Cache-Control", "no-cache"),
            ("Pragma", "no-cache"),
            ("User-Agent", ua),
            ("Host", &host),
        ]),
        None,
    )
}

//! Issue 19, items 4 and 5: a pre-authenticating reverse proxy in front of Exchange (F5
//! APM, Web Application Proxy / AD FS), and proxies on the client's side (407 loop, tenant
//! restrictions), plus a healthy capture behind a corporate proxy that must raise nothing.

use crate::actors::entra::{user_token, AadError, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::noise::resp as response;
use crate::actors::{hdrs, outlook, OFFICE_CLIENT, OUTLOOK, TENANT_GUID};
use crate::clock::Instant;
use crate::model::{host_of, Body, Coding, Framing, Response, Role, BODY_HEADERS};
use crate::scenarios::builder::{ip_for, Sb};
use crate::scenarios::common::{noise, noise_run, tag_entra_requests, tunnel, Adal, ErrorPlace};
use crate::secrets;

const AD_URL: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
const EWS_URL: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
const PROXY_VIA: &str = "1.1 proxy.contoso.local (squid/5.7)";

/// F5 BIG-IP APM's answer to a request with no APM session: 302 to `/my.policy` with its
/// session cookies.
fn f5_redirect(sb: &mut Sb) -> Response {
    let session = sb.guid().replace('-', "");
    let last = &sb.guid()[..8];
    let h = hdrs(&[
        ("Location", "/my.policy"),
        (
            "Set-Cookie",
            &format!("LastMRH_Session={last};path=/;secure"),
        ),
        ("Set-Cookie", &format!("MRHSession={session};path=/;secure")),
        ("Set-Cookie", "F5_ST=1z1z1z1796373000z604800;path=/;secure"),
        ("Connection", "close"),
        ("Content-Length", "0"),
    ]);
    response(302, "Found", h, None)
}

/// APM's logon page: an HTML form with a password field.
fn f5_logon_page(now: Instant) -> Response {
    let page = "<!DOCTYPE html>\n<html><head><title>Contoso Secure Access</title>\n<meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\">\n<link rel=\"stylesheet\" href=\"/public/include/css/apm.css\"></head>\n<body onload=\"OnLoad()\">\n<table id=\"page_header\"><tr><td id=\"header_leftcell\"><img src=\"/public/images/my/flat/logo.png\"></td></tr></table>\n<form id=\"auth_form\" name=\"e1\" method=\"post\" action=\"/my.policy\" autocomplete=\"off\">\n<table id=\"credentials_table\">\n<tr><td class=\"credentials_table_label_cell\"><label for=\"input_1\">Username</label></td><td><input type=\"text\" name=\"username\" id=\"input_1\" autocapitalize=\"off\"></td></tr>\n<tr><td class=\"credentials_table_label_cell\"><label for=\"input_2\">Password</label></td><td><input type=\"password\" name=\"password\" id=\"input_2\"></td></tr>\n<tr><td colspan=\"2\"><input type=\"submit\" class=\"credentials_input_submit\" value=\"Logon\"></td></tr>\n</table>\n<input type=\"hidden\" name=\"vhost\" value=\"standard\">\n</form>\n</body></html>\n";
    let h = hdrs(&[
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-cache, must-revalidate"),
        ("Pragma", "no-cache"),
        ("Date", &now.http_date()),
        (BODY_HEADERS, ""),
        ("Connection", "close"),
    ]);
    response(
        200,
        "OK",
        h,
        Some(Body::coded(page, Coding::Gzip, Framing::Chunked(512))),
    )
}

/// A GET from Outlook's process (a page it follows, an image in a message).
fn outlook_get(url: &str) -> crate::model::Request {
    let host = host_of(url);
    outlook::get(
        url,
        hdrs(&[("User-Agent", outlook::OUTLOOK_UA), ("Host", &host)]),
    )
}

/// Autodiscover answered 200 with the XML pointing at mail.contoso.com.
fn autodiscover_ok(sb: &mut Sb, auth: &str, wait_ms: u64) {
    let rid = sb.guid();
    let now = sb.now;
    let req = outlook::autodiscover(AD_URL, false, Some(auth), &rid);
    let resp = Exchange::new().ok_xml(
        exchange::autodiscover_response_xml("mail.contoso.com"),
        Coding::Gzip,
        Framing::Chunked(512),
        &rid,
        now,
        false,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), wait_ms, Role::Signal);
}

/// A Bearer token Outlook holds for `resource` (from an earlier sign-in).
fn cached_bearer(sb: &Sb, resource: &str) -> String {
    let at = user_token(resource, OFFICE_CLIENT, sb.now, secrets::SIG_OUTLOOK_AT);
    format!("Bearer {at}")
}

/// `preauth-f5-apm`: F5 APM pre-authenticates Autodiscover and EWS.
pub fn preauth_f5_apm(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    noise(sb, 7);
    let bearer = cached_bearer(sb, "https://mail.contoso.com");
    for a in 0..3 {
        let crid = sb.guid();
        let req = outlook::autodiscover(AD_URL, false, None, &crid);
        let resp = f5_redirect(sb);
        sb.add(Some(OUTLOOK), req, Some(resp), 6, Role::Signal);
        let req = outlook_get("https://autodiscover.contoso.com/my.policy");
        let now = sb.now;
        sb.add(
            Some(OUTLOOK),
            req,
            Some(f5_logon_page(now)),
            12,
            Role::Signal,
        );
        if a == 0 {
            tunnel(sb, "mail.contoso.com", OUTLOOK);
        }
        let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&bearer), &crid);
        let resp = f5_redirect(sb);
        sb.add(Some(OUTLOOK), req, Some(resp), 5, Role::Signal);
        noise_run(sb, a * 2, 2);
        sb.wait(30_000);
    }
}

/// Web Application Proxy's answer to a request without its cookie on an application
/// published with AD FS pre-authentication.
fn wap_redirect(sb: &mut Sb, return_url: &str) -> Response {
    let crid = sb.guid();
    let realm = sb.guid();
    let location = format!(
        "https://sts.contoso.com/adfs/ls/?version=1.0&action=signin&realm=urn%3AAppProxy%3Acom&appRealm={realm}&returnUrl={}&client-request-id={}",
        crate::wire::form_encode_lower(return_url),
        crid.to_ascii_uppercase()
    );
    let h = hdrs(&[
        ("Content-Length", "0"),
        ("Location", &location),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Date", &sb.now.http_date()),
    ]);
    response(307, "Temporary Redirect", h, None)
}

/// AD FS's forms sign-in page.
fn adfs_page(now: Instant) -> Response {
    let page = "<!DOCTYPE html>\n<html lang=\"en-US\"><head><meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\"/><meta http-equiv=\"content-type\" content=\"text/html;charset=UTF-8\" /><title>Sign In</title></head>\n<body dir=\"ltr\" class=\"body\"><div id=\"fullPage\"><div id=\"contentWrapper\" class=\"float\"><div id=\"content\">\n<div id=\"header\"><img class='logoImage' id='companyLogo' src='/adfs/portal/logo/logo.png' alt='Contoso'/></div>\n<div id=\"workArea\"><div id=\"authArea\" class=\"groupMargin\"><div id=\"loginArea\">\n<div id=\"loginMessage\" class=\"groupMargin\">Sign in with your organizational account</div>\n<form method=\"post\" id=\"loginForm\" autocomplete=\"off\" novalidate=\"novalidate\" onKeyPress=\"if (event &amp;&amp; event.keyCode == 13) Login.submitLoginRequest();\" action=\"/adfs/ls/?version=1.0&amp;action=signin&amp;realm=urn%3AAppProxy%3Acom\" >\n<div id=\"formsAuthenticationArea\"><div id=\"userNameArea\"><input id=\"userNameInput\" name=\"UserName\" type=\"email\" value=\"\" tabindex=\"1\" class=\"text fullWidth\" spellcheck=\"false\" placeholder=\"someone@example.com\" autocomplete=\"off\"/></div>\n<div id=\"passwordArea\"><input id=\"passwordInput\" name=\"Password\" type=\"password\" tabindex=\"2\" class=\"text fullWidth\" placeholder=\"Password\" autocomplete=\"off\"/></div>\n<div id=\"submissionArea\" class=\"submitMargin\"><span id=\"submitButton\" class=\"submit\" tabindex=\"4\" role=\"button\" onKeyPress=\"if (event &amp;&amp; event.keyCode == 32) Login.submitLoginRequest();\" onclick=\"return Login.submitLoginRequest();\">Sign in</span></div></div>\n<input id=\"optionForms\" type=\"hidden\" name=\"AuthMethod\" value=\"FormsAuthentication\"/></form>\n</div></div></div></div></div></div></body></html>\n";
    let h = hdrs(&[
        ("Cache-Control", "no-cache,no-store"),
        ("Pragma", "no-cache"),
        (BODY_HEADERS, ""),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Expires", "-1"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        (
            "Set-Cookie",
            "MSISSamlRequest=; path=/adfs; HttpOnly; Secure",
        ),
        ("Date", &now.http_date()),
    ]);
    response(
        200,
        "OK",
        h,
        Some(Body::coded(page, Coding::Identity, Framing::Length)),
    )
}

/// `preauth-wap-adfs`: WAP publishes Exchange with AD FS pre-authentication.
pub fn preauth_wap_adfs(sb: &mut Sb) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    noise(sb, 3);
    let bearer = cached_bearer(sb, "https://mail.contoso.com");
    for a in 0..3 {
        let crid = sb.guid();
        let req = outlook::autodiscover(AD_URL, false, None, &crid);
        let resp = wap_redirect(sb, AD_URL);
        sb.add(Some(OUTLOOK), req, Some(resp), 4, Role::Signal);
        if a == 0 {
            tunnel(sb, "sts.contoso.com", OUTLOOK);
        }
        let req = outlook_get(
            "https://sts.contoso.com/adfs/ls/?version=1.0&action=signin&realm=urn%3AAppProxy%3Acom",
        );
        let now = sb.now;
        sb.add(Some(OUTLOOK), req, Some(adfs_page(now)), 40, Role::Signal);
        if a == 0 {
            tunnel(sb, "mail.contoso.com", OUTLOOK);
        }
        let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&bearer), &crid);
        let resp = wap_redirect(sb, EWS_URL);
        sb.add(Some(OUTLOOK), req, Some(resp), 4, Role::Signal);
        noise_run(sb, 1 + a * 2, 2);
        sb.wait(25_000);
    }
}

/// Squid's 407 (`ERR_CACHE_ACCESS_DENIED`), offering Negotiate, NTLM (or an NTLM type-2
/// continuation) and Basic.
fn squid_407(now: Instant, ntlm_challenge: Option<&str>) -> Response {
    let page = format!("<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<meta type=\"copyright\" content=\"Copyright (C) 1996-2022 The Squid Software Foundation and contributors\">\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n<title>ERROR: Cache Access Denied</title>\n</head><body id=ERR_CACHE_ACCESS_DENIED>\n<div id=\"titles\"><h1>ERROR</h1><h2>Cache Access Denied.</h2></div>\n<hr>\n<div id=\"content\">\n<p>Sorry, you are not currently allowed to request the URL from this cache until you have authenticated yourself.</p>\n<p>Please contact the <a href=\"mailto:helpdesk@contoso.com?subject=CacheErrorInfo%20-%20ERR_CACHE_ACCESS_DENIED\">cache administrator</a> if you have difficulties authenticating yourself.</p>\n<br>\n</div>\n<hr>\n<div id=\"footer\"><p>Generated {} by proxy.contoso.local (squid/5.7)</p>\n<!-- ERR_CACHE_ACCESS_DENIED -->\n</div>\n</body></html>\n", now.http_date());
    let mut h = hdrs(&[
        ("Server", "squid/5.7"),
        ("Mime-Version", "1.0"),
        ("Date", &now.http_date()),
        ("Content-Type", "text/html;charset=utf-8"),
        (BODY_HEADERS, ""),
        ("X-Squid-Error", "ERR_CACHE_ACCESS_DENIED 0"),
        ("Vary", "Accept-Language"),
        ("Content-Language", "en"),
    ]);
    match ntlm_challenge {
        Some(c) => h.push(("Proxy-Authenticate".into(), format!("NTLM {c}"))),
        None => h.extend(hdrs(&[
            ("Proxy-Authenticate", "Negotiate"),
            ("Proxy-Authenticate", "NTLM"),
            ("Proxy-Authenticate", "Basic realm=\"Contoso proxy\""),
        ])),
    }
    h.extend(hdrs(&[
        ("X-Cache", "MISS from proxy.contoso.local"),
        ("Via", PROXY_VIA),
        ("Connection", "keep-alive"),
    ]));
    response(
        407,
        "Proxy Authentication Required",
        h,
        Some(Body::plain(page)),
    )
}

const NTLM_1: &str = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==";
const NTLM_2: &str = "TlRMTVNTUAACAAAADgAOADgAAAAFgomiq1/+Qx2Lt8AAAAAAAAAAAJQAlABGAAAACgBhSgAAAA9DAE8ATgBUAE8AUwBPAAIADgBDAE8ATgBUAE8AUwBPAAEACgBQAFIATwBYAFkABAAWAGMAbwBuAHQAbwBzAG8ALgBsAG8AYwBhAGwAAwAiAHAAcgBvAHgAeQAuAGMAbwBuAHQAbwBzAG8ALgBsAG8AYwBhAGwABwAIANhCY28BWt0BAAAAAA==";

/// One proxy NTLM handshake for a CONNECT to `host` that the proxy refuses at the end
/// (`through`: it accepts instead, answering 200).
fn proxy_ntlm(sb: &mut Sb, process: &str, host: &str, through: bool) {
    let ntlm_3 = secrets::NTLM_AUTHENTICATE;
    let steps: [(Option<String>, Option<&str>); 3] = [
        (None, None),
        (Some(format!("NTLM {NTLM_1}")), Some(NTLM_2)),
        (Some(format!("NTLM {ntlm_3}")), None),
    ];
    for (i, (auth, challenge)) in steps.into_iter().enumerate() {
        let mut req = outlook::connect(
            host,
            Some(outlook::OUTLOOK_UA).filter(|_| process == OUTLOOK),
        );
        if let Some(a) = auth {
            let at = req.headers.len() - 1;
            req.headers.insert(at, ("Proxy-Authorization".into(), a));
        }
        let now = sb.now;
        let resp = if i == 2 && through {
            crate::actors::noise::tunnel_ok(host, now)
        } else {
            squid_407(now, challenge)
        };
        let id = sb.add(Some(process), req, Some(resp), 3, Role::Tunnel);
        sb.sessions[id - 1].host_ip = ip_for("proxy.contoso.local").into();
    }
}

/// `proxy-407-loop`: the corporate proxy exempts Entra ID from authentication but not
/// Exchange Online: it demands authentication for outlook.office.com and
/// autodiscover-s.outlook.com and refuses Outlook's NTLM each time; Office's config host
/// gets through after the handshake.
pub fn proxy_407_loop(sb: &mut Sb) {
    proxy_ntlm(sb, OUTLOOK, "ecs.office.com", true);
    noise(sb, 0);
    for a in 0..3 {
        proxy_ntlm(sb, OUTLOOK, "outlook.office.com", false);
        sb.wait(800);
        proxy_ntlm(sb, OUTLOOK, "autodiscover-s.outlook.com", false);
        noise_run(sb, 2 + a, 1);
        sb.wait(20_000);
    }
}

/// AADSTS500021: tenant restrictions deny the tenant.
fn e500021(tenant: &str) -> AadError {
    AadError {
        code: 500021,
        error: "access_denied",
        message: format!("Access to '{tenant}' tenant is denied."),
        legacy: false,
        extra: Vec::new(),
    }
}

/// `proxy-tenant-restriction`: Outlook signs in to a second, partner tenant's mailbox; the
/// endpoint agent inserts tenant-restriction v1 headers allowing only Contoso.
pub fn proxy_tenant_restriction(sb: &mut Sb) {
    let exo = Exchange {
        fe: "AM6PR04CA0012",
        be: "AM7PR02MB5686",
    };
    let url = "https://outlook.office365.com/EWS/Exchange.asmx";
    let resource = "https://outlook.office365.com";
    tunnel(sb, "outlook.office365.com", OUTLOOK);
    noise(sb, 5);
    let l = crate::scenarios::common::outlook_loop(
        sb,
        resource,
        "outlook.office365.com",
        "login.microsoftonline.com",
        "fabrikam.com",
    );
    let adal = Adal {
        entra: Entra::mso(),
        tenant: "fabrikam.com",
        resource,
        error: e500021("fabrikam.com"),
    };
    for a in 0..3 {
        let crid = sb.guid();
        let rid = sb.guid();
        let now = sb.now;
        let req = outlook::ews(url, &exchange::oof_request(), None, &crid);
        let resp = exo.challenge_401(
            "outlook.office365.com",
            &Challenge::bearer_only(),
            &rid,
            now,
        );
        let id = sb.add(Some(OUTLOOK), req, Some(resp), 25, Role::Signal);
        sb.challenge(l, id);
        if a == 0 {
            tunnel(sb, "login.microsoftonline.com", OUTLOOK);
        }
        let first = sb.sessions.len();
        adal.attempt(
            sb,
            l,
            a == 0,
            ErrorPlace::Json(Coding::Identity, Framing::Length),
            a,
        );
        // The agent's headers, on every request to Entra ID.
        tag_entra_requests(
            sb,
            first,
            &[
                (
                    "Restrict-Access-To-Tenants",
                    "contoso.com,contoso.onmicrosoft.com",
                ),
                ("Restrict-Access-Context", TENANT_GUID),
            ],
        );
        noise_run(sb, a * 2, 2);
        sb.wait(15_000);
    }
}

/// `proxy-healthy`: the healthy hybrid sign-in behind an authenticating Squid: one 407 then
/// 200 per tunnel (the handshake), `Via` on every answer, one 504 for Teams' presence
/// followed by a 200, and a CDN's own 403. Nothing to report.
pub fn proxy_healthy(sb: &mut Sb) {
    let entra = Entra::mso();
    proxy_ntlm(sb, OUTLOOK, "autodiscover.contoso.com", true);
    noise(sb, 7);
    let crid = sb.guid();
    let rid = sb.guid();
    let req = outlook::autodiscover(AD_URL, false, None, &crid);
    let now = sb.now;
    let resp = Exchange::new().challenge_401(
        "autodiscover.contoso.com",
        &Challenge::bearer_only(),
        &rid,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 9, Role::Signal);
    proxy_ntlm(sb, OUTLOOK, "login.microsoftonline.com", true);
    let resource = "https://autodiscover.contoso.com";
    let req =
        outlook::adal_token_refresh(entra.host, "common", resource, secrets::RT_ISSUED, &crid);
    let now = sb.now;
    let at = user_token(resource, OFFICE_CLIENT, now, secrets::SIG_OUTLOOK_AT);
    let resp = entra.token_ok(
        resource,
        &at,
        secrets::RT_ISSUED,
        &crate::actors::entra::id_token(now),
        &crid,
        &mut sb.rng,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 120, Role::Signal);
    let bearer = format!("Bearer {at}");
    autodiscover_ok(sb, &bearer, 160);
    noise_run(sb, 0, 3);
    // Teams' presence: one gateway timeout from the proxy, then the same call answered.
    let first = sb.sessions.len();
    noise(sb, 4);
    noise(sb, 4);
    let timed_out = &mut sb.sessions[first];
    if let Some(r) = timed_out.response.as_mut() {
        let date = r
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Date"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        *r = response(
            504,
            "Gateway Timeout",
            hdrs(&[
                ("Server", "squid/5.7"),
                ("Mime-Version", "1.0"),
                ("Date", &date),
                ("Content-Type", "text/html;charset=utf-8"),
                ("Content-Length", "0"),
                ("X-Squid-Error", "ERR_READ_TIMEOUT 0"),
                ("Via", PROXY_VIA),
                ("Connection", "keep-alive"),
            ]),
            None,
        );
    }
    // A CDN's own 403 (hotlink protection), not the proxy's.
    let now = sb.now;
    let req = outlook_get("https://static.contoso-cdn.net/banner/outlook-signature.png");
    let resp = response(
        403,
        "Forbidden",
        hdrs(&[
            ("Content-Type", "application/xml"),
            ("Server", "AmazonS3"),
            ("Date", &now.http_date()),
            (BODY_HEADERS, ""),
        ]),
        Some(Body::plain("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")),
    );
    sb.add(Some(OUTLOOK), req, Some(resp), 30, Role::Noise);
    noise_run(sb, 5, 3);
    // The proxy marks every answer it forwards.
    for s in sb
        .sessions
        .iter_mut()
        .filter(|s| s.request.method != "CONNECT")
    {
        if let Some(r) = s.response.as_mut() {
            if !r.headers.iter().any(|(n, _)| n == "Via") {
                let at = r
                    .headers
                    .iter()
                    .position(|(n, _)| n == BODY_HEADERS)
                    .unwrap_or(r.headers.len());
                r.headers.insert(at, ("Via".into(), PROXY_VIA.into()));
            }
        }
    }
}

/// Zscaler's block page for a URL its policy denies.
fn zscaler_403(host: &str, now: Instant) -> Response {
    let page = format!("<!DOCTYPE html>\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>Website blocked</title>\n<style>body{{font-family:Arial,sans-serif;background:#f2f2f2}} #box{{margin:60px auto;width:640px;background:#fff;padding:24px}}</style></head>\n<body><div id=\"box\"><h1>Website blocked</h1>\n<p>Not allowed to browse <b>{host}</b>: the category <b>Web Mail</b> is blocked by your organization's Internet Use Policy.</p>\n<p>If you believe this is an error, contact helpdesk@contoso.com.</p>\n<p class=\"small\">Your organization has selected Zscaler to protect you from internet threats.</p></div></body></html>\n");
    let h = hdrs(&[
        ("Content-Type", "text/html"),
        ("Server", "Zscaler/6.2"),
        ("Cache-Control", "no-cache"),
        ("Date", &now.http_date()),
        (BODY_HEADERS, ""),
        ("Connection", "close"),
    ]);
    response(403, "Forbidden", h, Some(Body::plain(page)))
}

/// `proxy-blocked-zscaler`: Zscaler (inspecting TLS) blocks Exchange Online's MAPI endpoint
/// (outlook.office.com)
/// as "Web Mail"; it also blocks an ad host, which does not matter.
pub fn proxy_blocked_zscaler(sb: &mut Sb) {
    let mapi = "https://outlook.office.com/mapi/emsmdb/?MailboxId=8c1f0000-0000-4000-8000-00000000cafe@contoso.com";
    let bearer = cached_bearer(sb, "https://outlook.office.com");
    tunnel(sb, "outlook.office.com", OUTLOOK);
    noise(sb, 2);
    for a in 0..3 {
        let crid = sb.guid();
        let req = outlook::mapi_connect(mapi, Some(&bearer), &crid, a + 1);
        let now = sb.now;
        sb.add(
            Some(OUTLOOK),
            req,
            Some(zscaler_403("outlook.office.com", now)),
            20,
            Role::Signal,
        );
        if a == 1 {
            let req = outlook_get("https://ads.example-adnetwork.net/pixel.gif?o=outlook");
            let now = sb.now;
            let resp = zscaler_403("ads.example-adnetwork.net", now);
            sb.add(Some(OUTLOOK), req, Some(resp), 15, Role::Noise);
        }
        noise_run(sb, 3 + a as usize, 2);
        sb.wait(20_000);
    }
}

/// Fiddler's own answer when it cannot reach the server.
fn fiddler_502(reason: &str, text: String, now: Instant) -> Response {
    let h = hdrs(&[
        ("Date", &now.http_date()),
        ("Content-Type", "text/html; charset=UTF-8"),
        ("Connection", "close"),
        ("Cache-Control", "no-cache, must-revalidate"),
        ("Timestamp", &now.fiddler_clock()),
        (BODY_HEADERS, ""),
    ]);
    response(502, reason, h, Some(Body::plain(text)))
}

/// `fiddler-connection-failed`: Autodiscover answers (the root domain's lookup fails, as it
/// often does), but Fiddler cannot connect to mail.contoso.com for EWS, 3 rounds.
pub fn fiddler_connection_failed(sb: &mut Sb) {
    let bearer = cached_bearer(sb, "https://autodiscover.contoso.com");
    let root = "https://contoso.com/autodiscover/autodiscover.xml";
    let crid = sb.guid();
    let req = outlook::autodiscover(root, false, None, &crid);
    let now = sb.now;
    let text = "[Fiddler] DNS Lookup for \"contoso.com\" failed. System.Net.Sockets.SocketException No such host is known".to_string();
    sb.add(
        Some(OUTLOOK),
        req,
        Some(fiddler_502("Fiddler - DNS Lookup Failed", text, now)),
        40,
        Role::Signal,
    );
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    autodiscover_ok(sb, &bearer, 150);
    noise(sb, 1);
    let ews_bearer = cached_bearer(sb, "https://mail.contoso.com");
    for a in 0..3 {
        if a == 0 {
            tunnel(sb, "mail.contoso.com", OUTLOOK);
        }
        let crid = sb.guid();
        let req = outlook::ews(EWS_URL, &exchange::oof_request(), Some(&ews_bearer), &crid);
        let now = sb.now;
        let text = format!("[Fiddler] The connection to 'mail.contoso.com' failed. <br />Error: TimedOut (0x274c). <br />System.Net.Sockets.SocketException A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond {}:443", ip_for("mail.contoso.com"));
        sb.add(
            Some(OUTLOOK),
            req,
            Some(fiddler_502("Fiddler - Connection Failed", text, now)),
            21_000,
            Role::Signal,
        );
        noise_run(sb, 4 + a, 2);
        sb.wait(15_000);
    }
}

//! Autodiscover v2, the chain Teams and Outlook mobile use: Microsoft's documented test
//! (`Invoke-RestMethod "https://outlook.office365.com/autodiscover/autodiscover.json?Email=
//! <on-premises mailbox>&Protocol=EWS&RedirectCount=5" -UserAgent Teams`) run in Windows
//! PowerShell through Fiddler. Exchange Online answers 302 "Object moved" to the
//! organisation's `autodiscover.json`, which answers 401 (Windows authentication on the
//! Autodiscover virtual directory), a JSON `{Protocol, Url}` with an internal host, or the
//! public EWS URL.

use crate::actors::hdrs;
use crate::actors::outlook;
use crate::model::{Body, Response, Role};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};

/// Windows PowerShell 5.1, as Fiddler names it.
const POWERSHELL: &str = "powershell:5120";
const EXO_HOST: &str = "outlook.office365.com";
const ONPREM_HOST: &str = "autodiscover.contoso.com";
/// The on-premises mailbox asked about.
const ONPREM_USER: &str = "user%40contoso.com";
/// A mailbox in Exchange Online (same domain).
const CLOUD_USER: &str = "cloud.user%40contoso.com";

fn exo_url(user: &str) -> String {
    format!("https://{EXO_HOST}/autodiscover/autodiscover.json?Email={user}&Protocol=EWS&RedirectCount=5")
}

fn onprem_url(user: &str) -> String {
    format!("https://{ONPREM_HOST}/autodiscover/autodiscover.json?Email={user}&Protocol=EWS&RedirectCount=1")
}

/// `Invoke-RestMethod -UserAgent Teams` (Windows PowerShell 5.1: no Accept-Encoding).
fn request(url: &str) -> crate::model::Request {
    let host = crate::model::host_of(url);
    outlook::get(
        url,
        hdrs(&[
            ("User-Agent", "Teams"),
            ("Host", &host),
            ("Connection", "Keep-Alive"),
        ]),
    )
}

fn response(status: u16, reason: &str, headers: Vec<(String, String)>, body: &str) -> Response {
    Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        headers,
        body: Some(Body::plain(body.as_bytes().to_vec())),
    }
}

/// Exchange Online's headers around `status` (its front and back ends).
fn exo_headers(sb: &mut Sb, status: u16, content_type: &str) -> Vec<(String, String)> {
    let rid = sb.guid();
    let date = sb.now.http_date();
    let status = status.to_string();
    hdrs(&[
        ("Cache-Control", "private"),
        ("Content-Type", content_type),
        ("Server", "Microsoft-IIS/10.0"),
        ("request-id", &rid),
        (
            "X-CalculatedBETarget",
            "AM0PR09MB2882.eurprd09.prod.outlook.com",
        ),
        ("X-BackEndHttpStatus", &status),
        ("X-RUM-Validated", "1"),
        ("X-AspNet-Version", "4.0.30319"),
        ("X-DiagInfo", "AM0PR09MB2882"),
        ("X-BEServer", "AM0PR09MB2882"),
        ("X-Proxy-RoutingCorrectness", "1"),
        ("X-Proxy-BackendServerStatus", &status),
        ("X-Powered-By", "ASP.NET"),
        ("X-FEServer", "AM0PR0202CA0013"),
        ("Date", &date),
    ])
}

/// Exchange Online sends an on-premises mailbox's request to the organisation's
/// autodiscover.json.
fn exo_redirect(sb: &mut Sb, user: &str) -> usize {
    moved(sb, &exo_url(user), &onprem_url(user), true)
}

/// On-premises Exchange's headers around `status` (front end EXCH01, back end EXCH02).
fn onprem_headers(sb: &mut Sb, status: u16, content_type: &str) -> Vec<(String, String)> {
    let rid = sb.guid();
    let date = sb.now.http_date();
    let status = status.to_string();
    hdrs(&[
        ("Cache-Control", "private"),
        ("Content-Type", content_type),
        ("Vary", "Accept-Encoding"),
        ("Server", "Microsoft-IIS/10.0"),
        ("request-id", &rid),
        ("X-CalculatedBETarget", "exch02.contoso.local"),
        ("X-BackEndHttpStatus", &status),
        ("X-AspNet-Version", "4.0.30319"),
        ("X-DiagInfo", "EXCH02"),
        ("X-BEServer", "EXCH02"),
        ("X-Powered-By", "ASP.NET"),
        ("X-FEServer", "EXCH01"),
        ("Date", &date),
    ])
}

/// A 302 "Object moved" from `from` to `to`, with Exchange Online's headers or on-premises
/// Exchange's.
fn moved(sb: &mut Sb, from: &str, to: &str, exo: bool) -> usize {
    let mut h = if exo {
        exo_headers(sb, 302, "text/html; charset=utf-8")
    } else {
        onprem_headers(sb, 302, "text/html; charset=utf-8")
    };
    h.insert(2, ("Location".into(), to.to_string()));
    let body = format!(
        "<html><head><title>Object moved</title></head><body>\r\n<h2>Object moved to <a href=\"{}\">here</a>.</h2>\r\n</body></html>\r\n",
        to.replace('&', "&amp;")
    );
    sb.add(
        Some(POWERSHELL),
        request(from),
        Some(response(302, "Found", h, &body)),
        if exo { 38 } else { 19 },
        Role::Signal,
    )
}

/// On-premises Exchange answers `{"Protocol":"EWS","Url": url}` anonymously.
fn onprem_published(sb: &mut Sb, user: &str, url: &str) -> usize {
    let h = onprem_headers(sb, 200, "application/json; charset=utf-8");
    let body = format!("{{\"Protocol\":\"EWS\",\"Url\":\"{url}\"}}");
    let req = request(&onprem_url(user));
    sb.add(
        Some(POWERSHELL),
        req,
        Some(response(200, "OK", h, &body)),
        22,
        Role::Signal,
    )
}

/// IIS with Windows authentication (and no anonymous access) on the Autodiscover virtual
/// directory: 401 Negotiate / NTLM with IIS's own error page.
fn onprem_401(sb: &mut Sb, user: &str) -> usize {
    let date = sb.now.http_date();
    let h = hdrs(&[
        ("Content-Type", "text/html"),
        ("Server", "Microsoft-IIS/10.0"),
        ("WWW-Authenticate", "Negotiate"),
        ("WWW-Authenticate", "NTLM"),
        ("X-Powered-By", "ASP.NET"),
        ("Date", &date),
    ]);
    let body = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"/>\r\n<title>401 - Unauthorized: Access is denied due to invalid credentials.</title>\r\n</head>\r\n<body>\r\n<div id=\"header\"><h1>Server Error</h1></div>\r\n<div id=\"content\">\r\n <div class=\"content-container\"><fieldset>\r\n  <h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>\r\n  <h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n";
    let req = request(&onprem_url(user));
    sb.add(
        Some(POWERSHELL),
        req,
        Some(response(401, "Unauthorized", h, body)),
        4,
        Role::Signal,
    )
}

/// Exchange Online answers an Exchange Online mailbox itself.
fn exo_published(sb: &mut Sb, user: &str) -> usize {
    let h = exo_headers(sb, 200, "application/json; charset=utf-8");
    let req = request(&exo_url(user));
    sb.add(
        Some(POWERSHELL),
        req,
        Some(response(
            200,
            "OK",
            h,
            "{\"Protocol\":\"EWS\",\"Url\":\"https://outlook.office365.com/EWS/Exchange.asmx\"}",
        )),
        41,
        Role::Signal,
    )
}

/// The test run twice (20 s apart): Exchange Online redirects, the organisation's
/// autodiscover.json answers 401 Negotiate/NTLM each time.
pub fn autodiscover_v2_401(sb: &mut Sb) {
    noise_run(sb, 0, 4);
    tunnel(sb, EXO_HOST, POWERSHELL);
    exo_redirect(sb, ONPREM_USER);
    tunnel(sb, ONPREM_HOST, POWERSHELL);
    onprem_401(sb, ONPREM_USER);
    noise_run(sb, 4, 5);
    sb.wait(20_000);
    exo_redirect(sb, ONPREM_USER);
    onprem_401(sb, ONPREM_USER);
    noise_run(sb, 9, 3);
}

/// The test once, through fresh tunnels: Exchange Online's redirect, then the on-premises
/// answer publishing `url`.
fn published_chain(sb: &mut Sb, url: &str) {
    tunnel(sb, EXO_HOST, POWERSHELL);
    exo_redirect(sb, ONPREM_USER);
    tunnel(sb, ONPREM_HOST, POWERSHELL);
    onprem_published(sb, ONPREM_USER, url);
}

/// Exchange Online redirects; on-premises answers 200 with the EWS vdir's internal name.
pub fn autodiscover_v2_internal_url(sb: &mut Sb) {
    noise_run(sb, 2, 4);
    published_chain(sb, "https://exch01.contoso.local/EWS/Exchange.asmx");
    noise_run(sb, 6, 5);
}

/// The healthy chain (302 -> 200 with the public https EWS URL), and an Exchange Online
/// mailbox of the same domain answered by Exchange Online itself: nothing to report.
pub fn autodiscover_v2_healthy(sb: &mut Sb) {
    noise_run(sb, 1, 4);
    published_chain(sb, "https://mail.contoso.com/EWS/Exchange.asmx");
    noise_run(sb, 5, 3);
    sb.wait(5_000);
    exo_published(sb, CLOUD_USER);
    noise_run(sb, 8, 3);
}

/// The mailbox objects disagree: Exchange Online sends the request on-premises, on-premises
/// (a RemoteMailbox) sends it back to Exchange Online's autodiscover-s.outlook.com, which
/// sends it on-premises again, until PowerShell gives up.
pub fn autodiscover_v2_loop(sb: &mut Sb) {
    noise_run(sb, 3, 4);
    tunnel(sb, EXO_HOST, POWERSHELL);
    exo_redirect(sb, ONPREM_USER);
    tunnel(sb, ONPREM_HOST, POWERSHELL);
    let back = |n: u32| {
        format!("https://autodiscover-s.outlook.com/autodiscover/autodiscover.json?Email={ONPREM_USER}&Protocol=EWS&RedirectCount={n}")
    };
    let onprem = |n: u32| {
        format!("https://{ONPREM_HOST}/autodiscover/autodiscover.json?Email={ONPREM_USER}&Protocol=EWS&RedirectCount={n}")
    };
    moved(sb, &onprem_url(ONPREM_USER), &back(2), false);
    tunnel(sb, "autodiscover-s.outlook.com", POWERSHELL);
    moved(sb, &back(2), &onprem(3), true);
    moved(sb, &onprem(3), &back(4), false);
    noise_run(sb, 7, 4);
}

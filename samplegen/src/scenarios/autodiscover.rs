//! Issue 19: what Autodiscover answered (POX errors, redirect chains, a web host on the root
//! domain) and the SPNs its answers predict.

use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{hdrs, outlook, OUTLOOK, USER};
use crate::model::{Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::adal::{self, AUTODISCOVER_URL};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise, noise_run, tunnel};

/// Exchange Online's Autodiscover endpoint Outlook is sent to for a cloud mailbox.
pub(super) const EXO_AD: &str = "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml";
/// The user's address at the tenant's routing domain (the remote mailbox's target).
const ROUTING: &str = "user@contoso.mail.onmicrosoft.com";

/// Exchange Online's front end.
pub(super) fn exo() -> Exchange {
    Exchange {
        fe: "AM0PR02CA0123",
        be: "AM6PR02MB4567",
    }
}

/// The POX request for `address` (Outlook's body with another address).
pub(super) fn request_for(url: &str, address: &str, auth: Option<&str>, crid: &str) -> Request {
    let mut req = outlook::autodiscover(url, false, auth, crid);
    let body = outlook::autodiscover_request_xml().replace(USER, address);
    req.body = Some(Body::plain(body));
    req
}

pub(super) fn account(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
{inner}
    </Account>
  </Response>
</Autodiscover>"#
    )
}

fn redirect_addr(address: &str) -> String {
    account(&format!(
        "      <Action>redirectAddr</Action>\n      <RedirectAddr>{address}</RedirectAddr>"
    ))
}

/// Exchange Online's settings for a cloud mailbox.
pub(super) fn exo_settings() -> String {
    account(
        r#"      <Action>settings</Action>
      <MicrosoftOnline>True</MicrosoftOnline>
      <ConsumerMailbox>False</ConsumerMailbox>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://outlook.office365.com/mapi/emsmdb/?MailboxId=5c2a0000-0000-4000-8000-00000000c10d@contoso.com</InternalUrl>
          <ExternalUrl>https://outlook.office365.com/mapi/emsmdb/?MailboxId=5c2a0000-0000-4000-8000-00000000c10d@contoso.com</ExternalUrl>
        </MailStore>
      </Protocol>
      <Protocol>
        <Type>EXHTTP</Type>
        <Server>outlook.office365.com</Server>
        <SSL>On</SSL>
        <AuthPackage>Anonymous</AuthPackage>
        <ASUrl>https://outlook.office365.com/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://outlook.office365.com/EWS/Exchange.asmx</EwsUrl>
        <OABUrl>https://outlook.office365.com/OAB/5c2a0000-0000-4000-8000-00000000c10d/</OABUrl>
      </Protocol>"#,
    )
}

fn error_xml(code: &str, message: &str, id: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response>
    <Error Time="08:15:03.4412893" Id="{id}">
      <ErrorCode>{code}</ErrorCode>
      <Message>{message}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>"#
    )
}

/// Outlook is challenged by autodiscover.contoso.com (`c`), signs in, and returns the Bearer
/// header value for the retries.
pub(super) fn signed_in(sb: &mut Sb, c: &Challenge) -> String {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    adal::signed_in(sb, c, 1)
}

/// Outlook POSTs `url` for `address` and `ex` answers 200 with `xml` (gzip, chunked).
pub(super) fn answered(
    sb: &mut Sb,
    ex: &Exchange,
    url: &str,
    address: &str,
    auth: Option<&str>,
    xml: String,
) -> usize {
    let crid = sb.guid();
    let rid = sb.guid();
    let req = request_for(url, address, auth, &crid);
    let now = sb.now;
    let resp = ex.ok_xml(xml, Coding::Gzip, Framing::Chunked(512), &rid, now, false);
    sb.add(Some(OUTLOOK), req, Some(resp), 160, Role::Signal)
}

/// Outlook asks on-premises Autodiscover about `USER` with `bearer`; it answers `xml`.
fn on_premises(sb: &mut Sb, bearer: &str, xml: String) -> usize {
    answered(
        sb,
        &Exchange::new(),
        AUTODISCOVER_URL,
        USER,
        Some(bearer),
        xml,
    )
}

/// `autodiscover-500-not-found`: signed in with a token, Autodiscover answers ErrorCode 500
/// "The email address can't be found." twice (the remote mailbox object is missing).
pub fn autodiscover_500_not_found(sb: &mut Sb) {
    noise_run(sb, 0, 3);
    let bearer = signed_in(sb, &Challenge::hma_and_legacy());
    for (i, id) in ["1209675184", "1209675195"].iter().enumerate() {
        on_premises(
            sb,
            &bearer,
            error_xml("500", "The email address can't be found.", id),
        );
        noise_run(sb, 3 + i * 2, 2);
        sb.wait(30_000);
    }
}

/// `autodiscover-redirect-loop`: on-premises answers RedirectAddr to the routing address,
/// Exchange Online answers RedirectAddr back to user@contoso.com (a mail user pointing
/// on-premises), three rounds.
pub fn autodiscover_redirect_loop(sb: &mut Sb) {
    noise(sb, 2);
    let bearer = signed_in(sb, &Challenge::hma_and_legacy());
    tunnel(sb, "autodiscover-s.outlook.com", OUTLOOK);
    for round in 0..3 {
        on_premises(sb, &bearer, redirect_addr(ROUTING));
        sb.wait(200);
        answered(sb, &exo(), EXO_AD, ROUTING, None, redirect_addr(USER));
        noise_run(sb, round * 2, 2);
    }
}

/// A web host's 404 page for `/autodiscover/autodiscover.xml` on the root domain.
fn apache_404(sb: &mut Sb, get: bool) -> usize {
    let crid = sb.guid();
    let req = outlook::autodiscover(
        "https://contoso.com/autodiscover/autodiscover.xml",
        get,
        None,
        &crid,
    );
    let html = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n<hr>\n<address>Apache/2.4.58 (Ubuntu) Server at contoso.com Port 443</address>\n</body></html>\n";
    let now = sb.now;
    let resp = Response {
        status: 404,
        reason: "Not Found".into(),
        version: "HTTP/1.1".into(),
        headers: hdrs(&[
            ("Date", &now.http_date()),
            ("Server", "Apache/2.4.58 (Ubuntu)"),
            (BODY_HEADERS, ""),
            ("Keep-Alive", "timeout=5, max=100"),
            ("Connection", "Keep-Alive"),
            ("Content-Type", "text/html; charset=iso-8859-1"),
        ]),
        body: Some(Body::plain(html)),
    };
    sb.add(Some(OUTLOOK), req, Some(resp), 40, Role::Signal)
}

/// `autodiscover-root-web-host`: https://contoso.com/autodiscover/autodiscover.xml answered
/// 404 by Apache (POST, then GET), and autodiscover.contoso.com never answers settings in
/// the capture.
pub fn autodiscover_root_web_host(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    tunnel(sb, "contoso.com", OUTLOOK);
    for round in 0..2 {
        apache_404(sb, false);
        apache_404(sb, true);
        noise_run(sb, 2 + round * 3, 3);
        sb.wait(20_000);
    }
}

/// `autodiscover-spn-predicted`: signed in for autodiscover.contoso.com (token issued),
/// Autodiscover answers settings publishing mail.contoso.com (EWS, MAPI, OAB), which the
/// capture never asks a token for nor reaches.
pub fn autodiscover_spn_predicted(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    let bearer = signed_in(sb, &Challenge::bearer_only());
    on_premises(
        sb,
        &bearer,
        exchange::autodiscover_response_xml("mail.contoso.com"),
    );
    noise_run(sb, 2, 4);
}

/// `autodiscover-pox-healthy`: on-premises answers RedirectAddr to the routing address once,
/// Exchange Online answers settings; an hour later the same lookup again.
pub fn autodiscover_pox_healthy(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    let bearer = signed_in(sb, &Challenge::bearer_only());
    tunnel(sb, "autodiscover-s.outlook.com", OUTLOOK);
    for round in 0..2 {
        on_premises(sb, &bearer, redirect_addr(ROUTING));
        sb.wait(150);
        answered(sb, &exo(), EXO_AD, ROUTING, None, exo_settings());
        noise_run(sb, 2 + round * 3, 3);
        sb.wait(60_000);
    }
}

/// `autodiscover-exo-sts-unreachable`: Outlook sends Basic to Exchange Online's
/// Autodiscover, which answers 401 with `X-AutoDiscovery-Error:
/// LiveIdBasicAuth:FederatedStsUnreachable` (it cannot reach the domain's AD FS), three
/// times; no settings.
pub fn autodiscover_exo_sts_unreachable(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    tunnel(sb, "autodiscover-s.outlook.com", OUTLOOK);
    let basic = format!("Basic {}", crate::secrets::BASIC_CREDENTIAL);
    for round in 0..3 {
        let crid = sb.guid();
        let rid = sb.guid();
        let req = request_for(EXO_AD, USER, Some(&basic), &crid);
        let now = sb.now;
        let ex = exo();
        let resp = Response {
            status: 401,
            reason: "Unauthorized".into(),
            version: "HTTP/1.1".into(),
            headers: hdrs(&[
                ("Content-Length", "0"),
                ("Server", "Microsoft-IIS/10.0"),
                ("request-id", &rid),
                ("X-CalculatedBETarget", &format!("{}.EURPRD02.PROD.OUTLOOK.COM", ex.be)),
                ("X-BackEndHttpStatus", "401"),
                ("X-RUM-Validated", "1"),
                (
                    "X-AutoDiscovery-Error",
                    "LiveIdBasicAuth:FederatedStsUnreachable:<X-forwarded-for:198.51.100.7><ExternalUser>;",
                ),
                ("X-DiagInfo", ex.be),
                ("X-BEServer", ex.be),
                ("X-Proxy-RoutingCorrectness", "1"),
                ("X-Proxy-BackendServerStatus", "401"),
                ("X-FEServer", ex.fe),
                ("WWW-Authenticate", "Basic Realm=\"\""),
                ("X-Powered-By", "ASP.NET"),
                ("Date", &now.http_date()),
            ]),
            body: None,
        };
        sb.add(Some(OUTLOOK), req, Some(resp), 2_100, Role::Signal);
        noise_run(sb, 2 + round * 2, 2);
        sb.wait(10_000);
    }
}

//! Issue 19: what Autodiscover answered (POX errors, redirect chains, a web host on the root
//! domain) and the SPNs its answers predict.

use crate::actors::entra::{id_token, user_token, Entra};
use crate::actors::exchange::{self, Challenge, Exchange};
use crate::actors::{hdrs, outlook, OFFICE_CLIENT, OUTLOOK, USER};
use crate::model::{Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::adal::{AUTODISCOVER_RESOURCE, AUTODISCOVER_URL};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{autodiscover_challenge, noise, noise_run, outlook_loop, tunnel};
use crate::secrets;

/// Exchange Online's Autodiscover endpoint Outlook is sent to for a cloud mailbox.
const EXO_AD: &str = "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml";
/// The user's address at the tenant's routing domain (the remote mailbox's target).
const ROUTING: &str = "user@contoso.mail.onmicrosoft.com";

/// Exchange Online's front end.
fn exo() -> Exchange {
    Exchange {
        fe: "AM0PR02CA0123",
        be: "AM6PR02MB4567",
    }
}

/// The POX request for `address` (Outlook's body with another address).
fn request_for(url: &str, address: &str, auth: Option<&str>, crid: &str) -> Request {
    let mut req = outlook::autodiscover(url, false, auth, crid);
    let body = outlook::autodiscover_request_xml().replace(USER, address);
    req.body = Some(Body::plain(body));
    req
}

fn account(inner: &str) -> String {
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
fn exo_settings() -> String {
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

/// Outlook is challenged by autodiscover.contoso.com (`c`), signs in (authorize, code
/// redeemed, token issued) and returns the Bearer header value for the retries.
fn signed_in(sb: &mut Sb, c: &Challenge) -> String {
    let entra = Entra::mso();
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let l = outlook_loop(
        sb,
        AUTODISCOVER_RESOURCE,
        "autodiscover.contoso.com",
        "login.microsoftonline.com",
        "common",
    );
    let id = autodiscover_challenge(sb, AUTODISCOVER_URL, false, c);
    sb.challenge(l, id);
    tunnel(sb, "login.microsoftonline.com", OUTLOOK);
    let crid = sb.guid();
    let cookies = format!(
        "buid={}; fpc={}; x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
        secrets::COOKIE_BUID,
        secrets::COOKIE_FPC
    );
    let req = outlook::adal_authorize(
        entra.host,
        "common",
        AUTODISCOVER_RESOURCE,
        &crid,
        Some(&cookies),
    );
    let now = sb.now;
    let resp = entra.authorize_code_302(secrets::AUTH_CODES[1], &mut sb.rng, now);
    let id = sb.add(Some(OUTLOOK), req, Some(resp), 150, Role::Signal);
    sb.entra(l, id, true);
    sb.wait(30);
    let req = outlook::adal_token_code(
        entra.host,
        "common",
        AUTODISCOVER_RESOURCE,
        secrets::AUTH_CODES[1],
        &crid,
    );
    let now = sb.now;
    let at = user_token(
        AUTODISCOVER_RESOURCE,
        OFFICE_CLIENT,
        now,
        secrets::SIG_OUTLOOK_AT,
    );
    let resp = entra.token_ok(
        AUTODISCOVER_RESOURCE,
        &at,
        secrets::RT_ISSUED,
        &id_token(now),
        &crid,
        &mut sb.rng,
        now,
    );
    let id = sb.add(Some(OUTLOOK), req, Some(resp), 120, Role::Signal);
    sb.entra(l, id, false);
    sb.token(l);
    sb.wait(40);
    format!("Bearer {at}")
}

/// Outlook POSTs `url` for `address` and `ex` answers 200 with `xml` (gzip, chunked).
fn answered(
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

/// `autodiscover-500-not-found`: signed in with a token, Autodiscover answers ErrorCode 500
/// "The email address can't be found." twice (the remote mailbox object is missing).
pub fn autodiscover_500_not_found(sb: &mut Sb) {
    noise_run(sb, 0, 3);
    let bearer = signed_in(sb, &Challenge::hma_and_legacy());
    for (i, id) in ["1209675184", "1209675195"].iter().enumerate() {
        answered(
            sb,
            &Exchange::new(),
            AUTODISCOVER_URL,
            USER,
            Some(&bearer),
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
        answered(
            sb,
            &Exchange::new(),
            AUTODISCOVER_URL,
            USER,
            Some(&bearer),
            redirect_addr(ROUTING),
        );
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
    answered(
        sb,
        &Exchange::new(),
        AUTODISCOVER_URL,
        USER,
        Some(&bearer),
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
        answered(
            sb,
            &Exchange::new(),
            AUTODISCOVER_URL,
            USER,
            Some(&bearer),
            redirect_addr(ROUTING),
        );
        sb.wait(150);
        answered(sb, &exo(), EXO_AD, ROUTING, None, exo_settings());
        noise_run(sb, 2 + round * 3, 3);
        sb.wait(60_000);
    }
}

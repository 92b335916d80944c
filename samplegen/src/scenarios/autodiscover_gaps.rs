//! Issue 19, the Autodiscover classes the first samples left out: settings from both sides
//! for one mailbox, a redirect to a foreign domain, a back end's 5xx behind the front end.

use crate::actors::exchange::{Challenge, Exchange};
use crate::actors::{hdrs, outlook, OUTLOOK, USER};
use crate::model::{Body, Coding, Framing, Response, Role, BODY_HEADERS};
use crate::scenarios::adal::AUTODISCOVER_URL;
use crate::scenarios::autodiscover::{
    account, answered, autodiscover_spn_predicted, exo, exo_settings, request_for, signed_in,
    EXO_AD,
};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{noise_run, tunnel};

/// The hosting provider's Autodiscover a web host redirects to.
const HOSTING_AD: &str =
    "https://autodiscover.hostingprovider-example.net/autodiscover/autodiscover.xml";

/// `autodiscover-wrong-side`: on-premises Autodiscover gives settings for user@contoso.com
/// (mail.contoso.com), and Exchange Online, asked directly, gives settings for the same
/// address (outlook.office365.com): a second, empty mailbox in Exchange Online.
pub fn autodiscover_wrong_side(sb: &mut Sb) {
    // Signed in, on-premises settings publishing mail.contoso.com, noise.
    autodiscover_spn_predicted(sb);
    sb.wait(4_000);
    tunnel(sb, "autodiscover-s.outlook.com", OUTLOOK);
    answered(sb, &exo(), EXO_AD, USER, None, exo_settings());
    noise_run(sb, 6, 2);
}

/// A hosting provider's POX settings: its own IMAP and SMTP servers, no Exchange URL.
fn hosting_settings() -> String {
    account(&format!(
        r#"      <Action>settings</Action>
      <Protocol>
        <Type>IMAP</Type>
        <Server>imap.hostingprovider-example.net</Server>
        <Port>993</Port>
        <LoginName>{USER}</LoginName>
        <SSL>on</SSL>
        <SPA>off</SPA>
        <AuthRequired>on</AuthRequired>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type>
        <Server>smtp.hostingprovider-example.net</Server>
        <Port>465</Port>
        <LoginName>{USER}</LoginName>
        <SSL>on</SSL>
        <SPA>off</SPA>
        <AuthRequired>on</AuthRequired>
      </Protocol>"#
    ))
}

/// `autodiscover-redirect-foreign-domain`: Outlook's HTTP redirect method (a GET to
/// http://autodiscover.contoso.com) is answered 302 by the web host's nginx to the hosting
/// provider's Autodiscover, which answers with IMAP settings; twice.
pub fn autodiscover_redirect_foreign_domain(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    for round in 0..2 {
        let crid = sb.guid();
        let url = "http://autodiscover.contoso.com/autodiscover/autodiscover.xml";
        let req = outlook::autodiscover(url, true, None, &crid);
        let now = sb.now;
        let html = "<html>\r\n<head><title>302 Found</title></head>\r\n<body>\r\n<center><h1>302 Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        let resp = Response {
            status: 302,
            reason: "Moved Temporarily".into(),
            version: "HTTP/1.1".into(),
            headers: hdrs(&[
                ("Server", "nginx"),
                ("Date", &now.http_date()),
                ("Content-Type", "text/html"),
                (BODY_HEADERS, ""),
                ("Connection", "keep-alive"),
                ("Location", HOSTING_AD),
            ]),
            body: Some(Body::plain(html)),
        };
        sb.add(Some(OUTLOOK), req, Some(resp), 60, Role::Signal);
        tunnel(sb, "autodiscover.hostingprovider-example.net", OUTLOOK);
        let crid = sb.guid();
        let req = request_for(HOSTING_AD, USER, None, &crid);
        let now = sb.now;
        let resp = Response {
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: hdrs(&[
                ("Server", "nginx"),
                ("Date", &now.http_date()),
                ("Content-Type", "application/xml; charset=utf-8"),
                (BODY_HEADERS, ""),
                ("Connection", "keep-alive"),
                ("Vary", "Accept-Encoding"),
            ]),
            body: Some(Body::coded(
                hosting_settings(),
                Coding::Gzip,
                Framing::Chunked(1024),
            )),
        };
        sb.add(Some(OUTLOOK), req, Some(resp), 180, Role::Signal);
        noise_run(sb, 2 + round * 2, 2);
        sb.wait(45_000);
    }
}

/// `autodiscover-backend-500`: signed in with a token, on-premises Autodiscover answers 500
/// three times with `X-BackEndHttpStatus: 500` (the mailbox server's Autodiscover failed
/// behind the front end); no settings.
pub fn autodiscover_backend_500(sb: &mut Sb) {
    noise_run(sb, 0, 2);
    let bearer = signed_in(sb, &Challenge::hma_and_legacy());
    let ex = Exchange::new();
    for round in 0..3 {
        let crid = sb.guid();
        let rid = sb.guid();
        let req = request_for(AUTODISCOVER_URL, USER, Some(&bearer), &crid);
        let now = sb.now;
        let resp = Response {
            status: 500,
            reason: "Internal Server Error".into(),
            version: "HTTP/1.1".into(),
            headers: hdrs(&[
                ("Cache-Control", "private"),
                ("Content-Length", "0"),
                ("Server", "Microsoft-IIS/10.0"),
                ("request-id", &rid),
                (
                    "X-CalculatedBETarget",
                    &format!("{}.contoso.local", ex.be.to_ascii_lowercase()),
                ),
                ("X-BackEndHttpStatus", "500"),
                ("X-DiagInfo", ex.be),
                ("X-BEServer", ex.be),
                ("X-Powered-By", "ASP.NET"),
                ("X-FEServer", ex.fe),
                ("Date", &now.http_date()),
            ]),
            body: None,
        };
        sb.add(Some(OUTLOOK), req, Some(resp), 1_400, Role::Signal);
        noise_run(sb, 2 + round * 2, 2);
        sb.wait(15_000);
    }
}

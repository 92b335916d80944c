//! Federated sign-ins (issue 24, item 2): realm discovery naming AD FS, the round trip to it
//! (Windows integrated handshake, error pages, a Web Application Proxy with no AD FS behind
//! it), the WS-Federation response posted back to Entra ID, WS-Trust from a legacy client, and
//! Seamless SSO.

use crate::actors::entra::{AadError, Entra};
use crate::actors::exchange::Challenge;
use crate::actors::outlook::{self, ADAL_BROWSER_UA};
use crate::actors::{hdrs, EDGE, EDGE_UA, OFFICE_CLIENT, OUTLOOK, USER};
use crate::clock::Instant;
use crate::model::{host_of, Body, Coding, Framing, Request, Response, Role, BODY_HEADERS};
use crate::scenarios::adal::{AUTODISCOVER_RESOURCE, AUTODISCOVER_URL};
use crate::scenarios::builder::Sb;
use crate::scenarios::common::{autodiscover_challenge, noise_run, tunnel};
use crate::secrets;
use crate::wire::{form, form_encode};

const STS: &str = "sts.contoso.com";
const ISSUER: &str = "http://sts.contoso.com/adfs/services/trust/";
/// The IssuerUri the tenant has for contoso.com (set when the domain was converted with
/// -SupportMultipleDomain): not what AD FS sends.
const TENANT_ISSUER: &str = "http://contoso.com/adfs/services/trust/";
const OWA_AUTHORIZE: &str = "https://login.microsoftonline.com/common/oauth2/authorize?client_id=00000002-0000-0ff1-ce00-000000000000&redirect_uri=https%3a%2f%2foutlook.office365.com%2fowa%2f&resource=00000002-0000-0ff1-ce00-000000000000&response_mode=form_post&response_type=code+id_token&scope=openid&msafed=1&msaredir=1&client-request-id=";
/// A Kerberos AP-REQ as browsers send it (SPNEGO, `YII...`), cut short: never a real ticket.
const NEGOTIATE: &str = "Negotiate YIIHSAYGKwYBBQUCoIIHPDCCBzigMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCBwIEggb+YIIG+gYJKoZIhvcSAQICAQBuggbpMIIG5aADAgEFoQMCAQ6iBwMFACAAAACjggTlYYIE4TCCBN2gAwIBBaEOGwxDT05UT1NPLkNPTaIsMCqgAwIBAqEjMCEbBEhUVFAbGXN0cy5jb250b3NvLmNvbQ==";

fn resp(
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: Option<Body>,
    now: Instant,
) -> Response {
    let mut h = hdrs(headers);
    if body.is_some() {
        h.push((BODY_HEADERS.into(), String::new()));
    }
    h.push(("Date".into(), now.http_date()));
    Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body,
    }
}

fn get(url: &str, ua: &str, extra: &[(&str, &str)]) -> Request {
    let mut h = hdrs(&[
        ("Accept", "text/html, application/xhtml+xml, image/jxr, */*"),
        ("Accept-Language", "en-US"),
        ("User-Agent", ua),
        ("Accept-Encoding", "gzip, deflate"),
        ("Host", &host_of(url)),
    ]);
    h.extend(hdrs(extra));
    h.push(("Connection".into(), "Keep-Alive".into()));
    Request {
        method: "GET".into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: None,
    }
}

fn post_form(url: &str, ua: &str, extra: &[(&str, &str)], body: String) -> Request {
    let mut h = hdrs(&[
        ("Accept", "text/html, application/xhtml+xml, image/jxr, */*"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("User-Agent", ua),
        ("Accept-Encoding", "gzip, deflate"),
        ("Host", &host_of(url)),
    ]);
    h.extend(hdrs(extra));
    h.extend(hdrs(&[(BODY_HEADERS, ""), ("Connection", "Keep-Alive")]));
    Request {
        method: "POST".into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::plain(body)),
    }
}

/// Entra's answer headers (as `Entra::head` writes them) with `ctype`.
fn entra_headers(trace: &str, ctype: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Cache-Control", "no-store, no-cache".into()),
        ("Pragma", "no-cache".into()),
        ("Content-Type", ctype.into()),
        ("Expires", "-1".into()),
        (
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains".into(),
        ),
        ("X-Content-Type-Options", "nosniff".into()),
        ("x-ms-request-id", trace.into()),
        ("x-ms-ests-server", "2.1.19355.6 - NEULR1 ProdSlices".into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(n, s)| (*n, s.as_str())).collect()
}

/// Realm discovery for the user (`/common/userrealm/?user=...&api-version=2.1`): Federated,
/// AuthURL at AD FS.
fn realm(sb: &mut Sb, process: &str, ua: &str) -> usize {
    let crid = sb.guid();
    let url = format!(
        "https://login.microsoftonline.com/common/userrealm/?user={}&api-version=2.1&stsRequest=rQQIARAAjZE9&checkForMicrosoftAccount=false&client-request-id={crid}",
        form_encode(USER)
    );
    let req = get(&url, ua, &[]);
    let body = format!(
        "{{\"NameSpaceType\":\"Federated\",\"federation_protocol\":\"WSTrust\",\"Login\":\"{USER}\",\"AuthURL\":\"https://{STS}/adfs/ls/?username={}&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=\",\"DomainName\":\"contoso.com\",\"FederationBrandName\":\"Contoso\",\"CloudInstanceName\":\"microsoftonline.com\",\"CloudInstanceIssuerUri\":\"urn:federation:MicrosoftOnline\"}}",
        form_encode(USER)
    );
    let trace = sb.guid();
    let h = entra_headers(&trace, "application/json; charset=utf-8");
    let now = sb.now;
    let r = resp(
        200,
        "OK",
        &pairs(&h),
        Some(Body::coded(body, Coding::Gzip, Framing::Chunked(512))),
        now,
    );
    sb.add(Some(process), req, Some(r), 60, Role::Signal)
}

/// The passive sign-in URL at AD FS for this attempt.
fn adfs_ls(crid: &str) -> String {
    format!(
        "https://{STS}/adfs/ls/?client-request-id={crid}&username={}&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=LoginOptions%3D3%26estsredirect%3d2%26estsrequest%3drQQIARAAjZE9",
        form_encode(USER)
    )
}

/// AD FS's Windows integrated handshake: 401 `Negotiate` / `NTLM`.
fn adfs_401(sb: &mut Sb, process: &str, ua: &str, url: &str) -> usize {
    let req = get(url, ua, &[]);
    let now = sb.now;
    let r = resp(
        401,
        "Unauthorized",
        &[
            ("Content-Type", "text/html; charset=us-ascii"),
            ("Server", "Microsoft-HTTPAPI/2.0"),
            ("WWW-Authenticate", "Negotiate"),
            ("WWW-Authenticate", "NTLM"),
        ],
        Some(Body::plain("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Not Authorized</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Not Authorized</h2>\r\n<hr><p>HTTP Error 401. The requested resource requires user authentication.</p>\r\n</BODY></HTML>\r\n")),
        now,
    );
    sb.add(Some(process), req, Some(r), 4, Role::Signal)
}

/// Outlook is challenged, and ADAL's embedded browser opens the authorize page (password
/// prompt pending). Records the attempt as a loop; returns its client-request-id and the loop.
fn outlook_authorize(sb: &mut Sb) -> (String, usize) {
    tunnel(sb, "autodiscover.contoso.com", OUTLOOK);
    let challenge =
        autodiscover_challenge(sb, AUTODISCOVER_URL, false, &Challenge::hma_and_legacy());
    sb.wait(300);
    tunnel(sb, "login.microsoftonline.com", OUTLOOK);
    let crid = sb.guid();
    let req = outlook::adal_authorize(
        "login.microsoftonline.com",
        "common",
        AUTODISCOVER_RESOURCE,
        &crid,
        None,
    );
    let now = sb.now;
    let page = Entra::mso().signin_page_ok(&crid, &mut sb.rng, now);
    let authorize = sb.add(Some(OUTLOOK), req, Some(page), 180, Role::Signal);
    let l = sb.begin_loop(
        AUTODISCOVER_RESOURCE,
        "autodiscover.contoso.com",
        "login.microsoftonline.com",
        "common",
        OFFICE_CLIENT,
        OUTLOOK,
    );
    sb.challenge(l, challenge);
    sb.entra(l, authorize, true);
    (crid, l)
}

/// [`outlook_authorize`], then realm discovery, and the tunnel to AD FS. Returns the
/// client-request-id and the loop.
fn outlook_to_adfs(sb: &mut Sb) -> (String, usize) {
    let (crid, l) = outlook_authorize(sb);
    sb.wait(900);
    realm(sb, OUTLOOK, ADAL_BROWSER_UA);
    sb.wait(120);
    tunnel(sb, STS, OUTLOOK);
    (crid, l)
}

/// The "Service Unavailable" http.sys writes when no AD FS answers behind the proxy.
fn wap_503(now: Instant) -> Response {
    resp(
        503,
        "Service Unavailable",
        &[
            ("Content-Type", "text/html; charset=us-ascii"),
            ("Server", "Microsoft-HTTPAPI/2.0"),
        ],
        Some(Body::plain("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n</BODY></HTML>\r\n")),
        now,
    )
}

/// `federation-adfs-503`: realm discovery says Federated; the Web Application Proxy answers
/// 503 twice (no AD FS server behind it), the user gives up.
pub fn federation_adfs_503(sb: &mut Sb) {
    noise_run(sb, 0, 4);
    let (crid, l) = outlook_to_adfs(sb);
    sb.loops.remove(l);
    for _ in 0..2 {
        let req = get(&adfs_ls(&crid), ADAL_BROWSER_UA, &[]);
        let now = sb.now;
        sb.add(Some(OUTLOOK), req, Some(wap_503(now)), 30, Role::Signal);
        sb.wait(20_000);
    }
    noise_run(sb, 4, 5);
}

/// An AD FS HTML page (200, chunked by `chunk`), its last header `last`.
fn adfs_html(last: (&str, &str), page: String, chunk: usize, now: Instant) -> Response {
    resp(
        200,
        "OK",
        &[
            ("Cache-Control", "no-cache"),
            ("Pragma", "no-cache"),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Expires", "-1"),
            ("Server", "Microsoft-HTTPAPI/2.0"),
            last,
        ],
        Some(Body::coded(page, Coding::Identity, Framing::Chunked(chunk))),
        now,
    )
}

/// AD FS 2019's error page: "An error occurred", the MSIS code and the Activity ID.
fn adfs_error_page(activity: &str) -> String {
    format!(
        "<!DOCTYPE html>\r\n<html lang=\"en-US\">\r\n<head>\r\n<meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\"/>\r\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\"/>\r\n<title>Sign In</title>\r\n<link rel=\"stylesheet\" type=\"text/css\" href=\"/adfs/portal/css/style.css?id=D74D4D6D8B0A6B6F\"/>\r\n</head>\r\n<body dir=\"ltr\" class=\"body\">\r\n<div id=\"fullPage\"><div id=\"contentWrapper\" class=\"float\"><div id=\"content\">\r\n<div id=\"header\"><img class=\"logoImage\" src=\"/adfs/portal/logo/logo.png?id=2A33B8B51F6A1B2A\" alt=\"Contoso\"/></div>\r\n<div id=\"workArea\"><div id=\"errorArea\">\r\n<div id=\"openingMessage\" class=\"groupMargin\">An error occurred</div>\r\n<div id=\"errorMessage\" class=\"groupMargin\">An error occurred. Contact your administrator for more information.</div>\r\n<div id=\"error\" class=\"groupMargin\"><span id=\"errorText\" class=\"error\">MSIS7012: An error occurred while processing the request. Contact your administrator for details.</span></div>\r\n<div id=\"diagnosticsInfo\" class=\"groupMargin\"><div id=\"activityIdArea\"><span class=\"hint\">Activity ID:</span> <span>{activity}</span></div>\r\n<div id=\"relyingPartyArea\"><span class=\"hint\">Relying party:</span> <span>Microsoft Office 365 Identity Platform</span></div>\r\n<div id=\"errorTimeArea\"><span class=\"hint\">Error time:</span> <span>Fri, 20 Nov 2026 07:15:40 GMT</span></div>\r\n<div id=\"serverNameArea\"><span class=\"hint\">Node name:</span> <span>5f1c0e22-0000-4000-8000-00000000adf5</span></div></div>\r\n</div></div></div></div></div>\r\n</body>\r\n</html>\r\n"
    )
}

/// `federation-adfs-error`: realm discovery says Federated; AD FS completes the Windows
/// integrated handshake, then answers its error page with MSIS7012 and an Activity ID.
pub fn federation_adfs_error(sb: &mut Sb) {
    noise_run(sb, 2, 4);
    let (crid, l) = outlook_to_adfs(sb);
    sb.loops.remove(l);
    let url = adfs_ls(&crid);
    adfs_401(sb, OUTLOOK, ADAL_BROWSER_UA, &url);
    let req = get(&url, ADAL_BROWSER_UA, &[("Authorization", NEGOTIATE)]);
    let activity = "00000000-0000-0000-5e07-0080000000d4";
    let now = sb.now;
    let r = adfs_html(
        ("X-Frame-Options", "DENY"),
        adfs_error_page(activity),
        1024,
        now,
    );
    sb.add(Some(OUTLOOK), req, Some(r), 240, Role::Signal);
    sb.wait(8_000);
    noise_run(sb, 6, 5);
}

/// A certificate's DER with only the fields a reader walks filled in (version, serial,
/// algorithm, issuer CN, validity, subject CN), and a dummy key and signature.
fn cert_der(cn: &str, not_before: &str, not_after: &str) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else if n < 0x100 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(content);
        out
    }
    let alg = tlv(
        0x30,
        &[
            &tlv(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            )[..],
            &tlv(0x05, &[]),
        ]
        .concat(),
    );
    let name = tlv(
        0x30,
        &tlv(
            0x31,
            &tlv(
                0x30,
                &[
                    &tlv(0x06, &[0x55, 0x04, 0x03])[..],
                    &tlv(0x0c, cn.as_bytes()),
                ]
                .concat(),
            ),
        ),
    );
    let validity = tlv(
        0x30,
        &[
            tlv(0x17, not_before.as_bytes()),
            tlv(0x17, not_after.as_bytes()),
        ]
        .concat(),
    );
    let key = tlv(
        0x30,
        &[
            &tlv(
                0x30,
                &[
                    &tlv(
                        0x06,
                        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                    )[..],
                    &tlv(0x05, &[]),
                ]
                .concat(),
            )[..],
            &tlv(
                0x03,
                &[0x00, 0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03],
            ),
        ]
        .concat(),
    );
    let tbs = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[0x02])),
            tlv(0x02, &[0x1c, 0x5e, 0x0c, 0x7a, 0x41, 0x9d, 0x2b, 0x6f]),
            alg.clone(),
            name.clone(),
            validity,
            name,
            key,
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[tbs, alg, tlv(0x03, &[0x00, 0x5a, 0x5a, 0x5a, 0x5a])].concat(),
    )
}

/// AD FS's WS-Federation answer: the RSTR with a SAML 1.1 assertion issued by `issuer`, valid
/// an hour from `now`, signed with the token-signing certificate.
fn rstr(issuer: &str, now: Instant) -> String {
    let from = now.iso_utc_ms();
    let until = now.plus_ms(3_600_000).iso_utc_ms();
    let cert = secrets::b64(&cert_der(
        "ADFS Signing - sts.contoso.com",
        "260105093000Z",
        "270105093000Z",
    ));
    format!(
        "<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\"><t:Lifetime><wsu:Created xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">{from}</wsu:Created><wsu:Expires xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">{until}</wsu:Expires></t:Lifetime><wsp:AppliesTo xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2004/09/policy\"><wsa:EndpointReference xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><t:RequestedSecurityToken><saml:Assertion MajorVersion=\"1\" MinorVersion=\"1\" AssertionID=\"_9d1c0000-0000-4000-8000-00000000fed1\" Issuer=\"{issuer}\" IssueInstant=\"{from}\" xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"><saml:Conditions NotBefore=\"{from}\" NotOnOrAfter=\"{until}\"><saml:AudienceRestrictionCondition><saml:Audience>urn:federation:MicrosoftOnline</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions><saml:AttributeStatement><saml:Subject><saml:NameIdentifier Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\">{}</saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject><saml:Attribute AttributeName=\"UPN\" AttributeNamespace=\"http://schemas.xmlsoap.org/claims\"><saml:AttributeValue>{USER}</saml:AttributeValue></saml:Attribute><saml:Attribute AttributeName=\"ImmutableID\" AttributeNamespace=\"http://schemas.microsoft.com/LiveID/Federation/2008/05\"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute><saml:Attribute AttributeName=\"insidecorporatenetwork\" AttributeNamespace=\"http://schemas.microsoft.com/ws/2012/01\"><saml:AttributeValue>true</saml:AttributeValue></saml:Attribute></saml:AttributeStatement><saml:AuthenticationStatement AuthenticationMethod=\"urn:federation:authentication:windows\" AuthenticationInstant=\"{from}\"><saml:Subject><saml:NameIdentifier Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\">{}</saml:NameIdentifier></saml:Subject></saml:AuthenticationStatement><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\" /><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\" /></ds:SignedInfo><ds:SignatureValue>{}</ds:SignatureValue><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></ds:Signature></saml:Assertion></t:RequestedSecurityToken><t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType><t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType></t:RequestSecurityTokenResponse>",
        secrets::IMMUTABLE_ID,
        secrets::IMMUTABLE_ID,
        secrets::IMMUTABLE_ID,
        secrets::WRESULT_ASSERTION,
    )
}

/// AD FS's auto-posting page holding the `wresult`.
fn autopost_page(rstr: &str) -> String {
    format!("<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://login.microsoftonline.com:443/login.srf\"><input type=\"hidden\" name=\"wa\" value=\"wsignin1.0\" /><input type=\"hidden\" name=\"wresult\" value=\"{}\" /><input type=\"hidden\" name=\"wctx\" value=\"LoginOptions=3&amp;estsredirect=2&amp;estsrequest=rQQIARAAjZE9\" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>", rstr.replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;"))
}

/// Edge opens Outlook on the web and Entra asks realm discovery. Returns the
/// client-request-id.
fn edge_authorize(sb: &mut Sb) -> String {
    tunnel(sb, "login.microsoftonline.com", EDGE);
    let crid = sb.guid();
    let req = get(&format!("{OWA_AUTHORIZE}{crid}"), EDGE_UA, &[]);
    let now = sb.now;
    let page = Entra::mso().signin_page_ok(&crid, &mut sb.rng, now);
    sb.add(Some(EDGE), req, Some(page), 170, Role::Signal);
    sb.wait(1_400);
    realm(sb, EDGE, EDGE_UA);
    sb.wait(200);
    tunnel(sb, STS, EDGE);
    crid
}

/// AD FS signs the user in with Kerberos (`process` with `ua`, attempt `crid`) and its page
/// posts the WS-Fed response back: returns the `login.srf` request.
fn adfs_sign_in(sb: &mut Sb, process: &str, ua: &str, crid: &str, issuer: &str) -> Request {
    let url = adfs_ls(crid);
    adfs_401(sb, process, ua, &url);
    let now = sb.now;
    let rstr = rstr(issuer, now);
    let req = get(&url, ua, &[("Authorization", NEGOTIATE)]);
    let r = adfs_html(
        (
            "Set-Cookie",
            "MSISAuthenticated=MTEvMjAvMjAyNiA3OjE1OjQwIEFN; path=/adfs; HttpOnly; Secure",
        ),
        autopost_page(&rstr),
        2048,
        now,
    );
    sb.add(Some(process), req, Some(r), 260, Role::Signal);
    sb.wait(90);
    let body = form(&[
        ("wa", "wsignin1.0"),
        ("wresult", &rstr),
        (
            "wctx",
            "LoginOptions=3&estsredirect=2&estsrequest=rQQIARAAjZE9",
        ),
    ]);
    post_form(
        "https://login.microsoftonline.com/login.srf",
        ua,
        &[
            ("Origin", "https://sts.contoso.com"),
            ("Referer", "https://sts.contoso.com/"),
        ],
        body,
    )
}

/// `federation-issuer-mismatch-50107`: AD FS sends issuer `http://sts.contoso.com/...` while
/// the tenant's contoso.com expects `http://contoso.com/...`: login.srf answers AADSTS50107.
pub fn federation_issuer_mismatch_50107(sb: &mut Sb) {
    noise_run(sb, 1, 4);
    let (crid, l) = outlook_to_adfs(sb);
    let req = adfs_sign_in(sb, OUTLOOK, ADAL_BROWSER_UA, &crid, ISSUER);
    let e = AadError {
        code: 50107,
        error: "invalid_request",
        message: format!("The requested federation realm object '{ISSUER}' does not exist."),
        legacy: false,
        extra: Vec::new(),
    };
    let now = sb.now;
    let page = Entra::mso().signin_error_page(&e, &crid, &mut sb.rng, now);
    let s = sb.add(Some(OUTLOOK), req, Some(page), 210, Role::Signal);
    sb.error(l, s, 50107);
    debug_assert_ne!(TENANT_ISSUER, ISSUER);
    sb.wait(30_000);
    noise_run(sb, 5, 5);
}

/// `federation-healthy`: the same federated sign-in, accepted: login.srf posts the code to
/// Outlook on the web. Seamless SSO's Kerberos handshake and Outlook's WS-Trust
/// `windowstransport` call (no password) work too. Nothing to report.
pub fn federation_healthy(sb: &mut Sb) {
    noise_run(sb, 3, 4);
    let crid = edge_authorize(sb);
    let req = adfs_sign_in(sb, EDGE, EDGE_UA, &crid, ISSUER);
    let now = sb.now;
    let page = format!("<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://outlook.office365.com/owa/\"><input type=\"hidden\" name=\"code\" value=\"{}\" /><input type=\"hidden\" name=\"session_state\" value=\"{}\" /></form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>", secrets::AUTH_CODES[2], sb.guid());
    let trace = sb.guid();
    let h = entra_headers(&trace, "text/html; charset=utf-8");
    let r = resp(
        200,
        "OK",
        &pairs(&h),
        Some(Body::coded(page, Coding::Gzip, Framing::Chunked(1024))),
        now,
    );
    sb.add(Some(EDGE), req, Some(r), 190, Role::Signal);
    sb.wait(2_000);
    // Seamless SSO: 401 Negotiate, then the ticket.
    seamless_handshake(sb, EDGE, EDGE_UA, true);
    sb.wait(4_000);
    // Outlook (ADAL) gets a SAML token with Windows integrated WS-Trust.
    windowstransport(sb);
    noise_run(sb, 8, 4);
}

const AUTOLOGON: &str =
    "https://autologon.microsoftazuread-sso.com/contoso.com/winauth/sso?client-request-id=";

/// Seamless SSO's 401 and, when `ticket`, the browser's answer with a Kerberos ticket (200).
/// Returns the sessions. The 200's body is the desktop SSO token, a bare string (the page's
/// script posts it to the sign-in as `dssoToken`); `redact` replaces the body of every 2xx
/// answer from a Seamless SSO host whole.
fn seamless_handshake(sb: &mut Sb, process: &str, ua: &str, ticket: bool) -> Vec<usize> {
    tunnel(sb, "autologon.microsoftazuread-sso.com", process);
    let crid = sb.guid();
    let url = format!("{AUTOLOGON}{crid}");
    let extra = [
        ("Origin", "https://login.microsoftonline.com"),
        ("Referer", "https://login.microsoftonline.com/"),
    ];
    let req = get(&url, ua, &extra);
    let now = sb.now;
    let r = resp(
        401,
        "Unauthorized",
        &[
            ("Cache-Control", "no-store, no-cache"),
            ("Content-Type", "text/html"),
            ("WWW-Authenticate", "Negotiate"),
            (
                "Access-Control-Allow-Origin",
                "https://login.microsoftonline.com",
            ),
            ("Access-Control-Allow-Credentials", "true"),
        ],
        Some(Body::plain("")),
        now,
    );
    let mut out = vec![sb.add(Some(process), req, Some(r), 30, Role::Signal)];
    if ticket {
        let mut extra = extra.to_vec();
        extra.push(("Authorization", NEGOTIATE));
        let req = get(&url, ua, &extra);
        let now = sb.now;
        let r = resp(
            200,
            "OK",
            &[
                ("Cache-Control", "no-store, no-cache"),
                ("Content-Type", "text/plain; charset=utf-8"),
                (
                    "Access-Control-Allow-Origin",
                    "https://login.microsoftonline.com",
                ),
                ("Access-Control-Allow-Credentials", "true"),
            ],
            Some(Body::plain(secrets::DSSO_TOKEN)),
            now,
        );
        out.push(sb.add(Some(process), req, Some(r), 45, Role::Signal));
    }
    out
}

/// ADAL's WS-Trust 1.3 `windowstransport` call: 401 Negotiate, then the RSTR.
fn windowstransport(sb: &mut Sb) {
    tunnel(sb, STS, OUTLOOK);
    let url = format!("https://{STS}/adfs/services/trust/13/windowstransport");
    let envelope = wstrust_envelope(&url, None);
    for auth in [None, Some(NEGOTIATE)] {
        let req = wstrust_request(&url, ADAL_BROWSER_UA, envelope.clone(), auth);
        let now = sb.now;
        let r = match auth {
            None => resp(
                401,
                "Unauthorized",
                &[
                    ("Content-Type", "text/html; charset=us-ascii"),
                    ("Server", "Microsoft-HTTPAPI/2.0"),
                    ("WWW-Authenticate", "Negotiate"),
                ],
                Some(Body::plain(
                    "<HTML><BODY><h2>Not Authorized</h2></BODY></HTML>",
                )),
                now,
            ),
            Some(_) => wstrust_ok(true, now),
        };
        sb.add(Some(OUTLOOK), req, Some(r), 35, Role::Signal);
    }
}

/// A WS-Trust Issue request (SOAP 1.2) to `url` with `envelope`, and `auth` if given.
fn wstrust_request(url: &str, ua: &str, envelope: String, auth: Option<&str>) -> Request {
    let mut extra = vec![(
        "SOAPAction",
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue",
    )];
    if let Some(a) = auth {
        extra.push(("Authorization", a));
    }
    let mut req = post_form(url, ua, &extra, envelope);
    set_soap(&mut req);
    req
}

/// AD FS's WS-Trust answer: the RSTR (in a 1.3 collection when `collection`).
fn wstrust_ok(collection: bool, now: Instant) -> Response {
    let rstr = rstr(ISSUER, now);
    let inner = if collection {
        format!("<trust:RequestSecurityTokenResponseCollection xmlns:trust=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">{rstr}</trust:RequestSecurityTokenResponseCollection>")
    } else {
        rstr
    };
    resp(
        200,
        "OK",
        &[
            ("Content-Type", "application/soap+xml; charset=utf-8"),
            ("Server", "Microsoft-HTTPAPI/2.0"),
        ],
        Some(Body::coded(
            format!("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>{inner}</s:Body></s:Envelope>"),
            Coding::Identity,
            Framing::Chunked(2048),
        )),
        now,
    )
}

fn set_soap(req: &mut Request) {
    for (n, v) in req.headers.iter_mut() {
        if n == "Content-Type" {
            *v = "application/soap+xml; charset=utf-8".into();
        }
        if n == "Accept" {
            *v = "*/*".into();
        }
    }
}

/// A WS-Trust 1.3 Issue request for urn:federation:MicrosoftOnline; with a user name and
/// password when `user` is given (`usernamemixed`).
fn wstrust_envelope(url: &str, user: Option<(&str, &str)>) -> String {
    let security = match user {
        Some((name, password)) => format!("<o:Security s:mustUnderstand=\"1\" xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><o:UsernameToken u:Id=\"uuid-6a13a244-0000-4000-8000-000000000001\"><o:Username>{name}</o:Username><o:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">{password}</o:Password></o:UsernameToken></o:Security>"),
        None => String::new(),
    };
    format!("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://www.w3.org/2005/08/addressing\" xmlns:u=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><s:Header><a:Action s:mustUnderstand=\"1\">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue</a:Action><a:messageID>urn:uuid:0c1f0000-0000-4000-8000-00000000a11e</a:messageID><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo><a:To s:mustUnderstand=\"1\">{url}</a:To>{security}</s:Header><s:Body><trust:RequestSecurityToken xmlns:trust=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\"><wsp:AppliesTo xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2004/09/policy\"><a:EndpointReference><a:Address>urn:federation:MicrosoftOnline</a:Address></a:EndpointReference></wsp:AppliesTo><trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType><trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType></trust:RequestSecurityToken></s:Body></s:Envelope>")
}

/// `federation-wstrust-legacy`: a legacy client (an old PowerShell module) sends the user's
/// password to AD FS's WS-Trust `usernamemixed` endpoint and gets a SAML token.
pub fn federation_wstrust_legacy(sb: &mut Sb) {
    noise_run(sb, 2, 4);
    let ps = "powershell:6644";
    tunnel(sb, STS, ps);
    let url = format!("https://{STS}/adfs/services/trust/2005/usernamemixed");
    let envelope = wstrust_envelope(&url, Some((USER, secrets::PASSWORD_WSTRUST)));
    let req = wstrust_request(
        &url,
        "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)",
        envelope,
        None,
    );
    let now = sb.now;
    let r = wstrust_ok(false, now);
    sb.add(Some(ps), req, Some(r), 120, Role::Signal);
    noise_run(sb, 6, 4);
}

/// `seamless-sso-81010`: Seamless SSO gets a Kerberos ticket Entra cannot decrypt (the
/// AZUREADSSOACC key was rolled on-premises only): the sign-in page reports AADSTS81010 and
/// the user is prompted for a password.
pub fn seamless_sso_81010(sb: &mut Sb) {
    noise_run(sb, 4, 4);
    let (crid, l) = outlook_authorize(sb);
    sb.wait(600);
    seamless_handshake(sb, OUTLOOK, ADAL_BROWSER_UA, true);
    sb.wait(200);
    let body = form(&[
        ("login", USER),
        ("loginfmt", USER),
        ("type", "11"),
        ("LoginOptions", "3"),
        ("dssoToken", secrets::DSSO_TOKEN),
        ("ps", "2"),
        ("flowToken", "AQABAAEAAAD--DLA3VO7QrddgJg7WevrFlowStandIn"),
    ]);
    let req = post_form(
        "https://login.microsoftonline.com/common/login",
        ADAL_BROWSER_UA,
        &[("Referer", &format!("https://login.microsoftonline.com/common/oauth2/authorize?client-request-id={crid}"))],
        body,
    );
    let e = AadError {
        code: 81010,
        error: "invalid_request",
        message:
            "Seamless SSO failed because the user's Kerberos ticket has expired or is invalid."
                .into(),
        legacy: false,
        extra: Vec::new(),
    };
    let now = sb.now;
    let page = Entra::mso().signin_error_page(&e, &crid, &mut sb.rng, now);
    let s = sb.add(Some(OUTLOOK), req, Some(page), 150, Role::Signal);
    sb.error(l, s, 81010);
    sb.wait(15_000);
    noise_run(sb, 7, 4);
}

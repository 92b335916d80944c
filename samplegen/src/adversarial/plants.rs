//! The planted sessions: one HTTP exchange each, shaped like the real client and server
//! (header order of Outlook, Edge and Entra, CRLF), carrying one secret in one place.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::actors::entra::{id_token, user_token};
use crate::actors::outlook::OUTLOOK_UA;
use crate::actors::{OFFICE_CLIENT, TENANT_GUID, USER};
use crate::clock::{Instant, Rng};
use crate::model::BODY_HEADERS;
use crate::wire::{form, form_encode};

/// Which body of the exchange holds the secret (the one the transport encodings wrap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The request body.
    Request,
    /// The response body.
    Response,
    /// Neither: the secret is in a head, URL, frame or session flag.
    Head,
}

/// Which formats a plant exists in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formats {
    /// SAZ and HAR.
    Both,
    /// Only a SAZ can carry it (folded headers, session flags).
    Saz,
    /// Only a HAR can carry it.
    Har,
}

/// One websocket message.
#[derive(Clone, Debug)]
pub struct WsMessage {
    /// Sent by the client (masked on the wire).
    pub from_client: bool,
    /// Text (opcode 1) or binary (opcode 2).
    pub text: bool,
    /// The payload.
    pub data: Vec<u8>,
}

/// A HAR-only change to the planted entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HarTweak {
    /// None.
    None,
    /// Every `Set-Cookie` of the response joined into one header with `\n` (DevTools).
    JoinSetCookie,
}

/// One planted exchange.
#[derive(Clone, Debug)]
pub struct Plant {
    /// Secret kind (`refresh-token`, `password`...).
    pub kind: &'static str,
    /// Where it sits (`form-body`, `header-folded`...).
    pub place: &'static str,
    /// `x-processinfo`.
    pub process: &'static str,
    /// Request method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Request headers in wire order; [`BODY_HEADERS`] marks where framing headers go.
    /// A value may hold `\r\n ` (a folded header, written as is in a SAZ).
    pub req_headers: Vec<(String, String)>,
    /// Decoded request body (empty: none).
    pub req_body: Vec<u8>,
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Response headers; [`BODY_HEADERS`] as above.
    pub resp_headers: Vec<(String, String)>,
    /// Decoded response body.
    pub resp_body: Vec<u8>,
    /// The body holding the secret.
    pub side: Side,
    /// Websocket messages after the upgrade.
    pub ws: Vec<WsMessage>,
    /// Extra SAZ session flags.
    pub flags: Vec<(String, String)>,
    /// Formats.
    pub formats: Formats,
    /// HAR-only change.
    pub har_tweak: HarTweak,
}

pub(super) fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
pub(super) const EDGE: &str = "msedge:6120";
const OUTLOOK: &str = "outlook:4242";
pub(super) const LOGIN: &str = "login.microsoftonline.com";
const EWS: &str = "https://outlook.office365.com/EWS/Exchange.asmx";

/// The context every builder draws on: the clock and a seeded stream for ids.
pub struct Ctx {
    /// When the planted session starts.
    pub now: Instant,
    /// Seeded per case.
    pub rng: Rng,
}

impl Ctx {
    fn guid(&mut self) -> String {
        self.rng.guid()
    }
    /// `n` base62 characters from the case's stream.
    pub fn base62(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(A[(self.rng.next_u64() % 62) as usize]))
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.rng.next_u64() as u8).collect()
    }
    fn at(&mut self) -> String {
        user_token(
            "https://outlook.office365.com",
            OFFICE_CLIENT,
            self.now,
            &self.base62(342),
        )
    }
}

pub(super) fn plant(kind: &'static str, place: &'static str, process: &'static str) -> Plant {
    Plant {
        kind,
        place,
        process,
        method: "GET".into(),
        url: String::new(),
        req_headers: Vec::new(),
        req_body: Vec::new(),
        status: 200,
        reason: "OK".into(),
        resp_headers: Vec::new(),
        resp_body: Vec::new(),
        side: Side::Head,
        ws: Vec::new(),
        flags: Vec::new(),
        formats: Formats::Both,
        har_tweak: HarTweak::None,
    }
}

/// ADAL's token request from Outlook.
pub(super) fn token_request(p: &mut Plant, c: &mut Ctx, path: &str, ctype: &str, body: Vec<u8>) {
    p.process = OUTLOOK;
    p.method = "POST".into();
    p.url = format!("https://{LOGIN}{path}");
    let crid = c.guid();
    p.req_headers = h(&[
        ("Accept", "application/json"),
        ("x-client-SKU", "PCL.Desktop"),
        ("x-client-Ver", "3.19.8.16603"),
        ("x-client-CPU", "x64"),
        ("x-client-OS", "Microsoft Windows NT 10.0.19045.0"),
        ("x-ms-PKeyAuth", "1.0"),
        ("client-request-id", &crid),
        ("return-client-request-id", "true"),
        ("Content-Type", ctype),
        ("Host", LOGIN),
        (BODY_HEADERS, ""),
        ("Expect", "100-continue"),
        ("Connection", "Keep-Alive"),
    ]);
    p.req_body = body;
}

/// Entra's answer headers.
pub(super) fn entra_headers(c: &mut Ctx, ctype: &str, cookies: &[String]) -> Vec<(String, String)> {
    let crid = c.guid();
    let rid = c.guid();
    let mut v = h(&[
        ("Cache-Control", "no-store, no-cache"),
        ("Pragma", "no-cache"),
        ("Content-Type", ctype),
        ("Expires", "-1"),
        (
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("client-request-id", &crid),
        ("x-ms-request-id", &rid),
        ("x-ms-ests-server", "2.1.19230.5 - WUS3 ProdSlices"),
        ("X-XSS-Protection", "0"),
    ]);
    for ck in cookies {
        v.push(("Set-Cookie".into(), ck.clone()));
    }
    v.push((
        "Set-Cookie".into(),
        "x-ms-gateway-slice=estsfd; path=/; secure; samesite=none; httponly".into(),
    ));
    v.push(("Date".into(), c.now.http_date()));
    v.push((BODY_HEADERS.into(), String::new()));
    v
}

pub(super) fn json_response(p: &mut Plant, c: &mut Ctx, body: String) {
    p.resp_headers = entra_headers(c, "application/json; charset=utf-8", &[]);
    p.resp_body = body.into_bytes();
}

fn token_json(c: &mut Ctx, at: &str, rt: &str, idt: &str) -> String {
    format!(
        "{{\"token_type\":\"Bearer\",\"scope\":\"https://outlook.office365.com/.default\",\"expires_in\":\"3599\",\"ext_expires_in\":\"3599\",\"expires_on\":\"{}\",\"not_before\":\"{}\",\"resource\":\"https://outlook.office365.com\",\"access_token\":\"{at}\",\"refresh_token\":\"{rt}\",\"id_token\":\"{idt}\"}}",
        c.now.unix() + 3599,
        c.now.unix() - 300
    )
}

/// Outlook's EWS request (SOAP, `Authorization` given).
fn ews_request(p: &mut Plant, c: &mut Ctx, auth: &str) {
    p.process = OUTLOOK;
    p.method = "POST".into();
    p.url = EWS.into();
    let crid = c.guid();
    p.req_headers = h(&[
        ("Cache-Control", "no-cache"),
        ("Connection", "Keep-Alive"),
        ("Pragma", "no-cache"),
        ("Content-Type", "text/xml; charset=utf-8"),
        ("Authorization", auth),
        ("User-Agent", OUTLOOK_UA),
        ("X-AnchorMailbox", USER),
        ("client-request-id", &crid),
        ("return-client-request-id", "true"),
        (BODY_HEADERS, ""),
        ("Host", "outlook.office365.com"),
    ]);
    p.req_body = OOF_REQUEST.as_bytes().to_vec();
    ews_response(p, c, OOF_RESPONSE.as_bytes().to_vec());
}

fn ews_response(p: &mut Plant, c: &mut Ctx, body: Vec<u8>) {
    let rid = c.guid();
    p.resp_headers = h(&[
        ("Cache-Control", "private"),
        ("Content-Type", "text/xml; charset=utf-8"),
        ("Server", "Microsoft-IIS/10.0"),
        ("request-id", &rid),
        (
            "X-CalculatedBETarget",
            "DM6PR11MB1234.namprd11.prod.outlook.com",
        ),
        ("X-BackEndHttpStatus", "200"),
        ("X-DiagInfo", "DM6PR11MB1234"),
        ("X-BEServer", "DM6PR11MB1234"),
        ("X-Powered-By", "ASP.NET"),
        ("Date", &c.now.http_date()),
        (BODY_HEADERS, ""),
    ]);
    p.resp_body = body;
}

/// Edge navigating (`GET`, HTML answer).
pub(super) fn edge_get(p: &mut Plant, url: &str, cookie: Option<&str>) {
    p.process = EDGE;
    p.method = "GET".into();
    p.url = url.into();
    let host = crate::model::host_of(url);
    let mut v = h(&[
        ("Host", &host),
        ("Connection", "keep-alive"),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"130\", \"Microsoft Edge\";v=\"130\", \"Not?A_Brand\";v=\"99\"",
        ),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", "\"Windows\""),
        ("Upgrade-Insecure-Requests", "1"),
        ("User-Agent", EDGE_UA),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Dest", "document"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]);
    if let Some(ck) = cookie {
        v.push(("Cookie".into(), ck.into()));
    }
    p.req_headers = v;
}

/// Edge posting a form (`ctype` given).
pub(super) fn edge_post(
    p: &mut Plant,
    url: &str,
    ctype: &str,
    body: Vec<u8>,
    cookie: Option<&str>,
) {
    edge_get(p, url, cookie);
    p.method = "POST".into();
    let at = p
        .req_headers
        .iter()
        .position(|(n, _)| n == "Upgrade-Insecure-Requests")
        .unwrap_or(0);
    p.req_headers
        .insert(at, (BODY_HEADERS.into(), String::new()));
    p.req_headers
        .insert(at + 1, ("Cache-Control".into(), "max-age=0".into()));
    p.req_headers.insert(
        at + 2,
        (
            "Origin".into(),
            format!("https://{}", crate::model::host_of(url)),
        ),
    );
    p.req_headers
        .insert(at + 3, ("Content-Type".into(), ctype.into()));
    p.req_body = body;
}

pub(super) fn html_response(p: &mut Plant, c: &mut Ctx, body: String, cookies: &[String]) {
    p.resp_headers = entra_headers(c, "text/html; charset=utf-8", cookies);
    p.resp_body = body.into_bytes();
}

const OOF_REQUEST: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><soap:Header><t:RequestServerVersion Version=\"Exchange2013\" /></soap:Header><soap:Body><m:GetUserOofSettingsRequest><t:Mailbox><t:Address>user@contoso.com</t:Address></t:Mailbox></m:GetUserOofSettingsRequest></soap:Body></soap:Envelope>";
const OOF_RESPONSE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"20\" MajorBuildNumber=\"8005\" MinorBuildNumber=\"21\" xmlns:h=\"http://schemas.microsoft.com/exchange/services/2006/types\" /></s:Header><s:Body><GetUserOofSettingsResponse xmlns=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><ResponseMessage ResponseClass=\"Success\"><ResponseCode>NoError</ResponseCode></ResponseMessage><OofSettings xmlns=\"http://schemas.microsoft.com/exchange/services/2006/types\"><OofState>Disabled</OofState><ExternalAudience>All</ExternalAudience></OofSettings><AllowExternalOof>All</AllowExternalOof></GetUserOofSettingsResponse></s:Body></s:Envelope>";

/// A DER TLV.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// A GSS-API Kerberos AP-REQ whose ticket cipher holds `secret`.
pub(super) fn kerberos_ap_req(c: &mut Ctx, secret: &str) -> Vec<u8> {
    let mut cipher = c.bytes(37);
    cipher.extend_from_slice(secret.as_bytes());
    cipher.extend(c.bytes(29));
    let int = |v: u8| der(0x02, &[v]);
    let enc_part = der(
        0x30,
        &[
            der(0xa0, &int(18)),
            der(0xa1, &int(5)),
            der(0xa2, &der(0x04, &cipher)),
        ]
        .concat(),
    );
    let sname = der(
        0x30,
        &[
            der(0xa0, &int(2)),
            der(
                0xa1,
                &der(
                    0x30,
                    &[der(0x1b, b"HTTP"), der(0x1b, b"sts.contoso.com")].concat(),
                ),
            ),
        ]
        .concat(),
    );
    let ticket = der(
        0x61,
        &der(
            0x30,
            &[
                der(0xa0, &int(5)),
                der(0xa1, &der(0x1b, b"CONTOSO.COM")),
                der(0xa2, &sname),
                der(0xa3, &enc_part),
            ]
            .concat(),
        ),
    );
    let auth = der(
        0x30,
        &[der(0xa0, &int(18)), der(0xa2, &der(0x04, &c.bytes(120)))].concat(),
    );
    let ap_req = der(
        0x6e,
        &der(
            0x30,
            &[
                der(0xa0, &int(5)),
                der(0xa1, &int(14)),
                der(0xa2, &der(0x03, &[0, 0x20, 0, 0, 0])),
                der(0xa3, &ticket),
                der(0xa4, &auth),
            ]
            .concat(),
        ),
    );
    // 1.2.840.113554.1.2.2, token id 01 00.
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    der(0x60, &[&oid[..], &[0x01, 0x00], &ap_req].concat())
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// An NTLM AUTHENTICATE message whose NTLMv2 response holds `secret`.
pub(super) fn ntlm_authenticate(c: &mut Ctx, secret: &str) -> Vec<u8> {
    let lm = vec![0u8; 24];
    let mut nt = c.bytes(16);
    nt.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    nt.extend_from_slice(secret.as_bytes());
    nt.extend(c.bytes(12));
    let domain = utf16("CONTOSO");
    let user = utf16("user");
    let ws = utf16("WS-0042");
    let fields = [&lm, &nt, &domain, &user, &ws];
    let mut off = 64 + 8 + 8; // header, version, room
    let mut head = b"NTLMSSP\0\x03\0\0\0".to_vec();
    let mut payload = Vec::new();
    let order = [0usize, 1, 2, 3, 4];
    let mut bufs = vec![(0u16, 0u32); 5];
    for i in order {
        bufs[i] = (fields[i].len() as u16, off as u32);
        payload.extend_from_slice(fields[i]);
        off += fields[i].len();
    }
    for (len, o) in &bufs {
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&o.to_le_bytes());
    }
    head.extend_from_slice(&[0u8; 8]); // session key (empty)
    head.extend_from_slice(&0xa288_8205u32.to_le_bytes());
    head.extend_from_slice(&[10, 0, 0x61, 0x4a, 0, 0, 0, 15]);
    head.extend_from_slice(&[0u8; 8]);
    head.extend_from_slice(&payload);
    head
}

fn multipart(boundary: &str, fields: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (n, v) in fields {
        s.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
        ));
    }
    s.push_str(&format!("--{boundary}--\r\n"));
    s
}

fn ws_trust_envelope(security: &str) -> String {
    format!("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://www.w3.org/2005/08/addressing\" xmlns:u=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><s:Header><a:Action s:mustUnderstand=\"1\">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue</a:Action><a:MessageID>urn:uuid:8e3c5a10-0000-4000-8000-00000000a001</a:MessageID><a:To s:mustUnderstand=\"1\">https://sts.contoso.com/adfs/services/trust/13/usernamemixed</a:To><o:Security s:mustUnderstand=\"1\" xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><u:Timestamp u:Id=\"_0\"><u:Created>2026-11-20T07:14:40.120Z</u:Created><u:Expires>2026-11-20T07:24:40.120Z</u:Expires></u:Timestamp>{security}</o:Security></s:Header><s:Body><trust:RequestSecurityToken xmlns:trust=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\"><wsp:AppliesTo xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2004/09/policy\"><a:EndpointReference><a:Address>urn:federation:MicrosoftOnline</a:Address></a:EndpointReference></wsp:AppliesTo><trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType><trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType></trust:RequestSecurityToken></s:Body></s:Envelope>")
}

fn adfs_request(p: &mut Plant, url: &str, body: String) {
    p.process = OUTLOOK;
    p.method = "POST".into();
    p.url = url.into();
    p.req_headers = h(&[
        ("Content-Type", "application/soap+xml; charset=utf-8"),
        ("client-request-id", "0c2b1a44-0000-4000-8000-00000000a001"),
        ("return-client-request-id", "true"),
        ("x-client-SKU", "PCL.Desktop"),
        ("x-client-Ver", "3.19.8.16603"),
        ("Host", "sts.contoso.com"),
        (BODY_HEADERS, ""),
        ("Expect", "100-continue"),
        ("Connection", "Keep-Alive"),
    ]);
    p.req_body = body.into_bytes();
    p.status = 500;
    p.reason = "Internal Server Error".into();
    p.resp_headers = h(&[
        ("Content-Type", "application/soap+xml; charset=utf-8"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Date", "Fri, 20 Nov 2026 07:14:41 GMT"),
        (BODY_HEADERS, ""),
    ]);
    p.resp_body = b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:a=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">a:FailedAuthentication</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">MSIS7068: Access denied.</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>".to_vec();
}

pub(super) fn saml_xml(sig: &str) -> String {
    format!("<samlp:Response ID=\"_7c1e8f0e-0000-4000-8000-5a3d0b1c2e4f\" Version=\"2.0\" IssueInstant=\"2026-11-20T07:14:40.120Z\" Destination=\"https://login.microsoftonline.com/login.srf\" xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><Issuer xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\">http://sts.contoso.com/adfs/services/trust</Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\" /></samlp:Status><Assertion ID=\"_a1b2c3d4-0000-4000-8000-0123456789ab\" IssueInstant=\"2026-11-20T07:14:40.120Z\" Version=\"2.0\" xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\"><Issuer>http://sts.contoso.com/adfs/services/trust</Issuer><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignatureValue>{sig}</ds:SignatureValue></ds:Signature><Subject><NameID>user@contoso.com</NameID></Subject></Assertion></samlp:Response>")
}

/// A plant without a secret: an autodiscover answer whose framing, or whose SAZ's zip
/// metadata, carries the secret instead.
pub const CARRIER: &str = "carrier/autodiscover-json";

/// Names of every plant, in order (each builds with [`build`]).
pub const NAMES: &[&str] = &[
    "at-jwt/authorization-header",
    "at-jwt/token-response-json",
    "at-jwt/json-u002e-dots",
    "at-jwt/unknown-header",
    "at-jwt/header-folded",
    "at-jwt/websocket-text",
    "at-jwt/websocket-binary",
    "at-opaque/unknown-header-high-entropy",
    "at-opaque/bearer-in-json-quoted",
    "at-opaque/long-url-query",
    "refresh-token/form-body",
    "refresh-token/json-snake",
    "refresh-token/json-camel",
    "refresh-token/json-escaped-key",
    "refresh-token/pct-encoded-key",
    "refresh-token/excerpt-cut",
    "refresh-token/utf16-body",
    "id-token/signature-json",
    "id-token/html-form-post",
    "auth-code/query-long",
    "auth-code/query-short",
    "auth-code/location-header",
    "auth-code/fragment",
    "auth-code/json-u0026",
    "auth-code/html-entity-61",
    "auth-code/html-form-post",
    "client-secret/form-body",
    "client-secret/json-camel",
    "client-secret/multipart",
    "password/form-body",
    "password/basic-header",
    "password/basic-in-json-quoted",
    "password/multipart",
    "password/ws-trust",
    "password/url-userinfo",
    "password/x-autoauth-flag",
    "password/non-utf8-value",
    "estsauth/set-cookie",
    "estsauthpersistent/set-cookie-joined",
    "estsauth/cookie",
    "estsauth/cookie2",
    "estsauth/nameless-cookie",
    "saml/samlresponse-form",
    "saml/wresult-form",
    "saml/html-form-post",
    "ntlm/authenticate-header",
    "kerberos/negotiate-header",
    "kerberos/ws-trust-binarysecuritytoken",
    "ctfdata/mimecontent-base64",
    "ctfdata/query",
    "ctkip/activation-code-json",
    "ctkip/activation-code-xml",
    "jwe/token-response",
    "jwe/authorization-header",
    "dsso-token/autologon-bare-body",
];

/// Builds plant `name` holding `secret`; `None` for an unknown name.
pub fn build(name: &str, secret: &str, c: &mut Ctx) -> Option<Plant> {
    let full: &'static str = NAMES
        .iter()
        .chain(&[CARRIER])
        .copied()
        .find(|n| *n == name)?;
    let (kind, place) = full.split_once('/')?;
    let mut p = plant(kind, place, OUTLOOK);
    let s = secret;
    let now = c.now;
    match name {
        "at-jwt/authorization-header" => {
            let t = user_token("https://outlook.office365.com", OFFICE_CLIENT, now, s);
            ews_request(&mut p, c, &format!("Bearer {t}"));
        }
        "at-jwt/token-response-json" => {
            let rt = format!("0.AXoA{}", c.base62(180));
            token_request(
                &mut p,
                c,
                "/common/oauth2/token",
                "application/x-www-form-urlencoded",
                form(&[
                    ("resource", "https://outlook.office365.com"),
                    ("client_id", OFFICE_CLIENT),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                ])
                .into_bytes(),
            );
            let t = user_token("https://outlook.office365.com", OFFICE_CLIENT, now, s);
            let body = token_json(c, &t, &rt, &id_token(now));
            json_response(&mut p, c, body);
            p.side = Side::Response;
        }
        "at-jwt/json-u002e-dots" => {
            let t = user_token("https://outlook.office365.com", OFFICE_CLIENT, now, s)
                .replace('.', "\\u002e");
            let rt = format!("0.AXoA{}", c.base62(180));
            token_request(
                &mut p,
                c,
                "/common/oauth2/token",
                "application/x-www-form-urlencoded",
                form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]).into_bytes(),
            );
            let body = token_json(c, &t, &rt, &id_token(now));
            json_response(&mut p, c, body);
            p.side = Side::Response;
        }
        "at-jwt/unknown-header" | "at-jwt/header-folded" => {
            let t = user_token("https://outlook.office365.com", OFFICE_CLIENT, now, s);
            let at = c.at();
            ews_request(&mut p, c, &format!("Bearer {at}"));
            if name.ends_with("folded") {
                // The Bearer scheme on the first line, the token on a continuation line.
                for (n, v) in p.req_headers.iter_mut() {
                    if n == "Authorization" {
                        *v = format!("Bearer\r\n {t}");
                    }
                }
                p.formats = Formats::Saz;
            } else {
                p.req_headers.insert(5, ("X-Ms-Client-Token".into(), t));
            }
        }
        "at-jwt/websocket-text" | "at-jwt/websocket-binary" => {
            let t = user_token("https://outlook.office365.com", OFFICE_CLIENT, now, s);
            websocket(&mut p, c);
            let msg = format!(
                "{{\"protocol\":\"json\",\"version\":1,\"type\":\"Authenticate\",\"accessToken\":\"{t}\"}}\u{1e}"
            );
            let text = name.ends_with("text");
            p.ws = vec![
                WsMessage {
                    from_client: true,
                    text,
                    data: msg.into_bytes(),
                },
                WsMessage {
                    from_client: false,
                    text: true,
                    data: b"{\"type\":3,\"invocationId\":\"0\",\"result\":true}\x1e".to_vec(),
                },
            ];
        }
        "at-opaque/unknown-header-high-entropy" => {
            let at = c.at();
            ews_request(&mut p, c, &format!("Bearer {at}"));
            p.req_headers
                .insert(6, ("X-OWA-SessionKey".into(), s.into()));
        }
        "at-opaque/bearer-in-json-quoted" => {
            telemetry_post(&mut p, &format!("{{\"request\":{{\"url\":\"{EWS}\",\"headers\":{{\"Authorization\":\"Bearer {s}\"}}}},\"status\":401}}"));
        }
        "at-opaque/long-url-query" => {
            let pad: String = (0..12)
                .map(|i| format!("&x{i}={}", "abcdefghij".repeat(3)))
                .collect();
            edge_get(
                &mut p,
                &format!("https://outlook.office.com/owa/auth.owa?client_id={OFFICE_CLIENT}{pad}&access_token={s}"),
                None,
            );
            p.resp_headers = entra_headers(c, "text/html; charset=utf-8", &[]);
            p.resp_body = b"<html><body>OK</body></html>".to_vec();
        }
        "refresh-token/form-body" => {
            token_request(
                &mut p,
                c,
                "/common/oauth2/token",
                "application/x-www-form-urlencoded",
                form(&[
                    ("resource", "https://outlook.office365.com"),
                    ("client_id", OFFICE_CLIENT),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", s),
                    ("scope", "openid"),
                ])
                .into_bytes(),
            );
            let (at, rt) = (c.at(), format!("0.AXoA{}", c.base62(180)));
            let body = token_json(c, &at, &rt, &id_token(now));
            json_response(&mut p, c, body);
            p.side = Side::Request;
        }
        "refresh-token/json-snake"
        | "refresh-token/json-camel"
        | "refresh-token/json-escaped-key"
        | "refresh-token/excerpt-cut"
        | "refresh-token/utf16-body" => {
            let code = format!("0.AXoA{}", c.base62(300));
            token_request(
                &mut p,
                c,
                "/common/oauth2/token",
                "application/x-www-form-urlencoded",
                form(&[
                    ("resource", "https://outlook.office365.com"),
                    ("client_id", OFFICE_CLIENT),
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
                ])
                .into_bytes(),
            );
            let at = c.at();
            let body = match place {
                "json-snake" => token_json(c, &at, s, &id_token(now)),
                "json-camel" => format!("{{\"tokenType\":\"Bearer\",\"expiresIn\":3599,\"accessToken\":\"{at}\",\"refreshToken\":\"{s}\",\"familyId\":\"1\"}}"),
                "json-escaped-key" => format!("{{\"token_type\":\"Bearer\",\"access\\u005ftoken\":\"{at}\",\"refresh\\u005ftoken\":\"{s}\"}}"),
                "excerpt-cut" => {
                    // `refresh_token`'s value straddles byte 16 KiB of the body.
                    let head = "{\"token_type\":\"Bearer\",\"correlation_id\":\"x\",\"trace\":\"";
                    let key = "\",\"refresh_token\":\"";
                    let fill = (16 * 1024 - head.len() - key.len()).saturating_sub(s.len() / 2);
                    format!("{head}{}{key}{s}\",\"access_token\":\"{at}\"}}", "a".repeat(fill))
                }
                _ => token_json(c, &at, s, &id_token(now)),
            };
            json_response(&mut p, c, body);
            if place == "utf16-body" {
                let text = String::from_utf8_lossy(&p.resp_body).into_owned();
                let mut b = vec![0xff, 0xfe];
                b.extend(utf16(&text));
                p.resp_body = b;
                for (n, v) in p.resp_headers.iter_mut() {
                    if n == "Content-Type" {
                        *v = "application/json; charset=utf-16".into();
                    }
                }
            }
            p.side = Side::Response;
        }
        "refresh-token/pct-encoded-key" => {
            let body = format!(
                "client_id={OFFICE_CLIENT}&grant_type=refresh_token&refresh%5Ftoken={s}&resource={}",
                form_encode("https://outlook.office365.com")
            );
            token_request(
                &mut p,
                c,
                "/common/oauth2/token",
                "application/x-www-form-urlencoded",
                body.into_bytes(),
            );
            json_response(
                &mut p,
                c,
                "{\"error\":\"invalid_request\",\"error_description\":\"AADSTS900144: The request body must contain the following parameter: 'refresh_token'.\",\"error_codes\":[900144]}".into(),
            );
            p.status = 400;
            p.reason = "Bad Request".into();
            p.side = Side::Request;
        }
        "id-token/signature-json" => {
            let rt0 = format!("0.AXoA{}", c.base62(180));
            token_request(
                &mut p,
                c,
                "/common/oauth2/token",
                "application/x-www-form-urlencoded",
                form(&[("grant_type", "refresh_token"), ("refresh_token", &rt0)]).into_bytes(),
            );
            let idt = {
                let t = id_token(now);
                let cut = t.rfind('.').unwrap_or(t.len());
                format!("{}.{s}", &t[..cut])
            };
            let (at, rt) = (c.at(), format!("0.AXoA{}", c.base62(180)));
            let body = token_json(c, &at, &rt, &idt);
            json_response(&mut p, c, body);
            p.side = Side::Response;
        }
        "id-token/html-form-post" | "auth-code/html-form-post" => {
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/common/login"),
                "application/x-www-form-urlencoded",
                form(&[("login", USER), ("ps", "2")]).into_bytes(),
                Some("x-ms-gateway-slice=estsfd; stsservicecookie=estsfd"),
            );
            let (code, idt) = if place.starts_with("html") && kind == "auth-code" {
                (
                    s.to_string(),
                    format!(
                        "{}.{}",
                        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0",
                        c.base62(342)
                    ),
                )
            } else {
                (format!("0.AXoA{}", c.base62(300)), {
                    let t = id_token(now);
                    let cut = t.rfind('.').unwrap_or(t.len());
                    format!("{}.{s}", &t[..cut])
                })
            };
            let body = format!("<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://outlook.office.com/owa/\"><input type=\"hidden\" name=\"code\" value=\"{code}\" /><input type=\"hidden\" name=\"id_token\" value=\"{idt}\" /><input type=\"hidden\" name=\"state\" value=\"st-8841\" /><input type=\"hidden\" name=\"session_state\" value=\"0f4d1b2e-0000-4000-8000-00000000c0de\" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">document.forms[0].submit();</script></body></html>");
            html_response(&mut p, c, body, &[]);
            p.side = Side::Response;
        }
        "auth-code/query-long" | "auth-code/query-short" => {
            edge_get(
                &mut p,
                &format!("https://outlook.office.com/owa/?code={s}&state=st-8841&session_state=0f4d1b2e-0000-4000-8000-00000000c0de"),
                None,
            );
            p.resp_headers = entra_headers(c, "text/html; charset=utf-8", &[]);
            p.resp_body = b"<html><body>Loading...</body></html>".to_vec();
        }
        "auth-code/location-header" | "auth-code/fragment" => {
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/common/login"),
                "application/x-www-form-urlencoded",
                form(&[("login", USER), ("ps", "2")]).into_bytes(),
                Some("x-ms-gateway-slice=estsfd"),
            );
            let loc = if place == "fragment" {
                format!("https://outlook.office.com/mail/#code={s}&state=st-8841&session_state=0f4d1b2e")
            } else {
                format!("urn:ietf:wg:oauth:2.0:oob?code={s}&session_state=0f4d1b2e-0000-4000-8000-00000000c0de")
            };
            html_response(&mut p, c, String::new(), &[]);
            p.status = 302;
            p.reason = "Found".into();
            let at = p.resp_headers.len() - 1;
            p.resp_headers.insert(at, ("Location".into(), loc));
            p.resp_body = b"<html><head><title>Object moved</title></head><body><h2>Object moved to <a href=\"#\">here</a>.</h2></body></html>".to_vec();
        }
        "auth-code/json-u0026" => {
            edge_get(
                &mut p,
                &format!("https://{LOGIN}/common/oauth2/authorize?client_id={OFFICE_CLIENT}&response_type=code&prompt=select_account"),
                Some("x-ms-gateway-slice=estsfd"),
            );
            let body = format!("<!DOCTYPE html><html><head><title>Sign in to your account</title><script type=\"text/javascript\">//<![CDATA[\n$Config={{\"fShowPersistentCookiesWarning\":false,\"urlMsaSignUp\":\"https://login.live.com/oauth20_authorize.srf?scope=openid\\u0026response_type=code\",\"urlPost\":\"https://outlook.office.com/owa/?state=st-8841\\u0026code={s}\\u0026session_state=0f4d1b2e\",\"iMaxStackForKnockoutAsyncComponents\":10000,\"sCtx\":\"rQQIARAA\"}};\n//]]></script></head><body></body></html>");
            html_response(&mut p, c, body, &[]);
            p.side = Side::Response;
        }
        "auth-code/html-entity-61" => {
            edge_get(&mut p, &format!("https://{LOGIN}/common/reprocess"), None);
            let body = format!("<html><body><a href=\"https://outlook.office.com/owa/?state=st-8841&amp;code&#61;{s}&amp;session_state&#61;0f4d1b2e\">Continue</a></body></html>");
            html_response(&mut p, c, body, &[]);
            p.side = Side::Response;
        }
        "client-secret/form-body" => {
            token_request(
                &mut p,
                c,
                &format!("/{TENANT_GUID}/oauth2/v2.0/token"),
                "application/x-www-form-urlencoded",
                form(&[
                    ("client_id", "6731de76-14a6-49ae-97bc-6eba6914391e"),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("client_secret", s),
                    ("grant_type", "client_credentials"),
                ])
                .into_bytes(),
            );
            let at = c.at();
            json_response(&mut p, c, format!("{{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"{at}\"}}"));
            p.side = Side::Request;
        }
        "client-secret/json-camel" => {
            token_request(
                &mut p,
                c,
                &format!("/{TENANT_GUID}/oauth2/v2.0/token"),
                "application/json",
                format!("{{\"clientId\":\"6731de76-14a6-49ae-97bc-6eba6914391e\",\"clientSecret\":\"{s}\",\"scope\":\"https://graph.microsoft.com/.default\"}}").into_bytes(),
            );
            json_response(&mut p, c, "{\"error\":\"invalid_request\",\"error_description\":\"AADSTS900144: The request body must contain the following parameter: 'grant_type'.\",\"error_codes\":[900144]}".into());
            p.status = 400;
            p.reason = "Bad Request".into();
            p.side = Side::Request;
        }
        "client-secret/multipart" | "password/multipart" => {
            let field = if kind == "password" {
                "password"
            } else {
                "client_secret"
            };
            let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
            let body = multipart(
                boundary,
                &[
                    ("client_id", "6731de76-14a6-49ae-97bc-6eba6914391e"),
                    ("username", USER),
                    (field, s),
                    ("grant_type", "password"),
                ],
            );
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/{TENANT_GUID}/oauth2/token"),
                &format!("multipart/form-data; boundary={boundary}"),
                body.into_bytes(),
                None,
            );
            let at = c.at();
            json_response(
                &mut p,
                c,
                format!(
                    "{{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"{at}\"}}"
                ),
            );
            p.side = Side::Request;
        }
        "password/form-body" => {
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/common/login"),
                "application/x-www-form-urlencoded",
                form(&[
                    ("i13", "0"),
                    ("login", USER),
                    ("loginfmt", USER),
                    ("type", "11"),
                    ("LoginOptions", "3"),
                    ("passwd", s),
                    ("ps", "2"),
                    ("flowToken", "AQABAAEAAAD--DLA3VO7QrddgJg7WevrFlowStandIn"),
                ])
                .into_bytes(),
                Some("x-ms-gateway-slice=estsfd; stsservicecookie=estsfd"),
            );
            html_response(
                &mut p,
                c,
                "<html><body>Signed in.</body></html>".into(),
                &[],
            );
            p.side = Side::Request;
        }
        "password/basic-header" => {
            let cred = STANDARD.encode(format!("{USER}:{s}"));
            ews_request(&mut p, c, &format!("Basic {cred}"));
        }
        "password/basic-in-json-quoted" => {
            let cred = STANDARD.encode(format!("{USER}:{s}"));
            telemetry_post(&mut p, &format!("{{\"request\":{{\"url\":\"{EWS}\",\"headers\":{{\"Authorization\":\"Basic {cred}\"}}}},\"status\":401}}"));
        }
        "password/ws-trust" => {
            let sec = format!("<o:UsernameToken u:Id=\"uuid-6a3b0c2e-0000-4000-8000-00000000a001-1\"><o:Username>{USER}</o:Username><o:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">{s}</o:Password></o:UsernameToken>");
            adfs_request(
                &mut p,
                "https://sts.contoso.com/adfs/services/trust/13/usernamemixed",
                ws_trust_envelope(&sec),
            );
            p.side = Side::Request;
        }
        "password/url-userinfo" => {
            ews_request(
                &mut p,
                c,
                "Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==",
            );
            p.url =
                format!("https://user%40contoso.com:{s}@outlook.office365.com/EWS/Exchange.asmx");
        }
        "password/x-autoauth-flag" => {
            let at = c.at();
            ews_request(&mut p, c, &format!("Bearer {at}"));
            p.flags
                .push(("x-AutoAuth".into(), format!("CONTOSO\\user:{s}")));
            p.formats = Formats::Saz;
        }
        "password/non-utf8-value" => {
            let mut body =
                form(&[("login", USER), ("loginfmt", USER), ("type", "11")]).into_bytes();
            body.extend_from_slice(b"&passwd=caf\xe9");
            body.extend_from_slice(s.as_bytes());
            body.extend_from_slice(b"&ps=2");
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/common/login"),
                "application/x-www-form-urlencoded; charset=windows-1252",
                body,
                None,
            );
            html_response(
                &mut p,
                c,
                "<html><body>Signed in.</body></html>".into(),
                &[],
            );
            p.side = Side::Request;
        }
        "estsauth/set-cookie" | "estsauthpersistent/set-cookie-joined" => {
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/common/login"),
                "application/x-www-form-urlencoded",
                form(&[("login", USER), ("ps", "2")]).into_bytes(),
                Some("x-ms-gateway-slice=estsfd"),
            );
            let other = c.base62(200);
            let cookies = if kind == "estsauth" {
                vec![
                    format!("ESTSAUTH={s}; path=/; secure; HttpOnly; SameSite=None"),
                    format!("ESTSAUTHPERSISTENT={other}; expires=Sun, 20-Dec-2026 07:16:00 GMT; path=/; secure; HttpOnly; SameSite=None"),
                ]
            } else {
                vec![
                    format!("ESTSAUTH={other}; path=/; secure; HttpOnly; SameSite=None"),
                    format!("ESTSAUTHPERSISTENT={s}; expires=Sun, 20-Dec-2026 07:16:00 GMT; path=/; secure; HttpOnly; SameSite=None"),
                ]
            };
            html_response(
                &mut p,
                c,
                "<html><body>Signed in.</body></html>".into(),
                &cookies,
            );
            if kind != "estsauth" {
                p.har_tweak = HarTweak::JoinSetCookie;
            }
        }
        "estsauth/cookie" | "estsauth/cookie2" | "estsauth/nameless-cookie" => {
            let (hname, value) = match place {
                "cookie" => (
                    "Cookie",
                    format!(
                        "buid=0.AXoA{}; ESTSAUTH={s}; x-ms-gateway-slice=estsfd",
                        c.base62(40)
                    ),
                ),
                "cookie2" => ("Cookie2", format!("$Version=1; ESTSAUTH={s}")),
                _ => (
                    "Cookie",
                    format!("x-ms-gateway-slice=estsfd; {s}; stsservicecookie=estsfd"),
                ),
            };
            edge_get(
                &mut p,
                &format!("https://{LOGIN}/common/oauth2/authorize?client_id={OFFICE_CLIENT}&response_type=code"),
                None,
            );
            p.req_headers.push((hname.into(), value));
            html_response(
                &mut p,
                c,
                "<html><body>Redirecting...</body></html>".into(),
                &[],
            );
        }
        "saml/samlresponse-form" => {
            let b = STANDARD.encode(saml_xml(s));
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/login.srf"),
                "application/x-www-form-urlencoded",
                form(&[("SAMLResponse", &b), ("RelayState", "st-8841")]).into_bytes(),
                None,
            );
            html_response(
                &mut p,
                c,
                "<html><body>Working...</body></html>".into(),
                &[],
            );
            p.side = Side::Request;
        }
        "saml/wresult-form" => {
            let wresult = format!("<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\"><t:Lifetime><wsu:Created xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">2026-11-20T07:14:40.120Z</wsu:Created></t:Lifetime><t:RequestedSecurityToken><saml:Assertion MajorVersion=\"1\" MinorVersion=\"1\" AssertionID=\"_a1b2c3d4\" Issuer=\"http://sts.contoso.com/adfs/services/trust\" xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignatureValue>{s}</ds:SignatureValue></ds:Signature></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>");
            edge_post(
                &mut p,
                &format!("https://{LOGIN}/login.srf"),
                "application/x-www-form-urlencoded",
                form(&[
                    ("wa", "wsignin1.0"),
                    ("wresult", &wresult),
                    ("wctx", "LoginOptions=3"),
                ])
                .into_bytes(),
                None,
            );
            html_response(
                &mut p,
                c,
                "<html><body>Working...</body></html>".into(),
                &[],
            );
            p.side = Side::Request;
        }
        "saml/html-form-post" => {
            let b = STANDARD.encode(saml_xml(s));
            edge_get(&mut p, "https://sts.contoso.com/adfs/ls/?SAMLRequest=fZFNT8MwDIbvSPyHKvc2bRkIRWunwTRp0lCnbnDgFhKvNEmTtU7G%2BPe0sImJA0fbrx%2F79XQ2O%2Fc6OmNKrrUdEnypJVjWLmyB0jWYAIV%2BbCEn&RelayState=st-8841", None);
            let body = format!("<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://login.microsoftonline.com/login.srf\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{b}\" /><input type=\"hidden\" name=\"RelayState\" value=\"st-8841\" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>");
            p.resp_headers = h(&[
                ("Cache-Control", "no-cache"),
                ("Pragma", "no-cache"),
                ("Content-Type", "text/html; charset=utf-8"),
                ("Expires", "-1"),
                ("Server", "Microsoft-HTTPAPI/2.0"),
                ("Date", &now.http_date()),
                (BODY_HEADERS, ""),
            ]);
            p.resp_body = body.into_bytes();
            p.side = Side::Response;
        }
        "ntlm/authenticate-header" => {
            let blob = ntlm_authenticate(c, s);
            ews_request(&mut p, c, &format!("NTLM {}", STANDARD.encode(blob)));
        }
        "kerberos/negotiate-header" => {
            let blob = kerberos_ap_req(c, s);
            ews_request(&mut p, c, &format!("Negotiate {}", STANDARD.encode(blob)));
        }
        "kerberos/ws-trust-binarysecuritytoken" => {
            let blob = kerberos_ap_req(c, s);
            let sec = format!("<o:BinarySecurityToken ValueType=\"http://docs.oasis-open.org/wss/oasis-wss-kerberos-token-profile-1.1#GSS_Kerberosv5_AP_REQ\" EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary\" u:Id=\"uuid-kerb-1\">{}</o:BinarySecurityToken>", STANDARD.encode(blob));
            adfs_request(
                &mut p,
                "https://sts.contoso.com/adfs/services/trust/13/windowstransport",
                ws_trust_envelope(&sec),
            );
            p.side = Side::Request;
        }
        "ctfdata/mimecontent-base64" => {
            let at = c.at();
            ews_request(&mut p, c, &format!("Bearer {at}"));
            p.req_body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><soap:Body><m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape><m:ItemIds><t:ItemId Id=\"AAMkADk0\" /></m:ItemIds></m:GetItem></soap:Body></soap:Envelope>".to_vec();
            let mime = format!("From: RSA SecurID <securid@contoso.com>\r\nTo: {USER}\r\nSubject: Your software token\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\nTap the link on your phone to import your token:\r\ncom.rsa.securid.iphone://ctf?ctfData={s}\r\n");
            let body = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:GetItemResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages><m:GetItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message><t:MimeContent CharacterSet=\"UTF-8\">{}</t:MimeContent><t:ItemId Id=\"AAMkADk0\" ChangeKey=\"CQAAABYA\" /></t:Message></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>", STANDARD.encode(mime));
            p.resp_body = body.into_bytes();
            p.side = Side::Response;
        }
        "ctfdata/query" => {
            edge_get(
                &mut p,
                &format!("https://securid.contoso.com/import?ctfData={s}&v=4"),
                None,
            );
            p.resp_headers = entra_headers(c, "text/html; charset=utf-8", &[]);
            p.resp_body = b"<html><body>Open the link on your phone.</body></html>".to_vec();
        }
        "ctkip/activation-code-json" => {
            token_request(
                &mut p,
                c,
                "/ctkip/provision",
                "application/json",
                b"{\"deviceId\":\"WS-0042\",\"tokenType\":\"software\"}".to_vec(),
            );
            p.url = "https://ctkip.contoso.com/ctkip/services/CtkipService".into();
            for (n, v) in p.req_headers.iter_mut() {
                if n == "Host" {
                    *v = "ctkip.contoso.com".into();
                }
            }
            json_response(&mut p, c, format!("{{\"serviceUrl\":\"https://ctkip.contoso.com/ctkip/services/CtkipService\",\"activationCode\":\"{s}\",\"userId\":\"{USER}\"}}"));
            p.side = Side::Response;
        }
        "ctkip/activation-code-xml" => {
            token_request(&mut p, c, "/ctkip", "text/xml; charset=utf-8", format!("<?xml version=\"1.0\"?><ClientHello xmlns=\"urn:ietf:params:xml:ns:keyprov:ct-kip\" Version=\"1.0\"><SupportedKeyTypes><Algorithm>http://www.rsasecurity.com/rsalabs/otps/schemas/2005/09/otps-wst#SecurID-AES</Algorithm></SupportedKeyTypes><AuthenticationData><ClientID>{USER}</ClientID><ActivationCode>{s}</ActivationCode></AuthenticationData></ClientHello>").into_bytes());
            p.url = "https://ctkip.contoso.com/ctkip/services/CtkipService".into();
            for (n, v) in p.req_headers.iter_mut() {
                if n == "Host" {
                    *v = "ctkip.contoso.com".into();
                }
            }
            json_response(&mut p, c, "{\"status\":\"Continue\"}".into());
            p.side = Side::Request;
        }
        "jwe/token-response" | "jwe/authorization-header" => {
            let hdr = URL_SAFE_NO_PAD.encode(br#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"nOo3ZDrODXEK1jKWhXslHR_KXEg","zip":"DEF"}"#);
            let jwe = format!(
                "{hdr}.{}.{}.{s}.{}",
                URL_SAFE_NO_PAD.encode(c.bytes(256)),
                URL_SAFE_NO_PAD.encode(c.bytes(12)),
                URL_SAFE_NO_PAD.encode(c.bytes(16))
            );
            if place == "authorization-header" {
                ews_request(&mut p, c, &format!("Bearer {jwe}"));
            } else {
                let rt0 = format!("0.AXoA{}", c.base62(180));
                token_request(
                    &mut p,
                    c,
                    "/common/oauth2/token",
                    "application/x-www-form-urlencoded",
                    form(&[("grant_type", "refresh_token"), ("refresh_token", &rt0)]).into_bytes(),
                );
                let rt = format!("0.AXoA{}", c.base62(180));
                let body = token_json(c, &jwe, &rt, &id_token(now));
                json_response(&mut p, c, body);
                p.side = Side::Response;
            }
        }
        "dsso-token/autologon-bare-body" => {
            // Seamless SSO's answer to a Kerberos ticket: the desktop SSO token, a bare body
            // with no key name (the page posts it to the sign-in as `dssoToken`).
            let crid = c.guid();
            edge_get(
                &mut p,
                &format!("https://autologon.microsoftazuread-sso.com/contoso.com/winauth/sso?client-request-id={crid}"),
                None,
            );
            for (n, v) in p.req_headers.iter_mut() {
                match n.as_str() {
                    "Accept" => *v = "*/*".into(),
                    "Sec-Fetch-Mode" => *v = "cors".into(),
                    "Sec-Fetch-Dest" => *v = "empty".into(),
                    _ => {}
                }
            }
            p.req_headers
                .retain(|(n, _)| n != "Upgrade-Insecure-Requests");
            p.req_headers
                .push(("Origin".into(), "https://login.microsoftonline.com".into()));
            p.resp_headers = h(&[
                ("Cache-Control", "no-store, no-cache"),
                ("Content-Type", "text/plain; charset=utf-8"),
                (
                    "Access-Control-Allow-Origin",
                    "https://login.microsoftonline.com",
                ),
                ("Access-Control-Allow-Credentials", "true"),
                ("Date", &now.http_date()),
                (BODY_HEADERS, ""),
            ]);
            p.resp_body = s.as_bytes().to_vec();
            p.side = Side::Response;
        }
        CARRIER => {
            p.url = format!("https://outlook.office365.com/autodiscover/autodiscover.json/v1.0/{USER}?Protocol=EWS");
            let crid = c.guid();
            p.req_headers = h(&[
                ("Accept", "application/json"),
                ("User-Agent", OUTLOOK_UA),
                ("X-AnchorMailbox", USER),
                ("client-request-id", &crid),
                ("Host", "outlook.office365.com"),
                ("Connection", "Keep-Alive"),
            ]);
            ews_response(&mut p, c, b"{\"Protocol\":\"EWS\",\"Url\":\"https://outlook.office365.com/EWS/Exchange.asmx\"}".to_vec());
            for (n, v) in p.resp_headers.iter_mut() {
                if n == "Content-Type" {
                    *v = "application/json; charset=utf-8".into();
                }
            }
            p.side = Side::Response;
        }
        _ => return None,
    }
    Some(p)
}

/// Teams' client log upload (JSON quoting a request it made).
fn telemetry_post(p: &mut Plant, body: &str) {
    p.process = "ms-teams:9100";
    p.method = "POST".into();
    p.url = "https://browser.events.data.microsoft.com/OneCollector/1.0/".into();
    p.req_headers = h(&[
        ("Host", "browser.events.data.microsoft.com"),
        ("Connection", "keep-alive"),
        ("Content-Type", "application/json"),
        ("User-Agent", EDGE_UA),
        ("client-id", "NO_AUTH"),
        (BODY_HEADERS, ""),
        ("Accept", "*/*"),
    ]);
    p.req_body = body.as_bytes().to_vec();
    p.status = 200;
    p.resp_headers = h(&[
        ("Content-Type", "application/json"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Date", "Fri, 20 Nov 2026 07:14:41 GMT"),
        (BODY_HEADERS, ""),
    ]);
    p.resp_body = b"{\"acc\":1}".to_vec();
    p.side = Side::Request;
}

/// A websocket upgrade to Outlook's notification hub.
fn websocket(p: &mut Plant, c: &mut Ctx) {
    p.process = "olk:5120";
    p.method = "GET".into();
    p.url = "https://outlook.office.com/notificationhub/?cid=0f4d1b2e&X-AnchorMailbox=user%40contoso.com".into();
    let key = STANDARD.encode(c.bytes(16));
    p.req_headers = h(&[
        ("Host", "outlook.office.com"),
        ("Connection", "Upgrade"),
        ("Pragma", "no-cache"),
        ("Cache-Control", "no-cache"),
        ("User-Agent", EDGE_UA),
        ("Upgrade", "websocket"),
        ("Origin", "https://outlook.office.com"),
        ("Sec-WebSocket-Version", "13"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Sec-WebSocket-Key", &key),
    ]);
    p.status = 101;
    p.reason = "Switching Protocols".into();
    p.resp_headers = h(&[
        ("Upgrade", "websocket"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ("Connection", "Upgrade"),
        ("Date", &c.now.http_date()),
    ]);
    p.resp_body = Vec::new();
}

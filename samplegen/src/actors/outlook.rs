//! Outlook for Windows (16.0, ADAL and WAM) and other Exchange clients.

use crate::actors::{hdrs, OFFICE_CLIENT, USER};
use crate::model::{host_of, Body, Coding, Framing, Request, BODY_HEADERS};
use crate::wire::{form, form_encode};

/// Outlook's User-Agent.
pub const OUTLOOK_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
/// The ADAL embedded browser's User-Agent (IE WebBrowser control inside Outlook).
pub const ADAL_BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; .NET4.0C; .NET4.0E; Tablet PC 2.0; ms-office; MSOffice 16)";
/// ADAL's SKU and version headers.
pub const ADAL_SKU: &str = "PCL.Desktop";
/// ADAL version.
pub const ADAL_VER: &str = "3.19.8.16603";

fn req(method: &str, url: &str, headers: Vec<(String, String)>, body: Option<Body>) -> Request {
    Request {
        method: method.into(),
        url: url.into(),
        version: "HTTP/1.1".into(),
        headers,
        body,
    }
}

/// The POX autodiscover request body for `USER`.
pub fn autodiscover_request_xml() -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>{USER}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>")
}

/// `POST .../autodiscover/autodiscover.xml` (or `GET` when `get`), with `auth` as the
/// `Authorization` value when given.
pub fn autodiscover(url: &str, get: bool, auth: Option<&str>, crid: &str) -> Request {
    let host = host_of(url);
    let mut h = hdrs(&[
        ("Cache-Control", "no-cache"),
        ("Connection", "Keep-Alive"),
        ("Pragma", "no-cache"),
    ]);
    if !get {
        h.push(("Content-Type".into(), "text/xml".into()));
    }
    if let Some(a) = auth {
        h.push(("Authorization".into(), a.into()));
    }
    h.extend(hdrs(&[
        ("User-Agent", OUTLOOK_UA),
        ("X-MS-CookieUri-Requested", "t"),
        ("X-FeatureVersion", "1"),
        ("Client-Request-Id", &format!("{{{crid}}}")),
        ("X-MapiHttpCapability", "1"),
        ("Depth", "0"),
    ]));
    if get {
        h.push(("Content-Length".into(), "0".into()));
    } else {
        h.push((BODY_HEADERS.into(), String::new()));
    }
    h.push(("Host".into(), host));
    let body = (!get).then(|| Body::plain(autodiscover_request_xml()));
    req(if get { "GET" } else { "POST" }, url, h, body)
}

/// An EWS SOAP POST from Outlook (`GetUserOofSettings`).
pub fn ews(url: &str, soap: &str, auth: Option<&str>, crid: &str) -> Request {
    ews_op(url, "GetUserOofSettings", soap, auth, crid)
}

/// An EWS SOAP POST from Outlook for operation `op` (the `SOAPAction`).
pub fn ews_op(url: &str, op: &str, soap: &str, auth: Option<&str>, crid: &str) -> Request {
    let host = host_of(url);
    let action = format!("\"http://schemas.microsoft.com/exchange/services/2006/messages/{op}\"");
    let mut h = hdrs(&[
        ("Cache-Control", "no-cache"),
        ("Connection", "Keep-Alive"),
        ("Pragma", "no-cache"),
        ("Content-Type", "text/xml; charset=utf-8"),
        ("SOAPAction", &action),
        ("User-Agent", OUTLOOK_UA),
    ]);
    if let Some(a) = auth {
        h.push(("Authorization".into(), a.into()));
    }
    h.extend(hdrs(&[
        ("X-MS-CookieUri-Requested", "t"),
        ("X-FeatureVersion", "1"),
        ("client-request-id", crid),
        ("return-client-request-id", "true"),
        ("X-AnchorMailbox", USER),
    ]));
    h.push((BODY_HEADERS.into(), String::new()));
    h.push(("Host".into(), host));
    req("POST", url, h, Some(Body::plain(soap.to_string())))
}

/// A MAPI/HTTP `Connect` POST from Outlook.
pub fn mapi_connect(url: &str, auth: Option<&str>, crid: &str, seq: u32) -> Request {
    let host = host_of(url);
    let mut h = hdrs(&[
        ("Cache-Control", "no-cache"),
        ("Connection", "Keep-Alive"),
        ("Pragma", "no-cache"),
        ("Content-Type", "application/mapi-http"),
        ("User-Agent", OUTLOOK_UA),
    ]);
    if let Some(a) = auth {
        h.push(("Authorization".into(), a.into()));
    }
    h.extend(hdrs(&[
        ("X-RequestType", "Connect"),
        (
            "X-ClientInfo",
            &format!("{{{}}}-{seq}", crid.to_ascii_uppercase()),
        ),
        ("client-request-id", &format!("{{{crid}}}")),
        ("X-ClientApplication", "Outlook/16.0.17928.20114"),
        (
            "X-RequestId",
            &format!("{{{}}}:{seq}", crid.to_ascii_uppercase()),
        ),
        ("X-FeatureVersion", "1"),
    ]));
    h.push((BODY_HEADERS.into(), String::new()));
    h.push(("Host".into(), host));
    // A MAPI Connect request body is binary (ROP buffers); a short fixed stand-in.
    let mut body = b"\x00\x00\x00\x00\x00\x00\x00\x00/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=user\x00".to_vec();
    body.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x09, 0x04, 0x00, 0x00]);
    req("POST", url, h, Some(Body::plain(body)))
}

/// Authority URL prefix: `https://login.microsoftonline.com/common`.
pub fn authority_url(authority: &str, tenant: &str) -> String {
    format!("https://{authority}/{tenant}")
}

/// ADAL's interactive authorize request (embedded browser, inside Outlook).
pub fn adal_authorize(
    authority: &str,
    tenant: &str,
    resource: &str,
    crid: &str,
    cookies: Option<&str>,
) -> Request {
    let url = format!(
        "{}/oauth2/authorize?resource={}&client_id={OFFICE_CLIENT}&response_type=code&haschrome=1&redirect_uri={}&login_hint={}&client-request-id={crid}&x-client-SKU={ADAL_SKU}&x-client-Ver={ADAL_VER}&x-client-CPU=x64&x-client-OS=Microsoft+Windows+NT+10.0.19045.0&site_id=501358&display=popup",
        authority_url(authority, tenant),
        form_encode(resource),
        form_encode("urn:ietf:wg:oauth:2.0:oob"),
        form_encode(USER),
    );
    let mut h = hdrs(&[
        ("Accept", "text/html, application/xhtml+xml, image/jxr, */*"),
        ("Accept-Language", "en-US"),
        ("User-Agent", ADAL_BROWSER_UA),
        ("Accept-Encoding", "gzip, deflate"),
        ("Host", authority),
        ("Connection", "Keep-Alive"),
    ]);
    if let Some(c) = cookies {
        h.push(("Cookie".into(), c.into()));
    }
    req("GET", &url, h, None)
}

fn token_request(authority: &str, tenant: &str, crid: &str, body: String) -> Request {
    let h = hdrs(&[
        ("Accept", "application/json"),
        ("x-client-SKU", ADAL_SKU),
        ("x-client-Ver", ADAL_VER),
        ("x-client-CPU", "x64"),
        ("x-client-OS", "Microsoft Windows NT 10.0.19045.0"),
        ("x-ms-PKeyAuth", "1.0"),
        ("client-request-id", crid),
        ("return-client-request-id", "true"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Host", authority),
        (BODY_HEADERS, ""),
        ("Expect", "100-continue"),
        ("Connection", "Keep-Alive"),
    ]);
    req(
        "POST",
        &format!("{}/oauth2/token", authority_url(authority, tenant)),
        h,
        Some(Body::plain(body)),
    )
}

/// ADAL redeems an authorization code.
pub fn adal_token_code(
    authority: &str,
    tenant: &str,
    resource: &str,
    code: &str,
    crid: &str,
) -> Request {
    let body = form(&[
        ("resource", resource),
        ("client_id", OFFICE_CLIENT),
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
    ]);
    token_request(authority, tenant, crid, body)
}

/// ADAL's silent refresh with a (multi-resource) refresh token.
pub fn adal_token_refresh(
    authority: &str,
    tenant: &str,
    resource: &str,
    refresh_token: &str,
    crid: &str,
) -> Request {
    let body = form(&[
        ("resource", resource),
        ("client_id", OFFICE_CLIENT),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("scope", "openid"),
    ]);
    token_request(authority, tenant, crid, body)
}

/// WAM (AAD broker plugin) token request carrying a signed `request=` JWT.
pub fn wam_token(authority: &str, tenant: &str, request_jwt: &str, crid: &str) -> Request {
    let body = form(&[
        ("client_id", OFFICE_CLIENT),
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("request", request_jwt),
        ("windows_api_version", "2.0"),
        ("client_info", "1"),
    ]);
    let h = hdrs(&[
        ("Accept", "application/json"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("User-Agent", "Windows-AzureAD-Authentication-Provider/1.0"),
        ("client-request-id", crid),
        ("return-client-request-id", "true"),
        ("x-client-SKU", "Windows-AzureAD-Authentication-Provider"),
        ("x-client-Ver", "10.0.19045"),
        ("x-ms-PKeyAuth", "1.0"),
        (BODY_HEADERS, ""),
        ("Host", authority),
        ("Cache-Control", "no-cache"),
        (
            "Cookie",
            "x-ms-gateway-slice=estsfd; stsservicecookie=estsfd",
        ),
    ]);
    req(
        "POST",
        &format!("{}/oauth2/token", authority_url(authority, tenant)),
        h,
        Some(Body::plain(body)),
    )
}

/// A generic request with a gzip-compressed body (telemetry).
pub fn post_gzip(url: &str, headers: Vec<(String, String)>, body: &[u8]) -> Request {
    req(
        "POST",
        url,
        headers,
        Some(Body::coded(body.to_vec(), Coding::Gzip, Framing::Length)),
    )
}

/// A bodiless request.
pub fn get(url: &str, headers: Vec<(String, String)>) -> Request {
    req("GET", url, headers, None)
}

/// A request with a plain body.
pub fn with_body(
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: impl Into<Vec<u8>>,
) -> Request {
    req(method, url, headers, Some(Body::plain(body)))
}

/// `CONNECT host:443`, with the ClientHello summary Fiddler stores as its body.
pub fn connect(host: &str, ua: Option<&str>) -> Request {
    let mut h = hdrs(&[
        ("Host", &format!("{host}:443")),
        ("Connection", "keep-alive"),
    ]);
    if let Some(ua) = ua {
        h.push(("User-Agent".into(), ua.into()));
    }
    h.push((BODY_HEADERS.into(), String::new()));
    let body = format!("A SSLv3-compatible ClientHello handshake was found. Fiddler extracted the parameters below.\r\n\r\nVersion: 3.3 (TLS/1.2)\r\nRandom: 6A 3D 9F 12 44 0B 7E C1 59 2A 83 D4 1F 60 E7 B2 09 CC 35 78 A1 4E 92 D6 3B 07 F8 6C 25 B9 11 E0\r\n\"Time\": 10/3/2080 4:22:14 AM\r\nSessionID: empty\r\nExtensions: \r\n\tserver_name\t{host}\r\n\tstatus_request\tOCSP - Implicit Responder\r\n\tsupported_groups\t[x25519 [0x1d], secp256r1 [0x17], secp384r1 [0x18]]\r\n\tec_point_formats\tuncompressed [0x0]\r\n\tSignatureAlgorithms\trsa_pss_rsae_sha256, rsa_pss_rsae_sha384, rsa_pss_rsae_sha512, rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha1, ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, ecdsa_sha1, dsa_sha1, rsa_pkcs1_sha512, ecdsa_secp521r1_sha512\r\n\tSessionTicket\tempty\r\n\textended_master_secret\tempty\r\n\trenegotiation_info\t00\r\nCiphers: \r\n\t[C02C]\tTLS1_CK_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\r\n\t[C02B]\tTLS1_CK_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\r\n\t[C030]\tTLS1_CK_ECDHE_RSA_WITH_AES_256_GCM_SHA384\r\n\t[C02F]\tTLS1_CK_ECDHE_RSA_WITH_AES_128_GCM_SHA256\r\n\t[009F]\tTLS_DHE_RSA_WITH_AES_256_GCM_SHA384\r\n\t[009E]\tTLS_DHE_RSA_WITH_AES_128_GCM_SHA256\r\n\t[C024]\tTLS1_CK_ECDHE_ECDSA_WITH_AES_256_SHA384\r\n\t[C023]\tTLS1_CK_ECDHE_ECDSA_WITH_AES_128_SHA256\r\n\t[C028]\tTLS1_CK_ECDHE_RSA_WITH_AES_256_SHA384\r\n\t[C027]\tTLS1_CK_ECDHE_RSA_WITH_AES_128_SHA256\r\n\t[009D]\tTLS_RSA_AES_256_GCM_SHA384\r\n\t[009C]\tTLS_RSA_AES_128_GCM_SHA256\r\n\r\nCompression: \r\n\t[00]\tNO_COMPRESSION\r\n");
    let body = Body {
        data: body.into_bytes(),
        coding: Coding::Identity,
        framing: Framing::Raw,
    };
    req("CONNECT", &format!("{host}:443"), h, Some(body))
}

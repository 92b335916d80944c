//! A compact, deterministic generator of Outlook-like captures for the benchmarks, the batch
//! tests and `scripts/bench.sh` (through `examples/gencaptures.rs`). Included with
//! `#[path = ...] mod capgen;` from each of them, so it depends only on the root crate's own
//! dependencies (zip, flate2, serde_json, chrono).
//!
//! A capture is a stream of sessions: most are EWS / MAPI / telemetry traffic with
//! chunked + gzip bodies (what SAZ readers spend their time inflating), and every
//! `AUTH_EVERY` sessions Outlook goes through the hybrid modern-auth dance: autodiscover
//! -> 401 with a Bearer challenge -> authorize -> token, which ends in AADSTS500011 (the SPN
//! of the on-prem host is missing) or, for a clean capture, in a token. One session in the
//! middle carries a large incompressible body (an OAB download), the "largest entry" that
//! peak memory is compared against.
#![allow(dead_code)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;

/// Sessions between two modern-auth attempts.
pub const AUTH_EVERY: usize = 50;
/// The size of the one large body (an offline address book file).
pub const LARGE_BODY: usize = 1024 * 1024;

pub const OUTLOOK: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
pub const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";

/// What a generated capture shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The on-prem mail domain (`contoso.com`): autodiscover.DOMAIN, mail.DOMAIN.
    pub domain: String,
    /// The tenant in the token endpoint path (a domain or a GUID).
    pub tenant: String,
    /// `true`: AADSTS500011 for the autodiscover resource; `false`: tokens are issued.
    pub spn_missing: bool,
    /// Add the one large body (for memory measurements).
    pub large_body: bool,
}

impl Scenario {
    pub fn broken(domain: &str) -> Scenario {
        Scenario {
            domain: domain.to_string(),
            tenant: domain.to_string(),
            spn_missing: true,
            large_body: true,
        }
    }

    pub fn clean(domain: &str) -> Scenario {
        Scenario {
            spn_missing: false,
            ..Scenario::broken(domain)
        }
    }
}

/// One HTTP exchange, with decoded bodies.
pub struct Exchange {
    pub method: &'static str,
    pub url: String,
    pub req_headers: Vec<(String, String)>,
    pub req_body: Vec<u8>,
    pub status: u16,
    pub reason: &'static str,
    pub resp_headers: Vec<(String, String)>,
    pub resp_body: Vec<u8>,
    /// Send the response chunked + gzip on the wire (SAZ) and say so in the headers.
    pub gzip: bool,
    pub content_type: &'static str,
}

/// A small deterministic PRNG (xorshift64*), so that the same call writes the same bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn h(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
}

fn guid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT-shaped token (never a real one), so redaction has something to remove.
fn fake_jwt(aud: &str, rng: &mut Rng) -> String {
    let head = b64url(br#"{"typ":"JWT","alg":"RS256","x5t":"fake"}"#);
    let body = b64url(
        json!({"aud": aud, "appid": OUTLOOK, "upn": "user@contoso.com"})
            .to_string()
            .as_bytes(),
    );
    let sig: Vec<u8> = (0..64).map(|_| (rng.next() & 0xff) as u8).collect();
    format!("{head}.{body}.{}", b64url(&sig))
}

fn ews_body(rng: &mut Rng) -> Vec<u8> {
    let items = 1 + rng.below(12);
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"2\" MajorBuildNumber=\"1544\" MinorBuildNumber=\"4\" xmlns:h=\"http://schemas.microsoft.com/exchange/services/2006/types\"/></s:Header><s:Body><m:FindItemResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode><m:RootFolder TotalItemsInView=\"",
    );
    s.push_str(&format!(
        "{items}\" IncludesLastItemInRange=\"true\"><t:Items>"
    ));
    for _ in 0..items {
        s.push_str(&format!(
            "<t:Message><t:ItemId Id=\"AAMkAD{:016x}{:016x}AAA=\" ChangeKey=\"CQAAABYAAAD{:08x}\"/><t:Subject>Ticket {} status update</t:Subject><t:DateTimeReceived>2026-11-{:02}T{:02}:{:02}:00Z</t:DateTimeReceived><t:Size>{}</t:Size><t:From><t:Mailbox><t:Name>User {}</t:Name><t:EmailAddress>user{}@contoso.com</t:EmailAddress></t:Mailbox></t:From></t:Message>",
            rng.next(),
            rng.next(),
            rng.next() as u32,
            rng.below(100_000),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            1000 + rng.below(90_000),
            rng.below(500),
            rng.below(500),
        ));
    }
    s.push_str("</t:Items></m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse></s:Body></s:Envelope>");
    s.into_bytes()
}

fn common_request(host: &str) -> Vec<(String, String)> {
    vec![
        h("Host", host),
        h(
            "User-Agent",
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        ),
        h("Accept-Encoding", "gzip, deflate"),
        h("Connection", "keep-alive"),
        h(
            "X-ClientStatistics",
            "ClientRequestId=00000000-0000-0000-0000-000000000000",
        ),
    ]
}

fn common_response() -> Vec<(String, String)> {
    vec![
        h("Cache-Control", "private"),
        h("Server", "Microsoft-IIS/10.0"),
        h("request-id", "6f0a7f3e-4c1b-4f7e-9d2a-0e1f2a3b4c5d"),
        h("X-FEServer", "EXCH01"),
        h("X-Powered-By", "ASP.NET"),
        h("Date", "Fri, 20 Nov 2026 08:15:03 GMT"),
    ]
}

/// The `i`-th exchange (0-based) of a capture of `n`.
pub fn exchange(i: usize, n: usize, s: &Scenario, rng: &mut Rng) -> Exchange {
    let autodiscover = format!("autodiscover.{}", s.domain);
    let mail = format!("mail.{}", s.domain);
    if s.large_body && i == n / 2 && n > 2 {
        let body: Vec<u8> = (0..LARGE_BODY / 8)
            .flat_map(|_| rng.next().to_le_bytes())
            .collect();
        let mut resp = common_response();
        resp.push(h("Content-Length", body.len().to_string()));
        return Exchange {
            method: "GET",
            url: format!("https://{mail}/OAB/2f6bd9a4-1b1c-4d9e-9f0e-5a6b7c8d9e0f/oab.lzx"),
            req_headers: common_request(&mail),
            req_body: Vec::new(),
            status: 200,
            reason: "OK",
            resp_headers: resp,
            resp_body: body,
            gzip: false,
            content_type: "application/octet-stream",
        };
    }
    // A clean capture goes through the dance once and then uses its token.
    let authorised = !s.spn_missing && i >= AUTH_EVERY;
    match (i % AUTH_EVERY, i % 7) {
        (0, _) if authorised => {
            let mut req = common_request(&autodiscover);
            req.push(h(
                "Authorization",
                format!(
                    "Bearer {}",
                    fake_jwt(&format!("https://{autodiscover}"), rng)
                ),
            ));
            req.push(h("Content-Type", "text/xml"));
            Exchange {
                method: "POST",
                url: format!("https://{autodiscover}/autodiscover/autodiscover.xml"),
                req_headers: req,
                req_body: Vec::new(),
                status: 200,
                reason: "OK",
                resp_headers: common_response(),
                resp_body: format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\"><Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\"><User><DisplayName>User</DisplayName><AutoDiscoverSMTPAddress>user@{0}</AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXHTTP</Type><Server>mail.{0}</Server><SSL>On</SSL><AuthPackage>Negotiate</AuthPackage><EwsUrl>https://mail.{0}/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response></Autodiscover>", s.domain).into_bytes(),
                gzip: true,
                content_type: "text/xml; charset=utf-8",
            }
        }
        (0, _) => {
            // Autodiscover: the on-prem challenge of hybrid modern auth.
            let mut resp = common_response();
            resp.push(h(
                "WWW-Authenticate",
                format!(
                    "Bearer client_id=\"{EXCHANGE}\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@{}\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\"",
                    s.tenant
                ),
            ));
            resp.push(h("WWW-Authenticate", "Negotiate"));
            resp.push(h("WWW-Authenticate", "NTLM"));
            resp.push(h("X-MS-Diagnostics", "2000001;reason=\"The token has an invalid signature.\";error_category=\"invalid_token\""));
            let body = b"<html><head><title>401 - Unauthorized</title></head><body>Unauthorized</body></html>".to_vec();
            resp.push(h("Content-Length", body.len().to_string()));
            let mut req = common_request(&autodiscover);
            req.push(h("Authorization", "Bearer"));
            req.push(h("Content-Type", "text/xml"));
            Exchange {
                method: "POST",
                url: format!("https://{autodiscover}/autodiscover/autodiscover.xml"),
                req_headers: req,
                req_body: format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>user@{}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>", s.domain).into_bytes(),
                status: 401,
                reason: "Unauthorized",
                resp_headers: resp,
                resp_body: body,
                gzip: false,
                content_type: "text/html",
            }
        }
        (1, _) if !authorised => {
            let resource = format!("https%3A%2F%2F{autodiscover}");
            let mut req = common_request("login.microsoftonline.com");
            req.push(h("Content-Type", "application/x-www-form-urlencoded"));
            req.push(h("x-client-SKU", "PCL.Desktop"));
            req.push(h("x-client-Ver", "3.19.8.16603"));
            req.push(h("client-request-id", guid(rng)));
            req.push(h("return-client-request-id", "true"));
            let req_body = format!(
                "resource={resource}&client_id={OUTLOOK}&grant_type=refresh_token&refresh_token=0.AXoA{}&scope=openid",
                b64url(&rng.next().to_le_bytes()).repeat(12)
            )
            .into_bytes();
            let mut resp = vec![
                h("Cache-Control", "no-store, no-cache"),
                h("x-ms-request-id", guid(rng)),
                h("x-ms-ests-server", "2.1.19463.4 - NEULR1 ProdSlices"),
            ];
            let (status, reason, body) = if s.spn_missing {
                resp.push(h("x-ms-clitelem", "1,500011,0,,"));
                let trace = guid(rng);
                let corr = guid(rng);
                let body = json!({
                    "error": "invalid_resource",
                    "error_description": format!("AADSTS500011: The resource principal named https://{autodiscover} was not found in the tenant named Contoso Ltd. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: 2026-11-20 08:15:03Z"),
                    "error_codes": [500011],
                    "timestamp": "2026-11-20 08:15:03Z",
                    "trace_id": trace,
                    "correlation_id": corr,
                    "error_uri": "https://login.microsoftonline.com/error?code=500011"
                });
                (400, "Bad Request", body)
            } else {
                let body = json!({
                    "token_type": "Bearer",
                    "scope": "user_impersonation",
                    "expires_in": "4779",
                    "resource": format!("https://{autodiscover}"),
                    "access_token": fake_jwt(&format!("https://{autodiscover}"), rng),
                    "refresh_token": format!("0.AXoA{}", b64url(&rng.next().to_le_bytes()).repeat(20)),
                });
                (200, "OK", body)
            };
            Exchange {
                method: "POST",
                url: format!(
                    "https://login.microsoftonline.com/{}/oauth2/token",
                    s.tenant
                ),
                req_headers: req,
                req_body,
                status,
                reason,
                resp_headers: resp,
                resp_body: body.to_string().into_bytes(),
                gzip: true,
                content_type: "application/json; charset=utf-8",
            }
        }
        (_, 3) => {
            // Office telemetry: a small POST, an empty answer.
            let mut req = common_request("nexus.officeapps.live.com");
            req.push(h("Content-Type", "application/bond-compact-binary"));
            let body: Vec<u8> = (0..(64 + rng.below(512)) as usize)
                .map(|_| (rng.next() & 0xff) as u8)
                .collect();
            Exchange {
                method: "POST",
                url: "https://nexus.officeapps.live.com/nexus/rules?Application=outlook.exe&Version=16.0.17928.20114".to_string(),
                req_headers: req,
                req_body: body,
                status: 204,
                reason: "No Content",
                resp_headers: vec![h("Date", "Fri, 20 Nov 2026 08:15:03 GMT")],
                resp_body: Vec::new(),
                gzip: false,
                content_type: "",
            }
        }
        _ => {
            // EWS with an (already authorised) NTLM/Negotiate session.
            let mut req = common_request(&mail);
            req.push(h("Content-Type", "text/xml; charset=utf-8"));
            req.push(h(
                "SOAPAction",
                "\"http://schemas.microsoft.com/exchange/services/2006/messages/FindItem\"",
            ));
            let req_body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><soap:Body><m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"50\" Offset=\"0\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem></soap:Body></soap:Envelope>".to_vec();
            Exchange {
                method: "POST",
                url: format!("https://{mail}/EWS/Exchange.asmx"),
                req_headers: req,
                req_body,
                status: 200,
                reason: "OK",
                resp_headers: common_response(),
                resp_body: ews_body(rng),
                gzip: true,
                content_type: "text/xml; charset=utf-8",
            }
        }
    }
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data)?;
    e.finish()
}

/// `Transfer-Encoding: chunked` framing in chunks of at most 4 KiB, as IIS sends it.
fn chunked(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    for c in data.chunks(4096) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn base_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-20T08:15:03.000+01:00").unwrap_or_default()
}

fn fiddler_time(t: DateTime<FixedOffset>) -> String {
    format!(
        "{}.{:07}{}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100,
        t.format("%:z")
    )
}

fn saz_meta(id: usize, start: DateTime<FixedOffset>) -> String {
    let t = |ms: i64| fiddler_time(start + Duration::milliseconds(ms));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Session SID=\"{id}\" BitFlags=\"0\">\r\n  <SessionTimers ClientConnected=\"{}\" ClientBeginRequest=\"{}\" GotRequestHeaders=\"{}\" ClientDoneRequest=\"{}\" GatewayTime=\"0\" DNSTime=\"0\" TCPConnectTime=\"0\" HTTPSHandshakeTime=\"0\" ServerConnected=\"{}\" FiddlerBeginRequest=\"{}\" ServerGotRequest=\"{}\" ServerBeginResponse=\"{}\" GotResponseHeaders=\"{}\" ServerDoneResponse=\"{}\" ClientBeginResponse=\"{}\" ClientDoneResponse=\"{}\" />\r\n  <PipeInfo CltReuse=\"true\" Reused=\"true\" />\r\n  <SessionFlags>\r\n    <SessionFlag N=\"x-clientip\" V=\"127.0.0.1\" />\r\n    <SessionFlag N=\"x-clientport\" V=\"{}\" />\r\n    <SessionFlag N=\"x-processinfo\" V=\"outlook:4242\" />\r\n    <SessionFlag N=\"x-hostip\" V=\"10.0.0.25\" />\r\n    <SessionFlag N=\"x-egressport\" V=\"{}\" />\r\n  </SessionFlags>\r\n</Session>",
        t(0), t(0), t(1), t(1), t(2), t(2), t(3), t(20), t(20), t(30), t(20), t(31),
        50000 + id % 10000, 51000 + id % 10000
    )
}

fn head(start_line: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut s = String::with_capacity(512);
    s.push_str(start_line);
    s.push_str("\r\n");
    for (k, v) in headers {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(v);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// Write a Fiddler SAZ of `n` sessions to `path`.
pub fn write_saz(path: &Path, n: usize, s: &Scenario) -> io::Result<()> {
    use zip::write::SimpleFileOptions;
    let file = BufWriter::new(File::create(path)?);
    let mut zip = zip::ZipWriter::new(file);
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let zerr = |e: zip::result::ZipError| io::Error::other(e.to_string());
    zip.start_file("[Content_Types].xml", deflated)
        .map_err(zerr)?;
    zip.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\r\n<Default Extension=\"htm\" ContentType=\"text/html\" />\r\n<Default Extension=\"xml\" ContentType=\"application/xml\" />\r\n<Default Extension=\"txt\" ContentType=\"text/plain\" />\r\n</Types>")?;
    let width = n.max(1).to_string().len();
    let mut rng = Rng::new(n as u64);
    let start = base_time();
    let mut index = String::from("<html><head><style>body,thead,td,a,p{font-family:verdana,sans-serif;font-size: 10px;}</style></head><body><table cols=12><thead><tr><th>&nbsp;</th><th>#</th><th>Result</th><th>Protocol</th><th>Host</th><th>URL</th></tr></thead><tbody>");
    for i in 0..n {
        let id = i + 1;
        let x = exchange(i, n, s, &mut rng);
        let mut req_headers = x.req_headers.clone();
        if !x.req_body.is_empty() {
            req_headers.push(h("Content-Length", x.req_body.len().to_string()));
        }
        let mut c = head(&format!("{} {} HTTP/1.1", x.method, x.url), &req_headers);
        c.extend_from_slice(&x.req_body);
        let mut resp_headers = x.resp_headers.clone();
        if !x.content_type.is_empty() {
            resp_headers.push(h("Content-Type", x.content_type));
        }
        let body = if x.gzip {
            resp_headers.push(h("Content-Encoding", "gzip"));
            resp_headers.push(h("Transfer-Encoding", "chunked"));
            resp_headers.push(h("Vary", "Accept-Encoding"));
            chunked(&gzip(&x.resp_body)?)
        } else {
            x.resp_body
        };
        let mut sresp = head(
            &format!("HTTP/1.1 {} {}", x.status, x.reason),
            &resp_headers,
        );
        sresp.extend_from_slice(&body);
        let at = start + Duration::milliseconds(i as i64 * 40);
        for (suffix, data) in [
            ("c.txt", c),
            ("s.txt", sresp),
            ("m.xml", saz_meta(id, at).into_bytes()),
        ] {
            zip.start_file(format!("raw/{id:0width$}_{suffix}"), deflated)
                .map_err(zerr)?;
            zip.write_all(&data)?;
        }
        if i < 2000 {
            let host = x.url.split('/').nth(2).unwrap_or("");
            index.push_str(&format!("<tr><td><a href='raw\\{id:0width$}_c.txt'>C</a></td><td>{id}</td><td>{}</td><td>HTTPS</td><td>{host}</td><td></td></tr>", x.status));
        }
    }
    index.push_str("</tbody></table></body></html>");
    zip.start_file("_index.htm", deflated).map_err(zerr)?;
    zip.write_all(index.as_bytes())?;
    zip.set_comment("FiddlerCore SAZ (traceadal bench generator)")
        .map_err(zerr)?;
    let mut inner = zip.finish().map_err(zerr)?;
    inner.flush()
}

fn har_headers(headers: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Array(
        headers
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
    )
}

/// Write a HAR 1.2 of `n` entries to `path` (bodies decoded, as browsers export them).
pub fn write_har(path: &Path, n: usize, s: &Scenario) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"traceadal bench generator\",\"version\":\"1\"},\"pages\":[],\"entries\":[\n")?;
    let mut rng = Rng::new(n as u64);
    let start = base_time();
    for i in 0..n {
        let x = exchange(i, n, s, &mut rng);
        let at = start + Duration::milliseconds(i as i64 * 40);
        let query: Vec<serde_json::Value> = x
            .url
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        json!({"name": k, "value": v})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut request = json!({
            "method": x.method,
            "url": x.url,
            "httpVersion": "HTTP/1.1",
            "headers": har_headers(&x.req_headers),
            "queryString": query,
            "cookies": [],
            "headersSize": -1,
            "bodySize": x.req_body.len(),
        });
        if !x.req_body.is_empty() {
            let mime = x
                .req_headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map_or("application/octet-stream", |(_, v)| v.as_str());
            request["postData"] = match std::str::from_utf8(&x.req_body) {
                Ok(text) => json!({"mimeType": mime, "text": text}),
                Err(_) => json!({"mimeType": mime, "text": "", "_encoding": "base64"}),
            };
        }
        let mut resp_headers = x.resp_headers.clone();
        if !x.content_type.is_empty() {
            resp_headers.push(h("Content-Type", x.content_type));
        }
        if x.gzip {
            resp_headers.push(h("Content-Encoding", "gzip"));
        }
        let content = match std::str::from_utf8(&x.resp_body) {
            Ok(text) => {
                json!({"size": x.resp_body.len(), "mimeType": x.content_type, "text": text})
            }
            Err(_) => {
                use base64::Engine as _;
                json!({"size": x.resp_body.len(), "mimeType": x.content_type, "encoding": "base64",
                       "text": base64::engine::general_purpose::STANDARD.encode(&x.resp_body)})
            }
        };
        let entry = json!({
            "startedDateTime": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            "time": 31,
            "request": request,
            "response": {
                "status": x.status,
                "statusText": x.reason,
                "httpVersion": "HTTP/1.1",
                "headers": har_headers(&resp_headers),
                "cookies": [],
                "content": content,
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": x.resp_body.len(),
            },
            "cache": {},
            "timings": {"blocked": 0, "dns": 0, "connect": 1, "send": 1, "wait": 17, "receive": 12, "ssl": -1},
            "serverIPAddress": "10.0.0.25",
            "_process": "outlook:4242",
        });
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut out, &entry)?;
    }
    out.write_all(b"\n]}}\n")?;
    out.flush()
}

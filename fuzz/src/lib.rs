//! The body of every fuzz target, one function each, fed the raw bytes libFuzzer made.
//!
//! Kept apart from `fuzz_targets/*.rs` (one `fuzz_target!` line each) so that
//! `tests/fuzz_regressions.rs` in the main crate can include this very file with `#[path]`
//! and replay every saved crash input through the same code on stable, in `cargo test`.
//!
//! Each function runs a parser the way the pipeline runs it, on small limits so a run stays
//! fast, and asserts the invariants the parser documents (caps, offsets within the input).
//! A panic, an abort, a timeout or an out-of-memory is a finding.

use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

use traceadal::analysis::{Collector, Mapped};
use traceadal::auth::{
    self, aadsts, autodiscover_v2, challenge, diagnostics, ews, jwt, login, negotiate, token_result,
};
use traceadal::capture::har::{self, HarLimits};
use traceadal::capture::http::{self, SchemeHint};
use traceadal::capture::rewrite::{InOrder, RewriteOptions};
use traceadal::capture::saz::SazArchive;
use traceadal::capture::saz_meta::{self, BitFlagsRadix};
use traceadal::capture::{
    body, host_of, Body, DecodeLimits, Format, Headers, Password, ReadOptions, Request, Response,
    Session, SessionResult,
};
use traceadal::capture::{formats, saz};
use traceadal::redact::{Placeholders, ReadsBody, Redactor};

/// A small body cap: enough for any parser to see a whole body, small enough that a bomb
/// costs microseconds.
pub const LIMITS: DecodeLimits = DecodeLimits {
    max_decoded: 64 * 1024,
    max_inflated: 8 << 20,
};

fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Map one session as `analysis::analyze` does (events and body damage), on any thread.
fn map_one(r: SessionResult) -> Mapped {
    Collector::map(&LIMITS, r)
}

/// The rest of the pipeline over mapped sessions: the collector `analysis::analyze` uses
/// (flows, rules, verdict), then the report built from it.
fn analyse(mapped: Vec<Mapped>) {
    let mut collector = Collector::new(LIMITS, mapped.len());
    for m in mapped {
        collector.push(m);
    }
    let analysis = collector.finish(Path::new("fuzz.saz"), Format::Saz);
    let _ = traceadal::report::Report::new(&analysis);
}

/// `saz_reader`: raw zip bytes through the SAZ reader, every session through the auth
/// parsers, flows and rules. An encrypted archive is read again with a password.
pub fn saz_reader(data: &[u8]) {
    let mut options = ReadOptions {
        password: None,
        limits: LIMITS,
    };
    let archive = match SazArchive::from_bytes(data, &options) {
        Err(traceadal::capture::CaptureErrorKind::PasswordRequired) => {
            options.password = Some(Password::new("fuzz"));
            SazArchive::from_bytes(data, &options)
        }
        other => other,
    };
    let Ok(archive) = archive else {
        return;
    };
    let _ = archive.warnings();
    if let Ok(mapped) = archive.map_sessions(map_one) {
        assert_eq!(mapped.len(), archive.len());
        analyse(mapped);
    }
    // No session: perhaps a zip of captures (what tickets attach, issue 21): its detection
    // and the first captures inside, opened as files are (one level, under the limits).
    if archive.is_empty() {
        if let Ok(Some(zip)) = saz::attachments::inspect_bytes(data, "fuzz.zip", &options) {
            assert!(!zip.captures.is_empty());
            for i in 0..zip.captures.len().min(2) {
                if let Ok(inner) = zip.open(i, &options) {
                    if let Ok(mapped) = inner.capture.map_sessions(map_one) {
                        analyse(mapped);
                    }
                }
            }
        }
    }
}

/// `netlog_reader`: a Chromium/Edge NetLog, streamed (constants, events, sockets), cut or
/// not, then the pipeline over its sessions.
pub fn netlog_reader(data: &[u8]) {
    let options = ReadOptions {
        password: None,
        limits: LIMITS,
    };
    let mut mapped = Vec::new();
    if traceadal::capture::netlog::map_reader_into(Cursor::new(data), &options, map_one, |m| {
        mapped.push(m)
    })
    .is_ok()
    {
        analyse(mapped);
    }
}

/// `saz_meta`: a session's `_m.xml`, read with both `BitFlags` radixes.
pub fn saz_meta(data: &[u8]) {
    for radix in [BitFlagsRadix::Fiddler, BitFlagsRadix::Other] {
        if let Ok(m) = saz_meta::parse(data, radix) {
            let _ = (m.process(), m.client_ip(), m.host_ip(), m.is_https());
            let _ = m.has_bit(saz_meta::bits::IS_BLIND_TUNNEL);
            let _ = (m.timers.start(), m.timers.end());
        }
    }
    let t = text(data);
    let _ = saz_meta::parse_bit_flags(&t, BitFlagsRadix::Fiddler);
    let _ = saz_meta::parse_bit_flags(&t, BitFlagsRadix::Other);
    let _ = saz_meta::parse_time(&t);
}

/// `http_head`: the bytes as a `_c.txt` and as a `_s.txt`.
pub fn http_head(data: &[u8]) {
    let hint = match data.len() % 3 {
        0 => SchemeHint::Unknown,
        1 => SchemeHint::Https,
        _ => SchemeHint::Http,
    };
    if let Ok((head, offset)) = http::parse_request(data, hint) {
        assert!(offset <= data.len());
        let _ = head.flaws.describe("request");
        let _ = host_of(&head.url);
        let _ = challenge::resource_of(&head.url);
        let _ = head.headers.get("host");
    }
    if let Ok((head, offset)) = http::parse_response(data) {
        assert!(offset <= data.len());
        assert!((100..=999).contains(&head.status) || head.status < 100);
        let _ = head.flaws.describe("response");
        let _ = head.headers.get_all("www-authenticate").count();
    }
}

const TRANSFER: &[&str] = &[
    "",
    "chunked",
    "gzip, chunked",
    "chunked, identity",
    "br, chunked",
    "deflate,chunked",
    "identity",
    "chunked, chunked",
];

const CONTENT: &[&str] = &[
    "",
    "gzip",
    "deflate",
    "br",
    "gzip, br",
    "x-gzip",
    "identity",
    "deflate, gzip",
    "compress",
    "br, br",
    "GZIP",
    "gzip,deflate,br",
];

/// `body_decode`: byte 0 picks `Transfer-Encoding`, byte 1 `Content-Encoding` (and whether
/// the body is as on the wire); the rest is the body.
pub fn body_decode(data: &[u8]) {
    let [te, ce, raw @ ..] = data else {
        let (out, _) = body::dechunk(data);
        assert!(out.len() <= data.len());
        return;
    };
    let mut headers = Headers::new();
    let te = TRANSFER[usize::from(*te) % TRANSFER.len()];
    if !te.is_empty() {
        headers.push("Transfer-Encoding", te);
    }
    let content = CONTENT[usize::from(*ce) % CONTENT.len()];
    if !content.is_empty() {
        headers.push("Content-Encoding", content);
    }
    let body = Body {
        raw: raw.to_vec(),
        wire: ce & 0x80 == 0,
        truncated: false,
    };
    let d = body::decode_partial(&body, &headers, &LIMITS);
    assert!(d.bytes.len() as u64 <= LIMITS.max_decoded);
    let strict = body::decode(&body, &headers, &LIMITS);
    assert_eq!(strict.is_ok(), d.problem.is_none());
    let (out, _) = body::dechunk(raw);
    assert!(out.len() <= raw.len());
    // As `traceadal show` prints it: pretty JSON or XML, or binary summarised.
    headers.push(
        "Content-Type",
        if ce & 0x40 == 0 {
            "text/xml"
        } else {
            "application/json"
        },
    );
    let shown = traceadal::report::show::body_of(&body, &headers, &LIMITS);
    assert!(shown.text.as_ref().map_or(0, String::len) <= traceadal::report::show::BODY_SHOWN);
}

/// `har_reader`: the bytes as a HAR file (plain, gzip or zlib), every entry through the
/// auth parsers, flows and rules.
pub fn har_reader(data: &[u8]) {
    // Compressed inputs (gzip or zlib magic) inflate to at most 8 MiB: the bomb guard is
    // exercised and no execution is slow.
    let limits = HarLimits {
        batch_entries: 16,
        batch_bytes: 64 * 1024,
        max_inflated: 8 << 20,
        ..HarLimits::for_decoded(LIMITS.max_decoded)
    };
    if let Ok(mapped) = har::map_reader(Cursor::new(data), &limits, map_one) {
        analyse(mapped);
    }
}

/// A session from `url` with the given request and response parts.
fn session(
    method: &str,
    url: &str,
    req_headers: Headers,
    req_body: &[u8],
    status: u16,
    resp_headers: Headers,
    resp_body: &[u8],
) -> Session {
    Session {
        id: 1,
        request: Request {
            method: method.into(),
            url: url.into(),
            version: "HTTP/1.1".into(),
            headers: req_headers,
            body: Body {
                raw: req_body.to_vec(),
                wire: true,
                truncated: false,
            },
        },
        response: Some(Response {
            version: "HTTP/1.1".into(),
            status,
            reason: String::new(),
            headers: resp_headers,
            body: Body {
                raw: resp_body.to_vec(),
                wire: true,
                truncated: false,
            },
        }),
        ..Session::default()
    }
}

/// `www_authenticate`: each line one `WWW-Authenticate` value (lines starting `x-ms-diag`
/// are `X-MS-Diagnostics` instead), parsed directly and as a 401 on autodiscover; the
/// input is also read as a Negotiate/NTLM blob and each line as a Negotiate/NTLM header.
pub fn www_authenticate(data: &[u8]) {
    let t = text(data);
    let values: Vec<&str> = t.split('\n').collect();
    // The Negotiate/NTLM blob reader: the input as blob bytes and each line as a header.
    let _ = negotiate::read(data);
    for v in &values {
        let _ = negotiate::token_of(v);
    }
    for s in challenge::parse_www_authenticate(values.iter().copied()) {
        let b = challenge::BearerChallenge::from_scheme(&s);
        assert!(b.tenant_ids.len() <= b.trusted_issuers.len());
        let _ = s.param("authorization_uri");
    }
    let mut h = Headers::new();
    for v in &values {
        match v.strip_prefix("x-ms-diag") {
            Some(d) => {
                let _ = diagnostics::ExchangeDiagnostic::parse(d);
                h.push("X-MS-Diagnostics", d);
            }
            None => h.push("WWW-Authenticate", *v),
        }
    }
    let s = session(
        "POST",
        "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
        Headers::new(),
        b"",
        401,
        h,
        b"",
    );
    if let Some(c) = challenge::challenge(&s) {
        let _ = (c.bearer(), c.resource(), c.offers("Bearer"));
    }
    let _ = diagnostics::on_response(&s);
}

/// `aadsts`: the bytes as an Entra error in every place one appears: free text, a
/// `$Config` sign-in page, a redirect `Location`, and a token endpoint's answer (JSON,
/// HTML, or a 302 to the redirect URI, by the length's parity).
pub fn aadsts(data: &[u8]) {
    let t = text(data);
    for code in token_result::aadsts_codes(&t) {
        assert!(code > 0 && code < 1_000_000_000);
        let _ = aadsts::lookup(code);
    }
    let _ = aadsts::parse_code(&t);
    let facts = token_result::describe(&t);
    if let Some(line) = &facts.first_line {
        assert!(!line.contains('\n'));
    }
    if let Some(p) = token_result::sign_in_page_error(&t) {
        let _ = p.is_error();
    }
    let _ = token_result::redirect_error(&t);

    let url = "https://login.microsoftonline.com/common/oauth2/token";
    let form = b"grant_type=refresh_token&resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c";
    let mut req = Headers::new();
    req.push("Content-Type", "application/x-www-form-urlencoded");
    let mut resp = Headers::new();
    let status = match data.len() % 3 {
        0 => {
            resp.push("Content-Type", "application/json; charset=utf-8");
            400
        }
        1 => {
            resp.push("Content-Type", "text/html; charset=utf-8");
            200
        }
        _ => {
            resp.push("Location", &*t);
            302
        }
    };
    let s = session("POST", url, req, form, status, resp, data);
    let _ = auth::events_of(&s, &LIMITS);
}

/// `jwt_claims`: the bytes as a token, directly and as `Authorization: Bearer` on EWS.
pub fn jwt_claims(data: &[u8]) {
    let t = text(data);
    if let Ok(c) = jwt::decode_claims(&t) {
        let _ = format!("{c:?}");
    }
    let _ = login::resource_from_scope(&t);
    let _ = login::client_name(&t);
    let mut h = Headers::new();
    h.push("Authorization", format!("Bearer {t}"));
    h.push("Cookie", &t);
    h.push("Authorization", &t);
    // The server's clock beside a presented token, and device credentials by name.
    let _ = jwt::http_date(&t);
    let _ = login::DeviceCredential::of(&h);
    let mut answer = Headers::new();
    answer.push("Date", &t);
    let s = session(
        "POST",
        "https://mail.contoso.com/EWS/Exchange.asmx",
        h,
        b"",
        200,
        answer,
        b"",
    );
    let _ = jwt::presented_bearer(&s);
}

/// `ews_soap`: a `GetDelegate` exchange on EWS; the bytes up to the first NUL are the
/// request body, the rest the response body. Read as the delegate check alone, and as the
/// analysis reads a session (events and body damage, `auth::read_session`); the request
/// again without `GetDelegate` (its operation read by the byte scan, checked against the
/// pull parser); then the same bodies as a 500 EWS answer and as MAPI over HTTP
/// `Connect`/`Bind` answers.
pub fn ews_soap(data: &[u8]) {
    let (req_body, resp_body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut resp = Headers::new();
    resp.push("Content-Type", "text/xml; charset=utf-8");
    let s = ews_post(
        Some("\"http://schemas.microsoft.com/exchange/services/2006/messages/GetDelegate\""),
        req_body,
        resp,
        resp_body,
    );
    let _ = ews::delegate_check(&s, &LIMITS);
    let _ = auth::read_session(&s, &LIMITS);
    // A request that spells `GetDelegate` is read as a tree; spelled otherwise, its
    // operation is read by `auth::xml::soap_operation`, whose byte scan is asserted (a debug
    // assertion: scripts/fuzz.sh builds with `-a`) to agree with the pull parser it stands
    // in for.
    if let Some(renamed) = without_get_delegate(req_body) {
        let s = ews_post(None, &renamed, Headers::new(), b"");
        let _ = auth::read_session(&s, &LIMITS);
    }
    // The same bodies as a failed EWS answer (read whatever the operation: `ews_answer`)
    // and as a MAPI over HTTP `Connect` answer (`mapi`: X-ResponseCode, Connect ErrorCode).
    for (url, status, request_type) in [
        ("https://mail.contoso.com/EWS/Exchange.asmx", 500, None),
        (
            "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com",
            200,
            Some("Connect"),
        ),
        (
            "https://mail.contoso.com/mapi/nspi/?MailboxId=x@contoso.com",
            403,
            Some("Bind"),
        ),
    ] {
        let mut req = Headers::new();
        if let Some(t) = request_type {
            req.push("X-RequestType", t);
        }
        let mut resp = Headers::new();
        resp.push("X-ResponseCode", if status == 200 { "0" } else { "10" });
        let s = session("POST", url, req, req_body, status, resp, resp_body);
        let _ = auth::read_session(&s, &LIMITS);
    }
}

/// A 200 answer to an XML POST to EWS, with `SOAPAction` when given.
fn ews_post(
    soap_action: Option<&str>,
    req_body: &[u8],
    resp: Headers,
    resp_body: &[u8],
) -> Session {
    let mut req = Headers::new();
    req.push("Content-Type", "text/xml; charset=utf-8");
    if let Some(action) = soap_action {
        req.push("SOAPAction", action);
    }
    session(
        "POST",
        "https://mail.contoso.com/EWS/Exchange.asmx",
        req,
        req_body,
        200,
        resp,
        resp_body,
    )
}

/// `body` with every `GetDelegate` made `GetDelegatX`, when it holds one.
fn without_get_delegate(body: &[u8]) -> Option<Vec<u8>> {
    const NAME: &[u8] = b"GetDelegate";
    let mut out = body.to_vec();
    let mut changed = false;
    let mut i = 0;
    while i + NAME.len() <= out.len() {
        if out[i..].starts_with(NAME) {
            out[i + NAME.len() - 1] = b'X';
            changed = true;
            i += NAME.len();
        } else {
            i += 1;
        }
    }
    changed.then_some(out)
}

/// `autodiscover_json`: an autodiscover v2 exchange; the bytes up to the first NUL are the
/// request's path and query (after `https://autodiscover.contoso.com`), the rest the answer
/// body, read as a 200 and as a 302 whose `Location` is that body's first line. Read as the
/// v2 parser alone, and as the analysis reads a session. The same JSON is also read as a free/busy
/// answer (`auth::availability_json`): OWA's `GetUserAvailabilityInternal` (the first part as
/// its request body and as its `X-OWA-UrlPostData` header) and Graph's `getSchedule`, as a
/// 200 and a 403, with the parser's caps asserted.
pub fn autodiscover_json(data: &[u8]) {
    availability_json(data);
    let (target, resp_body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let url = format!("https://autodiscover.contoso.com{}", text(target));
    let mut json = Headers::new();
    json.push("Content-Type", "application/json; charset=utf-8");
    let s = session("GET", &url, Headers::new(), b"", 200, json, resp_body);
    let _ = autodiscover_v2::autodiscover_v2(&s, &LIMITS);
    let _ = auth::read_session(&s, &LIMITS);
    let body = text(resp_body);
    let mut redirect = Headers::new();
    redirect.push("Location", body.lines().next().unwrap_or(""));
    let s = session("GET", &url, Headers::new(), b"", 302, redirect, b"");
    let _ = auth::read_session(&s, &LIMITS);
}

fn availability_json(data: &[u8]) {
    let (req_body, resp_body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let mut json = Headers::new();
    json.push("Content-Type", "application/json; charset=utf-8");
    let mut posted = Headers::new();
    posted.push("X-OWA-UrlPostData", text(req_body));
    for url in [
        "https://mail.contoso.com/owa/service.svc?action=GetUserAvailabilityInternal&EP=1",
        "https://graph.microsoft.com/v1.0/me/calendar/getSchedule",
    ] {
        for (status, req_headers, body) in [
            (200, Headers::new(), req_body),
            (200, posted.clone(), &[][..]),
            (403, Headers::new(), req_body),
        ] {
            let s = session(
                "POST",
                url,
                req_headers,
                body,
                status,
                json.clone(),
                resp_body,
            );
            if let Some(a) = auth::availability_json::availability_json(&s, &LIMITS) {
                assert!(a.errors.len() <= 32, "errors capped");
                assert!(a.url.chars().count() <= 203, "url capped");
                for e in &a.errors {
                    assert!(e.message.as_ref().map_or(0, |m| m.chars().count()) <= 403);
                    assert!(e.code.as_ref().map_or(0, |c| c.chars().count()) <= 203);
                    assert!(e.mailbox.as_ref().map_or(0, |m| m.chars().count()) <= 203);
                }
            }
            let _ = auth::read_session(&s, &LIMITS);
        }
    }
}

/// `federation`: the federation parsers (realm discovery answers, IdP pages and WS-Trust
/// requests, the SAML response posted to `login.srf`); the bytes up to the first NUL are the
/// request body, the rest the response body, read as each of those sessions.
pub fn federation(data: &[u8]) {
    let (req_body, resp_body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    for (method, url, ctype, status) in [
        (
            "GET",
            "https://login.microsoftonline.com/common/userrealm/?user=a%40contoso.com&api-version=2.1",
            "application/json",
            200,
        ),
        (
            "GET",
            "https://login.microsoftonline.com/GetUserRealm.srf?login=a@contoso.com&xml=1",
            "text/xml",
            200,
        ),
        (
            "POST",
            "https://login.microsoftonline.com/login.srf",
            "application/x-www-form-urlencoded",
            200,
        ),
        (
            "POST",
            "https://sts.contoso.com/adfs/services/trust/2005/usernamemixed",
            "application/soap+xml; charset=utf-8",
            500,
        ),
        (
            "GET",
            "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0",
            "text/html",
            200,
        ),
    ] {
        let mut req = Headers::new();
        req.push("Content-Type", ctype);
        let mut resp = Headers::new();
        resp.push("Content-Type", "text/html; charset=utf-8");
        let s = session(method, url, req, req_body, status, resp, resp_body);
        let _ = auth::federation::events(&s, &LIMITS);
        let _ = auth::read_session(&s, &LIMITS);
    }
    let _ = auth::saml::from_form(data);
}

/// `autodiscover_pox`: an Autodiscover exchange (issue 19); the bytes up to the first NUL are
/// the request body, the rest the answer, read as a POX and as a SOAP answer.
pub fn autodiscover_pox(data: &[u8]) {
    let (req_body, resp_body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    for url in [
        "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
        "https://autodiscover.contoso.com/autodiscover/autodiscover.svc",
    ] {
        let mut req = Headers::new();
        req.push("Content-Type", "text/xml");
        let mut resp = Headers::new();
        resp.push("Content-Type", "text/xml; charset=utf-8");
        resp.push("X-AutoDiscovery-Error", text(resp_body));
        resp.push("X-BackEndHttpStatus", "500");
        let s = session("POST", url, req, req_body, 200, resp, resp_body);
        let _ = auth::autodiscover::autodiscover_answer(&s, &LIMITS);
        let _ = auth::read_session(&s, &LIMITS);
    }
}

/// `gateway`: the first line is a response's reason phrase, each further line a header
/// (`Name: value`) given to both the request and the response; the part after the first NUL
/// is the response body. The session is read at several statuses and URLs, so every branch
/// of `auth::gateway` (login redirect, HTML login form, foreign 401, 407, block, gateway
/// error, tenant restrictions) sees hostile heads and bodies.
pub fn gateway(data: &[u8]) {
    let (head, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let t = text(head);
    let mut lines = t.split('\n');
    let reason = lines.next().unwrap_or("").to_string();
    let mut h = Headers::new();
    for line in lines {
        let (n, v) = line.split_once(':').unwrap_or((line, ""));
        h.push(n.trim(), v.trim());
    }
    for (method, url, status) in [
        (
            "POST",
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
            200,
        ),
        ("POST", "https://mail.contoso.com/EWS/Exchange.asmx", 302),
        ("POST", "https://mail.contoso.com/mapi/emsmdb/", 401),
        ("CONNECT", "login.microsoftonline.com:443", 407),
        ("CONNECT", "outlook.office365.com:443", 403),
        (
            "GET",
            "https://outlook.office365.com/EWS/Exchange.asmx",
            502,
        ),
        (
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            400,
        ),
    ] {
        let mut s = session(method, url, h.clone(), b"", status, h.clone(), body);
        if let Some(r) = s.response.as_mut() {
            r.reason = reason.clone();
        }
        let _ = auth::gateway::gateway_sign(&s, &LIMITS);
        let _ = auth::read_session(&s, &LIMITS);
    }
}

/// `redact_text`: the one redaction layer, with and without `--show-secrets`.
pub fn redact_text(data: &[u8]) {
    let t = text(data);
    let _ = Redactor::default().text(&t);
    assert_eq!(Redactor::new(true).text(&t), t);
}

/// `capture_rewrite`: a capture through its format's rewriter (`capture::formats`) with the
/// real redact scrubber, as `traceadal redact` runs it. Whatever the rewriter accepts, it
/// must write a capture its reader reads again (a SAZ opens, a HAR is JSON with entries).
pub fn capture_rewrite(data: &[u8]) {
    let Ok(spec) = formats::sniff(data) else {
        return;
    };
    let mut options = RewriteOptions {
        read: ReadOptions {
            password: None,
            limits: LIMITS,
        },
        output_password: None,
    };
    let mut scrubber = Placeholders::new(LIMITS);
    match spec.format {
        Format::Saz => {
            // Half the inputs as `--drop-bodies-except-auth`: a request then decides whether
            // its session's other entries keep their bodies.
            let settings = || {
                let mut s = Placeholders::new(LIMITS);
                s.reads_body = (data.len() % 2 == 1).then_some(auth::reads_body as ReadsBody);
                s
            };
            scrubber = settings();
            let mut out = Cursor::new(Vec::new());
            let mut result = saz::rewrite::rewrite_bytes(data, &mut out, &options, &mut scrubber);
            if let Err(traceadal::capture::CaptureErrorKind::PasswordRequired) = result {
                options.read.password = Some(Password::new("fuzz"));
                out = Cursor::new(Vec::new());
                scrubber = settings();
                result = saz::rewrite::rewrite_bytes(data, &mut out, &options, &mut scrubber);
            }
            // The sessions scrubbed apart on the pool (what `redact` does) come out as they
            // do one after another on the writing thread.
            let mut in_order = InOrder(settings());
            let mut again = Cursor::new(Vec::new());
            let once_more = saz::rewrite::rewrite_bytes(data, &mut again, &options, &mut in_order);
            match (&result, &once_more) {
                (Ok(a), Ok(b)) => {
                    assert!(
                        out.get_ref() == again.get_ref(),
                        "sessions scrubbed apart write other bytes"
                    );
                    assert_eq!(a.notes, b.notes);
                    assert_eq!(scrubber.outcome.counts, in_order.0.outcome.counts);
                    assert_eq!(scrubber.outcome.notes, in_order.0.outcome.notes);
                    assert_eq!(scrubber.bodies_dropped, in_order.0.bodies_dropped);
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("one of the two rewrites failed"),
            }
            if result.is_ok() {
                let archive = SazArchive::from_bytes(out.into_inner(), &ReadOptions::default())
                    .expect("a rewritten SAZ opens");
                let _ = archive
                    .map_sessions(map_one)
                    .expect("a rewritten SAZ reads");
            }
        }
        Format::Har => {
            let limits = HarLimits {
                batch_entries: 16,
                batch_bytes: 64 * 1024,
                ..HarLimits::for_decoded(LIMITS.max_decoded)
            };
            let mut out = Vec::new();
            let rewritten =
                har::rewrite_reader(Cursor::new(data), &limits, &mut out, &mut scrubber);
            // The entries scrubbed apart on the pool (what `redact` does) come out as they
            // do one after another on the writing thread.
            let mut in_order = InOrder(Placeholders::new(LIMITS));
            let mut again = Vec::new();
            let once_more =
                har::rewrite_reader(Cursor::new(data), &limits, &mut again, &mut in_order);
            match (&rewritten, &once_more) {
                (Ok(a), Ok(b)) => {
                    assert!(out == again, "entries scrubbed apart write other bytes");
                    assert_eq!(a.notes, b.notes);
                    assert_eq!(scrubber.outcome.counts, in_order.0.outcome.counts);
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("one of the two rewrites failed"),
            }
            if let Ok(r) = rewritten {
                let json: serde_json::Value =
                    serde_json::from_slice(&out).expect("a rewritten HAR is JSON");
                let mapped = har::map_reader(Cursor::new(&out), &limits, map_one)
                    .expect("a rewritten HAR reads");
                assert!(mapped.len() >= r.entries, "every entry written reads back");
                let _ = json;
            }
        }
        Format::NetLog => {
            let mut out = Cursor::new(Vec::new());
            let result = (spec.rewrite)(Path::new("fuzz.json"), &mut out, &options, &mut scrubber);
            assert!(result.is_err(), "redact does not rewrite a NetLog");
        }
    }
}

/// One target: its name and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target by name, for the regression test.
pub const TARGETS: &[Target] = &[
    ("saz_reader", saz_reader),
    ("saz_meta", saz_meta),
    ("http_head", http_head),
    ("body_decode", body_decode),
    ("har_reader", har_reader),
    ("www_authenticate", www_authenticate),
    ("aadsts", aadsts),
    ("jwt_claims", jwt_claims),
    ("ews_soap", ews_soap),
    ("federation", federation),
    ("autodiscover_pox", autodiscover_pox),
    ("redact_text", redact_text),
    ("capture_rewrite", capture_rewrite),
    ("redact_planted", redact_planted),
    ("autodiscover_json", autodiscover_json),
    ("gateway", gateway),
    ("netlog_reader", netlog_reader),
];

/// The samples `redact_planted` plants into (small: a few sessions each).
const PLANT_SAZ: &[u8] = include_bytes!("../../samples/delegate-editor.saz");
const PLANT_HAR: &[u8] = include_bytes!("../../samples/delegate-editor.har");

/// Where `redact_planted` puts its secret. Bearer first: the choices the trivial inputs of
/// `tests/fuzz_regressions.rs` make must be ones today's redaction handles.
const PLACES: &[&str] = &[
    "bearer-header",
    "query-code",
    "cookie-estsauth",
    "set-cookie-estsauthpersistent",
    "form-refresh-token",
    "json-refresh-token",
    "basic-header",
    "multipart-password",
];

/// How a planted body travels: SAZ identity / chunked / gzip; HAR text / base64.
const PLANT_ENCODINGS: usize = 3;

/// The secret for an input: `FZ` and 24 base62 characters drawn from the input's bytes.
fn planted_secret(seed: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut s = String::from("FZ");
    for i in 0..24u64 {
        h ^= u64::from(seed.get(i as usize).copied().unwrap_or(0)) ^ (i << 8);
        h = h.wrapping_mul(0x0100_0000_01b3);
        s.push(char::from(A[((h >> 29) % 62) as usize]));
    }
    s
}

/// Planted text for `place`: (request header, response header, URL suffix, request body
/// with its content type, response body).
struct Planted {
    req_header: Option<(String, String)>,
    resp_header: Option<(String, String)>,
    query: Option<String>,
    req_body: Option<(String, Vec<u8>)>,
    resp_body: Option<Vec<u8>>,
}

fn planted(place: &str, secret: &str) -> Planted {
    use base64::Engine;
    let mut p = Planted {
        req_header: None,
        resp_header: None,
        query: None,
        req_body: None,
        resp_body: None,
    };
    match place {
        "bearer-header" => {
            p.req_header = Some((
                "Authorization".into(),
                format!("Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.{secret}"),
            ))
        }
        "query-code" => p.query = Some(format!("code={secret}&state=fz")),
        "cookie-estsauth" => {
            p.req_header = Some(("Cookie".into(), format!("buid=x; ESTSAUTH={secret}; fpc=y")))
        }
        "set-cookie-estsauthpersistent" => {
            p.resp_header = Some((
                "Set-Cookie".into(),
                format!("ESTSAUTHPERSISTENT={secret}; path=/; secure; HttpOnly"),
            ))
        }
        "form-refresh-token" => {
            p.req_body = Some((
                "application/x-www-form-urlencoded".into(),
                format!("grant_type=refresh_token&refresh_token={secret}&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c").into_bytes(),
            ))
        }
        "json-refresh-token" => {
            p.resp_body = Some(
                format!("{{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"refresh_token\":\"{secret}\"}}")
                    .into_bytes(),
            )
        }
        "basic-header" => {
            let cred = base64::engine::general_purpose::STANDARD
                .encode(format!("user@contoso.com:{secret}"));
            p.req_header = Some(("Authorization".into(), format!("Basic {cred}")));
        }
        _ => {
            let b = "----fzBoundary7MA4YWxk";
            p.req_body = Some((
                format!("multipart/form-data; boundary={b}"),
                format!("--{b}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nuser@contoso.com\r\n--{b}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{secret}\r\n--{b}--\r\n").into_bytes(),
            ));
        }
    }
    p
}

/// One HTTP message (`_c.txt`/`_s.txt`) with the planted parts: a header added after the
/// first line, a query appended to the request target, the body replaced (framed as `enc`:
/// identity, chunked, gzip).
fn plant_message(
    msg: &[u8],
    header: Option<&(String, String)>,
    query: Option<&str>,
    body: Option<(&str, &[u8])>,
    enc: usize,
) -> Vec<u8> {
    use std::io::Write;
    let split = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(msg.len());
    let head = String::from_utf8_lossy(&msg[..split]).into_owned();
    let old_body = msg.get(split + 4..).unwrap_or(&[]);
    let mut lines: Vec<String> = head.split("\r\n").map(str::to_string).collect();
    if let (Some(q), Some(first)) = (query, lines.first_mut()) {
        let parts: Vec<&str> = first.splitn(3, ' ').collect();
        if parts.len() == 3 {
            let sep = if parts[1].contains('?') { '&' } else { '?' };
            *first = format!("{} {}{sep}{q} {}", parts[0], parts[1], parts[2]);
        }
    }
    if let Some((n, v)) = header {
        lines.insert(1.min(lines.len()), format!("{n}: {v}"));
    }
    let body: Vec<u8> = match body {
        Some((ctype, data)) => {
            lines.retain(|l| {
                let l = l.to_ascii_lowercase();
                !(l.starts_with("content-length:")
                    || l.starts_with("transfer-encoding:")
                    || l.starts_with("content-encoding:")
                    || l.starts_with("content-type:"))
            });
            lines.push(format!("Content-Type: {ctype}"));
            match enc {
                1 => {
                    lines.push("Transfer-Encoding: chunked".into());
                    let mut out = Vec::new();
                    for c in data.chunks(16) {
                        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                        out.extend_from_slice(c);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"0\r\n\r\n");
                    out
                }
                2 => {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    let _ = e.write_all(data);
                    let gz = e.finish().unwrap_or_default();
                    lines.push("Content-Encoding: gzip".into());
                    lines.push(format!("Content-Length: {}", gz.len()));
                    gz
                }
                _ => {
                    lines.push(format!("Content-Length: {}", data.len()));
                    data.to_vec()
                }
            }
        }
        None => old_body.to_vec(),
    };
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&body);
    out
}

/// The SAZ sample with session `pick` (of those with a response) planted.
fn plant_saz(pick: usize, p: &Planted, enc: usize) -> Option<Vec<u8>> {
    use std::io::{Read, Write};
    let mut zip = zip::ZipArchive::new(Cursor::new(PLANT_SAZ)).ok()?;
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).ok()?;
        let mut data = Vec::new();
        e.read_to_end(&mut data).ok()?;
        entries.push((String::from_utf8_lossy(e.name_raw()).into_owned(), data));
    }
    let stems: Vec<String> = entries
        .iter()
        .filter_map(|(n, _)| n.strip_suffix("_s.txt").map(str::to_string))
        .collect();
    let stem = stems.get(pick % stems.len().max(1))?.clone();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in &entries {
        let data: Vec<u8> = if *name == format!("{stem}_c.txt") {
            let body = p.req_body.as_ref().map(|(c, b)| (c.as_str(), b.as_slice()));
            plant_message(data, p.req_header.as_ref(), p.query.as_deref(), body, enc)
        } else if *name == format!("{stem}_s.txt") {
            let body = p
                .resp_body
                .as_deref()
                .map(|b| ("application/json; charset=utf-8", b));
            plant_message(data, p.resp_header.as_ref(), None, body, enc)
        } else {
            data.clone()
        };
        w.start_file(name.as_str(), opts).ok()?;
        w.write_all(&data).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}

/// The HAR sample with entry `pick` planted (bodies as text, or base64 when `enc` is odd).
fn plant_har(pick: usize, p: &Planted, enc: usize) -> Option<Vec<u8>> {
    use base64::Engine;
    let mut v: serde_json::Value = serde_json::from_slice(PLANT_HAR).ok()?;
    let entries = v["log"]["entries"].as_array_mut()?;
    let n = entries.len().max(1);
    let e = entries.get_mut(pick % n)?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let nv = |(n, v): &(String, String)| serde_json::json!({"name": n, "value": v});
    if let Some(h) = &p.req_header {
        e["request"]["headers"].as_array_mut()?.push(nv(h));
    }
    if let Some(h) = &p.resp_header {
        e["response"]["headers"].as_array_mut()?.push(nv(h));
    }
    if let Some(q) = &p.query {
        let url = e["request"]["url"].as_str()?.to_string();
        let sep = if url.contains('?') { '&' } else { '?' };
        e["request"]["url"] = serde_json::Value::String(format!("{url}{sep}{q}"));
    }
    if let Some((ctype, body)) = &p.req_body {
        e["request"]["postData"] = if enc % 2 == 1 {
            serde_json::json!({"mimeType": ctype, "text": b64(body), "encoding": "base64"})
        } else {
            serde_json::json!({"mimeType": ctype, "text": String::from_utf8_lossy(body)})
        };
    }
    if let Some(body) = &p.resp_body {
        e["response"]["content"] = if enc % 2 == 1 {
            serde_json::json!({"size": body.len(), "mimeType": "application/json", "text": b64(body), "encoding": "base64"})
        } else {
            serde_json::json!({"size": body.len(), "mimeType": "application/json", "text": String::from_utf8_lossy(body)})
        };
    }
    serde_json::to_vec(&v).ok()
}

/// `secret` raw, and base64 (standard and URL-safe) at every alignment.
fn planted_forms(secret: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = vec![secret.as_bytes().to_vec()];
    for offset in 0..3usize {
        let mut data = vec![0u8; offset];
        data.extend_from_slice(secret.as_bytes());
        let enc = base64::engine::general_purpose::STANDARD.encode(&data);
        let start = if offset == 0 { 0 } else { 4 };
        let end = data.len() / 3 * 4;
        let s = &enc[start..end];
        out.push(s.as_bytes().to_vec());
        out.push(s.replace('+', "-").replace('/', "_").into_bytes());
    }
    out
}

/// What a redacted copy holds, to search: the file; for a SAZ each entry inflated and each
/// gzip or chunked body decoded; for a HAR each string, base64-decoded when it decodes.
fn planted_haystacks(out: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine;
    use std::io::Read;
    let mut hay = vec![out.to_vec()];
    if let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(out)) {
        for i in 0..zip.len() {
            let Ok(mut e) = zip.by_index(i) else { continue };
            let mut data = Vec::new();
            let _ = (&mut e).take(64 << 20).read_to_end(&mut data);
            if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..at]).to_ascii_lowercase();
                let mut body = data[at + 4..].to_vec();
                if head.contains("transfer-encoding: chunked") {
                    let mut plain = Vec::new();
                    let mut rest = &body[..];
                    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
                        let size = String::from_utf8_lossy(&rest[..eol]);
                        let Ok(n) =
                            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                        else {
                            break;
                        };
                        rest = &rest[eol + 2..];
                        if n == 0 {
                            break;
                        }
                        plain.extend_from_slice(&rest[..n.min(rest.len())]);
                        rest = &rest[(n + 2).min(rest.len())..];
                    }
                    body = plain;
                }
                if head.contains("content-encoding: gzip") {
                    let mut d = Vec::new();
                    let _ = flate2::read::MultiGzDecoder::new(&body[..])
                        .take(64 << 20)
                        .read_to_end(&mut d);
                    hay.push(d);
                }
                hay.push(body);
            }
            hay.push(data);
        }
    } else if let Ok(v) = serde_json::from_slice::<serde_json::Value>(out) {
        fn walk(v: &serde_json::Value, hay: &mut Vec<Vec<u8>>) {
            match v {
                serde_json::Value::String(s) => {
                    hay.push(s.as_bytes().to_vec());
                    let t = s.trim_end_matches('=');
                    if let Ok(d) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(t) {
                        hay.push(d);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, hay)),
                serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, hay)),
                _ => {}
            }
        }
        walk(&v, &mut hay);
    }
    hay
}

/// `redact_planted`: from the input, pick a sample (SAZ or HAR), a session, a place and an
/// encoding; plant a secret (drawn from the input) there; run the capture rewrite with the
/// redact scrubber, as `traceadal redact` does; the copy must not hold the secret, raw or in
/// base64 at any alignment, in the file, any inflated entry, decoded body or HAR string.
pub fn redact_planted(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let har = data[0] % 2 == 1;
    let pick = usize::from(data[1]);
    let place = PLACES[usize::from(data[2]) % PLACES.len()];
    let enc = usize::from(data[3]) % PLANT_ENCODINGS;
    let secret = planted_secret(&data[4..]);
    let p = planted(place, &secret);
    let input = if har {
        plant_har(pick, &p, enc)
    } else {
        plant_saz(pick, &p, enc)
    };
    let Some(input) = input else { return };
    // The plant is there to find.
    let forms = planted_forms(&secret);
    let holds = |hay: &[Vec<u8>]| {
        hay.iter().any(|h| {
            forms
                .iter()
                .any(|f| h.windows(f.len()).any(|w| w == &f[..]))
        })
    };
    assert!(holds(&planted_haystacks(&input)), "{place}: not planted");
    let mut scrubber = Placeholders::new(LIMITS);
    let out = if har {
        let limits = HarLimits::for_decoded(LIMITS.max_decoded);
        let mut out = Vec::new();
        har::rewrite_reader(Cursor::new(&input), &limits, &mut out, &mut scrubber)
            .expect("the planted HAR rewrites");
        out
    } else {
        let options = RewriteOptions {
            read: ReadOptions {
                password: None,
                limits: LIMITS,
            },
            output_password: None,
        };
        let mut out = Cursor::new(Vec::new());
        saz::rewrite::rewrite_bytes(input, &mut out, &options, &mut scrubber)
            .expect("the planted SAZ rewrites");
        out.into_inner()
    };
    assert!(
        !holds(&planted_haystacks(&out)),
        "a secret planted at {place} (encoding {enc}, {}) survives redaction",
        if har { "HAR" } else { "SAZ" }
    );
}

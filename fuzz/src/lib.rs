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
use traceadal::auth::{self, aadsts, challenge, diagnostics, ews, jwt, login, token_result};
use traceadal::capture::har::{self, HarLimits};
use traceadal::capture::http::{self, SchemeHint};
use traceadal::capture::rewrite::RewriteOptions;
use traceadal::capture::saz::SazArchive;
use traceadal::capture::saz_meta::{self, BitFlagsRadix};
use traceadal::capture::{
    body, host_of, Body, DecodeLimits, Format, Headers, Password, ReadOptions, Request, Response,
    Session, SessionResult,
};
use traceadal::capture::{formats, saz};
use traceadal::redact::{Placeholders, Redactor};

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
/// are `X-MS-Diagnostics` instead), parsed directly and as a 401 on autodiscover.
pub fn www_authenticate(data: &[u8]) {
    let t = text(data);
    let values: Vec<&str> = t.split('\n').collect();
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
    let s = session(
        "POST",
        "https://mail.contoso.com/EWS/Exchange.asmx",
        h,
        b"",
        200,
        Headers::new(),
        b"",
    );
    let _ = jwt::presented_bearer(&s);
}

/// `ews_soap`: a `GetDelegate` exchange on EWS; the bytes up to the first NUL are the
/// request body, the rest the response body. Read as the delegate check alone, and as the
/// analysis reads a session (events and body damage, `auth::read_session`).
pub fn ews_soap(data: &[u8]) {
    let (req_body, resp_body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut req = Headers::new();
    req.push("Content-Type", "text/xml; charset=utf-8");
    req.push(
        "SOAPAction",
        "\"http://schemas.microsoft.com/exchange/services/2006/messages/GetDelegate\"",
    );
    let mut resp = Headers::new();
    resp.push("Content-Type", "text/xml; charset=utf-8");
    let s = session(
        "POST",
        "https://mail.contoso.com/EWS/Exchange.asmx",
        req,
        req_body,
        200,
        resp,
        resp_body,
    );
    let _ = ews::delegate_check(&s, &LIMITS);
    let _ = auth::read_session(&s, &LIMITS);
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
            let mut out = Cursor::new(Vec::new());
            let mut result = saz::rewrite::rewrite_bytes(data, &mut out, &options, &mut scrubber);
            if let Err(traceadal::capture::CaptureErrorKind::PasswordRequired) = result {
                options.read.password = Some(Password::new("fuzz"));
                out = Cursor::new(Vec::new());
                result = saz::rewrite::rewrite_bytes(data, &mut out, &options, &mut scrubber);
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
            if let Ok(r) = har::rewrite_reader(Cursor::new(data), &limits, &mut out, &mut scrubber)
            {
                let json: serde_json::Value =
                    serde_json::from_slice(&out).expect("a rewritten HAR is JSON");
                let mapped = har::map_reader(Cursor::new(&out), &limits, map_one)
                    .expect("a rewritten HAR reads");
                assert!(mapped.len() >= r.entries, "every entry written reads back");
                let _ = json;
            }
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
    ("redact_text", redact_text),
    ("capture_rewrite", capture_rewrite),
];

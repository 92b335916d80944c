//! The redaction matrix: every secret kind traceadal claims to redact, crossed with every
//! encoding a capture can carry it in, in a SAZ and in a HAR.
//!
//! A cell is one planted session; the cells of one kind and format share one capture (the
//! sessions of `healthy-token-issued`, then one session per encoding), so the whole matrix is
//! a few dozen captures. Each cell's secret is made of pieces `M<nnn>`, a letter and 7 base62 characters (12
//! characters, unique to the cell, never in another cell) joined by the characters real
//! secrets of that kind hold (`.`, `-`, `_`, `~`, `/`, `+`, `!`, a space): a finder that stops
//! early at one of them leaves a piece behind, which the oracle finds (`tests/redact_matrix.rs`).
//! Every planted URL holds `mxcell<nnn>`, so `sessions --grep mxcell` selects the cells.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use super::pack::{self, HarEnc, SazEnc};
use super::plants::{self, Ctx, Plant, Side};
use super::Format;
use crate::actors::entra::user_token;
use crate::actors::{OFFICE_CLIENT, USER};
use crate::clock::Rng;
use crate::json::J;
use crate::wire::form;

/// The base scenario every matrix capture starts with.
pub const BASE: &str = "healthy-token-issued";

/// One cell: a secret kind in one encoding, one session of its capture.
#[derive(Clone, Debug)]
pub struct Cell {
    /// `<nnn>-<kind>-<encoding>-<format>`.
    pub id: String,
    /// Secret kind.
    pub kind: &'static str,
    /// Encoding (text escape, placement or transport).
    pub encoding: &'static str,
    /// The distinctive pieces of the secret (each must be absent from every output).
    pub pieces: Vec<String>,
    /// The session id of the cell in its capture (1-based, as `show` takes it).
    pub session: usize,
}

/// One capture of the matrix: one kind, one format, one session per encoding.
#[derive(Clone, Debug)]
pub struct MatrixCapture {
    /// `<kind>.<saz|har>`.
    pub name: String,
    /// Format.
    pub format: Format,
    /// The cells, in session order.
    pub cells: Vec<Cell>,
    /// The capture.
    pub bytes: Vec<u8>,
}

/// Secret kinds carried as a parameter (query, form, JSON, hidden input): name in ids, key.
pub const PARAM_KINDS: &[(&str, &str)] = &[
    ("access-token", "access_token"),
    ("id-token", "id_token"),
    ("refresh-token", "refresh_token"),
    ("auth-code", "code"),
    ("client-secret", "client_secret"),
    ("client-assertion", "client_assertion"),
    ("password", "password"),
    ("saml-response", "SAMLResponse"),
    ("wresult", "wresult"),
    ("code-verifier", "code_verifier"),
    ("device-code", "device_code"),
    ("dsso-token", "dssoToken"),
];

/// Secret kinds carried in a header: name in ids.
pub const HEADER_KINDS: &[&str] = &[
    "bearer",
    "basic",
    "ntlm",
    "negotiate",
    "cookie",
    "set-cookie",
    "prt-header",
    "prt-cookie",
];

/// Encodings of a parameter kind.
pub const PARAM_ENCODINGS: &[&str] = &[
    "form-post",
    "query",
    "location-query",
    "location-fragment",
    "url-encoded",
    "double-url-encoded",
    "json",
    "json-in-json",
    "json-u0022",
    "html-entity-quot",
    "html-entity-34",
    "html-form-post",
    "html-form-in-json",
    "html-form-in-json-u",
    "json-gzip",
    "json-deflate",
    "json-br",
    "json-chunked-split",
    "form-post-chunked-split",
    "html-form-post-br",
];

/// Encodings of a header kind.
pub const HEADER_ENCODINGS: &[&str] = &[
    "header",
    "header-folded",
    "header-repeated",
    "json",
    "json-in-json",
    "json-u0022",
    "har-objects-in-text",
    "html-entity-quot",
    "url-encoded",
    "text-log",
    "text-log-gzip",
    "text-log-deflate",
    "text-log-br",
    "text-log-chunked-split",
];

/// How the body of an encoding travels in each format; `None`: the format cannot carry it.
fn transport(encoding: &str, format: Format) -> Option<(SazEnc, HarEnc)> {
    let saz = match encoding {
        e if e.ends_with("-gzip") => SazEnc::Gzip,
        e if e.ends_with("-deflate") => SazEnc::Deflate,
        e if e.ends_with("-br") => SazEnc::Br,
        e if e.ends_with("-chunked-split") => SazEnc::ChunkedSplit,
        _ => SazEnc::Identity,
    };
    match format {
        Format::Saz => Some((saz, HarEnc::Text)),
        // A HAR holds bodies decoded: its one other body form is base64, which stands in for
        // the transport encodings (and a folded header does not exist in a HAR).
        Format::Har if encoding == "header-folded" => None,
        Format::Har if saz != SazEnc::Identity => Some((SazEnc::Identity, HarEnc::Base64)),
        Format::Har => Some((SazEnc::Identity, HarEnc::Text)),
    }
}

/// A cell's pieces: `M<nnn>q` and 8 base62 characters each.
fn pieces(n: usize, c: &mut Ctx, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("M{n:03}{}{}", char::from(b'q' + i as u8), c.base62(7)))
        .collect()
}

/// A JWT with the claims of a user token and `sig` as its signature.
fn jwt(c: &Ctx, sig: &str) -> String {
    user_token("https://outlook.office365.com", OFFICE_CLIENT, c.now, sig)
}

/// The PRT cookie (`x-ms-RefreshTokenCredential`): a JWT whose `refresh_token` claim is the
/// encrypted PRT and whose signature is the session key's.
fn prt_jwt(p: &[String]) -> String {
    let header = J::o(vec![
        ("alg", J::s("HS256")),
        ("kdf_ver", J::n(2)),
        ("ctx", J::s("oYKmZ8HkU1k0j3yAtT0e2QmJpXfX4b8f")),
    ]);
    let claims = J::o(vec![
        (
            "refresh_token",
            J::s(format!("AQABAAEAAAC{}-{}", p[0], p[1])),
        ),
        ("is_primary", J::s("true")),
        ("request_nonce", J::s("AwABEgEAAAACAOz_BAD0_8hK3k")),
    ]);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.compact()),
        URL_SAFE_NO_PAD.encode(claims.compact()),
        format_args!("{}_{}", p[2], p[3])
    )
}

fn wresult_xml(sig: &str) -> String {
    format!("<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\"><t:RequestedSecurityToken><saml:Assertion MajorVersion=\"1\" MinorVersion=\"1\" AssertionID=\"_a1b2c3d4\" Issuer=\"http://sts.contoso.com/adfs/services/trust\" xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignatureValue>{sig}</ds:SignatureValue></ds:Signature></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>")
}

/// The value of a parameter kind, built around its pieces.
fn param_value(kind: &str, p: &[String], c: &Ctx) -> String {
    match kind {
        "access-token" | "id-token" | "client-assertion" => {
            jwt(c, &format!("{}-{}_{}{}", p[0], p[1], p[2], p[3]))
        }
        "refresh-token" => format!("0.AXoA{}-{}.{}_{}", p[0], p[1], p[2], p[3]),
        "auth-code" => format!(
            "1.AXoA{}-{}_{}.AgABAAIAAAD--DLA3VO7Q{}",
            p[0], p[1], p[2], p[3]
        ),
        "client-secret" => format!("{}~{}.{}{}", p[0], p[1], p[2], p[3]),
        "password" => format!("{} {}/{}+!@{}", p[0], p[1], p[2], p[3]),
        "saml-response" => STANDARD.encode(plants::saml_xml(&format!(
            "{}+{}/{}{}==",
            p[0], p[1], p[2], p[3]
        ))),
        "wresult" => wresult_xml(&format!("{}+{}/{}{}==", p[0], p[1], p[2], p[3])),
        "code-verifier" => format!("{}{}-{}_{}~", p[0], p[1], p[2], p[3]),
        "device-code" => format!("DAQABAAEAAAD{}-{}_{}{}", p[0], p[1], p[2], p[3]),
        "dsso-token" => format!("{}+{}/{}{}==", p[0], p[1], p[2], p[3]),
        _ => String::new(),
    }
}

/// The header of a header kind: (request side?, name, value).
fn header_of(kind: &str, p: &[String], c: &mut Ctx) -> (bool, &'static str, String) {
    match kind {
        "bearer" => (
            true,
            "Authorization",
            format!(
                "Bearer {}",
                jwt(c, &format!("{}-{}_{}{}", p[0], p[1], p[2], p[3]))
            ),
        ),
        "basic" => (
            true,
            "Authorization",
            format!(
                "Basic {}",
                STANDARD.encode(format!("{USER}:{} {}!{}/{}", p[0], p[1], p[2], p[3]))
            ),
        ),
        "ntlm" => (
            true,
            "Authorization",
            format!(
                "NTLM {}",
                STANDARD.encode(plants::ntlm_authenticate(c, &p.concat()))
            ),
        ),
        "negotiate" => (
            true,
            "Authorization",
            format!(
                "Negotiate {}",
                STANDARD.encode(plants::kerberos_ap_req(c, &p.concat()))
            ),
        ),
        "cookie" => (
            true,
            "Cookie",
            format!(
                "x-ms-gateway-slice=estsfd; ESTSAUTH=1.AXoA{}-{}_{}{}; buid=0.AXoAx",
                p[0], p[1], p[2], p[3]
            ),
        ),
        "set-cookie" => (
            false,
            "Set-Cookie",
            format!(
                "ESTSAUTHPERSISTENT=1.AXoA{}-{}_{}.AgAB{}; domain=.login.microsoftonline.com; expires=Sun, 20-Dec-2026 07:14:40 GMT; path=/; secure; HttpOnly; SameSite=None",
                p[0], p[1], p[2], p[3]
            ),
        ),
        "prt-header" => (true, "x-ms-RefreshTokenCredential", prt_jwt(p)),
        _ => (
            true,
            "Cookie",
            format!(
                "x-ms-RefreshTokenCredential={}; x-ms-gateway-slice=estsfd",
                prt_jwt(p)
            ),
        ),
    }
}

/// Percent-encoding of every byte but the unreserved ones.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON string literal's inside, `/` as `\/` (PHP's and .NET's older writers).
fn json_slash(s: &str) -> String {
    let q = serde_json_string(s);
    q.replace('/', "\\/")
}

/// A JSON string literal's inside (quotes and backslashes escaped).
fn serde_json_string(s: &str) -> String {
    let j = J::s(s).compact();
    j[1..j.len() - 1].to_string()
}

/// System.Text.Json's default escaping: `"`, `<`, `>`, `&`, `'`, `+` as `\u00XX`.
fn json_u(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\u0022"),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '\'' => out.push_str("\\u0027"),
            '+' => out.push_str("\\u002B"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(ch),
        }
    }
    out
}

fn html(s: &str, quot: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', quot)
}

const INVALID_GRANT: &str = "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.\\r\\nTrace ID: 2f0c5d1e-0000-4000-8000-1a2b3c4d5e6f\\r\\nCorrelation ID: 7d3e9a10-0000-4000-8000-0f1e2d3c4b5a\\r\\nTimestamp: 2026-11-20 07:14:41Z\",\"error_codes\":[70008],\"timestamp\":\"2026-11-20 07:14:41Z\",\"trace_id\":\"2f0c5d1e-0000-4000-8000-1a2b3c4d5e6f\",\"correlation_id\":\"7d3e9a10-0000-4000-8000-0f1e2d3c4b5a\"}";
const STATE: &str = "OpenIdConnect.AuthenticationProperties%3dAQAAANCMnd8BFdERjHoAwE_Cl";
const CB: &str = "https://outlook.office.com/owa/";

/// The planted session of a parameter kind in one encoding.
fn param_plant(
    kind: &'static str,
    key: &str,
    enc: &'static str,
    n: usize,
    c: &mut Ctx,
) -> (Plant, Vec<String>) {
    let p = pieces(n, c, 4);
    let v = param_value(kind, &p, c);
    let mut pl = plants::plant(kind, enc, plants::EDGE);
    let marker = format!("mxcell{n:03}");
    let authorize = format!(
        "https://{}/common/oauth2/v2.0/authorize?client_id={OFFICE_CLIENT}&response_mode=form_post&{marker}=1",
        plants::LOGIN
    );
    let query = form(&[
        ("client_id", OFFICE_CLIENT),
        (key, &v),
        ("state", "Q2xpZW50U3RhdGU"),
        ("redirect_uri", CB),
    ]);
    let json = format!(
        "{{\"client_id\":\"{OFFICE_CLIENT}\",\"{key}\":\"{}\",\"redirect_uri\":\"{CB}\"}}",
        serde_json_string(&v)
    );
    let form_page = format!(
        "<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"{CB}\"><input type=\"hidden\" name=\"{key}\" value=\"{}\" /><input type=\"hidden\" name=\"state\" value=\"{STATE}\" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">document.forms[0].submit();</script></body></html>",
        html(&v, "&quot;")
    );
    let base = enc
        .trim_end_matches("-gzip")
        .trim_end_matches("-deflate")
        .trim_end_matches("-br")
        .trim_end_matches("-chunked-split");
    match base {
        "form-post" => {
            // A token request (ROPC for a password) that Entra ID refuses.
            let grant = match key {
                "password" => "password",
                "code" => "authorization_code",
                "refresh_token" => "refresh_token",
                "device_code" => "urn:ietf:params:oauth:grant-type:device_code",
                _ => "client_credentials",
            };
            let body = form(&[
                ("client_id", OFFICE_CLIENT),
                ("grant_type", grant),
                ("username", USER),
                (key, &v),
                ("resource", "https://outlook.office365.com"),
            ]);
            plants::token_request(
                &mut pl,
                c,
                &format!("/common/oauth2/token?{marker}=1"),
                "application/x-www-form-urlencoded",
                body.into_bytes(),
            );
            plants::json_response(&mut pl, c, INVALID_GRANT.into());
            pl.status = 400;
            pl.reason = "Bad Request".into();
            pl.side = Side::Request;
        }
        "query" => {
            plants::edge_get(&mut pl, &format!("{CB}?{query}&{marker}=1"), None);
            plants::html_response(&mut pl, c, "<html><body>OK</body></html>".into(), &[]);
        }
        "location-query" | "location-fragment" => {
            plants::edge_get(&mut pl, &authorize, None);
            plants::html_response(&mut pl, c, String::new(), &[]);
            pl.status = 302;
            pl.reason = "Found".into();
            let sep = if base == "location-query" { '?' } else { '#' };
            pl.resp_headers
                .insert(1, ("Location".into(), format!("{CB}{sep}{query}")));
        }
        "url-encoded" | "double-url-encoded" => {
            let inner = format!("{CB}?{query}");
            let once = pct(&inner);
            let arg = if base == "url-encoded" {
                once
            } else {
                pct(&once)
            };
            plants::edge_get(
                &mut pl,
                &format!(
                    "https://{}/common/reprocess?{marker}=1&ru={arg}",
                    plants::LOGIN
                ),
                None,
            );
            plants::html_response(&mut pl, c, "<html><body>OK</body></html>".into(), &[]);
        }
        _ => {
            let body = match base {
                "json" => json.clone(),
                "json-in-json" => format!("{{\"status\":200,\"body\":\"{}\"}}", json_slash(&json)),
                "json-u0022" => format!("{{\"status\":200,\"body\":\"{}\"}}", json_u(&json)),
                "html-entity-quot" => format!(
                    "<html><body><pre>{}</pre></body></html>",
                    html(&json, "&quot;")
                ),
                "html-entity-34" => format!(
                    "<html><body><pre>{}</pre></body></html>",
                    html(&json, "&#34;")
                ),
                "html-form-post" => form_page.clone(),
                "html-form-in-json" => format!("{{\"html\":\"{}\"}}", json_slash(&form_page)),
                _ => format!("{{\"html\":\"{}\"}}", json_u(&form_page)),
            };
            plants::edge_get(&mut pl, &authorize, None);
            if body.starts_with('{') {
                plants::json_response(&mut pl, c, body);
            } else {
                plants::html_response(&mut pl, c, body, &[]);
            }
            pl.side = Side::Response;
        }
    }
    (pl, p)
}

/// The planted session of a header kind in one encoding.
fn header_plant(
    kind: &'static str,
    enc: &'static str,
    n: usize,
    c: &mut Ctx,
) -> (Plant, Vec<String>) {
    let p = pieces(n, c, 4);
    let (request, name, value) = header_of(kind, &p, c);
    let mut pl = plants::plant(kind, enc, plants::EDGE);
    let marker = format!("mxcell{n:03}");
    let url = format!("{CB}service.svc?action=GetAccessToken&{marker}=1");
    let line = format!("{name}: {value}");
    let base = enc
        .trim_end_matches("-gzip")
        .trim_end_matches("-deflate")
        .trim_end_matches("-br")
        .trim_end_matches("-chunked-split");
    let obj = format!("{{\"{name}\":\"{}\"}}", serde_json_string(&value));
    let body = match base {
        "json" => Some(format!("{{\"request\":{{\"headers\":{obj}}}}}")),
        "json-in-json" => Some(format!("{{\"log\":\"{}\"}}", json_slash(&obj))),
        "json-u0022" => Some(format!("{{\"log\":\"{}\"}}", json_u(&obj))),
        "har-objects-in-text" => Some(format!(
            "{{\"headers\":[{{\"name\":\"Accept\",\"value\":\"*/*\"}},{{\"name\":\"{name}\",\"value\":\"{}\"}}]}}",
            serde_json_string(&value)
        )),
        "html-entity-quot" => Some(format!(
            "<html><body><pre>{}</pre></body></html>",
            html(&obj, "&quot;")
        )),
        "text-log" => Some(format!(
            "2026-11-20T07:14:40.120Z Sending request\r\nGET {url} HTTP/1.1\r\n{line}\r\nHost: outlook.office.com\r\n\r\n"
        )),
        _ => None,
    };
    match (base, body) {
        (_, Some(body)) => {
            plants::edge_get(&mut pl, &url, None);
            if body.starts_with('{') {
                plants::json_response(&mut pl, c, body);
            } else if body.starts_with('<') {
                plants::html_response(&mut pl, c, body, &[]);
            } else {
                plants::json_response(&mut pl, c, body);
                for (hn, hv) in pl.resp_headers.iter_mut() {
                    if hn == "Content-Type" {
                        *hv = "text/plain; charset=utf-8".into();
                    }
                }
            }
            pl.side = Side::Response;
        }
        ("url-encoded", None) => {
            plants::edge_get(&mut pl, &format!("{url}&trace={}", pct(&line)), None);
            plants::html_response(&mut pl, c, "<html><body>OK</body></html>".into(), &[]);
        }
        _ => {
            plants::edge_get(&mut pl, &url, None);
            plants::html_response(&mut pl, c, "<html><body>OK</body></html>".into(), &[]);
            let value = match base {
                // The value after a fold: the first line ends after the first word.
                "header-folded" => match value.split_once(' ') {
                    Some((a, b)) => format!("{a}\r\n {b}"),
                    None => value,
                },
                _ => value,
            };
            let headers = if request {
                &mut pl.req_headers
            } else {
                &mut pl.resp_headers
            };
            let at = if request { 7.min(headers.len()) } else { 1 };
            headers.insert(at, (name.to_string(), value));
            if base == "header-repeated" {
                let first = match name {
                    "Cookie" => "MSCC=NR; MicrosoftApplicationsTelemetryDeviceId=3f1e".to_string(),
                    "Set-Cookie" => "fpc=AkGb3; expires=Sun, 20-Dec-2026 07:14:40 GMT; path=/; secure; HttpOnly; SameSite=None".to_string(),
                    "Authorization" => "Bearer".to_string(),
                    _ => "AQAB".to_string(),
                };
                headers.insert(at, (name.to_string(), first));
            }
        }
    }
    (pl, p)
}

/// Every matrix capture, in a fixed order (deterministic bytes).
pub fn captures() -> Vec<MatrixCapture> {
    let Some(base) = crate::capture(BASE) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut n = 0usize;
    let kinds = PARAM_KINDS
        .iter()
        .map(|&(k, key)| (k, Some(key)))
        .chain(HEADER_KINDS.iter().map(|&k| (k, None)));
    for (kind, key) in kinds {
        for format in [Format::Saz, Format::Har] {
            let encodings = if key.is_some() {
                PARAM_ENCODINGS
            } else {
                HEADER_ENCODINGS
            };
            let mut built = Vec::new();
            let mut cells = Vec::new();
            for &enc in encodings {
                let Some((saz_enc, har_enc)) = transport(enc, format) else {
                    continue;
                };
                n += 1;
                let mut c = Ctx {
                    now: pack::planted_begin(&base),
                    rng: Rng::for_name(&format!("matrix-{n}")),
                };
                let (plant, pieces) = match key {
                    Some(key) => param_plant(kind, key, enc, n, &mut c),
                    None => header_plant(kind, enc, n, &mut c),
                };
                cells.push(Cell {
                    id: format!("{n:03}-{kind}-{enc}-{}", format.ext()),
                    kind,
                    encoding: enc,
                    pieces,
                    session: base.sessions.len() + built.len() + 1,
                });
                built.push((plant, saz_enc, har_enc));
            }
            let bytes = match format {
                Format::Saz => {
                    let v: Vec<(&Plant, SazEnc)> = built.iter().map(|(p, s, _)| (p, *s)).collect();
                    pack::saz_many(&base, &v)
                }
                Format::Har => {
                    let v: Vec<(&Plant, HarEnc)> = built.iter().map(|(p, _, h)| (p, *h)).collect();
                    pack::har_many(&base, &v)
                }
            };
            out.push(MatrixCapture {
                name: format!("{kind}.{}", format.ext()),
                format,
                cells,
                bytes,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_unique_deterministic_and_split_where_asked() {
        let a = captures();
        let b = captures();
        assert_eq!(a.len(), (PARAM_KINDS.len() + HEADER_KINDS.len()) * 2);
        let mut pieces = std::collections::BTreeSet::new();
        for (x, y) in a.iter().zip(&b) {
            assert!(x.bytes == y.bytes, "{} differs between runs", x.name);
            for c in &x.cells {
                for p in &c.pieces {
                    assert_eq!(p.len(), 12, "{p}");
                    assert!(pieces.insert(p.clone()), "piece {p} twice");
                }
            }
        }
        assert!(pieces.len() > 1000, "{}", pieces.len());
        // 7-byte chunks split every piece of 12 bytes.
        let framed = crate::wire::chunk(b"M001qAbCdEfG", 7);
        assert!(!framed.windows(12).any(|w| w == b"M001qAbCdEfG"));
    }
}

//! MAPI over HTTP answers (`/mapi/emsmdb`, `/mapi/nspi`): the transport's `X-ResponseCode`
//! ([MS-OXCMAPIHTTP] 2.2.3.3.3) with `X-DiagInfo` and `X-BEServer`, and the error a
//! `Connect` or `Bind` answered inside a transport success (`ecProtocolDisabled` when MAPI is
//! disabled for the mailbox, ...).
//!
//! Bodies are binary and an `Execute` answer carries mailbox content, so only these are
//! decoded: the answers to `Connect` and `Bind` (a few dozen bytes), answers whose
//! `X-ResponseCode` is not 0 (the body is then diagnostic text) and 403s. Of a body only two
//! integers and whether it spells `ProtocolDisabled` or a Client Access Rule are kept.

use serde::Serialize;

use super::target::Target;
use super::text::contains_ignore_case;
use crate::capture::body::Decoded;
use crate::capture::url_parts::{strip_query, UrlParts};
use crate::capture::{DecodeLimits, Session};

/// `ecProtocolDisabled`: the server disallows this user this protocol ([MS-OXCRPC]).
pub const EC_PROTOCOL_DISABLED: u32 = 0x7D8;

/// One MAPI over HTTP answer worth keeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapiAnswer {
    pub session: u64,
    /// Without the query (it names the mailbox GUID).
    pub url: String,
    /// `emsmdb` (mailbox) or `nspi` (address book).
    pub endpoint: &'static str,
    /// `X-RequestType` of the request (else of the answer): Connect, Execute, Bind, ...
    pub request_type: Option<String>,
    pub status: Option<u16>,
    /// `X-ResponseCode`: 0 is success of the transport.
    pub response_code: Option<u32>,
    pub diag_info: Option<String>,
    pub be_server: Option<String>,
    /// The `ErrorCode` of a `Connect` / `Bind` answer whose `StatusCode` was 0.
    pub connect_error: Option<u32>,
    /// `ecProtocolDisabled`, or the answer spells `ProtocolDisabled`.
    pub protocol_disabled: bool,
    /// A 403 whose body names a Client Access Rule.
    pub client_access_rule: bool,
}

impl MapiAnswer {
    /// A `Connect` (emsmdb) or `Bind` (nspi): the start of a session context.
    pub fn is_connect(&self) -> bool {
        self.request_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("Connect") || t.eq_ignore_ascii_case("Bind"))
    }

    /// A `Connect` / `Bind` the transport and the server both accepted.
    pub fn connected(&self) -> bool {
        self.is_connect()
            && self.status == Some(200)
            && self.response_code == Some(0)
            && self.connect_error.is_none_or(|e| e == 0)
            && !self.protocol_disabled
    }

    /// Whether the answer failed in a way a rule may report.
    pub fn failed(&self) -> bool {
        self.response_code.is_some_and(|c| c != 0)
            || self.connect_error.is_some_and(|e| e != 0)
            || self.protocol_disabled
            || self.client_access_rule
    }
}

/// The MAPI endpoint of `url`, when it is one.
pub fn endpoint_of(url: &str) -> Option<&'static str> {
    endpoint_of_path(UrlParts::split(url).path)
}

/// [`endpoint_of`] of a URL's path.
pub fn endpoint_of_path(path: &str) -> Option<&'static str> {
    if contains_ignore_case(path, "/mapi/emsmdb") {
        Some("emsmdb")
    } else if contains_ignore_case(path, "/mapi/nspi") {
        Some("nspi")
    } else {
        None
    }
}

/// Whether a MAPI over HTTP URL: its answers' bodies may be read.
pub fn is_mapi_url(url: &str) -> bool {
    endpoint_of(url).is_some()
}

/// What [`mapi_answer`] found, and whether it decoded the answer's body.
#[derive(Debug, Default)]
pub struct MapiReading {
    pub answer: Option<MapiAnswer>,
    pub body_read: bool,
}

/// The MAPI answer of one session, when it is a `Connect`/`Bind`, failed or was refused.
pub fn mapi_answer(session: &Session, limits: &DecodeLimits) -> MapiReading {
    mapi_answer_at(&Target::of(session), limits)
}

/// [`mapi_answer`] of a session whose URL and host are read.
pub fn mapi_answer_at(target: &Target, limits: &DecodeLimits) -> MapiReading {
    let Some(endpoint) = endpoint_of_path(target.path()) else {
        return MapiReading::default();
    };
    let session = target.session;
    let Some(response) = session.response.as_ref() else {
        return MapiReading::default();
    };
    let header = |name: &str| {
        response
            .headers
            .get(name)
            .map(|v| {
                crate::redact::cut::prefix_chars(v.trim(), 200)
                    .0
                    .to_string()
            })
            .filter(|v| !v.is_empty())
    };
    let request_type = session
        .request
        .headers
        .get("x-requesttype")
        .map(|v| crate::redact::cut::prefix_chars(v.trim(), 40).0.to_string())
        .filter(|v| !v.is_empty())
        .or_else(|| header("x-requesttype").map(|v| v.chars().take(40).collect()));
    let response_code = header("x-responsecode").and_then(|v| v.parse::<u32>().ok());
    let status = Some(response.status);
    let mut answer = MapiAnswer {
        session: session.id,
        url: strip_query(&session.request.url).to_string(),
        endpoint,
        request_type,
        status,
        response_code,
        diag_info: header("x-diaginfo"),
        be_server: header("x-beserver"),
        connect_error: None,
        protocol_disabled: false,
        client_access_rule: false,
    };
    let body_read = !response.body.is_empty()
        && (answer.is_connect() || response_code.is_some_and(|c| c != 0) || response.status == 403);
    if body_read {
        let decoded = target.response_body(limits);
        if let Some(body) = decoded.as_deref().and_then(Decoded::whole) {
            answer.protocol_disabled = memchr::memmem::find(body, b"ProtocolDisabled").is_some();
            if response.status == 403 {
                let lower = body.to_ascii_lowercase();
                answer.client_access_rule = memchr::memmem::find(&lower, b"client access rule")
                    .is_some()
                    || memchr::memmem::find(&lower, b"clientaccessrule").is_some();
            }
            if answer.is_connect() && response_code == Some(0) && response.status == 200 {
                answer.connect_error = connect_error(body);
                if answer.connect_error == Some(EC_PROTOCOL_DISABLED) {
                    answer.protocol_disabled = true;
                }
            }
        }
    }
    let keep = answer.is_connect() || answer.failed() || response.status == 403;
    MapiReading {
        answer: keep.then_some(answer),
        body_read,
    }
}

/// The `ErrorCode` of a `Connect`/`Bind` answer: after the `PROCESSING`/`DONE` lines and the
/// meta headers that end with an empty line, `StatusCode` (u32 LE) then `ErrorCode` (u32
/// LE). `None` when the body has no such shape or its `StatusCode` is not 0.
fn connect_error(body: &[u8]) -> Option<u32> {
    let done = memchr::memmem::find(body, b"DONE\r\n")?;
    let rest = body.get(done..)?;
    let end = memchr::memmem::find(rest, b"\r\n\r\n")?;
    let bin = rest.get(end + 4..)?;
    let word = |i: usize| {
        bin.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let status = word(0)?;
    (status == 0).then(|| word(4)).flatten()
}

/// The meaning of an `X-ResponseCode` ([MS-OXCMAPIHTTP] 2.2.3.3.3).
pub fn response_code_meaning(code: u32) -> &'static str {
    match code {
        0 => "Success",
        1 => "Unknown Failure",
        2 => "Invalid Verb",
        3 => "Invalid Path",
        4 => "Invalid Header",
        5 => "Invalid Request Type",
        6 => "Invalid Context Cookie",
        7 => "Missing Header",
        8 => "Anonymous Not Allowed",
        9 => "Too Large",
        10 => "Context Not Found",
        11 => "No Privilege",
        12 => "Invalid Request Body",
        13 => "Missing Cookie",
        14 => "Reserved",
        15 => "Invalid Sequence",
        16 => "Endpoint Disabled",
        17 => "Invalid Response",
        18 => "Endpoint Shutting Down",
        _ => "not defined by [MS-OXCMAPIHTTP]",
    }
}

/// The name of a `Connect` error code ([MS-OXCRPC] 3.1.4.1), for the ones a client meets.
pub fn connect_error_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0x7D8 => "ecProtocolDisabled",
        0x3EB => "ecUnknownUser",
        0x3F2 => "ecLoginPerm",
        0x4DF => "ecClientVerDisallowed",
        0x4E0 => "ecRpcHttpDisallowed",
        0x4E1 => "ecCachedModeRequired",
        0x80040111 => "ecLoginFailure",
        0x80070005 => "ecAccessDenied",
        0x80040110 => "ecVersionMismatch",
        0x970 => "ecNotEncrypted",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;
    use crate::capture::Body;

    const URL: &str = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com";

    fn connect(body: &[u8], code: &str) -> Session {
        let mut s = S::new(4, "POST", URL, 200)
            .req_header("X-RequestType", "Connect")
            .resp_header("X-ResponseCode", code)
            .resp_header("X-DiagInfo", "EXCH01")
            .0;
        if let Some(r) = s.response.as_mut() {
            r.body = Body {
                raw: body.to_vec(),
                wire: false,
                truncated: false,
            };
        }
        s
    }

    fn body(status: u32, error: u32) -> Vec<u8> {
        let mut b = b"PROCESSING\r\nDONE\r\nX-ElapsedTime: 3\r\nX-StartTime: x\r\n\r\n".to_vec();
        b.extend_from_slice(&status.to_le_bytes());
        b.extend_from_slice(&error.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        b
    }

    #[test]
    fn connect_success_and_protocol_disabled() {
        let limits = DecodeLimits::default();
        let ok = mapi_answer(&connect(&body(0, 0), "0"), &limits);
        let a = ok.answer.expect("a connect is kept");
        assert!(a.connected() && !a.failed() && ok.body_read);
        assert_eq!(a.url, "https://mail.contoso.com/mapi/emsmdb/");
        let off = mapi_answer(&connect(&body(0, EC_PROTOCOL_DISABLED), "0"), &limits)
            .answer
            .expect("kept");
        assert!(off.protocol_disabled && off.failed() && !off.connected());
        let text = mapi_answer(
            &connect(b"MapiExceptionProtocolDisabled: ...", "0"),
            &limits,
        )
        .answer
        .expect("kept");
        assert!(text.protocol_disabled);
    }

    #[test]
    fn transport_errors_and_noise() {
        let limits = DecodeLimits::default();
        let mut s = connect(b"Context not found", "10");
        s.request.headers = crate::capture::Headers::new();
        s.request.headers.push("X-RequestType", "Execute");
        let a = mapi_answer(&s, &limits).answer.expect("a failure is kept");
        assert_eq!(a.response_code, Some(10));
        assert_eq!(a.diag_info.as_deref(), Some("EXCH01"));
        assert!(a.failed() && !a.is_connect());
        // A healthy Execute is no event and its body is not decoded.
        let mut s = connect(b"\x00\x01secret mail", "0");
        s.request.headers = crate::capture::Headers::new();
        s.request.headers.push("X-RequestType", "Execute");
        let r = mapi_answer(&s, &limits);
        assert!(r.answer.is_none() && !r.body_read);
        assert!(!is_mapi_url("https://mail.contoso.com/ews/exchange.asmx"));
        assert_eq!(
            endpoint_of("https://m.contoso.com/MAPI/nspi/?x"),
            Some("nspi")
        );
        assert_eq!(response_code_meaning(16), "Endpoint Disabled");
        assert_eq!(connect_error_name(0x7D8), Some("ecProtocolDisabled"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), code in "[0-9a-z]{0,4}") {
            let _ = mapi_answer(&connect(&b, &code), &DecodeLimits::default());
            let _ = connect_error(&b);
        }
    }
}

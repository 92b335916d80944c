//! What an authority answered: a token (never kept), or an AAD error with every AADSTS code.
//!
//! Entra puts an error in one of three places: the token endpoint's JSON (`error`,
//! `error_description`, `error_codes`, ...), a redirect to the client's redirect URI
//! (`?error=...&error_description=...`, or in the fragment), or the HTML sign-in page whose
//! `$Config={...}` holds `iErrorCode`, `sErrorCode` and `strServiceExceptionMessage`.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;
use url::form_urlencoded;

use super::target::Target;
use super::text::split_url;
use crate::capture::{DecodeLimits, Session};

/// Where the error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSource {
    /// The token endpoint's JSON 400.
    Json,
    /// A redirect to the redirect URI with `error=...&error_description=...`.
    Redirect,
    /// The HTML sign-in page's `$Config`.
    SignInPage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AadError {
    pub source: ErrorSource,
    /// OAuth `error` (`invalid_resource`, `invalid_grant`, ...).
    pub error: Option<String>,
    /// Redacted `error_description`, first line.
    pub description: Option<String>,
    /// Every AADSTS code, in order, without duplicates.
    pub codes: Vec<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
    /// The resource principal or application named in the message (500011 / 50001).
    pub resource_named: Option<String>,
    /// The tenant named in the message.
    pub tenant_named: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TokenOutcome {
    /// A token was issued. The token itself is never kept.
    Issued {
        token_type: Option<String>,
        resource: Option<String>,
        scope: Option<String>,
        expires_in: Option<u64>,
    },
    AadError(AadError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResult {
    pub session: u64,
    pub status: u16,
    pub outcome: TokenOutcome,
}

/// Longest `description` kept, in chars.
const MAX_DESCRIPTION: usize = 1024;

/// The text before the first line break (`\r\n`, `\n` or `\r`).
fn first_line(s: &str) -> &str {
    match s.find(['\r', '\n']) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// At most `max` chars of `s`, with `…` when something was cut, cut where no secret is
/// left half shown (`redact::cut::prefix`).
fn cap_chars(s: &str, max: usize) -> String {
    match crate::redact::cut::prefix_chars(s, max) {
        (kept, true) => format!("{kept}…"),
        (all, false) => all.to_string(),
    }
}

/// Extract every AADSTS code from free text (`AADSTS500011: ...`), in order of first
/// appearance, without duplicates. The prefix is matched case-insensitively.
///
/// A code cut short by a truncated message (`...AADSTS5000` at the very end) yields the
/// digits that are there (`5000`): the text cannot tell a cut code from a short one, and
/// dropping it would hide that an error was reported at all. Digit runs with a leading `0`
/// and runs too long for a code (more than 9 digits) are not codes.
pub fn aadsts_codes(text: &str) -> Vec<u32> {
    const PREFIX: &[u8] = b"AADSTS";
    let b = text.as_bytes();
    let mut seen = HashSet::new();
    let mut codes = Vec::new();
    let mut i = 0;
    while i + PREFIX.len() <= b.len() {
        if !b[i..i + PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
            i += 1;
            continue;
        }
        let start = i + PREFIX.len();
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        // Entra codes never start with 0: `AADSTS0...` is not a code.
        if end > start && end - start <= 9 && b[start] != b'0' {
            if let Ok(code) = text[start..end].parse::<u32>() {
                if seen.insert(code) {
                    codes.push(code);
                }
            }
        }
        i = end.max(start);
    }
    codes
}

/// What an `error_description` (or a sign-in page's exception message) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescriptionFacts {
    /// The first line, capped.
    pub first_line: Option<String>,
    pub codes: Vec<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
    pub resource_named: Option<String>,
    pub tenant_named: Option<String>,
}

/// Read an Entra error message: its first line, every AADSTS code, the `Trace ID:`,
/// `Correlation ID:` and `Timestamp:` lines, and the resource principal / application and
/// tenant it names (500011, legacy 50001).
pub fn describe(message: &str) -> DescriptionFacts {
    let line = first_line(message).trim();
    let mut facts = DescriptionFacts {
        first_line: (!line.is_empty()).then(|| cap_chars(line, MAX_DESCRIPTION)),
        codes: aadsts_codes(message),
        ..DescriptionFacts::default()
    };
    for l in message.lines() {
        let l = l.trim();
        let value = |prefix: &str| {
            l.get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .and_then(|_| l.get(prefix.len()..))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if let Some(v) = value("Trace ID:") {
            facts.trace_id.get_or_insert(v);
        } else if let Some(v) = value("Correlation ID:") {
            facts.correlation_id.get_or_insert(v);
        } else if let Some(v) = value("Timestamp:") {
            facts.timestamp.get_or_insert(v);
        }
    }
    let (resource, tenant) = named_in(line);
    facts.resource_named = resource;
    facts.tenant_named = tenant;
    facts
}

/// The resource principal (500011) or application (50001) and the tenant a message names.
fn named_in(line: &str) -> (Option<String>, Option<String>) {
    const SUBJECTS: [&str; 2] = ["The resource principal named ", "The application named "];
    const NOT_FOUND: &str = " was not found";
    const TENANT: &str = "in the tenant named ";
    let mut resource = None;
    for subject in SUBJECTS {
        if let Some(p) = line.find(subject) {
            let rest = &line[p + subject.len()..];
            if let Some(q) = rest.find(NOT_FOUND) {
                let name = rest[..q].trim();
                if !name.is_empty() {
                    resource = Some(name.to_string());
                }
            }
            break;
        }
    }
    let tenant = line.find(TENANT).and_then(|p| {
        let rest = &line[p + TENANT.len()..];
        // Where the tenant's name ends: the next sentence Entra writes, else the end.
        let end = ["This can happen", "You might have", "This could happen"]
            .iter()
            .filter_map(|t| rest.find(t))
            .min();
        let name = match end {
            Some(e) => &rest[..e],
            None => rest.find(". ").map(|e| &rest[..e + 1]).unwrap_or(rest),
        };
        let name = name.trim_end();
        let name = name.strip_suffix('.').unwrap_or(name).trim();
        (!name.is_empty()).then(|| name.to_string())
    });
    (resource, tenant)
}

/// The error a sign-in page's `$Config` carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInPageError {
    pub i_error_code: Option<u32>,
    pub s_error_code: Option<String>,
    pub message: Option<String>,
    pub correlation_id: Option<String>,
}

impl SignInPageError {
    /// Whether the page reports an error at all (a normal sign-in page has none).
    pub fn is_error(&self) -> bool {
        self.i_error_code.is_some_and(|c| c != 0)
            || self
                .s_error_code
                .as_deref()
                .is_some_and(|c| !c.is_empty() && c != "0")
            || self
                .message
                .as_deref()
                .is_some_and(|m| !m.trim().is_empty())
    }
}

/// The end (exclusive) of the JavaScript object literal opening at `start` (a `{`): braces are
/// counted outside `"`/`'` strings, with `\` escapes. `None` when it never closes.
fn object_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for (i, &c) in b.iter().enumerate().skip(start) {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The text of the `$Config = {...}` object: from its `{` to the matching `}`, or to the end
/// of the page when it never closes.
fn config_object(html: &str) -> Option<&str> {
    let b = html.as_bytes();
    let mut from = 0;
    while let Some(p) = html.get(from..).and_then(|h| h.find("$Config")) {
        let at = from + p;
        let mut i = at + "$Config".len();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b'{' {
                let end = object_end(b, i).unwrap_or(b.len());
                return html.get(i..end);
            }
        }
        from = at + 1;
    }
    None
}

// One idiom for patterns written in the source (as in `redact::patterns`): compiled on first
// use, and a pattern that does not compile panics there, a bug a unit test
// (`every_static_pattern_compiles`) finds, never a pattern silently switched off.
fn compile(re: &str) -> Regex {
    Regex::new(re).unwrap_or_else(|e| panic!("static regex: {e}"))
}

static RE_I_ERROR: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"["']?\biErrorCode["']?\s*:\s*["']?(\d{1,9})"#));
static RE_S_ERROR: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"["']?\bsErrorCode["']?\s*:\s*["']?(\d{1,9})"#));
static RE_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r#"["']?\bstrServiceExceptionMessage["']?\s*:\s*"((?:[^"\\]|\\.)*)"?"#)
});
static RE_CORRELATION: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"["']?\bcorrelationId["']?\s*:\s*"([0-9A-Fa-f-]{8,64})""#));

fn capture<'t>(re: &LazyLock<Regex>, text: &'t str) -> Option<&'t str> {
    re.captures(text)?.get(1).map(|m| m.as_str())
}

/// The error in a sign-in page's `$Config={...};`, if the page has a `$Config`.
///
/// The object is found by brace matching that knows JavaScript strings. When it is valid
/// JSON, the keys are read from it; otherwise (JavaScript that is not JSON, a page cut
/// short) the keys are picked out with patterns.
pub fn sign_in_page_error(html: &str) -> Option<SignInPageError> {
    let object = config_object(html)?;
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(object) {
        let num = |k: &str| match map.get(k) {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let text = |k: &str| match map.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        return Some(SignInPageError {
            i_error_code: num("iErrorCode"),
            s_error_code: text("sErrorCode"),
            message: text("strServiceExceptionMessage"),
            correlation_id: text("correlationId"),
        });
    }
    let message = capture(&RE_MESSAGE, object).map(|raw| {
        // A JSON string's escapes; when they are not valid JSON, the raw text.
        let quoted = format!("\"{raw}\"");
        serde_json::from_str::<String>(&quoted).unwrap_or_else(|_| raw.to_string())
    });
    Some(SignInPageError {
        i_error_code: capture(&RE_I_ERROR, object).and_then(|c| c.parse().ok()),
        s_error_code: capture(&RE_S_ERROR, object).map(str::to_string),
        message: message.filter(|m| !m.is_empty()),
        correlation_id: capture(&RE_CORRELATION, object).map(str::to_string),
    })
}

fn merge_codes(first: &[u32], then: &[u32]) -> Vec<u32> {
    let mut seen = HashSet::new();
    first
        .iter()
        .chain(then)
        .copied()
        .filter(|&c| c != 0 && seen.insert(c))
        .collect()
}

fn json_str(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// The AAD error in a redirect `Location` (`?error=...` or `#error=...`).
pub fn redirect_error(location: &str) -> Option<AadError> {
    let (_, query, fragment) = split_url(location);
    for part in [query, fragment].into_iter().flatten() {
        let mut error = None;
        let mut description = None;
        let mut codes_param = None;
        let mut trace_id = None;
        let mut correlation_id = None;
        let mut timestamp = None;
        for (k, v) in form_urlencoded::parse(part.as_bytes()) {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "error" => error = Some(v),
                "error_description" => description = Some(v),
                "error_codes" | "error_code" => codes_param = Some(v),
                "trace_id" => trace_id = Some(v),
                "correlation_id" => correlation_id = Some(v),
                "timestamp" => timestamp = Some(v),
                _ => {}
            }
        }
        if error.is_none() && description.is_none() {
            continue;
        }
        let facts = describe(description.as_deref().unwrap_or(""));
        let listed: Vec<u32> = codes_param
            .as_deref()
            .map(|c| {
                c.split(|ch: char| !ch.is_ascii_digit())
                    .filter_map(|d| d.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        return Some(AadError {
            source: ErrorSource::Redirect,
            error,
            description: facts.first_line,
            codes: merge_codes(&listed, &facts.codes),
            trace_id: trace_id.or(facts.trace_id),
            correlation_id: correlation_id.or(facts.correlation_id),
            timestamp: timestamp.or(facts.timestamp),
            resource_named: facts.resource_named,
            tenant_named: facts.tenant_named,
        });
    }
    None
}

/// What a JSON body from an authority says: a token issued, an error, or nothing we read.
fn json_outcome(status: u16, map: &serde_json::Map<String, Value>) -> Option<TokenOutcome> {
    if (200..300).contains(&status) && map.contains_key("access_token") {
        let expires_in = match map.get("expires_in") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        return Some(TokenOutcome::Issued {
            token_type: json_str(map, "token_type"),
            resource: json_str(map, "resource"),
            scope: json_str(map, "scope"),
            expires_in,
        });
    }
    let error = json_str(map, "error");
    let description = match map.get("error_description") {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if error.is_none() && description.is_none() {
        return None;
    }
    let facts = describe(description.unwrap_or(""));
    let listed: Vec<u32> = match map.get("error_codes") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(TokenOutcome::AadError(AadError {
        source: ErrorSource::Json,
        error,
        description: facts.first_line,
        codes: merge_codes(&listed, &facts.codes),
        trace_id: json_str(map, "trace_id").or(facts.trace_id),
        correlation_id: json_str(map, "correlation_id").or(facts.correlation_id),
        timestamp: json_str(map, "timestamp").or(facts.timestamp),
        resource_named: facts.resource_named,
        tenant_named: facts.tenant_named,
    }))
}

fn sign_in_outcome(page: &SignInPageError) -> TokenOutcome {
    let facts = describe(page.message.as_deref().unwrap_or(""));
    let mut listed: Vec<u32> = page.i_error_code.into_iter().collect();
    if let Some(c) = page.s_error_code.as_deref().and_then(|c| c.parse().ok()) {
        listed.push(c);
    }
    TokenOutcome::AadError(AadError {
        source: ErrorSource::SignInPage,
        error: None,
        description: facts.first_line,
        codes: merge_codes(&facts.codes, &listed),
        trace_id: facts.trace_id,
        correlation_id: page.correlation_id.clone().or(facts.correlation_id),
        timestamp: facts.timestamp,
        resource_named: facts.resource_named,
        tenant_named: facts.tenant_named,
    })
}

/// An error page without a `$Config`: the text from the first `AADSTS` to the end of its
/// line or the next tag.
fn plain_page_outcome(text: &str) -> Option<TokenOutcome> {
    let codes = aadsts_codes(text);
    let first = *codes.first()?;
    let at = text.find(&format!("AADSTS{first}")).unwrap_or(0);
    let snippet = text.get(at..).unwrap_or("");
    let end = snippet
        .find(['<', '\r', '\n', '"'])
        .unwrap_or(snippet.len());
    let facts = describe(&snippet[..end]);
    Some(TokenOutcome::AadError(AadError {
        source: ErrorSource::SignInPage,
        error: None,
        description: facts.first_line,
        codes,
        trace_id: None,
        correlation_id: None,
        timestamp: None,
        resource_named: facts.resource_named,
        tenant_named: facts.tenant_named,
    }))
}

/// The token result in a login session's response, if there is one: any session to an
/// authority host whose response is a token, a JSON error, an error redirect, or a sign-in
/// page reporting an error. Tokens are never kept.
pub fn token_result(session: &Session, limits: &DecodeLimits) -> Option<TokenResult> {
    token_result_at(&Target::of(session), limits)
}

/// [`token_result`] of a session whose URL and host are read.
pub fn token_result_at(target: &Target, limits: &DecodeLimits) -> Option<TokenResult> {
    if !target.is_authority() {
        return None;
    }
    let session = target.session;
    let response = session.response.as_ref()?;
    let status = response.status;
    let result = |outcome| {
        Some(TokenResult {
            session: session.id,
            status,
            outcome,
        })
    };
    if (300..400).contains(&status) {
        let error = response
            .headers
            .get_all("location")
            .find_map(redirect_error)?;
        return result(TokenOutcome::AadError(error));
    }
    if response.body.is_empty() {
        return None;
    }
    // What decodes before any damage: a cut-off error page still shows its AADSTS code.
    // The damage itself is reported on the session (`auth::read_session`).
    let body = target.response_body(limits)?;
    let text = String::from_utf8_lossy(&body.bytes);
    let text = super::json::trimmed(&text);
    if let Some(map) = super::json::object(text) {
        return json_outcome(status, &map).and_then(result);
    }
    if let Some(page) = sign_in_page_error(text) {
        if page.is_error() {
            return result(sign_in_outcome(&page));
        }
        return None;
    }
    if (200..300).contains(&status) {
        if let Some(outcome) = form_post_outcome(text) {
            return result(outcome);
        }
    }
    if status >= 400 {
        return plain_page_outcome(text).and_then(result);
    }
    None
}

/// Most hidden inputs read from a `form_post` page.
const MAX_FORM_INPUTS: usize = 64;

static RE_FORM_POST: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"(?i)<form\b[^>]*\bmethod\s*=\s*["']?post\b"#));
static RE_INPUT: LazyLock<Regex> = LazyLock::new(|| compile(r#"(?i)<input\b[^>]*>"#));
static RE_INPUT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    compile(r#"(?i)\bname\s*=\s*(?:"([^"]{0,64})"|'([^']{0,64})'|([^\s"'>]{1,64}))"#)
});
static RE_INPUT_VALUE: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"(?i)\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)')"#));

/// The first group of `re` that matched in `text`.
fn any_group<'t>(re: &LazyLock<Regex>, text: &'t str) -> Option<&'t str> {
    let c = re.captures(text)?;
    (1..c.len()).find_map(|i| c.get(i)).map(|m| m.as_str())
}

/// The few HTML character references an authorization response's values carry.
fn html_unescape(v: &str) -> String {
    v.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#13;", "\r")
        .replace("&#10;", "\n")
        .replace("&amp;", "&")
}

/// The outcome of a `response_mode=form_post` answer (the authorize endpoint's, or
/// `login.srf`'s after a federated sign-in): an HTML form posting hidden inputs to the
/// client. `code`, `id_token` or `access_token` with no `error` is the sign-in succeeding;
/// the values are never read (they are credentials). `error` (with `error_description`...)
/// is the error it reports. Anything else (the sign-in form, WS-Federation's `wresult`
/// post, a page without a form) is `None`.
fn form_post_outcome(html: &str) -> Option<TokenOutcome> {
    RE_FORM_POST.find(html)?;
    let mut issued = false;
    let mut error: Vec<(String, String)> = Vec::new();
    for input in RE_INPUT.find_iter(html).take(MAX_FORM_INPUTS) {
        let input = input.as_str();
        let Some(name) = any_group(&RE_INPUT_NAME, input) else {
            continue;
        };
        match name {
            "code" | "id_token" | "access_token" => issued = true,
            "error" | "error_description" | "error_codes" | "error_code" | "trace_id"
            | "correlation_id" | "timestamp" => {
                let value = any_group(&RE_INPUT_VALUE, input).unwrap_or_default();
                error.push((name.to_string(), html_unescape(value)));
            }
            _ => {}
        }
    }
    if !error.is_empty() {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&error)
            .finish();
        // The same authorization response as an error redirect, delivered by a POST.
        return redirect_error(&format!("?{query}")).map(TokenOutcome::AadError);
    }
    issued.then_some(TokenOutcome::Issued {
        token_type: None,
        resource: None,
        scope: None,
        expires_in: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::testkit::S;

    const TRACE: &str = "0000aaaa-11bb-cccc-dd33-eeeeee333333";
    const CORR: &str = "aaaa0000-bb11-2222-33cc-444444dddddd";

    fn json_400() -> String {
        format!(
            r#"{{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso Ltd. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.\r\nTrace ID: {TRACE}\r\nCorrelation ID: {CORR}\r\nTimestamp: 2026-11-20 08:15:03Z","error_codes":[500011],"timestamp":"2026-11-20 08:15:03Z","trace_id":"{TRACE}","correlation_id":"{CORR}","error_uri":"https://login.microsoftonline.com/error?code=500011"}}"#
        )
    }

    /// The token endpoint's answer.
    fn login_session(status: u16, headers: &[(&str, &str)], body: &str) -> Session {
        S::new(
            16,
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            status,
        )
        .resp_headers(headers)
        .resp_body(body)
        .0
    }

    fn result(s: &Session) -> Option<TokenResult> {
        token_result(s, &DecodeLimits::default())
    }

    fn aad(s: &Session) -> AadError {
        match result(s).map(|r| r.outcome) {
            Some(TokenOutcome::AadError(e)) => e,
            other => panic!("expected an AAD error, got {other:?}"),
        }
    }

    #[test]
    fn json_400_with_every_field() {
        let s = login_session(
            400,
            &[("Content-Type", "application/json; charset=utf-8")],
            &json_400(),
        );
        let r = result(&s).expect("result");
        assert_eq!((r.session, r.status), (16, 400));
        assert_eq!(
            r.outcome,
            TokenOutcome::AadError(AadError {
                source: ErrorSource::Json,
                error: Some("invalid_resource".into()),
                description: Some("AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso Ltd. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.".into()),
                codes: vec![500011],
                trace_id: Some(TRACE.into()),
                correlation_id: Some(CORR.into()),
                timestamp: Some("2026-11-20 08:15:03Z".into()),
                resource_named: Some("https://autodiscover.contoso.com".into()),
                tenant_named: Some("Contoso Ltd".into()),
            })
        );
    }

    #[test]
    fn json_error_without_the_optional_fields_reads_them_from_the_text() {
        let body = format!(
            r#"{{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.\r\nTrace ID: {TRACE}\r\nCorrelation ID: {CORR}\r\nTimestamp: 2026-11-20 08:15:03Z","suberror":"basic_action"}}"#
        );
        let e = aad(&login_session(400, &[], &body));
        assert_eq!(e.codes, vec![50076]);
        assert_eq!(e.trace_id.as_deref(), Some(TRACE));
        assert_eq!(e.correlation_id.as_deref(), Some(CORR));
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-20 08:15:03Z"));
        assert_eq!(e.resource_named, None);
        assert_eq!(e.tenant_named, None);
        // error_codes and codes in the text merge, in order, without duplicates.
        let body = r#"{"error":"invalid_grant","error_description":"AADSTS70000: x AADSTS50173 y AADSTS70000","error_codes":[70000,50196]}"#;
        assert_eq!(
            aad(&login_session(400, &[], body)).codes,
            vec![70000, 50196, 50173]
        );
    }

    #[test]
    fn issued_token_is_never_kept() {
        let body = r#"{"token_type":"Bearer","scope":"EWS.AccessAsUser.All","expires_in":"3599","ext_expires_in":"3599","expires_on":"1795000000","resource":"https://autodiscover.contoso.com","access_token":"eyJ0eXAiOiJKV1QiSECRET-AT","refresh_token":"0.ARoA-SECRET-RT","id_token":"eyJ-SECRET-ID"}"#;
        let r = result(&login_session(
            200,
            &[("Content-Type", "application/json")],
            body,
        ))
        .expect("issued");
        assert_eq!(
            r.outcome,
            TokenOutcome::Issued {
                token_type: Some("Bearer".into()),
                resource: Some("https://autodiscover.contoso.com".into()),
                scope: Some("EWS.AccessAsUser.All".into()),
                expires_in: Some(3599),
            }
        );
        let dump = format!("{r:?}{}", serde_json::to_string(&r).unwrap_or_default());
        assert!(!dump.contains("SECRET"), "{dump}");
        let v2 = r#"{"token_type":"Bearer","scope":"https://autodiscover.contoso.com/.default","expires_in":4871,"access_token":"x"}"#;
        assert!(matches!(
            result(&login_session(200, &[], v2)).map(|r| r.outcome),
            Some(TokenOutcome::Issued {
                expires_in: Some(4871),
                resource: None,
                ..
            })
        ));
    }

    /// `login.srf`'s (or the authorize endpoint's) `form_post` answer to the client.
    fn form_post(inputs: &str) -> Session {
        S::new(6, "POST", "https://login.microsoftonline.com/login.srf", 200)
            .resp_headers(&[("Content-Type", "text/html; charset=utf-8")])
            .resp_body(&format!("<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"https://outlook.office365.com/owa/\">{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>"))
            .0
    }

    #[test]
    fn a_form_post_of_a_code_is_the_sign_in_succeeding_and_the_code_is_not_kept() {
        for inputs in [
            r#"<input type="hidden" name="code" value="0.AXoA-SECRET-CODE" /><input type="hidden" name="session_state" value="2f4e" />"#,
            r#"<input type="hidden" name="code" value="0.AXoA-SECRET-CODE" /><input type="hidden" name="id_token" value="eyJ-SECRET-ID" />"#,
            r#"<INPUT TYPE=hidden NAME=id_token VALUE='eyJ-SECRET-ID'>"#,
        ] {
            let r = result(&form_post(inputs)).expect("issued");
            assert_eq!((r.session, r.status), (6, 200));
            assert_eq!(
                r.outcome,
                TokenOutcome::Issued {
                    token_type: None,
                    resource: None,
                    scope: None,
                    expires_in: None,
                }
            );
            let dump = format!("{r:?}{}", serde_json::to_string(&r).unwrap_or_default());
            assert!(!dump.contains("SECRET"), "{dump}");
        }
    }

    #[test]
    fn a_form_post_with_an_error_is_that_error_not_a_success() {
        let inputs = format!(
            r#"<input type="hidden" name="code" value="" /><input type="hidden" name="error" value="access_denied" /><input type="hidden" name="error_description" value="AADSTS50105: Your administrator has configured the application Office 365 Exchange Online (&#39;00000002-0000-0ff1-ce00-000000000000&#39;) to block users unless they are specifically granted (&#39;assigned&#39;) access to the application.&#13;&#10;Trace ID: {TRACE}&#13;&#10;Correlation ID: {CORR}" /><input type="hidden" name="state" value="x" />"#
        );
        let e = aad(&form_post(&inputs));
        assert_eq!(e.source, ErrorSource::Redirect);
        assert_eq!(e.error.as_deref(), Some("access_denied"));
        assert_eq!(e.codes, vec![50105]);
        assert_eq!(e.trace_id.as_deref(), Some(TRACE));
        assert!(e
            .description
            .as_deref()
            .is_some_and(|d| d.contains("('00000002-0000-0ff1-ce00-000000000000')")));
    }

    #[test]
    fn forms_that_are_not_an_authorization_response_are_not_a_result() {
        // WS-Federation's post of the SAML token to login.srf, the sign-in form, a GET form,
        // a code input outside any form, an error status.
        for (status, body) in [
            (
                200,
                r#"<form method="POST" action="https://login.microsoftonline.com/login.srf"><input type="hidden" name="wa" value="wsignin1.0" /><input type="hidden" name="wresult" value="x" /></form>"#,
            ),
            (
                200,
                r#"<form method="post" action="/common/login"><input type="email" name="loginfmt" /><input type="password" name="passwd" /><input type="hidden" name="flowToken" value="x" /></form>"#,
            ),
            (
                200,
                r#"<form method="get" action="https://outlook.office365.com/owa/"><input type="hidden" name="code" value="x" /></form>"#,
            ),
            (200, r#"<p>enter the <input name="code"> we sent</p>"#),
            (
                500,
                r#"<form method="POST" action="https://outlook.office365.com/owa/"><input type="hidden" name="code" value="x" /></form>"#,
            ),
        ] {
            let s = S::new(
                6,
                "POST",
                "https://login.microsoftonline.com/login.srf",
                status,
            )
            .resp_body(body)
            .0;
            assert_eq!(result(&s), None, "{body}");
        }
        // Hostile input: many inputs, unclosed tags, no panic.
        let hostile = format!(
            "<form method=post>{}<input name=\"code",
            "<input name=x value=\"".repeat(10_000)
        );
        let _ = form_post_outcome(&hostile);
    }

    #[test]
    fn redirect_with_error_in_query() {
        let location = format!(
            "urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS500011%3a+The+resource+principal+named+https%3a%2f%2fautodiscover.contoso.com+was+not+found+in+the+tenant+named+contoso.onmicrosoft.com.+This+can+happen+if+the+application+has+not+been+installed.%0d%0aTrace+ID%3a+{TRACE}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2026-11-20+08%3a15%3a03Z&state=abc"
        );
        let s = login_session(
            302,
            &[("Location", location.as_str())],
            "<html>Object moved</html>",
        );
        let r = result(&s).expect("redirect error");
        assert_eq!(r.status, 302);
        let TokenOutcome::AadError(e) = r.outcome else {
            panic!("expected an error");
        };
        assert_eq!(e.source, ErrorSource::Redirect);
        assert_eq!(e.error.as_deref(), Some("invalid_resource"));
        assert_eq!(e.codes, vec![500011]);
        assert_eq!(
            e.description.as_deref(),
            Some("AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named contoso.onmicrosoft.com. This can happen if the application has not been installed.")
        );
        assert_eq!(
            e.resource_named.as_deref(),
            Some("https://autodiscover.contoso.com")
        );
        assert_eq!(e.tenant_named.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(e.trace_id.as_deref(), Some(TRACE));
        assert_eq!(e.correlation_id.as_deref(), Some(CORR));
    }

    #[test]
    fn redirect_with_error_in_fragment_and_success_redirects() {
        let location = "msauth.com.microsoft.Outlook://auth#error=access_denied&error_description=AADSTS53003%3A%20Access%20has%20been%20blocked%20by%20Conditional%20Access%20policies.";
        let e = aad(&login_session(302, &[("Location", location)], ""));
        assert_eq!(e.source, ErrorSource::Redirect);
        assert_eq!(e.error.as_deref(), Some("access_denied"));
        assert_eq!(e.codes, vec![53003]);
        // A code (success) redirect, and a redirect to the next sign-in page, are no result.
        let ok = login_session(
            302,
            &[(
                "Location",
                "urn:ietf:wg:oauth:2.0:oob?code=SECRET&session_state=x",
            )],
            "",
        );
        assert_eq!(result(&ok), None);
        let hop = login_session(
            302,
            &[(
                "Location",
                "https://login.microsoftonline.com/common/reprocess?ctx=x",
            )],
            "",
        );
        assert_eq!(result(&hop), None);
        assert_eq!(result(&login_session(302, &[], "")), None);
    }

    fn page(config: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head><title>Sign in to your account</title><script type=\"text/javascript\">//<![CDATA[\n$Config={config};\n//]]></script></head><body></body></html>"
        )
    }

    #[test]
    fn sign_in_page_config_as_json() {
        let config = format!(
            r#"{{"iErrorCode":500011,"sErrorCode":"500011","strServiceExceptionMessage":"AADSTS500011: The resource principal named https://mail.contoso.com was not found in the tenant named 8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f. This can happen if ...","correlationId":"{CORR}","urlPost":"/common/login?x={{}}","arr":["}}"]}}"#
        );
        let e = aad(&login_session(
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            &page(&config),
        ));
        assert_eq!(e.source, ErrorSource::SignInPage);
        assert_eq!(e.codes, vec![500011]);
        assert_eq!(e.correlation_id.as_deref(), Some(CORR));
        assert_eq!(
            e.resource_named.as_deref(),
            Some("https://mail.contoso.com")
        );
        assert_eq!(
            e.tenant_named.as_deref(),
            Some("8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f")
        );
        assert_eq!(e.error, None);
    }

    #[test]
    fn sign_in_page_config_that_is_not_json_falls_back_to_patterns() {
        // JavaScript, not JSON: single quotes, a function, unquoted keys; cut short at the end.
        let config = r#"{iErrorCode: 50001, 'sErrorCode':'50001', "strServiceExceptionMessage":"AADSTS50001: The application named https:\/\/autodiscover.contoso.com was not found in the tenant named Contoso \"EU\" Ltd.. This can happen ...", f: function() { return "}"; }, "correlationId":"11111111-2222-3333-4444-555555555555""#;
        let html = format!("<script>$Config = {config}");
        let page = sign_in_page_error(&html).expect("a $Config");
        assert_eq!(page.i_error_code, Some(50001));
        assert_eq!(page.s_error_code.as_deref(), Some("50001"));
        assert_eq!(
            page.correlation_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        let facts = describe(page.message.as_deref().unwrap_or(""));
        assert_eq!(
            facts.resource_named.as_deref(),
            Some("https://autodiscover.contoso.com")
        );
        assert_eq!(facts.tenant_named.as_deref(), Some("Contoso \"EU\" Ltd."));
        let e = aad(&login_session(400, &[], &html));
        assert_eq!(e.codes, vec![50001]);
    }

    #[test]
    fn normal_sign_in_pages_are_no_result() {
        let config = r#"{"urlPost":"/common/login","iErrorCode":0,"sErrorCode":"","strServiceExceptionMessage":""}"#;
        assert_eq!(result(&login_session(200, &[], &page(config))), None);
        assert_eq!(
            result(&login_session(200, &[], "<html>no config</html>")),
            None
        );
        assert_eq!(result(&login_session(200, &[], "")), None);
        // A page naming $Config without assigning it.
        assert_eq!(sign_in_page_error("if ($Config.x) {}"), None);
        // Error page without $Config, on an error status: codes from the text.
        let e = aad(&login_session(400, &[], "<html><body><p>AADSTS90014: The required field 'request' is missing.</p></body></html>"));
        assert_eq!(
            (e.source, e.codes.clone()),
            (ErrorSource::SignInPage, vec![90014])
        );
        assert_eq!(
            e.description.as_deref(),
            Some("AADSTS90014: The required field 'request' is missing.")
        );
    }

    #[test]
    fn not_an_authority_or_no_response() {
        let mut s = login_session(400, &[], &json_400());
        s.request.url = "https://autodiscover.contoso.com/autodiscover/autodiscover.svc".into();
        assert_eq!(result(&s), None);
        let mut s = login_session(400, &[], &json_400());
        s.response = None;
        assert_eq!(result(&s), None);
        assert_eq!(
            result(&login_session(200, &[], r#"{"NameSpaceType":"Managed"}"#)),
            None
        );
    }

    #[test]
    fn aadsts_codes_in_order_without_duplicates() {
        assert_eq!(aadsts_codes("AADSTS500011: x"), vec![500011]);
        assert_eq!(
            aadsts_codes("AADSTS50058 then aadsts50076, AADSTS50058 and AADSTS70046."),
            vec![50058, 50076, 70046]
        );
        assert_eq!(
            aadsts_codes("no codes, AADSTS, AADSTSx, AADSTS0"),
            Vec::<u32>::new()
        );
        assert_eq!(aadsts_codes("AADSTS1234567890123"), Vec::<u32>::new());
        // Cut mid-code at the end of the text: the digits that are there.
        assert_eq!(aadsts_codes("…failed: AADSTS5000"), vec![5000]);
        assert_eq!(aadsts_codes("AADSTSAADSTS50001"), vec![50001]);
        assert_eq!(aadsts_codes("ééAADSTS53003é"), vec![53003]);
    }

    #[test]
    fn tenant_names_in_their_shapes() {
        let t = |m: &str| describe(m).tenant_named;
        assert_eq!(
            t("AADSTS500011: The resource principal named X was not found in the tenant named Contoso Ltd.. This can happen"),
            Some("Contoso Ltd.".into())
        );
        assert_eq!(
            t("AADSTS500011: The resource principal named X was not found in the tenant named contoso.onmicrosoft.com."),
            Some("contoso.onmicrosoft.com".into())
        );
        assert_eq!(
            t("AADSTS50001: The application named X was not found in the tenant named Fabrikam Holdings GmbH.  This can happen"),
            Some("Fabrikam Holdings GmbH".into())
        );
        assert_eq!(
            t("AADSTS500011: The resource principal named X was not found in the tenant named 8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f. You might have sent"),
            Some("8f1b0c2e-1d4a-4b5e-9c6f-0a1b2c3d4e5f".into())
        );
        assert_eq!(t("AADSTS500011: no tenant here"), None);
        let f = describe("AADSTS50001: The application named https://autodiscover.contoso.com/ was not found in the tenant named contoso.com.");
        assert_eq!(
            f.resource_named.as_deref(),
            Some("https://autodiscover.contoso.com/")
        );
        assert_eq!(f.codes, vec![50001]);
        // A very long first line is capped.
        let long = format!("AADSTS50000: {}", "x".repeat(5000));
        assert_eq!(
            describe(&long).first_line.map(|l| l.chars().count()),
            Some(MAX_DESCRIPTION + 1)
        );
    }

    /// The cap falls inside a credential: cut blindly, `Bearer qwertyuiop…` would read as
    /// prose and be printed; the cut goes before the credential instead.
    #[test]
    fn the_description_cap_leaves_no_half_credential() {
        let token = "qwertyuiopasdfghjklzxcvbnmQwErTyZ9";
        let lead = "AADSTS50000: ";
        for inside in [1, 6, 12, token.len() - 1] {
            let n = MAX_DESCRIPTION - inside - lead.len() - "Bearer ".len();
            let pad = " ".repeat(n % 2) + &"x ".repeat(n / 2);
            let line = format!("{lead}{pad}Bearer {token} and more");
            assert_eq!(line.find(token), Some(MAX_DESCRIPTION - inside));
            let first = describe(&line).first_line.unwrap_or_default();
            assert!(first.ends_with(" Bearer …"), "{first}");
            assert!(!first.contains("qwer"), "{first}");
        }
    }

    proptest::proptest! {
        #[test]
        fn aadsts_codes_are_found_in_the_text_once(t in "(AADSTS|aadsts|[0-9]|[ .:a-z]|é){0,200}") {
            let codes = aadsts_codes(&t);
            let lower = t.to_ascii_lowercase();
            let mut seen = HashSet::new();
            for c in &codes {
                proptest::prop_assert!(seen.insert(*c), "duplicate {}", c);
                let needle = format!("aadsts{c}");
                proptest::prop_assert!(lower.contains(&needle));
            }
        }

        #[test]
        fn aadsts_codes_never_panics(t in ".{0,300}") {
            let _ = aadsts_codes(&t);
        }

        #[test]
        fn config_extractor_never_panics(t in r#"(\$Config|=|\{|\}|"|'|\\|iErrorCode|:|[0-9]|;| |é|strServiceExceptionMessage|AADSTS){0,120}"#) {
            let _ = sign_in_page_error(&t).map(|p| p.is_error());
            let _ = describe(&t);
        }

        #[test]
        fn config_extractor_never_panics_on_any_string(t in ".{0,300}") {
            let html = format!("<script>$Config={t}");
            let _ = sign_in_page_error(&html);
            let _ = redirect_error(&t);
        }

        #[test]
        fn token_result_never_panics_on_any_body(body in ".{0,300}", status in 100u16..600) {
            let s = login_session(status, &[("Location", body.as_str())], &body);
            let _ = result(&s);
        }
    }

    #[test]
    fn every_static_pattern_compiles() {
        for re in [&RE_I_ERROR, &RE_S_ERROR, &RE_MESSAGE, &RE_CORRELATION] {
            assert!(!LazyLock::force(re).as_str().is_empty());
        }
        assert_eq!(capture(&RE_I_ERROR, r#""iErrorCode":50058"#), Some("50058"));
    }
}

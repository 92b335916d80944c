//! Hand-built sessions of an Outlook 500011 loop, analysed by the pipeline `analyze` runs
//! (`analysis::Collector`) without a capture reader, for testing the HTML page: five attempts
//! (four identical, then one with an authorize step), a healthy second flow, noise, secrets
//! that must be redacted and markup that must show as text.
#![allow(dead_code)]

use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset};
use traceadal::analysis::{Analysis, Collector};
use traceadal::capture::{Body, DecodeLimits, Format, Headers, Request, Response, Session, Timers};
use traceadal::report::html::SessionDetail;
use traceadal::report::Report;
use traceadal::rules::{Finding, Severity};

pub const PLANTED: &str =
    "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">";
pub const REFRESH_SECRET: &str = "0.AXoAsecretRefreshTokenValue1234567890";
pub const COOKIE_SECRET: &str = "ESTSAUTHsecretcookievalue42";
pub const BEARER_SECRET: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2F1dG9kaXNjb3Zlci5jb250b3NvLmNvbS8ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
pub const AUTODISCOVER: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
pub const TOKEN_URL: &str = "https://login.microsoftonline.com/common/oauth2/token";
pub const CHALLENGE: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@9188040d-6c67-4c5b-b112-36a304b66dad\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\"";
pub const ERROR_JSON: &str = r#"{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso Ltd.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[500011],"error_uri":"https://login.microsoftonline.com/error?code=500011"}"#;

/// The fixture: the analysis, its report and the detail of every session.
pub struct Fixture {
    pub analysis: Analysis,
    pub report: Report,
    pub details: Vec<SessionDetail>,
}

impl Fixture {
    /// The sessions of flow `i`, as the diagram must draw them.
    pub fn flow_sessions(&self, i: usize) -> Vec<u64> {
        self.analysis.flows[i].sessions.clone()
    }
}

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-20T08:15:00+01:00").unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn session(
    id: u64,
    at_ms: i64,
    method: &str,
    url: &str,
    req_headers: &[(&str, &str)],
    req_body: &str,
    status: Option<u16>,
    resp_headers: &[(&str, &str)],
    resp_body: &str,
    process: &str,
) -> Session {
    let start = t0() + Duration::milliseconds(at_ms);
    Session {
        id,
        timers: Timers {
            client_begin_request: Some(start),
            client_done_response: Some(start + Duration::milliseconds(180)),
            ..Timers::default()
        },
        process: Some(process.to_string()),
        request: Request {
            method: method.to_string(),
            url: url.to_string(),
            version: "HTTP/1.1".into(),
            headers: req_headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Headers>(),
            body: Body {
                raw: req_body.as_bytes().to_vec(),
                wire: false,
                truncated: false,
            },
        },
        response: status.map(|status| Response {
            version: "HTTP/1.1".into(),
            status,
            reason: match status {
                200 => "OK",
                401 => "Unauthorized",
                400 => "Bad Request",
                _ => "",
            }
            .into(),
            headers: resp_headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Headers>(),
            body: Body {
                raw: resp_body.as_bytes().to_vec(),
                wire: false,
                truncated: false,
            },
        }),
        ..Session::default()
    }
}

pub fn build() -> Fixture {
    let mut sessions = Vec::new();
    let outlook = "outlook:4242";
    let token_req = &[
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("client-request-id", "5d5ec1e4-0000-4000-8000-000000000001"),
        (
            "Cookie",
            &*format!("ESTSAUTH={COOKIE_SECRET}; x-ms-gateway-slice=estsfd"),
        ),
    ];
    let token_body = format!(
        "resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&grant_type=refresh_token&refresh_token={REFRESH_SECRET}"
    );
    // Noise, and a session whose URL carries markup.
    sessions.push(session(
        1,
        0,
        "GET",
        "https://outlook.office365.com/autodiscover/autodiscover.json/v1.0/user@contoso.com?Protocol=Autodiscoverv1",
        &[],
        "",
        Some(200),
        &[("Content-Type", "application/json")],
        r#"{"Protocol":"AutodiscoverV1","Url":"https://autodiscover.contoso.com/autodiscover/autodiscover.xml"}"#,
        outlook,
    ));
    sessions.push(session(
        2,
        150,
        "GET",
        "https://telemetry.example.net/</title><script>window.__pwned=3</script>",
        &[],
        "",
        Some(204),
        &[],
        "",
        "<b>evil.exe</b>:1",
    ));
    let mut id = 3;
    let mut at = 400;
    for round in 0..5 {
        // The 401, with a planted header on the first one.
        let mut resp: Vec<(&str, &str)> = vec![
            ("Server", "Microsoft-IIS/10.0"),
            ("WWW-Authenticate", CHALLENGE),
            ("WWW-Authenticate", "NTLM"),
            (
                "X-MS-Diagnostics",
                "2000001;reason=\"The token has an invalid signature.\";error_category=\"invalid_token\"",
            ),
        ];
        if round == 0 {
            resp.push(("X-Planted", PLANTED));
        }
        let bearer = format!("Bearer {BEARER_SECRET}");
        sessions.push(session(
            id,
            at,
            "GET",
            AUTODISCOVER,
            &[
                ("Authorization", bearer.as_str()),
                ("User-Agent", "Microsoft Office/16.0"),
            ],
            "",
            Some(401),
            &resp,
            if round == 0 {
                "</pre><script>window.__pwned = 4</script>"
            } else {
                ""
            },
            outlook,
        ));
        id += 1;
        at += 300;
        if round == 4 {
            let url = "https://login.microsoftonline.com/common/oauth2/authorize?resource=https%3A%2F%2Fautodiscover.contoso.com&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&response_type=code&haschrome=1&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob";
            sessions.push(session(
                id,
                at,
                "GET",
                url,
                &[],
                "",
                Some(200),
                &[("Content-Type", "text/html")],
                "<html><body>Sign in</body></html>",
                outlook,
            ));
            id += 1;
            at += 300;
        }
        sessions.push(session(
            id,
            at,
            "POST",
            TOKEN_URL,
            token_req,
            &token_body,
            Some(400),
            &[
                ("Content-Type", "application/json; charset=utf-8"),
                ("x-ms-clitelem", "1,500011,0,,"),
            ],
            ERROR_JSON,
            outlook,
        ));
        id += 1;
        at += 20_000;
    }
    // A healthy flow for EWS: one token, whose access token must be redacted in the body.
    let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
    sessions.push(session(
        id,
        at,
        "POST",
        ews,
        &[],
        "",
        Some(401),
        &[("WWW-Authenticate", CHALLENGE)],
        "",
        outlook,
    ));
    id += 1;
    at += 200;
    let ews_body = token_body.replace("autodiscover.contoso.com", "mail.contoso.com");
    sessions.push(session(
        id,
        at,
        "POST",
        TOKEN_URL,
        token_req,
        &ews_body,
        Some(200),
        &[("Content-Type", "application/json")],
        &format!(
            r#"{{"token_type":"Bearer","expires_in":"3599","access_token":"{BEARER_SECRET}","refresh_token":"{REFRESH_SECRET}"}}"#
        ),
        outlook,
    ));
    // Through the pipeline `analyze` runs: the real parsers, flow builder and rules.
    let mut collector = Collector::new(DecodeLimits::default(), sessions.len());
    for s in &sessions {
        collector.push_session(s.clone());
    }
    let mut analysis = collector.finish(Path::new("fixture-500011.saz"), Format::Saz);
    analysis.findings.push(Finding {
        id: "planted-markup".into(),
        severity: Severity::Info,
        title: format!("Evidence quoting the capture: {PLANTED}"),
        sessions: vec![3],
        evidence: format!("X-Planted: {PLANTED}"),
        fix: "None.".into(),
        remedy: None,
    });
    let report = Report::new(&analysis);
    let details = sessions.iter().map(SessionDetail::of).collect();
    Fixture {
        analysis,
        report,
        details,
    }
}

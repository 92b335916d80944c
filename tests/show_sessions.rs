//! `traceadal show` and the finding side of `traceadal sessions` (issue 21 items 1 and 2,
//! issue 20's time column), run as the real binary on the shipped samples.

use crate::common::{root, run, sample};

fn s(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Compare with `tests/expected/show/<file>`, or write it when `TRACEADAL_BLESS=1`.
fn golden(file: &str, actual: &str) {
    let path = root().join("tests/expected/show").join(file);
    if std::env::var("TRACEADAL_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write the expected output");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run TRACEADAL_BLESS=1 cargo test show_sessions, read it, commit it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{file} differs from tests/expected/show (TRACEADAL_BLESS=1 to accept after reading the diff)"
    );
}

/// The secrets samplegen writes into adal-500011-json (the sign-in code and the fpc cookie
/// of session 6): what `show` must never print unless asked.
const CODE: &str = "SECRET-AUTHCODE-1-DGwg4phcBMVstz4hbXKGzrdt";
const COOKIE: &str = "SECRET-fpc-dt8IyJTy9CgvocxfsbixOIl7";

#[test]
fn show_the_login_session_of_the_500011_sample() {
    let path = sample("adal-500011-json.saz");
    let out = run(&["show", s(&path), "6"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    golden("adal-500011-json.6.txt", &text);
    for want in [
        "Session 6: POST https://login.microsoftonline.com/common/oauth2/token -> 400 Bad Request",
        "  Time        2026-11-20T07:14:02.258Z (+0.258 s after the capture's first session)",
        "  AADSTS      AADSTS500011 InvalidResourceServicePrincipalNotFound:",
        "grant_type authorization_code; resource https://autodiscover.contoso.com; client_id d3590ed6-52b3-4102-aeff-aad2292ab01c (Microsoft Office)",
        "client-request-id 8f52adc8-765c-425a-9ae1-80d41747433a",
        "  Flow 1      outlook:4242 (Microsoft Office) for https://autodiscover.contoso.com/: aad_error, looping (sessions 3-32)",
        "  Finding     ERROR spn-missing:",
        "&code=<redacted>&",
        "  \"error_codes\": [\n    500011\n  ],",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Heads in wire order: the request line first, then headers as captured.
    let request = text.split("\nRequest\n").nth(1).expect("a request block");
    assert!(request.starts_with(
        "POST https://login.microsoftonline.com/common/oauth2/token HTTP/1.1\nAccept: application/json\nx-client-SKU: PCL.Desktop\n"
    ));
    for secret in [CODE, COOKIE, "SECRET"] {
        assert!(!text.contains(secret), "{secret} shown");
    }
    // The same with --show-secrets shows them: the test would see a leak.
    let shown = stdout(&run(&["show", s(&path), "6", "--show-secrets"]));
    assert!(shown.contains(CODE) && shown.contains(COOKIE));
}

#[test]
fn show_json_has_the_documented_shape_and_no_secret() {
    let path = sample("adal-500011-json.saz");
    let out = run(&["show", s(&path), "6", "3", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(!text.contains("SECRET"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(doc["schema"], "traceadal.show/1");
    assert_eq!(doc["capture"]["format"], "saz");
    let sessions = doc["sessions"].as_array().expect("sessions");
    // In the order asked.
    assert_eq!(sessions[0]["id"], 6);
    assert_eq!(sessions[1]["id"], 3);
    let login = &sessions[0];
    assert_eq!(login["start"], "2026-11-20T07:14:02.258Z");
    assert_eq!(login["elapsed_ms"], 258);
    assert_eq!(login["aadsts"][0]["code"], 500011);
    assert_eq!(
        login["entra_error"]["correlation_id"],
        "8f52adc8-765c-425a-9ae1-80d41747433a"
    );
    assert_eq!(
        login["sign_in"]["resource"],
        "https://autodiscover.contoso.com"
    );
    assert_eq!(login["request"]["headers"][0]["name"], "Accept");
    assert_eq!(login["request"]["body"]["kind"], "form");
    assert_eq!(login["response"]["body"]["kind"], "json");
    assert_eq!(login["response"]["body"]["decoded_bytes"], 749);
    assert_eq!(login["flows"][0]["index"], 1);
    assert_eq!(login["findings"][0]["id"], "spn-missing");
    let challenge = &sessions[1];
    assert_eq!(
        challenge["auth"]["offered"],
        serde_json::json!(["Bearer", "Negotiate", "NTLM", "Basic"])
    );
    assert_eq!(challenge["auth"]["sent"], serde_json::Value::Null);
    assert_eq!(challenge["diagnostics"][0]["code"], "2000001");
    assert_eq!(
        challenge["diagnostics"][0]["error_category"],
        "invalid_token"
    );
    assert_eq!(challenge["request"]["body"]["kind"], "xml");
}

/// A presented token: its claims by name and dates, never the token.
#[test]
fn show_names_the_claims_of_a_presented_token_never_the_token() {
    let path = sample("token-expired-presented.saz");
    let secret = stdout(&run(&["show", s(&path), "2", "--show-secrets"]));
    let token = secret
        .lines()
        .find_map(|l| l.strip_prefix("Authorization: Bearer "))
        .expect("the token, with --show-secrets")
        .trim()
        .to_string();
    assert!(
        token.split('.').count() == 3 && token.len() > 100,
        "{token}"
    );
    let out = run(&["show", s(&path), "2"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for want in [
        "  Auth        offered (WWW-Authenticate): Bearer; sent (Authorization): Bearer",
        "  Token       token sent (Authorization: Bearer), claims:",
        "              aud        https://mail.contoso.com",
        "              tid        72f988bf-0000-4000-8000-0123456789ab",
        "              appid      d3590ed6-52b3-4102-aeff-aad2292ab01c (Microsoft Office)",
        "              upn domain contoso.com",
        "              exp        2026-11-20T05:14:02Z",
        "              scp        EWS.AccessAsUser.All Mail.ReadWrite",
        "  Diagnostic  x-ms-diagnostics 2000001; reason \"The token has expired.\"; category invalid_token",
        "  Finding     ERROR token-expired:",
        "Authorization: Bearer <redacted>",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let json = stdout(&run(&["show", s(&path), "2", "--format", "json"]));
    for part in token.split('.') {
        assert!(!text.contains(part), "a part of the token is shown");
        assert!(!json.contains(part), "a part of the token is in the JSON");
    }
}

#[test]
fn show_an_unknown_session_is_a_usage_error() {
    let path = sample("adal-500011-json.saz");
    let out = run(&["show", s(&path), "6", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no session 99 in this capture (its sessions are numbered 1 to 35"),
        "{err}"
    );
    let out = run(&["show", s(&path), "six"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["show", s(&path)]);
    assert_eq!(out.status.code(), Some(2));
}

/// SAZ and HAR of one scenario show the same facts.
#[test]
fn show_reads_har_as_saz() {
    let facts = |name: &str| {
        let out = run(&["show", s(&sample(name)), "6", "--format", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let s = &doc["sessions"][0];
        (
            s["aadsts"].clone(),
            s["sign_in"].clone(),
            s["findings"].clone(),
            s["response"]["body"]["text"].clone(),
        )
    };
    assert_eq!(facts("adal-500011-json.saz"), facts("adal-500011-json.har"));
}

fn ids(out: &std::process::Output) -> Vec<u64> {
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json rows");
    rows.iter().filter_map(|r| r["id"].as_u64()).collect()
}

#[test]
fn sessions_grep_searches_redacted_text() {
    let path = sample("adal-500011-json.saz");
    // Every answer holding the code Entra ID gave, and nothing else.
    let out = run(&[
        "sessions",
        s(&path),
        "--grep",
        "AADSTS500011",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(ids(&out), [6, 11, 16, 22, 27, 32]);
    // Headers count: the x-ms-diagnostics of Exchange's 401s.
    let out = run(&[
        "sessions",
        s(&path),
        "--grep",
        "(?i)x-ms-diagnostics: 2000001",
        "--format",
        "json",
    ]);
    assert_eq!(ids(&out), [3, 10, 15, 20, 26, 31]);
    // A secret is not found: the text searched is redacted...
    for secret in [CODE, "DGwg4phcBMVstz4hbXKGzrdt", COOKIE] {
        let out = run(&["sessions", s(&path), "--grep", secret]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 1, "only the header: {text}");
        assert!(!text.contains("SECRET"));
    }
    // ... unless secrets are shown.
    let out = run(&[
        "sessions",
        s(&path),
        "--grep",
        CODE,
        "--show-secrets",
        "--format",
        "json",
    ]);
    // The authorize answer that redirected with it, and the token request that sent it.
    assert_eq!(ids(&out), [5, 6]);
    let out = run(&["sessions", s(&path), "--grep", "("]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--grep: not a valid regex"));
}

#[test]
fn sessions_csv_has_a_header_and_exact_rows() {
    let path = sample("adal-500011-json.saz");
    let out = run(&["sessions", s(&path), "--flow", "1", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,start_utc,elapsed_s,result,method,host,request_bytes,response_bytes,content_type,process,auth_offered,auth_sent,url,fiddler_id"
    );
    assert_eq!(
        lines[1],
        "3,2026-11-20T07:14:02.056Z,0.056,401,POST,autodiscover.contoso.com,349,0,,outlook:4242,Bearer Negotiate NTLM Basic,,https://autodiscover.contoso.com/autodiscover/autodiscover.xml,3"
    );
    assert_eq!(
        lines[3],
        "6,2026-11-20T07:14:02.258Z,0.258,400,POST,login.microsoftonline.com,221,749,application/json; charset=utf-8,outlook:4242,,,https://login.microsoftonline.com/common/oauth2/token,6"
    );
    // The flow's sessions, as the report lists them.
    let report = run(&["analyze", s(&path), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("report");
    let want: Vec<u64> = report["loops"][0]["sessions"]
        .as_array()
        .expect("flow sessions")
        .iter()
        .filter_map(|v| v.as_u64())
        .collect();
    let got: Vec<u64> = lines[1..]
        .iter()
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    assert_eq!(got, want);
    assert!(text.ends_with("\r\n"));
    // --finding: the sessions the finding cites.
    let cited: Vec<u64> = report["findings"][0]["sessions"]
        .as_array()
        .expect("cited")
        .iter()
        .filter_map(|v| v.as_u64())
        .collect();
    let out = run(&[
        "sessions",
        s(&path),
        "--finding",
        "spn-missing",
        "--format",
        "json",
    ]);
    assert_eq!(ids(&out), cited);
    let out = run(&["sessions", s(&path), "--finding", "auth-loop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its findings: spn-missing"));
    let out = run(&["sessions", s(&path), "--flow", "2"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sessions_filters_by_process_method_and_time() {
    let path = sample("adal-500011-json.saz");
    let json = |extra: &[&str]| {
        let mut args = vec!["sessions", s(&path), "--format", "json"];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{extra:?}");
        ids(&out)
    };
    assert_eq!(json(&["--process", "ms-teams.exe"]), [13, 23, 30]);
    assert_eq!(json(&["--process", "MS-TEAMS:9116"]), [13, 23, 30]);
    assert_eq!(json(&["--method", "put"]), [13, 23, 30]);
    assert_eq!(
        json(&["--process", "officeclick*", "--method", "GET"]),
        [14, 19, 33]
    );
    assert_eq!(json(&["--after", "30"]), [31, 32, 33, 34, 35]);
    // One window, three spellings: UTC time of day, RFC 3339, seconds from the start.
    let window = json(&["--from", "07:14:02.2", "--to", "07:14:02.3"]);
    assert_eq!(window, [6]);
    assert_eq!(
        json(&[
            "--from",
            "2026-11-20T08:14:02.2+01:00",
            "--to",
            "2026-11-20T07:14:02.3Z"
        ]),
        window
    );
    assert_eq!(json(&["--from", "+0.2", "--to", "+0.3"]), window);
    assert_eq!(
        json(&["--from", "+48.2", "--method", "get", "--process", "outlook"]),
        [35]
    );
    let bad = run(&["sessions", s(&path), "--from", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--from yesterday: not a time"));
    let bad = run(&["sessions", s(&path), "--after", "99"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn sessions_table_shows_time_elapsed_and_auth() {
    let path = sample("adal-500011-json.saz");
    let out = crate::common::run_env(
        &["sessions", s(&path), "--status", "401"],
        &[("COLUMNS", "120")],
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // 120 columns in a pipe: the URL under each row, whole (issue 20).
    assert_eq!(
        lines[..4],
        [
            " #  Time (UTC)    Elapsed  Result  Method  Host                      Body  Process       Auth",
            "    URL",
            " 3  07:14:02.056   +0.056     401  POST    autodiscover.contoso.com     0  outlook:4242  Bearer,Negotiate,NTLM,Basic / -",
            "    https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
        ],
        "{text}"
    );
    // At 200 columns one line per session.
    let wide = crate::common::run_env(
        &["sessions", s(&path), "--status", "401"],
        &[("COLUMNS", "200")],
    );
    assert_eq!(
        stdout(&wide).lines().nth(1),
        Some(" 3  07:14:02.056   +0.056     401  POST    autodiscover.contoso.com     0                outlook:4242  Bearer,Negotiate,NTLM,Basic / -  https://autodiscover.contoso.com/autodiscover/autodiscover.xml")
    );
    assert_eq!(lines.len(), 14);
    // The JSON rows carry the same, and keep every field they had.
    let out = run(&["sessions", s(&path), "--status", "401", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("rows");
    assert_eq!(rows[0]["start"], "2026-11-20T07:14:02.056Z");
    assert_eq!(rows[0]["elapsed_ms"], 56);
    assert_eq!(
        rows[0]["auth_offered"],
        serde_json::json!(["Bearer", "Negotiate", "NTLM", "Basic"])
    );
    assert_eq!(rows[0]["auth_sent"], serde_json::Value::Null);
    for field in [
        "id",
        "method",
        "url",
        "host",
        "status",
        "process",
        "content_type",
        "request_bytes",
        "response_bytes",
        "aborted",
        "tunnel",
        "websocket",
    ] {
        assert!(rows[0].get(field).is_some(), "{field}");
    }
    let token = sample("token-expired-presented.saz");
    let out = run(&["sessions", s(&token), "--status", "401", "--format", "csv"]);
    assert!(stdout(&out).contains(",Bearer,Bearer,https://mail.contoso.com/mapi/emsmdb/"));
}

//! A HAR recorded by a real client through a real proxy (tests/recorded/record.sh: headless
//! Chromium -> mitmdump's HAR export -> a loopback look-alike of on-premises autodiscover and
//! of Entra's token endpoint) must be diagnosed exactly as the generated sample of the same
//! failure, `samples/adal-500011-json.saz`.
//!
//! `recorded_har_is_what_record_sh_wrote` checks the file itself and needs nothing else;
//! the two others need the HAR/SAZ readers, the auth parsers and the sample generator.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const RECORDED: &str = "tests/recorded/mitmdump-500011.har";
const SAMPLE: &str = "samples/adal-500011-json.saz";
const SPN: &str = "https://autodiscover.contoso.com/";

fn read_json(path: &str) -> Value {
    let p = Path::new(ROOT).join(path);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn entries() -> Vec<Value> {
    read_json(RECORDED)["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The rounds the recording holds: one 401 from autodiscover each.
fn recorded_rounds() -> u64 {
    entries()
        .iter()
        .filter(|e| e["response"]["status"] == 401)
        .count() as u64
}

fn analyze(capture: &str, format: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .current_dir(ROOT)
        .args(["analyze", capture, "--format", format])
        .output()
        .unwrap_or_else(|e| panic!("traceadal: {e}"));
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{capture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn report(capture: &str) -> (i32, Value) {
    let (code, json) = analyze(capture, "json");
    let v = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{capture}: {e}"));
    (code, v)
}

fn header<'a>(entry: &'a Value, side: &str, name: &str) -> Vec<&'a str> {
    entry[side]["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .filter_map(|h| h["value"].as_str())
        .collect()
}

#[test]
fn recorded_har_is_what_record_sh_wrote() {
    let har = read_json(RECORDED);
    assert_eq!(har["log"]["creator"]["name"], "mitmproxy");
    let entries = entries();
    assert!(
        entries.len() >= 2 && entries.len() % 2 == 0,
        "rounds of two"
    );
    for pair in entries.chunks(2) {
        let (ad, token) = (&pair[0], &pair[1]);
        assert_eq!(ad["request"]["method"], "GET");
        assert_eq!(
            ad["request"]["url"],
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
        );
        assert_eq!(ad["response"]["status"], 401);
        let challenges = header(ad, "response", "WWW-Authenticate");
        assert_eq!(challenges.len(), 4, "Bearer, Negotiate, NTLM, Basic");
        assert!(
            challenges[0].starts_with("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\"")
        );
        assert!(challenges[0]
            .contains("authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""));
        assert_eq!(header(ad, "response", "X-MS-Diagnostics").len(), 1);

        assert_eq!(token["request"]["method"], "POST");
        assert_eq!(
            token["request"]["url"],
            "https://login.microsoftonline.com/common/oauth2/token"
        );
        let form = token["request"]["postData"]["text"].as_str().unwrap_or("");
        assert!(form.contains("resource=https%3A%2F%2Fautodiscover.contoso.com"));
        assert!(form.contains("grant_type=refresh_token"));
        assert_eq!(token["response"]["status"], 400);
        let body = token["response"]["content"]["text"].as_str().unwrap_or("");
        let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("400 body: {e}"));
        assert_eq!(body["error"], "invalid_resource");
        assert_eq!(body["error_codes"], serde_json::json!([500011]));
    }
}

/// Needs the merged HAR reader and auth parsers.
#[test]
fn recorded_har_is_diagnosed_as_the_500011_loop() {
    let rounds = recorded_rounds();
    let (code, r) = report(RECORDED);
    assert_eq!(code, 1, "an error finding");
    assert_eq!(r["capture"]["format"], "har");
    assert_eq!(r["missing_spns"], serde_json::json!([SPN]));
    let loops = r["loops"].as_array().cloned().unwrap_or_default();
    assert_eq!(loops.len(), 1, "one flow: {loops:?}");
    let l = &loops[0];
    assert_eq!(
        l["attempts"].as_u64(),
        Some(rounds),
        "one attempt per recorded round"
    );
    assert_eq!(l["aadsts"], serde_json::json!([500011]));
    assert_eq!(l["outcome"], "aad_error");
    assert_eq!(l["challenge_host"], "autodiscover.contoso.com");
    assert_eq!(
        l["sessions"].as_array().map(Vec::len),
        Some(entries().len())
    );
    let codes: Vec<u64> = r["aadsts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["code"].as_u64())
        .collect();
    assert_eq!(codes, vec![500011]);
    assert!(r["powershell"].as_str().unwrap_or("").contains(SPN));
    // The page folds the repeated rounds.
    let (_, html) = analyze(RECORDED, "html");
    assert!(html.contains(&format!(
        r#"<details class="fold" data-count="{}">"#,
        rounds - 1
    )));
}

/// Needs the merged readers and `samples/` from the sample generator.
#[test]
fn recorded_har_and_generated_sample_get_the_same_diagnosis() {
    let (rec_code, rec) = report(RECORDED);
    let (gen_code, gen) = report(SAMPLE);
    assert_eq!(rec_code, gen_code, "exit code");
    assert_eq!(rec["verdict"]["status"], gen["verdict"]["status"]);
    assert_eq!(rec["missing_spns"], gen["missing_spns"]);
    let ids = |r: &Value| {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["id"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(ids(&rec), ids(&gen), "the same findings");
    let codes = |r: &Value| -> Vec<u64> {
        r["aadsts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["code"].as_u64())
            .collect()
    };
    assert_eq!(codes(&rec), codes(&gen));
    let first = |r: &Value, k: &str| r["loops"][0][k].clone();
    for k in [
        "resource",
        "challenge_host",
        "aadsts",
        "outcome",
        "hma_offered",
    ] {
        assert_eq!(first(&rec, k), first(&gen, k), "loops[0].{k}");
    }
    assert_eq!(first(&rec, "attempts").as_u64(), Some(recorded_rounds()));
}

//! What a capture cannot show (`capture_limits`, issue 24 item 5), through the real binary:
//! the exact limits of every sample, SAZ and HAR; the section at the top of the table,
//! markdown and HTML reports when there is one, and nothing when there is none.

use crate::common::{self, analyze_json, run};

use serde_json::Value;

fn limit_ids(report: &Value) -> Vec<String> {
    report["capture_limits"]
        .as_array()
        .expect("capture_limits is an array")
        .iter()
        .map(|l| l["id"].as_str().expect("an id").to_string())
        .collect()
}

/// The limits each sample has; every other sample has none.
const LIMITED: &[(&str, &[&str])] = &[
    ("blind-tunnels.saz", &["undecrypted-tunnels"]),
    ("blind-tunnels.har", &["undecrypted-tunnels"]),
    ("half-blind.saz", &["undecrypted-tunnels"]),
    (
        "half-blind.har",
        &["undecrypted-tunnels", "credentials-stripped"],
    ),
    // Outlook challenged with Bearer, no broker process, no request to Entra ID and no token
    // presented: "Outlook ignored the offer" cannot be told from "WAM failed out of sight".
    ("hma-ignored.saz", &["client-process-missing"]),
    ("legacy-auth-exposed.saz", &["client-process-missing"]),
    // The HARs of scenarios whose client presents no credential hold none at all: a HAR
    // like that is what a sanitized export looks like.
    ("hma-ignored.har", &["credentials-stripped"]),
    ("legacy-auth-exposed.har", &["credentials-stripped"]),
    ("entra-blocked.har", &["credentials-stripped"]),
    ("capture-started-late.saz", &["capture-started-late"]),
    ("capture-started-late.har", &["capture-started-late"]),
    ("har-sanitized.har", &["credentials-stripped"]),
    // Anonymous traffic holds no credential in any export (autodiscover v2's HARs, a web
    // host answering the root domain): no limit there, which every other sample checks.
];

#[test]
fn every_sample_has_exactly_its_limits() {
    let mut seen = 0;
    for entry in std::fs::read_dir(common::root().join("samples")).expect("samples/") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".saz") || name.ends_with(".har")) {
            continue;
        }
        let (_, report) = analyze_json(&path);
        let want: Vec<String> = LIMITED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, ids)| ids.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(limit_ids(&report), want, "{name}");
        for l in report["capture_limits"].as_array().unwrap() {
            for field in ["what", "consequence", "capture_again"] {
                let text = l[field].as_str().unwrap_or("");
                assert!(!text.is_empty(), "{name}: {field}");
                assert!(!text.contains("eyJ"), "{name}: a token in {field}");
            }
        }
        seen += 1;
    }
    assert!(seen >= 60, "{seen} samples");
}

fn render(file: &str, format: &str) -> String {
    let path = common::sample(file);
    let out = run(&["analyze", path.to_str().unwrap(), "--format", format]);
    String::from_utf8(out.stdout).expect("utf-8")
}

const HEADING: &str = "What this capture cannot show";

#[test]
fn the_section_sits_under_the_verdict_in_every_human_format() {
    for (file, id, needle) in [
        (
            "blind-tunnels.saz",
            "undecrypted-tunnels",
            "CONNECT tunnel(s) (100%) were never decrypted",
        ),
        (
            "capture-started-late.saz",
            "capture-started-late",
            "No 401 challenge anywhere, yet a failure is under way from session 3",
        ),
        (
            "har-sanitized.har",
            "credentials-stripped",
            "No Authorization, Cookie or Set-Cookie header in any of the 49 session(s)",
        ),
    ] {
        let table = render(file, "table");
        let at = table
            .find(HEADING)
            .unwrap_or_else(|| panic!("{file}: {table}"));
        assert!(
            at > table.find("Verdict: ").unwrap(),
            "{file}: after the verdict"
        );
        if let Some(flows) = table.find("Token flows") {
            assert!(at < flows, "{file}: before the flows");
        }
        assert!(table.contains(&format!("({id})")), "{file}: {table}");
        assert!(table.contains("Next capture: "), "{file}");
        let md = render(file, "markdown");
        assert!(md.contains(&format!("### {HEADING}")), "{file}: {md}");
        assert!(md.contains(needle), "{file}: {md}");
        assert!(md.contains(&format!("(`{id}`)")), "{file}: {md}");
        let html = render(file, "html");
        assert!(html.contains(&format!("<h3>{HEADING}</h3>")), "{file}");
        assert!(html.contains(&format!("data-limit=\"{id}\"")), "{file}");
        let (_, json) = analyze_json(&common::sample(file));
        let what = json["capture_limits"][0]["what"].as_str().unwrap_or("");
        assert!(what.contains(needle), "{file}: {what}");
    }
    // The blind tunnels' share and hosts, exactly.
    let (_, json) = analyze_json(&common::sample("half-blind.saz"));
    assert_eq!(
        json["capture_limits"][0]["what"],
        "3 of 4 CONNECT tunnel(s) (75%) were never decrypted, among them those to \
         login.microsoftonline.com (the hosts the diagnosis needs)."
    );
}

#[test]
fn a_capture_with_no_limit_prints_no_section() {
    for file in [
        "healthy-workday.saz",
        "healthy-token-issued.har",
        "bearer-only-healthy.saz",
        "owa-web-healthy.saz",
        "har-sanitized.saz",
    ] {
        for format in ["table", "markdown", "html"] {
            let text = render(file, format);
            assert!(!text.contains(HEADING), "{file} {format}");
        }
        let (code, json) = analyze_json(&common::sample(file));
        assert_eq!(code, 0, "{file}");
        assert_eq!(json["capture_limits"], serde_json::json!([]), "{file}");
    }
}

/// A `redact --drop-bodies-except-auth` copy says which sessions lost their bodies; the
/// verdict and the findings stay those of the original.
#[test]
fn a_copy_without_bodies_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["adal-500011-json.saz", "adal-500011-json.har"] {
        let input = common::sample(file);
        let out = dir.path().join(file);
        let r = run(&[
            "redact",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--drop-bodies-except-auth",
        ]);
        assert_eq!(r.status.code(), Some(0), "{file}: {r:?}");
        let (code_a, a) = analyze_json(&input);
        let (code_b, b) = analyze_json(&out);
        assert_eq!(limit_ids(&a), Vec::<String>::new(), "{file}");
        assert_eq!(limit_ids(&b), vec!["bodies-missing"], "{file}");
        assert_eq!((code_a, &a["verdict"]), (code_b, &b["verdict"]), "{file}");
        let what = b["capture_limits"][0]["what"].as_str().unwrap();
        assert!(
            what.contains("hold a traceadal redact placeholder instead of a body"),
            "{file}: {what}"
        );
    }
}

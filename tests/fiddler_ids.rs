//! Fiddler's session ids (issue 20): `variants/fiddler-ids.saz` is adal-500011-json saved
//! with `_m.xml` SIDs 104, 107, 110... (entry N has SID 101 + 3N), as Fiddler writes an
//! archive of selected sessions. No problem is reported for them, the diagnosis is the
//! base's, and every view that cites a session shows Fiddler's id beside its number.

use crate::common::{run, run_env, sample};

/// A table at 120 columns, whatever the environment says.
fn run120(args: &[&str]) -> std::process::Output {
    run_env(args, &[("COLUMNS", "120")])
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn variant() -> String {
    sample("variants/fiddler-ids.saz")
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

#[test]
fn the_report_json_maps_cited_sessions_to_fiddler_ids() {
    let out = run(&["analyze", &variant(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["capture"]["errors"], serde_json::json!([]));
    let ids: Vec<(u64, u64)> = report["fiddler_ids"]
        .as_object()
        .expect("fiddler_ids")
        .iter()
        .map(|(k, v)| (k.parse().expect("number"), v.as_u64().expect("number")))
        .collect();
    let cited = [3, 5, 6, 10, 11, 15, 16, 20, 21, 22, 26, 27, 31, 32];
    let mut ids_sorted = ids.clone();
    ids_sorted.sort();
    assert_eq!(
        ids_sorted,
        cited.iter().map(|&n| (n, 101 + 3 * n)).collect::<Vec<_>>()
    );
    // The base, a SAZ whose SIDs are its entry numbers, maps each to itself; a HAR has none.
    let report_of = |name: &str| -> serde_json::Value {
        let out = run(&[
            "analyze",
            sample(name).to_str().expect("path"),
            "--format",
            "json",
        ]);
        serde_json::from_slice(&out.stdout).expect("json")
    };
    assert_eq!(report_of("adal-500011-json.saz")["fiddler_ids"]["6"], 6);
    let har = report_of("adal-500011-json.har");
    assert!(har.get("fiddler_ids").is_none(), "{}", har["fiddler_ids"]);
}

#[test]
fn table_and_markdown_show_fiddler_ids_beside_session_numbers() {
    let table = stdout(&run120(&["analyze", &variant()]));
    assert!(
        table.contains(
            "          Sessions: 3, 5, 6, 10, 11, 15, 16, 20, 21, 22, 26, 27, ... (14 in all)\n          Fiddler #: 110, 116, 119, 131, 134, 146, 149, 161, 164, 167, 179, 182, ... (14 in all)\n"
        ),
        "{table}"
    );
    let md = stdout(&run(&["analyze", &variant(), "--format", "markdown"]));
    assert!(
        md.contains("  Fiddler #: 110, 116, 119, 131, 134, 146, 149, 161, 164, 167, 179, 182, ... (14 in all)  \n"),
        "{md}"
    );
    // Where the numbers agree, nothing is added.
    let base = stdout(&run(&[
        "analyze",
        sample("adal-500011-json.saz").to_str().expect("path"),
    ]));
    assert!(!base.contains("Fiddler #"), "{base}");
}

#[test]
fn sessions_and_show_carry_fiddler_ids() {
    let out = run(&[
        "sessions",
        &variant(),
        "--status",
        "401",
        "--format",
        "json",
    ]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("rows");
    let pairs: Vec<(u64, u64)> = rows
        .iter()
        .map(|r| (r["id"].as_u64().unwrap(), r["fiddler_id"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            (3, 110),
            (10, 131),
            (15, 146),
            (20, 161),
            (26, 179),
            (31, 194)
        ]
    );
    let out = run(&["sessions", &variant(), "--status", "401", "--format", "csv"]);
    let csv = stdout(&out);
    assert!(
        csv.lines().next().unwrap().ends_with(",url,fiddler_id"),
        "{csv}"
    );
    assert!(
        csv.contains(",https://autodiscover.contoso.com/autodiscover/autodiscover.xml,110\r\n"),
        "{csv}"
    );
    let table = stdout(&run120(&["sessions", &variant(), "--status", "401"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[..4],
        [
            " #  Fiddler #  Time (UTC)    Elapsed  Result  Method  Host                      Process",
            "    URL",
            " 3        110  07:14:02.056   +0.056     401  POST    autodiscover.contoso.com  outlook:4242",
            "    https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
        ],
        "{table}"
    );
    let shown = stdout(&run(&["show", &variant(), "6"]));
    assert!(
        shown.starts_with("Session 6 (Fiddler #119): POST https://login.microsoftonline.com/common/oauth2/token -> 400 Bad Request\n"),
        "{shown}"
    );
    let json = run(&["show", &variant(), "6", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(doc["sessions"][0]["fiddler_id"], 119);
    // The base's table has no Fiddler column: its ids are its numbers.
    let base = stdout(&run(&[
        "sessions",
        sample("adal-500011-json.saz").to_str().expect("path"),
    ]));
    assert!(!base.contains("Fiddler"), "{base}");
}

#[test]
fn the_html_report_shows_fiddler_ids_beside_session_numbers() {
    let html = stdout(&run(&["analyze", &variant(), "--format", "html"]));
    // Session 6 (SID 119) is cited by the finding: its row in the sessions table and its
    // detail block both carry Fiddler's id.
    let table = html
        .split_once(r#"<section class="sessions">"#)
        .map(|(_, t)| t)
        .expect("a sessions table");
    let row = table
        .split("<tr")
        .find(|r| r.contains(r##"href="#s-6""##) || r.contains(r#"id="s-6""#))
        .unwrap_or_else(|| panic!("no row for session 6"));
    assert!(
        row.contains(r#"<span class="fiddler">(Fiddler #119)</span>"#),
        "{row}"
    );
    assert!(
        html.contains(r#"<h3>#6 <span class="fiddler">(Fiddler #119)</span> "#),
        "no detail heading with Fiddler's id"
    );
    // The base archive, whose SIDs are its entry numbers, shows none.
    let base = stdout(&run(&[
        "analyze",
        sample("adal-500011-json.saz").to_str().expect("path"),
        "--format",
        "html",
    ]));
    assert!(!base.contains("Fiddler #"));
}

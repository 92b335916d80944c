//! The command line as a contract: exit codes, several captures, `-o`, `explain`.

use crate::common::{run, sample};

fn s(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn explain_accepts_every_spelling_and_prints_the_entry() {
    for spelling in ["AADSTS500011", "aadsts500011", "500011"] {
        let out = run(&["explain", spelling]);
        assert_eq!(out.status.code(), Some(0), "{spelling}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("AADSTS500011 "), "{text}");
        assert!(
            text.contains("Meaning:") && text.contains("Advice:"),
            "{text}"
        );
        assert!(text.contains("Nature:  error"), "{text}");
    }
    let normal = run(&["explain", "50058"]);
    assert!(String::from_utf8_lossy(&normal.stdout).contains("Nature:  normal"));
}

#[test]
fn explain_unknown_and_invalid_codes() {
    let unknown = run(&["explain", "AADSTS99999999"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not in traceadal's catalog"));
    let invalid = run(&["explain", "hello"]);
    assert_eq!(invalid.status.code(), Some(2));
    let all = run(&["explain", "all"]);
    assert_eq!(all.status.code(), Some(0));
    let entries = String::from_utf8_lossy(&all.stdout)
        .lines()
        .filter(|l| l.starts_with("AADSTS"))
        .count();
    assert!(entries >= 75, "catalog has {entries} entries");
}

#[test]
fn several_captures_in_json_are_one_report_per_line() {
    let a = sample("adal-500011-json.saz");
    let b = sample("healthy-token-issued.har");
    let out = run(&["analyze", s(&a), s(&b), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "one error finding makes it 1");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_str(lines[0]).expect("line 1 is a report");
    let second: serde_json::Value = serde_json::from_str(lines[1]).expect("line 2 is a report");
    assert_eq!(first["capture"]["format"], "saz");
    assert_eq!(first["verdict"]["exit_code"], 1);
    assert_eq!(second["capture"]["format"], "har");
    assert_eq!(second["verdict"]["status"], "ok");
}

#[test]
fn an_unreadable_capture_wins_exit_2_and_the_others_are_still_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("ticket-4711.saz");
    std::fs::write(&bad, b"PK\x03\x04 this is not really a zip").expect("write");
    let good = sample("adal-500011-json.saz");
    let out = run(&["analyze", s(&good), s(&bad), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ticket-4711.saz"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the readable capture is still reported");
    assert_eq!(
        report["missing_spns"][0],
        "https://autodiscover.contoso.com/"
    );

    let missing = run(&["analyze", "no/such/capture.saz"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/capture.saz"));
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(run(&["analyze"]).status.code(), Some(2));
    assert_eq!(
        run(&["analyze", "x.saz", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("analyze"));
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_file = dir.path().join("report.md");
    let out = run(&[
        "analyze",
        s(&sample("two-hosts.har")),
        "--format",
        "markdown",
        "-o",
        s(&out_file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(&out_file).expect("report written");
    assert!(md.contains("**Verdict: ERROR**"), "{md}");
    assert!(md.contains("- `https://autodiscover.contoso.com/`"), "{md}");
    assert!(md.contains("- `https://mail.contoso.com/`"), "{md}");
    assert!(md.contains("```powershell"), "{md}");
}

/// `-o -` is standard output: the report is printed and no file named `-` is created.
#[test]
fn output_dash_is_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    for command in ["analyze", "batch"] {
        let (target, format) = if command == "analyze" {
            (sample("two-hosts.har"), "json")
        } else {
            (sample("variants"), "csv")
        };
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_traceadal"))
            .args([command, s(&target), "--format", format, "-o", "-"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("the traceadal binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let first = if command == "analyze" { "{" } else { "path," };
        assert!(
            stdout.starts_with(first),
            "{command}: the report is on stdout: {stdout}"
        );
        assert!(
            !dir.path().join("-").exists(),
            "{command}: no file named '-'"
        );
    }
}

#[test]
fn sessions_filters_by_host_and_status() {
    let path = sample("adal-500011-json.saz");
    let out = run(&["sessions", s(&path), "--status", "401", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json rows");
    let exp = samplegen::expected("adal-500011-json").expect("expected facts");
    let want: Vec<u64> = exp.loops[0]
        .challenge_sessions
        .iter()
        .map(|s| *s as u64)
        .collect();
    let got: Vec<u64> = rows.iter().filter_map(|r| r["id"].as_u64()).collect();
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| r["host"] == "autodiscover.contoso.com"));

    let out = run(&[
        "sessions",
        s(&path),
        "--host",
        "LOGIN.microsoftonline.com",
        "--format",
        "json",
    ]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json rows");
    // Every authorize/token request, plus the CONNECT tunnel that carried them.
    let requests = rows.iter().filter(|r| r["method"] != "CONNECT").count();
    let tunnels = rows.iter().filter(|r| r["tunnel"] == true).count();
    assert_eq!(requests, exp.loops[0].entra_sessions.len());
    assert_eq!(tunnels, rows.len() - requests);
    let table = run(&["sessions", s(&path), "--host", "*.contoso.com"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text
        .lines()
        .next()
        .is_some_and(|h| h.contains("Result") && h.contains("Process")));
    // Each session's row and the URL under it (120 columns in a pipe: the URL has its own
    // line).
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())
                || l.starts_with("    h"))
            .all(|l| l.contains("contoso.com")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("    https://")),
        "{text}"
    );
    // `*` is every session, as without the filter.
    let every = run(&["sessions", s(&path), "--format", "json"]);
    let star = run(&["sessions", s(&path), "--host", "*", "--format", "json"]);
    let count = |o: &std::process::Output| {
        serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout)
            .expect("json rows")
            .len()
    };
    assert!(count(&every) > 20);
    assert_eq!(count(&star), count(&every));
}

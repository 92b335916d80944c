//! `traceadal diff BEFORE AFTER` (issue 21 item 3), through the real binary, on pairs of the
//! shipped samples: the exact table, markdown and `traceadal.diff/1` JSON of each pair in
//! `tests/expected/diff/` (`TRACEADAL_BLESS=1 cargo test --test integration diff::`
//! rewrites them: read them before committing), the exit codes, the JSON against
//! `docs/diff-schema.json`, and that a capture diffed with itself exits as `analyze` does.

use std::path::Path;

use crate::common;

use serde_json::Value;

fn root() -> std::path::PathBuf {
    common::root()
}

/// `traceadal diff ARGS` in the crate root: stdout, stderr, exit code.
fn diff(args: &[&str]) -> (String, String, i32) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .arg("diff")
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the traceadal binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn json_of(before: &str, after: &str) -> (Value, i32) {
    let (out, err, code) = diff(&[before, after, "--format", "json"]);
    let v: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{before} -> {after}: not JSON ({e}); stderr {err}"));
    (v, code)
}

/// Compare with `tests/expected/diff/<file>`, or write it when `TRACEADAL_BLESS=1`.
fn golden(file: &str, actual: &str) {
    common::golden(
        &format!("diff/{file}"),
        actual,
        "cargo test --test integration diff::",
    );
}

fn assert_valid(v: &Value, what: &str) {
    let validator = common::docs_schema("diff-schema.json");
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: violates docs/diff-schema.json: {errors:#?}"
    );
}

/// One pair: every format against its golden file, the exit code, the JSON's verdict and
/// schema. Returns the JSON.
fn pair(name: &str, before: &str, after: &str, exit: i32, status: &str) -> Value {
    let (b, a) = (format!("samples/{before}"), format!("samples/{after}"));
    for (format, ext) in [("table", "table.txt"), ("markdown", "md")] {
        let (out, err, code) = diff(&[&b, &a, "--format", format]);
        assert_eq!(code, exit, "{name} {format}: exit code; stderr {err}");
        assert!(err.is_empty(), "{name} {format}: stderr {err}");
        golden(&format!("{name}.{ext}"), &out);
    }
    let (v, code) = json_of(&b, &a);
    assert_eq!(code, exit, "{name} json: exit code");
    assert_valid(&v, name);
    assert_eq!(v["schema"], "traceadal.diff/1");
    assert_eq!(v["verdict"]["status"], status, "{name}: {:#}", v["verdict"]);
    assert_eq!(v["verdict"]["exit_code"], exit, "{name}");
    assert_eq!(v["verdict"]["summary"], v["verdict"]["lines"][0], "{name}");
    let mut stable = v.clone();
    stable["tool"]["version"] = Value::from("<version>");
    golden(
        &format!("{name}.json"),
        &(serde_json::to_string_pretty(&stable).expect("JSON") + "\n"),
    );
    v
}

fn changes(v: &Value, list: &str) -> Vec<(String, String)> {
    v[list]
        .as_array()
        .expect("an array")
        .iter()
        .map(|x| {
            let key = if list == "flows" {
                x["resource"].as_str()
            } else {
                x["id"].as_str()
            };
            (
                x["change"].as_str().expect("change").to_string(),
                key.expect("key").to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The 500011 loop, then the same user after the SPN was added: Outlook gets a token in one
/// round and autodiscover answers 200 (`healthy-token-issued`, the same tenant, user, client
/// and autodiscover host).
#[test]
fn fixed_spn_is_fixed_and_accepted() {
    let v = pair(
        "fixed",
        "adal-500011-json.saz",
        "healthy-token-issued.saz",
        0,
        "fixed",
    );
    assert_eq!(
        v["verdict"]["summary"],
        "fixed: no AADSTS500011 for autodiscover.contoso.com in AFTER; Outlook got a token in 1 round"
    );
    assert_eq!(
        v["spns_accepted"][0]["spn"],
        "https://autodiscover.contoso.com/"
    );
    assert_eq!(v["spns_accepted"][0]["rounds"], 1);
    assert_eq!(
        changes(&v, "flows"),
        pairs(&[("resolved", "https://autodiscover.contoso.com/")])
    );
    assert_eq!(
        changes(&v, "findings"),
        pairs(&[("resolved", "spn-missing")])
    );
}

/// Session numbers differ between captures and a HAR names no process: matching is by
/// resource and client, so SAZ against HAR (and HAR against HAR) says the same.
#[test]
fn formats_do_not_change_the_answer() {
    let fixed = "fixed: no AADSTS500011 for autodiscover.contoso.com in AFTER; Outlook got a token in 1 round";
    for (b, a) in [
        ("adal-500011-json.saz", "healthy-token-issued.har"),
        ("adal-500011-json.har", "healthy-token-issued.saz"),
    ] {
        let (v, code) = json_of(&format!("samples/{b}"), &format!("samples/{a}"));
        assert_eq!(
            (code, v["verdict"]["summary"].as_str()),
            (0, Some(fixed)),
            "{b} {a}"
        );
    }
    // Two HARs: no process on either side, the client named from its client_id.
    let (v, code) = json_of(
        "samples/adal-500011-json.har",
        "samples/healthy-token-issued.har",
    );
    assert_eq!(code, 0);
    assert_eq!(
        v["verdict"]["summary"],
        "fixed: no AADSTS500011 for autodiscover.contoso.com in AFTER; Microsoft Office got a token in 1 round"
    );
}

/// AFTER still gets AADSTS500011 (another error shape of the same failure): exit 1.
#[test]
fn still_failing() {
    let v = pair(
        "still-failing",
        "adal-500011-json.saz",
        "adal-500011-redirect.saz",
        1,
        "still_failing",
    );
    assert_eq!(
        v["verdict"]["summary"],
        "still failing: AADSTS500011 for autodiscover.contoso.com in AFTER too (spn-missing)"
    );
    assert_eq!(v["spns_accepted"], Value::Array(vec![]));
    assert_eq!(changes(&v, "findings"), pairs(&[("still", "spn-missing")]));
}

/// The SPN is fixed (a token in one round) but AFTER has an error BEFORE did not: exit 1,
/// "new" first, the fix on the next line.
#[test]
fn new_error_after_the_fix() {
    let v = pair(
        "new-error",
        "adal-500011-json.saz",
        "autodiscover-500-not-found.saz",
        1,
        "new_errors",
    );
    let lines = v["verdict"]["lines"].as_array().expect("lines");
    assert!(
        lines[0].as_str().is_some_and(|l| l
            .starts_with("new error(s) in AFTER: autodiscover-error for autodiscover.contoso.com")),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        "fixed: no AADSTS500011 for autodiscover.contoso.com in AFTER; Outlook got a token in 1 round"
    );
    assert_eq!(
        changes(&v, "findings"),
        pairs(&[("resolved", "spn-missing"), ("new", "autodiscover-error")])
    );
}

/// AADSTS500011 is gone but Outlook's flow still ends without a token (Seamless SSO failed,
/// a warning in `analyze`): not "fixed", still failing, exit 1.
#[test]
fn finding_gone_but_flow_still_failing_is_not_fixed() {
    let (v, code) = json_of(
        "samples/adal-500011-json.saz",
        "samples/seamless-sso-81010.saz",
    );
    assert_eq!(code, 1);
    assert_eq!(
        v["verdict"]["summary"],
        "still failing: Outlook still gets no token for https://autodiscover.contoso.com/ in AFTER (failed, AADSTS81010), though AADSTS500011 for autodiscover.contoso.com is gone"
    );
    assert_eq!(
        changes(&v, "flows"),
        pairs(&[("still", "https://autodiscover.contoso.com/")])
    );
    assert_eq!(
        changes(&v, "findings"),
        pairs(&[
            ("resolved", "spn-missing"),
            ("new", "federation-seamless-sso")
        ])
    );
    assert_eq!(v["spns_accepted"], Value::Array(vec![]));
}

/// A healthy BEFORE and a failing AFTER: a regression, exit 1.
#[test]
fn regression_is_new() {
    let (v, code) = json_of(
        "samples/healthy-token-issued.saz",
        "samples/adal-500011-json.saz",
    );
    assert_eq!(code, 1);
    assert_eq!(v["verdict"]["status"], "new_errors");
    assert_eq!(
        changes(&v, "flows"),
        pairs(&[("new", "https://autodiscover.contoso.com/")])
    );
    assert_eq!(changes(&v, "findings"), pairs(&[("new", "spn-missing")]));
}

/// An AFTER that cannot show the failure never says "fixed": HTTPS decryption off (every
/// tunnel blind), Entra ID not decrypted, or a capture of something else (OWA only, the
/// autodiscover host never reached). Exit 3, as `analyze`'s inconclusive.
#[test]
fn blind_after_is_not_shown_never_fixed() {
    let v = pair(
        "blind",
        "adal-500011-json.saz",
        "blind-tunnels.saz",
        3,
        "not_shown",
    );
    assert_eq!(
        v["verdict"]["summary"],
        "not shown: AFTER sees autodiscover.contoso.com only as undecrypted tunnel(s), cannot tell (spn-missing for autodiscover.contoso.com)"
    );
    for (after, summary) in [
        (
            "half-blind.saz",
            "not shown: AFTER holds no decrypted session to Entra ID, cannot tell (spn-missing for autodiscover.contoso.com)",
        ),
        (
            "owa-web-healthy.saz",
            "not shown: AFTER does not reach autodiscover.contoso.com at all, cannot tell (spn-missing for autodiscover.contoso.com)",
        ),
    ] {
        let (v, code) = json_of("samples/adal-500011-json.saz", &format!("samples/{after}"));
        assert_eq!(code, 3, "{after}");
        assert_eq!(v["verdict"]["summary"], summary, "{after}");
        assert!(
            v["verdict"]["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .all(|l| !l.as_str().unwrap_or("").starts_with("fixed")),
            "{after}: {:#}",
            v["verdict"]
        );
        assert_eq!(v["spns_accepted"], Value::Array(vec![]), "{after}");
    }
}

/// Two SPNs missing in BEFORE, an AFTER that reaches only one of the hosts: the findings are
/// matched by subject (not both "spn-missing" to one), one still failing, one not shown.
#[test]
fn findings_match_by_subject() {
    let v = pair(
        "two-hosts",
        "two-hosts.saz",
        "adal-500011-json.saz",
        1,
        "still_failing",
    );
    let subjects: Vec<(String, Value)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["change"].as_str().unwrap_or("").to_string(),
                f["subject"].clone(),
            )
        })
        .collect();
    assert_eq!(
        subjects,
        vec![
            (
                "still".to_string(),
                serde_json::json!(["autodiscover.contoso.com"])
            ),
            (
                "not_shown".to_string(),
                serde_json::json!(["mail.contoso.com"])
            ),
            (
                "not_shown".to_string(),
                serde_json::json!(["mail.contoso.com"])
            ),
        ]
    );
    assert_eq!(
        v["verdict"]["lines"][1],
        "not shown: AFTER does not reach mail.contoso.com at all, cannot tell (spn-missing for mail.contoso.com)"
    );
}

/// Every sample diffed with itself exits as `analyze` does on it (an error is still there,
/// an inconclusive capture shows nothing, a clean one has nothing new), and its JSON follows
/// the schema.
#[test]
fn a_capture_against_itself_exits_as_analyze() {
    let mut seen = 0;
    let mut names: Vec<_> = std::fs::read_dir(root().join("samples"))
        .expect("samples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "saz"))
        .collect();
    names.sort();
    for path in names {
        let rel = Path::new("samples").join(path.file_name().expect("a name"));
        let rel = rel.to_str().expect("utf-8");
        let (_, report) = common::analyze_json(&path);
        let analyze_exit = report["verdict"]["exit_code"].as_i64().expect("exit code");
        let (v, code) = json_of(rel, rel);
        assert_valid(&v, rel);
        assert_eq!(i64::from(code), analyze_exit, "{rel}: {:#}", v["verdict"]);
        let expected = match analyze_exit {
            1 => "still_failing",
            3 => "not_shown",
            _ => "nothing_new",
        };
        assert_eq!(v["verdict"]["status"], expected, "{rel}");
        for f in v["findings"].as_array().expect("findings") {
            assert_eq!(f["change"], "still", "{rel}: {f:#}");
        }
        for f in v["flows"].as_array().expect("flows") {
            assert!(
                f["change"] == "still" || f["change"] == "ok",
                "{rel}: {f:#}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 60, "only {seen} samples");
}

/// Unreadable input and usage errors keep the contract's exit code 2; `-o` writes the file.
#[test]
fn errors_and_output_file() {
    let (out, err, code) = diff(&["samples/adal-500011-json.saz", "samples/no-such.saz"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("AFTER") && err.contains("no-such.saz"),
        "{err}"
    );
    let (_, err, code) = diff(&["samples/adal-500011-json.saz"]);
    assert_eq!(code, 2, "{err}");
    let (_, _, code) = diff(&["a.saz", "b.saz", "--format", "csv"]);
    assert_eq!(code, 2);
    // The output may not be one of the captures.
    let (_, err, code) = diff(&[
        "samples/adal-500011-json.saz",
        "samples/healthy-token-issued.saz",
        "-o",
        "samples/healthy-token-issued.saz",
    ]);
    assert_eq!(code, 2, "{err}");
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("diff.md");
    let (out, err, code) = diff(&[
        "samples/adal-500011-json.saz",
        "samples/healthy-token-issued.saz",
        "--format",
        "markdown",
        "-o",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let written = std::fs::read_to_string(&file).expect("written");
    assert!(
        written.starts_with("## traceadal diff: `samples/adal-500011-json.saz`"),
        "{written}"
    );
}

/// The user's own terms are hidden in the diff too (`--redact-term`).
#[test]
fn user_terms_are_redacted() {
    let (out, _, code) = diff(&[
        "samples/adal-500011-json.saz",
        "samples/healthy-token-issued.saz",
        "--redact-term",
        "contoso",
    ]);
    assert_eq!(code, 0);
    assert!(!out.to_ascii_lowercase().contains("contoso"), "{out}");
    assert!(out.contains("autodiscover.<term>.com"), "{out}");
}

/// The README's example is what the binary prints.
#[test]
fn readme_example_is_real() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let (out, _, code) = diff(&[
        "samples/adal-500011-json.saz",
        "samples/healthy-token-issued.saz",
    ]);
    assert_eq!(code, 0);
    let head: Vec<String> = out.lines().take(4).map(|l| format!("  {l}")).collect();
    assert!(
        readme.contains(&head.join("\n")),
        "README.md's diff example differs from:\n{}",
        head.join("\n")
    );
    let (out, _, code) = diff(&["samples/adal-500011-json.saz", "samples/blind-tunnels.saz"]);
    assert_eq!(code, 3);
    assert!(
        out.contains("not shown: AFTER sees autodiscover.contoso.com only as undecrypted tunnel(s), cannot tell"),
        "{out}"
    );
}

/// Every capture of the public corpus diffed with itself (a file that is not a capture, or
/// an encrypted one without its password, included): the exit code is `analyze`'s, the JSON
/// follows the schema, and nothing is "fixed" or "new".
#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_corpus_capture_against_itself() {
    let corpus = common::corpus();
    let mut seen = 0;
    for dir in ["saz", "har"] {
        let mut paths: Vec<_> = std::fs::read_dir(corpus.join(dir))
            .expect("the corpus folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            let p = path.to_str().expect("utf-8");
            let analyzed = common::run(&["analyze", p, "--format", "json"]);
            let expected = analyzed.status.code().expect("exited");
            let (out, err, code) = diff(&[p, p, "--format", "json"]);
            assert_eq!(code, expected, "{p}: {err}");
            if code == 2 {
                assert!(out.is_empty(), "{p}: {out}");
                continue;
            }
            let v: Value = serde_json::from_str(&out).expect("JSON");
            assert_valid(&v, p);
            let status = v["verdict"]["status"].as_str().unwrap_or("");
            assert!(
                matches!(status, "still_failing" | "not_shown" | "nothing_new"),
                "{p}: {status}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} corpus captures read");
}

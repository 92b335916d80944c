//! `--redact-term` and `--redact-regex` (issue 17, item 5), and cuts that cannot leave half a
//! secret (the HTML body excerpt, `sessions` URLs): run through the binary's code
//! (`common::run_in`) on a copy of `samples/adal-500011-json.har` with a user's name, case
//! variants of the tenant name and a long token response planted.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{run, run_in, sample};

/// The planted user, in the authorize URL's `login_hint` (raw `@`, upper-case domain).
const ALICE: &str = "alice@CONTOSO.com";

/// The sample with `login_hint=alice@CONTOSO.com` and, when `pad` is given, the first token
/// response (session 6, cited by the finding) ending with `"x_pad":"aaa…"` (`pad` bytes),
/// `extra` (JSON members) and `"x_after":"end-of-body"`.
fn capture(dir: &Path, pad: Option<usize>, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(sample("adal-500011-json.har")).unwrap();
    let mut har: Value = serde_json::from_str(&text).unwrap();
    let entries = har["log"]["entries"].as_array_mut().unwrap();
    let url = entries[4]["request"]["url"].as_str().unwrap().to_string();
    assert!(url.contains("login_hint=user%40contoso.com"));
    entries[4]["request"]["url"] = Value::from(url.replace(
        "login_hint=user%40contoso.com",
        &format!("login_hint={ALICE}"),
    ));
    if let Some(pad) = pad {
        let content = &mut entries[5]["response"]["content"];
        let body = content["text"].as_str().unwrap();
        let body = body.strip_suffix('}').unwrap();
        let body = format!(
            r#"{body},"x_pad":"{}",{extra},"x_after":"end-of-body"}}"#,
            "a".repeat(pad)
        );
        content["size"] = Value::from(body.len());
        content["text"] = Value::from(body);
    }
    let path = dir.join("ticket.har");
    std::fs::write(&path, serde_json::to_string(&har).unwrap()).unwrap();
    path
}

fn analyze(path: &Path, format: &str, more: &[&str]) -> Output {
    let mut args = vec!["analyze", path.to_str().unwrap(), "--format", format];
    args.extend_from_slice(more);
    run_in(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn finding_ids(json: &str) -> Vec<String> {
    let report: Value = serde_json::from_str(json).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_term_is_gone_from_every_format_and_the_diagnosis_stays() {
    let dir = tempfile::tempdir().unwrap();
    let har = capture(dir.path(), None, "");
    for format in ["table", "json", "markdown", "html"] {
        let plain = analyze(&har, format, &[]);
        let hidden = analyze(&har, format, &["--redact-term", "contoso"]);
        let (before, after) = (stdout(&plain), stdout(&hidden));
        // Without the flag the case variants are there: the check below can fail.
        assert!(before.contains("contoso"), "{format}");
        assert!(before.contains("Contoso"), "{format}");
        assert!(format != "html" || before.contains("CONTOSO"), "{format}");
        assert!(
            !after.to_lowercase().contains("contoso"),
            "{format}: {after}"
        );
        let mark = if format == "html" {
            "&lt;term&gt;"
        } else {
            "<term>"
        };
        assert!(after.contains(mark), "{format}");
        assert!(
            after.contains(&format!("https://autodiscover.{mark}.com/")),
            "{format}"
        );
        if format == "html" {
            // The page's own style and script pass unchanged (their CSP hashes hold).
            assert!(after.contains(traceadal::report::html::STYLE));
            assert!(after.contains(traceadal::report::html::SCRIPT));
        }
        assert_eq!(hidden.status.code(), Some(1), "{format}");
        assert_eq!(plain.status.code(), hidden.status.code(), "{format}");
        assert!(hidden.stderr.is_empty(), "{format}");
    }
    // The same findings, computed on the capture as it is.
    let plain = stdout(&analyze(&har, "json", &[]));
    let hidden = stdout(&analyze(&har, "json", &["--redact-term", "CONTOSO"]));
    assert_eq!(finding_ids(&plain), vec!["spn-missing"]);
    assert_eq!(finding_ids(&plain), finding_ids(&hidden));
    // Still one valid report.
    let report: Value = serde_json::from_str(&hidden).unwrap();
    assert_eq!(report["verdict"]["exit_code"], 1);
}

#[test]
fn a_term_is_gone_from_sessions_and_powershell() {
    let dir = tempfile::tempdir().unwrap();
    let har = capture(dir.path(), None, "");
    let p = har.to_str().unwrap();
    for args in [
        vec!["sessions", p],
        vec!["sessions", p, "--format", "json"],
        vec!["analyze", p, "--format", "powershell"],
    ] {
        let plain = run_in(&args);
        assert!(stdout(&plain).contains("contoso"), "{args:?}");
        let mut with = args.clone();
        with.extend(["--redact-term", "Contoso"]);
        let hidden = run_in(&with);
        assert_eq!(plain.status.code(), hidden.status.code(), "{args:?}");
        let out = stdout(&hidden);
        assert!(!out.to_lowercase().contains("contoso"), "{args:?}: {out}");
        assert!(out.contains("autodiscover.<term>.com"), "{args:?}");
    }
    // `user%40contoso.com` (percent-encoded) is matched as `contoso` and as the whole
    // address.
    let out = stdout(&run_in(&[
        "sessions",
        p,
        "--redact-term",
        "user@contoso.com",
    ]));
    assert!(out.contains("emailAddress=<term>"), "{out}");
    assert!(!out.contains("user%40"), "{out}");
}

#[test]
fn a_regex_hides_what_it_matches_and_keeps_the_json_valid() {
    let dir = tempfile::tempdir().unwrap();
    let har = capture(dir.path(), None, "");
    let p = har.to_str().unwrap();
    let plain = stdout(&run_in(&["sessions", p, "--format", "json"]));
    assert!(plain.contains(ALICE));
    let out = run_in(&[
        "sessions",
        p,
        "--format",
        "json",
        "--redact-regex",
        r"alice@\S+",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(!text.contains("alice"), "{text}");
    assert!(text.contains("login_hint=<term>"), "{text}");
    // `\S+` ran into the closing quote; the quote stays.
    let rows: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 35);
    for format in ["table", "json", "markdown", "html"] {
        let out = analyze(&har, format, &["--redact-regex", r"alice@\S+"]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(!stdout(&out).contains("alice"), "{format}");
    }
}

#[test]
fn an_invalid_regex_is_a_usage_error_before_any_file_is_read() {
    for command in ["analyze", "sessions", "redact", "batch", "explain"] {
        let mut args = vec![command, "/nonexistent/never-read.har"];
        if command == "redact" {
            args.push("/nonexistent/out.har");
        }
        if command == "explain" {
            args = vec![command, "500011"];
        }
        args.extend(["--redact-term", "ok", "--redact-regex", "alice@(contoso"]);
        // batch runs as a process (`run_in` is not for batch).
        let out = if command == "batch" {
            run(&args)
        } else {
            run_in(&args)
        };
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(out.stdout.is_empty(), "{command}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "traceadal: --redact-regex (#1): not a valid regex: unclosed group\n",
            "{command}"
        );
    }
    let out = run_in(&["explain", "500011", "--redact-term", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "traceadal: --redact-term (#1): the term is empty\n"
    );
}

#[test]
fn terms_apply_with_show_secrets_and_to_messages() {
    let dir = tempfile::tempdir().unwrap();
    let har = capture(dir.path(), None, "");
    let out = analyze(
        &har,
        "html",
        &["--show-secrets", "--redact-term", "contoso"],
    );
    let text = stdout(&out);
    assert!(
        text.contains("fpc=SECRET-fpc-dt8IyJTy9CgvocxfsbixOIl7"),
        "secrets shown"
    );
    assert!(!text.to_lowercase().contains("contoso"));
    // A path holding a term, in an error message.
    let missing = dir.path().join("contoso-ticket.har");
    let out = run_in(&[
        "analyze",
        missing.to_str().unwrap(),
        "--redact-term",
        "contoso",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<term>-ticket.har"), "{err}");
    assert!(!err.to_lowercase().contains("contoso"), "{err}");
}

/// The first `BODY_EXCERPT` bytes of the (pretty-printed) body are shown; a secret the cut
/// falls in (at its first bytes, its middle, its last bytes, just after it) is not shown in
/// part.
#[test]
fn a_secret_cut_by_the_body_excerpt_is_not_half_shown() {
    const EXCERPT: usize = traceadal::report::html::BODY_EXCERPT;
    const JWT_SIG: &str = "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJl";
    let jwt = format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbS8ifQ.{JWT_SIG}"
    );
    // Cut blindly after its first letters, this one reads as prose (`Bearer qwertyuiop`: no
    // digit, no inner capital) and was printed.
    const BEARER: &str = "qwertyuiopasdfghjklzxcvbnmQwErTyZ9";
    let cases = [
        (format!(r#""note":"token {jwt} issued""#), JWT_SIG),
        (
            format!(r#""seen":"Authorization: Bearer {BEARER} sent""#),
            BEARER,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (extra, secret) in &cases {
        // Where the secret starts in the pretty-printed body with no padding.
        let body = |pad: usize| {
            let text = std::fs::read_to_string(capture(dir.path(), Some(pad), extra)).unwrap();
            let har: Value = serde_json::from_str(&text).unwrap();
            let raw = har["log"]["entries"][5]["response"]["content"]["text"]
                .as_str()
                .unwrap()
                .to_string();
            let v: Value = serde_json::from_str(&raw).unwrap();
            serde_json::to_string_pretty(&v).unwrap()
        };
        let at = body(0).find(secret).unwrap();
        assert!(at < EXCERPT);
        let base = EXCERPT - at;
        // The cut before the secret, inside it at every byte, and just after it.
        let n = secret.len();
        for inside in [0, 1, 2, 5, n / 2, n - 3, n - 1, n, n + 2] {
            let pad = base - inside;
            assert_eq!(body(pad).find(secret), Some(EXCERPT - inside));
            let har = capture(dir.path(), Some(pad), extra);
            let out = analyze(&har, "html", &[]);
            assert_eq!(out.status.code(), Some(1));
            let page = stdout(&out);
            // The excerpt is on the page, and was cut.
            assert!(page.contains("\"x_pad\": \"aaaa"), "pad {pad}");
            assert!(page.contains(" bytes shown"), "pad {pad}");
            assert!(!page.contains("end-of-body"), "pad {pad}");
            for i in 0..=secret.len() - 6 {
                let part = &secret[i..i + 6];
                assert!(
                    !page.contains(part),
                    "cut {inside} bytes into the secret: the page shows {part:?}"
                );
            }
        }
    }
}

#[test]
fn batch_hides_terms_in_every_format_and_the_fix_script() {
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("queue");
    std::fs::create_dir(&queue).unwrap();
    let har = capture(dir.path(), None, "");
    std::fs::copy(&har, queue.join("contoso-ticket.har")).unwrap();
    let q = queue.to_str().unwrap();
    let script = dir.path().join("fix.ps1");
    for format in ["table", "ndjson", "csv"] {
        let plain = run(&["batch", q, "--format", format]);
        assert!(stdout(&plain).contains("contoso"), "{format}");
        let hidden = run(&[
            "batch",
            q,
            "--format",
            format,
            "--redact-term",
            "contoso",
            "--fix-script",
            script.to_str().unwrap(),
        ]);
        assert_eq!(plain.status.code(), Some(1), "{format}");
        assert_eq!(hidden.status.code(), plain.status.code(), "{format}");
        let out = stdout(&hidden);
        assert!(!out.to_lowercase().contains("contoso"), "{format}: {out}");
        assert!(out.contains("<term>-ticket.har"), "{format}: {out}");
        // The same diagnosis (csv counts findings; the others name them).
        assert!(
            out.contains("spn-missing") || out.contains(",error,500011,"),
            "{format}: {out}"
        );
        let err = String::from_utf8_lossy(&hidden.stderr).to_lowercase();
        assert!(!err.contains("contoso"), "{format}: {err}");
        let fix = std::fs::read_to_string(&script).unwrap();
        assert!(fix.contains("https://autodiscover.<term>.com/"), "{fix}");
        assert!(!fix.to_lowercase().contains("contoso"), "{fix}");
    }
}

/// `redact` hides the terms in what it prints, in the strings of a HAR outside any entry
/// (`Placeholders::text`: creator, pages, comments) and in every entry, with same-length
/// placeholders.
#[test]
fn redact_hides_terms_in_its_summary_and_the_har_outside_entries() {
    let dir = tempfile::tempdir().unwrap();
    let har = capture(dir.path(), None, "");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    doc["log"]["creator"]["comment"] = Value::from("exported by Alice for CONTOSO support");
    let input = dir.path().join("contoso-in.har");
    std::fs::write(&input, serde_json::to_string(&doc).unwrap()).unwrap();
    let out = dir.path().join("contoso-out.har");
    let o = run_in(&[
        "redact",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
        "--redact-term",
        "contoso",
        "--redact-regex",
        "(?i)alice",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = stdout(&o);
    assert!(!summary.to_lowercase().contains("contoso"), "{summary}");
    assert!(summary.contains("<term>-in.har -> "), "{summary}");
    // 2 in the creator's comment, 64 in the entries (hosts, user names, tenant names).
    assert!(summary.contains("user terms: 66"), "{summary}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lower = text.to_lowercase();
    assert!(!lower.contains("contoso") && !lower.contains("alice"));
    let copy: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        copy["log"]["creator"]["comment"],
        "exported by TERMT for TERMTER support"
    );
}

/// The sample with session 7's URL (noise, config.edge.skype.com) given `userinfo` and a
/// `query` of its own.
fn with_url(dir: &Path, userinfo: &str, query: &str) -> PathBuf {
    let path = capture(dir, None, "");
    let mut har: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entry = &mut har["log"]["entries"][6]["request"];
    let url = entry["url"].as_str().unwrap().to_string();
    let url = url.replacen("https://", &format!("https://{userinfo}"), 1) + query;
    entry["url"] = Value::from(url);
    std::fs::write(&path, serde_json::to_string(&har).unwrap()).unwrap();
    path
}

/// Every output that shows session URLs: `sessions` (table, json) and `analyze --format html`
/// (its sessions table and timeline).
fn url_outputs(har: &Path) -> Vec<(String, String)> {
    let p = har.to_str().unwrap();
    let mut outs = Vec::new();
    for args in [
        vec!["sessions", p],
        vec!["sessions", p, "--format", "json"],
        vec!["analyze", p, "--format", "html"],
        vec!["analyze", p, "--format", "json"],
        vec!["analyze", p, "--format", "markdown"],
    ] {
        outs.push((args.join(" "), stdout(&run_in(&args))));
    }
    outs
}

#[test]
fn a_token_in_a_query_is_hidden_wherever_a_url_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let token = "SECRETqueryTOKENvalueXYZkjhgf";
    let har = with_url(dir.path(), "", &format!("&access_token={token}&z=1"));
    let shown = run_in(&["sessions", har.to_str().unwrap(), "--show-secrets"]);
    assert!(stdout(&shown).contains(token), "the URL is listed");
    for (what, out) in url_outputs(&har) {
        for i in 0..=token.len() - 6 {
            assert!(
                !out.contains(&token[i..i + 6]),
                "{what}: {}",
                &token[i..i + 6]
            );
        }
    }
}

/// `https://user:password@host/`: the password must go from every output. Needs the URL
/// userinfo finder (issue 17, item 2: the finders' part, `src/redact/patterns.rs`); every
/// URL shown already passes the redaction layer before it is shortened.
#[test]
fn url_userinfo_is_hidden_wherever_a_url_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let password = "Pa55wordUserinfoSECRET";
    let har = with_url(dir.path(), &format!("svc-account:{password}@"), "");
    let shown = run_in(&["sessions", har.to_str().unwrap(), "--show-secrets"]);
    assert!(stdout(&shown).contains(password), "the URL is listed");
    for (what, out) in url_outputs(&har) {
        for i in 0..=password.len() - 6 {
            assert!(
                !out.contains(&password[i..i + 6]),
                "{what}: {}",
                &password[i..i + 6]
            );
        }
    }
}

/// `redact` of a SAZ hides the terms in every entry: heads, bodies (gzip and chunked bodies
/// are stored decoded, so the search covers what a reader of the copy sees), `_m.xml`; the
/// copy still opens and reads as many sessions.
#[test]
fn redact_hides_terms_in_every_saz_entry() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("adal-500011-json.saz");
    let out = dir.path().join("out.saz");
    let o = run_in(&[
        "redact",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
        "--redact-term",
        "contoso",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let original = crate::common::leaks::layers(&std::fs::read(&input).unwrap());
    let seen = |layers: &[crate::common::leaks::Layer]| {
        layers
            .iter()
            .filter(|l| {
                String::from_utf8_lossy(&l.bytes)
                    .to_lowercase()
                    .contains("contoso")
            })
            .count()
    };
    assert!(seen(&original) > 0, "the sample names its tenant");
    let copy = crate::common::leaks::layers(&std::fs::read(&out).unwrap());
    assert_eq!(seen(&copy), 0);
    let sessions = |p: &Path| {
        let o = run_in(&["sessions", p.to_str().unwrap(), "--format", "json"]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().unwrap().len()
    };
    assert_eq!(sessions(&out), sessions(&input));
    assert!(sessions(&input) > 10);
}

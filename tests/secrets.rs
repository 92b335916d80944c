//! No output of any command, in any format, holds a planted secret — raw, base64 (at every
//! alignment), base64url, percent-encoded, form-encoded or JSON-escaped — unless
//! `--show-secrets` is given, and then the outputs that quote capture text do show them.
//! The secrets are `samplegen::PLANTED_SECRETS` (and `JWT_CLAIM_SECRETS`: the redaction
//! layer hides secret claims too); the samples are every file in `samples/` and
//! `samples/variants/`.
//!
//! The commands run in this process (`common::run_in`, the binary's code with its output
//! collected), hundreds of times; `in_process_output_is_the_processs` checks that this is
//! what the binary prints, and `batch` and the environment-variable password run as processes.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::leaks::{forms, percent};
use crate::common::{root, run, run_env, run_in};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use samplegen::secrets::{
    AUTH_CODES, CLIENT_SECRET, COOKIE_ESTSAUTH, RT_OUTLOOK_MRRT, SIG_ID_TOKEN,
};
use samplegen::{JWT_CLAIM_SECRETS, PLANTED_SECRETS};

/// Every secret this suite looks for.
fn secrets() -> Vec<&'static str> {
    PLANTED_SECRETS
        .iter()
        .chain(JWT_CLAIM_SECRETS)
        .copied()
        .collect()
}

/// The secrets found in `text`, in any form.
fn leaks(text: &str) -> BTreeSet<&'static str> {
    secrets()
        .into_iter()
        .filter(|s| forms(s).iter().any(|f| text.contains(f.as_str())))
        .collect()
}

fn assert_clean(what: &str, text: &str) {
    let found = leaks(text);
    assert!(
        found.is_empty(),
        "{what}: leaks {} secret(s): {:?}",
        found.len(),
        found
            .iter()
            .map(|s| &s[..s.len().min(30)])
            .collect::<Vec<_>>()
    );
}

fn assert_output_clean(what: &str, out: &Output) {
    assert_clean(
        &format!("{what} (stdout)"),
        &String::from_utf8_lossy(&out.stdout),
    );
    assert_clean(
        &format!("{what} (stderr)"),
        &String::from_utf8_lossy(&out.stderr),
    );
}

/// Every sample capture.
fn samples() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["samples", "samples/variants"] {
        let Ok(rd) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_file() && p.extension().is_some_and(|x| x != "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 40, "samples missing: {}", out.len());
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn the_checker_itself_finds_every_form() {
    let secret = "SECRET-x y/z+1";
    for text in [
        "a SECRET-x y/z+1 b".to_string(),
        format!("q={}", percent(secret, true)),
        format!("q={}", percent(secret, false)),
        format!("{{\"a\":{}}}", serde_json::to_string(secret).unwrap()),
        STANDARD.encode(format!("ab{secret}cd")),
        STANDARD.encode(format!("a{secret}")),
        URL_SAFE_NO_PAD.encode(format!("xyz{secret}")),
    ] {
        assert!(
            forms(secret).iter().any(|f| text.contains(f.as_str())),
            "{text}"
        );
    }
    // The samples do carry every planted secret, so a clean output means something.
    let all: String = samples()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "har"))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let found = leaks(&all);
    for secret in PLANTED_SECRETS {
        assert!(found.contains(secret), "no sample holds {secret}");
    }
}

#[test]
fn analyze_in_every_format_prints_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    for p in samples() {
        for format in ["table", "json", "markdown", "powershell"] {
            let out = run_in(&["analyze", s(&p), "--format", format]);
            assert_output_clean(&format!("analyze {} --format {format}", p.display()), &out);
        }
        let html = dir.path().join("report.html");
        let out = run_in(&["analyze", s(&p), "--format", "html", "-o", s(&html)]);
        assert_output_clean(&format!("analyze {} --format html", p.display()), &out);
        let page = std::fs::read_to_string(&html).unwrap_or_default();
        assert!(page.contains("</html>"), "{}: no page", p.display());
        assert_clean(
            &format!("analyze {} --format html (file)", p.display()),
            &page,
        );
    }
}

#[test]
fn sessions_prints_no_secret() {
    for p in samples() {
        for format in ["table", "json"] {
            let out = run_in(&["sessions", s(&p), "--format", format]);
            // A zip of captures is refused, saying what it holds (tests/attachments.rs).
            let want = if crate::common::is_zip_of_captures(&p) {
                2
            } else {
                0
            };
            assert_eq!(out.status.code(), Some(want), "sessions {}", p.display());
            assert_output_clean(&format!("sessions {} --format {format}", p.display()), &out);
        }
    }
}

#[test]
fn batch_prints_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    for p in samples() {
        let name = p.file_name().unwrap();
        std::fs::copy(&p, dir.path().join(name)).unwrap();
    }
    // A damaged copy, so that batch has an error to report.
    let se = std::fs::read(root().join("samples/secrets-everywhere.har")).unwrap();
    std::fs::write(dir.path().join("damaged.har"), &se[..se.len() / 2]).unwrap();
    let script = dir.path().join("fix.ps1");
    for format in ["table", "ndjson", "csv"] {
        let out = run(&[
            "batch",
            s(dir.path()),
            "--format",
            format,
            "--fix-script",
            s(&script),
        ]);
        assert!(!out.stdout.is_empty(), "batch --format {format}: no output");
        assert_output_clean(&format!("batch --format {format}"), &out);
        assert_clean(
            "batch --fix-script",
            &std::fs::read_to_string(&script).unwrap_or_default(),
        );
    }
}

#[test]
fn error_messages_print_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let se = std::fs::read(root().join("samples/secrets-everywhere.har")).unwrap();
    let text = String::from_utf8_lossy(&se);
    // Cut the HAR inside a secret, and break it right after one: the parser stops there.
    let at = text.find(RT_OUTLOOK_MRRT).unwrap() + 10;
    let cut = dir.path().join("cut.har");
    std::fs::write(&cut, &se[..at]).unwrap();
    let broken = dir.path().join("broken.har");
    let end = text.find(CLIENT_SECRET).unwrap() + CLIENT_SECRET.len();
    let mut b = se[..end].to_vec();
    b.extend_from_slice(b"\x01}}]]]");
    std::fs::write(&broken, &b).unwrap();
    // A SAZ whose entries are cut short.
    let saz = std::fs::read(root().join("samples/secrets-everywhere.saz")).unwrap();
    let short = dir.path().join("short.saz");
    std::fs::write(&short, &saz[..saz.len() * 2 / 3]).unwrap();
    for p in [&cut, &broken, &short] {
        for args in [
            vec!["analyze", s(p), "--format", "json"],
            vec!["analyze", s(p)],
            vec!["sessions", s(p)],
            vec!["redact", s(p), s(&dir.path().join("out"))],
        ] {
            let out = run_in(&args);
            assert_output_clean(&args.join(" "), &out);
        }
    }
    // An encrypted SAZ without, and with a wrong, password.
    let enc = dir.path().join("enc.saz");
    samplegen::write_encrypted_saz(
        "secrets-everywhere",
        "pw",
        samplegen::SazEncryption::Aes256,
        &enc,
    )
    .unwrap();
    for env in [vec![], vec![("PW", "wrong")]] {
        let mut args = vec!["analyze", s(&enc)];
        if !env.is_empty() {
            args.extend(["--password-env", "PW"]);
        }
        let out = run_env(&args, &env);
        assert_eq!(out.status.code(), Some(2));
        assert_output_clean("analyze encrypted", &out);
    }
}

#[test]
fn redact_prints_no_secret_and_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    for p in samples() {
        let ext = if p.extension().is_some_and(|e| e == "saz") {
            "saz"
        } else {
            "har"
        };
        let out_path = dir.path().join(format!("out.{ext}"));
        let out = run_in(&["redact", s(&p), s(&out_path)]);
        if crate::common::is_zip_of_captures(&p) {
            // Refused, saying what it holds (tests/attachments.rs).
            assert_eq!(out.status.code(), Some(2), "redact {}", p.display());
            assert_output_clean(&format!("redact {}", p.display()), &out);
            continue;
        }
        assert_eq!(
            out.status.code(),
            Some(0),
            "redact {}: {out:?}",
            p.display()
        );
        assert_output_clean(&format!("redact {}", p.display()), &out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("replaced "), "{text}");
        // The file itself: every entry (inflated) and every decoded body.
        let written = common::redact::capture_text(&out_path);
        assert_clean(&format!("redact {} (output file)", p.display()), &written);
        // With --show-secrets, nothing is left to show either.
        for args in [
            vec![
                "analyze",
                s(&out_path),
                "--format",
                "json",
                "--show-secrets",
            ],
            vec![
                "sessions",
                s(&out_path),
                "--format",
                "json",
                "--show-secrets",
            ],
        ] {
            assert_output_clean(&args.join(" "), &run_in(&args));
        }
    }
}

/// The outputs that quote capture text (the HTML page's session details, the JSON evidence)
/// show the secrets with `--show-secrets`, and exactly those disappear without it.
#[test]
fn show_secrets_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    for name in ["secrets-everywhere.saz", "secrets-everywhere.har"] {
        let p = root().join("samples").join(name);
        let shown = run_in(&[
            "analyze",
            s(&p),
            "--format",
            "html",
            "-o",
            s(&html),
            "--show-secrets",
        ]);
        assert!(shown.status.code().is_some());
        let page = std::fs::read_to_string(&html).unwrap();
        let found = leaks(&page);
        for must in [
            RT_OUTLOOK_MRRT,
            AUTH_CODES[0],
            COOKIE_ESTSAUTH,
            CLIENT_SECRET,
            SIG_ID_TOKEN,
        ] {
            assert!(found.contains(must), "{name}: --show-secrets hides {must}");
        }
        run_in(&["analyze", s(&p), "--format", "html", "-o", s(&html)]);
        assert_clean(name, &std::fs::read_to_string(&html).unwrap());
    }
}

/// The in-process runs above print what the binary prints: same exit code, same stdout and
/// stderr, for every command and format on the two samples holding every secret.
#[test]
fn in_process_output_is_the_processs() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["secrets-everywhere.saz", "secrets-everywhere.har"] {
        let p = root().join("samples").join(name);
        let out = dir.path().join(name);
        let mut runs: Vec<Vec<&str>> = ["table", "json", "markdown", "powershell", "html"]
            .into_iter()
            .map(|f| vec!["analyze", s(&p), "--format", f])
            .collect();
        runs.push(vec!["sessions", s(&p)]);
        runs.push(vec![
            "sessions",
            s(&p),
            "--format",
            "json",
            "--show-secrets",
        ]);
        runs.push(vec!["analyze", s(&p), "--show-secrets", "--format", "json"]);
        runs.push(vec!["analyze", s(&p), "--format", "yaml"]);
        runs.push(vec!["explain", "500011"]);
        for args in &runs {
            let (a, b) = (run(args), run_in(args));
            let what = args.join(" ");
            assert_eq!(a.status.code(), b.status.code(), "{what}: exit code");
            assert!(a.stdout == b.stdout, "{what}: stdout differs");
            assert_eq!(
                String::from_utf8_lossy(&a.stderr),
                String::from_utf8_lossy(&b.stderr),
                "{what}: stderr"
            );
        }
        // redact writes a file: the same bytes either way, and the same summary.
        let (a, b) = (out.with_extension("a"), out.with_extension("b"));
        let ra = run(&["redact", s(&p), s(&a)]);
        let rb = run_in(&["redact", s(&p), s(&b)]);
        assert_eq!(ra.status.code(), Some(0), "{ra:?}");
        assert_eq!(rb.status.code(), Some(0), "{rb:?}");
        assert_eq!(
            String::from_utf8_lossy(&ra.stdout).replace(s(&a), "OUT"),
            String::from_utf8_lossy(&rb.stdout).replace(s(&b), "OUT")
        );
        assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
    }
}

/// `diff` (issue 21) prints titles, verdicts and hosts of two reports: no secret either way
/// round, in every format.
#[test]
fn diff_prints_no_secret() {
    let se = root().join("samples/secrets-everywhere.saz");
    let other = root().join("samples/adal-500011-json.har");
    let se_har = root().join("samples/secrets-everywhere.har");
    for (before, after) in [(&se, &other), (&other, &se), (&se, &se_har)] {
        for format in ["table", "markdown", "json"] {
            let out = run(&["diff", s(before), s(after), "--format", format]);
            assert!(!out.stdout.is_empty(), "diff --format {format}: no output");
            assert_output_clean(&format!("diff --format {format}"), &out);
        }
    }
}

//! `traceadal redact`: redaction never removes evidence (analysis of the copy equals analysis
//! of the original), the copies of the shared public captures list the same sessions, the
//! command refuses to overwrite its input and writes nowhere but OUT, and the output password
//! encrypts the copy.
//!
//! What is checked in the output files and reports runs in this process (`common::run_in`);
//! exit codes, refusals and what is written where run the binary.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{analyze_json, corpus, root, run, run_env, run_in, sample};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn samples() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["samples", "samples/variants"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            let p = e.path();
            // Not the zips of captures: redact refuses them (tests/attachments.rs).
            if p.is_file()
                && p.extension().is_some_and(|x| x != "md")
                && !crate::common::is_zip_of_captures(&p)
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn out_name(p: &Path) -> &'static str {
    if p.extension().is_some_and(|e| e == "saz") {
        "out.saz"
    } else {
        "out.har"
    }
}

/// The parts of a report that are evidence: findings (id, severity, sessions), loops,
/// AADSTS codes, missing SPNs, and the read problems.
fn evidence(report: &Value) -> Value {
    let findings: Vec<Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            // The SAML response a federated sign-in posts is a credential: redaction removes
            // it, so these findings keep their id, severity and sessions, and say the
            // assertion is not in the copy instead of quoting its issuer and certificate.
            if f["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("federation-saml-"))
            {
                return serde_json::json!({
                    "id": f["id"], "severity": f["severity"], "sessions": f["sessions"],
                });
            }
            serde_json::json!({
                "id": f["id"], "severity": f["severity"], "sessions": f["sessions"],
                "title": f["title"], "evidence": f["evidence"],
            })
        })
        .collect();
    serde_json::json!({
        "findings": findings,
        "loops": report["loops"],
        "aadsts": report["aadsts"],
        "missing_spns": report["missing_spns"],
        "errors": report["capture"]["errors"],
        "sessions": report["capture"]["sessions"],
    })
}

#[test]
fn redaction_never_removes_evidence() {
    let dir = tempfile::tempdir().unwrap();
    for p in samples() {
        let out = dir.path().join(out_name(&p));
        let r = run_in(&["redact", s(&p), s(&out)]);
        assert_eq!(r.status.code(), Some(0), "{}: {r:?}", p.display());
        let (code_a, a) = analyze_json(&p);
        let (code_b, b) = analyze_json(&out);
        assert_eq!(code_a, code_b, "{}", p.display());
        assert_eq!(evidence(&a), evidence(&b), "{}", p.display());
    }
}

/// Sessions as `sessions --format json` lists them, URLs with replaced stretches made equal.
fn listing(path: &Path, env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    let mut args = vec!["sessions", s(path), "--format", "json"];
    if !env.is_empty() {
        args.extend(["--password-env", "PW"]);
    }
    // In this process unless a password comes from the environment.
    let out = if env.is_empty() {
        run_in(&args)
    } else {
        run_env(&args, env)
    };
    let code = out.status.code().unwrap();
    if code != 0 {
        return (code, Vec::new());
    }
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let re = regex::Regex::new(
        r"<redacted>|(?:REDACTED)+(?:REDACTE|REDACT|REDAC|REDA|RED|RE|R)?|\bRED(?:A(?:C(?:T(?:E)?)?)?)?\b",
    )
    .unwrap();
    let rows = rows
        .into_iter()
        .map(|mut r| {
            let url = r["url"].as_str().unwrap_or("").to_string();
            r["url"] = Value::String(re.replace_all(&url, "*").into_owned());
            // Sizes change where a compressed body is stored decoded.
            r["response_bytes"] = Value::Null;
            r["request_bytes"] = Value::Null;
            r
        })
        .collect();
    (code, rows)
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn the_shared_captures_list_the_same_sessions_after_redaction() {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let env = [("PW", "fiddler")];
    let mut files = Vec::new();
    for sub in ["saz", "har", "har/mitmproxy"] {
        for e in std::fs::read_dir(corpus.join(sub)).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_file() && (name.ends_with(".saz") || name.ends_with("har")) {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 20);
    let mut compared = 0;
    for p in files {
        let encrypted = p.to_string_lossy().contains("synthetic__");
        let env: &[(&str, &str)] = if encrypted { &env } else { &[] };
        let (code, before) = listing(&p, env);
        let out = dir.path().join(out_name(&p));
        let mut args = vec!["redact", s(&p), s(&out)];
        if encrypted {
            args.extend(["--password-env", "PW"]);
        }
        let r = if encrypted {
            run_env(&args, env)
        } else {
            run_in(&args)
        };
        if code != 0 {
            // What `sessions` cannot read, `redact` refuses too.
            assert_eq!(r.status.code(), Some(2), "{}", p.display());
            continue;
        }
        assert_eq!(r.status.code(), Some(0), "{}: {r:?}", p.display());
        let (code_after, mut after) = listing(&out, &[]);
        assert_eq!(code_after, 0, "{}", p.display());
        // A SAZ body that is not kept (binary, not decodable) is a text/plain placeholder in
        // the copy (`redact::saz`): its content type is the placeholder's.
        let mut before = before;
        if out_name(&p) == "out.saz" {
            for (b, a) in before.iter_mut().zip(after.iter_mut()) {
                if a["content_type"] == "text/plain; charset=utf-8"
                    && b["content_type"] != a["content_type"]
                {
                    b["content_type"] = Value::Null;
                    a["content_type"] = Value::Null;
                }
            }
        }
        assert_eq!(before, after, "{}", p.display());
        compared += 1;
    }
    assert!(compared >= 25, "only {compared} captures compared");
}

/// Unix only: the symlink case needs `std::os::unix::fs::symlink` (on Windows a symlink needs
/// a privilege a test cannot count on).
#[cfg(unix)]
#[test]
fn refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.saz");
    std::fs::copy(sample("secrets-everywhere.saz"), &input).unwrap();
    let original = std::fs::read(&input).unwrap();
    let link = dir.path().join("link.saz");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let hard = dir.path().join("hard.saz");
    std::fs::hard_link(&input, &hard).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let dotted = sub.join("../in.saz");
    let dot_slash = format!("{}/./in.saz", dir.path().display());
    for out in [
        s(&input),
        s(&link),
        s(&hard),
        s(&dotted),
        dot_slash.as_str(),
    ] {
        let r = run(&["redact", s(&input), out]);
        assert_eq!(r.status.code(), Some(2), "OUT {out}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains("refusing to overwrite"), "{err}");
    }
    // The same through a relative `./` path from inside the folder.
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(["redact", "in.saz", "./in.saz"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(std::fs::read(&input).unwrap(), original);
    // Nothing else was written.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["hard.saz", "in.saz", "link.saz", "sub"]);
}

#[test]
fn unreadable_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.saz");
    std::fs::write(&junk, b"not a capture").unwrap();
    let out = dir.path().join("out.saz");
    for input in [junk.clone(), dir.path().join("missing.saz")] {
        let r = run(&["redact", s(&input), s(&out)]);
        assert_eq!(r.status.code(), Some(2));
    }
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A SAZ whose entry names try to climb out (`raw/../../evil`, `../../evil.txt`, an
/// absolute name): `redact` reads them as names, copies them as names, and creates no file.
#[test]
fn traversal_entry_names_create_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    let input = deep.join("in.saz");
    {
        let f = std::fs::File::create(&input).unwrap();
        let mut w = zip::ZipWriter::new(f);
        let o = zip::write::SimpleFileOptions::default();
        let req = "GET https://x.contoso.com/?code=0.AXoA-secret-code-value HTTP/1.1\r\nHost: x.contoso.com\r\nCookie: a=SECRET-cookie-1\r\n\r\n";
        let resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        for (name, data) in [
            ("raw/1_c.txt", req),
            ("raw/1_s.txt", resp),
            ("raw/../../evil", req),
            ("../../evil.txt", req),
            ("/tmp/traceadal-evil-abs.txt", req),
            ("raw/../../../2_c.txt", req),
        ] {
            w.start_file(name, o).unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    let out = deep.join("out.saz");
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(["redact", "in.saz", "out.saz"])
        .current_dir(&deep)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    assert!(!Path::new("/tmp/traceadal-evil-abs.txt").exists());
    let files: Vec<PathBuf> = walk(dir.path());
    assert_eq!(files, [input.clone(), out.clone()], "{files:?}");
    // The session entries are copied, their content redacted; names outside the SAZ layout
    // are not copied at all.
    let text = common::redact::capture_text(&out);
    assert!(!text.contains("SECRET-cookie-1") && !text.contains("AXoA-secret"));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["raw/1_c.txt", "raw/1_s.txt"]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_output_password_encrypts_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.saz");
    let p = sample("secrets-everywhere.saz");
    let r = run_env(
        &["redact", s(&p), s(&out), "--out-password-env", "OUTPW"],
        &[("OUTPW", "s3cret out")],
    );
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    // Every file entry is AES encrypted.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).unwrap();
        assert!(e.is_dir() || e.encrypted(), "entry {i} is not encrypted");
    }
    // Without the password: refused; with it: the same sessions and findings.
    let none = run(&["sessions", s(&out)]);
    assert_eq!(none.status.code(), Some(2));
    let wrong = run_env(
        &["sessions", s(&out), "--password-env", "PW"],
        &[("PW", "nope")],
    );
    assert_eq!(wrong.status.code(), Some(2));
    let (_, a) = listing(&p, &[]);
    let (code, b) = listing(&out, &[("PW", "s3cret out")]);
    assert_eq!(code, 0);
    assert_eq!(a, b);
    let text = common::redact::capture_text_with(&out, Some("s3cret out"));
    assert!(text.contains("autodiscover.contoso.com"));
    assert!(!text.contains("SECRET-"), "a planted secret survived");
    // A HAR cannot be encrypted: refused, nothing written.
    let har_out = dir.path().join("out.har");
    let r = run_env(
        &[
            "redact",
            s(&sample("secrets-everywhere.har")),
            s(&har_out),
            "--out-password-env",
            "OUTPW",
        ],
        &[("OUTPW", "x")],
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(!har_out.exists());
}

#[test]
fn an_encrypted_input_needs_its_password() {
    let dir = tempfile::tempdir().unwrap();
    for enc in [
        samplegen::SazEncryption::Aes256,
        samplegen::SazEncryption::ZipCrypto,
    ] {
        let input = dir.path().join("in.saz");
        samplegen::write_encrypted_saz("secrets-everywhere", "pw", enc, &input).unwrap();
        let out = dir.path().join("out.saz");
        let _ = std::fs::remove_file(&out);
        assert_eq!(run(&["redact", s(&input), s(&out)]).status.code(), Some(2));
        let wrong = run_env(
            &["redact", s(&input), s(&out), "--password-env", "PW"],
            &[("PW", "wrong")],
        );
        assert_eq!(wrong.status.code(), Some(2));
        assert!(!out.exists());
        let r = run_env(
            &["redact", s(&input), s(&out), "--password-env", "PW"],
            &[("PW", "pw")],
        );
        assert_eq!(r.status.code(), Some(0), "{r:?}");
        // The copy is not encrypted (no output password) and has no secret left.
        let text = common::redact::capture_text(&out);
        assert!(!text.contains("SECRET-"));
        let (_, a) = analyze_json(&sample("secrets-everywhere.saz"));
        let (_, b) = analyze_json(&out);
        assert_eq!(evidence(&a)["findings"], evidence(&b)["findings"]);
    }
}

#[test]
fn the_summary_counts_by_kind_and_names_no_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.har");
    let r = run_in(&["redact", s(&sample("secrets-everywhere.har")), s(&out)]);
    let text = String::from_utf8_lossy(&r.stdout);
    for kind in [
        "bearer tokens: 2",
        "basic credentials: 1",
        "refresh tokens:",
        "cookies:",
        "passwords: 2",
        "client secrets: 1",
        "SAML responses: 1",
        "RSA ctfData: 1",
    ] {
        assert!(text.contains(kind), "{kind} missing in {text}");
    }
    assert!(!text.contains("SECRET-"));
    // The HAR stays a HAR: same entries, same order.
    let a: Value =
        serde_json::from_slice(&std::fs::read(sample("secrets-everywhere.har")).unwrap()).unwrap();
    let b: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(a["log"]["version"], b["log"]["version"]);
    let ea = a["log"]["entries"].as_array().unwrap();
    let eb = b["log"]["entries"].as_array().unwrap();
    assert_eq!(ea.len(), eb.len());
    for (x, y) in ea.iter().zip(eb) {
        assert_eq!(x["request"]["method"], y["request"]["method"]);
        assert_eq!(x["response"]["status"], y["response"]["status"]);
        assert_eq!(
            x["request"]["url"].as_str().unwrap().len(),
            y["request"]["url"].as_str().unwrap().len()
        );
    }
}

/// `redact --drop-bodies-except-auth` keeps only the bodies the analysis reads (Entra ID
/// sign-ins and token requests, EWS): every sample's copy tells the same story, and the
/// bodies of the other sessions (autodiscover answers, telemetry) are placeholders.
#[test]
fn dropping_the_bodies_the_diagnosis_does_not_read_keeps_the_story() {
    let dir = tempfile::tempdir().unwrap();
    let mut dropped_somewhere = 0;
    for p in samples() {
        let out = dir.path().join(out_name(&p));
        let r = run_in(&["redact", s(&p), s(&out), "--drop-bodies-except-auth"]);
        assert_eq!(r.status.code(), Some(0), "{}: {r:?}", p.display());
        let said = String::from_utf8_lossy(&r.stdout).into_owned();
        let n: u64 = said
            .split("dropped the bodies of ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}: {said}", p.display()));
        dropped_somewhere += n;
        let (code_a, a) = analyze_json(&p);
        let (code_b, b) = analyze_json(&out);
        assert_eq!(code_a, code_b, "{}", p.display());
        assert_eq!(
            common::redact::story(&a),
            common::redact::story(&b),
            "{}",
            p.display()
        );
    }
    assert!(dropped_somewhere > 100, "{dropped_somewhere}");
}

/// The exact effect on one sample: 20 of its sessions lose their bodies, the token responses
/// Entra ID sent stay and still carry AADSTS500011, and so do the Autodiscover requests (the
/// Autodiscover rules read the address asked about; issue 19: 26 before).
#[test]
fn drop_bodies_except_auth_on_the_500011_sample() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("adal-500011-json.saz");
    let out = dir.path().join("out.saz");
    let r = run_in(&["redact", s(&input), s(&out), "--drop-bodies-except-auth"]);
    assert_eq!(r.status.code(), Some(0));
    let said = String::from_utf8_lossy(&r.stdout);
    assert!(
        said.ends_with("dropped the bodies of 20 session(s) the diagnosis does not read\n"),
        "{said}"
    );
    let text = common::redact::capture_text(&out);
    assert!(text.contains("AADSTS500011"));
    assert!(
        text.contains("<EMailAddress>"),
        "autodiscover requests are kept"
    );
    assert!(text.contains("not read by the diagnosis (--drop-bodies-except-auth)"));
    let before = common::redact::capture_text(&input);
    assert!(before.contains("<Autodiscover"));
}

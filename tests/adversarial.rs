//! The oracle for the adversarial set (`samplegen::adversarial`, issue 17): for each case,
//! every output — `analyze` in every format (the HTML page too), `sessions` in every format,
//! `batch` in every format with its fix script, `redact`'s messages and the redacted copy
//! (every zip entry inflated, names, comments, extra fields, HTTP bodies decoded, websocket
//! payloads unmasked; every HAR string, base64 decoded) — is searched for the case's one
//! secret in every encoding (`common::leaks::named_forms`). And the copy tells the same story:
//! `analyze --format json` of the original and of the copy give the same exit code, verdict
//! status, finding ids, missing SPNs and AADSTS codes.
//!
//! `explain` takes an AADSTS code, not a capture: nothing of a capture reaches it.
//!
//! Reports name a case by its id and an output by its name, never a secret.
//!
//! `adversarial_fast` runs the fast slice (`Case::fast`) in this process; `adversarial_full`
//! every case, with the binary at `$TRACEADAL_BIN` when set (scripts/adversarial.sh: the
//! release build, on the cases it generated into `$ADV_DIR`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::leaks::{find, layers, named_forms};
use serde_json::Value;

/// One case as the oracle needs it.
#[derive(Clone, Debug)]
struct Case {
    id: String,
    file: PathBuf,
    secret: String,
}

/// Where a case leaked: the output and the encoding found there.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Leak {
    output: String,
    encoding: &'static str,
}

/// What the oracle found for one case.
#[derive(Debug, Default)]
struct Outcome {
    leaks: Vec<Leak>,
    /// What differs between the original's analysis and the copy's (empty: same story).
    story: Vec<String>,
    /// The oracle could not find the secret in the original: the case or the oracle is
    /// broken, and a clean result would mean nothing.
    unseen: bool,
    /// `redact` refused the capture (exit code), so there is no copy to search.
    redact_failed: Option<i32>,
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs traceadal: the binary at `$TRACEADAL_BIN` when set, else in this process.
fn tool(args: &[&str]) -> Output {
    match std::env::var_os("TRACEADAL_BIN") {
        Some(bin) => std::process::Command::new(bin)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("TRACEADAL_BIN runs"),
        None => common::run_in(args),
    }
}

fn search(out: &mut Vec<Leak>, name: &str, bytes: &[u8], secret: &str) {
    let forms = named_forms(secret);
    if let Some(encoding) = find(bytes, secret, &forms) {
        out.push(Leak {
            output: name.to_string(),
            encoding,
        });
    }
}

fn search_output(out: &mut Vec<Leak>, name: &str, o: &Output, secret: &str) {
    search(out, &format!("{name} (stdout)"), &o.stdout, secret);
    search(out, &format!("{name} (stderr)"), &o.stderr, secret);
}

/// The facts of a report that make its story.
fn story(code: Option<i32>, stdout: &[u8]) -> Vec<(String, String)> {
    let r: Value = serde_json::from_slice(stdout).unwrap_or(Value::Null);
    let mut ids: Vec<String> = r["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    let mut codes: Vec<String> = r["aadsts"]
        .as_array()
        .map(|a| a.iter().map(|x| x["code"].to_string()).collect())
        .unwrap_or_default();
    codes.sort();
    vec![
        ("exit code".into(), format!("{code:?}")),
        ("verdict".into(), r["verdict"]["status"].to_string()),
        ("finding ids".into(), ids.join(",")),
        ("missing SPNs".into(), r["missing_spns"].to_string()),
        ("AADSTS codes".into(), codes.join(",")),
    ]
}

/// Every output of every command for one case (but `batch`, run over a folder).
fn check(case: &Case, work: &Path) -> Outcome {
    let mut o = Outcome::default();
    let secret = case.secret.as_str();
    let original = std::fs::read(&case.file).unwrap_or_default();
    let forms = named_forms(secret);
    o.unseen = !layers(&original)
        .iter()
        .any(|l| find(&l.bytes, secret, &forms).is_some());
    let f = s(&case.file);
    for format in ["table", "json", "markdown", "powershell"] {
        let out = tool(&["analyze", f, "--format", format]);
        search_output(
            &mut o.leaks,
            &format!("analyze --format {format}"),
            &out,
            secret,
        );
    }
    let html = work.join(format!("{}.html", case.id));
    let out = tool(&["analyze", f, "--format", "html", "-o", s(&html)]);
    search_output(&mut o.leaks, "analyze --format html", &out, secret);
    search(
        &mut o.leaks,
        "analyze --format html (page)",
        &std::fs::read(&html).unwrap_or_default(),
        secret,
    );
    let _ = std::fs::remove_file(&html);
    for format in ["table", "json"] {
        let out = tool(&["sessions", f, "--format", format]);
        search_output(
            &mut o.leaks,
            &format!("sessions --format {format}"),
            &out,
            secret,
        );
    }
    let ext = if original.starts_with(b"PK") {
        "saz"
    } else {
        "har"
    };
    let copy = work.join(format!("{}.redacted.{ext}", case.id));
    let out = tool(&["redact", f, s(&copy)]);
    search_output(&mut o.leaks, "redact", &out, secret);
    if out.status.code() != Some(0) {
        o.redact_failed = out.status.code();
        return o;
    }
    let written = std::fs::read(&copy).unwrap_or_default();
    for l in layers(&written) {
        search(
            &mut o.leaks,
            &format!("redacted copy: {}", l.place),
            &l.bytes,
            secret,
        );
    }
    let a = tool(&["analyze", f, "--format", "json"]);
    let b = tool(&["analyze", s(&copy), "--format", "json"]);
    for ((what, x), (_, y)) in story(a.status.code(), &a.stdout)
        .into_iter()
        .zip(story(b.status.code(), &b.stdout))
    {
        if x != y {
            o.story.push(what);
        }
    }
    let _ = std::fs::remove_file(&copy);
    o
}

/// `batch` over the folder holding every case, in every format with a fix script: which
/// cases' secrets it prints, and where.
fn check_batch(dir: &Path, cases: &[Case], work: &Path) -> Vec<Vec<Leak>> {
    let mut found = vec![Vec::new(); cases.len()];
    let script = work.join("fix.ps1");
    for format in ["table", "ndjson", "csv"] {
        let args = [
            "batch",
            s(dir),
            "--format",
            format,
            "--fix-script",
            s(&script),
        ];
        let out = match std::env::var_os("TRACEADAL_BIN") {
            Some(_) => tool(&args),
            None => common::run(&args),
        };
        let fix = std::fs::read(&script).unwrap_or_default();
        for (i, c) in cases.iter().enumerate() {
            let name = format!("batch --format {format}");
            search_output(&mut found[i], &name, &out, &c.secret);
            search(&mut found[i], "batch --fix-script", &fix, &c.secret);
        }
    }
    found
}

/// The cases: from `$ADV_DIR/cases.tsv` when set (written by `samplegen adversarial`),
/// else generated here into `dir`.
fn load(fast_only: bool, dir: &Path) -> (PathBuf, Vec<Case>) {
    if let Some(adv) = std::env::var_os("ADV_DIR") {
        let adv = PathBuf::from(adv);
        let tsv = std::fs::read_to_string(adv.join("cases.tsv")).expect("cases.tsv");
        let cases = tsv
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 6).then(|| Case {
                    id: f[0].to_string(),
                    file: adv.join(format!("{}.{}", f[0], f[1])),
                    secret: f[5].to_string(),
                })
            })
            .collect();
        return (adv, cases);
    }
    let cases = samplegen::adversarial::cases()
        .into_iter()
        .filter(|c| c.fast || !fast_only)
        .map(|c| {
            let file = dir.join(c.file_name());
            std::fs::write(&file, &c.bytes).expect("case written");
            Case {
                id: c.id,
                file,
                secret: c.secret,
            }
        })
        .collect();
    (dir.to_path_buf(), cases)
}

/// Runs the oracle over the set; returns the report table and whether all held.
fn run_oracle(fast_only: bool) -> (String, bool) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases_dir = tmp.path().join("cases");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&cases_dir).expect("dir");
    std::fs::create_dir_all(&work).expect("dir");
    let (dir, cases) = load(fast_only, &cases_dir);
    assert!(!cases.is_empty(), "no cases");
    let batch = check_batch(&dir, &cases, &work);
    let mut table = String::from("case\tleak\twhere\n");
    let (mut leaked, mut changed, mut unseen, mut refused) = (0, 0, 0, 0);
    for (c, b) in cases.iter().zip(batch) {
        let mut o = check(c, &work);
        o.leaks.extend(b);
        let mut wheres: Vec<String> = o
            .leaks
            .iter()
            .map(|l| format!("{} [{}]", l.output, l.encoding))
            .collect();
        if !o.story.is_empty() {
            changed += 1;
            wheres.push(format!("story changed: {}", o.story.join(", ")));
        }
        if o.unseen {
            unseen += 1;
            wheres.push("ORACLE: secret not found in the original".into());
        }
        if let Some(code) = o.redact_failed {
            refused += 1;
            wheres.push(format!("redact refused (exit {code:?})"));
        }
        if !o.leaks.is_empty() {
            leaked += 1;
        }
        let status = if !o.leaks.is_empty() {
            "LEAK"
        } else if wheres.is_empty() {
            "ok"
        } else {
            "FAIL"
        };
        table.push_str(&format!("{}\t{status}\t{}\n", c.id, wheres.join("; ")));
    }
    table.push_str(&format!(
        "# {} cases: {leaked} leaked, {changed} changed story, {refused} not redacted, {unseen} not seen in the original\n",
        cases.len()
    ));
    if let Some(p) = std::env::var_os("ADV_REPORT") {
        let _ = std::fs::write(p, &table);
    }
    (table, leaked + changed + unseen + refused == 0)
}

/// The fast slice, in `cargo test`.
#[test]
fn adversarial_fast() {
    let (table, ok) = run_oracle(true);
    assert!(ok, "adversarial fast slice:\n{table}");
}

/// Every case (scripts/adversarial.sh runs it on the release binary).
#[test]
#[ignore = "the whole adversarial set: scripts/adversarial.sh"]
fn adversarial_full() {
    let (table, ok) = run_oracle(false);
    println!("{table}");
    assert!(ok, "adversarial set:\n{table}");
}

/// The oracle sees the secret of every case of the fast slice in the original (in its
/// layers), and finds nothing of it in a file that does not hold it: a clean result means
/// something. (`adversarial_full` checks every case so, as "not seen in the original".)
#[test]
fn the_oracle_sees_every_planted_secret() {
    let cases: Vec<_> = samplegen::adversarial::cases()
        .into_iter()
        .filter(|c| c.fast)
        .collect();
    let mut unseen = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let layers = layers(&c.bytes);
        let seen = |secret: &str| {
            let forms = named_forms(secret);
            layers
                .iter()
                .any(|l| find(&l.bytes, secret, &forms).is_some())
        };
        if !seen(&c.secret) {
            unseen.push(c.id.clone());
        }
        let other = &cases[(i + 1) % cases.len()];
        assert!(
            !seen(&other.secret),
            "{}'s secret is found in {}",
            other.id,
            c.id
        );
    }
    assert!(
        unseen.is_empty(),
        "secrets the oracle cannot see: {unseen:?}"
    );
}

/// The `redact_planted` fuzz target on every place and encoding, both formats (the seeds
/// scripts/fuzz_seeds.py gives it): which survive redaction, by name.
#[test]
fn redact_planted_every_place() {
    let mut failed = Vec::new();
    for fmt in 0u8..2 {
        for place in 0u8..8 {
            for enc in 0u8..3 {
                let mut data = vec![fmt, 1 + place, place, enc];
                data.extend_from_slice(format!("seed-{fmt}{place}{enc}").as_bytes());
                let r = std::panic::catch_unwind(|| {
                    crate::fuzz_regressions::targets::redact_planted(&data)
                });
                if let Err(e) = r {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failed.push(msg);
                }
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

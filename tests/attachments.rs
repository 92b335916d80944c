//! What tickets attach (issue 21): a zip holding captures. `analyze` prints one report per
//! capture inside, named `zip!/entry`, each exactly the report of that capture as a file;
//! `batch` descends into such zips; `sessions` and `redact` refuse them, saying what is
//! inside. Hostile zips: nested, encrypted, traversal names, bombs. A zip holding no
//! capture and no session is never "OK" (it was, read as a SAZ of 0 sessions).

use std::io::{Cursor, Write};
use std::path::Path;

use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

use crate::common::{run, run_env, sample};

const ZIP: &str = "samples/ticket-attachments.zip";
const SAZ_ENTRY: &str = "case-20261120-0042/outlook-prompt.saz";
const HAR_ENTRY: &str = "case-20261120-0042/browser-export.har";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The JSON reports printed: one (indented) or one per line.
fn json_lines(out: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(out)
        .into_iter::<Value>()
        .map(|v| v.expect("JSON reports"))
        .collect()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn analyze_reports_each_capture_inside_as_its_file() {
    let zip = crate::common::root().join(ZIP);
    let out = run(&["analyze", "--format", "json", s(&zip)]);
    // The worst of the two: adal-500011-json is an error (1), aadsts-53003-ca one too.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 2);
    for (report, (entry, file)) in reports.iter().zip([
        (SAZ_ENTRY, "adal-500011-json.saz"),
        (HAR_ENTRY, "aadsts-53003-ca.har"),
    ]) {
        let name = format!("{}!/{entry}", zip.display());
        assert_eq!(report["capture"]["path"], name.as_str());
        // Exactly the report of the same capture as a file, but for its name.
        let alone = run(&["analyze", "--format", "json", s(&sample(file))]);
        let mut want: Value = serde_json::from_slice(&alone.stdout).unwrap();
        let text = serde_json::to_string(&want)
            .unwrap()
            .replace(s(&sample(file)), &name);
        want = serde_json::from_str(&text).unwrap();
        assert_eq!(report, &want, "{entry}");
    }
    let ids: Vec<Vec<&str>> = reports
        .iter()
        .map(|r| {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(ids[0], ["spn-missing"]);
    assert_eq!(ids[1], ["aadsts-conditional-access"]);

    let table = run(&["analyze", ZIP]);
    let text = String::from_utf8_lossy(&table.stdout);
    let heads: Vec<&str> = text.lines().filter(|l| l.contains("sessions)")).collect();
    assert_eq!(
        heads,
        [
            format!("{ZIP}!/{SAZ_ENTRY} (SAZ, 35 sessions)"),
            format!("{ZIP}!/{HAR_ENTRY} (HAR, 11 sessions)"),
        ]
    );
}

#[test]
fn sessions_and_redact_refuse_a_zip_of_captures_saying_what_is_inside() {
    let out = run(&["sessions", ZIP]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "traceadal: {ZIP}: a zip of 2 capture(s) ({SAZ_ENTRY}, {HAR_ENTRY}), not a capture itself: \
             `traceadal analyze` reads each (named {ZIP}!/{SAZ_ENTRY}), `traceadal batch` a folder of \
             such zips; or extract one\n"
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.saz");
    let out = run(&["redact", ZIP, s(&copy)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "traceadal: {ZIP}: a zip of 2 capture(s) ({SAZ_ENTRY}, {HAR_ENTRY}), not a capture itself: \
             extract each and redact it\n"
        )
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn batch_descends_into_a_zip_and_names_the_inner_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(ZIP, dir.path().join("tickets.zip")).unwrap();
    std::fs::copy(
        sample("healthy-token-issued.har"),
        dir.path().join("ok.har"),
    )
    .unwrap();
    let out = run(&["batch", "--format", "ndjson", "-j", "1", s(dir.path())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: Vec<(String, u64)> = json_lines(&out.stdout)
        .iter()
        .map(|r| {
            (
                r["capture"]["path"].as_str().unwrap().to_string(),
                r["verdict"]["exit_code"].as_u64().unwrap(),
            )
        })
        .collect();
    // Relative to the folder walked, as the table and the CSV name them.
    assert_eq!(
        rows,
        [
            ("ok.har".to_string(), 0),
            (format!("tickets.zip!/{HAR_ENTRY}"), 1),
            (format!("tickets.zip!/{SAZ_ENTRY}"), 1),
        ]
    );
    let csv = run(&["batch", "--format", "csv", s(dir.path())]);
    let paths: Vec<String> = String::from_utf8_lossy(&csv.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "ok.har".to_string(),
            format!("tickets.zip!/{HAR_ENTRY}"),
            format!("tickets.zip!/{SAZ_ENTRY}"),
        ]
    );
}

/// `batch --glob` applies to a capture's own name, inside a zip of captures too: `*.saz`
/// takes the SAZ a ticket's zip holds (it skipped the zip, whose name is not `*.saz`) and
/// not the HAR beside it; a glob the zip's own name matches takes every capture inside.
#[test]
fn batch_glob_applies_to_the_captures_inside_a_zip() {
    let paths = |glob: &[&str]| -> Vec<String> {
        let mut args = vec!["batch", "samples", "--format", "csv"];
        args.extend_from_slice(glob);
        let out = run(&args);
        assert!(matches!(out.status.code(), Some(1 | 2)), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    // What the whole folder lists whose capture name (inside a zip too) ends so.
    let all = paths(&[]);
    let ending =
        |ext: &str| -> Vec<String> { all.iter().filter(|p| p.ends_with(ext)).cloned().collect() };
    let saz = ending(".saz");
    assert!(saz.len() > 40);
    assert!(saz.contains(&format!("ticket-attachments.zip!/{SAZ_ENTRY}")));
    assert_eq!(paths(&["--glob", "*.saz"]), saz);
    let har = ending(".har");
    assert!(har.contains(&format!("ticket-attachments.zip!/{HAR_ENTRY}")));
    assert_eq!(paths(&["--glob", "*.har"]), har);
    // The zip's own name: all of it.
    assert_eq!(
        paths(&["--glob", "ticket-*.zip"]),
        [
            format!("ticket-attachments.zip!/{HAR_ENTRY}"),
            format!("ticket-attachments.zip!/{SAZ_ENTRY}"),
        ]
    );
    // A folder inside the zip, and the name as reports print it.
    assert_eq!(
        paths(&["--glob", "case-20261120-0042/*.har"]),
        [format!("ticket-attachments.zip!/{HAR_ENTRY}")]
    );
    assert_eq!(
        paths(&["--glob", "ticket-attachments.zip!/*/outlook-*"]),
        [format!("ticket-attachments.zip!/{SAZ_ENTRY}")]
    );
    // Exactly, with the samples that match beside it; the note in the zip is not counted
    // as skipped (the glob did not take it).
    let out = run(&["batch", "samples", "--format", "csv", "--glob", "*prompt*"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "path,format,sessions,status,aadsts,missing_spns,tenants,findings,error,error_findings,warning_findings\r\n\
         ntlm-prompt-loop.har,har,18,error,,,,2,,ntlm-loop,hma-not-advertised\r\n\
         ntlm-prompt-loop.saz,saz,18,error,,,,2,,ntlm-loop,hma-not-advertised\r\n\
         ticket-attachments.zip!/case-20261120-0042/outlook-prompt.saz,saz,35,error,500011,https://autodiscover.contoso.com/,72f988bf-0000-4000-8000-0123456789ab,1,,spn-missing,\r\n"
    );
    assert_eq!(
        stderr(&out),
        "traceadal: 3 capture(s): 0 without errors (0 with warnings), 3 with error findings, 0 inconclusive, 0 unreadable; 0 other file(s) skipped\n"
    );
    // A glob nothing matches, inside or out: no capture.
    let out = run(&["batch", "samples", "--glob", "nothing-*"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No SAZ or HAR capture found."));
}

fn zip_of(entries: &[(&str, &[u8])], password: Option<&str>) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let mut opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        if let Some(pw) = password {
            opts = opts.with_aes_encryption(AesMode::Aes256, pw);
        }
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn hostile_zips_of_captures() {
    let dir = tempfile::tempdir().unwrap();
    let har = std::fs::read(sample("healthy-token-issued.har")).unwrap();
    let write = |name: &str, bytes: Vec<u8>| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };

    // Nested: one level only.
    let inner = zip_of(&[("a.har", &har)], None);
    let nested = write("nested.zip", zip_of(&[("inner.zip", &inner)], None));
    let out = run(&["analyze", s(&nested)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "traceadal: {}!/inner.zip: a zip of captures inside a zip (a.har): only one level is \
             opened; extract it and analyse it\n",
            nested.display()
        )
    );

    // Traversal names are names: printed, never used as paths.
    let sneaky = write("sneaky.zip", zip_of(&[("../../evil.har", &har)], None));
    let out = run(&["analyze", "--format", "json", s(&sneaky)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = &json_lines(&out.stdout)[0];
    assert_eq!(
        r["capture"]["path"],
        format!("{}!/../../evil.har", sneaky.display()).as_str()
    );
    assert!(!dir.path().join("../evil.har").exists());

    // Encrypted: the archive's password opens the captures inside.
    let locked = write("locked.zip", zip_of(&[("a.har", &har)], Some("infected")));
    let out = run(&["analyze", s(&locked)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "traceadal: {}: is encrypted: give the password with --password-env VAR or \
             --password-file FILE\n",
            locked.display()
        )
    );
    let out = run_env(
        &[
            "analyze",
            "--password-env",
            "PW",
            "--format",
            "json",
            s(&locked),
        ],
        &[("PW", "infected")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out.stdout)[0]["capture"]["sessions"], 16);

    // A bomb: past --max-inflated-mib, refused.
    let mut big = har.clone();
    big.extend(vec![b' '; 3 * 1024 * 1024]);
    let bomb = write("bomb.zip", zip_of(&[("big.har", &big)], None));
    let out = run(&["analyze", "--max-inflated-mib", "1", s(&bomb)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "traceadal: {}!/big.har: inflates past 1 MiB (--max-inflated-mib): refused as a \
             compression bomb\n",
            bomb.display()
        )
    );

    // No session and no capture inside: never "OK".
    let notes = write("notes.zip", zip_of(&[("notes.txt", b"hello")], None));
    let out = run(&["analyze", "--format", "json", s(&notes)]);
    assert_eq!(out.status.code(), Some(3));
    let r = &json_lines(&out.stdout)[0];
    assert_eq!(r["verdict"]["status"], "inconclusive");
}

//! `traceadal batch` on the command line: what holds whatever the readers do (usage errors,
//! unreadable files, output formats, no progress bar in a pipe). Tests that need the capture
//! readers are in `tests/batch.rs`.

use std::path::Path;
use std::process::{Command, Output};

fn traceadal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(args)
        .env_remove("TRACEADAL_TEST_PW")
        .output()
        .expect("run traceadal")
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Files that are captures by content but that no reader can read, and files to skip.
fn broken_queue() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "t1/outlook.saz",
        b"PK\x03\x04 truncated before the first entry",
    );
    write(
        dir.path(),
        "t2/browser.har",
        b"{\"log\": {\"entries\": [ {\"oops\"",
    );
    write(dir.path(), "t2/notes.txt", b"ticket notes");
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn unreadable_captures_exit_2_each_reported_against_its_path_and_the_summary_prints() {
    let q = broken_queue();
    let dir = q.path().to_str().unwrap();
    let o = traceadal(&["batch", dir]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("t1/outlook.saz") && out.contains("t2/browser.har"),
        "{out}"
    );
    // Not a row: named in the summary only.
    assert!(!out
        .lines()
        .any(|l| l.starts_with('│') && l.contains("notes.txt")));
    assert!(
        out.contains(
            "2 capture(s): 0 without errors (0 with warnings), 0 with error findings, 0 inconclusive, 2 unreadable; 1 other file(s) skipped (neither SAZ nor HAR): t2/notes.txt"
        ),
        "{out}"
    );
    let err = stderr(&o);
    assert!(
        err.contains("outlook.saz:") && err.contains("browser.har:"),
        "{err}"
    );
    // No progress bar drawn into a pipe.
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn ndjson_has_one_error_object_per_unreadable_file() {
    let q = broken_queue();
    let o = traceadal(&[
        "batch",
        q.path().to_str().unwrap(),
        "--format",
        "ndjson",
        "-j",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, name) in lines.iter().zip(["outlook.saz", "browser.har"]) {
        assert_eq!(line["schema"], "traceadal.report/1");
        assert!(line["capture"]["path"].as_str().unwrap().ends_with(name));
        assert!(!line["error"].as_str().unwrap().is_empty());
    }
    // Sorted by path: t1/ before t2/.
    assert!(lines[0]["capture"]["path"].as_str().unwrap().contains("t1"));
    // The summary goes to stderr, keeping stdout machine-readable.
    assert!(stderr(&o).contains("2 unreadable"));
}

#[test]
fn csv_to_a_file_with_glob_and_a_fix_script_that_says_nothing_to_fix() {
    let q = broken_queue();
    let out = q.path().join("out.csv");
    let fix = q.path().join("fix.ps1");
    let o = traceadal(&[
        "batch",
        q.path().to_str().unwrap(),
        "--format",
        "csv",
        "--glob",
        "*.saz",
        "-o",
        out.to_str().unwrap(),
        "--fix-script",
        fix.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("path,format,sessions,status,aadsts,missing_spns,tenants,findings,error,error_findings,warning_findings")
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("t1/outlook.saz,,,unreadable,"), "{row}");
    assert_eq!(lines.next(), Some(""));
    let script = std::fs::read_to_string(&fix).unwrap();
    assert!(
        script.starts_with("# traceadal: nothing to fix"),
        "{script}"
    );
}

#[test]
fn an_empty_folder_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "readme.md", b"# nothing here");
    let o = traceadal(&["batch", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("No SAZ or HAR capture found."));
    assert!(stdout(&o).contains("1 other file(s) skipped"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // Not a folder.
    let file = dir.path().join("x.saz");
    std::fs::write(&file, b"PK\x03\x04").unwrap();
    let o = traceadal(&["batch", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a folder"), "{}", stderr(&o));
    // Zero jobs, a bad glob, an unset password variable.
    assert_eq!(
        traceadal(&["batch", d, "--jobs", "0"]).status.code(),
        Some(2)
    );
    let o = traceadal(&["batch", d, "--glob", "a["]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--glob"));
    let o = traceadal(&["batch", d, "--password-env", "TRACEADAL_TEST_PW"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("TRACEADAL_TEST_PW"));
}

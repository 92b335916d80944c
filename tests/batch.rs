//! `traceadal batch` over real captures: generated queues (`samplegen::bulk`), the
//! project's samples (`samples/`) and the public corpus (`../shared/captures/`).
//!
//! These tests need the SAZ and HAR readers. The two on the public corpus are `#[ignore]`d
//! (`cargo test -- --ignored` runs them, as CI does) and fail when the corpus is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use samplegen::bulk;

fn traceadal(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_traceadal"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run traceadal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The public corpus (`$TRACEADAL_CORPUS` or `../shared/captures`): see `common::corpus`.
fn corpus() -> PathBuf {
    crate::common::corpus()
}

/// Six generated captures in three tickets: contoso (SAZ, HAR), fabrikam (SAZ, HAR), and a
/// clean contoso pair; plus a file that is not a capture.
fn queue() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let plan: [(&str, bulk::Scenario, bool); 6] = [
        (
            "t1/outlook.saz",
            bulk::Scenario::broken("contoso.com"),
            true,
        ),
        (
            "t1/browser.txt",
            bulk::Scenario::broken("contoso.com"),
            false,
        ),
        (
            "t2/outlook.zip",
            bulk::Scenario::broken("fabrikam.com"),
            true,
        ),
        (
            "t2/browser.har",
            bulk::Scenario::broken("fabrikam.com"),
            false,
        ),
        ("t3/ok.saz", bulk::Scenario::clean("contoso.com"), true),
        ("t3/ok.har", bulk::Scenario::clean("contoso.com"), false),
    ];
    for (rel, mut scenario, saz) in plan {
        scenario.large_body = false;
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if saz {
            bulk::write_saz(&path, 120, &scenario).unwrap();
        } else {
            bulk::write_har(&path, 120, &scenario).unwrap();
        }
    }
    std::fs::write(root.join("t1/notes.txt"), "Outlook keeps prompting").unwrap();
    dir
}

/// `batch DIR --format csv --fix-script TARGET EXTRA...`, its exit code (1) checked.
fn with_fix_script(dir: &str, target: &str, extra: &[&str]) -> Output {
    let mut args = vec!["batch", dir, "--format", "csv", "--fix-script", target];
    args.extend_from_slice(extra);
    let o = traceadal(&args, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    o
}

/// [`with_fix_script`] into FOLDER: the run and the names of the scripts written, sorted.
fn fix_scripts(dir: &str, folder: &str) -> (Output, Vec<String>) {
    let o = with_fix_script(dir, folder, &[]);
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (o, names)
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn a_generated_queue_is_diagnosed_per_capture_with_one_fix_script_per_tenant() {
    let q = queue();
    let fix = q.path().join("fix.ps1");
    let o = traceadal(
        &[
            "batch",
            q.path().to_str().unwrap(),
            "--format",
            "ndjson",
            "--jobs",
            "2",
            "--fix-script",
            fix.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let reports = lines(&o);
    assert_eq!(reports.len(), 6);
    let paths: Vec<String> = reports
        .iter()
        .map(|r| r["capture"]["path"].as_str().unwrap().to_string())
        .collect();
    // Relative to the folder given, as in the table and the CSV; sorted.
    assert_eq!(
        paths,
        [
            "t1/browser.txt",
            "t1/outlook.saz",
            "t2/browser.har",
            "t2/outlook.zip",
            "t3/ok.har",
            "t3/ok.saz"
        ]
    );
    for r in &reports {
        assert_eq!(r["schema"], "traceadal.report/1");
        assert_eq!(r["capture"]["sessions"], 120, "{}", r["capture"]["path"]);
        let path = r["capture"]["path"].as_str().unwrap();
        let missing: Vec<&str> = r["missing_spns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if path.starts_with("t3/") {
            assert!(missing.is_empty(), "{path}: {missing:?}");
            assert_eq!(r["verdict"]["exit_code"], 0, "{path}");
        } else if path.starts_with("t1/") {
            assert_eq!(missing, vec!["https://autodiscover.contoso.com/"], "{path}");
        } else {
            assert_eq!(
                missing,
                vec!["https://autodiscover.fabrikam.com/"],
                "{path}"
            );
        }
    }
    // Redaction: the fake tokens' signatures and refresh tokens never reach the output.
    let out = stdout(&o);
    assert!(!out.contains("0.AXoA"), "a refresh token leaked");
    let script = std::fs::read_to_string(&fix).unwrap();
    // One tenant block each (the healthy captures' predicted SPNs, issue 19, add a commented
    // block whose `# Connect-MgGraph` line is no tenant block).
    assert_eq!(
        script
            .lines()
            .filter(|l| l.starts_with("Connect-MgGraph -TenantId"))
            .count(),
        2,
        "{script}"
    );
    // By the GUIDs the challenges named, the domains asked as labels.
    assert!(
        script.contains("\nConnect-MgGraph -TenantId '72f988bf-0000-4000-8000-0123456789ab' "),
        "{script}"
    );
    assert!(
        script.contains("\n# ==== Tenant 2 of 2: Fabrikam Ltd, fabrikam.com ("),
        "{script}"
    );
    assert_eq!(
        script
            .matches("    'https://autodiscover.contoso.com/'\n")
            .count(),
        1
    );
    assert!(script.contains("Update-MgServicePrincipal"));
    // Tenants strictly separated: each section signs in to its own tenant and names only
    // its own SPNs, in the MSOnline legacy lines too.
    let sections: Vec<&str> = script.split("\n# ==== Tenant ").skip(1).collect();
    assert_eq!(sections.len(), 2, "{script}");
    assert!(
        sections[0].starts_with(
            "1 of 2: Contoso Ltd, contoso.com (72f988bf-0000-4000-8000-0123456789ab) ===="
        ),
        "{script}"
    );
    assert!(!sections[0].contains("fabrikam"), "{}", sections[0]);
    assert!(!sections[1].contains("contoso"), "{}", sections[1]);
    for section in &sections {
        assert_eq!(section.matches("\nConnect-MgGraph -TenantId").count(), 1);
        assert_eq!(section.matches("# Connect-MsolService").count(), 1);
        assert_eq!(section.matches("\nDisconnect-MgGraph").count(), 1);
    }

    // To a folder: one script per tenant, named for it, each the plan of its tenant alone.
    let out = tempfile::tempdir().unwrap();
    let dir = format!("{}/scripts/", out.path().display());
    let (o, names) = fix_scripts(q.path().to_str().unwrap(), &dir);
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[0], "contoso.com-72f988bf.ps1");
    assert!(
        names[1].starts_with("fabrikam.com-")
            && names[1].len() == "fabrikam.com-12345678.ps1".len(),
        "{names:?}"
    );
    assert!(
        stderr(&o).contains("2 fix script(s), one per tenant, in "),
        "{}",
        stderr(&o)
    );
    let contoso = std::fs::read_to_string(format!("{dir}contoso.com-72f988bf.ps1")).unwrap();
    assert!(contoso.contains("\nConnect-MgGraph -TenantId '72f988bf-0000-4000-8000-0123456789ab' "));
    assert!(!contoso.contains("fabrikam") && !contoso.contains("Disconnect-MgGraph"));
    assert!(contoso.contains("# Capture: t1/outlook.saz\n"), "{contoso}");
}

#[test]
fn table_and_csv_of_the_same_queue_agree_and_one_bad_file_makes_it_exit_2() {
    let q = queue();
    std::fs::write(q.path().join("t2/damaged.saz"), b"PK\x03\x04 cut short").unwrap();
    let dir = q.path().to_str().unwrap();
    let table = traceadal(&["batch", dir], &[]);
    assert_eq!(table.status.code(), Some(2), "{}", stderr(&table));
    let t = stdout(&table);
    assert!(t.contains("t2/damaged.saz"));
    assert!(t.contains("500011"));
    assert!(t.contains("Missing SPNs per tenant"));
    // Each row names the findings behind its verdict, which is under the capture's name.
    let lines: Vec<&str> = t.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("t1/outlook.saz"))
        .expect("the row");
    assert!(lines[at].contains("spn-missing"), "{t}");
    assert!(lines[at + 1].starts_with("│ error, "), "{t}");
    assert!(
        t.contains(
            "7 capture(s): 2 without errors (2 with warnings), 4 with error findings, 0 inconclusive, 1 unreadable; 1 other file(s) skipped (neither SAZ nor HAR): t1/notes.txt"
        ),
        "{t}"
    );
    let csv = traceadal(&["batch", dir, "--format", "csv", "-j", "1"], &[]);
    assert_eq!(csv.status.code(), Some(2));
    let c = stdout(&csv);
    let rows: Vec<&str> = c.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().any(|r| r.starts_with(
        "t1/outlook.saz,saz,120,error,500011,https://autodiscover.contoso.com/,contoso.com,"
    )));
}

#[test]
fn jobs_do_not_change_the_answer() {
    let q = queue();
    let dir = q.path().to_str().unwrap();
    let one = traceadal(&["batch", dir, "--format", "csv", "--jobs", "1"], &[]);
    let two = traceadal(&["batch", dir, "--format", "csv", "--jobs", "2"], &[]);
    assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.status.code(), two.status.code());
}

#[test]
fn the_samples_folder_finds_the_500011_loop() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    assert!(
        samples.join("adal-500011-json.saz").is_file(),
        "samples/ is written by samplegen; not in this branch yet"
    );
    let o = traceadal(
        &[
            "batch",
            samples.to_str().unwrap(),
            "--format",
            "ndjson",
            "--glob",
            "adal-500011-json.saz",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let reports = lines(&o);
    // The glob applies to a capture's own name, inside a zip too: the same capture zipped
    // (`variants/zipped-saz.saz`) is taken as well.
    let paths: Vec<&str> = reports
        .iter()
        .map(|r| r["capture"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "adal-500011-json.saz",
            "variants/zipped-saz.saz!/adal-500011-json.saz"
        ]
    );
    let codes: Vec<u64> = reports[0]["aadsts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_u64().unwrap())
        .collect();
    assert!(codes.contains(&500011), "{codes:?}");
    assert!(!reports[0]["missing_spns"].as_array().unwrap().is_empty());
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn the_public_saz_corpus_reads_with_the_password_for_the_encrypted_ones() {
    let saz = corpus().join("saz");
    assert!(saz.is_dir(), "{} missing", saz.display());
    let dir = saz.to_str().unwrap();
    // Without a password the three encrypted copies cannot be read: exit 2, the rest reported.
    let o = traceadal(&["batch", dir, "--format", "ndjson"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let all = lines(&o);
    let failed: Vec<&str> = all
        .iter()
        .filter(|l| l.get("error").is_some())
        .map(|l| l["capture"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed
        .iter()
        .all(|p| p.contains("synthetic__nekoxy2__websocket_")));
    // The plain-text file under invalid/ is skipped, not a capture.
    assert!(
        stderr(&o).contains("1 other file(s) skipped"),
        "{}",
        stderr(&o)
    );
    // With --password-env every SAZ is read.
    let o = traceadal(
        &[
            "batch",
            dir,
            "--format",
            "ndjson",
            "--password-env",
            "TRACEADAL_CORPUS_PW",
        ],
        &[("TRACEADAL_CORPUS_PW", "fiddler")],
    );
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    let all = lines(&o);
    assert!(all.len() >= 17, "{}", all.len());
    for r in &all {
        assert!(r.get("error").is_none(), "{r}");
        assert!(
            r["capture"]["sessions"].as_u64().unwrap() > 0,
            "{}",
            r["capture"]["path"]
        );
    }
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn the_public_har_corpus_skips_json_that_is_not_a_har() {
    let har = corpus().join("har");
    assert!(har.is_dir(), "{} missing", har.display());
    let o = traceadal(
        &[
            "batch",
            har.to_str().unwrap(),
            "--format",
            "csv",
            "--glob",
            "*.har",
        ],
        &[],
    );
    let c = stdout(&o);
    let rows: Vec<&str> = c.split("\r\n").skip(1).filter(|l| !l.is_empty()).collect();
    // Every .har is taken by content (whether each reads is the reader's call)...
    assert_eq!(rows.len(), 19, "{c}");
    // ...and the browser and proxy exports all read, with sessions.
    for name in [
        "real-saz2har__demo.har",
        "mitmproxy/mitmproxy__chrome.har",
        "mitmproxy/mitmproxy__firefox.har",
        "mitmproxy/mitmproxy__safari.har",
        "mitmproxy/mitmproxy__charles.har",
        "mitmproxy/mitmproxy__insomnia.har",
        "mitmproxy/mitmproxy__with-bom.har",
    ] {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("{name},")))
            .unwrap_or_else(|| panic!("{name} not in {c}"));
        assert!(row.starts_with(&format!("{name},har,")), "{row}");
        assert!(
            !row.contains(",unreadable,") && !row.contains(&format!("{name},har,0,")),
            "{row}"
        );
    }
    // The companion .json files are flow lists, not HARs: skipped, not unreadable.
    let o = traceadal(&["batch", har.to_str().unwrap(), "--glob", "*.json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("No SAZ or HAR capture found."));
}

/// `batch samples/` as an analyst runs it, exactly: the table, the CSV, NDJSON's paths, the
/// summary on stderr, the fix scripts per tenant (a folder) and in one file. Fixtures in
/// `tests/expected/batch/` (`TRACEADAL_BLESS=1` rewrites them; read the diff).
#[test]
fn the_samples_folder_table_csv_and_fix_scripts_are_exact() {
    let golden = |file: &str, actual: &str| {
        crate::common::golden(file, actual, "cargo test --test integration batch::")
    };
    use crate::powershell_syntax::{assert_known_cmdlets, assert_valid_powershell};

    let samples = crate::common::root().join("samples");
    let dir = samples.to_str().unwrap();

    let table = traceadal(&["batch", dir], &[]);
    assert_eq!(table.status.code(), Some(1), "{}", stderr(&table));
    assert_eq!(stderr(&table), "");
    let t = stdout(&table);
    golden("batch/samples.table.txt", &t);
    let summary = t.lines().last().unwrap();
    // One tenant for Contoso: the GUID, its domain and its name (issue 20: it was two).
    assert!(
        t.contains(
            "│ Contoso Ltd, contoso.onmicrosoft.com (72f988bf-0000-4000-8000-0123456789ab) ┆"
        ),
        "{t}"
    );

    let csv = traceadal(&["batch", dir, "--format", "csv"], &[]);
    assert_eq!(csv.status.code(), Some(1));
    let c = stdout(&csv);
    golden("batch/samples.csv", &c);
    // The machine formats keep the summary on stderr, the same line as the table's.
    assert_eq!(stderr(&csv), format!("traceadal: {summary}\n"));

    // NDJSON names each capture as the CSV does: relative to the folder given.
    let nd = traceadal(&["batch", dir, "--format", "ndjson"], &[]);
    let nd_paths: Vec<String> = lines(&nd)
        .iter()
        .map(|r| r["capture"]["path"].as_str().unwrap().to_string())
        .collect();
    let csv_paths: Vec<String> = c
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(nd_paths, csv_paths);
    assert!(nd_paths.contains(&"variants/har-gz.har.gz".to_string()));

    // One script per tenant into a folder.
    let out = tempfile::tempdir().unwrap();
    let folder = format!("{}/fix/", out.path().display());
    let (_, names) = fix_scripts(dir, &folder);
    assert_eq!(
        names,
        [
            "contoso-ltd-tenant-id-unknown.ps1",
            "contoso.onmicrosoft.com-72f988bf.ps1",
            "tenant-not-named.ps1"
        ]
    );
    for name in &names {
        let script = std::fs::read_to_string(format!("{folder}{name}")).unwrap();
        golden(&format!("batch/fix/{name}"), &script);
        assert_valid_powershell(&script);
        assert_known_cmdlets(&script);
        // Its own tenant only: one sign-in, one legacy block, never a sign-out.
        assert!(script.matches("\nConnect-MgGraph").count() <= 1, "{name}");
        assert!(
            script.matches("# Connect-MsolService").count() <= 1,
            "{name}"
        );
        assert!(!script.contains("Disconnect-MgGraph"), "{name}");
    }
    let contoso =
        std::fs::read_to_string(format!("{folder}contoso.onmicrosoft.com-72f988bf.ps1")).unwrap();
    assert_eq!(
        contoso
            .matches("\nConnect-MgGraph -TenantId '72f988bf-0000-4000-8000-0123456789ab' ")
            .count(),
        1
    );
    assert_eq!(
        contoso
            .matches("# $x.ServicePrincipalNames.Add('https://autodiscover.contoso.com/')")
            .count(),
        1
    );

    // A --redact-term hides the domain in the file names too.
    let hidden = format!("{}/hidden/", out.path().display());
    with_fix_script(dir, &hidden, &["--redact-term", "contoso"]);
    for entry in std::fs::read_dir(&hidden).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains("contoso"), "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
            "{name}"
        );
    }

    // One file: the same tenants, strictly separated.
    let file = out.path().join("all.ps1");
    with_fix_script(dir, file.to_str().unwrap(), &[]);
    let all = std::fs::read_to_string(&file).unwrap();
    golden("batch/samples.fix.ps1", &all);
    assert_valid_powershell(&all);
    assert_known_cmdlets(&all);
    assert_eq!(all.matches("\n# ==== Tenant ").count(), 3);
    assert_eq!(all.matches("# Connect-MsolService").count(), 2);
    assert_eq!(all.matches("\nexit 1").count(), 0);
    assert_eq!(all.matches("    exit 1\n").count(), 1);
}

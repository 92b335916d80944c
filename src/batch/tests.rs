use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use super::render::{csv, csv_field, spns_per_tenant, CSV_HEADER};
use super::*;
use crate::analysis::{Collector, Verdict};
use crate::capture::DecodeLimits;
use crate::report::json::error_line;
use crate::rules::{Finding, MissingSpn, Remedy, Severity};

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// A folder with captures by content under misleading names, and files to skip.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "ticket-2/outlook.saz", b"PK\x03\x04 not really a zip");
    write(root, "ticket-1/renamed.zip", b"PK\x03\x04 not really a zip");
    write(root, "ticket-1/browser.txt", b"\xef\xbb\xbf {\"log\": ");
    write(root, "ticket-1/mail-gateway.har.gz", &[0x1f, 0x8b, 8, 0, 0]);
    write(
        root,
        "ticket-1/notes.txt",
        b"user says Outlook keeps prompting",
    );
    write(root, "ticket-3/empty.har", b"");
    write(root, "ticket-3/screenshot.png", b"\x89PNG\r\n\x1a\n");
    write(root, "top.har", b"{\"log\":{\"entries\":[]}}");
    write(
        root,
        "ticket-3/mitmproxy-flows.json",
        b"[{\"id\": \"x\", \"type\": \"http\"}]",
    );
    write(
        root,
        "ticket-3/settings.json",
        b"{\"headers\": [], \"note\": \"no log here\"}",
    );
    dir
}

#[test]
fn walk_takes_captures_by_content_sorted_and_counts_the_rest() {
    let dir = folder();
    let w = walk(dir.path(), &Filter::new(&[]).unwrap()).unwrap();
    let rels: Vec<&str> = w.captures.iter().map(|c| c.rel.as_str()).collect();
    assert_eq!(
        rels,
        vec![
            "ticket-1/browser.txt",
            "ticket-1/mail-gateway.har.gz",
            "ticket-1/renamed.zip",
            "ticket-2/outlook.saz",
            "top.har",
        ]
    );
    let formats: Vec<Format> = w.captures.iter().map(|c| c.format).collect();
    assert_eq!(
        formats,
        vec![
            Format::Har,
            Format::Har,
            Format::Saz,
            Format::Saz,
            Format::Har
        ]
    );
    // notes.txt, empty.har, screenshot.png, two JSON files that are not HARs
    let mut skipped = w.skipped.clone();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "ticket-1/notes.txt",
            "ticket-3/empty.har",
            "ticket-3/mitmproxy-flows.json",
            "ticket-3/screenshot.png",
            "ticket-3/settings.json"
        ]
    );
    assert!(w.unreadable.is_empty());
    assert!(w.captures.iter().all(|c| c.path.starts_with(dir.path())));
}

#[test]
fn walk_refuses_a_file_or_a_missing_folder_naming_it() {
    let dir = folder();
    let file = dir.path().join("top.har");
    let e = walk(&file, &Filter::new(&[]).unwrap()).unwrap_err();
    assert!(e.contains("top.har") && e.contains("not a folder"), "{e}");
    let missing = dir.path().join("nope");
    let e = walk(&missing, &Filter::new(&[]).unwrap()).unwrap_err();
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn json_is_a_har_only_with_a_log_object() {
    assert!(looks_like_har_json(b"\xef\xbb\xbf\n  {\n  \"log\": {"));
    assert!(looks_like_har_json(b"{\"log\":{}}"));
    assert!(!looks_like_har_json(b"[{\"log\": 1}]"));
    assert!(!looks_like_har_json(b"{\"headers\": []}"));
}

#[test]
fn glob_matches_relative_path_or_file_name() {
    let f = Filter::new(&["*.saz".to_string()]).unwrap();
    assert!(f.matches("a.saz"));
    assert!(f.matches("deep/er/a.saz"));
    assert!(!f.matches("a.har"));
    let f = Filter::new(&["ticket-1/**".to_string(), "outlook*".to_string()]).unwrap();
    assert!(f.matches("ticket-1/x/y.har"));
    assert!(f.matches("ticket-9/outlook.saz"));
    assert!(!f.matches("ticket-2/browser.har"));
    assert!(Filter::new(&[]).unwrap().matches("anything"));
    let e = Filter::new(&["a[".to_string()]).unwrap_err();
    assert!(e.starts_with("--glob a["), "{e}");
}

#[test]
fn glob_narrows_the_walk_and_filtered_files_are_not_counted_as_skipped() {
    let dir = folder();
    let w = walk(
        dir.path(),
        &Filter::new(&["ticket-1/*".to_string()]).unwrap(),
    )
    .unwrap();
    let rels: Vec<&str> = w.captures.iter().map(|c| c.rel.as_str()).collect();
    assert_eq!(
        rels,
        vec![
            "ticket-1/browser.txt",
            "ticket-1/mail-gateway.har.gz",
            "ticket-1/renamed.zip"
        ]
    );
    assert_eq!(w.skipped, ["ticket-1/notes.txt"]);
}

/// A zip the globs did not take is looked into for captures they do take (its own name
/// aside); nothing else the globs left out is read further or counted.
#[test]
fn zips_the_globs_leave_out_are_kept_to_look_inside() {
    let dir = folder();
    let w = walk(dir.path(), &Filter::new(&["*.har".to_string()]).unwrap()).unwrap();
    let rels: Vec<&str> = w.captures.iter().map(|c| c.rel.as_str()).collect();
    assert_eq!(rels, ["top.har"]);
    assert!(w.captures.iter().all(|c| !c.inside_only));
    let zips: Vec<(&str, bool)> = w
        .zips
        .iter()
        .map(|c| (c.rel.as_str(), c.inside_only))
        .collect();
    assert_eq!(
        zips,
        [
            ("ticket-1/renamed.zip", true),
            ("ticket-2/outlook.saz", true)
        ]
    );
    assert_eq!(w.skipped, ["ticket-3/empty.har"]);
    // No glob: every file is taken as itself.
    let w = walk(dir.path(), &Filter::new(&[]).unwrap()).unwrap();
    assert!(w.zips.is_empty());
    // Not a zip of captures (not even a zip): nothing comes of it.
    let c = &walk(dir.path(), &Filter::new(&["*.har".to_string()]).unwrap())
        .unwrap()
        .zips[0];
    let filter = Filter::new(&["*.har".to_string()]).unwrap();
    assert!(analyse_file(c, &ReadOptions::default(), &filter).is_empty());
}

#[test]
fn a_glob_matches_a_capture_inside_a_zip_by_its_name_there() {
    let f = Filter::new(&["*.saz".to_string()]).unwrap();
    assert!(f.matches_inside("t.zip", "case-1/x.saz"));
    assert!(!f.matches_inside("t.zip", "case-1/x.har"));
    let f = Filter::new(&["case-1/*".to_string()]).unwrap();
    assert!(f.matches_inside("t.zip", "case-1/x.har"));
    assert!(!f.matches_inside("t.zip", "case-2/x.har"));
    // As reports name it.
    let f = Filter::new(&["tickets/t.zip!/case-2/*".to_string()]).unwrap();
    assert!(f.matches_inside("tickets/t.zip", "case-2/x.har"));
    assert!(!f.matches_inside("tickets/u.zip", "case-2/x.har"));
    assert!(Filter::new(&[]).unwrap().matches_inside("t.zip", "x"));
}

#[test]
fn exit_status_aggregates_with_unreadable_winning() {
    use Status::*;
    assert_eq!(aggregate([]), Clean);
    assert_eq!(aggregate([Clean, Clean]), Clean);
    assert_eq!(aggregate([Clean, Findings, Clean]), Findings);
    assert_eq!(aggregate([Findings, Unreadable, Clean]), Unreadable);
    assert_eq!(aggregate([Unreadable, Findings]), Unreadable);
    assert_eq!(Clean.code(), 0);
    assert_eq!(Findings.code(), 1);
    assert_eq!(Unreadable.code(), 2);
}

#[test]
fn csv_fields_follow_rfc_4180() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field(""), "");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_field("cr\rhere"), "\"cr\rhere\"");
    assert_eq!(csv_field(" padded"), "\" padded\"");
}

#[test]
fn guarded_turns_a_panic_into_that_items_error() {
    let r: Result<(), String> = guarded(|| panic!("boom in session 7"));
    let e = r.unwrap_err();
    assert!(
        e.contains("panicked") && e.contains("boom in session 7"),
        "{e}"
    );
    let r: Result<u8, String> = guarded(|| Err("plain".into()));
    assert_eq!(r, Err("plain".to_string()));
    let owned = format!("owned {}", 1);
    let r: Result<(), String> = guarded(move || std::panic::panic_any(owned));
    assert!(r.unwrap_err().ends_with("owned 1"));
}

fn candidates(n: usize) -> Vec<Candidate> {
    (0..n)
        .map(|i| Candidate {
            path: PathBuf::from(format!("/q/{i:03}.saz")),
            rel: format!("{i:03}.saz"),
            format: Format::Saz,
            size: 0,
            inside_only: false,
        })
        .collect()
}

#[test]
fn par_map_keeps_order_uses_its_own_pool_for_nested_work_and_reports_progress() {
    let done = AtomicUsize::new(0);
    let out = par_map(
        &candidates(40),
        2,
        |c| {
            // What `Capture::map_sessions` does inside: a nested parallel iterator.
            let nested: u64 = (0..1000u64).into_par_iter().sum();
            (c.rel.clone(), nested, rayon::current_num_threads())
        },
        &|| {
            done.fetch_add(1, Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(done.load(Ordering::Relaxed), 40);
    let rels: Vec<&str> = out.iter().map(|(r, _, _)| r.as_str()).collect();
    let mut sorted = rels.clone();
    sorted.sort_unstable();
    assert_eq!(rels, sorted);
    assert!(out
        .iter()
        .all(|(_, sum, threads)| *sum == 499_500 && *threads == 2));
}

#[test]
fn par_map_starts_the_costliest_capture_first_and_keeps_the_path_order() {
    // A large capture last in path order would otherwise start last and finish alone.
    let mut queue = candidates(5);
    for (c, (format, size)) in queue.iter_mut().zip([
        (Format::Har, 10),
        (Format::Har, 50),
        (Format::Saz, 20), // compressed: counts as 80
        (Format::Har, 50), // the same cost as 001: after it, in path order
        (Format::Har, 900),
    ]) {
        c.format = format;
        c.size = size;
    }
    let started = Mutex::new(Vec::new());
    let out = par_map(
        &queue,
        1,
        |c| {
            started.lock().unwrap().push(c.rel.clone());
            c.rel.clone()
        },
        &|| {},
    )
    .unwrap();
    assert_eq!(
        started.into_inner().unwrap(),
        ["004.saz", "002.saz", "001.saz", "003.saz", "000.saz"]
    );
    assert_eq!(out, ["000.saz", "001.saz", "002.saz", "003.saz", "004.saz"]);
    assert!(par_map(&[], 2, |c| c.rel.clone(), &|| {})
        .unwrap()
        .is_empty());
}

#[test]
fn one_panicking_file_does_not_stop_the_others() {
    let out = par_map(
        &candidates(9),
        2,
        |c| {
            guarded(|| {
                if c.rel == "004.saz" {
                    panic!("bad file");
                }
                Ok(c.rel.clone())
            })
        },
        &|| {},
    )
    .unwrap();
    assert_eq!(out.len(), 9);
    assert_eq!(out.iter().filter(|r| r.is_err()).count(), 1);
    assert!(out[4].as_ref().unwrap_err().contains("bad file"));
}

#[test]
fn a_batch_of_unreadable_files_reports_each_against_its_path() {
    // Bogus zips and a truncated gzip: each one unreadable.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b/broken.saz", b"PK\x03\x04 not really a zip");
    write(dir.path(), "a/broken.har.gz", &[0x1f, 0x8b, 8, 0, 0]);
    write(dir.path(), "a/readme.md", b"# queue");
    let found = AtomicUsize::new(0);
    let progressed = AtomicUsize::new(0);
    let result = run(
        dir.path(),
        &BatchOptions {
            jobs: Some(2),
            ..BatchOptions::default()
        },
        &|n| found.store(n, Ordering::Relaxed),
        &|| {
            progressed.fetch_add(1, Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(found.load(Ordering::Relaxed), 2);
    assert_eq!(progressed.load(Ordering::Relaxed), 2);
    assert_eq!(result.skipped.len(), 1);
    let rels: Vec<&str> = result.items.iter().map(|i| i.rel.as_str()).collect();
    assert_eq!(rels, vec!["a/broken.har.gz", "b/broken.saz"]);
    assert!(result.items.iter().all(|i| i.error().is_some()));
    assert_eq!(result.status(), Status::Unreadable);
    assert_eq!(result.status().code(), 2);
    assert!(result.summary(false).contains("2 unreadable"));
    let docs = result.documents();
    let line = serde_json::to_value(error_line(&docs[1])).unwrap();
    let text = serde_json::to_string(&error_line(&docs[1])).unwrap();
    assert!(
        text.starts_with("{\"schema\":\"traceadal.report/1\",\"capture\":{\"path\":"),
        "{text}"
    );
    assert_eq!(line["schema"], "traceadal.report/1");
    assert!(line["capture"]["path"]
        .as_str()
        .unwrap()
        .ends_with("broken.saz"));
    assert!(!line["error"].as_str().unwrap().is_empty());
}

/// A report of a capture whose SPNs are missing (none: clean): one `spn-missing` finding per
/// tenant, carrying its SPNs as the remedy.
fn report(path: &str, spns: &[(&str, Option<&str>)]) -> Report {
    let mut analysis =
        Collector::new(DecodeLimits::default(), 0).finish(Path::new(path), Format::Saz);
    let mut tenants: Vec<Option<&str>> = spns.iter().map(|(_, t)| *t).collect();
    tenants.dedup();
    analysis.findings = tenants
        .iter()
        .map(|tenant| Finding {
            id: "spn-missing".into(),
            severity: Severity::Error,
            title: "SPN missing".into(),
            sessions: vec![3],
            evidence: "AADSTS500011".into(),
            fix: "add it".into(),
            remedy: Some(Remedy::AddSpns {
                first: None,
                tenant_id: None,
                tenant: tenant.map(str::to_string),
                tenant_name: None,
                spns: spns
                    .iter()
                    .filter(|(_, t)| t == tenant)
                    .map(|(s, _)| s.to_string())
                    .collect(),
            }),
        })
        .collect();
    analysis.missing_spns = spns
        .iter()
        .map(|(spn, tenant)| MissingSpn {
            spn: spn.to_string(),
            tenant: tenant.map(str::to_string),
            codes: vec![500011],
            error_sessions: vec![3],
            ..MissingSpn::default()
        })
        .collect();
    if !spns.is_empty() {
        analysis.verdict = Verdict {
            status: "error",
            exit_code: Status::Findings,
            summary: "SPN missing".into(),
            causes: vec!["SPN missing".into()],
            caveats: Vec::new(),
        };
    } else {
        // Built from no session, the analysis is inconclusive: this one stands for a capture
        // that showed healthy traffic.
        analysis.verdict = Verdict {
            status: "ok",
            exit_code: Status::Clean,
            summary: "No failure found".into(),
            causes: Vec::new(),
            caveats: Vec::new(),
        };
    }
    Report::new(&analysis)
}

fn item(rel: &str, outcome: Outcome) -> Item {
    Item {
        path: PathBuf::from("/q").join(rel),
        rel: rel.to_string(),
        outcome,
    }
}

fn queue() -> BatchResult {
    BatchResult {
        items: vec![
            item(
                "a.saz",
                Outcome::Report(Box::new(report(
                    "/q/a.saz",
                    &[
                        ("https://autodiscover.contoso.com/", Some("contoso.com")),
                        ("https://mail.contoso.com/", Some("contoso.com")),
                    ],
                ))),
            ),
            item(
                "b.har",
                Outcome::Report(Box::new(report(
                    "/q/b.har",
                    &[
                        ("https://autodiscover.contoso.com/", Some("CONTOSO.com")),
                        ("https://autodiscover.fabrikam.com/", Some("fabrikam.com")),
                        ("https://owa.example.org/", None),
                    ],
                ))),
            ),
            item(
                "c, \"odd\".saz",
                Outcome::Report(Box::new(report("/q/c.saz", &[]))),
            ),
            item("d.saz", Outcome::Failed("damaged SAZ archive: x".into())),
        ],
        skipped: (1..=12).map(|i| format!("notes-{i:02}.txt")).collect(),
    }
}

#[test]
fn spns_are_unioned_and_deduplicated_per_tenant() {
    let q = queue();
    let per = spns_per_tenant(&q.documents());
    assert_eq!(
        per,
        vec![
            (
                "contoso.com".to_string(),
                vec![
                    "https://autodiscover.contoso.com/".to_string(),
                    "https://mail.contoso.com/".to_string()
                ]
            ),
            (
                "fabrikam.com".to_string(),
                vec!["https://autodiscover.fabrikam.com/".to_string()]
            ),
            (
                "tenant not named in the capture: sign in to the right one".to_string(),
                vec!["https://owa.example.org/".to_string()]
            ),
        ]
    );
    let plans = q.fix_plans();
    assert_eq!(plans.len(), 3);
    assert_eq!(plans[0].sources, vec!["/q/a.saz", "/q/b.har"]);
    assert_eq!(plans[1].sources, vec!["/q/b.har"]);
    let script = powershell::script_of_plans(&plans);
    assert_eq!(script.matches("Connect-MgGraph -TenantId").count(), 2);
    assert_eq!(script.matches("\nConnect-MgGraph").count(), 3);
    assert_eq!(
        script
            .matches("    'https://autodiscover.contoso.com/'\n")
            .count(),
        1
    );
}

#[test]
fn queue_status_summary_and_csv() {
    let q = queue();
    assert_eq!(q.status(), Status::Unreadable);
    assert_eq!(q.count(Status::Findings), 2);
    assert_eq!(q.count(Status::Clean), 1);
    assert_eq!(
        q.summary(true),
        "4 capture(s): 1 without errors (0 with warnings), 2 with error findings, 0 inconclusive, 1 unreadable; \
         12 other file(s) skipped (neither SAZ nor HAR): notes-01.txt, notes-02.txt, notes-03.txt, notes-04.txt, \
         notes-05.txt, notes-06.txt, notes-07.txt, notes-08.txt, notes-09.txt, notes-10.txt, notes-11.txt, notes-12.txt"
    );
    assert!(q
        .summary(false)
        .ends_with(", notes-10.txt and 2 more (--verbose names them all)"));
    let csv = csv(&q.documents());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines.len(),
        6,
        "header, 4 rows, and the empty tail: {csv:?}"
    );
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert_eq!(
        lines[1],
        "a.saz,saz,0,error,,https://autodiscover.contoso.com/ https://mail.contoso.com/,contoso.com,1,,spn-missing,"
    );
    assert!(
        lines[2].contains(",contoso.com fabrikam.com,"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("\"c, \"\"odd\"\".saz\",saz,0,ok,"));
    assert_eq!(lines[4], "d.saz,,,unreadable,,,,,damaged SAZ archive: x,,");
    assert_eq!(lines[5], "");
    // Without the CSV rows' own quoting, every row has the header's column count.
    for l in &lines[1..5] {
        assert_eq!(fields(l).len(), CSV_HEADER.len(), "{l}");
    }
}

/// A small RFC 4180 reader, to check the writer round-trips.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', true) => quoted = false,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

//! Hostile files around the captures (issue #23, round 2): inputs that are not regular files
//! (FIFO, device, directory, socket), outputs that are inputs or not regular files, files that
//! may hold secrets and their modes, the temporary file of `redact`, password files without
//! an end. The real binary runs on files made in a temporary folder, under a deadline: a
//! command that opens a FIFO with no writer would block forever.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::sample;

const CAPTURE: &str = "adal-500011-json.saz";

/// Run `traceadal ARGS` in `dir`; kill it and fail when it has not ended within 60 s.
fn run_in_dir(dir: &Path, args: &[&str]) -> Output {
    run_within(dir, args, Duration::from_secs(60))
}

/// [`run_in_dir`] with its own deadline.
fn run_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the traceadal binary runs");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("traceadal {args:?} did not end within {limit:?} (blocked on a file?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A folder holding `in.saz` (a copy of a sample).
fn folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.saz");
    std::fs::copy(sample(CAPTURE), &input).unwrap();
    (dir, input)
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// Files left in `dir` besides `keep`.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
#[test]
fn inputs_that_are_not_regular_files_are_refused_without_reading_them() {
    let (dir, _input) = folder();
    let d = dir.path();
    mkfifo(&d.join("pipe.saz"));
    std::fs::create_dir(d.join("folder.saz")).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(d.join("socket.har")).unwrap();
    std::os::unix::fs::symlink("in.saz", d.join("link.saz")).unwrap();

    // analyze: each refused with its own line, the regular file and the symlink to one
    // analysed; exit 2.
    let out = run_in_dir(
        d,
        &[
            "analyze",
            "pipe.saz",
            "/dev/null",
            "folder.saz",
            "socket.har",
            "in.saz",
            "link.saz",
            "--format",
            "json",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (name, what) in [
        ("pipe.saz", "a FIFO"),
        ("/dev/null", "a device"),
        ("folder.saz", "a directory"),
        ("socket.har", "a socket"),
    ] {
        let line = format!("traceadal: {name}: is {what}, not a capture file; refusing to read it");
        assert!(
            err.lines().any(|l| l == line),
            "{line:?} missing in:\n{err}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("traceadal.report/1"))
            .count(),
        2,
        "in.saz and link.saz analysed: {stdout}"
    );

    // sessions and redact: the same refusal, exit 2, nothing written.
    for args in [
        vec!["sessions", "pipe.saz"],
        vec!["redact", "pipe.saz", "out.saz"],
        vec!["redact", "folder.saz", "out.saz"],
    ] {
        let out = run_in_dir(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not a capture file"), "{args:?}");
    }
    assert!(!d.join("out.saz").exists());
    // The redacted copy of a symlinked capture is made as of the file itself.
    let out = run_in_dir(d, &["redact", "link.saz", "copy.saz"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let (dir, input) = folder();
    let d = dir.path();
    let original = std::fs::read(&input).unwrap();
    std::fs::create_dir(d.join("q")).unwrap();
    std::fs::copy(sample("adal-500011-json.har"), d.join("q/in.har")).unwrap();
    let har = std::fs::read(d.join("q/in.har")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("in.saz", d.join("alias.saz")).unwrap();

    let mut cases = vec![
        vec!["analyze", "--format", "html", "-o", "in.saz", "in.saz"],
        vec!["analyze", "-o", "./in.saz", "q/in.har", "in.saz"],
        vec!["batch", "-o", "q/in.har", "q/"],
        vec!["batch", "--fix-script", "q/./in.har", "q"],
    ];
    #[cfg(unix)]
    cases.push(vec!["analyze", "-o", "alias.saz", "in.saz"]);
    for args in cases {
        let out = run_in_dir(d, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("is an input of this run") && err.contains("refusing to overwrite it"),
            "{args:?}: {err}"
        );
        assert_eq!(std::fs::read(&input).unwrap(), original, "{args:?}");
        assert_eq!(std::fs::read(d.join("q/in.har")).unwrap(), har, "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn an_output_that_is_not_a_regular_file_is_refused() {
    let (dir, _input) = folder();
    let d = dir.path();
    mkfifo(&d.join("fifo"));
    std::fs::create_dir(d.join("dir")).unwrap();
    std::fs::create_dir(d.join("q")).unwrap();
    std::fs::copy(sample(CAPTURE), d.join("q/a.saz")).unwrap();
    std::os::unix::fs::symlink("fifo", d.join("to-fifo")).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["analyze", "in.saz", "-o", "/dev/full"],
            "/dev/full: is a device",
        ),
        (vec!["analyze", "in.saz", "-o", "fifo"], "fifo: is a FIFO"),
        (
            vec!["analyze", "in.saz", "--format", "html", "-o", "dir"],
            "dir: is a directory",
        ),
        (
            vec!["batch", "q", "-o", "/dev/full"],
            "/dev/full: is a device",
        ),
        // (An existing folder is where `--fix-script` writes one script per tenant, issue 20.)
        (
            vec!["batch", "q", "--fix-script", "fifo"],
            "fifo: is a FIFO",
        ),
        (
            vec!["redact", "in.saz", "/dev/full"],
            "/dev/full: is a device",
        ),
        (vec!["redact", "in.saz", "fifo"], "fifo: is a FIFO"),
        (vec!["redact", "in.saz", "to-fifo"], "is a FIFO"),
        (vec!["redact", "in.saz", "dir"], "dir: is a directory"),
    ];
    for (args, message) in cases {
        let out = run_in_dir(d, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // Nothing replaced: the FIFO, the link and the folder are what they were.
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(d.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(std::fs::symlink_metadata(d.join("to-fifo"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(leftovers(&d.join("dir"), &[]), Vec::<String>::new());
    assert_eq!(
        leftovers(d, &["in.saz", "fifo", "dir", "q", "to-fifo"]),
        Vec::<String>::new()
    );

    // `-o /dev/stdout` is what the user plainly meant: written through (here to a pipe).
    let out = run_in_dir(
        d,
        &["analyze", "in.saz", "--format", "json", "-o", "/dev/stdout"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("traceadal.report/1"));
}

#[cfg(unix)]
#[test]
fn files_that_may_hold_secrets_are_created_0600_and_replacing_keeps_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _input) = folder();
    let d = dir.path();
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;

    let out = run_in_dir(
        d,
        &[
            "analyze",
            "in.saz",
            "--show-secrets",
            "--format",
            "html",
            "-o",
            "page.html",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(mode("page.html"), 0o600);
    std::fs::create_dir(d.join("q")).unwrap();
    std::fs::copy(sample(CAPTURE), d.join("q/a.saz")).unwrap();
    let out = run_in_dir(
        d,
        &[
            "batch",
            "q",
            "--show-secrets",
            "--format",
            "ndjson",
            "-o",
            "rows.ndjson",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(mode("rows.ndjson"), 0o600);

    let out = run_in_dir(d, &["redact", "in.saz", "copy.saz"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode("copy.saz"), 0o600);
    std::fs::set_permissions(d.join("copy.saz"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run_in_dir(d, &["redact", "in.saz", "copy.saz"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode("copy.saz"), 0o640, "the replaced file's mode is kept");

    // A symlink to a regular file: its target is replaced, the link stays a link.
    std::os::unix::fs::symlink("copy.saz", d.join("link.saz")).unwrap();
    let out = run_in_dir(d, &["redact", "in.saz", "link.saz"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(d.join("link.saz"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn redact_leaves_no_temporary_file_when_it_fails() {
    let (dir, input) = folder();
    let d = dir.path();
    // A SAZ cut before its central directory: detected as a SAZ, the rewrite fails.
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(d.join("cut.saz"), &bytes[..bytes.len() / 2]).unwrap();
    let out = run_in_dir(d, &["redact", "cut.saz", "out.saz"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cut.saz"), "{}", stderr(&out));
    assert_eq!(leftovers(d, &["in.saz", "cut.saz"]), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn a_password_file_is_read_to_its_first_line_under_a_cap() {
    let (dir, _input) = folder();
    let d = dir.path();
    std::fs::write(d.join("long"), "x".repeat(10_000)).unwrap();
    for args in [
        vec!["analyze", "in.saz", "--password-file", "/dev/zero"],
        vec!["sessions", "in.saz", "--password-file", "long"],
        vec![
            "redact",
            "in.saz",
            "out.saz",
            "--out-password-file",
            "/dev/zero",
        ],
    ] {
        let started = Instant::now();
        let out = run_in_dir(d, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("the first line is longer than 4096 bytes") && err.contains(args[3]),
            "{args:?}: {err}"
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
    }
    assert!(!d.join("out.saz").exists());
    // A first line within the cap, then anything: the line is the password.
    std::fs::write(d.join("pw"), "secret\nrest of the file").unwrap();
    let out = run_in_dir(d, &["analyze", "in.saz", "--password-file", "pw"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A HAR of `attempts` rounds of the 500011 loop, one a second: autodiscover answered 401
/// with the hybrid Bearer challenge, then a refresh-token grant refused with AADSTS500011.
fn loop_har(attempts: usize) -> String {
    const CHALLENGE: &str = r#"Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@9188040d-6c67-4c5b-b112-36a304b66dad\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\""#;
    const ERROR: &str = r#"{\"error\":\"invalid_resource\",\"error_description\":\"AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso Ltd.\",\"error_codes\":[500011]}"#;
    let mut out =
        String::from(r#"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":["#);
    let t0 = 1_700_000_000i64;
    for a in 0..attempts {
        let at = |ms: i64| {
            let t = t0 * 1000 + a as i64 * 1000 + ms;
            let secs = t / 1000;
            let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
            let day = 14 + secs / 86_400 - t0 / 86_400;
            format!("2023-11-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z", t % 1000)
        };
        if a > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"startedDateTime":"{}","time":20,"request":{{"method":"GET","url":"https://autodiscover.contoso.com/autodiscover/autodiscover.xml","httpVersion":"HTTP/1.1","headers":[{{"name":"User-Agent","value":"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"}}]}},"response":{{"status":401,"statusText":"Unauthorized","httpVersion":"HTTP/1.1","headers":[{{"name":"WWW-Authenticate","value":"{CHALLENGE}"}}],"content":{{"size":0,"mimeType":"text/html"}}}}}},"#,
            at(0)
        ));
        out.push_str(&format!(
            r#"{{"startedDateTime":"{}","time":80,"request":{{"method":"POST","url":"https://login.microsoftonline.com/common/oauth2/token","httpVersion":"HTTP/1.1","headers":[{{"name":"Content-Type","value":"application/x-www-form-urlencoded"}}],"postData":{{"mimeType":"application/x-www-form-urlencoded","text":"grant_type=refresh_token&resource=https%3A%2F%2Fautodiscover.contoso.com%2F&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&refresh_token=0.AXoA{a}"}}}},"response":{{"status":400,"statusText":"Bad Request","httpVersion":"HTTP/1.1","headers":[{{"name":"Content-Type","value":"application/json"}}],"content":{{"size":200,"mimeType":"application/json","text":"{ERROR}"}}}}}}"#,
            at(200)
        ));
    }
    out.push_str("]}}");
    out
}

/// The 60 000-session loop of issue #23 made a 187 MiB page: every session of the flow had
/// a detail block and every attempt a diagram (this HAR: 126 MiB before, 0.4 MiB after). Now
/// the first and last attempts are shown in full and the rest counted, the timeline draws
/// each identical bar once.
#[test]
fn the_html_page_of_a_60000_session_loop_stays_a_few_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("loop.har"), loop_har(30_000)).unwrap();
    // 60 000 sessions through a debug build beside the whole suite on two cores: minutes.
    let out = run_within(
        d,
        &["analyze", "loop.har", "--format", "html", "-o", "loop.html"],
        Duration::from_secs(600),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let page = std::fs::read_to_string(d.join("loop.html")).unwrap();
    assert!(
        page.len() < 4 * 1024 * 1024,
        "the page is {} bytes",
        page.len()
    );
    assert!(page.contains("spn-missing") || page.contains("500011"));
    let blocks = page.matches(r#"<article class="session""#).count();
    assert!(
        (4..=traceadal::report::html::DETAIL_MAX).contains(&blocks),
        "{blocks} detail blocks"
    );
    let folded = regex::Regex::new(r"… ([0-9,]+) more sessions of this flow, not shown in detail")
        .unwrap_or_else(|e| panic!("{e}"));
    let n: usize = folded
        .captures(&page)
        .map(|c| c[1].replace(',', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the folded sessions are not counted"));
    assert_eq!(
        n + blocks,
        60_000,
        "every session of the flow is shown or counted"
    );
    assert!(page.contains("more attempts with the same steps, not drawn"));
}

/// `redact` interrupted (SIGTERM, as Ctrl-C or a closing terminal would) removes its
/// temporary copy and exits 130; nothing is left beside OUT and OUT is not created.
#[cfg(unix)]
#[test]
fn an_interrupted_redact_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Big enough that the copy takes seconds in a debug build.
    std::fs::write(d.join("big.har"), loop_har(60_000)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .current_dir(d)
        .args(["redact", "big.har", "out.har"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let temporary = || {
        leftovers(d, &["big.har"])
            .iter()
            .any(|n| n.ends_with(".tmp"))
    };
    while !temporary() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "redact ended before it could be interrupted: make the input bigger"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary file"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(leftovers(d, &["big.har"]), Vec::<String>::new());
}

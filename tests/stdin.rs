//! `-` as the capture is standard input (issue 20), for `analyze`, `sessions`, `show` and
//! `redact`:
//! the format told from the content, the output that of the same file with `<stdin>` for its
//! name, under the `--max-inflated-mib` limit.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{run, sample};

/// `traceadal ARGS < input`.
fn piped(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().unwrap();
    // The command may stop reading early (a refusal): a closed pipe is fine here.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_piped_capture_reads_as_its_file_named_stdin() {
    for name in ["adal-500011-json.saz", "adal-500011-json.har"] {
        let file = sample(name);
        let bytes = std::fs::read(&file).unwrap();
        for args in [
            vec!["analyze", "--format", "json"],
            vec!["analyze", "--format", "markdown"],
            vec!["analyze"],
            vec!["sessions", "--format", "json"],
        ] {
            let from_file = run(&[args.clone(), vec![s(&file)]].concat());
            let from_pipe = piped(&[args.clone(), vec!["-"]].concat(), &bytes);
            assert_eq!(from_pipe.status.code(), from_file.status.code(), "{args:?}");
            let want = String::from_utf8_lossy(&from_file.stdout)
                .replace(s(&file), "<stdin>")
                .replace(&format!("samples/{name}"), "<stdin>");
            assert_eq!(
                String::from_utf8_lossy(&from_pipe.stdout),
                want,
                "{name} {args:?}"
            );
            let want_err = String::from_utf8_lossy(&from_file.stderr).replace(s(&file), "<stdin>");
            assert_eq!(
                String::from_utf8_lossy(&from_pipe.stderr),
                want_err,
                "{args:?}"
            );
        }
    }
    let out = piped(
        &["analyze", "--format", "json", "-"],
        &std::fs::read(sample("adal-500011-json.har")).unwrap(),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["capture"]["path"], "<stdin>");
    assert_eq!(report["capture"]["format"], "har");
}

#[test]
fn redact_reads_standard_input_and_writes_the_same_copy() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["adal-500011-json.saz", "adal-500011-json.har"] {
        let file = sample(name);
        let a = dir.path().join(format!("file-{name}"));
        let b = dir.path().join(format!("pipe-{name}"));
        let from_file = run(&["redact", s(&file), s(&a)]);
        let from_pipe = piped(&["redact", "-", s(&b)], &std::fs::read(&file).unwrap());
        assert_eq!(from_pipe.status.code(), Some(0), "{name}");
        let first = String::from_utf8_lossy(&from_pipe.stdout);
        assert!(
            first.starts_with(&format!("<stdin> -> {} (", b.display())),
            "{first}"
        );
        assert_eq!(
            first.lines().nth(1),
            String::from_utf8_lossy(&from_file.stdout).lines().nth(1)
        );
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn empty_oversized_and_unknown_standard_input_are_named() {
    let out = piped(&["analyze", "-"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "traceadal: <stdin>: is empty\n"
    );
    let out = piped(&["sessions", "-"], b"hello, world");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "traceadal: <stdin>: is neither a SAZ (zip) nor a HAR (JSON) capture: starts with bytes 68 65 6c 6c 6f 2c 20 77\n"
    );
    let big = vec![b' '; 2 * 1024 * 1024];
    let out = piped(&["analyze", "--max-inflated-mib", "1", "-"], &big);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "traceadal: <stdin>: larger than 1 MiB (--max-inflated-mib); save it to a file and give its name\n"
    );
}

/// `show -` named its input `-` where every other command says `<stdin>`: in the JSON
/// document's `capture.path` and in its messages (the command it suggests keeps `-`).
#[test]
fn show_names_standard_input_stdin() {
    let bytes = std::fs::read(sample("adal-500011-json.saz")).unwrap();
    let out = piped(&["show", "--format", "json", "-", "3"], &bytes);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["capture"],
        serde_json::json!({"path": "<stdin>", "format": "saz"})
    );
    assert_eq!(doc["sessions"][0]["id"], 3);
    // The text is the file's, session for session.
    let from_file = run(&["show", s(&sample("adal-500011-json.saz")), "3"]);
    let from_pipe = piped(&["show", "-", "3"], &bytes);
    assert_eq!(from_pipe.status.code(), Some(0));
    assert_eq!(from_pipe.stdout, from_file.stdout);
    assert!(String::from_utf8_lossy(&from_pipe.stdout)
        .starts_with("Session 3: POST https://autodiscover.contoso.com/autodiscover/autodiscover.xml -> 401 Unauthorized\n"));
    let out = piped(&["show", "-", "999"], &bytes);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "traceadal: <stdin>: no session 999 in this capture (its sessions are numbered 1 to 35; `traceadal sessions -` lists them)\n"
    );
    let out = piped(&["show", "-", "3"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "traceadal: <stdin>: is empty\n"
    );
}

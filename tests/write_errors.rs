//! Every write is checked (issue 20): an output that cannot be written is one message naming
//! it, `traceadal: cannot write <target>: <why>`, and exit code 2, for every command and
//! format; `-o`, `--fix-script` and redact's OUT are written beside and renamed, so a failed
//! write leaves the old file (or none) and no temporary file; a closed pipe stays silent.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{run, sample};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `traceadal ARGS` with stdout on `/dev/full` (Linux: every write fails with ENOSPC).
#[cfg(target_os = "linux")]
fn to_full(args: &[&str]) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_traceadal"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(full)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const STDOUT_FULL: &str = "traceadal: cannot write standard output: No space left on device\n";

#[cfg(target_os = "linux")]
#[test]
fn every_command_and_format_reports_a_full_stdout_with_exit_2() {
    let saz = sample("aadsts-50076-mfa.saz");
    let har = sample("aadsts-50076-mfa.har");
    for format in ["table", "json", "markdown", "html", "powershell"] {
        for capture in [&saz, &har] {
            let (code, err) = to_full(&["analyze", "--format", format, s(capture)]);
            assert_eq!(code, Some(2), "analyze --format {format}: {err}");
            assert_eq!(err, STDOUT_FULL, "analyze --format {format}");
        }
    }
    for format in ["table", "json"] {
        let (code, err) = to_full(&["sessions", "--format", format, s(&saz)]);
        assert_eq!((code, err.as_str()), (Some(2), STDOUT_FULL), "{format}");
    }
    let (code, err) = to_full(&["explain", "500011"]);
    assert_eq!((code, err.as_str()), (Some(2), STDOUT_FULL));

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&saz, dir.path().join("a.saz")).unwrap();
    for format in ["table", "ndjson", "csv"] {
        let (code, err) = to_full(&["batch", "--format", format, s(dir.path())]);
        assert_eq!(code, Some(2), "batch --format {format}: {err}");
        assert!(
            err.starts_with(STDOUT_FULL),
            "batch --format {format}: {err}"
        );
    }

    // redact writes the copy, then its summary on stdout.
    let out = dir.path().join("copy.saz");
    let (code, err) = to_full(&["redact", s(&saz), s(&out)]);
    assert_eq!((code, err.as_str()), (Some(2), STDOUT_FULL));
}

#[test]
fn a_closed_pipe_is_silent_and_exit_0() {
    for args in [
        vec!["sessions", "samples/healthy-workday.saz"],
        vec![
            "analyze",
            "--format",
            "json",
            "samples/aadsts-50076-mfa.saz",
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_traceadal"))
            .args(&args)
            .current_dir(crate::common::root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        // analyze exits with its verdict (1 here), sessions with 0: never 2, nothing said.
        assert!(code == Some(0) || code == Some(1), "{args:?}: {code:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

/// The files in `dir` (temporary files included).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_output_in_a_missing_directory_is_named_and_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing").join("report.html");
    let saz = sample("aadsts-50076-mfa.saz");
    let want = format!(
        "traceadal: cannot write {}: No such file or directory\n",
        target.display()
    );
    for args in [
        vec!["analyze", "--format", "html", "-o", s(&target), s(&saz)],
        vec!["redact", s(&saz), s(&target)],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{args:?}");
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn o_replaces_a_file_whole_and_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.md");
    std::fs::write(&target, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let saz = sample("adal-500011-json.saz");
    let out = run(&["analyze", "--format", "markdown", "-o", s(&target), s(&saz)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&target).unwrap().starts_with('#'));
    assert_eq!(listing(dir.path()), ["report.md"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
}

/// Run `args` as root: directly when this is root, else through `sudo -n` (CI runners).
#[cfg(target_os = "linux")]
fn privileged(args: &[&str]) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        Command::new(args[0])
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", args[0]]);
        c
    };
    cmd.args(&args[1..]).status().is_ok_and(|s| s.success())
}

/// A full disk and a read-only file system, for real: a 64 KiB tmpfs, then remounted
/// read-only. Needs root (mount); fails, not skips, without it.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs root or passwordless sudo: mounts a 64 KiB tmpfs to fill (full disk, read-only file system)"]
fn full_and_read_only_disks_leave_the_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path();
    let status = privileged(&[
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=64k,mode=1777",
        "tmpfs",
        s(mnt),
    ]);
    assert!(
        status,
        "mounting a tmpfs failed: run as root or with passwordless sudo"
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            privileged(&["umount", s(self.0)]);
        }
    }
    let _unmount = Unmount(mnt);

    let old = "old report\n";
    let report = mnt.join("report.html");
    std::fs::write(&report, old).unwrap();
    let big = sample("healthy-workday.saz");
    let expect =
        |target: &Path, why: &str| format!("traceadal: cannot write {}: {why}\n", target.display());

    let out = run(&["analyze", "--format", "html", "-o", s(&report), s(&big)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        expect(&report, "No space left on device")
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap(), old);
    assert_eq!(listing(mnt), ["report.html"]);

    // redact: the OUTPUT is named, never "cannot read" the input, no zip-library text.
    for (input, name) in [
        (&big, "copy.saz"),
        (&sample("healthy-workday.har"), "copy.har"),
    ] {
        let copy = mnt.join(name);
        let out = run(&["redact", s(input), s(&copy)]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            expect(&copy, "No space left on device"),
            "{name}"
        );
        assert_eq!(listing(mnt), ["report.html"], "{name}");
    }

    // batch: the fix script too.
    let queue = tempfile::tempdir().unwrap();
    for n in 0..6 {
        std::fs::copy(
            sample("adal-500011-json.saz"),
            queue.path().join(format!("{n}.saz")),
        )
        .unwrap();
    }
    let filler = mnt.join("filler");
    // The disk full to the last byte.
    let _ = std::fs::write(&filler, vec![b'x'; 64 * 1024]);
    let script = mnt.join("fix.ps1");
    let out = run(&[
        "batch",
        "--format",
        "csv",
        "--fix-script",
        s(&script),
        s(queue.path()),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&expect(&script, "No space left on device")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!mnt.join("fix.ps1").exists());
    let _ = std::fs::remove_file(&filler);

    // Read-only.
    assert!(privileged(&["mount", "-o", "remount,ro", s(mnt)]));
    let small = sample("aadsts-50076-mfa.saz");
    let out = run(&["analyze", "-o", s(&report), s(&small)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        expect(&report, "Read-only file system")
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap(), old);
    let copy = mnt.join("copy.saz");
    let out = run(&["redact", s(&small), s(&copy)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        expect(&copy, "Read-only file system")
    );
}

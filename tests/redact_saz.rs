//! `traceadal redact` of a SAZ is a normalising rewrite (issue 17): the copy of every sample
//! tells the same story (finding ids, missing SPNs, AADSTS codes, verdict status, exit code),
//! every message in it is in normal form (CRLF heads, no transfer or content coding, a
//! `Content-Length` that is the body's length), a second redaction changes nothing, and an
//! archive with entries the reader reads around is written whole with placeholders.
//!
//! The same property over the shared public captures is `#[ignore]`d (it needs the corpus,
//! see `common::corpus`): `cargo test -- --ignored` runs it and it fails when it is missing.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::{corpus, root, run_env, run_in};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn sample_sazs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["samples", "samples/variants"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            let p = e.path();
            // Not a zip of captures (variants/zipped-saz.saz): redact refuses it.
            if p.extension().is_some_and(|x| x == "saz") && !crate::common::is_zip_of_captures(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 25, "{} sample SAZs", out.len());
    out
}

/// What a diagnosis says, as `analyze --format json` (with `extra` arguments) reports it:
/// the exit code, the finding ids, the missing SPNs, the AADSTS codes and the verdict status.
fn story(path: &Path, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let mut args = vec!["analyze", s(path), "--format", "json"];
    args.extend_from_slice(extra);
    let out = if env.is_empty() {
        run_in(&args)
    } else {
        run_env(&args, env)
    };
    let code = out.status.code().expect("exited");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not one JSON report ({e}); exit {code}, stderr: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut ids: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    let mut codes: Vec<u64> = report["aadsts"]
        .as_array()
        .expect("aadsts")
        .iter()
        .map(|a| a["code"].as_u64().expect("code"))
        .collect();
    codes.sort_unstable();
    json!({
        "exit": code,
        "findings": ids,
        "missing_spns": report["missing_spns"],
        "aadsts": codes,
        "verdict": report["verdict"]["status"],
    })
}

/// `analyze(redact(x))` tells what `analyze(x)` tells. `extra` goes to both commands
/// (`--max-body-mib`); `env` holds the input's password as `PW`, for an encrypted input.
fn assert_same_story(input: &Path, dir: &Path, extra: &[&str], env: &[(&str, &str)]) {
    let out = dir.join("copy.saz");
    let _ = std::fs::remove_file(&out);
    let password: &[&str] = if env.is_empty() {
        &[]
    } else {
        &["--password-env", "PW"]
    };
    let mut args = vec!["redact", s(input), s(&out)];
    args.extend_from_slice(extra);
    args.extend_from_slice(password);
    let r = if env.is_empty() {
        run_in(&args)
    } else {
        run_env(&args, env)
    };
    assert_eq!(
        r.status.code(),
        Some(0),
        "{} {extra:?}: {}",
        input.display(),
        String::from_utf8_lossy(&r.stderr)
    );
    let before = story(input, &[extra, password].concat(), env);
    let after = story(&out, extra, &[]);
    assert_eq!(before, after, "{} {extra:?}", input.display());
}

#[test]
fn every_sample_saz_tells_the_same_story_after_redaction() {
    let dir = tempfile::tempdir().unwrap();
    for p in sample_sazs() {
        assert_same_story(&p, dir.path(), &[], &[]);
    }
}

/// With the decode cap at 0 and 1 MiB bodies are placeholders in the copy, and analysis under
/// the same cap decodes none of them in the original either.
#[test]
fn the_same_story_under_a_small_decode_cap() {
    let dir = tempfile::tempdir().unwrap();
    for p in sample_sazs().iter().step_by(3) {
        for cap in ["0", "1"] {
            assert_same_story(p, dir.path(), &["--max-body-mib", cap], &[]);
        }
    }
}

#[test]
#[ignore = "needs the public capture corpus ($TRACEADAL_CORPUS or ../shared/captures): run with --ignored (CI does)"]
fn every_shared_saz_tells_the_same_story_after_redaction() {
    let dir = corpus().join("saz");
    let work = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "saz"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} SAZ files", files.len());
    for p in files {
        let encrypted = p.to_string_lossy().contains("synthetic__");
        if encrypted {
            assert_same_story(&p, work.path(), &[], &[("PW", "fiddler")]);
        } else {
            assert_same_story(&p, work.path(), &[], &[]);
        }
    }
}

/// Every entry of a zip, by name, as stored after inflating.
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (String::from_utf8_lossy(e.name_raw()).into_owned(), data)
        })
        .collect()
}

/// A message in normal form: a head of CRLF lines, no folded line, no transfer or content
/// coding; with a body, one `Content-Length` that is its length.
fn assert_normal_form(name: &str, msg: &[u8]) {
    if msg.is_empty() {
        return;
    }
    let end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{name}: no CRLF blank line"));
    let head = std::str::from_utf8(&msg[..end]).unwrap_or_else(|_| panic!("{name}: head"));
    let body = &msg[end + 4..];
    let mut lengths = Vec::new();
    for line in head.split("\r\n") {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "{name}: {line:?}"
        );
        assert!(!line.starts_with([' ', '\t']), "{name}: a folded line");
        let lower = line.to_ascii_lowercase();
        if !body.is_empty() {
            assert!(!lower.starts_with("transfer-encoding:"), "{name}");
            assert!(!lower.starts_with("content-encoding:"), "{name}");
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            lengths.push(v.trim().to_string());
        }
    }
    if !body.is_empty() {
        assert_eq!(lengths, [body.len().to_string()], "{name}");
    }
}

#[test]
fn every_message_of_a_copy_is_in_normal_form_and_a_second_redaction_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (once, twice) = (dir.path().join("once.saz"), dir.path().join("twice.saz"));
    let mut messages = 0;
    for p in sample_sazs() {
        assert_eq!(run_in(&["redact", s(&p), s(&once)]).status.code(), Some(0));
        let first = entries(&once);
        for (name, data) in &first {
            if name.ends_with("_c.txt") || name.ends_with("_s.txt") {
                assert_normal_form(&format!("{}: {name}", p.display()), data);
                messages += 1;
            }
        }
        assert_eq!(
            run_in(&["redact", s(&once), s(&twice)]).status.code(),
            Some(0)
        );
        let second = entries(&twice);
        assert_eq!(second.len(), first.len(), "{}", p.display());
        for ((name, a), (_, b)) in first.iter().zip(&second) {
            assert!(
                a == b,
                "{}: {name} changed by a second redaction:\n{}\n----\n{}",
                p.display(),
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            );
        }
        let comment = zip::ZipArchive::new(std::fs::File::open(&once).unwrap())
            .unwrap()
            .comment()
            .to_vec();
        assert!(
            comment.is_empty() || comment.starts_with(b"Fiddler"),
            "{}",
            p.display()
        );
    }
    assert!(messages > 500, "{messages} messages");
}

/// A SAZ with an LZMA response, a response whose CRC is wrong, a directory with data, a
/// stray entry and a zstd body: `analyze` reads it, `redact` writes it whole, says on
/// stderr what it replaced (no names, no content), and the copy reads back.
#[test]
fn an_archive_analyze_reads_around_is_written_whole() {
    const SECRET: &str = "SECRET-RT-zstd-body-0123";
    let dir = tempfile::tempdir().unwrap();
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.set_comment("Fiddler (v5.0.20182.28034) Session Archive. See https://fiddler2.com")
        .unwrap();
    let request = "GET https://login.microsoftonline.com/common/oauth2/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n";
    let zstd = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: zstd\r\n\r\n{{\"refresh_token\":\"{SECRET}\"}}"
    );
    for (name, data) in [
        ("raw/1_c.txt", request),
        (
            "raw/1_s.txt",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
        ("raw/2_c.txt", request),
        (
            "raw/2_s.txt",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
        ("raw/3_c.txt", request),
        ("raw/3_s.txt", zstd.as_str()),
        ("SECRET-NAME-stray.bin", "SECRET-stray-data"),
    ] {
        w.start_file(name, stored).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    let mut bytes = w.finish().unwrap().into_inner();
    let central: Vec<usize> = memchr::memmem::find_iter(&bytes, b"PK\x01\x02").collect();
    let local: Vec<usize> = memchr::memmem::find_iter(&bytes, b"PK\x03\x04").collect();
    bytes[central[1] + 10] = 14; // raw/1_s.txt: LZMA
    bytes[local[1] + 8] = 14;
    bytes[central[3] + 16] ^= 0xff; // raw/2_s.txt: wrong CRC
    let input = dir.path().join("odd.saz");
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join("copy.saz");

    let r = run_in(&["redact", s(&input), s(&out)]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(0), "{err}");
    for note in [
        "raw/1_s.txt: unsupported compression method (Lzma); replaced by a placeholder entry",
        "raw/2_s.txt: damaged entry data (bad compressed data or checksum); rewritten from what was read",
        "1 entry not in the SAZ layout left out (names not shown)",
        "raw/3_s.txt: body replaced by a placeholder (content-encoding zstd not decoded)",
    ] {
        assert!(err.contains(note), "{note}\n{err}");
    }
    assert!(!err.contains("SECRET"), "{err}");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("6 entries, 1 replaced by placeholders"),
        "{stdout}"
    );

    let copy = entries(&out);
    let names: Vec<&str> = copy.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "raw/1_c.txt",
            "raw/1_s.txt",
            "raw/2_c.txt",
            "raw/2_s.txt",
            "raw/3_c.txt",
            "raw/3_s.txt"
        ]
    );
    assert!(copy
        .iter()
        .all(|(_, d)| !String::from_utf8_lossy(d).contains("SECRET")));
    assert_eq!(
        copy[1].1,
        b"[traceadal redact: entry removed: raw/1_s.txt: unsupported compression method (Lzma)]\r\n"
    );
    assert!(String::from_utf8_lossy(&copy[3].1).contains("X-Traceadal-Redacted: entry-damaged\r\n"));

    // Both read; the copy names the replaced response where the original named it.
    let errors = |p: &Path| {
        let out = run_in(&["analyze", s(p), "--format", "json"]);
        assert_ne!(out.status.code(), Some(2), "{}", p.display());
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["capture"]["errors"].to_string()
    };
    assert!(errors(&input).contains("raw/1_s.txt"));
    assert!(errors(&out).contains("raw/1_s.txt: first line is not an HTTP status line"));
    let listing = run_in(&["sessions", s(&out), "--format", "json"]);
    assert_eq!(listing.status.code(), Some(0));
    let rows: Vec<Value> = serde_json::from_slice(&listing.stdout).unwrap();
    assert_eq!(rows.len(), 3);
}

/// The binary bodies of a day of Outlook traffic (27 images and fonts in
/// `healthy-workday.saz`) are one line on stderr, naming the first five of the entries the
/// copy marks as replaced and counting the rest, not a line each.
#[test]
fn many_bodies_replaced_for_one_reason_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = crate::common::sample("healthy-workday.saz");
    let out = dir.path().join("copy.saz");
    let r = crate::common::run(&["redact", s(&input), s(&out)]);
    assert_eq!(r.status.code(), Some(0));

    // The entries the copy marks: a placeholder body saying why.
    let why = "binary content is not kept";
    let replaced: Vec<String> = entries(&out)
        .into_iter()
        .filter(|(_, data)| {
            let text = String::from_utf8_lossy(data);
            text.contains("X-Traceadal-Redacted: body-removed")
                && text.ends_with(&format!("{why}]"))
        })
        // Notes name an entry as the archive does (Fiddler pads the number: `raw/010_s.txt`).
        .map(|(name, _)| name)
        .collect();
    assert_eq!(replaced.len(), 27, "{replaced:?}");
    assert!(replaced[0].starts_with("raw/0"), "padded: {replaced:?}");
    assert_eq!(
        String::from_utf8_lossy(&r.stderr),
        format!(
            "traceadal: {}: 27 entries ({} and 22 more): body replaced by a placeholder ({why})\n",
            s(&input),
            replaced[..5].join(", ")
        )
    );
}

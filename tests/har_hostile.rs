//! Hostile HARs (issue 8) through the real binary: each ends with exit 2 and the file named,
//! or with a listing plus a stderr problem naming the file and the entry, within seconds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_traceadal");

/// Generous for a debug build on a loaded 2-core machine; a release build takes a fraction.
const WITHIN: Duration = Duration::from_secs(60);

struct Run {
    code: Option<i32>,
    rows: Vec<Value>,
    stderr: String,
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn sessions(path: &Path, extra: &[&str]) -> Run {
    let start = Instant::now();
    let out = Command::new(BIN)
        .args(["sessions", "--format", "json"])
        .args(extra)
        .arg(path)
        .output()
        .expect("run traceadal");
    let took = start.elapsed();
    assert!(took < WITHIN, "{}: took {took:?}", path.display());
    let rows = if out.status.code() == Some(0) {
        let v: Value = serde_json::from_slice(&out.stdout).expect("json listing");
        v.as_array().expect("array").clone()
    } else {
        assert!(out.stdout.is_empty(), "no listing on failure");
        Vec::new()
    };
    Run {
        code: out.status.code(),
        rows,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn unreadable(path: &Path, why: &str) {
    let r = sessions(path, &[]);
    assert_eq!(r.code, Some(2), "{}: {}", path.display(), r.stderr);
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(r.stderr.contains(&*name), "names the file: {}", r.stderr);
    assert!(r.stderr.contains(why), "{why:?} in {}", r.stderr);
}

/// Exit 0, `rows` sessions listed, and a stderr line naming the file and `session N` with `why`.
fn listed_with_problem(path: &Path, rows: usize, session: u64, why: &str) -> Run {
    let r = sessions(path, &[]);
    assert_eq!(r.code, Some(0), "{}: {}", path.display(), r.stderr);
    assert_eq!(r.rows.len(), rows, "{}", r.stderr);
    let name = path.file_name().unwrap().to_string_lossy();
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains(&format!("session {session}:")) && l.contains(why))
        .unwrap_or_else(|| panic!("no 'session {session}: ...{why}' in {}", r.stderr));
    assert!(line.contains(&*name), "names the file: {line}");
    r
}

fn entry(i: usize) -> String {
    format!(
        r#"{{"startedDateTime":"2024-03-01T10:00:0{}.000+01:00","time":12,
        "request":{{"method":"GET","url":"https://autodiscover.contoso.com/autodiscover/autodiscover.json?n={i}","httpVersion":"HTTP/1.1",
          "headers":[{{"name":"Host","value":"autodiscover.contoso.com"}}]}},
        "response":{{"status":401,"statusText":"Unauthorized","httpVersion":"HTTP/1.1",
          "headers":[{{"name":"WWW-Authenticate","value":"Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\""}}],
          "content":{{"size":5,"mimeType":"text/plain","text":"aGVsbG8=","encoding":"base64"}}}}}}"#,
        i % 10
    )
}

fn har_of(entries: &[String]) -> String {
    format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"t","version":"1"}},"entries":[{}]}}}}"#,
        entries.join(",")
    )
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn empty_object_and_array_are_unreadable() {
    let d = tmp();
    unreadable(&write(d.path(), "empty.har", b"{}"), "no log object");
    unreadable(&write(d.path(), "array.har", b"[]"), "no log object");
    unreadable(
        &write(
            d.path(),
            "nolog.har",
            br#"{"test_response":{"log":{"entries":[]}}}"#,
        ),
        "no log object",
    );
    unreadable(
        &write(d.path(), "noentries.har", br#"{"log":{"version":"1.2"}}"#),
        "no log.entries",
    );
}

#[test]
fn random_bytes_are_unreadable() {
    let d = tmp();
    // xorshift: reproducible noise without a dependency.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut noise = Vec::with_capacity(1 << 20);
    for _ in 0..(1 << 20) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push(x as u8);
    }
    unreadable(&write(d.path(), "noise.har", &noise), "neither a SAZ");
    // Noise that looks like JSON for one byte.
    let mut braced = b"{".to_vec();
    braced.extend_from_slice(&noise);
    unreadable(
        &write(d.path(), "braced.har", &braced),
        "not a readable HAR",
    );
    // Noise behind a gzip header.
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    gz.extend_from_slice(&noise[..4096]);
    unreadable(&write(d.path(), "noise.har.gz", &gz), "not a readable HAR");
}

#[test]
fn nesting_100000_levels_is_a_clean_error() {
    let d = tmp();
    let deep = "[".repeat(100_000);
    unreadable(
        &write(d.path(), "deep.har", deep.as_bytes()),
        "nested deeper",
    );
    let deep_in_log = format!(r#"{{"log":{{"_x":{deep}"#);
    unreadable(
        &write(d.path(), "deep_log.har", deep_in_log.as_bytes()),
        "nested deeper",
    );
    // Deep inside the second entry: the first is still listed.
    let text = format!(
        r#"{{"log":{{"entries":[{},{{"request":{{"headers":{}"#,
        entry(1),
        "{\"a\":".repeat(100_000)
    );
    listed_with_problem(
        &write(d.path(), "deep_entry.har", text.as_bytes()),
        1,
        2,
        "nested deeper",
    );
}

#[test]
fn numbers_where_strings_belong_are_tolerated() {
    let d = tmp();
    let text = har_of(&[
        entry(1),
        r#"{"startedDateTime":12,"time":"x","request":{"method":5,"url":"https://login.microsoftonline.com/common/oauth2/token",
            "headers":[{"name":"Host","value":443},{"name":7,"value":"v"},["x"]]},
            "response":{"status":"200","statusText":404,"headers":[],"content":{"text":12345}}}"#
            .to_string(),
    ]);
    let r = listed_with_problem(
        &write(d.path(), "types.har", text.as_bytes()),
        2,
        2,
        "request.method: expected string, found number",
    );
    assert_eq!(r.rows[1]["method"], "5");
    assert_eq!(r.rows[1]["status"], 200);
    assert_eq!(r.rows[1]["host"], "login.microsoftonline.com");
    assert_eq!(r.rows[1]["response_bytes"], 5);
    for want in [
        "startedDateTime: expected string, found number",
        "request.headers[2]: expected object, found array",
        "response.status: expected number, found string",
    ] {
        assert!(r.stderr.contains(want), "{want} in {}", r.stderr);
    }
}

#[test]
fn a_broken_entry_in_the_middle_is_reported_and_reading_goes_on() {
    let d = tmp();
    let text = har_of(&[
        entry(1),
        "\"not an entry\"".into(),
        r#"{"response":{"status":200}}"#.into(),
        entry(4),
    ]);
    let r = listed_with_problem(
        &write(d.path(), "middle.har", text.as_bytes()),
        2,
        2,
        "entry is not an object",
    );
    assert!(r.stderr.contains("session 3: entry has no request object"));
    let ids: Vec<_> = r.rows.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 4]);
}

#[test]
fn invalid_utf8_names_the_entry_and_offset() {
    let d = tmp();
    let mut bytes = har_of(&[entry(1), entry(2), entry(3)]).into_bytes();
    // Inside the second entry's URL.
    let second = bytes
        .windows(5)
        .enumerate()
        .filter(|(_, w)| w == b"?n=2\"")
        .map(|(i, _)| i)
        .next()
        .unwrap();
    bytes[second + 1] = 0xff;
    // The entry's brackets still balance: it alone is lost, reading goes on.
    let r = listed_with_problem(&write(d.path(), "utf8.har", &bytes), 2, 2, "byte offset");
    assert!(r.stderr.contains("invalid unicode"), "{}", r.stderr);
    let ids: Vec<_> = r.rows.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 3]);
}

#[test]
fn duplicate_keys_last_wins() {
    let d = tmp();
    let text = r#"{"log":{"entries":[],"log":1,"entries":[{"request":{"method":"GET","method":"POST",
        "url":"http://a.example/","url":"https://b.example/x"},"response":{"status":500,"status":204}}]},"log":{"entries":[]}}"#;
    let r = sessions(&write(d.path(), "dup.har", text.as_bytes()), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0]["method"], "POST");
    assert_eq!(r.rows[0]["host"], "b.example");
    assert_eq!(r.rows[0]["status"], 204);
    assert!(
        r.stderr.contains("repeats `log` or `log.entries`"),
        "{}",
        r.stderr
    );
}

#[test]
fn invalid_base64_keeps_the_session() {
    let d = tmp();
    let text = har_of(&[entry(1).replace("aGVsbG8=", "!!not*base64!!")]);
    let r = listed_with_problem(
        &write(d.path(), "b64.har", text.as_bytes()),
        1,
        1,
        "response body: invalid base64",
    );
    assert_eq!(r.rows[0]["status"], 401);
    assert_eq!(r.rows[0]["response_bytes"], 0);
    assert!(
        !r.stderr.contains("not*base64"),
        "no body content in messages"
    );
}

#[test]
fn truncated_mid_entry_lists_what_was_read() {
    let d = tmp();
    let full = har_of(&(1..=5).map(entry).collect::<Vec<_>>());
    // Cut inside the fourth entry.
    let fourth = full.match_indices("\"startedDateTime\"").nth(3).unwrap().0;
    let cut = &full.as_bytes()[..fourth + 100];
    let r = listed_with_problem(&write(d.path(), "cut.har", cut), 3, 4, "capture ends early");
    assert_eq!(r.rows[2]["id"], 3);
    // Cut before the first entry is complete: nothing to list.
    unreadable(
        &write(d.path(), "cut0.har", &full.as_bytes()[..60]),
        "capture ends early",
    );
}

#[test]
fn gzip_and_zlib_compressed_hars_are_read() {
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    let d = tmp();
    let text = har_of(&(1..=20).map(entry).collect::<Vec<_>>());
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(b"\xef\xbb\xbf").unwrap();
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let r = sessions(&write(d.path(), "capture.har.gz", &gz), &[]);
    assert_eq!((r.code, r.rows.len()), (Some(0), 20), "{}", r.stderr);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(text.as_bytes()).unwrap();
    let r = sessions(&write(d.path(), "capture.txt", &z.finish().unwrap()), &[]);
    assert_eq!((r.code, r.rows.len()), (Some(0), 20), "{}", r.stderr);
    // Cut gzip: the entries before the cut, then the error. Stored (uncompressed) deflate
    // blocks, so that half the file is about half the entries.
    let mut stored = GzEncoder::new(Vec::new(), Compression::none());
    stored.write_all(text.as_bytes()).unwrap();
    let stored = stored.finish().unwrap();
    let r = sessions(
        &write(d.path(), "cut.har.gz", &stored[..stored.len() / 2]),
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.rows.is_empty() && r.rows.len() < 20);
    let next = format!("session {}: capture ends early", r.rows.len() + 1);
    assert!(r.stderr.contains(&next), "{}", r.stderr);
}

fn huge_string_har(mib: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(mib * 1024 * 1024 + 4096);
    out.extend_from_slice(br#"{"log":{"entries":["#);
    out.extend_from_slice(entry(1).as_bytes());
    out.extend_from_slice(
        br#",{"request":{"method":"POST","url":"https://login.microsoftonline.com/common/oauth2/token","postData":{"text":""#,
    );
    out.resize(out.len() + mib * 1024 * 1024, b'A');
    out.extend_from_slice(br#""}},"response":{"status":200,"content":{"text":"ok"}}},"#);
    out.extend_from_slice(entry(3).as_bytes());
    out.extend_from_slice(b"]}}");
    out
}

#[test]
fn a_50_mib_string_is_read_within_seconds() {
    let d = tmp();
    let path = write(d.path(), "huge.har", &huge_string_har(50));
    let r = sessions(&path, &[]);
    assert_eq!((r.code, r.rows.len()), (Some(0), 3), "{}", r.stderr);
    assert_eq!(r.rows[1]["request_bytes"], 50 * 1024 * 1024);
    // Under a 1 MiB body cap the string is cut, the session kept and reported.
    let r = sessions(&path, &["--max-body-mib", "1"]);
    assert_eq!((r.code, r.rows.len()), (Some(0), 3), "{}", r.stderr);
    let kept = r.rows[1]["request_bytes"].as_u64().unwrap();
    assert!(kept < 2 * 1024 * 1024, "cut to about the cap: {kept}");
    assert!(
        r.stderr.contains("session 2:") && r.stderr.contains("were cut"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("request body truncated"), "{}", r.stderr);
}

/// A `.har.gz` that inflates a thousand times (100 MiB of whitespace inside an entries
/// list, 100 KiB on disk) is refused as a compression bomb by every command that reads it,
/// the file and the reason named; a normal one past `--max-inflated-mib` too. The ratio cap
/// (reached after 64 MiB, which a debug build lexes slowly) is tested through `sessions`;
/// `analyze` and `redact` meet the absolute cap (`--max-inflated-mib 8`). The ratio's
/// arithmetic is unit-tested in `capture/har/parse.rs`.
#[test]
fn compressed_har_bombs_are_refused_at_the_inflate_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(br#"{"log":{"version":"1.2","creator":{"name":"x"},"entries":["#)
        .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..100 {
        gz.write_all(&spaces).unwrap();
    }
    gz.write_all(b"]}}").unwrap();
    let bytes = gz.finish().unwrap();
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let bomb = write(dir.path(), "bomb.har.gz", &bytes);
    unreadable(&bomb, "inflates more than 100 times its size");
    for cmd in ["analyze", "redact"] {
        let start = Instant::now();
        let mut c = Command::new(BIN);
        c.arg(cmd).args(["--max-inflated-mib", "8"]).arg(&bomb);
        if cmd == "redact" {
            c.arg(dir.path().join("copy.har"));
        }
        let out = c.output().expect("run traceadal");
        assert!(start.elapsed() < WITHIN, "{cmd}: {:?}", start.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(
            stderr.contains("bomb.har.gz") && stderr.contains("compression bomb"),
            "{cmd}: {stderr}"
        );
    }
    assert!(!dir.path().join("copy.har").exists(), "no copy of a bomb");

    // An ordinary compressed HAR past an explicit cap.
    let har =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/adal-500011-json.har"))
            .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&har).unwrap();
    let small = write(dir.path(), "small.har.gz", &gz.finish().unwrap());
    let r = sessions(&small, &["--max-inflated-mib", "0"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("past the cap of 0 MiB (--max-inflated-mib)"),
        "{}",
        r.stderr
    );
    assert_eq!(sessions(&small, &[]).code, Some(0));
}

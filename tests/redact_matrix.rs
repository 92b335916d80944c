//! The redaction matrix (`samplegen::adversarial::matrix`): every secret kind traceadal
//! claims to redact × every encoding a capture carries it in × SAZ and HAR. For every cell the
//! real binary runs `redact`, `analyze` (table, json, markdown, html), `sessions` (table,
//! json, csv, with `--grep`), `show` (text, json) and `convert`, and no output, message or
//! written file may hold any piece of the cell's secret in any encoding (raw, URL-encoded
//! once or twice, JSON- and `\u`-escaped, HTML references, base64 and base64url at every
//! alignment, also URL-encoded or JSON-escaped, UTF-16); the copy's analysis must tell the
//! original's story; and a capture broken at a secret must not echo it in an error.
//!
//! It cannot pass by accident: every piece is first found in the original's layers (zip
//! entries, decoded bodies, HAR base64), and `show --show-secrets` of the cells' sessions
//! must print every piece (so the binary read each cell and would print it unredacted).

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use common::leaks::{layers, named_forms, percent};
use regex::bytes::Regex;
use samplegen::adversarial::matrix::{captures, Cell, MatrixCapture};
use samplegen::adversarial::Format;
use serde_json::Value;

/// Every form of every piece of a capture's cells, as one automaton.
struct Oracle {
    re: Regex,
    /// form bytes -> (cell index, encoding name)
    names: HashMap<Vec<u8>, (usize, &'static str)>,
}

/// The forms of one piece: `named_forms`, and its base64 forms URL-encoded (once, twice) or
/// JSON-escaped (`\/`, `\u002B`), as a secret inside base64 inside a URL or JSON travels.
fn piece_forms(piece: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut v = named_forms(piece);
    let b64: Vec<String> = v
        .iter()
        .filter(|(n, _)| *n == "base64")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    for f in b64 {
        let once = percent(&f, false);
        v.push(("base64+url", once.clone().into_bytes()));
        v.push(("base64+url-lower", once.to_lowercase().into_bytes()));
        v.push(("base64+double-url", once.replace('%', "%25").into_bytes()));
        v.push(("base64+json-slash", f.replace('/', "\\/").into_bytes()));
        v.push((
            "base64+json-u",
            f.replace('+', "\\u002B").replace('/', "\\/").into_bytes(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    v.retain(|(_, b)| seen.insert(b.clone()));
    v
}

impl Oracle {
    fn new(cells: &[Cell]) -> Oracle {
        let mut names = HashMap::new();
        let mut alts = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            for p in &c.pieces {
                for (name, f) in piece_forms(p) {
                    if names.insert(f.clone(), (i, name)).is_none() {
                        let lit: String = f.iter().map(|b| format!("\\x{b:02x}")).collect();
                        alts.push(lit);
                    }
                }
            }
        }
        let re = regex::bytes::RegexBuilder::new(&format!("(?-u:{})", alts.join("|")))
            .size_limit(256 << 20)
            .dfa_size_limit(256 << 20)
            .build()
            .expect("oracle regex");
        Oracle { re, names }
    }

    /// Cells whose pieces are in `hay` (also with blanks removed), with the form found.
    fn find(&self, hay: &[u8]) -> Vec<(usize, &'static str)> {
        let mut out = Vec::new();
        let squeezed: Vec<u8> = hay
            .iter()
            .copied()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .collect();
        for h in [hay, &squeezed[..]] {
            for m in self.re.find_iter(h) {
                if let Some(&hit) = self.names.get(m.as_bytes()) {
                    if !out.contains(&hit) {
                        out.push(hit);
                    }
                }
            }
        }
        out
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// What one capture's run found.
#[derive(Default)]
struct Found {
    /// (cell id, where, form)
    leaks: Vec<(String, String, &'static str)>,
    problems: Vec<String>,
}

impl Found {
    fn search(&mut self, o: &Oracle, cells: &[Cell], place: &str, bytes: &[u8]) {
        for (i, form) in o.find(bytes) {
            self.leaks
                .push((cells[i].id.clone(), place.to_string(), form));
        }
    }
    fn output(&mut self, o: &Oracle, cells: &[Cell], name: &str, out: &Output) {
        self.search(o, cells, &format!("{name} (stdout)"), &out.stdout);
        self.search(o, cells, &format!("{name} (stderr)"), &out.stderr);
    }
    fn file(&mut self, o: &Oracle, cells: &[Cell], name: &str, path: &Path) {
        let bytes = std::fs::read(path).unwrap_or_default();
        if bytes.is_empty() {
            self.problems.push(format!("{name}: nothing written"));
        }
        for l in layers(&bytes) {
            self.search(o, cells, &format!("{name}: {}", l.place), &l.bytes);
        }
    }
}

/// The facts of the story: exit code, verdict, AADSTS codes, missing SPNs, and each
/// finding's id, severity and sessions.
fn story(out: &Output) -> Value {
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let findings: Vec<Value> = r["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f["id"],
                        "severity": f["severity"],
                        "sessions": f["sessions"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let codes: Vec<Value> = r["aadsts"]
        .as_array()
        .map(|a| a.iter().map(|x| x["code"].clone()).collect())
        .unwrap_or_default();
    serde_json::json!({
        "exit": out.status.code(),
        "verdict": r["verdict"]["status"],
        "aadsts": codes,
        "missing_spns": r["missing_spns"],
        "findings": findings,
    })
}

fn run_capture(mc: &MatrixCapture, dir: &Path) -> Found {
    let mut f = Found::default();
    let cells = &mc.cells;
    let o = Oracle::new(cells);
    let ext = mc.format.ext();
    let other = match mc.format {
        Format::Saz => "har",
        Format::Har => "saz",
    };
    let file = dir.join(&mc.name);
    std::fs::write(&file, &mc.bytes).expect("capture written");
    let path = s(&file);

    // The oracle sees every piece of every cell in the original.
    let mut seen = vec![vec![false; 0]; cells.len()];
    for (i, c) in cells.iter().enumerate() {
        seen[i] = vec![false; c.pieces.len()];
    }
    let layers_of = layers(&mc.bytes);
    for (i, c) in cells.iter().enumerate() {
        let forms: Vec<_> = c.pieces.iter().map(|p| piece_forms(p)).collect();
        for (j, fs) in forms.iter().enumerate() {
            seen[i][j] = layers_of.iter().any(|l| {
                fs.iter()
                    .any(|(_, b)| memchr::memmem::find(&l.bytes, b).is_some())
            });
        }
        if seen[i].iter().any(|x| !x) {
            f.problems.push(format!(
                "{}: ORACLE: a piece is not found in the original",
                c.id
            ));
        }
    }

    // Positive control: unredacted, `show` prints every piece of every cell.
    let ids: Vec<String> = cells.iter().map(|c| c.session.to_string()).collect();
    let mut args = vec!["show", path];
    args.extend(ids.iter().map(String::as_str));
    let mut shown = args.clone();
    shown.push("--show-secrets");
    let plain = common::run(&shown);
    if plain.status.code() != Some(0) {
        f.problems.push(format!(
            "show --show-secrets exit {:?}: {}",
            plain.status.code(),
            String::from_utf8_lossy(&plain.stderr)
        ));
    }
    let hits = o.find(&plain.stdout);
    for (i, c) in cells.iter().enumerate() {
        if !hits.iter().any(|(k, _)| *k == i) {
            f.problems.push(format!(
                "{}: ORACLE: show --show-secrets does not print the secret",
                c.id
            ));
        }
    }

    // Every output, redacted.
    for format in ["text", "json"] {
        let mut a = args.clone();
        a.extend(["--format", format]);
        let out = common::run(&a);
        if out.status.code() != Some(0) {
            f.problems.push(format!(
                "show --format {format}: exit {:?}",
                out.status.code()
            ));
        }
        f.output(&o, cells, &format!("show --format {format}"), &out);
    }
    for format in ["table", "json", "markdown"] {
        let out = common::run(&["analyze", path, "--format", format]);
        f.output(&o, cells, &format!("analyze --format {format}"), &out);
    }
    let html = dir.join(format!("{}.html", mc.name));
    let out = common::run(&["analyze", path, "--format", "html", "-o", s(&html)]);
    f.output(&o, cells, "analyze --format html", &out);
    f.search(
        &o,
        cells,
        "analyze --format html (page)",
        &std::fs::read(&html).unwrap_or_default(),
    );
    for format in ["table", "json", "csv"] {
        let out = common::run(&["sessions", path, "--format", format, "--grep", "mxcell"]);
        f.output(
            &o,
            cells,
            &format!("sessions --format {format} --grep"),
            &out,
        );
        // The grep selects every cell (it reads the sessions it would print).
        let text = String::from_utf8_lossy(&out.stdout);
        for c in cells {
            let marker = format!("mxcell{}", &c.id[..3]);
            if !text.contains(&marker) && c.encoding != "double-url-encoded" {
                f.problems.push(format!(
                    "{}: sessions --format {format} --grep does not list it",
                    c.id
                ));
            }
        }
    }
    let converted = dir.join(format!("{}.converted.{other}", mc.name));
    let out = common::run(&["convert", path, s(&converted)]);
    f.output(&o, cells, "convert", &out);
    f.file(&o, cells, &format!("convert (.{other})"), &converted);

    let copy = dir.join(format!("{}.redacted.{ext}", mc.name));
    let out = common::run(&["redact", path, s(&copy)]);
    f.output(&o, cells, "redact", &out);
    if out.status.code() != Some(0) {
        f.problems
            .push(format!("redact exit {:?}", out.status.code()));
        return f;
    }
    f.file(&o, cells, "redacted copy", &copy);
    let a = common::run(&["analyze", path, "--format", "json"]);
    let b = common::run(&["analyze", s(&copy), "--format", "json"]);
    let (sa, sb) = (story(&a), story(&b));
    if sa != sb {
        f.problems
            .push(format!("story changed:\n  original {sa}\n  copy     {sb}"));
    }
    f
}

/// The capture broken at a secret: cut there (HAR: in the middle of a piece; SAZ: in the
/// middle of the archive, inside the entries) and, for a HAR, a quote put inside the piece.
/// No output or message of any command holds any piece.
fn run_broken(mc: &MatrixCapture, dir: &Path, pick: usize) -> Found {
    let mut f = Found::default();
    let cells = &mc.cells;
    let o = Oracle::new(cells);
    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    let cell = &cells[pick % cells.len()];
    let at = memchr::memmem::find(&mc.bytes, cell.pieces[0].as_bytes());
    match (mc.format, at) {
        (Format::Har, Some(at)) => {
            variants.push(("cut", mc.bytes[..at + 6].to_vec()));
            let mut q = mc.bytes.clone();
            q.insert(at + 6, b'"');
            variants.push(("quote", q));
        }
        (Format::Har, None) => {
            // The piece is in base64 or escaped: cut in the middle of its entry's text.
            variants.push(("cut", mc.bytes[..mc.bytes.len() * 9 / 10].to_vec()));
        }
        (Format::Saz, _) => variants.push(("cut", mc.bytes[..mc.bytes.len() * 2 / 3].to_vec())),
    }
    for (how, bytes) in variants {
        let name = format!(
            "{}-{how}.{}",
            mc.name.split('.').next().unwrap_or("x"),
            mc.format.ext()
        );
        let file = dir.join(&name);
        std::fs::write(&file, &bytes).expect("written");
        let path = s(&file);
        let label = |c: &str| format!("broken ({how}): {c}");
        for format in ["table", "json"] {
            let out = common::run(&["analyze", path, "--format", format]);
            f.output(
                &o,
                cells,
                &label(&format!("analyze --format {format}")),
                &out,
            );
        }
        let out = common::run(&["sessions", path, "--format", "json"]);
        f.output(&o, cells, &label("sessions"), &out);
        let out = common::run(&["show", path, &cell.session.to_string()]);
        f.output(&o, cells, &label("show"), &out);
        let copy = dir.join(format!("{name}.redacted.{}", mc.format.ext()));
        let out = common::run(&["redact", path, s(&copy)]);
        f.output(&o, cells, &label("redact"), &out);
        if copy.exists() {
            f.file(&o, cells, &label("redacted copy"), &copy);
        }
        let other = match mc.format {
            Format::Saz => "har",
            Format::Har => "saz",
        };
        let conv = dir.join(format!("{name}.converted.{other}"));
        let out = common::run(&["convert", path, s(&conv)]);
        f.output(&o, cells, &label("convert"), &out);
        if conv.exists() {
            f.file(&o, cells, &label("convert output"), &conv);
        }
    }
    f
}

/// Runs the matrix (`only`: capture names to run, all when empty); the report and whether all
/// held.
fn run_matrix(only: &[&str]) -> (String, bool) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let all = captures();
    assert!(!all.is_empty(), "no matrix captures");
    let chosen: Vec<&MatrixCapture> = all
        .iter()
        .filter(|c| only.is_empty() || only.contains(&c.name.as_str()))
        .collect();
    let mut report = String::new();
    let mut bad = 0;
    let mut cells = 0;
    let results: Vec<(String, Found, usize)> = std::thread::scope(|sc| {
        let handles: Vec<_> = chosen
            .chunks(chosen.len().div_ceil(2).max(1))
            .enumerate()
            .map(|(t, part)| {
                let dir = tmp.path().join(format!("t{t}"));
                sc.spawn(move || {
                    std::fs::create_dir_all(&dir).expect("dir");
                    part.iter()
                        .enumerate()
                        .map(|(i, mc)| {
                            let mut f = run_capture(mc, &dir);
                            let b = run_broken(mc, &dir, i * 7 + t);
                            f.leaks.extend(b.leaks);
                            f.problems.extend(b.problems);
                            (mc.name.clone(), f, mc.cells.len())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("matrix thread"))
            .collect()
    });
    for (name, f, n) in results {
        cells += n;
        if f.leaks.is_empty() && f.problems.is_empty() {
            continue;
        }
        bad += 1;
        report.push_str(&format!("== {name}\n"));
        let mut leaks = f.leaks;
        leaks.sort();
        leaks.dedup();
        for (cell, place, form) in leaks {
            report.push_str(&format!("LEAK {cell}\t{place}\t[{form}]\n"));
        }
        for p in f.problems {
            report.push_str(&format!("FAIL {p}\n"));
        }
    }
    report.push_str(&format!(
        "# {} captures, {cells} cells: {bad} captures with a leak or a failure\n",
        chosen.len()
    ));
    if let Some(p) = std::env::var_os("MATRIX_REPORT") {
        let _ = std::fs::write(p, &report);
    }
    (report, bad == 0)
}

/// The whole matrix (40 captures, 696 cells; two to four minutes on a debug build).
#[test]
fn redaction_matrix() {
    let only = std::env::var("MATRIX_ONLY").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    let (report, ok) = run_matrix(&only);
    assert!(ok, "redaction matrix:\n{report}");
}

//! Benchmarks of the readers and the analysis on generated captures of 1k, 10k and 100k
//! sessions, and of `batch` with 1 and 2 jobs. See `docs/performance.md`.
//!
//! ```text
//! cargo bench --bench pipeline                      # everything (generates ~1 GB in a temp dir)
//! TRACEADAL_BENCH_MAX_SESSIONS=10000 cargo bench --bench pipeline   # skip the 100k captures
//! cargo bench --bench pipeline -- analyze_saz       # one group (divan filter)
//! ```
//! The captures are written once per run, into a temporary folder, before the first sample
//! that needs them; writing them is not measured.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use divan::Bencher;
use samplegen::bulk;
use traceadal::analysis;
use traceadal::batch::{self, BatchOptions};
use traceadal::capture::{Capture, DecodeLimits, Format, ReadOptions};

/// Captures in the queue of the batch benchmark, and sessions in each (`bulk::write_queue`).
const QUEUE: (usize, usize) = (24, 500);

fn main() {
    let available = readers_available();
    if available.is_ok() {
        divan::main();
    }
    // Statics are never dropped: remove the generated captures here.
    let _ = std::fs::remove_dir_all(workdir());
    if let Err(e) = available {
        eprintln!(
            "traceadal bench: FAILED, nothing measured: the capture readers cannot read a generated capture: {e}"
        );
        std::process::exit(1);
    }
}

/// The session counts, up to `TRACEADAL_BENCH_MAX_SESSIONS` (default 100000).
fn sizes() -> Vec<usize> {
    let max = std::env::var("TRACEADAL_BENCH_MAX_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    [1_000, 10_000, 100_000]
        .into_iter()
        .filter(|n| *n <= max)
        .collect()
}

fn workdir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("traceadal-bench-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create the bench folder: {e}"))
    })
    .path()
}

/// The generated capture of `n` sessions in `format`, written on first use.
fn capture(format: Format, n: usize) -> PathBuf {
    static FILES: OnceLock<Mutex<HashMap<(&'static str, usize), PathBuf>>> = OnceLock::new();
    let files = FILES.get_or_init(Default::default);
    let mut files = files.lock().unwrap_or_else(|e| e.into_inner());
    files
        .entry((format.as_str(), n))
        .or_insert_with(|| {
            let path = workdir().join(format!("outlook-{n}.{}", format.as_str()));
            let scenario = bulk::Scenario::broken("contoso.com");
            let written = match format {
                Format::Saz => bulk::write_saz(&path, n, &scenario),
                Format::Har => bulk::write_har(&path, n, &scenario),
                // samplegen writes no NetLog: the benchmarks measure SAZ and HAR.
                Format::NetLog => panic!("no generated NetLog to benchmark"),
            };
            if let Err(e) = written {
                panic!("cannot write {}: {e}", path.display());
            }
            path
        })
        .clone()
}

/// A queue of captures for the batch benchmark, written on first use.
fn queue() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = workdir().join("queue");
        let (count, n) = QUEUE;
        if let Err(e) = bulk::write_queue(&dir, count, n) {
            panic!("cannot write the queue: {e}");
        }
        dir
    })
    .clone()
}

/// Can both readers read a small generated capture? (Not before the readers are merged.)
fn readers_available() -> Result<(), String> {
    for format in [Format::Saz, Format::Har] {
        let path = capture(format, 100);
        let c = Capture::open(&path, &ReadOptions::default()).map_err(|e| e.to_string())?;
        let read = c.map_sessions(|r| r.is_ok()).map_err(|e| e.to_string())?;
        if read.iter().filter(|ok| **ok).count() != 100 {
            return Err(format!(
                "{}: {} of 100 sessions read",
                path.display(),
                read.iter().filter(|ok| **ok).count()
            ));
        }
    }
    Ok(())
}

/// Open and read every session (heads and raw bodies), decoding nothing.
fn read_all(path: &Path) -> usize {
    match Capture::open(path, &ReadOptions::default())
        .and_then(|c| c.map_sessions(|r| r.map_or(0, |s| s.response.map_or(0, |r| r.body.len()))))
    {
        Ok(lens) => lens.into_iter().sum(),
        Err(e) => panic!("{e}"),
    }
}

/// Open, read and decode every response body: the reader's share of bare inflating.
fn decode_all(path: &Path) -> usize {
    let limits = DecodeLimits::default();
    match Capture::open(path, &ReadOptions::default()).and_then(|c| {
        c.map_sessions(|r| {
            r.ok()
                .and_then(|s| s.response)
                .and_then(|r| r.decoded_body(&limits).ok())
                .map_or(0, |b| b.len())
        })
    }) {
        Ok(lens) => lens.into_iter().sum(),
        Err(e) => panic!("{e}"),
    }
}

fn analyze(path: &Path) -> usize {
    match analysis::analyze_path(path, &ReadOptions::default()) {
        Ok(a) => a.findings.len(),
        Err(e) => panic!("{e}"),
    }
}

mod saz {
    use super::*;

    #[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
    fn read(bencher: Bencher, n: usize) {
        let path = capture(Format::Saz, n);
        bencher.bench(|| read_all(&path));
    }

    #[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
    fn read_and_decode(bencher: Bencher, n: usize) {
        let path = capture(Format::Saz, n);
        bencher.bench(|| decode_all(&path));
    }

    #[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
    fn analyze(bencher: Bencher, n: usize) {
        let path = capture(Format::Saz, n);
        bencher.bench(|| super::analyze(&path));
    }
}

mod har {
    use super::*;

    #[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
    fn read(bencher: Bencher, n: usize) {
        let path = capture(Format::Har, n);
        bencher.bench(|| read_all(&path));
    }

    #[divan::bench(args = sizes(), sample_count = 10, sample_size = 1)]
    fn analyze(bencher: Bencher, n: usize) {
        let path = capture(Format::Har, n);
        bencher.bench(|| super::analyze(&path));
    }
}

/// The same queue with 1 and 2 worker threads.
#[divan::bench(args = [1, 2], sample_count = 5, sample_size = 1)]
fn batch_jobs(bencher: Bencher, jobs: usize) {
    let dir = queue();
    bencher.bench(|| {
        let options = BatchOptions {
            jobs: Some(jobs),
            ..BatchOptions::default()
        };
        match batch::run(&dir, &options, &|_| {}, &|| {}) {
            Ok(r) => r.items.len(),
            Err(e) => panic!("{e}"),
        }
    });
}

/// `Redactor::text` over a 100 000-line `sessions` listing (every tenth line carries an
/// authorization code), all ASCII and with non-ASCII text on every line. Its word boundaries
/// are ASCII ones: the two should cost about the same (with Unicode `\b` the second was
/// ~30 times slower).
mod redact {
    use super::Bencher;
    use traceadal::redact::Redactor;

    fn listing(non_ascii: bool) -> String {
        let who = if non_ascii {
            "Jürgen Größe"
        } else {
            "Jurgen Grosse"
        };
        (0..100_000)
            .map(|i| {
                if i % 10 == 0 {
                    format!("{i:>6}  200  GET  login.microsoftonline.com  {who}  https://login.microsoftonline.com/common/oauth2/authorize?code=0.AXoA{i}secret&state=x\n")
                } else {
                    format!("{i:>6}  200  GET  autodiscover.contoso.com  {who}  https://autodiscover.contoso.com/autodiscover/autodiscover.xml?x={i}\n")
                }
            })
            .collect()
    }

    #[divan::bench(args = [false, true], sample_count = 10, sample_size = 1)]
    fn text(bencher: Bencher, non_ascii: bool) {
        let text = listing(non_ascii);
        let r = Redactor::default();
        bencher.bench(|| r.text(&text).len());
    }
}

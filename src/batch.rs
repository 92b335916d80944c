//! A folder of captures in parallel: one result per file, errors isolated per file.
//!
//! [`walk`] finds the captures (recursively, by content, narrowed by globs), [`run`] analyses
//! them on a rayon pool of its own and returns them sorted by path. A file that cannot be
//! read, or whose analysis panics, becomes that file's [`Outcome::Failed`]; the others go on.
//! The renderers for the batch formats (`csv`, the per-tenant SPN union) and the exit-code
//! aggregation live here too, so the command line only wires them up.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::analysis;
use crate::capture::{attachments, detect, formats, har, CaptureErrorKind, Format, ReadOptions};
use crate::report::powershell::{self, FixPlan};
use crate::report::render::{Content, Document};
use crate::report::Report;

/// A file the walk took: its content says SAZ or HAR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The path to open (`DIR` joined with `rel`).
    pub path: PathBuf,
    /// The path relative to the folder walked, with `/` separators.
    pub rel: String,
    pub format: Format,
    /// The file's size in bytes: how [`par_map`] guesses which captures cost most.
    pub size: u64,
    /// The file itself did not pass the globs, but it is a zip: the captures inside it
    /// whose own names pass are taken (a zip of captures), nothing else ([`Walked::zips`]).
    pub inside_only: bool,
}

impl Candidate {
    /// A guess of the work this capture takes, for starting the costliest first: its size,
    /// a SAZ's counted four times over since its entries are compressed (a 10k-session SAZ
    /// took 2.2 times the instructions of the same sessions as HAR from half the bytes).
    fn cost(&self) -> u64 {
        match self.format {
            Format::Saz => self.size.saturating_mul(4),
            _ => self.size,
        }
    }
}

/// What the walk found.
#[derive(Debug, Clone, Default)]
pub struct Walked {
    /// The captures, sorted by path.
    pub captures: Vec<Candidate>,
    /// With globs: the zips (SAZ by content) the globs did not take, sorted by path. A glob
    /// applies to a capture's own name, inside a zip of captures too: `--glob '*.saz'` takes
    /// `tickets.zip!/case-1/x.saz`. Each is [`Candidate::inside_only`].
    pub zips: Vec<Candidate>,
    /// Files that matched the globs but are neither SAZ nor HAR (empty, or other content):
    /// their paths relative to the folder walked, in walk order.
    pub skipped: Vec<String>,
    /// Files or folders the walk could not read: they are reported as failed items.
    pub unreadable: Vec<Item>,
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct Item {
    pub path: PathBuf,
    /// The path relative to the folder walked, with `/` separators.
    pub rel: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Report(Box<Report>),
    /// Why the file could not be analysed (the message does not repeat the path).
    Failed(String),
}

pub use crate::analysis::Status;

impl Item {
    pub fn report(&self) -> Option<&Report> {
        match &self.outcome {
            Outcome::Report(r) => Some(r),
            Outcome::Failed(_) => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Report(_) => None,
            Outcome::Failed(e) => Some(e),
        }
    }

    pub fn status(&self) -> Status {
        match &self.outcome {
            Outcome::Report(r) => r.verdict.exit_code,
            Outcome::Failed(_) => Status::Unreadable,
        }
    }
}

/// How to run a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Worker threads; `None` or 0: all cores.
    pub jobs: Option<usize>,
    /// Glob patterns; a file is taken when one matches its relative path or its name, and a
    /// capture inside a zip of captures when one matches its name in the zip (or its file
    /// name, or `zip!/name`). Empty: every file.
    pub globs: Vec<String>,
    /// Password and limits, the same for every capture.
    pub read: ReadOptions,
}

/// The outcome of a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchResult {
    /// One per capture (and per unreadable file or folder), sorted by path.
    pub items: Vec<Item>,
    /// Files that are neither SAZ nor HAR, relative to the folder walked, sorted.
    pub skipped: Vec<String>,
}

impl BatchResult {
    /// The worst status of any item; `Clean` for an empty batch.
    pub fn status(&self) -> Status {
        aggregate(self.items.iter().map(Item::status))
    }

    pub fn count(&self, status: Status) -> usize {
        self.items.iter().filter(|i| i.status() == status).count()
    }

    /// The reports, in path order.
    pub fn reports(&self) -> impl Iterator<Item = &Report> {
        self.items.iter().filter_map(Item::report)
    }

    /// The fix plans of the whole batch, one per tenant: the remedies of every report's
    /// findings, each SPN once.
    pub fn fix_plans(&self) -> Vec<FixPlan> {
        powershell::plan_of_reports(self.reports())
    }

    /// The summary line: counts per status and the files skipped (all of them named when
    /// `verbose`, else the first [`render::SKIPPED_NAMED`]).
    pub fn summary(&self, verbose: bool) -> String {
        render::summary(&self.documents(), &self.skipped, verbose)
    }

    /// Every item as the renderers see it.
    pub fn documents(&self) -> Vec<Document<'_>> {
        self.items
            .iter()
            .map(|item| Document {
                name: &item.rel,
                // As the report says it: relative to the folder walked.
                path: std::borrow::Cow::Borrowed(&item.rel),
                content: match &item.outcome {
                    Outcome::Report(report) => Content::Analysed {
                        report,
                        analysis: None,
                        details: &[],
                    },
                    Outcome::Failed(e) => Content::Unreadable(e),
                },
            })
            .collect()
    }
}

/// The worst of several statuses (2 wins over 1 wins over 0).
pub fn aggregate(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses.into_iter().max().unwrap_or(Status::Clean)
}

/// A glob filter: matches a relative path, or its file name, against any pattern.
#[derive(Debug, Clone)]
pub struct Filter {
    set: Option<GlobSet>,
}

impl Filter {
    /// Build from patterns; none means "everything".
    pub fn new(patterns: &[String]) -> Result<Filter, String> {
        if patterns.is_empty() {
            return Ok(Filter { set: None });
        }
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            let glob = Glob::new(p).map_err(|e| format!("--glob {p}: {e}"))?;
            b.add(glob);
        }
        let set = b.build().map_err(|e| format!("--glob: {e}"))?;
        Ok(Filter { set: Some(set) })
    }

    /// Does `rel` (relative, `/`-separated) pass?
    pub fn matches(&self, rel: &str) -> bool {
        match &self.set {
            None => true,
            Some(set) => {
                let name = rel.rsplit('/').next().unwrap_or(rel);
                set.is_match(rel) || set.is_match(name)
            }
        }
    }

    /// Does the capture `inner` of the zip at `zip_rel` pass: its path in the zip, its file
    /// name, or `zip_rel!/inner` (as reports name it)?
    pub fn matches_inside(&self, zip_rel: &str, inner: &str) -> bool {
        self.matches(inner) || self.matches(&format!("{zip_rel}!/{inner}"))
    }

    /// Globs given: some files may be left out.
    pub fn narrows(&self) -> bool {
        self.set.is_some()
    }
}

/// `path` relative to `root`, `/`-separated whatever the platform.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Walk `root` recursively and take every file the filter passes whose content says SAZ or
/// HAR ([`sniff`]). Symbolic links to files are followed; links to folders are not (no cycles).
pub fn walk(root: &Path, filter: &Filter) -> Result<Walked, String> {
    let meta = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if !meta.is_dir() {
        return Err(format!("{}: is not a folder", root.display()));
    }
    let mut walked = Walked::default();
    for entry in walkdir::WalkDir::new(root).min_depth(1) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                let rel = relative(root, &path);
                let message = e
                    .io_error()
                    .map_or_else(|| e.to_string(), |io| format!("cannot read: {io}"));
                walked.unreadable.push(Item {
                    path,
                    rel,
                    outcome: Outcome::Failed(message),
                });
                continue;
            }
        };
        let ft = entry.file_type();
        let is_file = ft.is_file()
            || (ft.is_symlink() && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()));
        if !is_file {
            continue;
        }
        let rel = relative(root, entry.path());
        // Followed through a link; a size that cannot be read only changes the order.
        let size = || std::fs::metadata(entry.path()).map_or(0, |m| m.len());
        if !filter.matches(&rel) {
            // Not asked for, unless it is a zip holding captures that are: nothing of it is
            // reported otherwise (not skipped, not unreadable).
            if filter.narrows() && matches!(sniff(entry.path()), Ok(Format::Saz)) {
                walked.zips.push(Candidate {
                    path: entry.path().to_path_buf(),
                    rel,
                    format: Format::Saz,
                    size: size(),
                    inside_only: true,
                });
            }
            continue;
        }
        match sniff(entry.path()) {
            Ok(format) => walked.captures.push(Candidate {
                path: entry.path().to_path_buf(),
                rel,
                format,
                size: size(),
                inside_only: false,
            }),
            Err(CaptureErrorKind::Empty) | Err(CaptureErrorKind::UnknownFormat(_)) => {
                walked.skipped.push(rel);
            }
            Err(kind) => walked.unreadable.push(Item {
                path: entry.path().to_path_buf(),
                rel,
                outcome: Outcome::Failed(kind.to_string()),
            }),
        }
    }
    walked.captures.sort_by(|a, b| a.path.cmp(&b.path));
    walked.zips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(walked)
}

/// How far into a JSON file the HAR root key `"log"` is looked for.
const SNIFF_BYTES: u64 = 4096;

/// The format of the file at `path` by its content, as `capture::detect` says, and for plain
/// JSON only when its first bytes hold HAR's root key `"log"`: a folder of tickets also holds
/// JSON that is not a capture (exported flow lists, notes), which batch skips rather than
/// reporting as unreadable HARs.
pub fn sniff(path: &Path) -> Result<Format, CaptureErrorKind> {
    let head = detect::head_of(path, SNIFF_BYTES)?;
    formats::sniff_strict(&head).map(|spec| spec.format)
}

/// A JSON object whose first bytes name the `"log"` key (the registry's HAR check).
#[cfg(test)]
fn looks_like_har_json(head: &[u8]) -> bool {
    crate::capture::har::looks_like_har_json(head)
}

/// Analyse one capture; every failure, a panic included, becomes `Outcome::Failed`.
pub fn analyse_one(candidate: &Candidate, read: &ReadOptions) -> Item {
    let outcome = outcome(&candidate.rel, || {
        analysis::analyze_path(&candidate.path, read).map_err(|e| e.kind.to_string())
    });
    Item {
        path: candidate.path.clone(),
        rel: candidate.rel.clone(),
        outcome,
    }
}

/// The outcome of one capture's analysis; every failure, a panic included, is
/// `Outcome::Failed`. The report names the capture `rel` as the table and the CSV do:
/// relative to the folder walked, `/`-separated (NDJSON's `capture.path`, the fix scripts).
fn outcome(rel: &str, analyse: impl FnOnce() -> Result<analysis::Analysis, String>) -> Outcome {
    match guarded(|| {
        analyse().map(|mut a| {
            a.path = PathBuf::from(rel);
            Report::new(&a)
        })
    }) {
        Ok(report) => Outcome::Report(Box::new(report)),
        Err(message) => Outcome::Failed(message),
    }
}

/// Analyse one file the walk took: one item, or, for a zip of captures (what tickets attach,
/// issue 21: no Fiddler session but captures inside), one item per capture inside, named
/// `tickets.zip!/case1.saz` (one level only; the zip limits of
/// [`crate::capture::attachments`]). For a zip the globs did not take
/// ([`Candidate::inside_only`]): the captures inside whose names `filter` passes, and
/// nothing when it is not a zip of captures.
pub fn analyse_file(candidate: &Candidate, read: &ReadOptions, filter: &Filter) -> Vec<Item> {
    if candidate.inside_only {
        return match inside(candidate, read) {
            Some(zip) => inner_items(candidate, &zip, read, |inner| {
                filter.matches_inside(&candidate.rel, inner)
            }),
            None => Vec::new(),
        };
    }
    let item = analyse_one(candidate, read);
    let empty_saz =
        candidate.format == Format::Saz && item.report().is_some_and(|r| r.capture.sessions == 0);
    if !empty_saz {
        return vec![item];
    }
    match inside(candidate, read) {
        Some(zip) => inner_items(candidate, &zip, read, |_| true),
        None => vec![item],
    }
}

/// The zip of captures `candidate` is, if it is one.
fn inside(candidate: &Candidate, read: &ReadOptions) -> Option<attachments::Attachments> {
    let name = candidate.path.display().to_string();
    guarded(|| attachments::inspect(&candidate.path, &name, read).map_err(|e| e.to_string()))
        .ok()
        .flatten()
}

/// One item per capture of `zip` (the file `candidate`) whose name `take` passes.
fn inner_items(
    candidate: &Candidate,
    zip: &attachments::Attachments,
    read: &ReadOptions,
    take: impl Fn(&str) -> bool,
) -> Vec<Item> {
    (0..zip.captures.len())
        .filter(|&i| take(&zip.captures[i].name))
        .map(|i| {
            let inner = &zip.captures[i].name;
            let rel = format!("{}!/{inner}", candidate.rel);
            let outcome = outcome(&rel, || {
                let opened = zip.open(i, read)?;
                analysis::analyze(&opened.capture, &read.limits).map_err(|e| e.kind.to_string())
            });
            Item {
                path: PathBuf::from(zip.inner_name(i)),
                rel,
                outcome,
            }
        })
        .collect()
}

/// Run `work`, turning a panic into an error: one file's bug must not end the batch.
pub fn guarded<T>(work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => Err(format!(
            "internal error: the analysis panicked: {}",
            panic_message(payload.as_ref())
        )),
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Run `work` on every candidate on a pool of `jobs` threads (0: all cores), keeping order.
/// `work` may itself use rayon: it runs inside the pool, so nested parallel iterators share
/// the same pool rather than the global one. A panic in `work` is caught per item.
///
/// Every worker takes the next capture from one queue, the costliest first ([`Candidate::cost`]):
/// a large capture that came last in path order would otherwise start last and leave one
/// core working alone at the end (a HAR's lexer is one thread, so the other core cannot
/// take all of it over). A worker with no capture left helps with the nested work of the
/// captures still running. The results come back in the order of `candidates`.
pub fn par_map<T, F>(
    candidates: &[Candidate],
    jobs: usize,
    work: F,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<T>, String>
where
    T: Send,
    F: Fn(&Candidate) -> T + Sync + Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("traceadal-batch-{i}"))
        .build()
        .map_err(|e| format!("cannot start the worker threads: {e}"))?;
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    // Stable: captures of the same cost keep their path order.
    order.sort_by_key(|&i| std::cmp::Reverse(candidates[i].cost()));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = candidates.iter().map(|_| Mutex::new(None)).collect();
    pool.broadcast(|_| {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let out = work(&candidates[i]);
            *slots[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
            progress();
        }
    });
    // Every capture was taken from the queue once, so every slot is filled.
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .ok_or_else(|| "internal error: a capture was left out of the queue".to_string())
        })
        .collect()
}

/// Walk `root` and analyse every capture found. `on_found` is told how many there are before
/// the work starts, `progress` is called once per capture done (from any worker thread).
pub fn run(
    root: &Path,
    options: &BatchOptions,
    on_found: &dyn Fn(usize),
    progress: &(dyn Fn() + Sync),
) -> Result<BatchResult, String> {
    let filter = Filter::new(&options.globs)?;
    let walked = walk(root, &filter)?;
    let mut files = walked.captures;
    files.extend(walked.zips);
    on_found(files.len());
    // Every worker has a capture of its own: a HAR is lexed on its worker, not on a thread
    // of its own, so that `--jobs N` keeps N threads busy.
    let mut items: Vec<Item> = par_map(
        &files,
        options.jobs.unwrap_or(0),
        |c| har::lex_on_this_thread(|| analyse_file(c, &options.read, &filter)),
        progress,
    )?
    .into_iter()
    .flatten()
    .collect();
    items.extend(walked.unreadable);
    items.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(BatchResult {
        items,
        skipped: {
            let mut skipped = walked.skipped;
            skipped.sort();
            skipped
        },
    })
}

pub mod render;
#[cfg(test)]
mod tests;

//! `traceadal batch`: a folder of captures in parallel (see `crate::batch`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::{files, output, report_error, BatchArgs, BatchFormat, Status};
use crate::batch::render::{BatchTable, Csv};
use crate::batch::{self, BatchOptions, BatchResult};
use crate::redact::Redactor;
use crate::report::json::Ndjson;
use crate::report::powershell::{self, Powershell};
use crate::report::render::Render;

pub fn run(args: &BatchArgs) -> Status {
    // The password options apply to every capture; batch never asks on a terminal.
    let read = match args.read.options(false) {
        Ok(r) => r,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let script_dir = args.fix_script.as_deref().filter(|p| is_folder(p));
    let script_file = args.fix_script.as_deref().filter(|_| script_dir.is_none());
    for out in args.output.iter().map(PathBuf::as_path).chain(script_file) {
        if let Err(e) = files::check_output(out) {
            report_error(e);
            return Status::Unreadable;
        }
    }
    if let Some(dir) = script_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            report_error(format!("{}: cannot create the folder: {e}", dir.display()));
            return Status::Unreadable;
        }
    }
    let options = BatchOptions {
        jobs: args.jobs.map(usize::from),
        globs: args.globs.clone(),
        read,
    };

    // A progress bar on a terminal only: nothing of it in a pipe or a CI log.
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    // A panic in one capture's analysis is caught and reported as that file's error (through
    // the redaction layer); the default hook would print it raw on stderr meanwhile.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = batch::run(&args.dir, &options, &|n| bar.set_length(n as u64), &|| {
        bar.inc(1)
    });
    std::panic::set_hook(previous_hook);
    bar.finish_and_clear();

    let result = match result {
        Ok(r) => r,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    // No output may be one of the captures found: nothing is written then.
    for out in args.output.iter().map(PathBuf::as_path).chain(script_file) {
        if let Err(e) = files::check_not_input(out, result.items.iter().map(|i| &i.path)) {
            report_error(e);
            return Status::Unreadable;
        }
    }
    for item in &result.items {
        if let Some(e) = item.error() {
            report_error(format!("{}: {e}", item.path.display()));
        }
    }

    let redactor = output::redactor(args.show_secrets);
    let mut exit = result.status();

    let width = if args.output.is_none() {
        output::width()
    } else {
        None
    };
    let renderer: Box<dyn Render> = match args.format {
        BatchFormat::Table => Box::new(BatchTable {
            width,
            skipped: result.skipped.clone(),
            verbose: args.verbose,
            redactor: redactor.clone(),
        }),
        BatchFormat::Ndjson => Box::new(Ndjson),
        BatchFormat::Csv => Box::new(Csv),
    };
    let docs = result.documents();
    let written = output::emit(args.output.as_deref(), &redactor, |out| {
        renderer.render(out, &docs)
    });
    if let Err(e) = written {
        report_error(e);
        exit = Status::Unreadable;
    }
    if args.format != BatchFormat::Table {
        // Keep the machine formats clean: the summary goes to stderr.
        report_error(result.summary(args.verbose));
    }

    if let Some(path) = script_file {
        let written = output::emit(Some(path), &redactor, |out| Powershell.render(out, &docs));
        if let Err(e) = written {
            report_error(e);
            exit = Status::Unreadable;
        }
    }
    if let Some(dir) = script_dir {
        if let Err(e) = write_scripts(dir, &result, &redactor) {
            report_error(e);
            exit = Status::Unreadable;
        }
    }
    exit
}

/// `--fix-script` names a folder: one that exists, or a path ending in `/` (or `\\` on
/// Windows), which is created.
fn is_folder(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) || path.is_dir()
}

/// One script per tenant into `dir`, each named for its tenant
/// (`powershell::file_name`, through the redaction layer: a `--redact-term` hides a domain
/// in a file name too); what was written is said on stderr.
fn write_scripts(dir: &Path, result: &BatchResult, redactor: &Redactor) -> Result<(), String> {
    let plans = result.fix_plans();
    if plans.is_empty() {
        report_error(format!(
            "{}: no fix script written: nothing to fix with PowerShell in these captures",
            dir.display()
        ));
        return Ok(());
    }
    let mut names: Vec<String> = Vec::new();
    for plan in &plans {
        let name = unique_name(&redacted_name(plan, redactor), &names);
        let path = dir.join(&name);
        files::check_output(&path)?;
        files::check_not_input(&path, result.items.iter().map(|i| &i.path))?;
        output::emit(Some(&path), redactor, |out| {
            out.write_all(powershell::script(plan).as_bytes())
        })?;
        names.push(name);
    }
    report_error(format!(
        "{} fix script(s), one per tenant, in {}: {}",
        names.len(),
        dir.display(),
        names.join(", ")
    ));
    Ok(())
}

/// The plan's file name with what the redaction layer hides replaced, kept to `[a-z0-9.-]`.
fn redacted_name(plan: &powershell::FixPlan, redactor: &Redactor) -> String {
    let name = powershell::file_name(plan);
    match redactor.text(&name) {
        std::borrow::Cow::Borrowed(_) => name,
        std::borrow::Cow::Owned(hidden) => {
            let stem: String = hidden
                .trim_end_matches(".ps1")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("{}.ps1", stem.trim_matches('-'))
        }
    }
}

/// `name`, or `name` with `-2`, `-3`... before `.ps1` when a script of this run has it.
fn unique_name(name: &str, taken: &[String]) -> String {
    let stem = name.trim_end_matches(".ps1");
    (1..)
        .map(|n| {
            if n == 1 {
                name.to_string()
            } else {
                format!("{stem}-{n}.ps1")
            }
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| name.to_string())
}

//! `traceadal batch`: a folder of captures in parallel (see `crate::batch`).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::{files, output, report_error, BatchArgs, BatchFormat, Status};
use crate::batch::render::{BatchTable, Csv};
use crate::batch::{self, BatchOptions};
use crate::report::json::Ndjson;
use crate::report::powershell::Powershell;
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
    for out in args.output.iter().chain(&args.fix_script) {
        if let Err(e) = files::check_output(out) {
            report_error(e);
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
    for out in args.output.iter().chain(&args.fix_script) {
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
            skipped: result.skipped,
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
        report_error(result.summary());
    }

    if let Some(path) = &args.fix_script {
        let written = output::emit(Some(path), &redactor, |out| Powershell.render(out, &docs));
        if let Err(e) = written {
            report_error(e);
            exit = Status::Unreadable;
        }
    }
    exit
}

//! `traceadal batch`: a folder of captures in parallel (see `crate::batch`).

use std::io::{IsTerminal, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};

use super::{output, report_error, BatchArgs, BatchFormat, Status};
use crate::batch::{self, BatchOptions, BatchResult};
use crate::redact::Redactor;
use crate::report::{self, powershell};

pub fn run(args: &BatchArgs) -> Status {
    // The password options apply to every capture; batch never asks on a terminal.
    let read = match args.read.options(false) {
        Ok(r) => r,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
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
    for item in &result.items {
        if let Some(e) = item.error() {
            report_error(format!("{}: {e}", item.path.display()));
        }
    }

    let redactor = Redactor::new(args.show_secrets);
    let mut exit = result.status();

    let width = if args.output.is_none() {
        output::terminal_width().and_then(|w| u16::try_from(w).ok())
    } else {
        None
    };
    let written = output::emit(args.output.as_deref(), redactor, |out| {
        render(out, args.format, &result, width)
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
        let script = powershell::script(&result.fix_plan());
        let written = output::emit(Some(path), redactor, |out| {
            if script.is_empty() {
                writeln!(
                    out,
                    "# traceadal: nothing to fix with PowerShell in these captures."
                )
            } else {
                write!(out, "{script}")
            }
        });
        if let Err(e) = written {
            report_error(e);
            exit = Status::Unreadable;
        }
    }
    exit
}

fn render(
    out: &mut dyn Write,
    format: BatchFormat,
    result: &BatchResult,
    width: Option<u16>,
) -> std::io::Result<()> {
    match format {
        BatchFormat::Table => table(out, result, width),
        BatchFormat::Ndjson => result
            .items
            .iter()
            .try_for_each(|item| match item.report() {
                Some(r) => report::json::write_line(out, r),
                None => {
                    serde_json::to_writer(&mut *out, &batch::error_line(item))?;
                    writeln!(out)
                }
            }),
        BatchFormat::Csv => out.write_all(batch::csv(result).as_bytes()),
    }
}

fn new_table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    // Not a terminal: a fixed, paste-friendly width.
    t.set_width(width.unwrap_or(120));
    t
}

fn table(out: &mut dyn Write, result: &BatchResult, width: Option<u16>) -> std::io::Result<()> {
    let mut t = new_table(width);
    t.set_header(vec![
        "Capture",
        "Sessions",
        "Verdict",
        "AADSTS",
        "Missing SPNs",
        "Error",
    ]);
    for item in &result.items {
        let error = batch::error_text(item);
        match item.report() {
            Some(r) => t.add_row(vec![
                item.rel.clone(),
                r.capture.sessions.to_string(),
                r.verdict.status.to_string(),
                batch::aadsts_codes(r)
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                r.missing_spns.join("\n"),
                error,
            ]),
            None => t.add_row(vec![
                item.rel.clone(),
                String::new(),
                "unreadable".to_string(),
                String::new(),
                String::new(),
                error,
            ]),
        };
    }
    if result.items.is_empty() {
        writeln!(out, "No SAZ or HAR capture found.")?;
    } else {
        writeln!(out, "{t}")?;
    }

    let per_tenant = batch::spns_per_tenant(result);
    if !per_tenant.is_empty() {
        writeln!(out, "\nMissing SPNs per tenant (all captures)")?;
        let mut t = new_table(width);
        t.set_header(vec!["Tenant", "Missing SPNs"]);
        for (tenant, spns) in per_tenant {
            t.add_row(vec![tenant, spns.join("\n")]);
        }
        writeln!(out, "{t}")?;
    }
    writeln!(out, "\n{}", result.summary())
}

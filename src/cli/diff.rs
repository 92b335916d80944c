//! `traceadal diff BEFORE AFTER`: both captures through the whole pipeline, then the diff of
//! their reports (`report::diff`) in one format.

use super::{files, open_capture, output, report_error, DiffArgs, DiffFormat, Status};
use crate::analysis::{self, Analysis};
use crate::report::diff::{render, Diff, Side};
use crate::report::Report;

pub fn run(args: &DiffArgs) -> Status {
    let redactor = output::redactor(args.show_secrets);
    let inputs = [args.before.clone(), args.after.clone()];
    if let Some(out) = &args.output {
        let checked = files::check_output(out).and_then(|_| files::check_not_input(out, &inputs));
        if let Err(e) = checked {
            report_error(e);
            return Status::Unreadable;
        }
    }
    let mut read: Vec<(Analysis, Report)> = Vec::new();
    let mut failed = false;
    for (name, path) in [("BEFORE", &args.before), ("AFTER", &args.after)] {
        let result = open_capture(path, &args.read).and_then(|capture| {
            analysis::analyze(&capture, &args.read.limits()).map_err(|e| e.to_string())
        });
        match result {
            Ok(a) => {
                if !a.errors.is_empty() {
                    report_error(format!(
                        "{name} {}: {} problem(s) reading sessions",
                        path.display(),
                        a.errors.len()
                    ));
                }
                let r = Report::new(&a);
                read.push((a, r));
            }
            Err(e) => {
                report_error(format!("{name}: {e}"));
                failed = true;
            }
        }
    }
    if failed {
        return Status::Unreadable;
    }
    let side = |i: usize| Side {
        analysis: &read[i].0,
        report: &read[i].1,
    };
    let diff = Diff::new(side(0), side(1));
    // As `analyze`: a file (-o) gets the fixed width; stdout is fitted to COLUMNS or the
    // terminal.
    let width = args.output.as_ref().map_or_else(output::width, |_| None);
    let written = output::emit(args.output.as_deref(), &redactor, |out| match args.format {
        DiffFormat::Table => render::table_text(out, &diff, width, &redactor),
        DiffFormat::Markdown => render::markdown(out, &diff),
        DiffFormat::Json => render::json(out, &diff),
    });
    if let Err(e) = written {
        report_error(e);
        return Status::Unreadable;
    }
    diff.verdict.exit_code
}

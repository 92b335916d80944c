//! `traceadal analyze`: one or more captures through the whole pipeline.

use std::io::Write;

use super::{open_capture, output, report_error, AnalyzeArgs, Exit, ReportFormat};
use crate::analysis;
use crate::redact::Redactor;
use crate::report::{self, powershell, Report};

pub fn run(args: &AnalyzeArgs) -> Exit {
    let mut exit = Exit::Clean;
    let mut reports = Vec::new();
    for path in &args.captures {
        let analysed = open_capture(path, &args.read).and_then(|capture| {
            analysis::analyze(&capture, &args.read.limits()).map_err(|e| e.to_string())
        });
        match analysed {
            Ok(a) => {
                // The problems themselves are in the report (`capture.errors`); stderr only
                // says that there are some, for a script watching it.
                if !a.errors.is_empty() {
                    report_error(format!(
                        "{}: {} problem(s) reading sessions, listed in the report",
                        path.display(),
                        a.errors.len()
                    ));
                }
                let r = Report::new(&a);
                if r.verdict.exit_code == 1 {
                    exit = exit.max(Exit::Findings);
                }
                reports.push(r);
            }
            Err(e) => {
                report_error(e);
                exit = Exit::Unreadable;
            }
        }
    }
    let width = output::terminal_width().and_then(|w| u16::try_from(w).ok());
    let written = output::emit(
        args.output.as_deref(),
        Redactor::new(args.show_secrets),
        |out| render(out, args.format, &reports, width),
    );
    if let Err(e) = written {
        report_error(e);
        return Exit::Unreadable;
    }
    exit
}

fn render(
    out: &mut dyn Write,
    format: ReportFormat,
    reports: &[Report],
    width: Option<u16>,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Json if reports.len() == 1 => report::json::write(out, &reports[0]),
        ReportFormat::Json => reports
            .iter()
            .try_for_each(|r| report::json::write_line(out, r)),
        ReportFormat::Table => reports.iter().enumerate().try_for_each(|(i, r)| {
            if i > 0 {
                writeln!(out, "\n{}\n", "=".repeat(72))?;
            }
            report::table::write(out, r, width)
        }),
        ReportFormat::Markdown => reports.iter().enumerate().try_for_each(|(i, r)| {
            if i > 0 {
                writeln!(out, "\n---\n")?;
            }
            report::markdown::write(out, r)
        }),
        ReportFormat::Powershell => {
            let details: Vec<_> = reports.iter().flat_map(|r| r.spn_details.clone()).collect();
            let sources: Vec<String> = reports
                .iter()
                .filter(|r| !r.spn_details.is_empty())
                .map(|r| r.capture.path.clone())
                .collect();
            let script = powershell::script(&powershell::plan_from_details(&details, &sources));
            if script.is_empty() {
                writeln!(
                    out,
                    "# traceadal: nothing to fix with PowerShell in these captures."
                )
            } else {
                write!(out, "{script}")
            }
        }
    }
}

//! `traceadal analyze`: one or more captures through the whole pipeline.

use std::io::Write;

use super::{open_capture, output, report_error, AnalyzeArgs, ReportFormat, Status};
use crate::analysis;
use crate::redact::Redactor;
use crate::report::html::{self, SessionDetail};
use crate::report::{self, powershell, Report};

pub fn run(args: &AnalyzeArgs) -> Status {
    let mut exit = Status::Clean;
    let mut reports = Vec::new();
    // For `--format html` only: the analyses and the detail of the sessions the page cites.
    let mut pages: Vec<(analysis::Analysis, Vec<SessionDetail>)> = Vec::new();
    let html = args.format == ReportFormat::Html;
    for path in &args.captures {
        let analysed = open_capture(path, &args.read).and_then(|capture| {
            let a = analysis::analyze(&capture, &args.read.limits()).map_err(|e| e.to_string())?;
            let r = Report::new(&a);
            let details = if html {
                // The one extra read: headers and bodies of the cited sessions only.
                html::gather(&capture, &html::wanted_sessions(&r, &a)).unwrap_or_else(|e| {
                    report_error(format!("{e} (the page shows no session details)"));
                    Vec::new()
                })
            } else {
                Vec::new()
            };
            Ok((a, r, details))
        });
        match analysed {
            Ok((a, r, details)) => {
                // The problems themselves are in the report (`capture.errors`); stderr only
                // says that there are some, for a script watching it.
                if !a.errors.is_empty() {
                    report_error(format!(
                        "{}: {} problem(s) reading sessions, listed in the report",
                        path.display(),
                        a.errors.len()
                    ));
                }
                exit = exit.max(r.verdict.exit_code);
                reports.push(r);
                if html {
                    pages.push((a, details));
                }
            }
            Err(e) => {
                report_error(e);
                exit = Status::Unreadable;
            }
        }
    }
    let width = output::terminal_width().and_then(|w| u16::try_from(w).ok());
    if html && pages.is_empty() {
        // No capture could be read: no page (the errors are on stderr).
        return exit;
    }
    let redactor = Redactor::new(args.show_secrets);
    let written = output::emit(args.output.as_deref(), redactor, |out| {
        if html {
            let inputs: Vec<html::HtmlInput> = reports
                .iter()
                .zip(&pages)
                .map(|(report, (analysis, details))| html::HtmlInput {
                    report,
                    analysis,
                    details,
                })
                .collect();
            html::write(out, &inputs, redactor)
        } else {
            render(out, args.format, &reports, width)
        }
    });
    if let Err(e) = written {
        report_error(e);
        return Status::Unreadable;
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
        // Written by `run`, which holds the analyses the page needs.
        ReportFormat::Html => Ok(()),
        ReportFormat::Powershell => {
            let script = powershell::script(&powershell::plan_of_reports(reports));
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

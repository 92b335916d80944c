//! `traceadal analyze`: one or more captures through the whole pipeline, then one renderer.

use super::{files, open_any, output, report_error, AnalyzeArgs, Opened, ReportFormat, Status};
use crate::analysis::{self, Analysis};
use crate::capture::{detail, SessionDetail};
use crate::redact::Redactor;
use crate::report::html::Html;
use crate::report::json::Json;
use crate::report::markdown::Markdown;
use crate::report::powershell::Powershell;
use crate::report::render::{Content, Document, Render};
use crate::report::table::TableReport;
use crate::report::Report;

/// One capture read and analysed, with the session details the renderer asked for.
struct Analysed {
    analysis: Analysis,
    report: Report,
    details: Vec<SessionDetail>,
}

pub fn run(args: &AnalyzeArgs) -> Status {
    let redactor = output::redactor(args.show_secrets);
    // A file (-o) gets the fixed width and no colour; stdout is fitted to COLUMNS or the
    // terminal.
    let width = args.output.as_ref().map_or_else(output::width, |_| None);
    let color = args.output.is_none() && output::color();
    let renderer: Box<dyn Render> = match args.format {
        ReportFormat::Table => Box::new(TableReport {
            width,
            color,
            redactor: redactor.clone(),
        }),
        ReportFormat::Json => Box::new(Json),
        ReportFormat::Markdown => Box::new(Markdown),
        ReportFormat::Html => Box::new(Html {
            redactor: redactor.clone(),
        }),
        ReportFormat::Powershell => Box::new(Powershell),
    };
    // Before anything is read: the output is a regular file (or a stream such as
    // /dev/stdout) and none of the captures.
    if let Some(out) = &args.output {
        let checked =
            files::check_output(out).and_then(|_| files::check_not_input(out, &args.captures));
        if let Err(e) = checked {
            report_error(e);
            return Status::Unreadable;
        }
    }
    let mut exit = Status::Clean;
    let mut analysed: Vec<Analysed> = Vec::new();
    // A zip of captures (what tickets attach) is one report per capture inside, named
    // `tickets.zip!/case1.saz`, as if each had been given.
    let mut analyse = |capture: &crate::capture::Capture| {
        let result = analyse_one(capture, args, renderer.as_ref(), &redactor);
        match result {
            Ok(a) => {
                // The problems themselves are in the report (`capture.errors`); stderr only
                // says that there are some, for a script watching it.
                if !a.analysis.errors.is_empty() {
                    report_error(format!(
                        "{}: {} problem(s) reading sessions, listed in the report",
                        capture.path().display(),
                        a.analysis.errors.len()
                    ));
                }
                exit = exit.max(a.report.verdict.exit_code);
                analysed.push(a);
            }
            Err(e) => {
                report_error(e);
                exit = Status::Unreadable;
            }
        }
    };
    let mut failed = false;
    for path in &args.captures {
        match open_any(path, &args.read) {
            Ok(Opened::One(capture, _)) => analyse(&capture),
            Ok(Opened::Zip(zip, options)) => {
                for i in 0..zip.captures.len() {
                    match zip.open(i, &options) {
                        Ok(inner) => analyse(&inner.capture),
                        Err(e) => {
                            report_error(format!("{}: {e}", zip.inner_name(i)));
                            failed = true;
                        }
                    }
                }
            }
            Err(e) => {
                report_error(e);
                failed = true;
            }
        }
    }
    if failed {
        exit = Status::Unreadable;
    }
    if renderer.needs_details() && analysed.is_empty() {
        // No capture could be read: no page (the errors are on stderr).
        return exit;
    }
    let docs: Vec<Document> = analysed
        .iter()
        .map(|a| Document {
            name: &a.report.capture.path,
            path: a.report.capture.path.as_str().into(),
            content: Content::Analysed {
                report: &a.report,
                analysis: Some(&a.analysis),
                details: &a.details,
            },
        })
        .collect();
    let written = output::emit(args.output.as_deref(), &redactor, |out| {
        renderer.render(out, &docs)
    });
    if let Err(e) = written {
        report_error(e);
        return Status::Unreadable;
    }
    exit
}

/// One capture through the pipeline, with the session details the renderer asks for.
fn analyse_one(
    capture: &crate::capture::Capture,
    args: &AnalyzeArgs,
    renderer: &dyn Render,
    redactor: &Redactor,
) -> Result<Analysed, String> {
    let collected = analysis::collect(capture, &args.read.limits()).map_err(|e| e.to_string())?;
    // The report is redacted last, on one core: its finders compile on a thread of their
    // own while the rules run. `finish` stays on this thread, where the collector's lists
    // were grown: finished on a pool thread, their final copies went to another arena and
    // left the old ones' pages behind (+8-11 MiB peak RSS on the 100k HAR).
    let analysis = std::thread::scope(|scope| {
        scope.spawn(|| redactor.warm());
        collected.finish(capture.path(), capture.format())
    });
    let details = if renderer.needs_details() {
        // The one extra read: headers and bodies of the cited sessions only.
        // Excerpts cut where no secret is left half shown.
        let wanted = renderer.detail_sessions(&analysis);
        detail::gather(capture, &wanted, crate::redact::cut::prefix).unwrap_or_else(|e| {
            report_error(format!("{e} (the page shows no session details)"));
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let report = Report::new(&analysis);
    Ok(Analysed {
        analysis,
        report,
        details,
    })
}

//! `traceadal explain AADSTS500011` / `traceadal explain 0xCAA70004`: the catalog entry, for
//! the analyst who has only the code.

use std::io::Write;

use super::{output, report_error, ExplainArgs, Status};
use crate::auth::aadsts::{self, CodeInfo, Nature};
use crate::auth::wam::{self, WamCode};

pub fn run(args: &ExplainArgs) -> Status {
    let (codes, wam_codes): (Vec<&CodeInfo>, Vec<&WamCode>) = if args
        .code
        .eq_ignore_ascii_case("all")
    {
        (aadsts::sorted(), wam::CATALOG.iter().collect())
    } else if let Some(code) = aadsts::parse_code(&args.code) {
        match aadsts::lookup(code) {
            Some(info) => (vec![info], Vec::new()),
            None => {
                report_error(format!(
                        "AADSTS{code} is not in traceadal's catalog; see https://login.microsoftonline.com/error?code={code}"
                    ));
                return Status::Findings;
            }
        }
    } else if let Some(code) = wam::parse_code(&args.code) {
        match wam::lookup(code) {
            Some(info) => (Vec::new(), vec![info]),
            None => {
                report_error(format!(
                        "{code:#010X} is not in traceadal's catalog of Windows broker (WAM) codes; see \"WebProviderError.ErrorCode\" in the Windows API reference"
                    ));
                return Status::Findings;
            }
        }
    } else {
        report_error(format!(
                "'{}' is not an AADSTS code (try AADSTS500011 or 500011) nor a Windows broker (WAM) code (try 0xCAA70004)",
                args.code
            ));
        return Status::Unreadable;
    };
    let written = output::emit(None, &output::redactor(false), |out| {
        let mut first = true;
        for e in &codes {
            separate(out, &mut first)?;
            writeln!(out, "AADSTS{} {}", e.code, e.name)?;
            writeln!(out, "  Meaning: {}", e.summary)?;
            writeln!(out, "  Nature:  {}", nature(e.nature))?;
            writeln!(out, "  Advice:  {}", e.advice)?;
        }
        for e in &wam_codes {
            separate(out, &mut first)?;
            writeln!(out, "{:#010X} {} (Windows broker, WAM)", e.code, e.name)?;
            writeln!(out, "  Meaning: {}", e.summary)?;
            writeln!(out, "  Nature:  {}", nature(e.nature))?;
            writeln!(out, "  Capture: {}", e.capture)?;
            writeln!(out, "  Advice:  {}", e.advice)?;
        }
        Ok(())
    });
    match written {
        Ok(()) => Status::Clean,
        Err(e) => {
            report_error(e);
            Status::Unreadable
        }
    }
}

/// A blank line between entries.
fn separate(out: &mut dyn Write, first: &mut bool) -> std::io::Result<()> {
    if !std::mem::take(first) {
        writeln!(out)?;
    }
    Ok(())
}

fn nature(n: Nature) -> &'static str {
    match n {
        Nature::Error => "error: needs a fix",
        Nature::Warning => "warning: depends on context",
        Nature::Normal => "normal: part of a working sign-in",
    }
}

//! `traceadal explain AADSTS500011`: the catalog entry, for the analyst who has only the code.

use super::{output, report_error, ExplainArgs, Status};
use crate::auth::aadsts::{self, CodeInfo};

pub fn run(args: &ExplainArgs) -> Status {
    let entries: Vec<&CodeInfo> = if args.code.eq_ignore_ascii_case("all") {
        aadsts::CATALOG.iter().collect()
    } else {
        match aadsts::parse_code(&args.code) {
            Some(code) => match aadsts::lookup(code) {
                Some(info) => vec![info],
                None => {
                    report_error(format!(
                        "AADSTS{code} is not in traceadal's catalog; see https://login.microsoftonline.com/error?code={code}"
                    ));
                    return Status::Findings;
                }
            },
            None => {
                report_error(format!(
                    "'{}' is not an AADSTS code (try AADSTS500011 or 500011)",
                    args.code
                ));
                return Status::Unreadable;
            }
        }
    };
    let written = output::emit(None, &output::redactor(false), |out| {
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "AADSTS{} {}", e.code, e.name)?;
            writeln!(out, "  Meaning: {}", e.summary)?;
            writeln!(out, "  Nature:  {}", nature(e))?;
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

fn nature(e: &CodeInfo) -> &'static str {
    match e.nature {
        aadsts::Nature::Error => "error: needs a fix",
        aadsts::Nature::Warning => "warning: depends on context",
        aadsts::Nature::Normal => "normal: part of a working sign-in",
    }
}

//! `--format json`: the `traceadal.report/1` document.

use std::io::{self, Write};

use super::Report;

/// Pretty JSON for one report.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// One report on one line (several captures, batch `ndjson`).
pub fn write_line(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer(&mut *out, report)?;
    writeln!(out)
}

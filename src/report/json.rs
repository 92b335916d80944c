//! `--format json`: the `traceadal.report/1` document; `batch --format ndjson`: one per line.

use std::io::{self, Write};

use serde::Serialize;

use super::render::{Content, Document, Render};
use super::{Report, SCHEMA};

/// `analyze --format json`: one capture as an indented document, several one per line.
pub struct Json;

/// `batch --format ndjson`: one line per capture, an [`ErrorLine`] for one that could not
/// be read.
pub struct Ndjson;

impl Render for Json {
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        match docs {
            [one] => match one.report() {
                Some(r) => write(out, r),
                None => write_line(out, &error_line(one)),
            },
            _ => Ndjson.render(out, docs),
        }
    }
}

impl Render for Ndjson {
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        docs.iter().try_for_each(|d| match &d.content {
            Content::Analysed { report, .. } => write_line(out, report),
            Content::Unreadable(_) => write_line(out, &error_line(d)),
        })
    }
}

/// Pretty JSON for one report.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// One value on one line.
pub fn write_line<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// The line of a capture that could not be read: the report schema's `capture.path` and an
/// `error`, nothing else, in that order.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorLine {
    pub schema: &'static str,
    pub capture: ErrorCapture,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorCapture {
    pub path: String,
}

pub fn error_line(doc: &Document) -> ErrorLine {
    ErrorLine {
        schema: SCHEMA,
        capture: ErrorCapture {
            path: doc.path.to_string(),
        },
        error: match doc.content {
            Content::Unreadable(e) => e.to_string(),
            Content::Analysed { .. } => String::new(),
        },
    }
}

//! The one renderer interface: every output format (`analyze`'s table, markdown, JSON, HTML
//! and PowerShell; `batch`'s table, NDJSON and CSV) is a [`Render`] over the same
//! [`Document`]s, and says whether it needs session details, which the orchestrator then
//! gathers from the capture (`capture::detail::gather`) before calling it. Renderers never
//! read a capture or re-run a rule.

use std::borrow::Cow;
use std::io::{self, Write};

use super::Report;
use crate::analysis::Analysis;
use crate::capture::SessionDetail;

/// One capture as a renderer sees it.
pub struct Document<'a> {
    /// The capture as a table names it (relative to the folder in `batch`).
    pub name: &'a str,
    /// The capture's path as given (what `capture.path` of its report says).
    pub path: Cow<'a, str>,
    pub content: Content<'a>,
}

/// What is known of a capture.
pub enum Content<'a> {
    Analysed {
        report: &'a Report,
        /// The analysis behind the report, where it is kept (`analyze`; `batch` keeps only
        /// reports).
        analysis: Option<&'a Analysis>,
        /// The cited sessions' details, when the renderer asked for them.
        details: &'a [SessionDetail],
    },
    /// Why the capture could not be read (the message does not repeat the path).
    Unreadable(&'a str),
}

impl<'a> Document<'a> {
    pub fn report(&self) -> Option<&'a Report> {
        match self.content {
            Content::Analysed { report, .. } => Some(report),
            Content::Unreadable(_) => None,
        }
    }

    /// The reports of `docs`, in order.
    pub fn reports<'d>(docs: &'d [Document<'a>]) -> impl Iterator<Item = &'a Report> + 'd {
        docs.iter().filter_map(Document::report)
    }
}

/// An output format.
pub trait Render {
    /// Whether the renderer shows sessions in detail (headers, body excerpts), which the
    /// orchestrator must gather with a second read of the capture.
    fn needs_details(&self) -> bool {
        false
    }

    /// The sessions whose details to gather when [`Render::needs_details`]: by default every
    /// session the analysis cites.
    fn detail_sessions(&self, analysis: &Analysis) -> std::collections::BTreeSet<u64> {
        analysis.cited_sessions()
    }

    /// Write every document.
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()>;
}

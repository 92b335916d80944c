//! `batch`'s own formats over the renderers' [`Document`]s: the table an analyst reads at
//! the end of a queue, and the CSV a spreadsheet takes (NDJSON is `report::json::Ndjson`).

use std::fmt::Write as _;
use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::{aggregate, Status};
use crate::redact::Redactor;
use crate::report::powershell::{plan_of_reports, tenant_label};
use crate::report::render::{Content, Document, Render};
use crate::report::Report;
use crate::rules::Severity;

/// `batch --format table`: one row per capture, the missing SPNs per tenant, the summary.
pub struct BatchTable {
    /// Columns; `None` (not a terminal) gives a fixed, paste-friendly width.
    pub width: Option<u16>,
    /// Files that were neither SAZ nor HAR, for the summary line.
    pub skipped: Vec<String>,
    /// `--verbose`: the summary names every skipped file.
    pub verbose: bool,
    /// Every cell is redacted before the table wraps it: a wrap is a cut, and a secret or
    /// a user term split over two lines is not found by the pass over the whole output.
    pub redactor: Redactor,
}

/// `batch --format csv`.
pub struct Csv;

impl Render for Csv {
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        out.write_all(csv(docs).as_bytes())
    }
}

/// What a document amounts to.
pub fn status(doc: &Document) -> Status {
    match doc.report() {
        Some(r) => r.verdict.exit_code,
        None => Status::Unreadable,
    }
}

/// How many skipped files the summary names without `--verbose`.
pub const SKIPPED_NAMED: usize = 10;

/// The summary line: counts per status (a capture without errors but with warnings is
/// counted as such, not as plainly clean) and the files skipped, named: all of them when
/// `verbose`, else the first [`SKIPPED_NAMED`].
pub fn summary(docs: &[Document], skipped: &[String], verbose: bool) -> String {
    let count = |s: Status| docs.iter().filter(|d| status(d) == s).count();
    let warned = docs
        .iter()
        .filter(|d| status(d) == Status::Clean)
        .filter(|d| {
            d.report()
                .is_some_and(|r| !ids(r, Severity::Warning).is_empty())
        })
        .count();
    let mut line = format!(
        "{} capture(s): {} without errors ({} with warnings), {} with error findings, {} inconclusive, {} unreadable; {} other file(s) skipped",
        docs.len(),
        count(Status::Clean),
        warned,
        count(Status::Findings),
        count(Status::Inconclusive),
        count(Status::Unreadable),
        skipped.len()
    );
    if !skipped.is_empty() {
        let shown = if verbose {
            skipped.len()
        } else {
            skipped.len().min(SKIPPED_NAMED)
        };
        let _ = write!(
            line,
            " (neither SAZ nor HAR): {}",
            skipped[..shown].join(", ")
        );
        if shown < skipped.len() {
            let _ = write!(
                line,
                " and {} more (--verbose names them all)",
                skipped.len() - shown
            );
        }
    }
    line
}

/// The longest capture name kept on one line of the table; a longer one (a capture inside
/// a zip, deep in a folder) is wrapped after a `/`, never inside a file or folder name.
const NAME_LINE: usize = 40;

/// `name` as lines of at most [`NAME_LINE`] characters, broken only after a `/`; a single
/// component longer than that stays whole.
fn name_lines(name: &str) -> String {
    if name.chars().count() <= NAME_LINE {
        return name.to_string();
    }
    let mut lines: Vec<String> = Vec::new();
    for part in name.split_inclusive('/') {
        match lines.last_mut() {
            Some(last) if last.chars().count() + part.chars().count() <= NAME_LINE => {
                last.push_str(part);
            }
            _ => lines.push(part.to_string()),
        }
    }
    lines.join("\n")
}

/// The host names of a report's missing SPNs (`https://autodiscover.contoso.com/` ->
/// `autodiscover.contoso.com`), in order, each once.
fn spn_hosts(report: &Report) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for spn in &report.missing_spns {
        let host = crate::capture::host_of(spn).unwrap_or_else(|| spn.clone());
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// The worst status of the documents; `Clean` for none.
pub fn worst(docs: &[Document]) -> Status {
    aggregate(docs.iter().map(status))
}

fn new_table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    // Not a terminal: a fixed, paste-friendly width.
    t.set_width(width.unwrap_or(120));
    t
}

impl Render for BatchTable {
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        let mut t = new_table(self.width);
        // Four columns, so that a queue stays a table at 120 columns (issue 20): the
        // verdict, session count and any error ride under the capture's name; the SPNs are
        // their host names (the URL form is in the per-tenant table below and the script).
        t.set_header(vec![
            "Capture, verdict",
            "Findings (w: warning)",
            "AADSTS",
            "Missing SPN hosts",
        ]);
        let red = |s: &str| self.redactor.text(s).into_owned();
        for doc in docs {
            let error = red(&error_text(doc));
            let mut first = name_lines(&red(doc.name));
            match doc.report() {
                Some(r) => {
                    let n = r.capture.sessions;
                    let _ = write!(
                        first,
                        "\n{}, {n} session{}",
                        verdict(r),
                        if n == 1 { "" } else { "s" }
                    );
                    if !error.is_empty() {
                        let _ = write!(first, ", {error}");
                    }
                    t.add_row(vec![
                        first,
                        finding_ids(r),
                        join(aadsts_codes(r), " "),
                        red(&spn_hosts(r).join("\n")),
                    ])
                }
                None => {
                    let _ = write!(first, "\nunreadable: {error}");
                    t.add_row(vec![first, String::new(), String::new(), String::new()])
                }
            };
        }
        if docs.is_empty() {
            writeln!(out, "No SAZ or HAR capture found.")?;
        } else {
            writeln!(out, "{}", crate::report::layout::fit(&mut t))?;
        }

        let per_tenant = spns_per_tenant(docs);
        if !per_tenant.is_empty() {
            writeln!(out, "\nMissing SPNs per tenant (all captures)")?;
            let mut t = new_table(self.width);
            t.set_header(vec!["Tenant", "Missing SPNs"]);
            for (tenant, spns) in per_tenant {
                t.add_row(vec![red(&tenant), red(&spns.join("\n"))]);
            }
            writeln!(out, "{}", crate::report::layout::fit(&mut t))?;
        }
        writeln!(out, "\n{}", summary(docs, &self.skipped, self.verbose))
    }
}

/// The union of missing SPNs per tenant over every report: `(tenant label, SPNs)`, one entry
/// per tenant (a domain merged into the GUID a capture showed it is), each SPN once, sorted;
/// the unknown tenant last.
pub fn spns_per_tenant(docs: &[Document]) -> Vec<(String, Vec<String>)> {
    plan_of_reports(Document::reports(docs))
        .into_iter()
        .flat_map(|plan| plan.tenants)
        .filter(|t| !t.spns.is_empty())
        .map(|t| (tenant_label(&t), t.spns))
        .collect()
}

/// The distinct AADSTS codes of a report, ascending.
pub fn aadsts_codes(report: &Report) -> Vec<u32> {
    let mut codes: Vec<u32> = report.aadsts.iter().map(|a| a.code).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// What a row's verdict rests on: the ids of its error findings, then its warnings marked
/// `w: `, one per line, each once ("error" alone does not say which problem, nor
/// "clean" that warnings were found).
pub fn finding_ids(report: &Report) -> String {
    let mut lines = ids(report, Severity::Error);
    lines.extend(
        ids(report, Severity::Warning)
            .into_iter()
            .map(|id| format!("w: {id}")),
    );
    lines.join("\n")
}

/// The distinct ids of a report's findings of `severity`, in report order.
pub fn ids(report: &Report, severity: Severity) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for f in report.findings.iter().filter(|f| f.severity == severity) {
        if !ids.contains(&f.id) {
            ids.push(f.id.clone());
        }
    }
    ids
}

/// A row's verdict: the report's status, and for a capture without errors but with
/// warnings `clean (N warning(s))`, which the Findings column names.
pub fn verdict(report: &Report) -> String {
    let warnings = ids(report, Severity::Warning).len();
    if report.verdict.exit_code == Status::Clean && warnings > 0 {
        let s = if warnings == 1 { "" } else { "s" };
        format!("clean ({warnings} warning{s})")
    } else {
        report.verdict.status.to_string()
    }
}

/// The text for a document's error column: the capture error, or how many sessions of a
/// readable capture could not be read.
pub fn error_text(doc: &Document) -> String {
    match doc.content {
        Content::Unreadable(e) => e.to_string(),
        Content::Analysed { report, .. } if !report.capture.errors.is_empty() => {
            format!("{} session problem(s)", report.capture.errors.len())
        }
        Content::Analysed { .. } => String::new(),
    }
}

/// One CSV field, quoted as RFC 4180 says when it holds a comma, a quote, CR or LF (quotes
/// doubled inside), and when it starts or ends with a space, which spreadsheets would trim.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The CSV columns. `path` is relative to the folder given, `/`-separated, as in the table
/// and NDJSON's `capture.path`. Added after issue 20, at the end: `error_findings` and
/// `warning_findings`, the distinct finding ids of each severity, space-separated.
pub const CSV_HEADER: [&str; 11] = [
    "path",
    "format",
    "sessions",
    "status",
    "aadsts",
    "missing_spns",
    "tenants",
    "findings",
    "error",
    "error_findings",
    "warning_findings",
];

/// The whole CSV document: a header line and one row per document, CRLF line ends
/// (RFC 4180).
pub fn csv(docs: &[Document]) -> String {
    let mut s = String::new();
    push_row(&mut s, CSV_HEADER.iter().map(|h| h.to_string()));
    for doc in docs {
        let row: Vec<String> = match doc.report() {
            Some(r) => {
                let mut tenants: Vec<String> = r
                    .spn_details
                    .iter()
                    .filter_map(|d| d.tenant.as_deref().map(str::to_ascii_lowercase))
                    .collect();
                tenants.sort();
                tenants.dedup();
                vec![
                    doc.name.to_string(),
                    r.capture.format.to_string(),
                    r.capture.sessions.to_string(),
                    r.verdict.status.to_string(),
                    join(aadsts_codes(r), " "),
                    r.missing_spns.join(" "),
                    tenants.join(" "),
                    r.findings.len().to_string(),
                    error_text(doc),
                    ids(r, Severity::Error).join(" "),
                    ids(r, Severity::Warning).join(" "),
                ]
            }
            None => vec![
                doc.name.to_string(),
                String::new(),
                String::new(),
                "unreadable".to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                error_text(doc),
                String::new(),
                String::new(),
            ],
        };
        push_row(&mut s, row.into_iter());
    }
    s
}

fn push_row(s: &mut String, fields: impl Iterator<Item = String>) {
    let fields: Vec<String> = fields.map(|f| csv_field(&f)).collect();
    let _ = write!(s, "{}\r\n", fields.join(","));
}

fn join<T: ToString>(values: impl IntoIterator<Item = T>, sep: &str) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

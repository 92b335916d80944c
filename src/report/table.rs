//! `--format table`: what an analyst reads first. Verdict, loops, AADSTS codes, missing
//! SPNs, findings, then the fix script.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width};

use super::render::{Document, Render};
use super::Report;
use crate::flows::Flow;
use crate::redact::Redactor;

/// `analyze --format table`, `width` columns wide (a fixed, paste-friendly width when the
/// output is not a terminal).
pub struct TableReport {
    pub width: Option<u16>,
    /// Applied to capture text before it is wrapped into a paragraph or a cell: a wrap is
    /// a cut, and a secret or a user term split over two lines would not be found by the
    /// pass over the whole output.
    pub redactor: Redactor,
    /// Colour the severities and the verdict (ANSI SGR): only for a terminal, or
    /// `--color always`.
    pub color: bool,
}

impl Render for TableReport {
    fn render(&self, out: &mut dyn Write, docs: &[Document]) -> io::Result<()> {
        Document::reports(docs).enumerate().try_for_each(|(i, r)| {
            if i > 0 {
                writeln!(out, "\n{}\n", "=".repeat(72))?;
            }
            write(out, r, self.width, &self.redactor, self.color)
        })
    }
}

pub fn write(
    out: &mut dyn Write,
    report: &Report,
    width: Option<u16>,
    redactor: &Redactor,
    color: bool,
) -> io::Result<()> {
    let paint = |status: &str, text: &str| {
        if color {
            paint(status, text)
        } else {
            text.to_string()
        }
    };
    let red = |s: &str| redactor.text(s).into_owned();
    let c = &report.capture;
    writeln!(
        out,
        "{} ({}, {} sessions)",
        c.path,
        c.format.to_uppercase(),
        c.sessions
    )?;
    // The verdict on its own short lines: the root cause (or each independent problem)
    // first, wrapped at word boundaries, then what the conclusions do not rest on. Short
    // lines even on a wide terminal: at most 100 columns, what reads in one glance.
    let wrap_at = usize::from(width.unwrap_or(DEFAULT_WIDTH)).clamp(40, 100);
    writeln!(
        out,
        "Verdict: {}",
        paint(report.verdict.status, &report.verdict.status.to_uppercase())
    )?;
    let causes = &report.verdict.causes;
    if causes.len() > 1 {
        for (i, cause) in causes.iter().enumerate() {
            hanging(out, &format!("  {}. ", i + 1), &red(cause), wrap_at)?;
        }
    } else {
        hanging(out, "  ", &red(&report.verdict.summary), wrap_at)?;
    }
    for caveat in &report.verdict.caveats {
        hanging(out, "  Note: ", &red(caveat), wrap_at)?;
    }
    if !report.capture_limits.is_empty() {
        writeln!(out, "\nWhat this capture cannot show")?;
        for l in &report.capture_limits {
            hanging(
                out,
                "  - ",
                &red(&format!("{} ({})", l.what, l.id)),
                wrap_at,
            )?;
            hanging(out, "    Blind: ", &red(&l.consequence), wrap_at)?;
            hanging(out, "    Next capture: ", &red(&l.capture_again), wrap_at)?;
        }
    }

    if !report.loops.is_empty() {
        writeln!(out, "\nToken flows (challenge -> Entra ID -> outcome)")?;
        let mut t = table(width);
        t.set_header(vec![
            "Resource", "Client", "Attempts", "Outcome", "AADSTS", "Sessions", "Duration",
        ]);
        // The outcome of the last round, the flow's judged state, and the finding it is
        // evidence of, each on its own line so that no id is cut.
        let outcome = |l: &super::Loop| match &l.explained_by {
            Some(id) if l.state != crate::flows::State::Ok => {
                format!("{}\n{}\n{id}", l.outcome.as_str(), l.state.as_str())
            }
            _ => format!("{}\n{}", l.outcome.as_str(), l.state.as_str()),
        };
        for l in &report.loops {
            t.add_row(vec![
                red(&resource_cell(l)),
                red(&client(l)),
                l.attempts.len().to_string(),
                outcome(l),
                codes(&l.aadsts),
                format!("{}-{}", l.first_session, l.last_session),
                l.duration_label().unwrap_or_else(|| "-".into()),
            ]);
        }
        keep_whole(
            &mut t,
            0,
            report
                .loops
                .iter()
                .map(|l| red(&l.resource.to_string()).len()),
        );
        keep_whole(
            &mut t,
            3,
            report
                .loops
                .iter()
                .map(|l| outcome(l).lines().map(str::len).max().unwrap_or(0)),
        );
        keep_whole(
            &mut t,
            6,
            report
                .loops
                .iter()
                .map(|l| l.duration_label().map_or(1, |d| d.len())),
        );
        writeln!(out, "{}", super::layout::fit(&mut t))?;
    }

    if !report.aadsts.is_empty() {
        writeln!(out, "\nAADSTS codes")?;
        let mut t = table(width);
        t.set_header(vec!["Code", "Count", "Resource", "Meaning", "Sessions"]);
        for a in &report.aadsts {
            t.add_row(vec![
                format!("AADSTS{}", a.code),
                a.count.to_string(),
                red(a.resource.as_deref().unwrap_or("-")),
                red(&a.summary),
                list(&a.sessions),
            ]);
        }
        keep_whole(
            &mut t,
            2,
            report
                .aadsts
                .iter()
                .map(|a| a.resource.as_deref().map_or(1, |r| red(r).len())),
        );
        keep_whole(
            &mut t,
            0,
            report
                .aadsts
                .iter()
                .map(|a| format!("AADSTS{}", a.code).len()),
        );
        writeln!(out, "{}", super::layout::fit(&mut t))?;
    }

    if !report.missing_spns.is_empty() {
        writeln!(out, "\nMissing SPNs on Office 365 Exchange Online")?;
        for spn in &report.missing_spns {
            writeln!(out, "  {spn}")?;
        }
    }

    if !report.findings.is_empty() {
        // A list, not a table: evidence and fixes are sentences, and a list wraps them at
        // the full width and pastes into a ticket as it reads.
        let wrap_at = usize::from(width.unwrap_or(DEFAULT_WIDTH)).clamp(40, 140);
        writeln!(out, "\nFindings")?;
        for f in &report.findings {
            let severity = f.severity.as_str().to_uppercase();
            let pad = " ".repeat(7usize.saturating_sub(severity.len()));
            let severity = paint(f.severity.as_str(), &severity);
            writeln!(out, "\n  {severity}{pad} {}", f.id)?;
            paragraph(out, "", &red(&f.title), wrap_at)?;
            paragraph(out, "Sessions: ", &list(&f.sessions), wrap_at)?;
            if let Some(ids) = fiddler_list(report, &f.sessions) {
                paragraph(out, "Fiddler #: ", &ids, wrap_at)?;
            }
            paragraph(out, "Evidence: ", &red(&f.evidence), wrap_at)?;
            paragraph(out, "Fix: ", &red(&f.fix), wrap_at)?;
        }
    }

    if !report.capture.errors.is_empty() {
        writeln!(out, "\nCapture problems ({})", report.capture.errors.len())?;
        for e in report.capture.errors.iter().take(20) {
            match e.session {
                Some(s) => writeln!(out, "  session {}: {}", with_fiddler(report, s), e.message)?,
                None => writeln!(out, "  {}", e.message)?,
            }
        }
        if report.capture.errors.len() > 20 {
            writeln!(
                out,
                "  ... {} more (see --format json)",
                report.capture.errors.len() - 20
            )?;
        }
    }

    if !report.powershell.is_empty() {
        writeln!(
            out,
            "\nFix ({})\n",
            super::powershell::shell_of(&report.powershell)
        )?;
        write!(out, "{}", report.powershell)?;
    }
    Ok(())
}

/// `text` in the colour of `status` (a severity or a verdict status): ERROR bold red,
/// WARNING yellow, INFO cyan, OK bold green, INCONCLUSIVE bold yellow.
pub fn paint(status: &str, text: &str) -> String {
    let sgr = match status {
        "error" => "1;31",
        "warning" => "33",
        "info" => "36",
        "ok" => "1;32",
        "inconclusive" => "1;33",
        _ => return text.to_string(),
    };
    format!("\x1b[{sgr}m{text}\x1b[0m")
}

/// Width used when stdout is not a terminal: paste-friendly.
pub(super) const DEFAULT_WIDTH: u16 = super::layout::FIXED_WIDTH;

/// `label` + `text`, wrapped at `width`, indented under the finding's heading.
fn paragraph(out: &mut dyn Write, label: &str, text: &str, width: usize) -> io::Result<()> {
    let indent = "          ";
    let first = format!("{indent}{label}");
    let rest = format!("{indent}{}", " ".repeat(label.len()));
    out.write_all(super::layout::wrap_words(text, &first, &rest, width).as_bytes())
}

/// `text` after `lead`, wrapped at `width` under itself, never inside a word (an id, a URL,
/// a cmdlet).
pub(super) fn hanging(out: &mut dyn Write, lead: &str, text: &str, width: usize) -> io::Result<()> {
    let rest = " ".repeat(lead.len());
    out.write_all(super::layout::wrap_words(text, lead, &rest, width).as_bytes())
}

/// URLs and host names are read whole: give their column room for the longest (within
/// reason) so the table squeezes the prose columns instead.
pub(super) fn keep_whole(t: &mut Table, column: usize, lengths: impl Iterator<Item = usize>) {
    // The boundary counts the cell's padding too.
    let longest = lengths.max().unwrap_or(0).min(48) + 2;
    if let (Some(c), Ok(w)) = (t.column_mut(column), u16::try_from(longest)) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w)));
    }
}

pub(super) fn table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    match width {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(w);
        }
        None => {
            // Not a terminal: a fixed, paste-friendly width.
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(DEFAULT_WIDTH);
        }
    }
    t
}

/// The resource, and where the challenge came from when that is not the resource's host.
fn resource_cell(l: &Flow) -> String {
    match l.challenge_host.as_deref() {
        None => format!("{}\n(background: no challenge)", l.resource),
        Some(h) if l.resource.host() == h => l.resource.to_string(),
        Some(h) => format!("{}\nchallenged by {h}", l.resource),
    }
}

fn client(l: &Flow) -> String {
    let process = l.client_process.as_deref().unwrap_or("-");
    let via = if l.wam { " via WAM" } else { "" };
    let mut out = match l.client_name {
        Some(name) => format!("{process}{via}\n{name}"),
        None => format!("{process}{via}"),
    };
    if let Some(app) = token_app(l) {
        out.push_str(&format!("\ntoken: {app}"));
    }
    out
}

/// The app of the token presented, when it is not the client that signed in (shown only
/// then, to keep the cell short).
pub(super) fn token_app(l: &Flow) -> Option<String> {
    let appid = l.token_appid.as_deref()?;
    if l.client_id
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(appid))
    {
        return None;
    }
    Some(
        l.token_app_name
            .map_or_else(|| appid.to_string(), str::to_string),
    )
}

fn codes(codes: &[u32]) -> String {
    if codes.is_empty() {
        "-".into()
    } else {
        codes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A session list, shortened past a dozen: the JSON has them all.
pub(crate) fn list(ids: &[u64]) -> String {
    listed(ids, u64::to_string)
}

/// Fiddler's ids of `ids` in the same order, when one of them differs from its session
/// number (issue 20); `?` for a session whose Fiddler id is unknown.
pub(crate) fn fiddler_list(report: &Report, ids: &[u64]) -> Option<String> {
    ids.iter()
        .any(|i| report.fiddler_id_of(*i).is_some())
        .then(|| {
            listed(ids, |i| {
                report
                    .fiddler_ids
                    .get(i)
                    .map_or_else(|| "?".to_string(), u64::to_string)
            })
        })
}

/// `session` with Fiddler's id when it differs: `3 (Fiddler #13)`.
pub(crate) fn with_fiddler(report: &Report, session: u64) -> String {
    match report.fiddler_id_of(session) {
        Some(f) => format!("{session} (Fiddler #{f})"),
        None => session.to_string(),
    }
}

fn listed(ids: &[u64], show: impl Fn(&u64) -> String) -> String {
    const MAX: usize = 12;
    let shown: Vec<String> = ids.iter().take(MAX).map(show).collect();
    let mut s = shown.join(", ");
    if ids.len() > MAX {
        s.push_str(&format!(", ... ({} in all)", ids.len()));
    }
    s
}

//! `traceadal diff`'s outputs: a table for the terminal, markdown for the ticket, and the
//! `traceadal.diff/1` JSON document. Renderers only: every judgement is in [`Diff`].

use std::io::{self, Write};

use super::{CaptureSide, Change, Diff, FindingChange, FindingSide, FlowChange, FlowSide};
use crate::redact::Redactor;
use crate::report::layout::fit;
use crate::report::markdown::cell;
use crate::report::table::{hanging, keep_whole, list, table, DEFAULT_WIDTH};

fn change_label(c: Change) -> &'static str {
    match c {
        Change::Resolved => "RESOLVED",
        Change::Still => "STILL",
        Change::New => "NEW",
        Change::NotShown => "NOT SHOWN",
        Change::Ok => "OK",
    }
}

fn flow_side(s: Option<&FlowSide>) -> String {
    let Some(s) = s else {
        return "-".to_string();
    };
    let rounds = super::rounds(s.attempts);
    let codes = if s.aadsts.is_empty() {
        String::new()
    } else {
        format!(
            ", {}",
            s.aadsts
                .iter()
                .map(|c| format!("AADSTS{c}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    format!(
        "{} ({}), {rounds}{codes}; sessions {}",
        s.state.as_str(),
        s.outcome.as_str(),
        list(&s.sessions)
    )
}

fn finding_side(s: Option<&FindingSide>) -> String {
    match s {
        None => "-".to_string(),
        Some(s) => format!(
            "{}: {} (sessions {})",
            s.severity.as_str(),
            s.title,
            list(&s.sessions)
        ),
    }
}

fn capture_line(c: &CaptureSide) -> String {
    format!(
        "{} ({}, {} sessions): {}",
        c.path,
        c.format.to_uppercase(),
        c.sessions,
        c.status.to_uppercase()
    )
}

fn subject(f: &FindingChange) -> String {
    if f.subject.is_empty() {
        "-".to_string()
    } else {
        f.subject.join(", ")
    }
}

/// The table for a terminal, `width` columns wide (`COLUMNS` or the terminal's, from
/// `output::width`; 120 when neither), laid out by [`fit`]: no identifier is cut, and a
/// table too wide for `width` becomes a list.
pub fn table_text(
    out: &mut dyn Write,
    d: &Diff,
    width: Option<u16>,
    redactor: &Redactor,
) -> io::Result<()> {
    let red = |s: &str| redactor.text(s).into_owned();
    let wrap_at = usize::from(width.unwrap_or(DEFAULT_WIDTH)).max(40);
    hanging(out, "BEFORE ", &red(&capture_line(&d.before)), wrap_at)?;
    hanging(out, "AFTER  ", &red(&capture_line(&d.after)), wrap_at)?;
    writeln!(
        out,
        "Verdict: {}",
        d.verdict.status.replace('_', " ").to_uppercase()
    )?;
    for line in &d.verdict.lines {
        hanging(out, "  ", &red(line), wrap_at)?;
    }
    if !d.spns_accepted.is_empty() {
        writeln!(
            out,
            "\nSPNs now accepted (AADSTS500011 in BEFORE, a token in AFTER)"
        )?;
        for s in &d.spns_accepted {
            hanging(
                out,
                "  ",
                &red(&format!(
                    "{}: {} got a token in {} (AFTER sessions {})",
                    s.spn,
                    s.client,
                    super::rounds(s.rounds),
                    list(&s.after_sessions)
                )),
                wrap_at,
            )?;
        }
    }
    if !d.flows.is_empty() {
        writeln!(out, "\nToken flows (matched by resource and client)")?;
        let mut t = table(width);
        t.set_header(vec!["Change", "Resource", "Client", "BEFORE", "AFTER"]);
        for f in &d.flows {
            t.add_row(vec![
                change_label(f.change).to_string(),
                red(&f.resource),
                red(&client_cell(f)),
                red(&flow_side(f.before.as_ref())),
                red(&after_flow(f)),
            ]);
        }
        keep_whole(&mut t, 1, d.flows.iter().map(|f| red(&f.resource).len()));
        writeln!(out, "{}", fit(&mut t))?;
    }
    if !d.findings.is_empty() {
        writeln!(out, "\nFindings (matched by id and subject)")?;
        let mut t = table(width);
        t.set_header(vec!["Change", "Finding", "Subject", "BEFORE", "AFTER"]);
        for f in &d.findings {
            t.add_row(vec![
                change_label(f.change).to_string(),
                f.id.clone(),
                red(&subject(f)),
                red(&finding_side(f.before.as_ref())),
                red(&after_finding(f)),
            ]);
        }
        writeln!(out, "{}", fit(&mut t))?;
    }
    Ok(())
}

fn client_cell(f: &FlowChange) -> String {
    match &f.client_process {
        Some(p) if !p.eq_ignore_ascii_case(&f.client) => format!("{} ({p})", f.client),
        _ => f.client.clone(),
    }
}

fn after_flow(f: &FlowChange) -> String {
    match (&f.after, &f.why_not_shown) {
        (None, Some(why)) => format!("- ({why})"),
        (a, _) => flow_side(a.as_ref()),
    }
}

fn after_finding(f: &FindingChange) -> String {
    match (&f.after, &f.why_not_shown, f.change) {
        (None, Some(why), _) => format!("- ({why})"),
        (None, None, Change::Resolved) => "not in AFTER".to_string(),
        (a, _, _) => finding_side(a.as_ref()),
    }
}

/// Markdown for a ticket.
pub fn markdown(out: &mut dyn Write, d: &Diff) -> io::Result<()> {
    writeln!(
        out,
        "## traceadal diff: `{}` -> `{}`\n",
        cell(&d.before.path),
        cell(&d.after.path)
    )?;
    writeln!(
        out,
        "**Verdict: {}** - {}\n",
        d.verdict.status.replace('_', " ").to_uppercase(),
        d.verdict.summary
    )?;
    for line in d.verdict.lines.iter().skip(1) {
        writeln!(out, "- {line}")?;
    }
    if d.verdict.lines.len() > 1 {
        writeln!(out)?;
    }
    writeln!(out, "| | Capture | Sessions | Verdict |")?;
    writeln!(out, "|---|---|---|---|")?;
    for (name, c) in [("BEFORE", &d.before), ("AFTER", &d.after)] {
        writeln!(
            out,
            "| {name} | `{}` ({}) | {} | {}: {} |",
            cell(&c.path),
            c.format.to_uppercase(),
            c.sessions,
            c.status.to_uppercase(),
            cell(&c.summary)
        )?;
    }
    writeln!(out)?;
    if !d.spns_accepted.is_empty() {
        writeln!(out, "### SPNs now accepted\n")?;
        for s in &d.spns_accepted {
            writeln!(
                out,
                "- `{}`: {} got a token in {} (AFTER sessions {})",
                cell(&s.spn),
                s.client,
                super::rounds(s.rounds),
                list(&s.after_sessions)
            )?;
        }
        writeln!(out)?;
    }
    if !d.flows.is_empty() {
        writeln!(out, "### Token flows\n")?;
        writeln!(out, "| Change | Resource | Client | BEFORE | AFTER |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for f in &d.flows {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                f.change.as_str(),
                cell(&f.resource),
                cell(&client_cell(f)),
                cell(&flow_side(f.before.as_ref())),
                cell(&after_flow(f))
            )?;
        }
        writeln!(out)?;
    }
    if !d.findings.is_empty() {
        writeln!(out, "### Findings\n")?;
        writeln!(out, "| Change | Finding | Subject | BEFORE | AFTER |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for f in &d.findings {
            writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                f.change.as_str(),
                f.id,
                cell(&subject(f)),
                cell(&finding_side(f.before.as_ref())),
                cell(&after_finding(f))
            )?;
        }
    }
    Ok(())
}

/// The `traceadal.diff/1` document, indented.
pub fn json(out: &mut dyn Write, d: &Diff) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, d)?;
    writeln!(out)
}

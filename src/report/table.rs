//! `--format table`: what an analyst reads first. Verdict, loops, AADSTS codes, missing
//! SPNs, findings, then the fix script.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::Report;

pub fn write(out: &mut dyn Write, report: &Report, width: Option<u16>) -> io::Result<()> {
    let c = &report.capture;
    writeln!(
        out,
        "{} ({}, {} sessions)",
        c.path,
        c.format.to_uppercase(),
        c.sessions
    )?;
    writeln!(
        out,
        "Verdict: {} - {}",
        report.verdict.status.to_uppercase(),
        report.verdict.summary
    )?;

    if !report.loops.is_empty() {
        writeln!(out, "\nToken flows (challenge -> Entra ID -> outcome)")?;
        let mut t = table(width);
        t.set_header(vec![
            "Resource",
            "Challenged by",
            "Client",
            "Attempts",
            "Outcome",
            "AADSTS",
            "Sessions",
            "Duration",
        ]);
        for l in &report.loops {
            t.add_row(vec![
                l.resource.clone(),
                l.challenge_host.clone().unwrap_or_else(|| "-".into()),
                client(l),
                l.attempts.to_string(),
                l.outcome.to_string(),
                codes(&l.aadsts),
                format!("{}-{}", l.first_session, l.last_session),
                l.duration_ms
                    .map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        writeln!(out, "{t}")?;
    }

    if !report.aadsts.is_empty() {
        writeln!(out, "\nAADSTS codes")?;
        let mut t = table(width);
        t.set_header(vec!["Code", "Count", "Resource", "Meaning", "Sessions"]);
        for a in &report.aadsts {
            t.add_row(vec![
                format!("AADSTS{}", a.code),
                a.count.to_string(),
                a.resource.clone().unwrap_or_else(|| "-".into()),
                a.summary.clone(),
                list(&a.sessions),
            ]);
        }
        writeln!(out, "{t}")?;
    }

    if !report.missing_spns.is_empty() {
        writeln!(out, "\nMissing SPNs on Office 365 Exchange Online")?;
        for spn in &report.missing_spns {
            writeln!(out, "  {spn}")?;
        }
    }

    if !report.findings.is_empty() {
        writeln!(out, "\nFindings")?;
        let mut t = table(width);
        t.set_header(vec!["Severity", "Id", "Finding", "Sessions"]);
        for f in &report.findings {
            t.add_row(vec![
                f.severity.as_str().to_uppercase(),
                f.id.clone(),
                format!("{}\n{}\nFix: {}", f.title, f.evidence, f.fix),
                list(&f.sessions),
            ]);
        }
        writeln!(out, "{t}")?;
    }

    if !report.capture.errors.is_empty() {
        writeln!(out, "\nCapture problems ({})", report.capture.errors.len())?;
        for e in report.capture.errors.iter().take(20) {
            match e.session {
                Some(s) => writeln!(out, "  session {s}: {}", e.message)?,
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
        writeln!(out, "\nFix (Microsoft Graph PowerShell)\n")?;
        write!(out, "{}", report.powershell)?;
    }
    Ok(())
}

fn table(width: Option<u16>) -> Table {
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
            t.set_width(120);
        }
    }
    t
}

fn client(l: &super::Loop) -> String {
    let process = l.client_process.as_deref().unwrap_or("-");
    let via = if l.wam { " via WAM" } else { "" };
    match l.client_name {
        Some(name) => format!("{process}{via}\n{name}"),
        None => format!("{process}{via}"),
    }
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
    const MAX: usize = 12;
    let shown: Vec<String> = ids.iter().take(MAX).map(|i| i.to_string()).collect();
    let mut s = shown.join(", ");
    if ids.len() > MAX {
        s.push_str(&format!(", ... ({} in all)", ids.len()));
    }
    s
}

//! `traceadal sessions`: what a capture holds, one line per session, like Fiddler's list.

use std::io::Write;

use serde::Serialize;

use super::{open_capture, output, report_error, ListFormat, SessionsArgs, Status};
use crate::analysis::Collector;
use crate::capture::{SessionResult, SessionSummary};
use crate::redact::Redactor;

/// One row of `--format json`. Field names are a contract (issue 3).
#[derive(Debug, Serialize)]
struct Row<'a> {
    id: u64,
    method: &'a str,
    url: &'a str,
    host: Option<&'a str>,
    status: Option<u16>,
    process: Option<&'a str>,
    content_type: Option<&'a str>,
    request_bytes: u64,
    response_bytes: u64,
    aborted: bool,
    tunnel: bool,
    websocket: bool,
}

impl<'a> Row<'a> {
    fn of(s: &'a SessionSummary) -> Self {
        Row {
            id: s.id,
            method: &s.method,
            url: &s.url,
            host: s.host.as_deref(),
            status: s.status,
            process: s.process.as_deref(),
            content_type: s.content_type.as_deref(),
            request_bytes: s.request_bytes,
            response_bytes: s.response_bytes,
            aborted: s.flags.aborted,
            tunnel: s.flags.tunnel,
            websocket: s.flags.websocket,
        }
    }
}

pub fn run(args: &SessionsArgs) -> Status {
    let capture = match open_capture(&args.capture, &args.read) {
        Ok(c) => c,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let path = super::stdin::shown(&args.capture);
    for w in capture.warnings() {
        report_error(format!("{path}: {w}"));
    }
    // Sessions are read as `analyze` reads them, so both name the same damaged sessions.
    let limits = args.read.limits();
    let results = capture.map_sessions(|r: SessionResult| Collector::map(&limits, r));
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let mut rows = Vec::with_capacity(results.len());
    for mapped in &results {
        for p in mapped.problems() {
            report_error(format!("{path}: {p}"));
        }
        if let Some(s) = mapped.summary().filter(|s| keep(s, args)) {
            rows.push(s);
        }
    }
    let width = output::terminal_width();
    let redactor = output::redactor(args.show_secrets);
    let written = output::emit(None, &redactor, |out| match args.format {
        ListFormat::Json => write_json(out, &rows),
        ListFormat::Table => write_table(out, &rows, width, &redactor),
    });
    match written {
        Ok(()) => Status::Clean,
        Err(e) => {
            report_error(e);
            Status::Unreadable
        }
    }
}

fn keep(s: &SessionSummary, args: &SessionsArgs) -> bool {
    if let Some(status) = args.status {
        if s.status != Some(status) {
            return false;
        }
    }
    match (&args.host, &s.host) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(want), Some(host)) => host_matches(want, host),
    }
}

/// `contoso.com` matches only itself, in any case; a pattern with `*` (any run of
/// characters) or `?` (one character) is a wildcard: `*.contoso.com` matches its subdomains,
/// `*` every host, `autodiscover.*` every autodiscover host (issue 20: `--host '*'` matched
/// nothing).
fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    if !pattern.contains(['*', '?']) {
        return host == pattern;
    }
    wildcard(pattern.as_bytes(), host.as_bytes())
}

/// `*` and `?` matching in linear time for the usual patterns: on a mismatch, go back to the
/// last `*` and let it take one more byte.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn write_json(out: &mut dyn Write, rows: &[&SessionSummary]) -> std::io::Result<()> {
    let rows: Vec<Row> = rows.iter().map(|s| Row::of(s)).collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}

/// The table, for a terminal `width` columns wide (`None`: nothing shortened). Every cell
/// is redacted before it is shortened ([`Redactor::shorten`]): a URL cut in the middle
/// would otherwise show the tail of a token whose key went with the cut.
fn write_table(
    out: &mut dyn Write,
    rows: &[&SessionSummary],
    width: Option<usize>,
    redactor: &Redactor,
) -> std::io::Result<()> {
    let id_w = rows
        .iter()
        .map(|s| s.id.to_string().len())
        .max()
        .unwrap_or(1)
        .max(1);
    let hosts: Vec<String> = rows
        .iter()
        .map(|s| redactor.text(s.host.as_deref().unwrap_or("-")).into_owned())
        .collect();
    let host_w = hosts
        .iter()
        .map(|h| h.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    writeln!(
        out,
        "{:>id_w$}  {:>6}  {:<7}  {:<host_w$}  {:>9}  {:<24}  {:<20}  URL",
        "#", "Result", "Method", "Host", "Body", "Content-Type", "Process"
    )?;
    // Everything but the URL takes a fixed width; the URL gets the rest of the terminal.
    let fixed = id_w + 2 + 6 + 2 + 7 + 2 + host_w + 2 + 9 + 2 + 24 + 2 + 20 + 2;
    for (s, host) in rows.iter().zip(&hosts) {
        let status = match (s.status, s.flags.aborted) {
            (Some(code), _) => code.to_string(),
            (None, true) => "abort".to_string(),
            (None, false) => "-".to_string(),
        };
        let url = match width {
            Some(w) => redactor.shorten(&s.url, w.saturating_sub(fixed).max(24)),
            None => redactor.text(&s.url).into_owned(),
        };
        let ctype = s.content_type.as_deref().unwrap_or("");
        let ctype = ctype.split(';').next().unwrap_or("").trim();
        writeln!(
            out,
            "{:>id_w$}  {:>6}  {:<7}  {:<host_w$}  {:>9}  {:<24}  {:<20}  {}",
            s.id,
            status,
            redactor.shorten(&s.method, 7),
            output::shorten(host, host_w),
            s.response_bytes,
            redactor.shorten(ctype, 24),
            redactor.shorten(s.process.as_deref().unwrap_or(""), 20),
            url
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::host_matches;

    #[test]
    fn host_filter_is_exact_unless_wildcard() {
        assert!(host_matches(
            "Autodiscover.Contoso.com",
            "autodiscover.contoso.com"
        ));
        assert!(!host_matches("contoso.com", "autodiscover.contoso.com"));
        assert!(host_matches("*.contoso.com", "autodiscover.contoso.com"));
        assert!(!host_matches("*.contoso.com", "contoso.com.evil.net"));
        assert!(!host_matches("*.contoso.com", "contoso.com"));
    }

    #[test]
    fn wildcards_match_as_a_shell_would() {
        assert!(host_matches("*", "login.microsoftonline.com"));
        assert!(host_matches("*", ""));
        assert!(host_matches("autodiscover.*", "autodiscover.contoso.com"));
        assert!(host_matches("*microsoft*", "login.microsoftonline.com"));
        assert!(host_matches("mail?.contoso.com", "mail2.contoso.com"));
        assert!(!host_matches("mail?.contoso.com", "mail.contoso.com"));
        assert!(host_matches("*.*.com", "a.b.com"));
        assert!(!host_matches("*.*.com", "b.com"));
        assert!(host_matches("A*", "abc"));
        // Many stars against a long host end quickly.
        let host = "a".repeat(5000);
        assert!(!host_matches(&format!("{}b", "*a".repeat(50)), &host));
    }
}

#[cfg(test)]
mod shorten_tests {
    use super::*;
    use crate::capture::SessionSummary;

    fn row(url: &str, _host: &str) -> SessionSummary {
        let session = crate::capture::Session {
            id: 7,
            request: crate::capture::Request {
                method: "GET".into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        SessionSummary::of(&session)
    }

    fn table(rows: &[SessionSummary], width: usize, redactor: &Redactor) -> String {
        let refs: Vec<&SessionSummary> = rows.iter().collect();
        let mut out = Vec::new();
        write_table(&mut out, &refs, Some(width), redactor).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Shortened on a terminal, a URL loses its middle: cut blindly, `code=` went with it
    /// and the tail of the code was printed. The URL is redacted first, then shortened.
    #[test]
    fn a_url_is_redacted_before_it_is_shortened() {
        let code = "0.AXoAqwertyuiopasdfghjklzxcvbnm1234567890QWERTYUIOP";
        let url = format!(
            "https://login.microsoftonline.com/common/oauth2/authorize?client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&code={code}&state=12345"
        );
        let rows = [row(&url, "login.microsoftonline.com")];
        for width in [150, 160, 170, 180, 200] {
            let out = table(&rows, width, &Redactor::default());
            for i in 0..=code.len() - 6 {
                assert!(!out.contains(&code[i..i + 6]), "{width}: {out}");
            }
            assert!(out.contains('…'), "{width}: {out}");
            // The final pass of `emit` finds nothing left.
            assert_eq!(Redactor::default().text(&out), out);
        }
    }

    #[test]
    fn a_user_term_is_hidden_before_a_cell_is_shortened() {
        let rules = crate::redact::UserRules::new(&["contoso".into()], &[]).unwrap();
        let r = Redactor::default().with_user(std::sync::Arc::new(rules));
        let host = "mail.autodiscover-internal.frontend.contoso.com";
        let url =
            format!("https://{host}/autodiscover/autodiscover.xml?user=someone%40contoso.com");
        let out = table(&[row(&url, host)], 150, &r);
        assert!(!out.to_lowercase().contains("contoso"), "{out}");
        assert!(!out.to_lowercase().contains("conto"), "{out}");
        assert!(out.contains("<term>"), "{out}");
    }
}

//! `traceadal sessions`: what a capture holds, one line per session, like Fiddler's list.

use std::io::Write;

use serde::Serialize;

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Offset};

use super::{open_capture, output, report_error, ListFormat, SessionsArgs, Status};
use crate::analysis::Collector;
use crate::capture::{DecodeLimits, SessionResult, SessionSummary};
use crate::redact::Redactor;
use crate::report::show::{elapsed, utc_millis, AuthSeen};

/// One row of `--format json`. Field names are a contract (issue 3); `start`,
/// `elapsed_ms`, `auth_offered` and `auth_sent` were added for issue 21.
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
    /// When the client began the request, RFC 3339 in UTC with milliseconds.
    start: Option<String>,
    /// Milliseconds since the capture's first session started.
    elapsed_ms: Option<i64>,
    /// Schemes the response's `WWW-Authenticate` offered.
    auth_offered: &'a [String],
    /// The scheme of the request's `Authorization` header (never the credential).
    auth_sent: Option<&'a str>,
    /// Fiddler's id of the session (the SAZ's `SID`, issue 20); absent for HAR and NetLog.
    #[serde(skip_serializing_if = "Option::is_none")]
    fiddler_id: Option<u64>,
}

impl<'a> Row<'a> {
    fn of(s: &'a Listed, origin: Option<DateTime<FixedOffset>>) -> Self {
        let (s, extra) = (&s.summary, &s.extra);
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
            start: s.start.map(utc_millis),
            elapsed_ms: since(s, origin),
            auth_offered: &extra.auth.offered,
            auth_sent: extra.auth.sent.as_deref(),
            fiddler_id: s.fiddler_id,
        }
    }
}

/// What `sessions` reads of a session besides its summary: the auth schemes, and whether
/// `--grep` matches it.
#[derive(Debug, Default)]
struct Extra {
    auth: AuthSeen,
    grep_hit: bool,
}

/// A listed session.
struct Listed {
    summary: SessionSummary,
    extra: Extra,
}

fn since(s: &SessionSummary, origin: Option<DateTime<FixedOffset>>) -> Option<i64> {
    s.start.zip(origin).map(|(t, o)| (t - o).num_milliseconds())
}

pub fn run(args: &SessionsArgs) -> Status {
    let capture = match open_capture(&args.capture, &args.read) {
        Ok(c) => c,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let grep = match args.grep.as_deref().map(compile_grep).transpose() {
        Ok(g) => g,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let path = super::stdin::shown(&args.capture);
    for w in capture.warnings() {
        report_error(format!("{path}: {w}"));
    }
    let redactor = output::redactor(args.show_secrets);
    // Sessions are read as `analyze` reads them, so both name the same damaged sessions.
    let limits = args.read.limits();
    let results = capture.map_sessions(|r: SessionResult| {
        let extra = match &r {
            Ok(session) => Extra {
                auth: AuthSeen::of(session),
                grep_hit: grep
                    .as_ref()
                    .is_some_and(|re| grep_matches(re, session, &redactor, &limits)),
            },
            Err(_) => Extra::default(),
        };
        (Collector::map(&limits, r), extra)
    });
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let mut all = Vec::with_capacity(results.len());
    let needs_analysis = args.flow.is_some() || args.finding.is_some();
    let mut collector =
        needs_analysis.then(|| Collector::new(limits, capture.session_hint().unwrap_or(0)));
    if let Some(c) = collector.as_mut() {
        for w in capture.warnings() {
            c.note(w);
        }
    }
    for (mapped, extra) in results {
        for p in mapped.problems() {
            report_error(format!("{path}: {p}"));
        }
        if let Some(s) = mapped.summary() {
            all.push(Listed {
                summary: s.clone(),
                extra,
            });
        }
        if let Some(c) = collector.as_mut() {
            c.push(mapped);
        }
    }
    let analysis = collector.map(|c| c.finish(&args.capture, capture.format()));
    let origin = all.iter().filter_map(|l| l.summary.start).min();
    let filter = match Filter::new(args, &all, analysis.as_ref(), origin) {
        Ok(f) => f,
        Err(e) => {
            report_error(e);
            return Status::Unreadable;
        }
    };
    let rows: Vec<&Listed> = all
        .iter()
        .filter(|l| keep(&l.summary, args) && filter.keeps(l, args))
        .collect();
    let width = usize::from(output::width().unwrap_or(crate::report::layout::FIXED_WIDTH));
    let written = output::emit(None, &redactor, |out| match args.format {
        ListFormat::Json => write_json(out, &rows, origin),
        ListFormat::Table => write_table(out, &rows, origin, width, &redactor),
        ListFormat::Csv => write_csv(out, &rows, origin),
    });
    match written {
        Ok(()) => Status::Clean,
        Err(e) => {
            report_error(e);
            Status::Unreadable
        }
    }
}

/// The regex of `--grep`, bounded in size; the error names the flag, never the pattern.
fn compile_grep(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "--grep: the regex is too large".to_string(),
            _ => "--grep: not a valid regex (Rust `regex` syntax)".to_string(),
        })
}

/// Whether `re` matches the session's heads or decoded bodies, as they would be printed:
/// redacted (unless --show-secrets), so a grep for a token never finds it.
fn grep_matches(
    re: &regex::Regex,
    session: &crate::capture::Session,
    redactor: &Redactor,
    limits: &DecodeLimits,
) -> bool {
    let limits = DecodeLimits {
        max_decoded: limits.max_decoded.min(crate::report::show::BODY_DECODE_CAP),
        ..*limits
    };
    let req = &session.request;
    let mut text = format!("{} {} {}\n", req.method, req.url, req.version);
    for (n, v) in req.headers.iter() {
        text.push_str(&format!("{n}: {v}\n"));
    }
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(
        &req.decoded_body_partial(&limits).bytes,
    ));
    if let Some(r) = &session.response {
        text.push_str(&format!("\n{} {} {}\n", r.version, r.status, r.reason));
        for (n, v) in r.headers.iter() {
            text.push_str(&format!("{n}: {v}\n"));
        }
        text.push('\n');
        // A body that is a bare token is searched only when secrets are shown.
        if redactor.show_secrets || !crate::report::show::is_bare_token(session) {
            text.push_str(&String::from_utf8_lossy(
                &r.decoded_body_partial(&limits).bytes,
            ));
        }
    }
    re.is_match(&redactor.text(&text))
}

/// The filters that need more than one session: time window, `--after`, `--flow`,
/// `--finding`, `--grep`.
struct Filter {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    /// `--after`: the session's start and id.
    after: Option<(Option<DateTime<FixedOffset>>, u64)>,
    /// `--flow`, `--finding`: the sessions they name.
    only: Option<BTreeSet<u64>>,
}

impl Filter {
    fn new(
        args: &SessionsArgs,
        all: &[Listed],
        analysis: Option<&crate::analysis::Analysis>,
        origin: Option<DateTime<FixedOffset>>,
    ) -> Result<Filter, String> {
        let time = |flag: &str, v: &Option<String>| {
            v.as_deref()
                .map(|t| parse_time(t, origin).map_err(|e| format!("--{flag} {t}: {e}")))
                .transpose()
        };
        let after = match args.after {
            None => None,
            Some(id) => match all.iter().find(|l| l.summary.id == id) {
                Some(l) => Some((l.summary.start, id)),
                None => return Err(format!("--after {id}: no session {id} in this capture")),
            },
        };
        let mut only: Option<BTreeSet<u64>> = None;
        if let (Some(n), Some(a)) = (args.flow, analysis) {
            let flow = usize::try_from(n)
                .ok()
                .and_then(|n| a.flows.get(n.saturating_sub(1)))
                .ok_or_else(|| {
                    format!("--flow {n}: the report has {} token flow(s)", a.flows.len())
                })?;
            only = Some(flow.sessions.iter().copied().collect());
        }
        if let (Some(id), Some(a)) = (&args.finding, analysis) {
            let cited: BTreeSet<u64> = a
                .findings
                .iter()
                .filter(|f| f.id == *id)
                .flat_map(|f| f.sessions.iter().copied())
                .collect();
            if !a.findings.iter().any(|f| f.id == *id) {
                let mut ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
                ids.dedup();
                return Err(format!(
                    "--finding {id}: no such finding in this capture (its findings: {})",
                    if ids.is_empty() {
                        "none".to_string()
                    } else {
                        ids.join(", ")
                    }
                ));
            }
            only = Some(match only {
                Some(o) => o.intersection(&cited).copied().collect(),
                None => cited,
            });
        }
        Ok(Filter {
            from: time("from", &args.from)?,
            to: time("to", &args.to)?,
            after,
            only,
        })
    }

    fn keeps(&self, l: &Listed, args: &SessionsArgs) -> bool {
        let s = &l.summary;
        if args.grep.is_some() && !l.extra.grep_hit {
            return false;
        }
        if let Some(only) = &self.only {
            if !only.contains(&s.id) {
                return false;
            }
        }
        if let Some(p) = &args.process {
            if !s
                .process
                .as_deref()
                .is_some_and(|have| process_matches(p, have))
            {
                return false;
            }
        }
        if let Some(m) = &args.method {
            if !s.method.eq_ignore_ascii_case(m.trim()) {
                return false;
            }
        }
        if self.from.is_some() || self.to.is_some() {
            let Some(start) = s.start else { return false };
            if self.from.is_some_and(|f| start < f) || self.to.is_some_and(|t| start > t) {
                return false;
            }
        }
        if let Some((after_start, after_id)) = self.after {
            let later = match (s.start, after_start) {
                (Some(a), Some(b)) => a > b || (a == b && s.id > after_id),
                _ => s.id > after_id,
            };
            if !later {
                return false;
            }
        }
        true
    }
}

/// `--from`/`--to`: RFC 3339 (no offset: UTC), a UTC time of day on the day of the
/// capture's first session, or `+SECONDS` after it.
fn parse_time(
    text: &str,
    origin: Option<DateTime<FixedOffset>>,
) -> Result<DateTime<FixedOffset>, String> {
    let t = text.trim();
    let utc = chrono::Utc.fix();
    if let Some(secs) = t.strip_prefix('+') {
        let secs: f64 = secs
            .trim_end_matches('s')
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s < 1e9)
            .ok_or("after + give seconds, like +30 or +2.5")?;
        let origin = origin.ok_or("the capture has no times")?;
        return Ok(origin + chrono::Duration::milliseconds((secs * 1000.0).round() as i64));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(n.and_utc().with_timezone(&utc));
        }
    }
    for f in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(time) = NaiveTime::parse_from_str(t, f) {
            let origin = origin.ok_or("the capture has no times")?;
            let day = origin.with_timezone(&chrono::Utc).date_naive();
            return Ok(day.and_time(time).and_utc().with_timezone(&utc));
        }
    }
    Err("not a time: give 2026-11-20T07:14:02Z, 07:14:02 (UTC) or +30 (seconds)".to_string())
}

/// `outlook`, `outlook.exe`, `outlook:4242` or a wildcard match `process` (`outlook:4242`):
/// the whole of it or its name before `:`.
fn process_matches(pattern: &str, process: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        match s.split_once(':') {
            Some((name, pid)) => format!("{}:{pid}", name.trim_end_matches(".exe")),
            None => s.trim_end_matches(".exe").to_string(),
        }
    };
    let (pattern, process) = (norm(pattern), norm(process));
    let name = process.split(':').next().unwrap_or("");
    wildcard(pattern.as_bytes(), process.as_bytes())
        || wildcard(pattern.as_bytes(), name.as_bytes())
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

fn write_json(
    out: &mut dyn Write,
    rows: &[&Listed],
    origin: Option<DateTime<FixedOffset>>,
) -> std::io::Result<()> {
    let rows: Vec<Row> = rows.iter().map(|s| Row::of(s, origin)).collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}

/// `--format csv`: the table's columns, nothing shortened, times in full (RFC 4180, CRLF).
pub const CSV_HEADER: [&str; 14] = [
    "id",
    "start_utc",
    "elapsed_s",
    "result",
    "method",
    "host",
    "request_bytes",
    "response_bytes",
    "content_type",
    "process",
    "auth_offered",
    "auth_sent",
    "url",
    // Issue 20: Fiddler's id (SAZ `SID`), empty for HAR and NetLog.
    "fiddler_id",
];

fn write_csv(
    out: &mut dyn Write,
    rows: &[&Listed],
    origin: Option<DateTime<FixedOffset>>,
) -> std::io::Result<()> {
    use crate::batch::render::csv_field;
    write!(out, "{}\r\n", CSV_HEADER.join(","))?;
    for l in rows {
        let s = &l.summary;
        let fields = [
            s.id.to_string(),
            s.start.map(utc_millis).unwrap_or_default(),
            since(s, origin)
                .map(|ms| format!("{:.3}", ms as f64 / 1000.0))
                .unwrap_or_default(),
            result(s),
            s.method.to_string(),
            s.host.as_deref().unwrap_or("").to_string(),
            s.request_bytes.to_string(),
            s.response_bytes.to_string(),
            s.content_type.as_deref().unwrap_or("").to_string(),
            s.process.as_deref().unwrap_or("").to_string(),
            l.extra.auth.offered.join(" "),
            l.extra.auth.sent.clone().unwrap_or_default(),
            s.url.to_string(),
            s.fiddler_id.map(|f| f.to_string()).unwrap_or_default(),
        ];
        let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        write!(out, "{}\r\n", fields.join(","))?;
    }
    Ok(())
}

/// The Result column: the status, `abort`, or `-`.
fn result(s: &SessionSummary) -> String {
    match (s.status, s.flags.aborted) {
        (Some(code), _) => code.to_string(),
        (None, true) => "abort".to_string(),
        (None, false) => "-".to_string(),
    }
}

/// The table within `width` columns (`COLUMNS`, the terminal, else 120: the width every
/// table uses, issue 20). No cell is shortened or cut: identifiers, hosts and URLs print
/// whole. Columns are as wide as their widest cell; when the row does not fit, the optional
/// columns go (Content-Type, then Body), then the URL moves to its own line under the row,
/// indented, and more columns go (Auth, Process, Elapsed, Host, Time) until the rest fits; a URL
/// longer than the width overflows, whole. Every cell is redacted. Time is the request's
/// start in UTC (as Entra ID's sign-in logs), Elapsed the seconds since the capture's first
/// session, as Fiddler shows them. `Fiddler #` (the SAZ's `SID`) shows only when it differs
/// from the session number for some row.
fn write_table(
    out: &mut dyn Write,
    rows: &[&Listed],
    origin: Option<DateTime<FixedOffset>>,
    width: usize,
    redactor: &Redactor,
) -> std::io::Result<()> {
    // (header, right-aligned, cells)
    let column = |header: &'static str, right: bool, cell: &dyn Fn(&Listed) -> String| {
        (
            header,
            right,
            rows.iter().map(|l| cell(l)).collect::<Vec<String>>(),
        )
    };
    let fiddler = rows.iter().any(|l| l.summary.other_fiddler_id().is_some());
    let mut columns = vec![column("#", true, &|l| l.summary.id.to_string())];
    if fiddler {
        columns.push(column("Fiddler #", true, &|l| {
            l.summary
                .fiddler_id
                .map_or_else(|| "-".to_string(), |f| f.to_string())
        }));
    }
    columns.extend([
        column("Time (UTC)", false, &|l| {
            l.summary
                .start
                .map(|t| {
                    t.with_timezone(&chrono::Utc)
                        .format("%H:%M:%S%.3f")
                        .to_string()
                })
                .unwrap_or_else(|| "-".to_string())
        }),
        column("Elapsed", true, &|l| {
            since(&l.summary, origin)
                .map(|ms| elapsed(ms).trim_end_matches(" s").to_string())
                .unwrap_or_else(|| "-".to_string())
        }),
        column("Result", true, &|l| result(&l.summary)),
        column("Method", false, &|l| {
            redactor.text(&l.summary.method).into_owned()
        }),
        column("Host", false, &|l| {
            redactor
                .text(l.summary.host.as_deref().unwrap_or("-"))
                .into_owned()
        }),
        column("Body", true, &|l| l.summary.response_bytes.to_string()),
        column("Content-Type", false, &|l| {
            let ctype = l.summary.content_type.as_deref().unwrap_or("");
            redactor
                .text(ctype.split(';').next().unwrap_or("").trim())
                .into_owned()
        }),
        column("Process", false, &|l| {
            redactor
                .text(l.summary.process.as_deref().unwrap_or(""))
                .into_owned()
        }),
        column("Auth", false, &|l| l.extra.auth.column()),
    ]);
    let urls: Vec<String> = rows
        .iter()
        .map(|l| redactor.text(&l.summary.url).into_owned())
        .collect();
    let chars = |s: &str| s.chars().count();
    let widths: Vec<usize> = columns
        .iter()
        .map(|(h, _, cells)| {
            cells
                .iter()
                .map(|c| chars(c))
                .chain([chars(h)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let url_w = urls.iter().map(|u| chars(u)).chain([3]).max().unwrap_or(3);
    let mut shown = vec![true; columns.len()];
    let line = |shown: &[bool], extra: usize| {
        let (n, sum) = widths
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .fold((0usize, 0usize), |(n, sum), (w, _)| (n + 1, sum + w));
        sum + 2 * n.saturating_sub(1) + extra
    };
    let drop = |shown: &mut Vec<bool>, header: &str| {
        if let Some(i) = columns.iter().position(|(h, _, _)| *h == header) {
            shown[i] = false;
        }
    };
    let mut inline = true;
    for header in ["Content-Type", "Body"] {
        if line(&shown, 2 + url_w) <= width {
            break;
        }
        drop(&mut shown, header);
    }
    if line(&shown, 2 + url_w) > width {
        inline = false;
        shown = vec![true; columns.len()];
        // The host last but one: the URL under the row names it.
        for header in [
            "Content-Type",
            "Body",
            "Auth",
            "Process",
            "Elapsed",
            "Host",
            "Time (UTC)",
        ] {
            if line(&shown, 0) <= width {
                break;
            }
            drop(&mut shown, header);
        }
    }
    let row = |cells: &mut dyn Iterator<Item = (usize, &str)>, url: &str| {
        let mut text = String::new();
        for (i, cell) in cells {
            if !shown[i] {
                continue;
            }
            if !text.is_empty() {
                text.push_str("  ");
            }
            let w = widths[i];
            if columns[i].1 {
                text.push_str(&format!("{cell:>w$}"));
            } else {
                text.push_str(&format!("{cell:<w$}"));
            }
        }
        if inline {
            text.push_str("  ");
            text.push_str(url);
        }
        let mut text = text.trim_end().to_string();
        if !inline {
            text.push_str("\n    ");
            text.push_str(url);
        }
        text
    };
    let headers: Vec<&str> = columns.iter().map(|(h, _, _)| *h).collect();
    let head = row(&mut headers.iter().copied().enumerate(), "URL");
    writeln!(out, "{head}")?;
    for (r, url) in urls.iter().enumerate() {
        let text = row(
            &mut columns
                .iter()
                .map(|(_, _, cells)| cells[r].as_str())
                .enumerate(),
            url,
        );
        writeln!(out, "{text}")?;
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
        let listed: Vec<Listed> = rows
            .iter()
            .map(|s| Listed {
                summary: s.clone(),
                extra: Extra::default(),
            })
            .collect();
        let refs: Vec<&Listed> = listed.iter().collect();
        let mut out = Vec::new();
        write_table(&mut out, &refs, None, width, redactor).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A URL is redacted, then printed whole at every width (issue 20: no cell is cut; it
    /// used to be shortened in the middle, and a blind cut had printed a code's tail).
    #[test]
    fn a_url_is_redacted_and_never_shortened() {
        let code = "0.AXoAqwertyuiopasdfghjklzxcvbnm1234567890QWERTYUIOP";
        let url = format!(
            "https://login.microsoftonline.com/common/oauth2/authorize?client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&code={code}&state=12345"
        );
        let rows = [row(&url, "login.microsoftonline.com")];
        let whole = Redactor::default().text(&url).into_owned();
        for width in [60, 80, 120, 150, 200] {
            let out = table(&rows, width, &Redactor::default());
            for i in 0..=code.len() - 6 {
                assert!(!out.contains(&code[i..i + 6]), "{width}: {out}");
            }
            assert!(!out.contains('…'), "{width}: {out}");
            assert!(out.contains(whole.as_str()), "{width}: {out}");
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

#[cfg(test)]
mod filter_tests {
    use super::{parse_time, process_matches};
    use chrono::DateTime;

    #[test]
    fn process_names_match_with_or_without_exe_and_pid() {
        for p in [
            "outlook",
            "OUTLOOK.EXE",
            "outlook:4242",
            "outlook.exe:4242",
            "out*",
            "*",
        ] {
            assert!(process_matches(p, "outlook:4242"), "{p}");
        }
        for p in ["outlook:1", "ms-teams", "look", "outlook.exe:42"] {
            assert!(!process_matches(p, "outlook:4242"), "{p}");
        }
        assert!(process_matches("outlook", "OUTLOOK.EXE"));
    }

    #[test]
    fn times_are_rfc3339_utc_time_of_day_or_seconds_from_the_start() {
        let origin = DateTime::parse_from_rfc3339("2026-11-20T08:13:59.5+01:00").ok();
        let at = |t: &str| parse_time(t, origin).map(|d| d.to_rfc3339());
        let want = "2026-11-20T07:14:02+00:00".to_string();
        assert_eq!(at("07:14:02"), Ok(want.clone()));
        assert_eq!(at("2026-11-20T07:14:02Z").map(|_| ()), Ok(()));
        assert_eq!(at("2026-11-20 07:14:02"), Ok(want.clone()));
        assert_eq!(at("+2.5"), Ok("2026-11-20T08:14:02+01:00".to_string()));
        assert_eq!(at("+2.5s"), at("+2.5"));
        for bad in [
            "",
            "+",
            "+-1",
            "+NaN",
            "+inf",
            "25:00",
            "yesterday",
            "+1e300",
        ] {
            assert!(at(bad).is_err(), "{bad}");
        }
        assert!(parse_time("07:14", None).is_err());
        assert!(parse_time("+1", None).is_err());
    }
}

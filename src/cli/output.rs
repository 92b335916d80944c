//! Where output goes and how wide it may be.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use super::ColorWhen;
use crate::redact::{Redactor, UserRules};

thread_local! {
    /// While [`super::run_captured`] runs a command on this thread: what it printed on
    /// stdout and stderr.
    static CAPTURED: RefCell<Option<(Vec<u8>, Vec<u8>)>> = const { RefCell::new(None) };
    /// While a command runs on this thread: `--redact-term` and `--redact-regex`, for every
    /// [`redactor`] it makes (its output, its messages on stderr).
    static USER_RULES: RefCell<Arc<UserRules>> = RefCell::new(Arc::default());
    /// While a command runs on this thread: `--color`.
    static COLOR: std::cell::Cell<ColorWhen> = const { std::cell::Cell::new(ColorWhen::Auto) };
}

/// Run `f` with `when` as this thread's `--color`, then put the previous one back.
pub(crate) fn with_color<R>(when: ColorWhen, f: impl FnOnce() -> R) -> R {
    let previous = COLOR.with(|c| c.replace(when));
    let result = f();
    COLOR.with(|c| c.set(previous));
    result
}

/// Whether the text this command prints on stdout may be coloured: `--color always`, or
/// `auto` (the default) with stdout a terminal and `NO_COLOR` unset or empty
/// (<https://no-color.org>). The caller still colours only the table format on stdout:
/// never JSON, markdown, CSV, PowerShell or a file.
pub(crate) fn color() -> bool {
    match COLOR.with(std::cell::Cell::get) {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            !capturing()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && io::stdout().is_terminal()
        }
    }
}

/// Run `f` with `rules` as this thread's user rules, then put the previous ones back.
pub(crate) fn with_user_rules<R>(rules: Arc<UserRules>, f: impl FnOnce() -> R) -> R {
    let previous = USER_RULES.with(|u| u.replace(rules));
    let result = f();
    USER_RULES.with(|u| u.replace(previous));
    result
}

/// The redaction layer for this command's output: the secret finders unless
/// `show_secrets`, and the user's rules.
pub(crate) fn redactor(show_secrets: bool) -> Redactor {
    Redactor::new(show_secrets).with_user(USER_RULES.with(|u| u.borrow().clone()))
}

/// Collect what `f` prints through [`emit`] and [`print_error`] on this thread instead of
/// printing it; return it as (stdout, stderr).
pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<u8>, Vec<u8>) {
    let previous = CAPTURED.with(|c| c.replace(Some((Vec::new(), Vec::new()))));
    let result = f();
    let (out, err) = CAPTURED.with(|c| c.replace(previous)).unwrap_or_default();
    (result, out, err)
}

/// Whether output on this thread is being collected by [`capture`] (no terminal then).
pub(crate) fn capturing() -> bool {
    CAPTURED.with(|c| c.borrow().is_some())
}

/// Write one line on stderr, or where [`capture`] collects it.
pub(crate) fn print_error(line: &str) {
    let collected = CAPTURED.with(|c| {
        c.borrow_mut().as_mut().map(|(_, err)| {
            err.extend_from_slice(line.as_bytes());
            err.push(b'\n');
        })
    });
    if collected.is_none() {
        eprintln!("{line}");
    }
}

/// Render with `render` into memory, pass the text through the redaction layer, and write it
/// to stdout or to the file given with `-o`. Every command's output goes this way: nothing
/// reaches the user without passing [`Redactor::text`]. A file that exists and is not a
/// regular file is refused (`files::check_output`); with `--show-secrets` a new file is
/// created 0600 on Unix. A file is written beside and renamed into place
/// ([`super::files::write_atomically`]); every failed write is an error naming its target.
pub fn emit(
    path: Option<&Path>,
    redactor: &Redactor,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let mut buf = Vec::new();
    render(&mut buf).map_err(|e| format!("cannot render output: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let text = redactor.text(&text);
    match path {
        Some(p) => {
            // Checked again here, in case it appeared since the command's own check.
            super::files::check_output(p)?;
            // A report with secrets shown is created readable by its owner only; written
            // beside and renamed, so a failed write never leaves half a report.
            super::files::write_atomically(p, redactor.show_secrets, text.as_bytes())
        }
        None if capturing() => {
            CAPTURED.with(|c| {
                if let Some((out, _)) = c.borrow_mut().as_mut() {
                    out.extend_from_slice(text.as_bytes());
                }
            });
            Ok(())
        }
        None => {
            let mut out = io::stdout().lock();
            finish(out.write_all(text.as_bytes()).and_then(|_| out.flush()))
        }
    }
}

/// The terminal's width when stdout is one, else `None` (no shortening in pipes and files).
pub fn terminal_width() -> Option<usize> {
    if capturing() || !io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
}

/// The width tables and wrapped text on stdout are laid out in: `COLUMNS` when it is a
/// number (kept within 20..=1000), else the terminal's when stdout is one, else `None`: the
/// renderers' fixed width ([`crate::report::layout::FIXED_WIDTH`], 120), also while
/// [`capture`] collects the output (tests), whatever `COLUMNS` says.
pub fn width() -> Option<u16> {
    if capturing() {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c > 0);
    columns
        .map(|c| c.clamp(20, 1000))
        .or_else(|| terminal_width().and_then(|w| u16::try_from(w).ok()))
}

/// Ignore a closed pipe (`traceadal sessions x.saz | head`), report anything else as
/// `cannot write standard output: <why>` (exit 2).
pub fn finish(result: io::Result<()>) -> Result<(), String> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| super::files::cannot_write("standard output", &e)),
    }
}

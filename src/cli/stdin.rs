//! `-` as the capture: standard input (issue 20), for `analyze`, `sessions`, `show` and
//! `redact`.
//!
//! The format is told from the content, as for a file (`capture::detect`), and a SAZ is a
//! zip whose directory is at its end: the input is spooled whole into a private temporary
//! file (0600, removed when the command ends, on an error, or on Ctrl-C), under the limit
//! `--max-inflated-mib` sets for anything traceadal inflates, and read from there. Reports
//! and messages name it `<stdin>`.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use super::files::{self, Temp};
use super::output;

/// How reports and messages name standard input.
pub const NAME: &str = "<stdin>";

thread_local! {
    /// Standard input spooled by this command: read once, however often `-` is given.
    static SPOOLED: RefCell<Option<Temp>> = const { RefCell::new(None) };
}

/// Does `path` mean standard input?
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The name of `path` in messages: `<stdin>` for `-`.
pub fn shown(path: &Path) -> String {
    if is_stdin(path) {
        NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// What to open for `path`: the path itself, or for `-` the file holding standard input
/// ([`spooled`]).
pub fn resolved(path: &Path, limit: u64) -> Result<std::borrow::Cow<'_, Path>, String> {
    if is_stdin(path) {
        spooled(limit).map(std::borrow::Cow::Owned)
    } else {
        Ok(std::borrow::Cow::Borrowed(path))
    }
}

/// The file holding standard input, spooled on the first call (at most `limit` bytes).
pub fn spooled(limit: u64) -> Result<PathBuf, String> {
    if let Some(p) = SPOOLED.with(|s| s.borrow().as_ref().map(|t| t.0.clone())) {
        return Ok(p);
    }
    if output::capturing() {
        // As `run_captured` documents: standard input is empty there.
        return spool_from(io::empty(), limit);
    }
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(format!(
            "{NAME}: is a terminal; pipe a capture in (`traceadal analyze - < capture.saz`) or give its file name"
        ));
    }
    spool_from(stdin.lock(), limit)
}

fn spool_from(input: impl Read, limit: u64) -> Result<PathBuf, String> {
    let (temp, mut file) = files::temp_beside(&std::env::temp_dir().join("stdin"), true)
        .map_err(|e| files::cannot_write("a temporary file for standard input", &e))?;
    let copied = io::copy(&mut input.take(limit.saturating_add(1)), &mut file)
        .map_err(|e| format!("{NAME}: cannot read: {}", files::io_message(&e)))?;
    if copied > limit {
        return Err(format!(
            "{NAME}: larger than {} MiB (--max-inflated-mib); save it to a file and give its name",
            limit / (1024 * 1024)
        ));
    }
    file.flush()
        .map_err(|e| files::cannot_write("a temporary file for standard input", &e))?;
    let path = temp.0.clone();
    SPOOLED.with(|s| *s.borrow_mut() = Some(temp));
    Ok(path)
}

/// Remove the spooled copy (the command is over).
pub fn release() {
    SPOOLED.with(|s| s.borrow_mut().take());
}

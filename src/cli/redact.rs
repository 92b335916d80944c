//! `traceadal redact IN OUT`: a copy of a capture with every secret replaced: the format's
//! rewriter (`capture::formats`) streams the capture through `redact::Placeholders` (see
//! `crate::redact::{saz, har}` and `docs/secrets.md`).
//!
//! The copy is written to a temporary file beside OUT and renamed over OUT once complete, so
//! OUT is either the old file or the whole new one. IN is never overwritten: OUT naming the
//! same file (same path, `./` path, symlink or hard link) is refused.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{output, report_error, RedactArgs, Status};
use crate::capture::detect::detect_file;
use crate::capture::formats;
use crate::capture::rewrite::RewriteOptions;
use crate::capture::{Capture, CaptureErrorKind, Password, ReadOptions};
use crate::redact::{Counts, Placeholders, Redactor};

pub fn run(args: &RedactArgs) -> Status {
    match redact(args) {
        Ok(()) => Status::Clean,
        Err(e) => {
            report_error(e);
            Status::Unreadable
        }
    }
}

fn redact(args: &RedactArgs) -> Result<(), String> {
    let input = &args.input;
    let out = &args.output;
    let shown = |e: CaptureErrorKind| format!("{}: {e}", input.display());
    let spec = formats::spec(detect_file(input).map_err(shown)?);
    if same_file(input, out) {
        return Err(format!(
            "{}: is the input; refusing to overwrite it (give another OUT)",
            out.display()
        ));
    }
    if out.is_dir() {
        return Err(format!(
            "{}: is a directory; give a file name",
            out.display()
        ));
    }
    let out_password = output_password(args)?;
    if out_password.is_some() && !spec.encrypts {
        let can: Vec<&str> = formats::ALL
            .iter()
            .filter(|s| s.encrypts)
            .map(|s| s.name)
            .collect();
        return Err(format!(
            "--out-password-env/--out-password-file: only a {} can be encrypted; a {} is written as plain JSON",
            can.join(" or "),
            spec.name
        ));
    }
    let input_password = if spec.encrypted_input {
        input_password(input, args)?
    } else {
        None
    };
    let (tmp_path, tmp) = temp_beside(out)?;
    let opts = RewriteOptions {
        read: ReadOptions {
            password: input_password,
            limits: args.read.limits(),
        },
        output_password: out_password,
    };
    let mut scrubber = Placeholders::new(opts.read.limits);
    let mut w = BufWriter::new(tmp);
    let result = (spec.rewrite)(input, &mut w, &opts, &mut scrubber)
        .and_then(|r| w.flush().map(|_| r).map_err(CaptureErrorKind::Io));
    drop(w);
    let rewritten = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_file(&tmp_path);
            return Err(shown(e));
        }
    };
    for n in rewritten.notes.iter().chain(&scrubber.outcome.notes) {
        report_error(format!("{}: {n}", input.display()));
    }
    if let Err(e) = fs::rename(&tmp_path, out) {
        let _ = fs::remove_file(&tmp_path);
        return Err(format!("{}: cannot write: {e}", out.display()));
    }
    let counts = scrubber.outcome.counts;
    output::emit(None, Redactor::default(), |w| {
        summary(w, input, out, &rewritten.what, &counts)
    })
}

fn summary(
    w: &mut dyn Write,
    input: &Path,
    out: &Path,
    what: &str,
    counts: &Counts,
) -> std::io::Result<()> {
    writeln!(w, "{} -> {} ({what})", input.display(), out.display())?;
    writeln!(w, "replaced {} secret(s): {counts}", counts.total())
}

/// The input's password: none when it is not encrypted; asked on a terminal when it is and
/// none was given.
fn input_password(input: &Path, args: &RedactArgs) -> Result<Option<Password>, String> {
    let shown = |e: CaptureErrorKind| format!("{}: {e}", input.display());
    let options = args.read.options(false)?;
    match Capture::open(input, &options).map_err(|e| e.kind) {
        Ok(_) => Ok(options.password),
        Err(CaptureErrorKind::PasswordRequired) if options.password.is_none() => {
            let options = args.read.options(true)?;
            if options.password.is_none() {
                return Err(shown(CaptureErrorKind::PasswordRequired));
            }
            Capture::open(input, &options).map_err(|e| shown(e.kind))?;
            Ok(options.password)
        }
        Err(e) => Err(shown(e)),
    }
}

fn output_password(args: &RedactArgs) -> Result<Option<Password>, String> {
    if let Some(var) = &args.out_password_env {
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(Password::new(v))),
            _ => Err(format!(
                "--out-password-env: environment variable {var} is not set or empty"
            )),
        };
    }
    if let Some(file) = &args.out_password_file {
        let text = fs::read_to_string(file)
            .map_err(|e| format!("--out-password-file {}: {e}", file.display()))?;
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            return Err(format!(
                "--out-password-file {}: the first line is empty",
                file.display()
            ));
        }
        return Ok(Some(Password::new(line)));
    }
    Ok(None)
}

/// Do `a` and `b` name the same file (same inode, or the same canonical path when `b` does
/// not exist yet)?
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(ca)) = (fs::metadata(a), fs::canonicalize(a)) else {
        return false;
    };
    if let Ok(mb) = fs::metadata(b) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
                return true;
            }
        }
        let _ = (&ma, &mb);
        return fs::canonicalize(b).is_ok_and(|cb| cb == ca);
    }
    let parent = match b.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (fs::canonicalize(parent), b.file_name()) {
        (Ok(p), Some(name)) => p.join(name) == ca,
        _ => false,
    }
}

/// A new file beside `out` (same directory, so the final rename is atomic).
fn temp_beside(out: &Path) -> Result<(PathBuf, File), String> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "capture".into());
    for n in 0..100u32 {
        let path = dir.join(format!(".{name}.traceadal-{}-{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: cannot write: {e}", dir.display())),
        }
    }
    Err(format!("{}: cannot create a temporary file", dir.display()))
}

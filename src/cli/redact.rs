//! `traceadal redact IN OUT`: a copy of a capture with every secret replaced: the format's
//! rewriter (`capture::formats`) streams the capture through `redact::Placeholders` (see
//! `crate::redact::{saz, har}` and `docs/secrets.md`).
//!
//! The copy is written to a temporary file beside OUT and renamed over OUT once complete, so
//! OUT is either the old file or the whole new one; the temporary file is removed on every
//! error path. IN is never overwritten: OUT naming the same file (same path, `./` path,
//! symlink or hard link) is refused, and so is an OUT that is not a regular file. The copy is
//! created 0600 on Unix; replacing an existing file keeps that file's mode.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{files, output, report_error, Opened, ReadArgs, RedactArgs, Status};
use crate::capture::detect::detect_file;
use crate::capture::formats;
use crate::capture::rewrite::RewriteOptions;
use crate::capture::{Capture, CaptureErrorKind, Password, ReadOptions};
use crate::redact::{Counts, Placeholders};

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
    // `-`: standard input, spooled to a private temporary file and named `<stdin>`.
    let name = super::stdin::shown(&args.input);
    let input = &*super::stdin::resolved(&args.input, args.read.limits().max_inflated)?;
    let out = &args.output;
    let shown = |e: CaptureErrorKind| format!("{name}: {e}");
    let dest = destination(input, out, "redact")?;
    let spec = formats::spec(detect_file(input).map_err(shown)?);
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
    let (_, read) = open_input(spec, &args.input, &args.read, "redact")?;
    let opts = RewriteOptions {
        read,
        output_password: out_password,
    };
    let mut scrubber = Placeholders::new(opts.read.limits);
    scrubber.user = args.rules.compile()?;
    if args.drop_bodies_except_auth {
        scrubber.reads_body = Some(crate::auth::reads_body);
    }
    let out_name = out.display().to_string();
    let rewritten =
        dest.write(|file| rewrite(spec, input, &name, (file, &out_name), &opts, &mut scrubber))?;
    let counts = scrubber.outcome.counts;
    let dropped = args
        .drop_bodies_except_auth
        .then_some(scrubber.bodies_dropped);
    output::emit(None, &output::redactor(false), |w| {
        summary(w, &name, &args.output, &rewritten.what, &counts)?;
        match dropped {
            Some(n) => writeln!(
                w,
                "dropped the bodies of {n} session(s) the diagnosis does not read"
            ),
            None => Ok(()),
        }
    })
}

/// `input` rewritten by its format's rewriter through `scrubber` into `file`; what the user
/// should know about it reported on stderr.
pub(super) fn rewrite(
    spec: &formats::FormatSpec,
    input: &Path,
    name: &str,
    (file, out_name): (&mut File, &str),
    opts: &RewriteOptions,
    scrubber: &mut Placeholders,
) -> Result<crate::capture::rewrite::Rewritten, String> {
    let shown = |e: CaptureErrorKind| format!("{name}: {e}");
    // A failed write (a full disk) is told from a failed read by the writer itself: the
    // error that comes back may have gone through the zip writer's own type.
    let mut w = BufWriter::new(files::Tracked::new(file));
    let rewritten = (spec.rewrite)(input, &mut w, opts, scrubber);
    let flushed = w.flush();
    let tracked = w
        .into_inner()
        .map_err(|e| files::cannot_write(out_name, e.error()))?;
    if let Some(e) = &tracked.error {
        return Err(files::cannot_write(out_name, e));
    }
    flushed.map_err(|e| files::cannot_write(out_name, &e))?;
    let rewritten = rewritten.map_err(shown)?;
    tracked
        .into_inner()
        .sync_all()
        .map_err(|e| files::cannot_write(out_name, &e))?;
    let notes: Vec<String> = rewritten
        .notes
        .iter()
        .chain(&scrubber.outcome.notes)
        .cloned()
        .collect();
    for n in super::notes::grouped(&notes) {
        report_error(format!("{name}: {n}"));
    }
    Ok(rewritten)
}

/// The input of `command` (`redact`, `convert`) opened when its format may be encrypted
/// (a SAZ), as every command opens a capture ([`super::open_any`]: the password asked for
/// on a terminal when it is encrypted and none was given): the capture, and the options to
/// read it again with. Any other format is not opened here: its options are the limits and
/// no password. A zip of captures (what tickets attach) is refused, saying what it holds:
/// its copy would hold nothing.
pub(super) fn open_input(
    spec: &formats::FormatSpec,
    input: &Path,
    read: &ReadArgs,
    command: &str,
) -> Result<(Option<Capture>, ReadOptions), String> {
    if !spec.encrypted_input {
        let options = ReadOptions {
            password: None,
            limits: read.limits(),
        };
        return Ok((None, options));
    }
    match super::open_any(input, read)? {
        Opened::One(capture, options) => Ok((Some(capture), options)),
        Opened::Zip(zip, _) => Err(format!(
            "{}: a zip of {} capture(s) ({}), not a capture itself: extract each and {command} it",
            zip.name,
            zip.captures.len(),
            zip.listing()
        )),
    }
}

/// Where a command's output file goes: the checks before anything is written (IN is never
/// overwritten, OUT is a regular file or new). [`Destination::write`] writes it through
/// [`files::replace_with`]: a temporary file beside it, renamed over it once complete.
pub(super) struct Destination {
    out: PathBuf,
}

/// Check `out` for `command` writing a copy of `input`.
pub(super) fn destination(input: &Path, out: &Path, command: &str) -> Result<Destination, String> {
    files::check_input(input)?;
    if files::same_file(input, out) {
        return Err(format!(
            "{}: is the input; refusing to overwrite it (give another OUT)",
            out.display()
        ));
    }
    // OUT is replaced by a rename: it must be a regular file when it exists, never a
    // directory, a device or a FIFO, nor a stream name (/dev/stdout is a symlink a rename
    // would replace). A symlink to a regular file is written through: its target is replaced.
    if files::is_stream_name(out) {
        return Err(format!(
            "{}: {command} writes a file and renames it into place; give a file name",
            out.display()
        ));
    }
    let path = files::rename_target(out);
    if fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(files::check_output(&path).err().unwrap_or_else(|| {
            format!(
                "{}: is not a regular file; {command} writes a new file and renames it over OUT",
                path.display()
            )
        }));
    }
    Ok(Destination {
        out: out.to_path_buf(),
    })
}

impl Destination {
    /// Write the file through `f` (0600 until it replaces a file, whose mode it keeps); on
    /// any error the temporary file goes and OUT is left as it was.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut File) -> Result<T, String>,
    ) -> Result<T, String> {
        files::replace_with(&self.out, true, f)
    }
}

/// A scratch file beside `near` (0600), removed when the returned guard drops: for a copy
/// that is read again before the output is written.
pub(super) fn scratch_beside(near: &Path) -> Result<(Scratch, File), String> {
    let (tmp, file) = files::temp_beside(near, true)
        .map_err(|e| files::cannot_write(&near.display().to_string(), &e))?;
    Ok((Scratch(tmp), file))
}

/// See [`scratch_beside`].
pub(super) struct Scratch(files::Temp);

impl Scratch {
    pub(super) fn path(&self) -> &Path {
        &self.0 .0
    }
}

fn summary(
    w: &mut dyn Write,
    input: &str,
    out: &Path,
    what: &str,
    counts: &Counts,
) -> std::io::Result<()> {
    writeln!(w, "{input} -> {} ({what})", out.display())?;
    writeln!(w, "replaced {} secret(s): {counts}", counts.total())
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
        let line = files::first_line("--out-password-file", file)?;
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

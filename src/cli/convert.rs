//! `traceadal convert IN OUT`: a SAZ as a HAR 1.2, a HAR as a Fiddler SAZ.
//!
//! Redacted by default exactly as `redact` redacts: the input is first rewritten by its
//! format's own `redact` rewrite (same scrubber, same `--redact-term`/`--redact-regex`) into a
//! scratch file beside OUT (0600, removed on every path), and that copy is what is
//! converted; `--show-secrets` converts the input itself. The sessions are read by the
//! format's reader (`capture::Capture`) and written by `capture::write`. OUT is written as
//! `redact` writes it ([`super::redact::Destination`]): never the input, a temporary file
//! renamed into place.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::redact::{destination, open_input, rewrite, scratch_beside, Destination};
use super::{output, report_error, ConvertArgs, ConvertTo, Status};
use crate::capture::detect::detect_file;
use crate::capture::formats;
use crate::capture::rewrite::RewriteOptions;
use crate::capture::write::{har::HarWriter, saz::SazWriter};
use crate::capture::{Capture, CaptureErrorKind, DecodeLimits, ReadOptions, Session};
use crate::redact::{Counts, Placeholders};

pub fn run(args: &ConvertArgs) -> Status {
    match convert(args) {
        Ok(()) => Status::Clean,
        Err(e) => {
            report_error(e);
            Status::Unreadable
        }
    }
}

/// The format to write: `--to`, else OUT's extension.
fn target(args: &ConvertArgs) -> Result<ConvertTo, String> {
    if let Some(to) = args.to {
        return Ok(to);
    }
    let ext = args
        .output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("har") => Ok(ConvertTo::Har),
        Some("saz") => Ok(ConvertTo::Saz),
        _ => Err(format!(
            "{}: cannot tell the format to write from the name; end it in .har or .saz, or give --to har|saz",
            args.output.display()
        )),
    }
}

fn convert(args: &ConvertArgs) -> Result<(), String> {
    let input = &args.input;
    let shown = |e: CaptureErrorKind| format!("{}: {e}", input.display());
    let to = target(args)?;
    if args.show_secrets && !(args.rules.terms.is_empty() && args.rules.regexes.is_empty()) {
        return Err(
            "--show-secrets keeps the capture as it is: --redact-term and --redact-regex apply only to a redacted conversion"
                .into(),
        );
    }
    let dest = destination(input, &args.output, "convert")?;
    let spec = formats::spec(detect_file(input).map_err(shown)?);
    let limits = args.read.limits();
    let (opened, read) = open_input(spec, input, &args.read, "convert")?;
    // Redacted: `redact`'s own rewrite of the input into a scratch copy, which is converted.
    let mut counts = None;
    let scratch;
    let (source, source_read) = if args.show_secrets {
        // The input itself: as opened already, if it was.
        if let Some(capture) = opened {
            return finish(args, to, &dest, &capture, None);
        }
        (input.as_path(), read)
    } else {
        let (tmp, mut file) = scratch_beside(&args.output)?;
        let mut scrubber = Placeholders::new(limits);
        scrubber.user = args.rules.compile()?;
        let opts = RewriteOptions {
            read,
            output_password: None,
        };
        let scratch_name = args.output.display().to_string();
        rewrite(
            spec,
            input,
            &input.display().to_string(),
            (&mut file, &scratch_name),
            &opts,
            &mut scrubber,
        )?;
        drop(file);
        counts = Some(scrubber.outcome.counts);
        scratch = tmp;
        (
            scratch.path(),
            ReadOptions {
                password: None,
                limits,
            },
        )
    };
    let capture = Capture::open(source, &source_read).map_err(|e| shown(e.kind))?;
    finish(args, to, &dest, &capture, counts.as_ref())
}

/// `capture` written to OUT as `to`, and the summary: the secrets replaced (`counts`), or
/// kept.
fn finish(
    args: &ConvertArgs,
    to: ConvertTo,
    dest: &Destination,
    capture: &Capture,
    counts: Option<&Counts>,
) -> Result<(), String> {
    let limits = args.read.limits();
    let (written, notes) = dest.write(|file| write_as(to, capture, file, &limits))?;
    for n in notes {
        report_error(format!("{}: {n}", args.input.display()));
    }
    let what = match to {
        ConvertTo::Har => format!("HAR 1.2, {written} entries"),
        ConvertTo::Saz => format!("SAZ, {written} sessions"),
    };
    output::emit(None, &output::redactor(false), |w| {
        summary(w, &args.input, &args.output, &what, counts)
    })
}

fn summary(
    w: &mut dyn Write,
    input: &Path,
    out: &Path,
    what: &str,
    counts: Option<&Counts>,
) -> std::io::Result<()> {
    writeln!(w, "{} -> {} ({what})", input.display(), out.display())?;
    match counts {
        Some(c) => writeln!(w, "replaced {} secret(s): {c}", c.total()),
        None => writeln!(w, "secrets kept (--show-secrets)"),
    }
}

/// Every readable session of `capture` written to `file` as `to`: the number written and
/// what the user should know (sessions that could not be read, bodies that did not decode).
/// The one write path of `convert`.
pub(crate) fn write_as(
    to: ConvertTo,
    capture: &Capture,
    file: &mut File,
    limits: &DecodeLimits,
) -> Result<(usize, Vec<String>), String> {
    let shown = |e: std::io::Error| format!("cannot write: {e}");
    let mut notes = Vec::new();
    let (written, failed) = match to {
        ConvertTo::Har => {
            let mut har = HarWriter::new(BufWriter::new(file), "converted by traceadal convert")
                .map_err(shown)?;
            let failed = stream(
                capture,
                |s| {
                    let mut notes = Vec::new();
                    let e = crate::capture::write::har::entry(&s, limits, &mut notes);
                    (e, notes)
                },
                |(e, n)| {
                    notes.extend(n);
                    har.entry(&e)
                },
            )?;
            let n = har.entries();
            har.finish().and_then(|mut w| w.flush()).map_err(shown)?;
            (n, failed)
        }
        ConvertTo::Saz => {
            // The numbering is padded to the digits of the count: count first.
            let count = match capture.session_hint() {
                Some(n) => n,
                None => {
                    let mut n = 0usize;
                    capture
                        .map_sessions_into(|r| r.is_ok(), |ok| n += usize::from(ok))
                        .map_err(|e| e.to_string())?;
                    n
                }
            };
            let mut saz = SazWriter::new(BufWriter::new(file), count).map_err(shown)?;
            let failed = stream(capture, |s| s, |s| saz.session(&s))?;
            let n = saz.sessions();
            saz.finish().and_then(|mut w| w.flush()).map_err(shown)?;
            (n, failed)
        }
    };
    if failed > 0 {
        notes.push(format!(
            "{failed} session(s) could not be read and are left out"
        ));
    }
    Ok((written, notes))
}

/// Each readable session mapped by `map` (in parallel) and handed to `write` in order; the
/// number of sessions that could not be read. The first write error stops the writing.
fn stream<T: Send>(
    capture: &Capture,
    map: impl Fn(Session) -> T + Sync + Send,
    mut write: impl FnMut(T) -> std::io::Result<()>,
) -> Result<usize, String> {
    let mut failed = 0usize;
    let mut error = None;
    capture
        .map_sessions_into(
            |r| r.map(&map),
            |r| match r {
                Ok(t) if error.is_none() => error = write(t).err(),
                Ok(_) => {}
                Err(_) => failed += 1,
            },
        )
        .map_err(|e| e.to_string())?;
    match error {
        Some(e) => Err(format!("cannot write: {e}")),
        None => Ok(failed),
    }
}

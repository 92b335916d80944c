//! What the commands check about the files they are given before opening any of them:
//! an input must be a regular file (a FIFO with no writer would block forever, a device never
//! ends), no output may be one of the run's inputs, an output that exists must be a regular
//! file (or a stream the user plainly named, `/dev/stdout`), and files that may hold secrets
//! are created readable by their owner only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The largest first line of a password file.
pub const PASSWORD_LINE_MAX: usize = 4096;

/// What kind of file `m` describes, for messages.
fn kind(m: &fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Refuse a capture that is not a regular file (a symlink is followed), without opening it.
/// A path that cannot be inspected is left to the reader, whose error names it.
pub fn check_input(path: &Path) -> Result<(), String> {
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(format!(
            "{}: is {}, not a capture file; refusing to read it",
            path.display(),
            kind(&m)
        )),
        _ => Ok(()),
    }
}

/// Streams a user plainly names when they mean "write to this stream", which are written
/// through even though they are not regular files.
pub fn is_stream_name(path: &Path) -> bool {
    let Some(s) = path.to_str() else {
        return false;
    };
    matches!(s, "/dev/stdout" | "/dev/stderr" | "/dev/null")
        || s.strip_prefix("/dev/fd/")
            .or_else(|| s.strip_prefix("/proc/self/fd/"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Refuse an output that exists and is not a regular file: a directory, a FIFO, a socket or a
/// device (`/dev/full`) is never replaced by a regular file nor written into, except the
/// streams [`is_stream_name`] lists.
pub fn check_output(path: &Path) -> Result<(), String> {
    match fs::metadata(path) {
        Ok(m) if !m.is_file() && !is_stream_name(path) => Err(format!(
            "{}: is {}; give the name of a regular file to write",
            path.display(),
            kind(&m)
        )),
        _ => Ok(()),
    }
}

/// Refuse `out` when it names one of `inputs` (same path, `./` path, symlink or hard link).
pub fn check_not_input<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = &'a PathBuf>,
) -> Result<(), String> {
    for input in inputs {
        if same_file(input, out) {
            return Err(format!(
                "{}: is an input of this run ({}); refusing to overwrite it (give another output)",
                out.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// Do `a` and `b` name the same file (same inode, or the same canonical path when `b` does
/// not exist yet)?
pub fn same_file(a: &Path, b: &Path) -> bool {
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

/// An I/O error as a person reads it: `No space left on device`, without Rust's
/// ` (os error 28)`.
pub fn io_message(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

/// The message of every failed write (issue 20): `cannot write <target>: <why>`.
pub fn cannot_write(target: &str, e: &io::Error) -> String {
    format!("cannot write {target}: {}", io_message(e))
}

/// A writer that remembers the first error its inner writer returned, so that a caller whose
/// error went through another library's type (the zip writer's) can still tell a failed
/// write from a failed read.
pub struct Tracked<W> {
    inner: W,
    pub error: Option<io::Error>,
}

impl<W> Tracked<W> {
    pub fn new(inner: W) -> Self {
        Tracked { inner, error: None }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }

    fn note<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r {
            if self.error.is_none() && e.kind() != io::ErrorKind::Interrupted {
                self.error = Some(io::Error::new(e.kind(), io_message(e)));
            }
        }
        r
    }
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

impl<W: Seek> Seek for Tracked<W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let r = self.inner.seek(pos);
        self.note(r)
    }
}

/// Where a file that replaces `out` by a rename must be written: `out` itself, or the
/// regular file a symlink `out` points to (the link is written through, not replaced).
pub fn rename_target(out: &Path) -> PathBuf {
    match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf())
        }
        _ => out.to_path_buf(),
    }
}

/// Write `bytes` to `out` so that a failed write never leaves a truncated file (issue 20):
/// into a temporary file beside `out`, synced, then renamed over it; the temporary file is
/// removed on every error path. A stream name (`/dev/stdout`, `/dev/null`) is written
/// directly. A replaced file keeps its mode; a new one is created 0600 when `private`.
/// The error is `cannot write <out>: <why>`.
pub fn write_atomically(out: &Path, private: bool, bytes: &[u8]) -> Result<(), String> {
    let shown = |e: &io::Error| cannot_write(&out.display().to_string(), e);
    if is_stream_name(out) {
        let mut o = OpenOptions::new();
        o.write(true);
        return o
            .open(out)
            .and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()))
            .map_err(|e| shown(&e));
    }
    replace_with(out, private, |file| {
        file.write_all(bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| shown(&e))
    })
}

/// Write `out` through `write` into a temporary file beside it (0600 when `private`), then
/// rename it over `out` (over the file a symlink `out` points to); a replaced file keeps its
/// mode. On any error, `write`'s included, the temporary file is removed and `out` is left
/// as it was. The error is `cannot write <out>: <why>`, or `write`'s own.
pub fn replace_with<T>(
    out: &Path,
    private: bool,
    write: impl FnOnce(&mut File) -> Result<T, String>,
) -> Result<T, String> {
    let shown = |e: &io::Error| cannot_write(&out.display().to_string(), e);
    let target = rename_target(out);
    let existing_mode = fs::metadata(&target)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions());
    let (tmp, mut file) = temp_beside(&target, private).map_err(|e| shown(&e))?;
    let done = write(&mut file)?;
    drop(file);
    if let Some(mode) = existing_mode {
        fs::set_permissions(&tmp.0, mode).map_err(|e| shown(&e))?;
    }
    fs::rename(&tmp.0, &target).map_err(|e| shown(&e))?;
    tmp.keep();
    Ok(done)
}

/// A temporary file beside the output, removed when dropped unless [`Temp::keep`] was
/// called (after the rename): every error path, a panic included, leaves nothing behind. It
/// is also listed in [`TEMPORARY`], so that Ctrl-C, SIGTERM or SIGHUP remove it before the
/// process ends ([`remove_on_signal`]).
pub struct Temp(pub PathBuf);

/// The temporary files being written, for the signal handler.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Install, once per process, a handler for Ctrl-C, SIGTERM and SIGHUP that removes the
/// temporary files being written and exits with 130 (interrupted), as a shell would report.
/// Without it a killed `redact` left a copy of up to the input's size beside OUT.
fn remove_on_signal() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // A handler another part of the process installed first wins; then an interrupted
        // run leaves its file as before.
        let _ = ctrlc::set_handler(|| {
            let files = TEMPORARY.lock().map(|f| f.clone()).unwrap_or_default();
            for f in files {
                let _ = fs::remove_file(f);
            }
            std::process::exit(130);
        });
    });
}

impl Temp {
    /// Listed for the signal handler before the file is created, so no moment exists when
    /// the file is there and an interrupt would leave it.
    fn announce(path: &Path) {
        remove_on_signal();
        if let Ok(mut list) = TEMPORARY.lock() {
            list.push(path.to_path_buf());
        }
    }

    pub fn keep(self) {
        forget(&self.0);
        std::mem::forget(self);
    }
}

/// Take `path` off the signal handler's list.
fn forget(path: &Path) {
    if let Ok(mut list) = TEMPORARY.lock() {
        list.retain(|p| p != path);
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
        forget(&self.0);
    }
}

/// A new file beside `out` (same directory, so the final rename is atomic), created 0600 on
/// Unix when `private` (what may hold secrets must not be world-readable meanwhile).
pub fn temp_beside(out: &Path, private: bool) -> io::Result<(Temp, File)> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    for n in 0..100u32 {
        let path = dir.join(format!(".{name}.traceadal-{}-{n}.tmp", std::process::id()));
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        Temp::announce(&path);
        match o.open(&path) {
            Ok(f) => return Ok((Temp(path), f)),
            // Someone else's file: not ours to remove.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => forget(&path),
            Err(e) => {
                forget(&path);
                return Err(e);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "cannot create a temporary file beside it",
    ))
}

/// The first line of a password file, reading at most [`PASSWORD_LINE_MAX`] bytes and its
/// newline: `/dev/zero` or a multi-gigabyte file is not read whole. `flag` names the option
/// in messages.
pub fn first_line(flag: &str, file: &Path) -> Result<String, String> {
    let shown = |e: String| format!("{flag} {}: {e}", file.display());
    let f = File::open(file).map_err(|e| shown(e.to_string()))?;
    let mut buf = Vec::with_capacity(256);
    f.take(PASSWORD_LINE_MAX as u64 + 2)
        .read_to_end(&mut buf)
        .map_err(|e| shown(e.to_string()))?;
    let line = match buf.iter().position(|&b| b == b'\n') {
        Some(i) => &buf[..i],
        None if buf.len() > PASSWORD_LINE_MAX => {
            return Err(shown(format!(
                "the first line is longer than {PASSWORD_LINE_MAX} bytes; not a password file"
            )))
        }
        None => &buf[..],
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > PASSWORD_LINE_MAX {
        return Err(shown(format!(
            "the first line is longer than {PASSWORD_LINE_MAX} bytes; not a password file"
        )));
    }
    String::from_utf8(line.to_vec()).map_err(|_| shown("the first line is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names() {
        for s in [
            "/dev/stdout",
            "/dev/stderr",
            "/dev/null",
            "/dev/fd/1",
            "/proc/self/fd/3",
        ] {
            assert!(is_stream_name(Path::new(s)), "{s}");
        }
        for s in ["/dev/full", "/dev/fd/", "/dev/fd/x", "out.html", "/dev/sda"] {
            assert!(!is_stream_name(Path::new(s)), "{s}");
        }
    }

    #[test]
    fn write_errors_read_as_people_write_them() {
        let full = io::Error::from_raw_os_error(28);
        assert_eq!(
            cannot_write("out.html", &full),
            "cannot write out.html: No space left on device"
        );
        assert_eq!(io_message(&io::Error::other("plain")), "plain");

        /// Fails every write after the first `ok` bytes.
        struct Fails(usize);
        impl Write for Fails {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::from_raw_os_error(28));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut t = Tracked::new(Fails(4));
        assert!(t.write_all(b"0123456789").is_err());
        // What an outer library did with the error, the writer says what it was.
        assert_eq!(
            t.error.as_ref().map(|e| e.to_string()).as_deref(),
            Some("No space left on device")
        );
    }

    #[test]
    fn a_failed_atomic_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.txt");
        fs::write(&out, "old").unwrap();
        write_atomically(&out, false, b"new").unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), "new");
        let missing = dir.path().join("no").join("report.txt");
        let e = write_atomically(&missing, false, b"x").unwrap_err();
        assert_eq!(
            e,
            format!(
                "cannot write {}: No such file or directory",
                missing.display()
            )
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn password_first_line_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        fs::write(&p, "secret\r\nnext\n").unwrap();
        assert_eq!(first_line("--password-file", &p).unwrap(), "secret");
        fs::write(&p, "no newline").unwrap();
        assert_eq!(first_line("--password-file", &p).unwrap(), "no newline");
        fs::write(&p, "x".repeat(PASSWORD_LINE_MAX)).unwrap();
        assert_eq!(
            first_line("--password-file", &p).unwrap().len(),
            PASSWORD_LINE_MAX
        );
        fs::write(&p, "x".repeat(PASSWORD_LINE_MAX + 1)).unwrap();
        let e = first_line("--password-file", &p).unwrap_err();
        assert!(e.contains("longer than 4096") && e.contains("pw"), "{e}");
    }
}

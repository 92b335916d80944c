//! What the commands check about the files they are given before opening any of them:
//! an input must be a regular file (a FIFO with no writer would block forever, a device never
//! ends), no output may be one of the run's inputs, an output that exists must be a regular
//! file (or a stream the user plainly named, `/dev/stdout`), and files that may hold secrets
//! are created readable by their owner only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

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

/// Open `path` for writing, creating it (mode 0600 on Unix when `private`: it may hold
/// secrets) or truncating it. An existing file keeps its mode.
pub fn create(path: &Path, private: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let _ = private;
    o.open(path)
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

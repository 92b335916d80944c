//! HAR 1.2 captures.
//! TODO(capture helper): implement.

use std::path::Path;

use super::{CaptureErrorKind, ReadOptions, SessionResult};

pub struct HarSource {}

impl HarSource {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Self, CaptureErrorKind> {
        let _ = (path, options);
        Err(CaptureErrorKind::Har("not implemented yet".into()))
    }

    pub fn map_sessions<T, F>(&self, f: F) -> Result<Vec<T>, CaptureErrorKind>
    where
        T: Send,
        F: Fn(SessionResult) -> T + Sync + Send,
    {
        let _ = f;
        Ok(Vec::new())
    }
}

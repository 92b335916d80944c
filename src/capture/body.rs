//! Lazy body decoding: undo `Transfer-Encoding: chunked`, then `Content-Encoding`
//! (gzip, deflate as zlib or raw, br), never producing more than `DecodeLimits::max_decoded`.
//! TODO(capture helper): implement.

use super::headers::Headers;
use super::session::Body;

/// Default cap on a decoded body: enough for any autodiscover, token or EWS answer.
pub const DEFAULT_MAX_DECODED: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_decoded: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decoded: DEFAULT_MAX_DECODED,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("decoded body exceeds the {0}-byte cap")]
    TooLarge(u64),
    #[error("bad chunked framing: {0}")]
    Chunked(String),
    #[error("{coding} body does not decode: {reason}")]
    Coding { coding: String, reason: String },
}

/// The body with framing and codings undone.
pub fn decode(body: &Body, headers: &Headers, limits: &DecodeLimits) -> Result<Vec<u8>, BodyError> {
    let _ = (headers, limits);
    Ok(body.raw.clone())
}

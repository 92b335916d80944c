//! `raw/NN_w.txt` scrubbed: the messages parsed by `capture::saz::websocket` (unmasked,
//! inflated, fragments joined), their payloads scrubbed, written back as Fiddler writes them.
//!
//! Text payloads, close reasons and binary or ping/pong payloads that are UTF-8 (or UTF-16)
//! are scrubbed; any other binary payload becomes a text message saying what it was; a
//! control payload that is not text is dropped (a close keeps its code). A file that does not
//! parse is replaced whole by one placeholder line.

use super::{scrub_text_bytes, Outcome};
use crate::capture::body::DecodeLimits;
use crate::capture::saz::websocket::{self, Message, OP_BINARY, OP_CLOSE, OP_TEXT};

/// The `_w.txt` entry `bytes` in its normal form, scrubbed.
pub(super) fn rewrite(
    bytes: &[u8],
    label: &str,
    limits: &DecodeLimits,
    out: &mut Outcome,
) -> Vec<u8> {
    match websocket::parse(bytes, limits.max_decoded) {
        Ok(mut messages) => {
            for m in &mut messages {
                scrub_message(m, out);
            }
            websocket::write(&messages)
        }
        Err(why) => {
            out.notes.push(format!(
                "{label}: websocket messages do not parse ({why}); replaced by a placeholder"
            ));
            format!("[traceadal redact: websocket messages removed: {label}: {why}]\r\n")
                .into_bytes()
        }
    }
}

fn scrub_message(m: &mut Message, out: &mut Outcome) {
    if m.opcode >= OP_CLOSE {
        m.payload = control_payload(m.opcode, &m.payload, out);
        return;
    }
    if std::str::from_utf8(&m.payload).is_ok() {
        if let Some(new) = scrub_text_bytes(&m.payload, None, &mut out.counts) {
            m.payload = new;
        }
        if !matches!(m.opcode, OP_TEXT | OP_BINARY) {
            m.opcode = OP_BINARY;
        }
        return;
    }
    let what = if m.opcode == OP_TEXT {
        "text websocket message that is not UTF-8"
    } else {
        "binary websocket message"
    };
    m.payload = format!(
        "[traceadal redact: {what} removed, {} bytes]",
        m.payload.len()
    )
    .into_bytes();
    m.opcode = OP_TEXT;
}

/// A control frame's payload scrubbed: a close frame's code kept and its reason scrubbed,
/// a ping or pong payload kept when it is UTF-8 (scrubbed), else dropped.
fn control_payload(opcode: u8, payload: &[u8], out: &mut Outcome) -> Vec<u8> {
    let (keep, text) = if opcode == OP_CLOSE && payload.len() >= 2 {
        payload.split_at(2)
    } else {
        (&payload[..0], payload)
    };
    if std::str::from_utf8(text).is_err() {
        return keep.to_vec();
    }
    let mut p = keep.to_vec();
    match scrub_text_bytes(text, None, &mut out.counts) {
        Some(new) => p.extend_from_slice(&new),
        None => p.extend_from_slice(text),
    }
    // A control frame carries at most 125 bytes.
    p.truncate(125);
    p
}

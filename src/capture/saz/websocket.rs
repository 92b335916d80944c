//! `raw/NN_w.txt`: the websocket messages of a session, as Fiddler stores them.
//!
//! Fiddler's layout (its `WebSocket.WriteWebSocketMessageListToStream`, and the public
//! capture nekoxy2 `websocket.saz`): the file starts with CRLF; then, per message, header
//! lines (`Request-Length: N` for client to server or `Response-Length: N`, `ID: 3`,
//! `BitFlags: 0`, `DoneRead:`/`BeginSend:`/`DoneSend:` timestamps), a blank line, the N bytes
//! of one RFC 6455 frame as on the wire (client frames masked), and CRLF.
//!
//! [`parse`] reads every frame: a masked payload is unmasked; a message compressed with
//! permessage-deflate (RSV1 on its first frame; RFC 7692, one inflate context per direction
//! across messages) is inflated; fragments are joined into one message, placed where its
//! last fragment was. Header lines are kept only when they are the ones above with values of
//! their shape. A file that does not parse (a length that is not there, a frame cut short, a
//! payload that does not inflate or passes the cap) is an error, saying why, never content.
//! [`write`] writes messages back as Fiddler does, one final, unmasked, uncompressed frame
//! per message (Fiddler reads an unmasked frame as it reads a masked one).

// Capture data is hostile: no unwrap/expect outside tests (issue 8).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use flate2::{Decompress, FlushDecompress, Status};

pub const OP_CONTINUATION: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;

/// One whole message (or control frame), unmasked, inflated, its fragments joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Client to server (`Request-Length`).
    pub outbound: bool,
    /// The header lines kept (`ID`, `BitFlags`, the timers), without line ends.
    pub lines: Vec<String>,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Every message of a `_w.txt`, or why it does not parse. A message (or its inflated form)
/// larger than `max` bytes is an error.
pub fn parse(bytes: &[u8], max: u64) -> Result<Vec<Message>, String> {
    Parser {
        max,
        inflate: [None, None],
        pending: [None, None],
        out: Vec::new(),
    }
    .run(bytes)
}

/// Messages written back as Fiddler writes them.
pub fn write(messages: &[Message]) -> Vec<u8> {
    let mut w = Vec::with_capacity(
        messages
            .iter()
            .map(|m| m.payload.len() + 160)
            .sum::<usize>()
            + 2,
    );
    w.extend_from_slice(b"\r\n");
    for m in messages {
        write_record(&mut w, m);
    }
    w
}

/// A message being assembled from its fragments, one per direction.
struct Pending {
    opcode: u8,
    compressed: bool,
    payload: Vec<u8>,
    lines: Vec<String>,
}

struct Parser {
    max: u64,
    /// Inflate contexts, client to server and server to client.
    inflate: [Option<Decompress>; 2],
    pending: [Option<Pending>; 2],
    out: Vec<Message>,
}

impl Parser {
    fn run(mut self, bytes: &[u8]) -> Result<Vec<Message>, String> {
        let mut pos = skip_crlf(bytes, 0);
        let mut records = 0usize;
        while pos < bytes.len() {
            if bytes[pos..].iter().all(u8::is_ascii_whitespace) {
                break;
            }
            let (head, after) = read_head(bytes, pos)?;
            records += 1;
            let (outbound, len) = head.length.ok_or("a message without its length")?;
            let end = after
                .checked_add(len)
                .filter(|&e| e <= bytes.len())
                .ok_or("a message cut short")?;
            let mut frames = &bytes[after..end];
            while !frames.is_empty() {
                let (frame, used) = parse_frame(frames)?;
                frames = &frames[used..];
                self.frame(frame, outbound, &head.lines)?;
            }
            pos = skip_crlf(bytes, end);
        }
        // A message whose last fragment never came: what there is of it.
        for dir in 0..2 {
            if let Some(p) = self.pending[dir].take() {
                self.finish(p, dir == 0)?;
            }
        }
        if records == 0 && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err("no message header".into());
        }
        Ok(self.out)
    }

    fn frame(&mut self, f: Frame, outbound: bool, lines: &[String]) -> Result<(), String> {
        let dir = usize::from(!outbound);
        if f.opcode >= OP_CLOSE {
            self.out.push(Message {
                outbound,
                lines: lines.to_vec(),
                opcode: f.opcode,
                payload: f.payload,
            });
            return Ok(());
        }
        let pending = match (f.opcode, self.pending[dir].take()) {
            (OP_CONTINUATION, Some(mut p)) => {
                p.payload.extend_from_slice(&f.payload);
                p
            }
            (OP_CONTINUATION, None) => return Err("a continuation frame without a start".into()),
            (op, previous) => {
                if let Some(p) = previous {
                    // A new message before the last one ended: the last one as it is.
                    self.finish(p, outbound)?;
                }
                Pending {
                    opcode: op,
                    compressed: f.rsv1,
                    payload: f.payload,
                    lines: lines.to_vec(),
                }
            }
        };
        if pending.payload.len() as u64 > self.max {
            return Err("a message larger than the decode cap".into());
        }
        if f.fin {
            self.finish(pending, outbound)
        } else {
            self.pending[dir] = Some(pending);
            Ok(())
        }
    }

    /// A whole message, inflated.
    fn finish(&mut self, p: Pending, outbound: bool) -> Result<(), String> {
        let dir = usize::from(!outbound);
        let payload = if p.compressed {
            let ctx = self.inflate[dir].get_or_insert_with(|| Decompress::new(false));
            inflate(ctx, &p.payload, self.max)?
        } else {
            p.payload
        };
        self.out.push(Message {
            outbound,
            lines: p.lines,
            opcode: p.opcode,
            payload,
        });
        Ok(())
    }
}

/// One permessage-deflate message inflated (RFC 7692 7.2.2: the payload with `00 00 ff ff`
/// appended), at most `max` bytes.
fn inflate(ctx: &mut Decompress, payload: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut outbuf: Vec<u8> = Vec::with_capacity(payload.len().saturating_mul(4).min(1 << 20));
    let mut consumed = 0usize;
    loop {
        if outbuf.capacity() - outbuf.len() < 32 * 1024 {
            outbuf.reserve(64 * 1024);
        }
        let (in0, out0) = (ctx.total_in(), ctx.total_out());
        let status = ctx
            .decompress_vec(&input[consumed..], &mut outbuf, FlushDecompress::Sync)
            .map_err(|_| "a compressed message does not inflate".to_string())?;
        let used = usize::try_from(ctx.total_in() - in0).unwrap_or(usize::MAX);
        consumed = consumed.saturating_add(used);
        if outbuf.len() as u64 > max {
            return Err("an inflated message larger than the decode cap".into());
        }
        if status == Status::StreamEnd {
            // The sender ended the deflate stream (BFINAL): the next message starts anew.
            ctx.reset(false);
            break;
        }
        let full = outbuf.len() == outbuf.capacity();
        if full {
            continue;
        }
        if consumed >= input.len() {
            break;
        }
        if used == 0 && ctx.total_out() == out0 {
            return Err("a compressed message does not inflate".into());
        }
    }
    Ok(outbuf)
}

/// One message's header block: its length and direction, and the lines kept.
struct Head {
    /// (client to server, frame bytes).
    length: Option<(bool, usize)>,
    /// `ID`, `BitFlags` and the timers, when their values have their shape.
    lines: Vec<String>,
}

/// The header block at `pos` up to its blank line, and where the frame bytes start.
fn read_head(bytes: &[u8], mut pos: usize) -> Result<(Head, usize), String> {
    let mut head = Head {
        length: None,
        lines: Vec::new(),
    };
    loop {
        let nl = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("a message header cut short")?;
        let line = &bytes[pos..pos + nl];
        pos += nl + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Ok((head, pos));
        }
        if line.len() > 200 {
            return Err("a message header line too long".into());
        }
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim() {
            n @ ("Request-Length" | "Response-Length") => {
                let len: usize = value
                    .parse()
                    .map_err(|_| "a message length that is not a number")?;
                head.length = Some((n == "Request-Length", len));
            }
            n @ "ID" if value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) => {
                head.lines.push(format!("{n}: {value}"));
            }
            n @ "BitFlags"
                if value.len() <= 20
                    && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'x') =>
            {
                head.lines.push(format!("{n}: {value}"));
            }
            n @ ("DoneRead" | "BeginSend" | "DoneSend")
                if value.len() <= 40
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b":.-+TZ ".contains(&b)) =>
            {
                head.lines.push(format!("{n}: {value}"));
            }
            _ => {}
        }
    }
}

fn skip_crlf(bytes: &[u8], mut pos: usize) -> usize {
    if bytes.get(pos) == Some(&b'\r') {
        pos += 1;
    }
    if bytes.get(pos) == Some(&b'\n') {
        pos += 1;
    }
    pos
}

/// One frame, unmasked.
#[derive(Debug)]
struct Frame {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// The frame at the start of `b` and the bytes it took.
fn parse_frame(b: &[u8]) -> Result<(Frame, usize), String> {
    let cut = || "a frame cut short".to_string();
    let (&b0, &b1) = (b.first().ok_or_else(cut)?, b.get(1).ok_or_else(cut)?);
    let mut pos = 2usize;
    let len = match b1 & 0x7f {
        126 => {
            let s = b.get(2..4).ok_or_else(cut)?;
            pos = 4;
            u64::from(u16::from_be_bytes([s[0], s[1]]))
        }
        127 => {
            let s = b.get(2..10).ok_or_else(cut)?;
            pos = 10;
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_be_bytes(a)
        }
        n => u64::from(n),
    };
    let mask = if b1 & 0x80 != 0 {
        let k = b.get(pos..pos + 4).ok_or_else(cut)?;
        pos += 4;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    let len = usize::try_from(len).map_err(|_| cut())?;
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= b.len())
        .ok_or_else(cut)?;
    let mut payload = b[pos..end].to_vec();
    if let Some(k) = mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= k[i % 4];
        }
    }
    Ok((
        Frame {
            fin: b0 & 0x80 != 0,
            rsv1: b0 & 0x40 != 0,
            opcode: b0 & 0x0f,
            payload,
        },
        end,
    ))
}

/// One message record as Fiddler writes it: its header block, one final unmasked frame,
/// CRLF.
fn write_record(w: &mut Vec<u8>, m: &Message) {
    let frame = encode_frame(m.opcode, &m.payload);
    let which = if m.outbound {
        "Request-Length"
    } else {
        "Response-Length"
    };
    w.extend_from_slice(format!("{which}: {}\r\n", frame.len()).as_bytes());
    for line in &m.lines {
        w.extend_from_slice(line.as_bytes());
        w.extend_from_slice(b"\r\n");
    }
    w.extend_from_slice(b"\r\n");
    w.extend_from_slice(&frame);
    w.extend_from_slice(b"\r\n");
}

/// A final, unmasked, uncompressed frame.
fn encode_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 10);
    f.push(0x80 | (opcode & 0x0f));
    let n = payload.len();
    if n < 126 {
        f.push(n as u8);
    } else if let Ok(n) = u16::try_from(n) {
        f.push(126);
        f.extend_from_slice(&n.to_be_bytes());
    } else {
        f.push(127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
pub mod test_support {
    //! Frames and `_w.txt` files built for tests.

    /// A frame: `mask` applied to the payload when given.
    pub fn frame(
        fin: bool,
        rsv1: bool,
        opcode: u8,
        payload: &[u8],
        mask: Option<[u8; 4]>,
    ) -> Vec<u8> {
        let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
        let m = if mask.is_some() { 0x80 } else { 0 };
        let n = payload.len();
        if n < 126 {
            f.push(m | n as u8);
        } else {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        match mask {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    /// A `_w.txt` of `(client to server, frame)` records, as Fiddler writes it.
    pub fn file(records: &[(bool, Vec<u8>)]) -> Vec<u8> {
        let mut w = b"\r\n".to_vec();
        for (i, (outbound, f)) in records.iter().enumerate() {
            let which = if *outbound { "Request" } else { "Response" };
            w.extend_from_slice(
                format!(
                    "{which}-Length: {}\r\nID: {}\r\nBitFlags: 0\r\nDoneRead: 2018-11-26T17:07:03.6899253+09:00\r\n\r\n",
                    f.len(),
                    i + 1
                )
                .as_bytes(),
            );
            w.extend_from_slice(f);
            w.extend_from_slice(b"\r\n");
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{file, frame};
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.flush().unwrap();
        let mut d = e.get_ref().clone();
        d.truncate(d.len() - 4);
        d
    }

    #[test]
    fn messages_read_back_from_what_write_writes() {
        let w = file(&[
            (true, frame(true, false, 1, b"hello", Some([1, 2, 3, 4]))),
            (
                false,
                frame(true, true, 1, &deflated(b"compressed answer"), None),
            ),
            // The server's second message refers back into the first (context takeover).
            (
                false,
                frame(true, true, 1, &deflated(b"compressed answer"), None),
            ),
            (true, frame(true, false, 9, b"ping", Some([7, 7, 7, 7]))),
        ]);
        let m = parse(&w, 1 << 20).unwrap();
        let payloads: Vec<&[u8]> = m.iter().map(|m| &m.payload[..]).collect();
        assert_eq!(
            payloads,
            [
                &b"hello"[..],
                b"compressed answer",
                b"compressed answer",
                b"ping"
            ]
        );
        assert_eq!(
            m[0].lines,
            [
                "ID: 1",
                "BitFlags: 0",
                "DoneRead: 2018-11-26T17:07:03.6899253+09:00"
            ]
        );
        assert!(m[0].outbound && !m[1].outbound);
        let again = parse(&write(&m), 1 << 20).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn an_inflate_bomb_stops_at_the_cap() {
        let bomb = deflated(&vec![0u8; 8 << 20]);
        assert!(bomb.len() < 64 * 1024);
        let w = file(&[(false, frame(true, true, 2, &bomb, None))]);
        assert_eq!(
            parse(&w, 1 << 20),
            Err("an inflated message larger than the decode cap".to_string())
        );
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let good = file(&[(true, frame(true, false, 1, b"hello", Some([1, 2, 3, 4])))]);
        for cut in 1..good.len() {
            let _ = parse(&good[..cut], 1 << 20);
        }
        assert_eq!(
            parse(b"\r\nID: 1\r\n\r\nxx\r\n", 1 << 20),
            Err("a message without its length".to_string())
        );
        assert_eq!(
            parse(b"not a websocket file", 1 << 20),
            Err("a message header cut short".to_string())
        );
        let garbage = file(&[(false, frame(true, true, 1, b"\xff\xff\xff\xff", None))]);
        assert_eq!(
            parse(&garbage, 1 << 20),
            Err("a compressed message does not inflate".to_string())
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut with_head = b"\r\nRequest-Length: 40\r\n\r\n".to_vec();
            with_head.extend_from_slice(&raw);
            for input in [&raw[..], &with_head[..]] {
                if let Ok(m) = parse(input, 64 * 1024) {
                    prop_assert!(m.iter().all(|m| m.payload.len() <= 64 * 1024));
                }
            }
        }
    }
}

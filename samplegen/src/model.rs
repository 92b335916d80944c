//! The capture model the writers share: sessions as the wire saw them, before framing.

use crate::clock::Instant;

/// Where the framing headers (`Content-Length`, or `Content-Encoding` + `Transfer-Encoding`)
/// go in a header list. Builders put this marker where the real client or server puts them;
/// the wire layer replaces it. Without a marker they are appended.
pub const BODY_HEADERS: &str = "\0body";

/// How a body is compressed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// Sent as is.
    Identity,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: deflate` (zlib-wrapped, as IIS and .NET send it).
    Deflate,
    /// `Content-Encoding: br`.
    Br,
}

impl Coding {
    /// The `Content-Encoding` token, if any.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Deflate => Some("deflate"),
            Coding::Br => Some("br"),
        }
    }
}

/// How a body is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length,
    /// `Transfer-Encoding: chunked`, chunks of at most this many bytes.
    Chunked(usize),
    /// No length header at all: the body runs to the end (Fiddler's CONNECT answers).
    Raw,
}

/// A body before encoding and framing.
#[derive(Clone, Debug)]
pub struct Body {
    /// Decoded bytes (what a browser would store in a HAR).
    pub data: Vec<u8>,
    /// Content coding applied on the wire.
    pub coding: Coding,
    /// Framing on the wire.
    pub framing: Framing,
}

impl Body {
    /// A body sent with `Content-Length`, no compression.
    pub fn plain(data: impl Into<Vec<u8>>) -> Body {
        Body {
            data: data.into(),
            coding: Coding::Identity,
            framing: Framing::Length,
        }
    }
    /// Chunked without compression.
    pub fn chunked(data: impl Into<Vec<u8>>, chunk: usize) -> Body {
        Body {
            framing: Framing::Chunked(chunk),
            ..Body::plain(data)
        }
    }
    /// Compressed with `coding`, framed as `framing`.
    pub fn coded(data: impl Into<Vec<u8>>, coding: Coding, framing: Framing) -> Body {
        Body {
            data: data.into(),
            coding,
            framing,
        }
    }
}

/// An HTTP request as the client sent it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, `CONNECT`...
    pub method: String,
    /// Absolute URL (`https://host/path?q`); for CONNECT, `host:port`.
    pub url: String,
    /// `HTTP/1.1`.
    pub version: String,
    /// Headers in wire order, duplicates kept; may hold [`BODY_HEADERS`].
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Body>,
}

/// An HTTP response as the server sent it.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// `HTTP/1.1`.
    pub version: String,
    /// Headers in wire order; may hold [`BODY_HEADERS`].
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Body>,
}

/// What a session is for in its scenario; used to compute the expected facts and to pick
/// sessions for the format variants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Background traffic with nothing to diagnose.
    Noise,
    /// A CONNECT tunnel.
    Tunnel,
    /// Part of the scenario's signal.
    Signal,
}

/// One Fiddler session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The request.
    pub request: Request,
    /// The response; `None` when the session was aborted before one came.
    pub response: Option<Response>,
    /// `x-processinfo`, e.g. `outlook:4242`; `None` when Fiddler could not tell.
    pub process: Option<String>,
    /// Client-side port (`x-clientport`).
    pub client_port: u16,
    /// Fiddler's egress port (`x-egressport`).
    pub egress_port: u16,
    /// Server address (`x-hostip`, HAR `serverIPAddress`).
    pub host_ip: String,
    /// When the client began the request.
    pub begin: Instant,
    /// Milliseconds from request sent to first response byte.
    pub wait_ms: u64,
    /// Milliseconds to receive the response body.
    pub receive_ms: u64,
    /// Whether the client connection was reused.
    pub reused: bool,
    /// Scenario role.
    pub role: Role,
}

impl Session {
    /// The host the request went to (without port).
    pub fn host(&self) -> String {
        host_of(&self.request.url)
    }
    /// Whether this is a CONNECT tunnel.
    pub fn is_tunnel(&self) -> bool {
        self.request.method == "CONNECT"
    }
}

/// `https://a.b:444/x` -> `a.b`; `a.b:443` -> `a.b`.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let auth = rest.split(['/', '?']).next().unwrap_or("");
    auth.rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(auth)
        .to_string()
}

/// `https://a.b/x?y` -> `/x?y`.
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".to_string(),
    }
}

/// A whole capture: its sessions in capture order (id = index + 1).
#[derive(Clone, Debug)]
pub struct Capture {
    /// Scenario name (the file stem).
    pub name: String,
    /// Sessions; the session id is the position counted from 1.
    pub sessions: Vec<Session>,
}

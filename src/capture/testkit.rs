//! A session builder for unit tests across the pipeline: the auth parsers', the flows' and
//! the rules' tests all start from hand-built sessions, built one way.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{Body, Request, Response, Session};

/// A session builder.
pub struct S(pub Session);

impl S {
    pub fn new(id: u64, method: &str, url: &str, status: u16) -> S {
        S(Session {
            id,
            process: Some("outlook:4242".into()),
            request: Request {
                method: method.into(),
                url: url.into(),
                version: "HTTP/1.1".into(),
                ..Request::default()
            },
            response: Some(Response {
                version: "HTTP/1.1".into(),
                status,
                ..Response::default()
            }),
            ..Session::default()
        })
    }

    pub fn req_header(mut self, k: &str, v: &str) -> S {
        self.0.request.headers.push(k, v);
        self
    }

    pub fn resp_header(mut self, k: &str, v: &str) -> S {
        if let Some(r) = self.0.response.as_mut() {
            r.headers.push(k, v);
        }
        self
    }

    pub fn req_body(mut self, b: &str) -> S {
        self.0.request.body = body(b);
        self
    }

    pub fn resp_body(mut self, b: &str) -> S {
        if let Some(r) = self.0.response.as_mut() {
            r.body = body(b);
        }
        self
    }

    /// `WWW-Authenticate` once per scheme.
    pub fn offers(mut self, schemes: &[&str]) -> S {
        for s in schemes {
            self = self.resp_header("WWW-Authenticate", s);
        }
        self
    }

    pub fn diag(self, v: &str) -> S {
        self.resp_header("X-MS-Diagnostics", v)
    }

    /// `Authorization: Bearer <a JWT with these claims>`.
    pub fn bearer(self, claims_json: &str) -> S {
        let token = format!(
            "{}.{}.U0lHTkFUVVJFLVNFQ1JFVA",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims_json)
        );
        self.req_header("Authorization", &format!("Bearer {token}"))
    }

    pub fn process(mut self, p: &str) -> S {
        self.0.process = Some(p.into());
        self
    }

    /// Began `secs` seconds after 2026-11-20 08:00:00 +01:00 and took half a second.
    pub fn at(mut self, secs: i64) -> S {
        let base = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00+01:00")
            .expect("a valid fixed time");
        let begin = base + chrono::Duration::seconds(secs);
        self.0.timers.client_begin_request = Some(begin);
        self.0.timers.client_done_response = Some(begin + chrono::Duration::milliseconds(500));
        self
    }

    /// The client gave up: no response.
    pub fn no_response(mut self) -> S {
        self.0.response = None;
        self
    }

    /// Request headers in order.
    pub fn req_headers(self, headers: &[(&str, &str)]) -> S {
        headers.iter().fold(self, |s, (k, v)| s.req_header(k, v))
    }

    /// Response headers in order.
    pub fn resp_headers(self, headers: &[(&str, &str)]) -> S {
        headers.iter().fold(self, |s, (k, v)| s.resp_header(k, v))
    }
}

fn body(s: &str) -> Body {
    Body {
        raw: s.as_bytes().to_vec(),
        wire: false,
        truncated: false,
    }
}

/// A reader handing out pieces of the sizes given, in turn, as a slow pipe or a chunked
/// stream would: for the readers that must read the same whatever the pieces.
pub struct Pieces<'a> {
    pub data: &'a [u8],
    pub sizes: &'a [usize],
    pub next: usize,
}

impl<'a> Pieces<'a> {
    pub fn new(data: &'a [u8], sizes: &'a [usize]) -> Self {
        Pieces {
            data,
            sizes,
            next: 0,
        }
    }
}

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()];
        self.next += 1;
        let n = size.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

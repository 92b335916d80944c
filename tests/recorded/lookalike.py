#!/usr/bin/env python3
"""A look-alike of on-premises Exchange autodiscover and of the Entra ID token endpoint, for
recording a real client's capture (see record.sh). Loopback only; stdlib only.

- any request to autodiscover.contoso.com: 401 with the hybrid Bearer challenge, as
  /work/shared/PROTOCOL-NOTES.md section 1 shows it;
- POST .../oauth2/token on login.microsoftonline.com: 400 with the AADSTS500011 JSON of
  section 3;
- anything else: 404.

Usage: lookalike.py PORT [CERT KEY]   (with CERT and KEY it speaks TLS)
"""
import http.server
import json
import ssl
import sys
import uuid

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
CHALLENGE = (
    'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
    f'trusted_issuers="00000001-0000-0000-c000-000000000000@{TENANT}", '
    'token_types="app_asserted_user_v1 service_asserted_app_v1", '
    'authorization_uri="https://login.windows.net/common/oauth2/authorize", '
    'error="invalid_token"'
)
TIMESTAMP = "2026-11-20 08:15:03Z"


def error_body(trace, correlation):
    description = (
        "AADSTS500011: The resource principal named https://autodiscover.contoso.com was not "
        "found in the tenant named Contoso Ltd. This can happen if the application has not "
        "been installed by the administrator of the tenant or consented to by any user in the "
        "tenant. You might have sent your authentication request to the wrong tenant.\r\n"
        f"Trace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {TIMESTAMP}"
    )
    return json.dumps(
        {
            "error": "invalid_resource",
            "error_description": description,
            "error_codes": [500011],
            "timestamp": TIMESTAMP,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": "https://login.microsoftonline.com/error?code=500011",
        },
        separators=(",", ":"),
    ).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        sys.stderr.write("lookalike: " + (fmt % args) + "\n")

    def host(self):
        return (self.headers.get("Host") or "").split(":")[0].lower()

    def drain(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def send(self, status, headers, body=b""):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answer(self):
        self.drain()
        host = self.host()
        if host == "autodiscover.contoso.com":
            self.send(
                401,
                [
                    ("Server", "Microsoft-IIS/10.0"),
                    ("request-id", str(uuid.uuid4())),
                    ("X-FEServer", "EXCH01"),
                    ("WWW-Authenticate", CHALLENGE),
                    ("WWW-Authenticate", "Negotiate"),
                    ("WWW-Authenticate", "NTLM"),
                    ("WWW-Authenticate", 'Basic realm="autodiscover.contoso.com"'),
                    (
                        "X-MS-Diagnostics",
                        '2000001;reason="The token has an invalid signature.";'
                        'error_category="invalid_token"',
                    ),
                    ("X-Powered-By", "ASP.NET"),
                ],
            )
        elif host == "login.microsoftonline.com" and self.command == "POST" and self.path.split(
            "?"
        )[0].endswith("/oauth2/token"):
            trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
            self.send(
                400,
                [
                    ("Cache-Control", "no-store, no-cache"),
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("x-ms-request-id", trace),
                    ("x-ms-ests-server", "2.1.19000.5 - NEULR1 ProdSlices"),
                    ("x-ms-clitelem", "1,500011,0,,"),
                ],
                error_body(trace, correlation),
            )
        else:
            self.send(404, [("Content-Type", "text/plain")], b"not found\n")

    do_GET = do_POST = do_HEAD = do_OPTIONS = answer


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if len(sys.argv) == 4:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stderr.write(f"lookalike: listening on 127.0.0.1:{port}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()

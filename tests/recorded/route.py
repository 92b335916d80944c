"""mitmproxy addon for record.sh: connect to the local look-alike instead of the real
autodiscover.contoso.com and login.microsoftonline.com, keeping the host names in the
requests (and so in the recorded HAR); refuse every other host."""
import os

from mitmproxy import http

PORT = int(os.environ["LOOKALIKE_PORT"])
HOSTS = {"autodiscover.contoso.com", "login.microsoftonline.com"}


def server_connect(data):
    host = str(data.server.address[0]).lower() if data.server.address else ""
    if host in HOSTS:
        data.server.address = ("127.0.0.1", PORT)


def request(flow: http.HTTPFlow):
    if flow.request.pretty_host.lower() not in HOSTS:
        flow.response = http.Response.make(502, b"not part of the recording\n")

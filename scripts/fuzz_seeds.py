#!/usr/bin/env python3
"""Seed the fuzz corpora from samples/ and the shared public captures.

Usage: scripts/fuzz_seeds.py OUT_DIR [CAPTURE_DIR...]

Writes OUT_DIR/<target>/<sha1> files. Run by scripts/fuzz.sh at run time: nothing it writes
is committed (fuzz/corpus is in .gitignore), because the shared captures are not the
project's to redistribute.

Seeds are kept small (at most MAX bytes): libFuzzer runs at the speed of its largest inputs,
so a large capture is split into one small SAZ or HAR per session instead of seeded whole.
"""
import hashlib
import io
import json
import os
import sys
import zipfile
import zlib
import gzip

MAX = 64 * 1024
TARGETS = ["saz_reader", "saz_meta", "http_head", "body_decode", "har_reader",
           "www_authenticate", "aadsts", "jwt_claims", "ews_soap", "redact_text",
           "capture_rewrite", "redact_planted", "netlog_reader"]
# Targets that take every seed of another: the rewriter reads what the readers read.
ALSO = {"saz_reader": "capture_rewrite", "har_reader": "capture_rewrite"}
# Keep in step with TRANSFER / CONTENT in fuzz/src/lib.rs.
TRANSFER = ["", "chunked", "gzip, chunked", "chunked, identity", "br, chunked",
            "deflate,chunked", "identity", "chunked, chunked"]
CONTENT = ["", "gzip", "deflate", "br", "gzip, br", "x-gzip", "identity", "deflate, gzip",
           "compress", "br, br", "GZIP", "gzip,deflate,br"]

out_dir = sys.argv[1]
counts = {t: 0 for t in TARGETS}


def put(target, data):
    if target in ALSO:
        put(ALSO[target], data)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not data or len(data) > MAX:
        data = data[:MAX]
        if not data:
            return
    d = os.path.join(out_dir, target)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
        counts[target] += 1


def split_head(raw):
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return raw[:i], raw[i + len(sep):]
    return raw, b""


def headers_of(head):
    out = []
    for line in head.split(b"\n")[1:]:
        line = line.rstrip(b"\r")
        if b":" in line:
            k, v = line.split(b":", 1)
            out.append((k.strip().decode("latin-1"), v.strip().decode("latin-1")))
    return out


def one_session(req, resp, meta):
    """Seeds from one exchange: raw request/response bytes, either may be None."""
    url = b""
    if req:
        head, body = split_head(req)
        put("http_head", head + b"\r\n\r\n")
        put("redact_text", req[:8192])
        first = head.split(b"\n", 1)[0]
        parts = first.split(b" ")
        url = parts[1] if len(parts) > 1 else b""
        for k, v in headers_of(head):
            if k.lower() == "authorization" and " " in v:
                put("jwt_claims", v.split(" ", 1)[1])
            if k.lower() == "cookie":
                put("redact_text", f"{k}: {v}")
        if body:
            put("redact_text", body[:8192])
            for kv in body.split(b"&"):
                if kv.startswith((b"assertion=", b"request=", b"access_token=", b"refresh_token=")):
                    put("jwt_claims", kv.split(b"=", 1)[1])
    req_body = split_head(req)[1] if req else b""
    if resp:
        head, body = split_head(resp)
        put("http_head", head + b"\r\n\r\n")
        put("redact_text", resp[:8192])
        hs = headers_of(head)
        te = next((v for k, v in hs if k.lower() == "transfer-encoding"), "").lower()
        ce = next((v for k, v in hs if k.lower() == "content-encoding"), "").lower()
        ti = TRANSFER.index(te) if te in TRANSFER else 0
        ci = CONTENT.index(ce) if ce in CONTENT else 0
        if body:
            put("body_decode", bytes([ti, ci]) + body)
        auth = [v for k, v in hs if k.lower() == "www-authenticate"]
        diag = ["x-ms-diag" + v for k, v in hs if k.lower() == "x-ms-diagnostics"]
        if auth or diag:
            put("www_authenticate", "\n".join(auth + diag))
        for k, v in hs:
            if k.lower() == "location" and ("error" in v or "code=" in v):
                put("aadsts", v)
        if b"login." in url or b"AADSTS" in body or b"$Config" in body:
            put("aadsts", body)
        if b"/ews/" in url.lower() or b"GetDelegate" in req_body:
            put("ews_soap", req_body + b"\0" + body)
        if b"access_token" in body or b"id_token" in body:
            try:
                j = json.loads(body)
                for key in ("access_token", "id_token"):
                    if isinstance(j.get(key), str):
                        put("jwt_claims", j[key])
            except Exception:
                pass
    if meta:
        put("saz_meta", meta)


def mini_saz(files, comment):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            # A fixed date: the same session must make the same seed on every run.
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
        z.comment = comment
    return buf.getvalue()


def saz(path):
    data = open(path, "rb").read()
    if len(data) <= MAX:
        put("saz_reader", data)
    try:
        z = zipfile.ZipFile(path)
        names = z.namelist()
        z.testzip()
    except Exception:
        put("saz_reader", data[:MAX])
        return
    by_id = {}
    for n in names:
        base = n.replace("\\", "/").rsplit("/", 1)[-1]
        if "_" not in base:
            continue
        sid, kind = base.split("_", 1)
        if sid.isdigit():
            by_id.setdefault(sid, {})[kind.lower()] = n
    for sid, kinds in by_id.items():
        try:
            read = {k: z.read(n) for k, n in kinds.items()}
        except Exception:  # encrypted: the whole archive is the seed
            continue
        one_session(read.get("c.txt"), read.get("s.txt"), read.get("m.xml"))
        files = [(f"raw/{sid}_{k}", v[:16384]) for k, v in read.items()]
        put("saz_reader", mini_saz(files, z.comment))


def har_text(entry, side):
    part = entry.get(side) or {}
    return part


def har(path):
    data = open(path, "rb").read()
    if len(data) <= MAX:
        put("har_reader", data)
    raw = data
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        elif raw[:1] == b"\x78":
            raw = zlib.decompress(raw)
        doc = json.loads(raw.decode("utf-8-sig"))
        entries = doc["log"]["entries"]
    except Exception:
        put("har_reader", data[:MAX])
        return
    for e in entries:
        if not isinstance(e, dict):
            continue
        small = json.loads(json.dumps(e))
        for side in ("request", "response"):
            part = small.get(side) or {}
            for holder in ("content", "postData"):
                c = part.get(holder)
                if isinstance(c, dict) and isinstance(c.get("text"), str):
                    c["text"] = c["text"][:8192]
        one = {"log": {"version": "1.2", "creator": {"name": "seed", "version": "0"},
                       "entries": [small]}}
        put("har_reader", json.dumps(one))
        req = e.get("request") or {}
        resp = e.get("response") or {}
        url = req.get("url", "")
        for h in req.get("headers") or []:
            if isinstance(h, dict) and str(h.get("name", "")).lower() == "authorization":
                v = str(h.get("value", ""))
                if " " in v:
                    put("jwt_claims", v.split(" ", 1)[1])
        hs = [h for h in resp.get("headers") or [] if isinstance(h, dict)]
        auth = [str(h.get("value", "")) for h in hs if str(h.get("name", "")).lower() == "www-authenticate"]
        if auth:
            put("www_authenticate", "\n".join(auth))
        for h in hs:
            if str(h.get("name", "")).lower() == "location":
                put("aadsts", str(h.get("value", "")))
        text = ((resp.get("content") or {}).get("text")) or ""
        if isinstance(text, str) and ("login." in url or "AADSTS" in text or "$Config" in text):
            put("aadsts", text)
        post = ((req.get("postData") or {}).get("text")) or ""
        if isinstance(post, str) and ("/ews/" in url.lower()):
            put("ews_soap", post + "\0" + (text if isinstance(text, str) else ""))
        put("redact_text", json.dumps(e)[:8192])


def walk(root):
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            lower = f.lower()
            if lower.endswith(".saz"):
                saz(p)
            elif lower.endswith((".har", ".har.gz", ".zhar")):
                har(p)


for root in sys.argv[2:]:
    if os.path.isdir(root):
        walk(root)

# NetLogs: the small recordings beside the tests (Chromium's own), whole and cut.
recorded = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "recorded")
if os.path.isdir(recorded):
    for f in sorted(os.listdir(recorded)):
        if f.startswith("chromium-netlog-") and f.endswith(".json"):
            with open(os.path.join(recorded, f), "rb") as fh:
                data = fh.read()
            put("netlog_reader", data[:MAX])
            put("netlog_reader", data[: len(data) // 2])

# A few hand-made seeds for what the captures rarely hold.
put("aadsts", "AADSTS500011: The resource principal named https://autodiscover.contoso.com was not found in the tenant named Contoso.\r\nTrace ID: 0c8a\r\nCorrelation ID: 1d2b\r\nTimestamp: 2024-01-01 00:00:00Z")
put("aadsts", '<html><script>$Config={"iErrorCode":500011,"sErrorCode":"500011","strServiceExceptionMessage":"AADSTS500011: x","correlationId":"0c8a1d2b-0000-0000-0000-000000000000"};</script></html>')
put("aadsts", "urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS500011%3a+The+resource&error_codes=500011")
put("www_authenticate", 'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@9188040d-6c67-4c5b-b112-36a304b66dad", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token"\nNTLM\nNegotiate TlRMTVNTUAACAAAA\nBasic realm="x\\"y"\nx-ms-diag2000003;reason="The hostname component of the audience claim value is invalid.";error_category="invalid_resource"')
put("jwt_claims", "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2F1dG9kaXNjb3Zlci5jb250b3NvLmNvbS8iLCJ0aWQiOiJ4In0.c2lnbmF0dXJl")
put("ews_soap", '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetDelegate xmlns="http://schemas.microsoft.com/exchange/services/2006/messages" IncludePermissions="true"><Mailbox><EmailAddress xmlns="http://schemas.microsoft.com/exchange/services/2006/types">a@contoso.com</EmailAddress></Mailbox></GetDelegate></soap:Body></soap:Envelope>\0<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetDelegateResponse ResponseClass="Error" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>ErrorDelegateMissingConfiguration</m:ResponseCode></m:GetDelegateResponse></s:Body></s:Envelope>')
put("body_decode", bytes([1, 0]) + b"5\r\nhello\r\n0\r\n\r\n")
put("saz_meta", '<?xml version="1.0" encoding="utf-8"?><Session SID="1" BitFlags="1"><SessionTimers ClientConnected="2024-01-01T00:00:00.0000000+01:00" ClientBeginRequest="2024-01-01T00:00:00.1+01:00"/><SessionFlags><SessionFlag N="x-processinfo" V="outlook:1234"/><SessionFlag N="x-clientip" V="127.0.0.1"/></SessionFlags></Session>')
# redact_planted: [format, session, place, encoding] then the secret's seed; every place and
# encoding in both formats (keep in step with PLACES / PLANT_ENCODINGS in fuzz/src/lib.rs).
for fmt in range(2):
    for place in range(8):
        for enc in range(3):
            put("redact_planted", bytes([fmt, 1 + place, place, enc]) + b"seed-%d%d%d" % (fmt, place, enc))

for t in TARGETS:
    put(t, b"\n")
print(" ".join(f"{t}={counts[t]}" for t in TARGETS))

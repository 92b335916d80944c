#!/usr/bin/env bash
# Records a capture of Outlook's 500011 loop as a real client and a real proxy write it:
# headless Chromium (client.html, ROUNDS rounds) -> mitmdump (HAR export) -> lookalike.py
# (on-premises autodiscover answering the hybrid Bearer challenge, Entra's token endpoint
# answering AADSTS500011). Everything listens on 127.0.0.1 only; the host names stay
# autodiscover.contoso.com and login.microsoftonline.com (route.py connects them to the
# look-alike; the HAR keeps those two hosts only, as an analyst's capture filter would, so
# Chromium's own update pings stay out). Writes, next to this script:
#   mitmdump-500011.har           mitmdump's HAR export
#   chromium-netlog-500011.json   Chromium's own net-export log of the same run
#
# Needs: python3 (a venv with mitmproxy is made in target/), openssl, node, npm ci in
# tests/browser, Debian's chromium. Run from anywhere: tests/recorded/record.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-3}
LOOKALIKE_PORT=${LOOKALIKE_PORT:-18443}
PROXY_PORT=${PROXY_PORT:-18080}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
VENV=${VENV:-$root/target/recorded-venv}
MITMPROXY=${MITMPROXY:-mitmproxy==11.0.2}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$VENV/bin/mitmdump" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "$MITMPROXY"
fi
if [ ! -d "$root/tests/browser/node_modules/playwright-core" ]; then
  (cd "$root/tests/browser" && npm ci --no-audit --no-fund)
fi
[ -x "$CHROMIUM" ] || { echo "record.sh: $CHROMIUM missing (apt-get install -y chromium)" >&2; exit 1; }

# The look-alike's certificate (mitmdump does not check it: --set ssl_insecure).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lookalike" \
  -addext "subjectAltName=DNS:autodiscover.contoso.com,DNS:login.microsoftonline.com" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

python3 "$here/lookalike.py" "$LOOKALIKE_PORT" "$work/cert.pem" "$work/key.pem" 2>"$work/lookalike.log" &
pids+=($!)
LOOKALIKE_PORT=$LOOKALIKE_PORT "$VENV/bin/mitmdump" -q \
  --listen-host 127.0.0.1 --listen-port "$PROXY_PORT" \
  --set confdir="$work/mitmproxy" --set ssl_insecure=true \
  --set save_stream_filter='~d autodiscover.contoso.com | ~d login.microsoftonline.com' \
  --set hardump="$work/recorded.har" -s "$here/route.py" >"$work/mitmdump.log" 2>&1 &
mitm=$!
pids+=($mitm)

wait_port() {
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "record.sh: nothing listens on 127.0.0.1:$1" >&2
  cat "$work"/*.log >&2 || true
  return 1
}
wait_port "$LOOKALIKE_PORT"
wait_port "$PROXY_PORT"

node "$here/drive.js" "$CHROMIUM" "$PROXY_PORT" "$work/netlog.json" "$ROUNDS"

# mitmdump writes the HAR when it shuts down.
kill -INT "$mitm"
wait "$mitm" || true
[ -s "$work/recorded.har" ] || { echo "record.sh: mitmdump wrote no HAR" >&2; cat "$work/mitmdump.log" >&2; exit 1; }
cp "$work/recorded.har" "$here/mitmdump-500011.har"
cp "$work/netlog.json" "$here/chromium-netlog-500011.json"
echo "recorded: $here/mitmdump-500011.har ($(wc -c <"$here/mitmdump-500011.har") bytes)," \
  "$here/chromium-netlog-500011.json ($(wc -c <"$here/chromium-netlog-500011.json") bytes)"

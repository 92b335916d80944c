#!/usr/bin/env bash
# Peak memory of `traceadal redact` on a large generated HAR (issue 17: a redact streams like
# analyze, its peak within 64 MiB plus the largest entry of the capture).
#
# Generates DIR/outlook-SESSIONS.har with the bulk generator (examples/gencaptures, the
# sample generator's actors streamed: samplegen::bulk), runs the release `traceadal redact`
# on it under /usr/bin/time -v, and prints the file sizes, the peak RSS, the largest entry
# and the bound. Exits 1 when the peak is above the bound or the copy lost entries, 2 when
# something it needs is missing.
#
# Environment (defaults in brackets):
#   SESSIONS          sessions of the generated HAR [100000]
#   REDACT_MEM_OUT    work folder (generated HAR and its copy) [a temporary folder, removed]
#   CARGO_TARGET_DIR  where the release build is [target]
#   SKIP_BUILD=1      use the binaries already built there
set -euo pipefail
cd "$(dirname "$0")/.."

N=${SESSIONS:-100000}
TARGET=${CARGO_TARGET_DIR:-target}
[ -x /usr/bin/time ] || { echo "redact-memory.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "redact-memory.sh: needs python3" >&2; exit 2; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    nice cargo build --release --quiet --bin traceadal --example gencaptures
fi
TA=$TARGET/release/traceadal
GEN=$TARGET/release/examples/gencaptures
for b in "$TA" "$GEN"; do
    [ -x "$b" ] || { echo "redact-memory.sh: $b is not built" >&2; exit 2; }
done

if [ -n "${REDACT_MEM_OUT:-}" ]; then
    OUT=$REDACT_MEM_OUT
    mkdir -p "$OUT"
else
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi
IN=$OUT/outlook-$N.har
COPY=$OUT/outlook-$N.redacted.har
if [ ! -s "$IN" ]; then
    "$GEN" single "$OUT" "$N" >/dev/null
    rm -f "$OUT/outlook-$N.saz"
fi

/usr/bin/time -v -o "$OUT/time.txt" "$TA" redact "$IN" "$COPY" >/dev/null 2>"$OUT/stderr.txt" || {
    echo "redact-memory.sh: traceadal redact failed:" >&2
    cat "$OUT/stderr.txt" >&2
    exit 1
}
peak=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2 * 1024}' "$OUT/time.txt")
wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$OUT/time.txt")

# The number of entries and the length of the largest one (its JSON text), one entry at a
# time (the file is one line, so no line tool will do).
cat >"$OUT/entries.py" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8-sig").read()
dec = json.JSONDecoder()
i = text.index("[", text.index('"entries"')) + 1
count = largest = 0
while True:
    while text[i] in " \t\r\n,":
        i += 1
    if text[i] == "]":
        break
    _, end = dec.raw_decode(text, i)
    count += 1
    largest = max(largest, end - i)
    i = end
print(count, largest)
PY
read -r n_in largest < <(python3 "$OUT/entries.py" "$IN")
read -r n_out _ < <(python3 "$OUT/entries.py" "$COPY")
limit=$((64 * 1048576 + largest))
mib() { awk -v a="$1" 'BEGIN { printf "%.1f MiB", a / 1048576 }'; }

printf 'capture        %s (%s entries)\n' "$(mib "$(stat -c %s "$IN")")" "$n_in"
printf 'redacted copy  %s (%s entries)\n' "$(mib "$(stat -c %s "$COPY")")" "$n_out"
printf 'largest entry  %s\n' "$(mib "$largest")"
printf 'peak RSS       %s (bound: 64 MiB + largest entry = %s)\n' "$(mib "$peak")" "$(mib "$limit")"
printf 'wall time      %s\n' "$wall"
status=0
if [ "$n_in" != "$n_out" ]; then
    echo "FAILED: the copy has $n_out entries, the capture $n_in" >&2
    status=1
fi
if [ "$peak" -gt "$limit" ]; then
    echo "FAILED: peak RSS above the bound" >&2
    status=1
fi
[ "$status" = 0 ] && echo "met"
exit "$status"

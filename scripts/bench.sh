#!/usr/bin/env bash
# Side-by-side figures for docs/performance.md, in one run on the same files:
#   SAZ   traceadal analyze   vs python zipfile reading every entry vs unzip -p (the floor)
#   HAR   traceadal analyze   vs haralyzer iterating the entries     vs jq '.log.entries | length'
#   batch traceadal batch of QUEUE_COUNT captures, --jobs 1 vs --jobs 2
#   peak memory (/usr/bin/time -v) vs the largest single entry of the capture
#   cost per session at every size (linearity)
# and the ratios against the targets of issue 7.
#
# Installs what it compares against: unzip, jq, time, hyperfine (apt, when missing and root)
# and a Python venv with haralyzer (PyPI) under $OUT/venv.
#
# Environment (defaults in brackets):
#   SIZES           session counts of the generated captures ["1000 10000 100000"]
#   QUEUE_COUNT     captures in the batch queue [200]
#   QUEUE_SESSIONS  sessions per capture of the queue [1000]
#   RUNS            timed runs per command [5]
#   BENCH_OUT       work folder (generated files, venv, raw results) [bench-out]
#   SKIP_SLOW=1     leave out haralyzer at the largest size (it needs minutes and GBs)
#   ONLY            the sections to run, of: saz har batch memory (e.g. ONLY="har memory"
#                   after a change to the HAR reader) [all]
#   CALLGRIND=1     also count instructions (valgrind --tool=callgrind) of traceadal, unzip -p
#                   and jq on the middle size: the same counts on a busy machine as on a quiet
#                   one, so the ratios can be compared across runs (slow: ~1 min per command)
set -euo pipefail
cd "$(dirname "$0")/.."

# whether section $1 is to run (see ONLY)
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

OUT=${BENCH_OUT:-bench-out}
SIZES=${SIZES:-"1000 10000 100000"}
QUEUE_COUNT=${QUEUE_COUNT:-200}
QUEUE_SESSIONS=${QUEUE_SESSIONS:-1000}
RUNS=${RUNS:-5}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RESULTS="$OUT/results.txt"
: >"$RESULTS"

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }

# --- tools -------------------------------------------------------------------------------
missing=()
for t in unzip jq hyperfine; do command -v "$t" >/dev/null || missing+=("$t"); done
[ "${CALLGRIND:-0}" = 1 ] && { command -v valgrind >/dev/null || missing+=(valgrind); }
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing: ${missing[*]}" >&2
        apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "bench.sh: missing ${missing[*]}; install them (apt-get install -y ${missing[*]})" >&2
        exit 2
    fi
fi
PY="$OUT/venv/bin/python"
if ! "$PY" -c 'import haralyzer' 2>/dev/null; then
    echo "creating the Python venv with haralyzer" >&2
    python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install -q --disable-pip-version-check 'haralyzer==2.4.0'
fi

# --- build and generate --------------------------------------------------------------------
cargo build --release --quiet --bin traceadal --example gencaptures
TA=$(pwd)/target/release/traceadal
GEN=$(pwd)/target/release/examples/gencaptures
mkdir -p "$OUT/captures"
for n in $SIZES; do
    [ -s "$OUT/captures/outlook-$n.har" ] || "$GEN" single "$OUT/captures" "$n" >/dev/null
done
if [ ! -d "$OUT/queue" ] || [ "$(find "$OUT/queue" -type f | wc -l)" -ne "$QUEUE_COUNT" ]; then
    rm -rf "$OUT/queue"
    "$GEN" queue "$OUT/queue" "$QUEUE_COUNT" "$QUEUE_SESSIONS" >/dev/null
fi

# Python baselines, as scripts so that every run does the same work.
cat >"$OUT/zipfile_read.py" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    n = sum(len(z.read(i)) for i in z.infolist())
EOF
cat >"$OUT/haralyzer_iter.py" <<'EOF'
import sys
from haralyzer import HarParser
p = HarParser.from_file(sys.argv[1])
n = 0
for page in p.pages:
    for e in page.entries:
        n += 1
        e.request.url, e.response.status
EOF
cat >"$OUT/largest_entry.py" <<'EOF'
import json, sys, zipfile
path = sys.argv[1]
if zipfile.is_zipfile(path):
    with zipfile.ZipFile(path) as z:
        print(max(i.file_size for i in z.infolist()))
else:
    with open(path, encoding="utf-8-sig") as f:
        print(max(len(json.dumps(e)) for e in json.load(f)["log"]["entries"]))
EOF

# --- measuring ------------------------------------------------------------------------------
# mean seconds of each command, one per line, in the order given (hyperfine, exit codes ignored:
# traceadal exits 1 on these captures because they hold the AADSTS500011 loop)
measure() {
    local json="$OUT/hf-$1.json"
    shift
    hyperfine --style none --runs "$RUNS" --warmup 1 -i --export-json "$json" "$@" >/dev/null 2>&1 ||
        true
    if [ -s "$json" ]; then
        jq -r '.results[] | .mean' "$json"
    else
        for _ in "$@"; do echo nan; done
    fi
}

# user + system seconds (mean) of each command of the last `measure NAME`, one per line:
# wall time alone misleads on a shared machine, and traceadal uses every core
cpu() {
    local json="$OUT/hf-$1.json"
    if [ -s "$json" ]; then jq -r '.results[] | (.user + .system)' "$json"; else echo nan; fi
}

# peak RSS in bytes of one run
peak() {
    /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time.txt" || true
    awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2 * 1024}' "$OUT/time.txt"
}

# a traceadal time, or nan when this traceadal cannot read the captures (not a measurement)
ta() { if [ "$readers" = yes ]; then echo "$1"; else echo nan; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan") printf "%.2fx", a / b; else print "n/a" }'; }
secs() { awk -v a="$1" 'BEGIN { if (a == "nan") print "n/a"; else printf "%.3f s", a }'; }
mib() { awk -v a="$1" 'BEGIN { if (a == "nan") print "n/a"; else printf "%.1f MiB", a / 1048576 }'; }
verdict() { # value op target
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        if (v == "n/a") { print "n/a"; exit }
        sub(/x$/, "", v); v = v + 0
        ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "met" : "MISSED" }'
}

# traceadal exits 0 or 1 on a capture it read, 2 on one it could not.
readers=yes
first=$(echo "$SIZES" | awk '{print $1}')
rc=0
"$TA" analyze --format json -o /dev/null "$OUT/captures/outlook-$first.saz" 2>/dev/null || rc=$?
[ "$rc" -le 1 ] || readers=no

say "traceadal bench, $(date -u +%Y-%m-%dT%H:%MZ)"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "traceadal $("$TA" --version | awk '{print $2}'), $(rustc --version), runs per figure: $RUNS"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times)"
if [ "$readers" = no ]; then
    say "NOTE: this traceadal cannot read the generated captures (readers not merged yet):"
    say "      its columns below are not measurements."
fi
say ""

# --- SAZ ------------------------------------------------------------------------------------
declare -A SAZ_T
if want saz; then
say "SAZ: traceadal analyze vs reading and inflating every entry"
say "$(printf '%-9s %12s %12s %12s %12s %10s %9s' sessions size traceadal 'py zipfile' 'unzip -p' 'vs unzip' target)"
for n in $SIZES; do
    f="$OUT/captures/outlook-$n.saz"
    mapfile -t t < <(measure "saz-$n" \
        "$TA analyze --format json -o /dev/null $f" \
        "$PY $OUT/zipfile_read.py $f" \
        "unzip -p $f > /dev/null")
    t[0]=$(ta "${t[0]}")
    SAZ_T[$n]=${t[0]}
    r=$(ratio "${t[0]}" "${t[2]}")
    say "$(printf '%-9s %12s %12s %12s %12s %10s %9s' "$n" "$(mib "$(stat -c %s "$f")")" "$(secs "${t[0]}")" "$(secs "${t[1]}")" "$(secs "${t[2]}")" "$r" "$(verdict "$r" '<=' 1.3)")"
    mapfile -t c < <(cpu "saz-$n")
    say "$(printf '%-9s %12s %12s %12s %12s %10s' '  cpu' '' "$(secs "$(ta "${c[0]}")")" "$(secs "${c[1]:-nan}")" "$(secs "${c[2]:-nan}")" "$(ratio "$(ta "${c[0]}")" "${c[2]:-nan}")")"
done
say "target: traceadal at most 1.3x unzip -p (wall time; the cpu row is user + system over all cores)"
say ""
fi

# --- HAR ------------------------------------------------------------------------------------
declare -A HAR_T
if want har; then
say "HAR: traceadal analyze vs haralyzer and jq"
say "$(printf '%-9s %12s %12s %12s %12s %11s %9s %8s %9s' sessions size traceadal haralyzer jq 'haralyzer/t' target 't/jq' target)"
last=$(echo "$SIZES" | awk '{print $NF}')
for n in $SIZES; do
    f="$OUT/captures/outlook-$n.har"
    if [ "${SKIP_SLOW:-0}" = 1 ] && [ "$n" = "$last" ]; then
        mapfile -t t < <(measure "har-$n" \
            "$TA analyze --format json -o /dev/null $f" \
            "jq '.log.entries | length' $f > /dev/null")
        t=("${t[0]}" nan "${t[1]}")
    else
        mapfile -t t < <(measure "har-$n" \
            "$TA analyze --format json -o /dev/null $f" \
            "$PY $OUT/haralyzer_iter.py $f" \
            "jq '.log.entries | length' $f > /dev/null")
    fi
    t[0]=$(ta "${t[0]}")
    HAR_T[$n]=${t[0]}
    rh=$(ratio "${t[1]}" "${t[0]}")
    rj=$(ratio "${t[0]}" "${t[2]}")
    say "$(printf '%-9s %12s %12s %12s %12s %11s %9s %8s %9s' "$n" "$(mib "$(stat -c %s "$f")")" "$(secs "${t[0]}")" "$(secs "${t[1]}")" "$(secs "${t[2]}")" "$rh" "$(verdict "$rh" '>=' 30)" "$rj" "$(verdict "$rj" '<=' 2)")"
    mapfile -t c < <(cpu "har-$n")
    if [ ${#c[@]} -eq 2 ]; then c=("${c[0]}" nan "${c[1]}"); fi
    say "$(printf '%-9s %12s %12s %12s %12s %11s %9s %8s' '  cpu' '' "$(secs "$(ta "${c[0]}")")" "$(secs "${c[1]:-nan}")" "$(secs "${c[2]:-nan}")" "$(ratio "${c[1]:-nan}" "$(ta "${c[0]}")")" '' "$(ratio "$(ta "${c[0]}")" "${c[2]:-nan}")")"
done
say "targets: haralyzer at least 30x slower than traceadal; traceadal at most 2x jq"
say ""
fi

# --- batch ----------------------------------------------------------------------------------
if want batch; then
say "batch: $QUEUE_COUNT captures of $QUEUE_SESSIONS sessions ($(du -sh "$OUT/queue" | cut -f1))"
mapfile -t t < <(measure batch \
    "$TA batch $OUT/queue --format csv -o /dev/null --jobs 1" \
    "$TA batch $OUT/queue --format csv -o /dev/null --jobs 2")
t=("$(ta "${t[0]}")" "$(ta "${t[1]}")")
r=$(ratio "${t[0]}" "${t[1]}")
say "--jobs 1: $(secs "${t[0]}")   --jobs 2: $(secs "${t[1]}")   speed-up: $r   target >= 1.8x: $(verdict "$r" '>=' 1.8)"
say ""
fi

# --- memory ---------------------------------------------------------------------------------
if want memory; then
say "peak memory (maximum RSS) vs 64 MiB + the largest single entry"
say "$(printf '%-14s %12s %14s %12s %9s' capture peak 'largest entry' limit target)"
for n in $SIZES; do
    for fmt in saz har; do
        f="$OUT/captures/outlook-$n.$fmt"
        p=$(peak "$TA" analyze --format json -o /dev/null "$f")
        [ "$readers" = yes ] || p=nan
        l=$("$PY" "$OUT/largest_entry.py" "$f")
        lim=$((64 * 1048576 + l))
        ok=$(awk -v p="$p" -v l="$lim" 'BEGIN { print (p <= l) ? "met" : "MISSED" }')
        [ "$readers" = no ] && ok="n/a"
        say "$(printf '%-14s %12s %14s %12s %9s' "$n.$fmt" "$(mib "$p")" "$(mib "$l")" "$(mib "$lim")" "$ok")"
    done
done
say ""
fi

# --- linearity ------------------------------------------------------------------------------
say "cost per session (linear when roughly constant across sizes)"
say "$(printf '%-9s %14s %14s' sessions 'SAZ us/session' 'HAR us/session')"
for n in $SIZES; do
    say "$(printf '%-9s %14s %14s' "$n" \
        "$(awk -v t="${SAZ_T[$n]:-nan}" -v n="$n" 'BEGIN { if (t == "nan") print "n/a"; else printf "%.1f", t * 1e6 / n }')" \
        "$(awk -v t="${HAR_T[$n]:-nan}" -v n="$n" 'BEGIN { if (t == "nan") print "n/a"; else printf "%.1f", t * 1e6 / n }')")"
done
say ""

# --- instruction counts -----------------------------------------------------------------------
if [ "${CALLGRIND:-0}" = 1 ] && [ "$readers" = yes ]; then
    mid=$(echo "$SIZES" | awk '{print $(int((NF + 1) / 2))}')
    # total instructions (all threads) of one command, from callgrind's summary line
    # (traceadal exits 1 on these captures, valgrind with it: not a failure here)
    instr() {
        { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true; } |
            awk '/Collected :/ {n = $NF} END {print (n == "" ? "nan" : n)}'
    }
    say "instructions (callgrind, all threads) on the $mid-session captures"
    if want saz; then
        s_ta=$(instr "$TA" analyze --format json -o /dev/null "$OUT/captures/outlook-$mid.saz")
        s_uz=$(instr unzip -p "$OUT/captures/outlook-$mid.saz")
        say "SAZ: traceadal $s_ta, unzip -p $s_uz: $(ratio "$s_ta" "$s_uz")"
    fi
    if want har; then
        h_ta=$(instr "$TA" analyze --format json -o /dev/null "$OUT/captures/outlook-$mid.har")
        h_jq=$(instr jq '.log.entries | length' "$OUT/captures/outlook-$mid.har")
        say "HAR: traceadal $h_ta, jq $h_jq: $(ratio "$h_ta" "$h_jq")"
    fi
    say ""
fi
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
say "raw hyperfine results: $OUT/hf-*.json; this summary: $RESULTS"

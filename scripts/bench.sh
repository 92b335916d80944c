#!/usr/bin/env bash
# Side-by-side figures for docs/performance.md, in one run on the same files, each as wall time
# and as CPU time (user + system over all cores) with the ratio of both:
#   SAZ   traceadal analyze   vs python zipfile reading every entry vs unzip -p (the floor)
#   HAR   traceadal analyze   vs the parse floor (examples/har_floor.rs: the fastest Rust JSON
#         parser over the file mapped into memory, nothing else; beside it the same floor
#         reading the file into a buffer, as a reader using read(2) must) vs jq
#         '.log.entries | length' vs haralyzer
#   batch traceadal batch of QUEUE_COUNT captures, --jobs 1 vs --jobs 2, with the CPU
#         utilisation (cpu / wall) of each
#   NetLog traceadal analyze vs the same floor over a NetLog (har_floor --netlog) vs jq
#         '.events | length', with peak memory (no target yet: figures only)
#   redact traceadal redact of the HAR and the SAZ on every core and on one (taskset)
#         (RAYON_NUM_THREADS=1), sizes up to 10000 (no target: figures only)
#   peak memory (/usr/bin/time -v) vs the largest single entry of the capture
#   cost per session at every size (linearity)
# and a summary against the targets of issue 22 (SAZ <= 1.3x unzip -p, HAR <= 1.5x the floor
# and >= 30x haralyzer, in wall and in CPU time; batch --jobs 2 >= 1.8x --jobs 1).
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
#   ONLY            the sections to run, of: saz har batch memory netlog redact (e.g.
#                   ONLY="har memory" after a change to the HAR reader) [all]
#   NETLOG_COPIES   copies of the recorded Chromium NetLog (7 sessions, 247 KB each) in the
#                   generated NetLogs ["125 1250"]
#   CALLGRIND=1     also count instructions (valgrind --tool=callgrind, all threads) of
#                   traceadal, unzip -p, the HAR floor and jq on the middle size, and of
#                   batch --jobs 1 and --jobs 2 on the first 10 tickets of the queue: the same
#                   counts on a busy machine as on a quiet one, so the ratios can be compared
#                   across runs (slow: ~1 min per command)
set -euo pipefail
cd "$(dirname "$0")/.."

# whether section $1 is to run (see ONLY)
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

OUT=${BENCH_OUT:-bench-out}
SIZES=${SIZES:-"1000 10000 100000"}
QUEUE_COUNT=${QUEUE_COUNT:-200}
QUEUE_SESSIONS=${QUEUE_SESSIONS:-1000}
NETLOG_COPIES=${NETLOG_COPIES:-"125 1250"}
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
# The HAR parse floor is an example of its own (examples/har_floor.rs, `har_floor FILE` prints
# the entry count); a tree without it measures everything else and says so.
examples=(--example gencaptures)
if [ -f examples/har_floor.rs ]; then examples+=(--example har_floor); fi
cargo build --release --quiet --bin traceadal "${examples[@]}"
TA=$(pwd)/target/release/traceadal
GEN=$(pwd)/target/release/examples/gencaptures
FLOOR=
if [ -f examples/har_floor.rs ]; then FLOOR=$(pwd)/target/release/examples/har_floor; fi
mkdir -p "$OUT/captures"
for n in $SIZES; do
    [ -s "$OUT/captures/outlook-$n.har" ] || "$GEN" single "$OUT/captures" "$n" >/dev/null
done
if want netlog; then
    for k in $NETLOG_COPIES; do
        [ -s "$OUT/captures/chromium-$k.json" ] || "$GEN" netlog "$OUT/captures" "$k" >/dev/null
    done
fi
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
    rm -f "$json"
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
# element $2 of the array named $1, or nan when $2 is -1 (a command left out) or missing
pick() {
    local -n arr=$1
    if [ "$2" -ge 0 ] && [ -n "${arr[$2]:-}" ]; then echo "${arr[$2]}"; else echo nan; fi
}
# append command $2 to the array cmds and set the variable named $1 to its index there
# (where `pick` finds its figure in hyperfine's results)
add_cmd() {
    local -n at=$1
    at=${#cmds[@]}
    cmds+=("$2")
}
# whether a slow comparison is left out at size $1, the largest being $2 (SKIP_SLOW)
slow_left_out() { [ "${SKIP_SLOW:-0}" = 1 ] && [ "$1" = "$2" ]; }
# the line a section prints when this tree has no floor
no_floor_note() {
    if [ -z "$FLOOR" ]; then
        say "(no floor: examples/har_floor.rs is not in this tree; its columns are n/a)"
    fi
}
# microseconds a session: seconds $1 over $2 sessions, or n/a
per_session() { awk -v t="$1" -v n="$2" 'BEGIN { if (t == "nan" || n == "nan" || n + 0 == 0) print "n/a"; else printf "%.1f", t * 1e6 / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan" && a != "") printf "%.2fx", a / b; else print "n/a" }'; }
secs() { awk -v a="$1" 'BEGIN { if (a == "nan" || a == "") print "n/a"; else printf "%.3f s", a }'; }
mib() { awk -v a="$1" 'BEGIN { if (a == "nan") print "n/a"; else printf "%.1f MiB", a / 1048576 }'; }
verdict() { # value op target
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        if (v == "n/a") { print "n/a"; exit }
        sub(/x$/, "", v); v = v + 0
        ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "met" : "MISSED" }'
}
# "1.23x met" / "0.90x MISSED" / "n/a": a ratio and its verdict, for the summary
judged() { local r; r=$1; if [ "$r" = n/a ]; then echo n/a; else echo "$r $(verdict "$r" "$2" "$3")"; fi; }

# The summary at the end: one line per target and size, wall and cpu verdicts side by side.
SUMMARY=()
summarise() { # what wall cpu
    SUMMARY+=("$(printf '%-42s %-16s %s' "$1" "$2" "$3")")
}

# traceadal exits 0 or 1 on a capture it read, 2 on one it could not.
readers=yes
first=$(echo "$SIZES" | awk '{print $1}')
rc=0
"$TA" analyze --format json -o /dev/null "$OUT/captures/outlook-$first.saz" 2>/dev/null || rc=$?
[ "$rc" -le 1 ] || readers=no

say "traceadal bench, $(date -u +%Y-%m-%dT%H:%MZ)"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "traceadal $("$TA" --version | awk '{print $2}') ($(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ', modified')), $(rustc --version), runs per figure: $RUNS"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times)"
say "wall: hyperfine's mean; cpu: user + system of the same runs over all cores (the work done)"
if [ "$readers" = no ]; then
    say "NOTE: this traceadal cannot read the generated captures (readers not merged yet):"
    say "      its columns below are not measurements."
fi
say ""

# --- SAZ ------------------------------------------------------------------------------------
declare -A SAZ_T
if want saz; then
say "SAZ: traceadal analyze vs reading and inflating every entry"
fmt='%-9s %10s %-4s %10s %11s %10s %10s %8s %7s'
say "$(printf "$fmt" sessions size '' traceadal 'py zipfile' 'unzip -p' 't/zipfile' 't/unzip' '<=1.3x')"
for n in $SIZES; do
    f="$OUT/captures/outlook-$n.saz"
    mapfile -t t < <(measure "saz-$n" \
        "$TA analyze --format json -o /dev/null $f" \
        "$PY $OUT/zipfile_read.py $f" \
        "unzip -p $f > /dev/null")
    mapfile -t c < <(cpu "saz-$n")
    t[0]=$(ta "${t[0]}")
    c[0]=$(ta "${c[0]}")
    SAZ_T[$n]=${t[0]}
    rw=$(ratio "${t[0]}" "${t[2]:-nan}")
    rcpu=$(ratio "${c[0]}" "${c[2]:-nan}")
    say "$(printf "$fmt" "$n" "$(mib "$(stat -c %s "$f")")" wall "$(secs "${t[0]}")" "$(secs "${t[1]:-nan}")" "$(secs "${t[2]:-nan}")" "$(ratio "${t[0]}" "${t[1]:-nan}")" "$rw" "$(verdict "$rw" '<=' 1.3)")"
    say "$(printf "$fmt" '' '' cpu "$(secs "${c[0]}")" "$(secs "${c[1]:-nan}")" "$(secs "${c[2]:-nan}")" "$(ratio "${c[0]}" "${c[1]:-nan}")" "$rcpu" "$(verdict "$rcpu" '<=' 1.3)")"
    summarise "SAZ $n: traceadal / unzip -p <= 1.3x" "$(judged "$rw" '<=' 1.3)" "$(judged "$rcpu" '<=' 1.3)"
done
say "target: traceadal at most 1.3x unzip -p, in wall time and in cpu time"
say ""
fi

# --- HAR ------------------------------------------------------------------------------------
declare -A HAR_T
if want har; then
say "HAR: traceadal analyze vs the parse floor, jq and haralyzer"
no_floor_note
fmt='%-9s %10s %-4s %10s %10s %11s %10s %10s %8s %7s %12s %7s %5s %12s %7s'
say "$(printf "$fmt" sessions size '' traceadal floor 'floor read' jq haralyzer 't/floor' '<=1.5x' 't/floor read' 't/jq' '<=2x' 'haralyzer/t' '>=30x')"
last=$(echo "$SIZES" | awk '{print $NF}')
for n in $SIZES; do
    f="$OUT/captures/outlook-$n.har"
    # the commands of this size, and where each one's figure is in hyperfine's results
    cmds=("$TA analyze --format json -o /dev/null $f")
    fi_=-1 fr=-1 hi=-1
    if [ -n "$FLOOR" ]; then
        add_cmd fi_ "$FLOOR $f > /dev/null"
        # a tree whose floor has no --read measures the floor it has twice
        if "$FLOOR" --read "$f" >/dev/null 2>&1; then add_cmd fr "$FLOOR --read $f > /dev/null"; fi
        got=$("$FLOOR" "$f" 2>/dev/null || true)
        [ "$got" = "$n" ] || say "NOTE: har_floor counted '${got}' entries in $f, not $n"
    fi
    add_cmd ji "jq '.log.entries | length' $f > /dev/null"
    if ! slow_left_out "$n" "$last"; then
        add_cmd hi "$PY $OUT/haralyzer_iter.py $f"
    fi
    mapfile -t t < <(measure "har-$n" "${cmds[@]}")
    mapfile -t c < <(cpu "har-$n")
    tt=$(ta "${t[0]}") tf=$(pick t "$fi_") tr=$(pick t "$fr") tj=$(pick t "$ji") th=$(pick t "$hi")
    ct=$(ta "${c[0]:-nan}") cf=$(pick c "$fi_") cr=$(pick c "$fr") cj=$(pick c "$ji") ch=$(pick c "$hi")
    HAR_T[$n]=$tt
    for m in wall cpu; do
        if [ $m = wall ]; then a=$tt b=$tf r=$tr j=$tj h=$th; else a=$ct b=$cf r=$cr j=$cj h=$ch; fi
        rf=$(ratio "$a" "$b") rr=$(ratio "$a" "$r") rj=$(ratio "$a" "$j") rh=$(ratio "$h" "$a")
        if [ $m = wall ]; then lead=("$n" "$(mib "$(stat -c %s "$f")")"); else lead=('' ''); fi
        say "$(printf "$fmt" "${lead[@]}" $m "$(secs "$a")" "$(secs "$b")" "$(secs "$r")" "$(secs "$j")" "$(secs "$h")" "$rf" "$(verdict "$rf" '<=' 1.5)" "$rr" "$rj" "$(verdict "$rj" '<=' 2)" "$rh" "$(verdict "$rh" '>=' 30)")"
        declare "rf_$m=$rf" "rh_$m=$rh" "rj_$m=$rj"
    done
    summarise "HAR $n: traceadal / floor <= 1.5x" "$(judged "$rf_wall" '<=' 1.5)" "$(judged "$rf_cpu" '<=' 1.5)"
    summarise "HAR $n: haralyzer / traceadal >= 30x" "$(judged "$rh_wall" '>=' 30)" "$(judged "$rh_cpu" '>=' 30)"
    summarise "HAR $n: traceadal / jq <= 2x" "$(judged "$rj_wall" '<=' 2)" "$(judged "$rj_cpu" '<=' 2)"
done
say "targets: traceadal at most 1.5x the floor and 2x jq, haralyzer at least 30x traceadal,"
say "         in wall time and in cpu time ('floor read': the floor reading the file with"
say "         read(2) into a buffer, as traceadal does, instead of mapping it; no target)"
say ""
fi

# --- batch ----------------------------------------------------------------------------------
if want batch; then
say "batch: $QUEUE_COUNT captures of $QUEUE_SESSIONS sessions ($(du -shL "$OUT/queue" | cut -f1)), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
mapfile -t t < <(measure batch \
    "$TA batch $OUT/queue --format csv -o /dev/null --jobs 1" \
    "$TA batch $OUT/queue --format csv -o /dev/null --jobs 2")
mapfile -t c < <(cpu batch)
t=("$(ta "${t[0]}")" "$(ta "${t[1]:-nan}")")
c=("$(ta "${c[0]}")" "$(ta "${c[1]:-nan}")")
fmt='%-8s %10s %10s %10s'
say "$(printf "$fmt" jobs wall cpu 'cpu/wall')"
for i in 0 1; do
    u[i]=$(awk -v c="${c[i]}" -v w="${t[i]}" 'BEGIN { if (c == "nan" || w == "nan" || w + 0 == 0) print "n/a"; else printf "%.2f", c / w }')
    say "$(printf "$fmt" "--jobs $((i + 1))" "$(secs "${t[i]}")" "$(secs "${c[i]}")" "${u[i]}")"
done
r=$(ratio "${t[0]}" "${t[1]}")
say "speed-up (wall 1 / wall 2): $r   target >= 1.8x: $(verdict "$r" '>=' 1.8)"
say "cpu 2 / cpu 1: $(ratio "${c[1]}" "${c[0]}") (the extra work two jobs do; 1.00x: none)   utilisation 2 / 1: $(ratio "${u[1]}" "${u[0]}")"
say "(speed-up = utilisation ratio / extra work; --jobs 2 should keep about 2.0 cores busy, --jobs 1"
say " about 1.0: in batch a worker lexes its HAR itself, with no thread beside it)"
summarise "batch: --jobs 1 / --jobs 2 >= 1.8x (*)" "$(judged "$r" '>=' 1.8)" "$(judged "${u[1]}" '>=' 1.8)"
say ""
fi

# --- redact ---------------------------------------------------------------------------------
if want redact; then
# One core: the process pinned to it (taskset), its pool one thread; without taskset only the
# pool is one thread, and the thread that writes the copy (and a HAR's lexer) still runs beside it.
one="RAYON_NUM_THREADS=1"
command -v taskset >/dev/null && one="RAYON_NUM_THREADS=1 taskset -c 0"
say "redact: the copy with every secret replaced, on every core and on one ($one)"
fmt='%-9s %-4s %10s %-4s %11s %11s %8s'
say "$(printf "$fmt" sessions '' size '' 'all cores' 'one core' 'one/all')"
for n in $SIZES; do
    [ "$n" -le 10000 ] || continue
    for kind in har saz; do
        f="$OUT/captures/outlook-$n.$kind"
        copy="$OUT/redacted.$kind"
        mapfile -t t < <(measure "redact-$kind-$n" \
            "$TA redact $f $copy" \
            "$one $TA redact $f $copy")
        mapfile -t c < <(cpu "redact-$kind-$n")
        t=("$(ta "${t[0]}")" "$(ta "${t[1]:-nan}")")
        c=("$(ta "${c[0]}")" "$(ta "${c[1]:-nan}")")
        say "$(printf "$fmt" "$n" "$kind" "$(mib "$(stat -c %s "$f")")" wall "$(secs "${t[0]}")" "$(secs "${t[1]}")" "$(ratio "${t[1]}" "${t[0]}")")"
        say "$(printf "$fmt" '' '' '' cpu "$(secs "${c[0]}")" "$(secs "${c[1]}")" "$(ratio "${c[1]}" "${c[0]}")")"
    done
done
rm -f "$OUT/redacted.har" "$OUT/redacted.saz"
say "(a HAR's entries and a SAZ's sessions are scrubbed on every core: see docs/performance.md)"
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

# --- NetLog ---------------------------------------------------------------------------------
declare -A NETLOG_T
if want netlog; then
say "NetLog: traceadal analyze vs the parse floor (har_floor --netlog) and jq (no target yet)"
no_floor_note
fmt='%-7s %9s %10s %-4s %10s %10s %10s %8s %7s %12s'
say "$(printf "$fmt" copies sessions size '' traceadal floor jq 't/floor' 't/jq' 'peak RSS')"
last=$(echo "$NETLOG_COPIES" | awk '{print $NF}')
for k in $NETLOG_COPIES; do
    f="$OUT/captures/chromium-$k.json"
    sessions=$("$TA" sessions --format json "$f" 2>/dev/null | jq length 2>/dev/null || echo nan)
    cmds=("$TA analyze --format json -o /dev/null $f")
    fi_=-1 ji=-1
    if [ -n "$FLOOR" ]; then
        add_cmd fi_ "$FLOOR --netlog $f > /dev/null"
    fi
    if ! slow_left_out "$k" "$last"; then
        add_cmd ji "jq '.events | length' $f > /dev/null"
    fi
    mapfile -t t < <(measure "netlog-$k" "${cmds[@]}")
    mapfile -t c < <(cpu "netlog-$k")
    p=$(peak "$TA" analyze --format json -o /dev/null "$f")
    NETLOG_T[$k]=$(ta "${t[0]}")
    for m in wall cpu; do
        if [ $m = wall ]; then
            a=$(ta "${t[0]}") b=$(pick t "$fi_") j=$(pick t "$ji")
            lead=("$k" "$sessions" "$(mib "$(stat -c %s "$f")")") rss=$(mib "$p")
        else
            a=$(ta "${c[0]:-nan}") b=$(pick c "$fi_") j=$(pick c "$ji")
            lead=('' '' '') rss=''
        fi
        say "$(printf "$fmt" "${lead[@]}" $m "$(secs "$a")" "$(secs "$b")" "$(secs "$j")" "$(ratio "$a" "$b")" "$(ratio "$a" "$j")" "$rss")"
    done
    us=$(per_session "${NETLOG_T[$k]}" "$sessions")
    [ "$us" = n/a ] || say "        $us us/session"
done
say "(a bulk NetLog is the recorded Chromium NetLog of tests/recorded/ copied, sources renumbered)"
say ""
fi

# --- linearity ------------------------------------------------------------------------------
say "cost per session (linear when roughly constant across sizes)"
say "$(printf '%-9s %14s %14s' sessions 'SAZ us/session' 'HAR us/session')"
for n in $SIZES; do
    say "$(printf '%-9s %14s %14s' "$n" \
        "$(per_session "${SAZ_T[$n]:-nan}" "$n")" "$(per_session "${HAR_T[$n]:-nan}" "$n")")"
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
        if [ -n "$FLOOR" ]; then
            h_fl=$(instr "$FLOOR" "$OUT/captures/outlook-$mid.har")
            say "HAR: traceadal $h_ta, floor $h_fl: $(ratio "$h_ta" "$h_fl")"
        fi
    fi
    if want batch; then
        # The same work should be the same instructions whatever the jobs: the difference is
        # the cost of running in parallel. On the first 10 tickets (links to the files: the
        # walk follows links to files), since callgrind runs all threads on one core.
        sub="$OUT/queue-callgrind"
        rm -rf "$sub"
        for d in $(find "$OUT/queue" -mindepth 1 -maxdepth 1 -type d | sort | head -n 10); do
            mkdir -p "$sub/${d##*/}"
            for f in "$d"/*; do ln -s "$f" "$sub/${d##*/}/"; done
        done
        b1=$(instr "$TA" batch "$sub" --format csv -o /dev/null --jobs 1)
        b2=$(instr "$TA" batch "$sub" --format csv -o /dev/null --jobs 2)
        extra=$(awk -v a="$b2" -v b="$b1" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "n/a"; else printf "%+.2f %%", 100 * (a - b) / b }')
        say "batch, $(find "$sub" -type l | wc -l) captures: --jobs 1 $b1, --jobs 2 $b2: $extra (the cost of running in parallel)"
    fi
    say ""
fi

# --- summary --------------------------------------------------------------------------------
if [ ${#SUMMARY[@]} -gt 0 ]; then
    say "summary: targets of issue 22"
    say "$(printf '%-42s %-16s %s' target wall cpu)"
    for line in "${SUMMARY[@]}"; do say "$line"; done
    if want batch; then
        say "(*) batch cpu: the cores --jobs 2 keeps busy (cpu / wall), at least 1.8 of 2"
    fi
    say ""
fi
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
say "raw hyperfine results: $OUT/hf-*.json; this summary: $RESULTS"

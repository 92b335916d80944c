#!/usr/bin/env bash
# Fuzz every parser for SECONDS each (default 60), one target at a time, and print per
# target: executions, exec/s, crashes found. Exits non-zero when a target crashed (panic,
# abort, timeout, out-of-memory) or when the fuzz build itself fails.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Corpora are
# seeded at run time from samples/ and the shared public captures ($TRACEADAL_CORPUS, else
# ../shared/captures) into fuzz/corpus/<target>/, which is never committed. Crash inputs are
# written to fuzz/artifacts/<target>/; each one found must become a regression input under
# tests/fuzz_regressions/<target>/ (see docs/reliability.md).
#
# Environment:
#   FUZZ_SANITIZER  address | none (default none: the crate forbids unsafe code, and without
#                   ASan a target runs about twice as fast; set address for a deeper run)
#   FUZZ_TIMEOUT    seconds one input may take before it counts as a hang (default 10)
#   FUZZ_RSS_MB     memory limit in MB before an input counts as out-of-memory (default 2048)
#   FUZZ_RUNS       stop a target after this many executions, if that comes before SECONDS
#                   (e.g. FUZZ_RUNS=10000000 scripts/fuzz.sh 7200 for the 10M of issue 8)
#   FUZZ_MAX_LEN    longest input libFuzzer makes, in bytes (default 65536 for the archive,
#                   HAR, body and rewrite targets, 8192 for the text parsers: their hostile-length
#                   cases, 10 MB lines and 100 000 headers, are integration tests instead)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=${1:-60}
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 64
fi
all_targets=(saz_reader saz_meta http_head body_decode har_reader www_authenticate aadsts
  jwt_claims ews_soap redact_text capture_rewrite redact_planted autodiscover_json
  federation autodiscover_pox gateway netlog_reader)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

sanitizer=${FUZZ_SANITIZER:-none}
flags=(-O -a -s "$sanitizer")

fail() { echo "fuzz.sh: $*" >&2; exit 2; }
command -v cargo >/dev/null || fail "cargo is not installed"
rustup toolchain list 2>/dev/null | grep -q '^nightly' || fail "the nightly toolchain is missing (rustup toolchain install nightly)"
cargo +nightly fuzz --version >/dev/null 2>&1 || fail "cargo-fuzz is missing (cargo install cargo-fuzz)"
command -v python3 >/dev/null || fail "python3 is needed to seed the corpora"

echo "fuzz.sh: building ${#targets[@]} target(s) (nightly, sanitizer=$sanitizer)" >&2
build_start=$(date +%s)
(cd fuzz && cargo +nightly fuzz build "${flags[@]}") || fail "the fuzz build failed"
echo "fuzz.sh: build took $(( $(date +%s) - build_start )) s" >&2

shared=${TRACEADAL_CORPUS:-$root/../shared/captures}
[ -d "$shared" ] || echo "fuzz.sh: no shared captures at $shared; seeding from samples/ only" >&2
seeds=$(python3 scripts/fuzz_seeds.py fuzz/corpus samples "$shared") || fail "seeding the corpora failed"
echo "fuzz.sh: seeds: $seeds" >&2

export RAYON_NUM_THREADS=1 # one core per target: the machine is shared
mkdir -p fuzz/artifacts
results=()
crashed=0
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || fail "no such target: $t"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t.log"
  case "$t" in
    saz_reader | har_reader | body_decode | capture_rewrite | netlog_reader) max_len=${FUZZ_MAX_LEN:-65536} ;;
    *) max_len=${FUZZ_MAX_LEN:-8192} ;;
  esac
  marker=$(mktemp)
  start=$(date +%s)
  (cd fuzz && cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
    -max_len="$max_len" -runs="${FUZZ_RUNS:--1}" -print_final_stats=1 -close_fd_mask=1) >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$')
  [ -n "$execs" ] || execs=$(grep -Eo '^Done [0-9]+ runs' "$log" | tail -1 | grep -Eo '[0-9]+')
  rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$')
  found=$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) -newer "$marker" | sort)
  rm -f "$marker"
  n=$(printf '%s' "$found" | grep -c . || true)
  if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; found="(exit $rc, no artifact: see $log)"; fi
  [ "$n" -gt 0 ] && crashed=1
  results+=("$(printf '%-17s %12s %9s %6ss %8s' "$t" "${execs:-?}" "${rate:-?}" "$took" "$n")")
  printf '%s\n' "${results[-1]}" >&2
  if [ "$n" -gt 0 ]; then
    printf '  %s\n' $found >&2
    grep -m3 -E 'panicked at|==ERROR|SUMMARY' "$log" | sed 's/^/  /' >&2
  fi
done

printf '\n%-17s %12s %9s %7s %8s\n' target executions exec/s time crashes
printf '%s\n' "${results[@]}"
printf '(%s, sanitizer=%s, %s s per target, logs in fuzz/artifacts/<target>.log)\n' \
  "$(date -u +%Y-%m-%d)" "$sanitizer" "$secs"
exit "$crashed"

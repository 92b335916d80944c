#!/usr/bin/env bash
# The whole adversarial set (issue 17): builds traceadal and samplegen in release, writes
# every case (`samplegen adversarial DIR`: one unique secret per capture, in one placement
# and encoding) into a temporary folder, and runs the oracle (tests/adversarial.rs,
# `adversarial_full`) over them with the release binary: every output of analyze (all
# formats), sessions, batch and redact, and the redacted copy's every layer, searched for
# the case's secret in every encoding; and the copy's analysis compared with the original's.
#
# Prints a table case / leak / where (never a secret) and a summary line.
# Exit 0: no leak, no changed story. 1: a leak or a changed story. 2: could not run.
#
# usage: scripts/adversarial.sh [REPORT.tsv]   (the table is also written there)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "adversarial.sh: $*" >&2; exit 2; }

echo "adversarial.sh: building traceadal and samplegen (release)" >&2
cargo build --release --bin traceadal >&2 || fail "the release build of traceadal failed"
cargo build --release -p samplegen >&2 || fail "the release build of samplegen failed"

target/release/samplegen adversarial "$tmp/cases" >&2 || fail "samplegen adversarial failed"
n=$(($(wc -l <"$tmp/cases/cases.tsv") - 1))
echo "adversarial.sh: $n cases; running the oracle" >&2

rc=0
ADV_DIR="$tmp/cases" TRACEADAL_BIN="$root/target/release/traceadal" ADV_REPORT="$tmp/report.tsv" \
  cargo test --test integration -- --ignored --exact adversarial::adversarial_full \
  >"$tmp/test.log" 2>&1 || rc=$?
if [ ! -s "$tmp/report.tsv" ]; then
  tail -n 40 "$tmp/test.log" >&2
  fail "the oracle wrote no report"
fi
if command -v column >/dev/null; then
  column -t -s $'\t' <"$tmp/report.tsv"
else
  cat "$tmp/report.tsv"
fi
[ $# -gt 0 ] && cp "$tmp/report.tsv" "$1"
if [ "$rc" != 0 ]; then
  exit 1
fi
exit 0

#!/usr/bin/env bash
# The report benchmark (issue 5): `credits report` over 100 organisations x 1 month x 1M
# transfers, and libxlsxwriter alone writing the same 1M-row Transactions sheet.
# Usage: benchmarks/report/run.sh [CREDITS_BINARY]   (default .build/release/credits)
# Data and outputs go to benchmarks/data/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."
credits=${1:-.build/release/credits}
data=benchmarks/data
db=$data/report-bench.sqlite
mkdir -p "$data"
[ -f "$db" ] || python3 benchmarks/report/generate.py --credits "$credits"
cc -O2 -Wall -o "$data/raw_xlsxwriter" benchmarks/report/raw_xlsxwriter.c $(pkg-config --cflags --libs xlsxwriter)

measure() { # label, command...
    local label=$1
    shift
    /usr/bin/time -v "$@" 2> "$data/time.txt" > /dev/null
    local wall rss
    wall=$(grep 'Elapsed (wall clock)' "$data/time.txt" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$data/time.txt" | awk '{print $NF}')
    printf '%-34s wall %8s  peak RSS %7d MB\n' "$label" "$wall" $((rss / 1024))
}

for format in xlsx,csv xlsx csv; do
    out=$data/out-${format/,/-}
    rm -rf "$out" && mkdir -p "$out"
    measure "credits report --format $format" "$credits" report --db "$db" --period 2026-11 --out "$out" \
        --format "$format" --now 2026-12-01T00:00:00Z
done
measure "raw libxlsxwriter, 1M rows" "$data/raw_xlsxwriter" "$data/raw.xlsx" 1000000
ls -l "$data"/out-xlsx/*.xlsx "$data/raw.xlsx"

#!/usr/bin/env bash
# The report benchmark (issue 5).
#
# 1. The detail sheet alone: report-detail-bench (our XLSX writing path, PeriodReportWriter, fed
#    by 1M synthetic rows in memory) against raw_xlsxwriter.c (libxlsxwriter alone writing the
#    same cells), alternating, RUNS runs each, medians; the stream alone (--generate-only); both
#    at 100k rows to show memory stays flat; then a check that both workbooks hold the same cells.
# 2. The whole `credits report` on a 1M-transfer ledger, for the three format choices.
#
# Usage: benchmarks/report/run.sh [CREDITS_BINARY [DETAIL_BENCH_BINARY]]
#   defaults .build/release/credits and .build/release/report-detail-bench
#   REPORT_DB=PATH  the ledger for part 2 (default benchmarks/data/report-bench.sqlite, generated
#                   by generate.py when missing); REPORT_DB=none skips part 2.
#   RUNS=N          runs per timed command (default 3).
# Every timed command holds /tmp/credits-bench.lock (flock), so benchmarks of engineers sharing
# the machine do not overlap; each run prints the load average taken just before it.
# Data and outputs go to benchmarks/data/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."
credits=${1:-.build/release/credits}
bench=${2:-.build/release/report-detail-bench}
runs=${RUNS:-3}
data=benchmarks/data
db=${REPORT_DB:-$data/report-bench.sqlite}
out=$data/report-detail
mkdir -p "$out"
cc -O2 -Wall -o "$out/raw_xlsxwriter" benchmarks/report/raw_xlsxwriter.c $(pkg-config --cflags --libs xlsxwriter)
raw=$out/raw_xlsxwriter

# One timed run: prints "wall_s user_s sys_s rss_kb load1", the load average read once the lock
# is held, just before the command starts (its output is discarded).
timed() {
    local load
    flock /tmp/credits-bench.lock sh -c 'cut -d" " -f1 /proc/loadavg > "$0.load"; exec /usr/bin/time -v "$@"' \
        "$out/time" "$@" 2> "$out/time.txt" > /dev/null
    load=$(cat "$out/time.load")
    awk -v load="$load" -F': ' '
        /Elapsed \(wall clock\)/ {
            n = split($2, p, ":")
            wall = (n == 3) ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2]
        }
        /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident set size/ { rss = $2 }
        END { printf "%.2f %.2f %.2f %d %s\n", wall, user, sys, rss, load }' "$out/time.txt"
}

# Medians (each column separately) of the runs in FILE, printed under LABEL.
report() { # label, file
    python3 - "$1" "$2" <<'PY'
import statistics, sys
label, runs = sys.argv[1], [line.split() for line in open(sys.argv[2])]
wall, user, sys_, rss = (statistics.median(float(run[i]) for run in runs) for i in range(4))
loads = " ".join(run[4] for run in runs)
print(f"{label:<44} wall {wall:6.2f} s  user {user:6.2f} s  sys {sys_:5.2f} s  "
      f"peak RSS {rss / 1024:4.0f} MB  (runs {len(runs)}, load {loads})")
PY
}

# ours/raw of the medians of wall and user CPU.
ratio() { # rows
    python3 - "$out/ours-$1.runs" "$out/raw-$1.runs" "$1" <<'PY'
import statistics, sys
def median(path, i): return statistics.median(float(line.split()[i]) for line in open(path))
ours, raw, rows = sys.argv[1], sys.argv[2], sys.argv[3]
print(f"ratio ours/raw at {rows} rows: wall {median(ours, 0) / median(raw, 0):.2f}x, "
      f"user CPU {median(ours, 1) / median(raw, 1):.2f}x")
PY
}

results=$out/results.txt
: > "$results"
for rows in 1000000 100000; do
    : > "$out/raw-$rows.runs"
    : > "$out/ours-$rows.runs"
    : > "$out/gen-$rows.runs"
    for ((run = 1; run <= runs; run++)); do
        timed "$raw" "$out/raw-$rows.xlsx" "$rows" >> "$out/raw-$rows.runs"
        rm -rf "$out/ours-$rows" && mkdir -p "$out/ours-$rows"
        timed "$bench" "$out/ours-$rows" "$rows" >> "$out/ours-$rows.runs"
        timed "$bench" "$out/ours-$rows" "$rows" --generate-only >> "$out/gen-$rows.runs"
    done
    report "raw libxlsxwriter, $rows rows" "$out/raw-$rows.runs" | tee -a "$results"
    report "report-detail-bench, $rows rows" "$out/ours-$rows.runs" | tee -a "$results"
    report "  its row stream alone (--generate-only)" "$out/gen-$rows.runs" | tee -a "$results"
done
for rows in 1000000 100000; do ratio "$rows" | tee -a "$results"; done
for rows in 100000 1000000; do
    python3 benchmarks/report/compare_sheets.py "$out/ours-$rows/detail-bench.xlsx" "$out/raw-$rows.xlsx" \
        | tee -a "$results"
done
ls -l "$out"/raw-*.xlsx "$out"/ours-*/detail-bench.xlsx

[ "$db" = none ] && exit 0
[ -f "$db" ] || python3 benchmarks/report/generate.py --credits "$credits"
for format in xlsx,csv xlsx csv; do
    dir=$data/out-${format/,/-}
    : > "$out/report-${format/,/-}.runs"
    for ((run = 1; run <= runs; run++)); do
        rm -rf "$dir" && mkdir -p "$dir"
        timed "$credits" report --db "$db" --period 2026-11 --out "$dir" --format "$format" \
            --now 2026-12-01T00:00:00Z >> "$out/report-${format/,/-}.runs"
    done
    report "credits report --format $format" "$out/report-${format/,/-}.runs" | tee -a "$results"
done
ls -l "$data"/out-xlsx/*.xlsx

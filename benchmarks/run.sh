#!/usr/bin/env bash
# Benchmarks the batch path through the real CLI (release build): ingest of N events (plain and
# gzip), reconcile + apply of what was staged, a no-op rerun of each, and ledger verify; plus the
# `sqlite3 .import` baseline for ingest. Prints one line per measurement with wall seconds, user
# CPU seconds and peak RSS (from /usr/bin/time -v). Data goes to benchmarks/data/ (not in git).
#
# Usage: benchmarks/run.sh [N ...]        (default: 100000 1000000)
#        INGEST_ONLY=1 benchmarks/run.sh ...  (ingest and its sqlite3 baseline only)
# The release build goes to .build-release, apart from the debug build the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-100000 1000000}")
[ $# -eq 0 ] && sizes=(100000 1000000)
swift build -c release --product credits --scratch-path .build-release >/dev/null
credits=.build-release/release/credits
data=benchmarks/data
mkdir -p "$data"

measure() { # measure LABEL COMMAND...: one line of figures
    local label="$1"; shift
    /usr/bin/time -v "$@" > /dev/null 2> "$data/time.txt" || true
    local wall user rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$data/time.txt")
    user=$(awk -F': ' '/User time/ {print $2}' "$data/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$data/time.txt")
    printf '%-34s wall %-8s user %-7s peak RSS %s MB\n' "$label" "$wall" "$user" "$rss"
}

for n in "${sizes[@]}"; do
    events="$data/events-$n.jsonl"
    [ -f "$events" ] || python3 benchmarks/generate_events.py "$n" "$events" --csv "$data/events-$n.csv"
    [ -f "$events.gz" ] || gzip -k -f "$events"
    size=$(du -m "$events" | cut -f1)
    echo "== $n events ($size MB JSON Lines) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
    for variant in plain gzip; do
        db="$data/ledger-$n-$variant.sqlite"
        rm -f "$db" "$db"-*
        "$credits" init --config fixtures/config --db "$db" > /dev/null 2>&1
        input="$events"; [ "$variant" = gzip ] && input="$events.gz"
        measure "ingest $variant" "$credits" ingest events "$input" --db "$db" --rejects "$data/rejects.jsonl"
        measure "ingest $variant (no-op rerun)" "$credits" ingest events "$input" --db "$db" --rejects "$data/rejects.jsonl"
    done
    if [ "${INGEST_ONLY:-0}" != 1 ]; then
    db="$data/ledger-$n-plain.sqlite"
    # Fund every organisation so usage is charged, not refused beyond the overdraft limit (a
    # refused event is re-planned every night, which would make the no-op rerun measure that).
    for org in europol-ec3 fbi-cyber gchq-lab met-police nca; do
        "$credits" ledger allocate --org "$org" --credits 100000000 --key "bench-$org" --at 2026-10-01 --reason benchmark \
            --db "$db" > /dev/null 2>&1
    done
    measure "reconcile" "$credits" reconcile --as-of 2026-11-30 --db "$db"
    measure "apply" "$credits" apply --db "$db"
    measure "reconcile (no-op rerun)" "$credits" reconcile --as-of 2026-11-30 --db "$db"
    measure "apply (no-op rerun)" "$credits" apply --db "$db"
    measure "ledger verify" "$credits" ledger verify --db "$db"
    fi
    rm -f "$data/baseline.sqlite"
    sqlite3 "$data/baseline.sqlite" "CREATE TABLE cost_events (event_id TEXT PRIMARY KEY, organisation_id TEXT,
        team TEXT, investigation TEXT, operation TEXT, credits INTEGER, occurred_at TEXT);
        CREATE INDEX by_org ON cost_events(organisation_id, occurred_at);"
    measure "sqlite3 .import baseline" sqlite3 "$data/baseline.sqlite" ".mode csv" ".import --skip 1 $data/events-$n.csv cost_events"
    ls -la "$data/ledger-$n-plain.sqlite" | awk '{printf "database size %.1f MB\n", $5/1048576}'
done

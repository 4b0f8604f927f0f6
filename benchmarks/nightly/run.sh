#!/usr/bin/env bash
# The nightly job against the plain script (issue 13), on the same generated world: N cost events
# (default 100000) and 100,000 Revolut orders for 200 organisations. Runs the script and the Credits
# stages as pipelines/nightly.sh runs them (init, ingest events, ingest orders, reconcile --apply,
# report, then ledger verify) on a fresh ledger, ROUNDS times (default 2), alternating which goes
# first, each under /usr/bin/time -v, and prints per stage the wall time, peak RSS and database size,
# and the job's ratio to the script.
#
# Usage: benchmarks/nightly/run.sh [EVENTS]
#   CREDITS_BIN=path  the binary to measure (default: a release build in .build-release)
#   ROUNDS=n, ORDERS=n, KEEP=1 (keep the ledgers and outputs in benchmarks/data/nightly-*/)
#   BUDGETS=1  the same world with a soft monthly budget on each of its 20,000 investigations
#   TWO_STAGES=1  reconcile, then apply, as two stages (a plan reviewed before it posts)
#   POSTGRES_URL=postgresql://...  a PostgreSQL superuser's URL: each round also runs the Credits job on
#                 PostgreSQL, in a database credits_bench it creates afresh (issue 17); needs psql
# Needs python3 with XlsxWriter (pip install XlsxWriter). Data goes to benchmarks/data/ (not in git).
set -euo pipefail
cd "$(dirname "$0")/../.."
events="${1:-100000}"
orders="${ORDERS:-100000}"
rounds="${ROUNDS:-2}"
python3 -c 'import xlsxwriter' 2>/dev/null || { echo "run.sh: needs XlsxWriter: pip install XlsxWriter" >&2; exit 69; }
if [ -z "${CREDITS_BIN:-}" ]; then
    swift build -c release --product credits --scratch-path .build-release >/dev/null
    CREDITS_BIN=.build-release/release/credits
fi
world="benchmarks/data/nightly-world-$events-$orders"
[ -f "$world/orders.json" ] || python3 benchmarks/nightly/generate.py "$events" "$world" --orders "$orders"
[ -d "$world/config-budgets" ] || python3 benchmarks/nightly/generate.py "$events" "$world" --orders "$orders" --config-only
config="$world/config${BUDGETS:+-budgets}"
work="benchmarks/data/nightly-run"
export CREDITS_NOW="2026-12-01T06:00:00Z"

seconds() { # h:mm:ss.ss or m:ss.ss -> seconds
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<< "$1"
}

# measure LABEL DB COMMAND...: runs it under /usr/bin/time -v; prints and accumulates its figures.
measure() {
    local label="$1" db="$2"; shift 2
    local code=0
    /usr/bin/time -v "$@" > "$work/stdout.txt" 2> "$work/time.txt" || code=$?
    if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
        echo "run.sh: $label exited $code" >&2
        sed 's/^/  /' "$work/time.txt" | head -20 >&2
        exit 1
    fi
    wall=$(seconds "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time.txt")
    case "$db" in
        postgres://*|postgresql://*) size=$(psql "$db" -tAc "SELECT pg_database_size(current_database()) / 1048576") ;;
        *) size=$( (du -cm "$db" "$db"-wal 2>/dev/null || true) | tail -1 | cut -f1) ;;
    esac
    printf '  %-22s wall %8.2f s   peak RSS %5s MB   database %5s MB\n' "$label" "$wall" "$rss" "$size"
}

run_script() {
    rm -rf "$work/script"
    mkdir -p "$work/script"
    measure "script (whole job)" "$work/script/balances.sqlite" \
        python3 benchmarks/nightly/script.py "$world" "$work/script"
    script_wall=$wall
}

# run_credits [DB]: the Credits job on a fresh ledger: a SQLite file, or PostgreSQL's credits_bench.
run_credits() {
    local db="${1:-$work/credits/ledger.sqlite}"
    rm -rf "$work/credits"
    mkdir -p "$work/credits/report"
    if [ -n "${1:-}" ]; then
        psql "$POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS credits_bench WITH (FORCE)" -c "CREATE DATABASE credits_bench"
    fi
    local total=0 peak=0
    stage() { # stage LABEL ARGS...
        local label="$1"; shift
        measure "$label" "$db" "$CREDITS_BIN" "$@" --db "$db"
        total=$(awk -v a="$total" -v b="$wall" 'BEGIN { printf "%.2f", a + b }')
        if [ "$rss" -gt "$peak" ]; then peak=$rss; fi
    }
    stage init init --config "$config"
    stage "ingest events" ingest events "$world/events.jsonl" --rejects "$work/credits/rejects-events.jsonl"
    stage "ingest orders" ingest orders "$world/orders.json" --rejects "$work/credits/rejects-orders.jsonl"
    if [ -n "${TWO_STAGES:-}" ]; then
        stage reconcile reconcile --as-of 2026-11-30
        stage apply apply --no-alerts
    else
        stage "reconcile --apply" reconcile --as-of 2026-11-30 --apply
    fi
    stage report report --period 2026-11 --out "$work/credits/report"
    credits_total=$total
    credits_peak=$peak
    measure "ledger verify" "$db" "$CREDITS_BIN" ledger verify --db "$db"
}

echo "== nightly: $events events, $orders orders, 200 organisations${BUDGETS:+, 20,000 investigation budgets}; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;" \
     "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+changes'); binary $CREDITS_BIN"
mkdir -p "$work"
for round in $(seq 1 "$rounds"); do
    echo "-- round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ $((round % 2)) -eq 1 ]; then run_script; run_credits; else run_credits; run_script; fi
    printf '  %-22s wall %8.2f s   = %.1fx the script; highest peak RSS %s MB\n' "credits job (no verify)" \
        "$credits_total" "$(awk -v a="$credits_total" -v b="$script_wall" 'BEGIN { print a / b }')" "$credits_peak"
    if [ -n "${POSTGRES_URL:-}" ]; then
        sqlite_total=$credits_total
        echo "   on PostgreSQL:"
        run_credits "$(sed -E 's#^(postgres(ql)?://[^/?]*)/?[^?]*#\1/credits_bench#' <<< "$POSTGRES_URL")"
        printf '  %-22s wall %8.2f s   = %.1fx the script, %.1fx SQLite; highest peak RSS %s MB\n' \
            "credits job (no verify)" "$credits_total" \
            "$(awk -v a="$credits_total" -v b="$script_wall" 'BEGIN { print a / b }')" \
            "$(awk -v a="$credits_total" -v b="$sqlite_total" 'BEGIN { print a / b }')" "$credits_peak"
    fi
done
[ -z "${POSTGRES_URL:-}" ] || psql "$POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS credits_bench WITH (FORCE)"
[ -n "${KEEP:-}" ] || rm -rf "$work"

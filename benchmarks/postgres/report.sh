#!/usr/bin/env bash
# `credits report` (sums, then --detail) and `credits ledger balance` on SQLite and on PostgreSQL
# (issue 17), on the nightly world's ledger after its night (init, ingest events and orders,
# reconcile --apply), copied to PostgreSQL with `db copy`; alternating, ROUNDS times: wall time, peak
# RSS, and that both stores write the same files.
#
#   eval "$(scripts/pg-cluster start)"           # or any server: a superuser's URL in CREDITS_TEST_POSTGRES_URL
#   ROUNDS=2 benchmarks/postgres/report.sh 1000000
set -euo pipefail
cd "$(dirname "$0")/../.."
name=report
source benchmarks/postgres/common.sh
ledger="$work/ledger.sqlite"
"$CREDITS_BIN" init --db "$ledger" --config "$world/config" >/dev/null 2>&1
"$CREDITS_BIN" ingest events --db "$ledger" --rejects "$work/rejects.jsonl" "$world/events.jsonl" >/dev/null 2>&1 || [ $? -eq 3 ]
"$CREDITS_BIN" ingest orders --db "$ledger" --rejects "$work/rejects.jsonl" "$world/orders.json" >/dev/null 2>&1 || [ $? -eq 3 ]
"$CREDITS_BIN" reconcile --as-of 2026-11-30 --apply --db "$ledger" >/dev/null 2>&1 || [ $? -eq 3 ]
psql_admin -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
/usr/bin/time -f "%e %M" -o "$work/time" "$CREDITS_BIN" db copy --from "$ledger" --to "$target" >/dev/null 2>&1
read -r wall kib < <(tail -n 1 "$work/time")
echo "db copy: $wall s, $((kib / 1024)) MB"

measure() { # measure STORE DB NAME ARGS...
    local store="$1" db="$2" name="$3"; shift 3
    rm -rf "$work/out-$store-$name"
    /usr/bin/time -f "%e %M" -o "$work/time" "$CREDITS_BIN" "$@" --db "$db" >"$work/stdout-$store-$name" 2>/dev/null
    read -r wall kib < <(tail -n 1 "$work/time")
    printf '%-10s %-16s %8.2f s  %6d MB\n' "$store" "$name" "$wall" $((kib / 1024))
}

echo "$events events, $(sqlite3 "$ledger" 'SELECT COUNT(*) FROM transfers') transfers, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    for store in sqlite postgresql; do
        db="$ledger"; [ "$store" = postgresql ] && db="$target"
        measure "$store" "$db" balance ledger balance --as-of 2026-11-15 --json
        measure "$store" "$db" report report --period 2026-11 --out "$work/out-$store-report"
        measure "$store" "$db" report-detail report --period 2026-11 --detail --out "$work/out-$store-report-detail"
    done
    for name in report report-detail; do
        diff -r "$work/out-sqlite-$name" "$work/out-postgresql-$name" >/dev/null \
            || { echo "the $name files differ" >&2; exit 1; }
    done
    cmp -s <(sed 's/"durationMs":[0-9]*//' "$work/stdout-sqlite-balance") \
        <(sed 's/"durationMs":[0-9]*//' "$work/stdout-postgresql-balance") || { echo "the balances differ" >&2; exit 1; }
done
psql_admin -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
echo "report files and balances identical"

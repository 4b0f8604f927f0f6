#!/usr/bin/env bash
# `credits ingest events` then `credits ingest orders` on SQLite and on PostgreSQL (issue 17), on the
# nightly world's N events and its orders (benchmarks/nightly/generate.py), alternating, ROUNDS times:
# wall time, peak RSS, and that both leave the same rejects files.
#
#   eval "$(scripts/pg-cluster start)"           # or any server: a superuser's URL in CREDITS_TEST_POSTGRES_URL
#   ROUNDS=2 benchmarks/postgres/ingest.sh 1000000
set -euo pipefail
cd "$(dirname "$0")/../.."
name=ingest
source benchmarks/postgres/common.sh
"$CREDITS_BIN" init --db "$work/init.sqlite" --config "$world/config" >/dev/null 2>&1

measure() { # measure STORE DB KIND FILE
    /usr/bin/time -f "%e %M" -o "$work/time" "$CREDITS_BIN" ingest "$3" --db "$2" --rejects "$work/$1-$3.jsonl" \
        "$4" >/dev/null 2>&1 || [ $? -eq 3 ]
    read -r wall kib < <(tail -n 1 "$work/time")
    printf '%-10s %-6s %8.2f s  %6d MB\n' "$1" "$3" "$wall" $((kib / 1024))
}

echo "$events events ($(du -h "$world/events.jsonl" | cut -f1)), $orders orders, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    cp "$work/init.sqlite" "$work/round.sqlite"
    measure sqlite "$work/round.sqlite" events "$world/events.jsonl"
    measure sqlite "$work/round.sqlite" orders "$world/orders.json"
    psql_admin -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
    "$CREDITS_BIN" db copy --from "$work/init.sqlite" --to "$target" >/dev/null 2>&1
    measure postgresql "$target" events "$world/events.jsonl"
    measure postgresql "$target" orders "$world/orders.json"
    for kind in events orders; do
        a="$work/sqlite-$kind.jsonl" b="$work/postgresql-$kind.jsonl"
        if [ -e "$a" ] || [ -e "$b" ]; then cmp -s "$a" "$b" || { echo "the $kind rejects files differ" >&2; exit 1; }; fi
        rm -f "$a" "$b"
    done
done
psql_admin -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
echo "rejects files identical"

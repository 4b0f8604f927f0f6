#!/usr/bin/env bash
# Hold create + settle pairs per second through `credits serve` (issue 18): POST /v1/holds then
# POST /v1/holds/{id}/settle, each connection alternating (benchmarks/service/holds.lua), against
# POST /v1/usage on the same ledger and route stack, runs alternated so drift in the machine's load
# falls on both. A pair is two write transactions (the hold, then its settlement's deduction and the
# release of the rest), a usage request part of one group commit, so a pair costs more than two usage
# requests (benchmarks/README.md). Each run: wrk -t2 -c32 -d10s. Then `credits ledger verify`, and a
# check that every settled hold has exactly one deduction of 0.4.
# Usage: benchmarks/service/holds.sh [RUNS] [CREDITS_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
credits="${2:-$PWD/.build-release/release/credits}"
if [ ! -x "$credits" ]; then
    swift build -c release --product credits --scratch-path .build-release >/dev/null
fi
work=$(mktemp -d)
server=""
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=18091
db="$work/ledger.sqlite"
"$credits" init --config fixtures/config --db "$db" >/dev/null 2>&1
"$credits" ledger allocate --org met-police --credits 100000000 --key bench --at 2026-11-01 --reason benchmark \
    --db "$db" >/dev/null 2>&1
key=$("$credits" keys create --org met-police --db "$db" 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -1)
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+changes'), $(nproc) cores"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
pairs=""
usage=""
serve() {
    CREDITS_KEY="$key" "$credits" serve --db "$db" --host 127.0.0.1 --port "$port" > "$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
}
stop() { kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""; sleep 1; }
for run in $(seq "$runs"); do
    serve
    load=$(cut -d' ' -f1 /proc/loadavg)
    CREDITS_KEY="$key" wrk -t2 -c32 -d10s --latency -s benchmarks/service/holds.lua \
        "http://127.0.0.1:$port/v1/holds" > "$work/wrk.txt"
    stop
    rate=$(awk '/pairs\/s/ {print $(NF-1)}' "$work/wrk.txt")
    pairs="$pairs $rate"
    printf 'holds  run %s: %s  p50 %8s  p99 %8s  (load %s)\n' "$run" "$(grep 'pairs/s' "$work/wrk.txt")" \
        "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")" "$load"
    serve
    load=$(cut -d' ' -f1 /proc/loadavg)
    CREDITS_KEY="$key" wrk -t2 -c32 -d10s --latency -s benchmarks/service/usage.lua \
        "http://127.0.0.1:$port/v1/usage" > "$work/wrk.txt"
    stop
    rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    usage="$usage $rate"
    printf 'usage  run %s: %9s req/s  p50 %8s  p99 %8s  non-2xx %s  (load %s)\n' "$run" "$rate" \
        "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")" \
        "$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt" | grep . || echo 0)" "$load"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
p=$(echo "$pairs" | median)
u=$(echo "$usage" | median)
echo "median: $p hold pairs/s, $u usage req/s; a pair costs $(awk -v p="$p" -v u="$u" 'BEGIN {printf "%.2f", u / p}') usage requests"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
sqlite3 "$db" "SELECT state, COUNT(*) FROM holds GROUP BY state" | tr '\n' ' '; echo "(holds by state)"
bad=$(sqlite3 "$db" "SELECT COUNT(*) FROM holds h LEFT JOIN transfers t ON t.id = h.settlement_transfer_id
    WHERE h.state = 'settled' AND (t.kind IS NOT 'deduction' OR t.amount <> 400000)")
"$credits" ledger verify --db "$db" > "$work/verify.txt" && verdict=passed || verdict=FAILED
echo "settled holds without their one 0.4 deduction: $bad; ledger verify $verdict"

#!/usr/bin/env bash
# Load figures for `credits serve` on loopback with wrk (Debian's wrk): the health route (the
# framework's ceiling), the GraphQL balance query, POST /v1/usage (a write per request through the
# credit gate) and POST /webhooks/revolut (verify, fetch the order from a local Revolut stub, credit).
# Each: wrk -t2 -c32 -d10s --latency, RUNS runs. Afterwards: usage events recorded == deductions
# posted, one top-up per delivered order, and `credits ledger verify`.
# Usage: benchmarks/service/run.sh [RUNS] [CREDITS_BINARY]
#   (default binary .build-release/release/credits, built with --scratch-path .build-release if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
credits="${2:-$PWD/.build-release/release/credits}"
if [ ! -x "$credits" ]; then
    swift build -c release --product credits --scratch-path .build-release >/dev/null
fi
work=$(mktemp -d)
server=""
stub=""
trap 'kill $server $stub 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/credits.sqlite"
"$credits" init --config fixtures/config --db "$db" >/dev/null 2>&1
"$credits" ledger allocate --org met-police --credits 100000000 --key bench --at 2026-11-01 --reason benchmark --db "$db" >/dev/null 2>&1
export CREDITS_KEY=$("$credits" keys create --org met-police --db "$db" 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -1)
port=18080
stub_port=18081
webhook_secret="wsk_bench_$(date +%s)"
python3 benchmarks/service/revolut_stub.py "$stub_port" sk_bench &
stub=$!
CREDITS_REVOLUT_SECRET_KEY=sk_bench CREDITS_REVOLUT_WEBHOOK_SECRETS="$webhook_secret" \
    "$credits" serve --db "$db" --host 127.0.0.1 --port "$port" \
    --revolut-base-url "http://127.0.0.1:$stub_port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

completed=0
bench() { # bench LABEL [wrk args...]
    local label="$1"; shift
    completed=0
    for run in $(seq "$runs"); do
        [ "$label" = "POST /webhooks/revolut" ] && python3 benchmarks/service/sign_webhooks.py \
            "$webhook_secret" 200000 "ord-$run-$(date +%s)" > "$work/webhooks.tsv"
        local load; load=$(cut -d' ' -f1 /proc/loadavg)
        wrk -t2 -c32 -d10s --latency "$@" > "$work/wrk.txt"
        completed=$((completed + $(awk '/requests in/ {print $1}' "$work/wrk.txt")))
        printf '%-24s run %s: %9s req/s  p50 %8s  p99 %8s  errors %s  (load %s)\n' "$label" "$run" \
            "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")" \
            "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")" \
            "$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt" | grep . || echo 0)" "$load"
    done
}

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+changes'), $(nproc) cores"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
bench "GET /healthz" "http://127.0.0.1:$port/healthz"
bench "GraphQL creditBalance" -s benchmarks/service/balance.lua "http://127.0.0.1:$port/graphql"
bench "POST /v1/usage" -s benchmarks/service/usage.lua "http://127.0.0.1:$port/v1/usage"
usage_completed=$completed
WRK_THREADS=2 WEBHOOKS_FILE="$work/webhooks.tsv" bench "POST /webhooks/revolut" -s benchmarks/service/webhook.lua \
    "http://127.0.0.1:$port/webhooks/revolut"
webhook_completed=$completed
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); serve RSS $(ps -o rss= -p "$server" | awk '{printf "%.0f MB", $1/1024}')"
kill -TERM "$server"; wait "$server" 2>/dev/null || true
staged=$(sqlite3 "$db" "SELECT COUNT(*) FROM cost_events")
charged=$(sqlite3 "$db" "SELECT COUNT(*) FROM transfers WHERE kind = 'deduction'")
echo "usage: $usage_completed answers counted by wrk; events recorded $staged, deductions posted $charged"
top_ups=$(sqlite3 "$db" "SELECT COUNT(*) || ' top-ups for ' || COUNT(DISTINCT revolut_order_id) || ' orders' FROM transfers WHERE kind = 'top_up'")
echo "webhook: $webhook_completed answers counted by wrk; $top_ups"
if "$credits" ledger verify --db "$db" > "$work/verify.txt"; then
    echo "ledger verify: passed ($(grep -c '^ok' "$work/verify.txt") checks ok)"
else
    echo "ledger verify: FAILED"; cat "$work/verify.txt"; exit 1
fi

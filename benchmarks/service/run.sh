#!/usr/bin/env bash
# Load figures for `credits serve` on loopback with wrk (Debian's wrk): the health route (the
# framework's ceiling), the GraphQL balance query, and POST /v1/usage (a write per request through
# the credit gate). Each: wrk -t2 -c32 -d10s, median of RUNS runs. Afterwards the ledger is verified
# and the number of usage events recorded is compared with the transfers posted (nothing lost or
# double-counted). Usage: benchmarks/service/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
swift build -c release --product credits >/dev/null 2>&1
credits="$PWD/.build/release/credits"
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/credits.sqlite"
"$credits" init --config fixtures/config --db "$db" >/dev/null 2>&1
"$credits" ledger allocate --org met-police --credits 100000000 --key bench --at 2026-11-01 --db "$db" >/dev/null 2>&1
export CREDITS_KEY=$("$credits" keys create --org met-police --db "$db" 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -1)
port=18080
"$credits" serve --db "$db" --host 127.0.0.1 --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

bench() { # bench LABEL [wrk args...]
    local label="$1"; shift
    for run in $(seq "$runs"); do
        wrk -t2 -c32 -d10s --latency "$@" > "$work/wrk.txt"
        printf '%-22s run %s: %8s req/s  p50 %8s  p99 %8s\n' "$label" "$run" \
            "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")" \
            "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")"
    done
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
bench "GET /healthz" "http://127.0.0.1:$port/healthz"
bench "GraphQL balance" -s benchmarks/service/balance.lua "http://127.0.0.1:$port/graphql"
bench "POST /v1/usage" -s benchmarks/service/usage.lua "http://127.0.0.1:$port/v1/usage"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); serve RSS $(ps -o rss= -p "$server" | awk '{printf "%.0f MB", $1/1024}')"
kill -TERM "$server"; wait "$server" 2>/dev/null || true
staged=$(sqlite3 "$db" "SELECT COUNT(*) FROM cost_events")
charged=$(sqlite3 "$db" "SELECT COUNT(*) FROM transfers WHERE kind = 'deduction'")
echo "usage events recorded $staged, deductions posted $charged"
"$credits" ledger verify --db "$db" | tail -1

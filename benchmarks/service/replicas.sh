#!/usr/bin/env bash
# `credits serve` on PostgreSQL with one, two and three replicas on one database (issue 17): the GraphQL
# balance query and POST /v1/usage, each replica loaded by a wrk of its own (-t1, 32/N connections each,
# 10 s, at once), so the sum is what a load balancer spreading the same 32 connections would get.
# Afterwards: usage answered 201 == deductions posted, and `credits ledger verify` on PostgreSQL.
# Usage: POSTGRES_URL=postgresql://superuser@host:port/postgres benchmarks/service/replicas.sh [CREDITS_BINARY]
#   (a database credits_replicas is created, replaced and left for inspection)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${POSTGRES_URL:?set POSTGRES_URL to a PostgreSQL superuser URL (scripts/pg-cluster start prints one)}"
credits="${1:-$PWD/.build-release/release/credits}"
if [ ! -x "$credits" ]; then
    swift build -c release --product credits --scratch-path .build-release >/dev/null
fi
work=$(mktemp -d)
servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
db_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/credits_replicas")))' "$POSTGRES_URL")

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+changes'), $(nproc) cores, $(psql "$POSTGRES_URL" -Atc 'SHOW server_version')"
for replicas in 1 2 3; do
    psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS credits_replicas WITH (FORCE)" -c "CREATE DATABASE credits_replicas" >/dev/null
    "$credits" init --config fixtures/config --db "$db_url" >/dev/null 2>&1
    "$credits" ledger allocate --org met-police --credits 100000000 --key bench --at 2026-11-01 --reason benchmark \
        --db "$db_url" >/dev/null 2>&1
    export CREDITS_KEY=$("$credits" keys create --org met-police --db "$db_url" 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -1)
    servers=()
    for replica in $(seq "$replicas"); do
        "$credits" serve --db "$db_url" --host 127.0.0.1 --port $((18090 + replica)) > "$work/serve-$replica.log" 2>&1 &
        servers+=($!)
    done
    for replica in $(seq "$replicas"); do
        for _ in $(seq 50); do curl -sf "http://127.0.0.1:$((18090 + replica))/healthz" >/dev/null && break; sleep 0.2; done
    done
    for route in balance usage; do
        path=$([ "$route" = balance ] && echo graphql || echo v1/usage)
        load=$(cut -d' ' -f1 /proc/loadavg)
        loaders=()
        for replica in $(seq "$replicas"); do
            # Each wrk thread numbers its events apart (usage.lua); replicas apart by their own prefix.
            WRK_EVENT_PREFIX="r$replica-" wrk -t1 -c$((32 / replicas)) -d10s --latency -s "benchmarks/service/$route.lua" \
                "http://127.0.0.1:$((18090 + replica))/$path" > "$work/wrk-$route-$replica.txt" &
            loaders+=($!)
        done
        wait "${loaders[@]}"
        python3 - "$replicas" "$route" "$load" "$work" <<'EOF'
import re, sys
replicas, route, load, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
total, p99s, errors, completed = 0.0, [], 0, 0
for replica in range(1, replicas + 1):
    text = open(f"{work}/wrk-{route}-{replica}.txt").read()
    total += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99s.append(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    completed += int(re.search(r"(\d+) requests in", text).group(1))
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(found.group(1)) if found else 0
print(f"{replicas} replica(s)  {route:8} {total:9.0f} req/s  p99 per replica {' '.join(p99s):24}  non-2xx {errors}  completed {completed}  (load {load})")
open(f"{work}/completed-{route}", "w").write(str(completed - errors))
EOF
    done
    kill "${servers[@]}" 2>/dev/null || true
    wait "${servers[@]}" 2>/dev/null || true
    charged=$(psql "$db_url" -Atc "SELECT count(*) FROM transfers WHERE kind = 'deduction'")
    recorded=$(cat "$work/completed-usage")
    verified=$("$credits" ledger verify --db "$db_url" >/dev/null 2>&1 && echo passes || echo FAILS)
    echo "$replicas replica(s)  usage answered 2xx: $recorded, deductions posted: $charged, ledger verify $verified"
done

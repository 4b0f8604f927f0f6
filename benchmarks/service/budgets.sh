#!/usr/bin/env bash
# POST /v1/usage with a budget on the organisation, every team and every investigation of the
# fixtures, against the same route without budgets, in one run (issue 18: within 10%).
# Two ledgers from fixtures/config, one with budgets added (limits high enough never to refuse, so both
# sides charge every request); one `credits serve` at a time, runs alternated without/with so drift in
# the machine's load falls on both. Each run: wrk -t2 -c32 -d10s. Prints each run, the medians and the
# ratio, then checks every answer was a 201 and `credits ledger verify` passes on both ledgers.
# Usage: benchmarks/service/budgets.sh [RUNS] [CREDITS_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
credits="${2:-$PWD/.build-release/release/credits}"
if [ ! -x "$credits" ]; then
    swift build -c release --product credits --scratch-path .build-release >/dev/null
fi
work=$(mktemp -d)
server=""
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r fixtures/config "$work/plain"
cp -r fixtures/config "$work/budgets"
python3 - "$work/budgets/organisations.yaml" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
# Each organisation block starts with "- id:"; append budgets naming its teams and investigations.
blocks = re.split(r'(?m)^(?=- id:)', text)
out = []
for block in blocks:
    if not block.startswith('- id:'):
        out.append(block); continue
    teams = re.findall(r'^    - \{id: ([^,]+),', block.split('  investigations:')[0].split('  teams:')[-1], re.M) if '  teams:' in block else []
    investigations = re.findall(r'^    - \{id: ([^,]+),.*team:', block.split('  investigations:')[1], re.M) if '  investigations:' in block else []
    lines = ['  budgets:', '    - {scope: organisation, limit: 1000000000, period: month}']
    lines += ['    - {scope: team, id: %s, limit: 1000000000, period: month}' % t for t in teams]
    lines += ['    - {scope: investigation, id: %s, limit: 1000000000, period: financial_year}' % i for i in investigations]
    out.append(block.rstrip('\n') + '\n' + '\n'.join(lines) + '\n')
open(path, 'w').write(''.join(out))
PY
port=18090
prepare() { # prepare NAME: a ledger from config NAME, funded, with a key in $work/NAME.key
    local name="$1" db="$work/$1.sqlite"
    "$credits" init --config "$work/$name" --db "$db" >/dev/null 2>&1
    "$credits" ledger allocate --org met-police --credits 100000000 --key bench --at 2026-11-01 --reason benchmark \
        --db "$db" >/dev/null 2>&1
    "$credits" keys create --org met-police --db "$db" 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -1 > "$work/$name.key"
}
prepare plain
prepare budgets
budgets=$(sqlite3 "$work/budgets.sqlite" "SELECT COUNT(*) FROM budgets")
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo '+changes'), $(nproc) cores; $budgets budgets in the budgeted ledger"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A rates
bench() { # bench NAME RUN
    local name="$1" run="$2"
    CREDITS_KEY=$(cat "$work/$name.key") "$credits" serve --db "$work/$name.sqlite" --host 127.0.0.1 --port "$port" \
        > "$work/serve-$name.log" 2>&1 &
    server=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    CREDITS_KEY=$(cat "$work/$name.key") wrk -t2 -c32 -d10s --latency -s benchmarks/service/usage.lua \
        "http://127.0.0.1:$port/v1/usage" > "$work/wrk.txt"
    kill -TERM "$server"; wait "$server" 2>/dev/null || true
    server=""
    local rate; rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    rates[$name]="${rates[$name]:-} $rate"
    printf '%-8s run %s: %9s req/s  p50 %8s  p99 %8s  non-2xx %s  (load %s)\n' "$name" "$run" "$rate" \
        "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")" \
        "$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt" | grep . || echo 0)" "$load"
    sleep 1
}
for run in $(seq "$runs"); do
    bench plain "$run"
    bench budgets "$run"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
plain=$(echo "${rates[plain]}" | median)
with=$(echo "${rates[budgets]}" | median)
echo "median req/s: without budgets $plain, with budgets $with; ratio $(awk -v a="$with" -v b="$plain" 'BEGIN {printf "%.3f", a / b}')"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in plain budgets; do
    days=$(sqlite3 "$work/$name.sqlite" "SELECT COUNT(*) || ' scope-day rows, ' || COALESCE(SUM(credits) / 1000000, 0) || ' credits at the organisation scope' FROM scope_spend_days WHERE scope = 'organisation'")
    charged=$(sqlite3 "$work/$name.sqlite" "SELECT COUNT(*) FROM transfers WHERE kind = 'deduction'")
    "$credits" ledger verify --db "$work/$name.sqlite" > "$work/verify.txt" && verdict=passed || verdict=FAILED
    echo "$name: $charged deductions; $days; ledger verify $verdict"
done

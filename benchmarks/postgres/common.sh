# Sourced by the PostgreSQL benchmarks (ingest.sh, report.sh) after they set `name`: the arguments (N events,
# $ORDERS, $ROUNDS), the superuser URL, the release binary, the nightly world (generated once), a fresh
# work folder `benchmarks/data/postgres-$name`, and `target`, the URL of the database `credits_bench_$name`
# on the same server; `psql_admin` runs SQL as the superuser.
events="${1:-100000}"
orders="${ORDERS:-100000}"
rounds="${ROUNDS:-2}"
admin="${CREDITS_TEST_POSTGRES_URL:?needs a PostgreSQL superuser URL: eval \"\$(scripts/pg-cluster start)\"}"
if [ -z "${CREDITS_BIN:-}" ]; then
    swift build -c release --product credits --scratch-path .build-release >/dev/null
    CREDITS_BIN=.build-release/release/credits
fi
world="benchmarks/data/nightly-world-$events-$orders"
[ -f "$world/orders.json" ] || python3 benchmarks/nightly/generate.py "$events" "$world" --orders "$orders"
work="benchmarks/data/postgres-$name"
rm -rf "$work" && mkdir -p "$work"
export CREDITS_NOW="2026-12-01T06:00:00Z"

database="credits_bench_$name"
target="$(python3 - "$admin" "$database" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(url._replace(path="/" + sys.argv[2])))
PY
)"
psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql "$admin" -qAt -v ON_ERROR_STOP=1 "$@" >/dev/null; }

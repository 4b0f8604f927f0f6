#!/bin/sh
# The nightly Credits run for one date: init (migrate), ingest events, ingest orders, reconcile
# and apply (one stage, `reconcile --apply`), alerts, the period report, and on the first day of a
# month the previous month's final report and its invoices.
# Inputs are taken from the inbox, archived with their content hashes, and everything the run did
# is written to a manifest (JSON). Safe to rerun and safe to kill: every stage is idempotent.
#
# Usage: pipelines/nightly.sh [--date YYYY-MM-DD] [--inbox DIR] [--archive DIR] [--out DIR]
#                             [--db FILE|URL] [--config DIR] [--credits BINARY] [--wait]
#                             [--retries N] [--retry-delay SECONDS] [--syslog TAG]
#
# --date defaults to yesterday (UTC). The inbox may hold the files directly or in a folder named
# after the date. Files named events-* are cost events; orders-* are Revolut exports.
# The clock of every stage is pinned to the end of the date (CREDITS_NOW, unless already set), so
# the same inputs and date give the same ledger digest and byte-identical CSV reports.
#
# Exit code: the worst stage's. 0 done; 3 done with exceptions to review (later stages still run);
# any other code stops the later stages (64 usage, 65 bad input, 66 missing input, 70 internal,
# 74 I/O, 75 another run holds the lock: retry later).
#
# --retries N reruns the whole night up to N more times, --retry-delay SECONDS apart (default 600),
# while it exits 75, and never on any other code: what schedulers without a precise retry rule
# (systemd before 256 for Type=oneshot, cron) use. --syslog TAG sends everything the run prints to
# syslog through logger(1), with a final line at priority user.err when the exit is neither 0 nor
# 3, and still exits with the run's own code (a `| logger` pipe in sh would lose it).
set -eu

date_arg=""
inbox="${CREDITS_INBOX:-inbox}"
archive="${CREDITS_ARCHIVE:-archive}"
out="${CREDITS_OUT:-out}"
db="${CREDITS_DB:-credits.sqlite}"
config="${CREDITS_CONFIG:-config}"
credits="${CREDITS_BIN:-credits}"
wait_flag=""
retries=0
retry_delay=600
syslog_tag=""

usage() {
    sed -n '8,10p' "$0" >&2
    exit 64
}

while [ $# -gt 0 ]; do
    case "$1" in
        --date) date_arg="$2"; shift 2 ;;
        --inbox) inbox="$2"; shift 2 ;;
        --archive) archive="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --db) db="$2"; shift 2 ;;
        --config) config="$2"; shift 2 ;;
        --credits) credits="$2"; shift 2 ;;
        --wait) wait_flag="--wait"; shift ;;
        --retries) retries="$2"; shift 2 ;;
        --retry-delay) retry_delay="$2"; shift 2 ;;
        --syslog) syslog_tag="$2"; shift 2 ;;
        -h|--help) usage ;;
        *) echo "nightly: unknown argument $1" >&2; usage ;;
    esac
done

for count in "$retries" "$retry_delay"; do
    case "$count" in
        ''|*[!0-9]*) echo "nightly: --retries and --retry-delay take a whole number, not '$count'" >&2; exit 64 ;;
    esac
done

day="${date_arg:-$(date -u -d yesterday +%Y-%m-%d)}"
case "$day" in
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;;
    *) echo "nightly: --date $day is not YYYY-MM-DD" >&2; exit 64 ;;
esac
next_day=$(date -u -d "$day + 1 day" +%Y-%m-%d) || { echo "nightly: $day is not a date" >&2; exit 64; }
period=$(printf '%s' "$day" | cut -c1-7)
# On the first day of a month the previous month is complete and gets its invoices.
invoice_period=""
case "$day" in *-01) invoice_period=$(date -u -d "$day - 1 day" +%Y-%m) ;; esac

# night: the run itself, in a subshell of its own (see below), so `exit` ends one attempt and the
# kernel releases its lock descriptor when the attempt ends.
night() {
    set -e
    export CREDITS_DB="$db"
    export CREDITS_NOW="${CREDITS_NOW:-${next_day}T00:00:00Z}"
    run="$out/runs/$day"
    # One nightly run per database at a time. flock(1) holds the lock on a descriptor; the kernel
    # releases it if this shell is killed, so a killed run never leaves a stale lock behind. A
    # PostgreSQL database (--db postgres://...) has no file to put it beside: the lock is the out
    # folder's, and each stage still takes its own advisory lock in the database.
    case "$db" in
        postgres://*|postgresql://*) lock="$out/nightly.lock"; mkdir -p "$run" "$out/reports" ;;
        *) lock="$db.nightly.lock"; mkdir -p "$run" "$out/reports" "$(dirname "$db")" ;;
    esac
    exec 9>"$lock"
    if [ -n "$wait_flag" ]; then
        flock 9
    elif ! flock -n 9; then
        echo "nightly: another nightly run holds $lock; try again later (or pass --wait)" >&2
        exit 75
    fi

    worst=0
    stopped=""
    : > "$run/stages.tsv"

    # run_stage NAME ARGS...: runs one `credits` stage with --json, keeps its summary and log,
    # records its exit code, and decides whether later stages run.
    run_stage() {
        name="$1"
        shift
        if [ -n "$stopped" ]; then
            printf '%s\tskipped\n' "$name" >> "$run/stages.tsv"
            return 0
        fi
        set +e
        "$credits" "$@" --json > "$run/$name.json" 2> "$run/$name.log"
        code=$?
        set -e
        printf '%s\t%s\n' "$name" "$code" >> "$run/stages.tsv"
        echo "nightly $day: $name exit $code" >&2
        case "$code" in
            0) ;;
            3) if [ "$worst" -eq 0 ]; then worst=3; fi ;;
            *) worst=$code; stopped="$name"; sed 's/^/  /' "$run/$name.log" >&2 ;;
        esac
    }

    digest() {
        "$credits" ledger verify --json 2>/dev/null | sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p'
    }

    source_dir="$inbox"
    [ -d "$inbox/$day" ] && source_dir="$inbox/$day"
    events=$(find "$source_dir" -maxdepth 1 -type f -name 'events-*' 2>/dev/null | LC_ALL=C sort)
    orders=$(find "$source_dir" -maxdepth 1 -type f -name 'orders-*' 2>/dev/null | LC_ALL=C sort)
    : > "$run/inputs.tsv"
    for file in $events $orders; do
        case "$file" in */events-*) kind=events ;; *) kind=orders ;; esac
        printf '%s\t%s\t%s\t%s\n' "$(basename "$file")" "$kind" "$(sha256sum "$file" | cut -d' ' -f1)" \
            "$(wc -c < "$file" | tr -d ' ')" >> "$run/inputs.tsv"
    done

    run_stage init init --config "$config"
    before=$(digest)
    # shellcheck disable=SC2086 # the file lists are newline-separated names without spaces
    [ -n "$events" ] && run_stage ingest-events ingest events $events --rejects "$run/rejects-events.jsonl" $wait_flag
    # shellcheck disable=SC2086
    [ -n "$orders" ] && run_stage ingest-orders ingest orders $orders --rejects "$run/rejects-orders.jsonl" $wait_flag
    # Reconcile and apply as one stage: the plan is posted as it is made, in one transaction, so
    # nothing the live service, a webhook or an administrator posts meanwhile can make it stale, and
    # the staged events are walked once. (`credits reconcile` then `credits apply` is for a plan a
    # person reviews before it posts.)
    run_stage reconcile-apply reconcile --as-of "$day" --apply $wait_flag
    run_stage alerts alerts $wait_flag
    mkdir -p "$out/reports/$period"
    # The month-to-date report reads sums only; the per-transfer detail is for the month's final report.
    run_stage report report --period "$period" --out "$out/reports/$period" $wait_flag
    if [ -n "$invoice_period" ]; then
        # The month's final report: usage that arrived late (or was charged when credits came) may
        # have changed the previous month after its last nightly report. It goes with the invoices,
        # so it carries the audit detail (--detail: every transfer of the month).
        mkdir -p "$out/reports/$invoice_period" "$out/invoices/$invoice_period"
        run_stage report-previous report --period "$invoice_period" --out "$out/reports/$invoice_period" --detail \
            $wait_flag
        run_stage invoice invoice --period "$invoice_period" --out "$out/invoices/$invoice_period" $wait_flag
    fi

    # Archive what was ingested (only when ingest did not fail), with a SHA256SUMS file that
    # `sha256sum -c` checks. The sums of earlier runs of the date are kept (merged, one line per file);
    # on a date's first run there are none yet, so an empty file stands in for them. A failure here
    # stops the night: an archive with wrong or missing sums must not pass for a good one.
    if [ -z "$stopped" ] && [ -n "$events$orders" ]; then
        mkdir -p "$archive/$day"
        sums="$archive/$day/SHA256SUMS"
        : > "$sums.tmp"
        for file in $events $orders; do
            (cd "$(dirname "$file")" && sha256sum "$(basename "$file")") >> "$sums.tmp"
            mv -f "$file" "$archive/$day/"
        done
        [ -f "$sums" ] || : > "$sums"
        LC_ALL=C sort -u "$sums.tmp" "$sums" > "$sums.new"
        mv -f "$sums.new" "$sums"
        rm -f "$sums.tmp"
    fi
    after=$(digest)

    # The manifest: inputs with hashes, each stage's exit code and summary, outputs with hashes, and
    # the ledger digest before and after. Written to a temporary name and renamed into place.
    manifest="$run/manifest.json"
    {
        printf '{\n  "date": "%s",\n  "period": "%s",\n  "now": "%s",\n  "exit_code": %s,\n' "$day" "$period" "$CREDITS_NOW" "$worst"
        printf '  "ledger_digest_before": "%s",\n  "ledger_digest_after": "%s",\n  "inputs": [' "$before" "$after"
        separator=""
        while IFS="$(printf '\t')" read -r name kind sha bytes; do
            printf '%s\n    {"file": "%s", "kind": "%s", "sha256": "%s", "bytes": %s}' "$separator" "$name" "$kind" "$sha" "$bytes"
            separator=","
        done < "$run/inputs.tsv"
        printf '\n  ],\n  "stages": ['
        separator=""
        while IFS="$(printf '\t')" read -r name code; do
            if [ "$code" = "skipped" ]; then
                printf '%s\n    {"name": "%s", "exit_code": null, "summary": null}' "$separator" "$name"
            else
                summary=$(cat "$run/$name.json" 2>/dev/null)
                printf '%s\n    {"name": "%s", "exit_code": %s, "summary": %s}' "$separator" "$name" "$code" "${summary:-null}"
            fi
            separator=","
        done < "$run/stages.tsv"
        printf '\n  ],\n  "outputs": ['
        separator=""
        invoices=""
        [ -n "$invoice_period" ] && invoices="$out/reports/$invoice_period $out/invoices/$invoice_period"
        # shellcheck disable=SC2086
        for file in $(find "$out/reports/$period" $invoices -type f 2>/dev/null | LC_ALL=C sort); do
            case "$file" in */.*) continue ;; esac
            printf '%s\n    {"file": "%s", "sha256": "%s"}' "$separator" "${file#"$out"/}" "$(sha256sum "$file" | cut -d' ' -f1)"
            separator=","
        done
        printf '\n  ]\n}\n'
    } > "$manifest.tmp"
    mv -f "$manifest.tmp" "$manifest"

    echo "nightly $day: exit $worst; manifest $manifest" >&2
    exit "$worst"
}

# attempts: the night, rerun while it exits 75 (another run holds a lock), at most $retries times.
# Called with errexit off (the night turns it on in its own subshell), so its status reaches the caller.
attempts() {
    attempt=0
    while :; do
        (night)
        code=$?
        if [ "$code" -ne 75 ] || [ "$attempt" -ge "$retries" ]; then
            return "$code"
        fi
        attempt=$((attempt + 1))
        echo "nightly $day: exit 75 (another run holds a lock); retry $attempt of $retries in ${retry_delay}s" >&2
        sleep "$retry_delay"
    done
}

if [ -z "$syslog_tag" ]; then
    set +e
    attempts
    exit $?
fi
# POSIX sh has no pipefail: the run's status leaves the pipe on descriptor 3. SIGPIPE is ignored on
# the run's side so that a logger that dies (no syslog socket) cannot kill the run half way.
set +e
status=$( { { trap '' PIPE; attempts 3>&- 2>&1; echo "$?" >&3; } | logger -t "$syslog_tag" 3>&- >&2; } 3>&1 )
case "$status" in
    0|3) ;;
    *) logger -t "$syslog_tag" -p user.err "nightly $day: failed with exit ${status:-70}" ;;
esac
exit "${status:-70}"

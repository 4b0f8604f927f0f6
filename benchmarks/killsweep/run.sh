#!/usr/bin/env bash
# kill -9 sweep (issue 15): every stage of a generated night, killed with SIGKILL at random moments,
# then rerun to completion, must leave what an uninterrupted run leaves.
#
# 1. A small world (benchmarks/nightly/generate.py: 200 organisations, EVENTS cost events with
#    duplicates, conflicts and malformed lines, ORDERS Revolut orders) runs once through init,
#    ingest events, ingest orders, reconcile, apply, alerts and invoice, uninterrupted. After each
#    stage the ledger is kept as that stage's starting point, with its exit code, the ledger digest
#    (`credits ledger verify`), its rejects file and its output files (the invoice workbooks).
#    `reconcile --apply` (what nightly.sh runs) also runs from the ledger reconcile started from, and
#    must leave the ledger reconcile then apply left.
# 2. For each stage, KILLS times: start from the ledger the stage started from, run the stage,
#    SIGKILL it after a random delay (0 to 1.2x its uninterrupted time), rerun it to completion and
#    compare the rerun's exit code, the digest, the rejects file, the outputs, and the absence of
#    temporary files with the uninterrupted run. The digest covers posted transfers only, so after
#    a stage that posts nothing (ingest, reconcile) the later stages up to apply run too and their
#    exit codes and final digest are compared (what was staged or planned is what gets posted);
#    for alerts, whose state is outside the digest, the rerun's output must be the same lines. A
#    run that ended before the signal counts as "finished first", not as a kill.
#
# Usage: benchmarks/killsweep/run.sh [KILLS_PER_STAGE]   (default 40; init gets a quarter)
#   CREDITS_BIN=path  the binary (default .build/debug/credits, then a release build)
#   EVENTS=n (default 3000), ORDERS=n (default 300), SEED=n (default 15), KEEP=1 keeps the work dir
# Prints one line per stage and a total; exits 1 when any rerun differs (the details are printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
kills="${1:-40}"
events="${EVENTS:-3000}"
orders="${ORDERS:-300}"
seed="${SEED:-15}"
credits="${CREDITS_BIN:-}"
if [ -z "$credits" ]; then
    if [ -x .build/debug/credits ]; then credits=.build/debug/credits
    else swift build -c release --product credits >/dev/null; credits=.build/release/credits; fi
fi
credits="$(cd "$(dirname "$credits")" && pwd)/$(basename "$credits")"
work="benchmarks/data/killsweep"
rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
world="$work/world"
python3 benchmarks/nightly/generate.py "$events" "$world" --orders "$orders" --seed "$seed" >/dev/null
export CREDITS_NOW="2026-12-01T06:00:00Z"
RANDOM=$seed

stages=(init ingest-events ingest-orders reconcile apply alerts invoice)

# args STAGE DIR: the command line of STAGE with its outputs in DIR.
args() {
    case "$1" in
        init) echo init --config "$world/config" ;;
        ingest-events) echo ingest events "$world/events.jsonl" --rejects "$2/rejects-events.jsonl" ;;
        ingest-orders) echo ingest orders "$world/orders.json" --rejects "$2/rejects-orders.jsonl" ;;
        reconcile) echo reconcile --as-of 2026-11-30 ;;
        reconcile-apply) echo reconcile --as-of 2026-11-30 --apply ;;
        apply) echo apply --no-alerts ;;
        alerts) echo alerts ;;
        invoice) echo invoice --period 2026-11 --out "$2/invoices" ;;
    esac
}

# follow STAGE: the later stages run after a kill of STAGE, up to the first that posts.
follow() {
    case "$1" in
        ingest-events) echo ingest-orders reconcile apply ;;
        ingest-orders) echo reconcile apply ;;
        reconcile) echo apply ;;
    esac
}

# digest DB: the ledger digest, or the verify failure.
digest() {
    local out
    if out=$("$credits" ledger verify --db "$1" --json 2>&1); then
        sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p' <<< "$out"
    else
        echo "verify-failed: $(tail -1 <<< "$out")"
    fi
}

# outputs DIR: the hashes of the stage's own files (rejects, invoices), and any temporary file
# left in DIR or next to the ledger.
outputs() {
    (cd "$1" && find . -type f ! -name 'ledger.sqlite*' ! -name '*.lock' ! -name 'stdout' ! -name 'stderr' \
        -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

copy_ledger() { # copy_ledger FROM_DIR TO_DIR
    mkdir -p "$2"
    for file in "$1"/ledger.sqlite "$1"/ledger.sqlite-wal; do [ -f "$file" ] && cp "$file" "$2/"; done
    return 0
}

# 1. The uninterrupted run.
declare -A code_of seconds_of digest_of start_of
previous=""
for stage in "${stages[@]}" reconcile-apply; do
    # Each stage starts from the ledger the one before it left; reconcile --apply from reconcile's.
    [ "$stage" = reconcile-apply ] && previous=${start_of[reconcile]}
    start_of[$stage]=$previous
    dir="$work/clean/$stage"
    mkdir -p "$dir"
    [ -n "$previous" ] && copy_ledger "$work/clean/$previous" "$dir"
    start=$(date +%s.%N)
    set +e
    # shellcheck disable=SC2046 # the arguments have no spaces
    "$credits" $(args "$stage" "$dir") --db "$dir/ledger.sqlite" > "$dir/stdout" 2> "$dir/stderr"
    code=$?
    set -e
    seconds_of[$stage]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
    code_of[$stage]=$code
    case "$code" in 0|3) ;; *) echo "killsweep: $stage exited $code uninterrupted:" >&2; cat "$dir/stderr" >&2; exit 1 ;; esac
    digest_of[$stage]=$(digest "$dir/ledger.sqlite")
    outputs "$dir" > "$work/clean/$stage.outputs"
    printf 'uninterrupted %-14s exit %s  %6.2f s  digest %.16s\n' "$stage" "$code" "${seconds_of[$stage]}" "${digest_of[$stage]}"
    previous=$stage
done
if [ "${digest_of[reconcile-apply]}" != "${digest_of[apply]}" ]; then
    echo "killsweep: reconcile --apply left digest ${digest_of[reconcile-apply]}, reconcile then apply ${digest_of[apply]}" >&2
    exit 1
fi

# 2. The kills.
total_kills=0
total_differences=0
for stage in "${stages[@]}" reconcile-apply; do
    previous=${start_of[$stage]}
    killed=0 finished_first=0 differences=0
    trials=$kills
    [ "$stage" = init ] && trials=$(( (kills + 3) / 4 ))
    limit_ms=$(awk -v s="${seconds_of[$stage]}" 'BEGIN { printf "%d", s * 1200 + 1 }')
    for trial in $(seq 1 "$trials"); do
        dir="$work/trial"
        rm -rf "$dir"
        mkdir -p "$dir"
        [ -n "$previous" ] && copy_ledger "$work/clean/$previous" "$dir"
        delay_ms=$(( (RANDOM * 32768 + RANDOM) % limit_ms ))
        # shellcheck disable=SC2046
        "$credits" $(args "$stage" "$dir") --db "$dir/ledger.sqlite" > "$dir/stdout.killed" 2>&1 &
        pid=$!
        sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
        kill -9 "$pid" 2>/dev/null || true
        set +e
        { wait "$pid"; } 2>/dev/null
        first=$?
        set -e
        if [ "$first" -eq 137 ]; then killed=$((killed + 1)); else finished_first=$((finished_first + 1)); fi
        rm -f "$dir/stdout.killed"
        set +e
        # shellcheck disable=SC2046
        "$credits" $(args "$stage" "$dir") --db "$dir/ledger.sqlite" > "$dir/stdout" 2> "$dir/stderr"
        code=$?
        set -e
        problems=()
        [ "$code" = "${code_of[$stage]}" ] || problems+=("exit $code, uninterrupted ${code_of[$stage]}")
        got=$(digest "$dir/ledger.sqlite")
        [ "$got" = "${digest_of[$stage]}" ] || problems+=("digest $got, uninterrupted ${digest_of[$stage]}")
        if ! diff <(outputs "$dir") "$work/clean/$stage.outputs" > "$work/outputs.diff"; then
            problems+=("files differ: $(grep '^[<>]' "$work/outputs.diff" | tr '\n' ';' | cut -c1-400)")
        fi
        temporaries=$(find "$dir" -name '*.tmp*' | tr '\n' ' ')
        [ -z "$temporaries" ] || problems+=("temporary files left: $temporaries")
        if [ "$stage" = alerts ] && ! cmp -s "$dir/stdout" "$work/clean/alerts/stdout"; then
            problems+=("alerts printed other lines: $(diff "$dir/stdout" "$work/clean/alerts/stdout" | grep '^[<>]' | head -3 | tr '\n' ';')")
        fi
        for later in $(follow "$stage"); do
            set +e
            # shellcheck disable=SC2046
            "$credits" $(args "$later" "$dir") --db "$dir/ledger.sqlite" > /dev/null 2>&1
            code=$?
            set -e
            [ "$code" = "${code_of[$later]}" ] || problems+=("then $later exit $code, uninterrupted ${code_of[$later]}")
        done
        if [ -n "$(follow "$stage")" ]; then
            got=$(digest "$dir/ledger.sqlite")
            [ "$got" = "${digest_of[apply]}" ] || problems+=("digest after apply $got, uninterrupted ${digest_of[apply]}")
        fi
        if [ ${#problems[@]} -gt 0 ]; then
            differences=$((differences + 1))
            printf '  DIFFERENCE %s trial %d (killed after %d ms, first exit %d): %s\n' "$stage" "$trial" "$delay_ms" \
                "$first" "$(IFS='|'; echo "${problems[*]}")"
            if [ -n "${KEEP:-}" ]; then cp -r "$dir" "$work/difference-$stage-$trial"; fi
        fi
    done
    printf 'stage %-14s %3d kills, %3d finished before the signal, %d differences\n' "$stage" "$killed" \
        "$finished_first" "$differences"
    total_kills=$((total_kills + killed))
    total_differences=$((total_differences + differences))
done
echo "total: $total_kills kills, $total_differences differences ($events events, $orders orders; $(nproc) cores," \
    "load $(cut -d' ' -f1-3 /proc/loadavg); binary $credits)"
[ -n "${KEEP:-}" ] || rm -rf "$work"
[ "$total_differences" -eq 0 ]

#!/usr/bin/env bash
# Our detector on every dev corpus that has events, with the default USE encoder, at the flag
# budget (BUDGET, default 3,5,10) and the default time cut (60 % of each corpus's span).
# Usage: benchmarks/backtest_all.sh [OUTDIR] [CORPUS:GRANULARITY ...]
# CACHES: a folder of <corpus>.duckdb vector caches (default OUTDIR/cache); READ_ONLY=1 reads
# them without ever writing (shared caches). Extra flags for backtest_run.py go in EXTRA.
set -u
CORPORA=${CORPORA:-../shared/corpora}
OUT=${1:-benchmarks/results/current}
CACHES=${CACHES:-$OUT/cache}
LOGS=${LOGS:-${TMPDIR:-/tmp}/observatory-backtest-logs}
PY=${PY:-python}
mkdir -p "$LOGS"
shift || true
RUNS=("$@")
[ ${#RUNS[@]} -eq 0 ] && RUNS=(patentsview_nn:year lens_covid:year huffpost:month \
    ruanyf_weekly:quarter ruanyf_weekly:week paperlists:year)
mkdir -p "$CACHES"
RO=()
[ "${READ_ONLY:-0}" = 1 ] && RO=(--cache-read-only)
for run in "${RUNS[@]}"; do
    corpus=${run%%:*}; unit=${run##*:}
    # shellcheck disable=SC2086
    $PY benchmarks/backtest_run.py "$CORPORA/$corpus.jsonl.gz" \
        --events "$CORPORA/ground_truth/events.json" --granularity "$unit" \
        --out "$OUT/${PREFIX:-ours}_${corpus}_${unit}.json" --repeat "${REPEAT:-2}" \
        --budget "${BUDGET:-3,5,10}" --embeddings-cache "$CACHES/$corpus.duckdb" "${RO[@]}" \
        ${EXTRA:-} > "$LOGS/${PREFIX:-ours}_${corpus}_${unit}.log" 2>&1
    echo "$run rc=$?"
done

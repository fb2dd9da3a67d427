#!/usr/bin/env bash
# Our detector on every dev corpus that has events, with the default USE encoder.
# Usage: benchmarks/backtest_all.sh [OUTDIR] [CORPUS:GRANULARITY ...]
set -u
CORPORA=${CORPORA:-../shared/corpora}
OUT=${1:-benchmarks/results}
LOGS=${LOGS:-${TMPDIR:-/tmp}/observatory-backtest-logs}
mkdir -p "$LOGS"
shift || true
RUNS=("$@")
[ ${#RUNS[@]} -eq 0 ] && RUNS=(patentsview_nn:year lens_covid:year huffpost:month \
    ruanyf_weekly:quarter ruanyf_weekly:week paperlists:year)
mkdir -p "$OUT/cache"
for run in "${RUNS[@]}"; do
    corpus=${run%%:*}; unit=${run##*:}
    python benchmarks/backtest_run.py "$CORPORA/$corpus.jsonl.gz" \
        --events "$CORPORA/ground_truth/events.json" --granularity "$unit" \
        --out "$OUT/ours_${corpus}_${unit}.json" --repeat "${REPEAT:-2}" \
        --embeddings-cache "$OUT/cache/$corpus.duckdb" > "$LOGS/ours_${corpus}_${unit}.log" 2>&1
    echo "$run rc=$?"
done

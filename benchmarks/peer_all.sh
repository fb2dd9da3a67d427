#!/usr/bin/env bash
# BERTrend on the corpora our backtest_all.sh ran, reading the same cached vectors, at the same
# flag budget (BUDGET, default 3,5,10) and the same default time cut.
# Usage: benchmarks/peer_all.sh [OUTDIR] [CORPUS:GRANULARITY ...]
# CACHES: the folder of <corpus>.duckdb vector caches (default OUTDIR/cache); only read.
set -u
CORPORA=${CORPORA:-../shared/corpora}
PEER_PY=${PEER_PY:-${TMPDIR:-/tmp}/observatory-peer-venv/bin/python}
OUT=${1:-benchmarks/results/current}
CACHES=${CACHES:-$OUT/cache}
LOGS=${LOGS:-${TMPDIR:-/tmp}/observatory-backtest-logs}
mkdir -p "$LOGS"
shift || true
RUNS=("$@")
[ ${#RUNS[@]} -eq 0 ] && RUNS=(patentsview_nn:year lens_covid:year huffpost:month \
    ruanyf_weekly:quarter ruanyf_weekly:week paperlists:year)
for run in "${RUNS[@]}"; do
    corpus=${run%%:*}; unit=${run##*:}
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 "$PEER_PY" benchmarks/peer_bertrend.py \
        "$CORPORA/$corpus.jsonl.gz" --events "$CORPORA/ground_truth/events.json" \
        --granularity "$unit" --embeddings-cache "$CACHES/$corpus.duckdb" \
        --budget "${BUDGET:-3,5,10}" \
        --out "$OUT/peer_${corpus}_${unit}.json" > "$LOGS/peer_${corpus}_${unit}.log" 2>&1
    echo "$run rc=$?"
done

"""What share of a period's processing the direction mapping takes (docs/directions.md, Cost).

Ingests a corpus file into a fresh temporary database, processes every period with the real
encoder and the shipped classifier, and times each `map_direction` call of the engine beside the
whole run. Usage:

    python benchmarks/direction_cost.py ../shared/demo/demo_candidates.jsonl --granularity quarter
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

import models.period_topics as period_topics
from models.embed import build_encoder
from models.engine import EngineParams
from models.runner import process_pending
from pipeline.db import session
from pipeline.ingest import ingest_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--granularity", default="month")
    parser.add_argument("--encoder", default="use-multilingual-v3")
    args = parser.parse_args()
    threadpool_limits(1)
    spent = [0.0, 0]
    original = period_topics.map_direction

    def timed(*call_args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original(*call_args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    period_topics.map_direction = timed  # type: ignore[assignment]
    encoder = build_encoder(args.encoder)
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "cost.duckdb"
        with session(db) as con:
            ingest_file(con, args.corpus)
        started = time.perf_counter()
        run = process_pending(db, EngineParams(granularity=args.granularity), encoder, "v1")
        total = time.perf_counter() - started
    docs = sum(p.n_docs for p in run.periods)
    print(
        f"{args.corpus.name}: {len(run.periods)} periods, {docs} documents, "
        f"{run.n_topics} topics; processing {total:.1f} s (embedding included), "
        f"direction mapping {spent[0]:.2f} s in {spent[1]} calls = {spent[0] / total:.1%}"
    )


if __name__ == "__main__":
    main()

"""Processing every pending period in order, recorded as one run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from models.cluster import HdbscanClusterer
from models.directions import embed_taxonomy
from models.embed import Encoder
from models.engine import (
    EngineContext,
    EngineParams,
    PeriodSummary,
    pending_periods,
    process_period,
)
from models.stopwatch import Stopwatch
from models.taxonomy import load_taxonomy
from pipeline.db import held, session
from pipeline.provenance import code_version, new_run_id
from pipeline.store import finish_run, start_run
from pipeline.topic_store import store_taxonomy


@dataclass(frozen=True)
class ProcessRun:
    """The typed summary a process run returns."""

    run_id: str
    granularity: str
    periods: tuple[PeriodSummary, ...]

    @property
    def n_topics(self) -> int:
        return sum(p.n_topics for p in self.periods)


def build_context(encoder: Encoder, params: EngineParams, taxonomy: str,
                  run_id: str) -> EngineContext:
    """Components shared by all periods of a run (the taxonomy is embedded once)."""
    loaded = load_taxonomy(taxonomy)
    return EngineContext(encoder=encoder, clusterer=HdbscanClusterer(params.cluster),
                         tracks=embed_taxonomy(loaded, encoder),
                         user_terms=loaded.user_terms(), run_id=run_id)


def process_pending(db_path: Path, params: EngineParams, encoder: Encoder, taxonomy: str = "v1",
                    on_period: Callable[[PeriodSummary], None] | None = None,
                    watch: Stopwatch | None = None) -> ProcessRun:
    """Process every period not processed yet, oldest first, one transaction each.

    `watch`, when given, receives the engine's seconds per stage (benchmarks read it).
    """
    run_id = new_run_id("process")
    with session(db_path) as con:
        start_run(con, run_id, "process", {"engine": asdict(params), "taxonomy": taxonomy},
                  code_version(), encoder.name)
    done: list[PeriodSummary] = []
    try:
        ctx = build_context(encoder, params, taxonomy, run_id)
        with session(db_path) as con:
            # Names for analysts and reports, the first time this taxonomy is used here.
            store_taxonomy(con, ctx.tracks.taxonomy.rows())
        if watch is not None:
            ctx = replace(ctx, watch=watch)
        with held(db_path) as hold:
            for period in pending_periods(db_path, params.granularity):
                summary = process_period(db_path, period, params, ctx)
                done.append(summary)
                hold.breathe()
                if on_period:
                    on_period(summary)
    except BaseException as error:
        with session(db_path) as con:
            finish_run(con, run_id, "failed", run_counts(done), error=str(error) or repr(error))
        raise
    with session(db_path) as con:
        finish_run(con, run_id, "completed", run_counts(done))
    return ProcessRun(run_id, params.granularity, tuple(done))


def run_counts(done: list[PeriodSummary]) -> dict[str, int]:
    return {
        "periods": len(done), "documents": sum(p.n_docs for p in done),
        "topics": sum(p.n_topics for p in done), "new_topics": sum(p.n_new_topics for p in done),
        "outliers": sum(p.n_outliers for p in done), "flagged": sum(p.n_flagged for p in done),
    }

"""Processing every pending period in order, recorded as one run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from models.cluster import HdbscanClusterer
from models.directions import embed_taxonomy
from models.embed import Encoder
from models.engine import EngineContext, EngineParams, PeriodSummary
from models.plan import PeriodPlan, plan_periods
from models.process import process_period
from models.stopwatch import Stopwatch
from models.taxonomy import load_taxonomy
from pipeline.db import held, session, transaction
from pipeline.errors import ObservatoryError
from pipeline.periods import Period
from pipeline.provenance import code_version, new_run_id
from pipeline.snapshot import Publisher
from pipeline.store import documents_per_day, finish_run, start_run
from pipeline.topic_store import (
    drop_history,
    history_encoder,
    processed_counts,
    record_history_encoder,
    record_revisions,
    rewind,
    rewindable,
    store_taxonomy,
)

# Within a backfill the read snapshot is refreshed at most this often (a copy per period of a
# 200-week backfill would cost more than the periods); every run ends with a fresh one.
PUBLISH_INTERVAL_S = 30.0


@dataclass(frozen=True)
class ProcessRun:
    """The typed summary a process run returns."""

    run_id: str
    granularity: str
    periods: tuple[PeriodSummary, ...]
    reprocessed: tuple[str, ...] = ()
    stale: dict[str, tuple[int, int]] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    rebuilt: int = 0

    @property
    def n_topics(self) -> int:
        return sum(p.n_topics for p in self.periods)


def build_context(
    encoder: Encoder, params: EngineParams, taxonomy: str, run_id: str
) -> EngineContext:
    """Components shared by all periods of a run (the taxonomy is embedded once)."""
    loaded = load_taxonomy(taxonomy)
    return EngineContext(
        encoder=encoder,
        clusterer=HdbscanClusterer(params.cluster),
        tracks=embed_taxonomy(loaded, encoder),
        user_terms=loaded.user_terms(),
        run_id=run_id,
    )


def check_encoder(con: duckdb.DuckDBPyConnection, granularity: str, encoder: Encoder) -> None:
    """Refuse to mix two embedding spaces in one history; record the encoder of a new one."""
    recorded = history_encoder(con, granularity)
    if recorded is not None:
        name, dim = recorded
        if name != encoder.name or (dim and dim != encoder.dim):
            raise ObservatoryError(
                f"the {granularity} topics were built with encoder {name} ({dim} dimensions) "
                f"and this run uses {encoder.name} ({encoder.dim}): process with "
                f"--encoder {name}, or start the {granularity} topics over with "
                f"`observatory process -g {granularity} --encoder {encoder.name} --rebuild` "
                "(documents and every embedding are kept)"
            )
    record_history_encoder(con, granularity, encoder.name, encoder.dim)


def plan_run(
    con: duckdb.DuckDBPyConnection,
    params: EngineParams,
    now: datetime,
    reprocess_from: str | None = None,
) -> PeriodPlan:
    """Pending, stale and open periods; a history stored without topic states rewinds whole."""
    granularity = params.granularity
    grace = timedelta(days=params.grace_days)
    per_day, processed = documents_per_day(con), processed_counts(con, granularity)
    first = Period.parse(reprocess_from.strip(), granularity) if reprocess_from else None
    plan = plan_periods(per_day, processed, granularity, now, grace, first)
    kept = [p for p in processed if p not in set(plan.rewind)]
    if plan.rewind and not rewindable(con, granularity, kept):
        plan = plan_periods(per_day, processed, granularity, now, grace, next(iter(processed)))
    return plan


def prepare(
    db_path: Path,
    params: EngineParams,
    encoder: Encoder,
    run_id: str,
    now: datetime,
    reprocess_from: str | None,
    rebuild: bool,
) -> tuple[PeriodPlan, int]:
    """One transaction: check the encoder, rebuild or rewind the history; the plan."""
    with session(db_path) as con, transaction(con):
        dropped = drop_history(con, params.granularity) if rebuild else 0
        check_encoder(con, params.granularity, encoder)
        plan = plan_run(con, params, now, reprocess_from)
        if plan.rewind:
            rewind(con, params.granularity, plan.rewind)
            record_revisions(
                con,
                run_id,
                params.granularity,
                plan.rewind,
                plan.stale,
                "--reprocess" if reprocess_from else "late documents",
            )
    return plan, dropped


@dataclass
class RunState:
    """What a process run has done so far: its context, its plan and the periods written."""

    run_id: str
    ctx: EngineContext
    plan: PeriodPlan
    dropped: int
    publisher: Publisher
    done: list[PeriodSummary] = field(default_factory=list)

    def period_done(self, summary: PeriodSummary) -> None:
        """Count a written period, and refresh the read snapshot when it is time."""
        self.done.append(summary)
        with session(self.publisher.db_path) as con:
            self.publisher.maybe(con)

    def result(self, granularity: str) -> ProcessRun:
        plan = self.plan
        return ProcessRun(
            self.run_id,
            granularity,
            tuple(self.done),
            tuple(p.label for p in plan.reprocess),
            {p.label: counts for p, counts in plan.stale.items()},
            {p.label: n for p, n in plan.waiting.items()},
            self.dropped,
        )


@contextmanager
def process_run(
    db_path: Path,
    params: EngineParams,
    encoder: Encoder,
    taxonomy: str,
    now: datetime | None = None,
    reprocess_from: str | None = None,
    rebuild: bool = False,
    extra: dict[str, Any] | None = None,
    stopwatch: Stopwatch | None = None,
) -> Iterator[RunState]:
    """One `process` run, whichever driver processes its periods (`process_pending` here,
    `models.parallel` on workers): recorded in `runs`, the encoder checked, stale periods
    rewound, the read snapshot published at the end (failed runs too, with what they
    committed). The driver processes `state.plan.pending` in order and calls `period_done`.
    """
    run_id = new_run_id("process")
    now = now or datetime.now(UTC)
    with session(db_path) as con:
        start_run(
            con,
            run_id,
            "process",
            {
                "engine": asdict(params),
                "taxonomy": taxonomy,
                "reprocess_from": reprocess_from,
                "rebuild": rebuild,
                "now": now.isoformat(),
                **(extra or {}),
            },
            code_version(),
            encoder.name,
        )
    publisher = Publisher(db_path, PUBLISH_INTERVAL_S)
    state: RunState | None = None
    try:
        ctx = build_context(encoder, params, taxonomy, run_id)
        with session(db_path) as con:
            # Names for analysts and reports, the first time this taxonomy is used here.
            store_taxonomy(con, ctx.tracks.taxonomy.rows())
        if stopwatch is not None:
            ctx = replace(ctx, stopwatch=stopwatch)
        with held(db_path):
            plan, dropped = prepare(db_path, params, encoder, run_id, now, reprocess_from, rebuild)
            state = RunState(run_id, ctx, plan, dropped, publisher)
            yield state
    except BaseException as error:
        with session(db_path) as con:
            finish_run(con, run_id, "failed", _counts(state), error=str(error) or repr(error))
            publisher.now(con)
        raise
    with session(db_path) as con:
        finish_run(con, run_id, "completed", _counts(state))
        publisher.now(con)


def process_pending(
    db_path: Path,
    params: EngineParams,
    encoder: Encoder,
    taxonomy: str = "v1",
    on_period: Callable[[PeriodSummary], None] | None = None,
    stopwatch: Stopwatch | None = None,
    now: datetime | None = None,
    reprocess_from: str | None = None,
    rebuild: bool = False,
) -> ProcessRun:
    """Process every closed period not processed yet, and stale ones again, oldest first.

    One transaction per period. `now` (UTC) decides which periods have closed; `stopwatch`,
    when given, receives the engine's seconds per stage (benchmarks read it).
    """
    with (
        process_run(
            db_path, params, encoder, taxonomy, now, reprocess_from, rebuild, stopwatch=stopwatch
        ) as run,
        held(db_path) as hold,
    ):
        for period in run.plan.pending:
            summary = process_period(db_path, period, params, run.ctx)
            run.period_done(summary)
            hold.breathe()
            if on_period:
                on_period(summary)
    return run.result(params.granularity)


def _counts(state: RunState | None) -> dict[str, int]:
    done = state.done if state else []
    plan = state.plan if state else PeriodPlan((), (), {}, {})
    return {
        **run_counts(done),
        "reprocessed": len(plan.reprocess),
        "open_periods": len(plan.waiting),
        "waiting_documents": sum(plan.waiting.values()),
    }


def run_counts(done: list[PeriodSummary]) -> dict[str, int]:
    return {
        "periods": len(done),
        "documents": sum(p.n_docs for p in done),
        "topics": sum(p.n_topics for p in done),
        "new_topics": sum(p.n_new_topics for p in done),
        "outliers": sum(p.n_outliers for p in done),
        "flagged": sum(p.n_flagged for p in done),
    }

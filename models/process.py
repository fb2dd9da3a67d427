"""One period against the store: read, embed what is new, cluster, finish, one write.

The same steps run spread over workers in `models.parallel`.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from models.embed import Encoder
from models.engine import (
    SERIES_LENGTH,
    EngineContext,
    EngineParams,
    PeriodClusters,
    PeriodHistory,
    PeriodSummary,
    PriorState,
    cluster_period,
    encode_missing,
)
from models.period_topics import compute_period
from models.signals import SERIES_LENGTH as TERM_SERIES
from models.signals import TermInput, read_term_input
from models.terms import PeriodTerms
from models.window import WindowParams, window_start
from pipeline.db import session, transaction
from pipeline.periods import Granularity, Period
from pipeline.records import Document
from pipeline.store import (
    date_span,
    documents_between,
    insert_embeddings,
    iter_batches,
    load_embedding_map,
    missing_embeddings,
)
from pipeline.topic_store import (
    load_topic_states,
    period_totals,
    processed_periods,
    write_period,
)
from pipeline.watch_store import load_watch_states

if TYPE_CHECKING:
    import duckdb


def embed_documents(
    db_path: Path,
    docs: Sequence[Document],
    encoder: Encoder,
    batch_size: int,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Embed texts with no vector for this encoder yet, a batch per short write; returns count.

    Each batch is committed on its own, so a killed run keeps what it finished;
    `on_batch(done, total)` reports progress after each.
    """
    with session(db_path) as con:
        todo = missing_embeddings(con, [d.content_hash for d in docs], encoder.name)
    done = 0
    for batch in iter_batches(todo, batch_size):
        vectors = encode_missing(batch, docs, encoder, batch_size)
        with session(db_path) as con, transaction(con):
            insert_embeddings(con, list(batch), encoder.name, vectors)
        done += len(batch)
        if on_batch:
            on_batch(done, len(todo))
    return len(todo)


def pending_periods(
    db_path: Path, granularity: Granularity, now: datetime | None = None, grace_days: float = 1.0
) -> list[Period]:
    """Closed periods, from the first document on, not processed yet (see models/plan.py).

    A period is closed once it ended (UTC) plus the grace; open periods wait.
    """
    with session(db_path) as con:
        span = date_span(con)
        done = set(processed_periods(con, granularity))
    if span is None:
        return []
    first, last = (Period.of(day, granularity) for day in span)
    when, grace = now or datetime.now(UTC), timedelta(days=grace_days)
    return [p for p in first.until(last) if p not in done and p.is_closed(when, grace)]


@dataclass(frozen=True)
class PeriodInput:
    """What the driver reads of one period: its documents and the vectors already stored."""

    period: Period
    docs: tuple[Document, ...]
    hashes: tuple[str, ...]
    known: dict[str, NDArray[np.float32]]
    # The trailing window's earlier documents (thin periods only), which shape the clusters.
    context_hashes: tuple[str, ...] = ()

    def missing(self, skip: Container[str] = ()) -> list[str]:
        """Hashes with no stored vector, each once, in document order (`skip` left out)."""
        return [h for h in dict.fromkeys(self.hashes) if h not in self.known and h not in skip]

    def texts_of(self, hashes: Sequence[str]) -> list[str]:
        text_of = {d.content_hash: d.full_text for d in self.docs}
        return [text_of[h] for h in hashes]

    def context(self, fresh: dict[str, NDArray[np.float32]]) -> NDArray[np.float32] | None:
        """The window's earlier vectors: stored ones, else computed but not yet written."""
        rows = [
            self.known[h] if h in self.known else fresh[h]
            for h in self.context_hashes
            if h in self.known or len(fresh.get(h, ())) > 0
        ]
        return np.asarray(rows, dtype=np.float32) if rows else None

    def vectors(self, fresh: dict[str, NDArray[np.float32]], dim: int) -> NDArray[np.float32]:
        """One row per document: the stored vector, else the fresh one."""
        if not self.hashes:
            return np.zeros((0, dim), dtype=np.float32)
        return np.asarray(
            [self.known[h] if h in self.known else fresh[h] for h in self.hashes], dtype=np.float32
        )


def read_period(
    con: duckdb.DuckDBPyConnection, period: Period, model: str, window: WindowParams | None = None
) -> PeriodInput:
    """The period's documents (stable order) and the vectors this model already has for them;
    for a thin period (`window`), the earlier documents of its trailing window too."""
    docs = documents_between(con, period.start, period.last_day)
    hashes = tuple(d.content_hash for d in docs)
    context: tuple[str, ...] = ()
    if window is not None and window.applies(len(docs)):
        context = tuple(
            d.content_hash
            for d in documents_between(
                con, window_start(period, window.periods), period.start - timedelta(days=1)
            )
        )
    return PeriodInput(
        period,
        tuple(docs),
        hashes,
        load_embedding_map(con, list(dict.fromkeys(hashes + context)), model),
        context,
    )


def read_prior(con: duckdb.DuckDBPyConnection, period: Period, params: EngineParams) -> PriorState:
    """Topic states, document totals and watches of the processed periods before `period`."""
    earlier = [p for p in processed_periods(con, params.granularity) if p < period]
    recent = earlier[-max(params.score.window, SERIES_LENGTH - 1) :]
    states = load_topic_states(con, params.granularity, recent)
    totals = period_totals(con, params.granularity, recent)
    watches = load_watch_states(con, params.granularity, recent)
    return PriorState(
        tuple(states),
        PeriodHistory(tuple(recent), tuple(totals.get(p, 0) for p in recent)),
        tuple(watches),
    )


def process_period(
    db_path: Path, period: Period, params: EngineParams, ctx: EngineContext
) -> PeriodSummary:
    """Process one period end to end with two short connections: one read, one write.

    New vectors are computed with no connection held and written in the same transaction as
    the period's rows (opening a DuckDB file costs ~20 ms and closing it a checkpoint, which
    dominated weekly runs when each step opened its own). The same four steps (read, embed,
    cluster, finish) run spread over workers in `models.parallel`.
    """
    stopwatch = ctx.stopwatch
    with stopwatch.stage("read"), session(db_path) as con:
        data = read_period(con, period, ctx.encoder.name, params.window)
        prior = read_prior(con, period, params)
    todo = data.missing()
    with stopwatch.stage("embed_new"):
        fresh = encode_missing(todo, data.docs, ctx.encoder, params.embed_batch_size)
    vectors = data.vectors(dict(zip(todo, fresh, strict=True)), ctx.encoder.dim)
    clusters = cluster_period(
        [d.doc_id for d in data.docs],
        [d.full_text for d in data.docs],
        vectors,
        params,
        ctx.user_terms,
        ctx.clusterer,
        data.context({}),
    )
    for stage, seconds in clusters.seconds.items():
        stopwatch.seconds[stage] = stopwatch.seconds.get(stage, 0.0) + seconds
    return finish_period(db_path, data, vectors, clusters, prior, todo, fresh, params, ctx)


def finish_period(
    db_path: Path,
    data: PeriodInput,
    vectors: NDArray[np.float32],
    clusters: PeriodClusters,
    prior: PriorState,
    todo: Sequence[str],
    fresh: NDArray[np.float32],
    params: EngineParams,
    ctx: EngineContext,
    terms: PeriodTerms | None = None,
) -> PeriodSummary:
    """On the driver, in period order: terms, track, score, directions, watches, signals, then
    the one write (a period's terms need the earlier periods' term rows).

    `terms`: the period's candidate terms when a worker already extracted them
    (`extract_terms`, history-free); else they are extracted here.
    """
    term_input = None
    if params.signals.enabled and data.docs:
        with ctx.stopwatch.stage("terms"), session(db_path) as con:
            term_input = read_terms(con, data, params, ctx, terms)
    write = compute_period(
        data.period, data.docs, vectors, clusters, prior, params, ctx, term_input
    )
    with ctx.stopwatch.stage("write"), session(db_path) as con, transaction(con):
        if len(todo):
            insert_embeddings(con, list(todo), ctx.encoder.name, fresh)
        write_period(con, write)
    return PeriodSummary(
        period=data.period.label,
        n_docs=len(data.docs),
        n_topics=len(write.topics),
        n_new_topics=sum(t.is_new for t in write.topics),
        n_outliers=write.n_outliers,
        n_flagged=sum(t.signal_class != "noise" for t in write.topics),
    )


def read_terms(
    con: duckdb.DuckDBPyConnection,
    data: PeriodInput,
    params: EngineParams,
    ctx: EngineContext,
    terms: PeriodTerms | None = None,
) -> TermInput:
    """The period's candidate terms, their history, measures and the earlier signals."""
    earlier = [p for p in processed_periods(con, params.granularity) if p < data.period]
    totals = period_totals(con, params.granularity, earlier[-TERM_SERIES:])
    # The term store keys its history by the stored labels.
    return read_term_input(
        con,
        params.granularity,
        data.docs,
        [p.label for p in earlier],
        {p.label: n for p, n in totals.items()},
        params.terms,
        params.term_score,
        params.signals,
        ctx.user_terms,
        terms,
    )

"""Processing pending periods with embedding and clustering spread over workers.

The same four steps as `models.process.process_period`, arranged for a pool of workers:

- **read** (driver): a window of pending periods, their documents and stored vectors;
- **embed** (workers): the texts with no vector, in the batches the one-process run would
  encode (a period's missing texts, `embed_batch_size` at a time, in document order), several
  batches per task;
- **cluster** (workers): each period's clusters, centroids and keywords, and its candidate
  terms with their counts (`extract_terms`), needing no history;
- **finish** (driver, period order): tracking, scores, directions, watches and the one write
  per period, so DuckDB keeps a single writer.

Only ids, texts, arrays and plain records cross to workers. Batches are the same as in one
process, and a vector depends (in its last bits) on the texts encoded with it, so results are
identical to `process_pending`'s. Who runs a task is the `Submitter`'s business (Prefect's
Dask task runner in `flows.scale`, or `Inline`); this module imports neither Prefect nor Dask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from models.embed import Encoder
from models.engine import (
    EngineContext,
    EngineParams,
    PeriodClusters,
    PeriodSummary,
    cluster_period,
    embed_texts,
    extract_terms,
)
from models.process import PeriodInput, finish_period, pending_periods, read_period, read_prior
from models.runner import ProcessRun, process_run
from models.stopwatch import Stopwatch
from models.terms import PeriodTerms
from pipeline.db import held, session
from pipeline.periods import Period
from pipeline.records import Document
from pipeline.store import iter_batches

T = TypeVar("T", covariant=True)
R = TypeVar("R")
Batches = list[list[str]]


class Pending(Protocol[T]):
    """A submitted task: `result()` waits for it and raises what it raised."""

    def result(self) -> T: ...


class Submitter(Protocol):
    """Runs the two pure steps somewhere: inline, or on Dask workers through Prefect."""

    def embed(self, batches: Batches) -> Pending[list[NDArray[np.float32]]]: ...

    def cluster(
        self,
        doc_ids: list[str],
        texts: list[str],
        vectors: NDArray[np.float32],
        params: EngineParams,
        user_terms: tuple[str, ...],
        context: NDArray[np.float32] | None = None,
    ) -> Pending[PeriodClusters]: ...

    def terms(
        self, docs: list[Document], params: EngineParams, user_terms: tuple[str, ...]
    ) -> Pending[PeriodTerms | None]: ...


@dataclass(frozen=True)
class Done(Generic[R]):
    """An already computed result."""

    value: R

    def result(self) -> R:
        return self.value


@dataclass(frozen=True)
class Inline:
    """Runs each step at once in this process (the reference the workers must match)."""

    encoder: Encoder

    def embed(self, batches: Batches) -> Done[list[NDArray[np.float32]]]:
        return Done([embed_texts(batch, self.encoder) for batch in batches])

    def cluster(
        self,
        doc_ids: list[str],
        texts: list[str],
        vectors: NDArray[np.float32],
        params: EngineParams,
        user_terms: tuple[str, ...],
        context: NDArray[np.float32] | None = None,
    ) -> Done[PeriodClusters]:
        return Done(cluster_period(doc_ids, texts, vectors, params, user_terms, context=context))

    def terms(
        self, docs: list[Document], params: EngineParams, user_terms: tuple[str, ...]
    ) -> Done[PeriodTerms | None]:
        return Done(extract_terms(docs, params, user_terms))


@dataclass(frozen=True)
class ParallelOptions:
    """How work is cut: documents read per window, encoder batches per embedding task."""

    window_docs: int = 20_000
    # A Prefect task costs ~0.4-0.8 s of bookkeeping on a busy machine: 16 batches of 64
    # abstracts are ~20 s of encoding, so it stays small.
    batches_per_task: int = 16


@dataclass
class _Planned:
    data: PeriodInput
    todo: list[str]
    embeds: list[Pending[list[NDArray[np.float32]]]]
    terms: Pending[PeriodTerms | None] | None = None
    fresh: NDArray[np.float32] | None = None
    vectors: NDArray[np.float32] | None = None
    clusters: Pending[PeriodClusters] | None = None


@dataclass
class _Window:
    periods: list[_Planned] = field(default_factory=list)


def process_pending_parallel(
    db_path: Path,
    params: EngineParams,
    encoder: Encoder,
    submit: Submitter,
    taxonomy: str = "v1",
    options: ParallelOptions = ParallelOptions(),
    on_period: Callable[[PeriodSummary], None] | None = None,
    stopwatch: Stopwatch | None = None,
    now: datetime | None = None,
    reprocess_from: str | None = None,
    rebuild: bool = False,
) -> ProcessRun:
    """Process every pending period with `submit` running embedding and clustering.

    `encoder` is the driver's own (it embeds the taxonomy and watch phrases); workers build
    theirs from its name. Recorded as one `process` run, like `process_pending`, with the
    same plan (closed periods only, stale ones again; models/runner.process_run).
    """
    with (
        process_run(
            db_path,
            params,
            encoder,
            taxonomy,
            now,
            reprocess_from,
            rebuild,
            extra={"parallel": asdict(options)},
            stopwatch=stopwatch,
        ) as run,
        held(db_path) as hold,
    ):
        for summary in process_periods(db_path, params, run.ctx, submit, options, run.plan.pending):
            run.period_done(summary)
            hold.breathe()
            if on_period:
                on_period(summary)
    return run.result(params.granularity)


def process_periods(
    db_path: Path,
    params: EngineParams,
    ctx: EngineContext,
    submit: Submitter,
    options: ParallelOptions = ParallelOptions(),
    periods: Sequence[Period] | None = None,
) -> Iterator[PeriodSummary]:
    """The given periods (default: every pending one), in windows: the next window is read
    and embedding while the current one finishes; yields each period's summary as written."""
    if periods is None:
        periods = pending_periods(db_path, params.granularity)
    fresh: dict[str, NDArray[np.float32]] = {}  # vectors computed but not yet written
    start = 0
    current, start = _read_window(db_path, periods, start, params, ctx, submit, options, fresh)
    _submit_clusters(current, params, ctx, submit, fresh)
    while current.periods:
        upcoming, start = _read_window(db_path, periods, start, params, ctx, submit, options, fresh)
        for planned in current.periods:
            yield _finish(db_path, planned, params, ctx)
        _submit_clusters(upcoming, params, ctx, submit, fresh)
        for planned in current.periods:  # written: windows read from now on find them stored
            for h in planned.todo:
                fresh.pop(h, None)
        current = upcoming


def _read_window(
    db_path: Path,
    periods: Sequence[Period],
    start: int,
    params: EngineParams,
    ctx: EngineContext,
    submit: Submitter,
    options: ParallelOptions,
    fresh: dict[str, NDArray[np.float32]],
) -> tuple[_Window, int]:
    """Read periods from `start` until `window_docs` documents; submit their embedding.

    A text missing in several pending periods is embedded once, with the first of them, as
    in one process (where the later period finds it stored).
    """
    window = _Window()
    n_docs = 0
    with ctx.stopwatch.stage("read"), session(db_path) as con:
        while start < len(periods) and (not window.periods or n_docs < options.window_docs):
            data = read_period(con, periods[start], ctx.encoder.name, params.window)
            todo = data.missing(skip=fresh)
            texts = data.texts_of(todo)
            batches = [list(batch) for batch in iter_batches(texts, params.embed_batch_size)]
            embeds = [
                submit.embed(list(group))
                for group in iter_batches(batches, options.batches_per_task)
            ]
            for h in todo:  # claimed: later periods wait for this period's vector
                fresh[h] = _CLAIMED
            terms = submit.terms(list(data.docs), params, ctx.user_terms)  # needs no vectors
            window.periods.append(_Planned(data, todo, embeds, terms))
            n_docs += len(data.docs)
            start += 1
    return window, start


_CLAIMED = np.zeros(0, dtype=np.float32)


def _submit_clusters(
    window: _Window,
    params: EngineParams,
    ctx: EngineContext,
    submit: Submitter,
    fresh: dict[str, NDArray[np.float32]],
) -> None:
    """As each period's vectors arrive (in order), submit its clustering."""
    for planned in window.periods:
        with ctx.stopwatch.stage("embed_wait"):
            rows = [m for pending in planned.embeds for m in pending.result()]
        planned.fresh = np.concatenate(rows) if rows else np.zeros((0, ctx.encoder.dim), np.float32)
        fresh.update(zip(planned.todo, planned.fresh, strict=True))
        planned.vectors = planned.data.vectors(fresh, ctx.encoder.dim)
        docs = planned.data.docs
        # Earlier periods' vectors are stored or, within this backfill, still in `fresh`.
        planned.clusters = submit.cluster(
            [d.doc_id for d in docs],
            [d.full_text for d in docs],
            planned.vectors,
            params,
            ctx.user_terms,
            planned.data.context(fresh),
        )
        planned.embeds = []


def _finish(
    db_path: Path, planned: _Planned, params: EngineParams, ctx: EngineContext
) -> PeriodSummary:
    assert planned.clusters is not None and planned.vectors is not None
    assert planned.fresh is not None
    with ctx.stopwatch.stage("cluster_wait"):
        clusters = planned.clusters.result()
        terms = planned.terms.result() if planned.terms is not None else None
    for stage, seconds in clusters.seconds.items():
        ctx.stopwatch.seconds[stage] = ctx.stopwatch.seconds.get(stage, 0.0) + seconds
    with ctx.stopwatch.stage("read"), session(db_path) as con:
        prior = read_prior(con, planned.data.period, params)
    return finish_period(
        db_path,
        planned.data,
        planned.vectors,
        clusters,
        prior,
        planned.todo,
        planned.fresh,
        params,
        ctx,
        terms,
    )

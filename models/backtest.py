"""Replaying a corpus period by period through the engine and scoring what it flagged."""

from __future__ import annotations

import json
import resource
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rich.table import Table

from models.embed import Encoder
from models.engine import (
    EngineContext,
    EngineParams,
    pending_periods,
    process_period,
)
from models.evaluate import (
    Event,
    EventOutcome,
    FlaggedTopic,
    History,
    TopicRow,
    evaluate_event,
    flag_topics,
    parse_event,
    summarise,
    usable_granularities,
)
from models.runner import build_context
from models.stopwatch import Stopwatch
from pipeline.db import held, session, transaction
from pipeline.errors import InputError
from pipeline.ingest import IngestReport, read_documents
from pipeline.periods import Granularity, check_granularity, period_of, period_range, period_start
from pipeline.provenance import code_version, new_run_id
from pipeline.records import Document
from pipeline.store import insert_documents

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BacktestResult:
    """Everything RESULT.json holds."""

    corpus: str
    granularity: str
    n_docs: int
    n_periods: int
    params: dict[str, Any]
    model: str
    code_version: str
    events: tuple[EventOutcome, ...]
    summary: dict[str, Any]
    timings: dict[str, float]
    peak_rss_mb: float
    notes: tuple[str, ...] = ()
    periods: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Replay:
    """One replay's history and flags, and a fingerprint to compare repeated runs."""

    history: History
    flagged: tuple[FlaggedTopic, ...]
    flagged_keys: frozenset[tuple[str, str]]

    def fingerprint(self) -> list[tuple[str, str, str, float, int]]:
        counts = {(r.period, r.topic_id): r.n_docs for r in self.history.rows}
        return sorted((f.period, f.topic_id, f.signal_class, f.rank_score,
                       counts[(f.period, f.topic_id)]) for f in self.flagged)


def load_corpus(path: Path, granularity: Granularity) -> dict[str, list[Document]]:
    """The corpus's documents by period label, oldest period first (a bad line raises)."""
    by_period: dict[str, list[Document]] = {}
    for doc in read_documents(path, skip_bad=False, report=IngestReport(path=str(path))):
        by_period.setdefault(period_of(doc.published, granularity), []).append(doc)
    if not by_period:
        raise InputError(f"{path}: no dated documents")
    labels = period_range(min(by_period, key=period_start), max(by_period, key=period_start))
    return {label: by_period.get(label, []) for label in labels}


def load_events(path: Path, sources: set[str], granularity: Granularity,
                periods: Sequence[str]) -> tuple[list[Event], list[str]]:
    """Events of this corpus usable at this granularity, and notes on what was left out."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a JSON list of events")
    events = [parse_event(f"{path}: entry {i}", entry, granularity)
              for i, entry in enumerate(entries)]
    ours = [(e, entry) for e, entry in zip(events, entries, strict=True) if e.corpus in sources]
    if not ours:
        raise InputError(f"{path}: no events for corpus {', '.join(sorted(sources))}")
    return select_events(ours, granularity, periods, path)


def select_events(ours: Sequence[tuple[Event, dict[str, Any]]], granularity: Granularity,
                  periods: Sequence[str], path: Path) -> tuple[list[Event], list[str]]:
    """Keep the series in `granularity` (else the finest finer one, re-bucketed), in range."""
    usable = usable_granularities(granularity)
    present = {entry["period_granularity"] for _, entry in ours} & set(usable)
    if not present:
        raise InputError(f"{path}: no events at granularity {granularity} or finer for this "
                         "corpus")
    chosen = granularity if granularity in present else max(present, key=usable.index)
    notes = [] if chosen == granularity else [f"events given by {chosen}, re-bucketed to "
                                              f"{granularity}"]
    kept = [e for e, entry in ours if entry["period_granularity"] == chosen]
    series = _main_series(kept, chosen)
    notes += [f"series {s!r} skipped (a subset of the corpus)"
              for s in sorted({e.series for e in kept} - {series})]
    kept = [e for e in kept if e.series == series]
    inside = [e for e in kept if e.emergence_period is None or e.emergence_period in periods]
    if not any(e.emergence_period for e in inside) and not any(
            e.role == "negative_control" for e in inside):
        raise InputError(f"{path}: no event period falls inside the corpus's dates "
                         f"({periods[0]} .. {periods[-1]})")
    notes += [f"{e.term!r}: emergence {e.emergence_period} outside the corpus, skipped"
              for e in kept if e not in inside]
    return inside, notes


def _main_series(events: Sequence[Event], granularity: str) -> str:
    names = sorted({e.series for e in events})
    for preferred in (granularity, f"{granularity}_all", ""):
        if preferred in names:
            return preferred
    return names[0]


@contextmanager
def cache_attached(con: Any, cache: Path, read_only: bool = False) -> Iterator[None]:
    """The cache file attached as `cache`, with the same `embeddings` table as the store.

    Read-only when only reading, so several backtests can share one cache file at once
    (DuckDB lets many processes read a file, or one write it).
    """
    if not read_only or not cache.exists():
        with session(cache):
            pass
    con.execute(f"ATTACH '{cache}' AS cache{' (READ_ONLY)' if read_only else ''}")
    try:
        yield
    finally:
        con.execute("DETACH cache")


def copy_cached_embeddings(db_path: Path, cache: Path, hashes: Sequence[str],
                           model: str) -> int:
    """Bring vectors already in the cache into the store; returns how many came in."""
    with session(db_path) as con, cache_attached(con, cache, read_only=True):
        before = con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
        con.execute("INSERT INTO embeddings SELECT * FROM cache.embeddings WHERE model = ? "
                    "AND content_hash IN (SELECT unnest(?)) ON CONFLICT DO NOTHING",
                    [model, list(hashes)])
        return int(con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0] - before)


def save_embeddings(db_path: Path, cache: Path, model: str) -> int:
    """Add the store's vectors of this model that the cache lacks; returns how many."""
    with session(db_path) as con, cache_attached(con, cache, read_only=True):
        missing = con.execute(
            "SELECT count(*) FROM embeddings e WHERE model = ? AND NOT EXISTS (SELECT 1 FROM "
            "cache.embeddings c WHERE c.content_hash = e.content_hash AND c.model = e.model)",
            [model]).fetchall()[0][0]
    if not missing:
        return 0  # nothing new: no write lock on a cache other runs may be reading
    with session(db_path) as con, cache_attached(con, cache):
        con.execute("INSERT INTO cache.embeddings SELECT * FROM embeddings WHERE model = ? "
                    "ON CONFLICT DO NOTHING", [model])
    return int(missing)


def replay(corpus: dict[str, list[Document]], db_path: Path, ctx: EngineContext,
           params: EngineParams, watch: Stopwatch, progress: Progress | None = None) -> Replay:
    """Ingest each period, then process what is pending, as the scheduled job does."""
    ctx = replace(ctx, watch=watch)  # the engine adds cluster, track, keywords, ... to it
    with held(db_path) as hold:
        for index, (period, docs) in enumerate(corpus.items()):
            with watch.stage("ingest"), session(db_path) as con, transaction(con):
                insert_documents(con, docs)
            for pending in pending_periods(db_path, params.granularity):
                with watch.stage("process"):
                    process_period(db_path, pending, params, ctx)  # embeds what is missing
            hold.breathe()
            if progress:
                progress(period, index + 1, len(corpus))
    # The engine embeds inside the period ("embed_new"); reported as the embed stage.
    watch.seconds["embed"] = watch.seconds.pop("embed_new", 0.0)
    watch.seconds["process"] -= watch.seconds.get("cluster", 0.0) + watch.seconds["embed"]
    return read_replay(db_path, params)


def read_replay(db_path: Path, params: EngineParams) -> Replay:
    """The processed history and the flagged topics with their documents' text."""
    with session(db_path, read_only=True) as con:
        sizes = con.execute("SELECT period, n_docs, n_outliers FROM processed_periods "
                            "WHERE granularity = ? ORDER BY period_start",
                            [params.granularity]).fetchall()
        rows = tuple(TopicRow(p, t, int(n), c, float(s or 0.0)) for p, t, n, c, s in con.execute(
            "SELECT period, topic_id, n_docs, signal_class, high_potential FROM topic_periods "
            "WHERE granularity = ? ORDER BY period, topic_id", [params.granularity]).fetchall())
        members = con.execute(
            "SELECT dt.period, dt.topic_id, d.title || chr(10) || d.text FROM doc_topics dt "
            "JOIN documents d USING (doc_id) WHERE dt.granularity = ? AND dt.topic_id IS NOT NULL "
            "ORDER BY dt.period, dt.topic_id, d.doc_id", [params.granularity]).fetchall()
    history = History(periods=tuple(p for p, _, _ in sizes),
                      period_docs={p: int(n) for p, n, _ in sizes}, rows=rows,
                      n_outliers=sum(int(o) for _, _, o in sizes))
    keys = flag_topics(rows)
    return Replay(history, flagged_topics(rows, keys, members), frozenset(keys))


def flagged_topics(rows: Sequence[TopicRow], keys: set[tuple[str, str]],
                   members: Sequence[tuple[str, str, str]]) -> tuple[FlaggedTopic, ...]:
    """Attach each flagged topic's period texts."""
    texts: dict[tuple[str, str], list[str]] = {}
    for period, topic_id, text in members:
        if (period, topic_id) in keys:
            texts.setdefault((period, topic_id), []).append(text)
    return tuple(FlaggedTopic(r.period, r.topic_id, r.signal_class, r.rank_score,
                              tuple(texts.get((r.period, r.topic_id), ())))
                 for r in rows if (r.period, r.topic_id) in keys)


def run_backtest(corpus: Path, events_path: Path, granularity: str, db_path: Path | None,
                 encoder: Encoder, params: EngineParams, taxonomy: str = "v1", repeat: int = 1,
                 embeddings_cache: Path | None = None,
                 progress: Progress | None = None) -> BacktestResult:
    """Replay `corpus` `repeat` times (fresh stores after the first) and score the first run."""
    unit = check_granularity(granularity)
    params = replace(params, granularity=unit)
    version = code_version()  # the code the replay starts with, before others commit
    watch = Stopwatch()
    with watch.stage("load"):
        by_period = load_corpus(Path(corpus), unit)
        sources = {d.source for docs in by_period.values() for d in docs}
        events, notes = load_events(Path(events_path), sources, unit, list(by_period))
    with tempfile.TemporaryDirectory(prefix="backtest-") as scratch:
        cache = embeddings_cache or Path(scratch) / "embeddings.duckdb"
        replays = [_one_run(by_period, db_path if run == 0 and db_path else
                            Path(scratch) / f"run{run}.duckdb", cache, encoder, params,
                            taxonomy, watch if run == 0 else Stopwatch(), progress)
                   for run in range(max(repeat, 1))]
    first = replays[0]
    with watch.stage("evaluate"):
        outcomes = tuple(evaluate_event(e, first.flagged, first.history.periods) for e in events)
        summary = summarise(outcomes, first.history, set(first.flagged_keys))
    summary["run_to_run_identical"] = (all(r.fingerprint() == first.fingerprint()
                                           for r in replays[1:]) if repeat > 1 else None)
    n_docs = sum(first.history.period_docs.values())
    dropped = sum(len(d) for d in by_period.values()) - n_docs
    notes += [f"{dropped} documents not stored: same id or canonical URL as an earlier one"] \
        if dropped else []
    return BacktestResult(
        corpus=Path(corpus).name, granularity=unit, n_docs=n_docs, n_periods=len(by_period),
        params={"engine": asdict(params), "taxonomy": taxonomy}, model=encoder.name,
        code_version=version, events=outcomes, summary=summary,
        timings={k: round(v, 3) for k, v in watch.seconds.items()},
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        notes=tuple(notes), periods=_period_rows(first),
    )


def _one_run(by_period: dict[str, list[Document]], db_path: Path, cache: Path,
             encoder: Encoder, params: EngineParams, taxonomy: str, watch: Stopwatch,
             progress: Progress | None) -> Replay:
    hashes = [d.content_hash for docs in by_period.values() for d in docs]
    with watch.stage("cache"):
        copy_cached_embeddings(db_path, cache, hashes, encoder.name)
    ctx = build_context(encoder, params, taxonomy, new_run_id("backtest"))
    result = replay(by_period, db_path, ctx, params, watch, progress)
    with watch.stage("cache"):
        save_embeddings(db_path, cache, encoder.name)
    return result


def _period_rows(run: Replay) -> tuple[dict[str, Any], ...]:
    flagged = [p for p, _ in run.flagged_keys]
    topics = [r.period for r in run.history.rows]
    return tuple({"period": p, "n_docs": run.history.period_docs[p],
                  "n_topics": topics.count(p), "n_flagged": flagged.count(p)}
                 for p in run.history.periods)


def write_result(result: BacktestResult, path: Path) -> None:
    """RESULT.json, UTF-8, keys in a stable order."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n",
                          encoding="utf-8")


def format_table(result: BacktestResult) -> Table:
    """Per-event outcomes, then the summary figures, for the terminal."""
    table = Table(title=f"{result.corpus} by {result.granularity}: {result.n_docs} documents, "
                        f"{result.n_periods} periods, {result.model}")
    for name in ("term", "role", "emergence", "first flag", "lead", "topic"):
        table.add_column(name)
    for e in result.events:
        table.add_row(e.term, e.role, e.emergence_period or "-", e.first_flag_period or "-",
                      "-" if e.lead_periods is None else f"{e.lead_periods:+d}",
                      e.topic_id or "-")
    table.add_section()
    for key, value in [*result.summary.items(), ("peak_rss_mb", result.peak_rss_mb),
                       *((f"seconds {k}", v) for k, v in result.timings.items())]:
        table.add_row(key, "", "", "", "-" if value is None else str(value), "")
    return table

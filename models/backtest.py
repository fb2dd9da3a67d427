"""Replaying a corpus period by period through the engine and scoring what it flagged."""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rich.table import Table

from models.embed import Encoder
from models.engine import EngineContext, EngineParams
from models.evaluate import (
    BUDGETS,
    Cut,
    Event,
    EventOutcome,
    History,
    RankedItem,
    RankedLists,
    choose_cut,
    headline,
    parse_budget,
    parse_event,
    score_budgets,
    usable_granularities,
)
from models.parallel import Submitter, process_periods
from models.process import pending_periods, process_period
from models.runner import build_context
from models.stopwatch import Stopwatch
from models.term_baselines import term_baselines
from pipeline.db import held, session, transaction
from pipeline.errors import InputError
from pipeline.ingest import IngestReport, read_documents
from pipeline.periods import Granularity, Period, check_granularity
from pipeline.provenance import code_version, new_run_id
from pipeline.queries import term_signal_series
from pipeline.records import Document
from pipeline.store import insert_documents

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BacktestResult:
    """Everything RESULT.json holds."""

    corpus: str
    granularity: str
    system: str
    n_docs: int
    n_periods: int
    params: dict[str, Any]
    model: str
    code_version: str
    budget: tuple[int, ...]
    cut: dict[str, Any]
    headline: dict[str, Any]
    figures: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    summary: dict[str, Any]
    timings: dict[str, float]
    peak_rss_mb: float
    notes: tuple[str, ...] = ()
    periods: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Replay:
    """One replay's history (every topic), the product's ranked lists, and a fingerprint."""

    history: History
    ranked: dict[str, tuple[RankedItem, ...]]

    def fingerprint(self) -> list[tuple[str, str, int, int, float]]:
        ranks = {(i.period, i.item_id): (n, i.rank_score)
                 for items in self.ranked.values() for n, i in enumerate(items)}
        return sorted((i.period, i.item_id, i.n_docs, *ranks.get((i.period, i.item_id), (-1, 0.0)))
                      for i in self.history.items)


def load_corpus(path: Path, granularity: Granularity) -> dict[str, list[Document]]:
    """The corpus's documents by period label, oldest period first (a bad line raises)."""
    by_period: dict[Period, list[Document]] = {}
    for doc in read_documents(path, skip_bad=False, report=IngestReport(path=str(path))):
        by_period.setdefault(Period.of(doc.published, granularity), []).append(doc)
    if not by_period:
        raise InputError(f"{path}: no dated documents")
    return {p.label: by_period.get(p, []) for p in min(by_period).until(max(by_period))}


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
           params: EngineParams, stopwatch: Stopwatch, progress: Progress | None = None,
           submit: Submitter | None = None) -> Replay:
    """Ingest each period, then process what is pending, as the scheduled job does.

    With `submit` (workers), every period is ingested first and the pending periods are then
    processed as one backfill (`models.parallel`): a period reads only its own documents and
    earlier periods' topics, so the results are the same.
    """
    ctx = replace(ctx, stopwatch=stopwatch)  # the engine adds cluster, track, keywords, ... to it
    if submit is not None:
        return _replay_backfill(corpus, db_path, ctx, params, stopwatch, submit, progress)
    with held(db_path) as hold:
        for index, (period, docs) in enumerate(corpus.items()):
            with stopwatch.stage("ingest"), session(db_path) as con, transaction(con):
                insert_documents(con, docs)
            for pending in pending_periods(db_path, params.granularity):
                with stopwatch.stage("process"):
                    process_period(db_path, pending, params, ctx)  # embeds what is missing
            hold.breathe()
            if progress:
                progress(period, index + 1, len(corpus))
    # The engine embeds inside the period ("embed_new"); reported as the embed stage.
    seconds = stopwatch.seconds
    seconds["embed"] = seconds.pop("embed_new", 0.0)
    seconds["process"] -= seconds.get("cluster", 0.0) + seconds["embed"]
    return read_replay(db_path, params)


def _replay_backfill(corpus: dict[str, list[Document]], db_path: Path, ctx: EngineContext,
                     params: EngineParams, stopwatch: Stopwatch, submit: Submitter,
                     progress: Progress | None) -> Replay:
    with held(db_path) as hold:
        for docs in corpus.values():
            with stopwatch.stage("ingest"), session(db_path) as con, transaction(con):
                insert_documents(con, docs)
        with stopwatch.stage("process"):
            for index, summary in enumerate(process_periods(db_path, params, ctx, submit)):
                hold.breathe()
                if progress:
                    progress(summary.period, index + 1, len(corpus))
    # Workers embed and cluster while the driver finishes: the driver's waits are reported.
    stopwatch.seconds["embed"] = stopwatch.seconds.pop("embed_wait", 0.0)
    return read_replay(db_path, params)


def read_replay(db_path: Path, params: EngineParams) -> Replay:
    """The processed history (every topic with its documents) and the product's ranked lists."""
    with session(db_path, read_only=True) as con:
        return Replay(read_history(con, params.granularity),
                      read_ranked(con, params.granularity))


def read_history(con: Any, granularity: str) -> History:
    """Every period's size and every topic of every period with its documents' text."""
    sizes = con.execute("SELECT period, n_docs, n_outliers FROM processed_periods "
                        "WHERE granularity = ? ORDER BY period_start", [granularity]).fetchall()
    rows = con.execute(
        "SELECT tp.period, tp.topic_id, tp.high_potential, tp.n_docs, t.born_period "
        "FROM topic_periods tp JOIN topics t USING (topic_id) WHERE tp.granularity = ? "
        "ORDER BY tp.period, tp.topic_id", [granularity]).fetchall()
    texts = _member_texts(con, granularity, flagged_only=False)
    items = tuple(RankedItem(p, t, "topic", float(s or 0.0), int(n),
                             tuple(texts.get((p, t), ())), b) for p, t, s, n, b in rows)
    return History(periods=tuple(p for p, _, _ in sizes),
                   period_docs={p: int(n) for p, n, _ in sizes}, items=items,
                   n_outliers=sum(int(o) for _, _, o in sizes),
                   series=term_signal_series(con, granularity))


def read_ranked(con: Any, granularity: str) -> dict[str, tuple[RankedItem, ...]]:
    """The product's own ranked list of each period, best first: what an analyst reads.

    The flagged items of `v_signals` (term signals, topics and fired watches ranked together,
    the order of `observatory signals` and the report's headline), each with its documents in
    that period. This is the one place the backtest reads what the product ranks.
    """
    texts: dict[tuple[str, str], list[str]] = {}
    for period, item, text in _signal_texts(con, granularity):
        texts.setdefault((period, item), []).append(text)
    ranked: dict[str, list[RankedItem]] = {}
    for period, item, kind, score, n_docs, born in con.execute(
            "SELECT period, signal_id, kind, score, n_docs, born_period FROM v_signals "
            "WHERE granularity = ? AND signal_class <> 'noise' ORDER BY period, rank",
            [granularity]).fetchall():
        ranked.setdefault(period, []).append(RankedItem(
            period, item, kind, float(score or 0.0), int(n_docs),
            tuple(texts.get((period, item), ())), born))
    return {p: tuple(items) for p, items in ranked.items()}


def _signal_texts(con: Any, granularity: str) -> list[tuple[str, str, str]]:
    """(period, signal id, title and text) of every flagged signal's documents."""
    rows: list[tuple[str, str, str]] = con.execute(
        """
        WITH flagged AS (
            SELECT period, signal_id, kind, doc_ids FROM signal_periods
            WHERE granularity = $g AND signal_class <> 'noise'
        ), docs AS (
            SELECT period, signal_id, unnest(doc_ids) AS doc_id FROM flagged
            WHERE kind <> 'topic'
            UNION ALL
            SELECT f.period, f.signal_id, dt.doc_id FROM flagged f JOIN doc_topics dt
              ON dt.granularity = $g AND dt.period = f.period AND dt.topic_id = f.signal_id
            WHERE f.kind = 'topic'
        )
        SELECT x.period, x.signal_id, d.title || chr(10) || d.text
        FROM docs x JOIN documents d USING (doc_id)
        ORDER BY x.period, x.signal_id, x.doc_id
        """, {"g": granularity}).fetchall()
    return rows


def _member_texts(con: Any, granularity: str,
                  flagged_only: bool) -> dict[tuple[str, str], list[str]]:
    flagged = ("JOIN topic_periods tp ON tp.topic_id = dt.topic_id AND tp.period = dt.period "
               "AND tp.granularity = dt.granularity AND tp.signal_class IN ('weak', 'strong') "
               if flagged_only else "")
    texts: dict[tuple[str, str], list[str]] = {}
    for period, topic, text in con.execute(
            "SELECT dt.period, dt.topic_id, d.title || chr(10) || d.text FROM doc_topics dt "
            f"JOIN documents d USING (doc_id) {flagged}"
            "WHERE dt.granularity = ? AND dt.topic_id IS NOT NULL "
            "ORDER BY dt.period, dt.topic_id, d.doc_id", [granularity]).fetchall():
        texts.setdefault((period, topic), []).append(text)
    return texts


def score_replay(history: History, ranked: RankedLists, events: Sequence[Event],
                 budgets: Sequence[int], cut_label: str,
                 term_lists: Mapping[str, RankedLists] | None = None,
                 ) -> tuple[dict[str, Any], dict[str, Any], tuple[dict[str, Any], ...]]:
    """(cut block, figures per k, per-event outcomes per k) of a replay; shared with the peer."""
    cut = Cut(cut_label, history.periods.index(cut_label))
    figures, outcomes = score_budgets(history, ranked, events, budgets, cut,
                                      term_lists=term_lists)
    scorer_sides = {e.term: _side(e, history.periods, cut) for e in events}
    rows = []
    for index, event in enumerate(events):
        rows.append({"term": event.term, "role": event.role, "series": event.series,
                     "emergence_period": event.emergence_period,
                     "set": scorer_sides[event.term],
                     "by_k": {k: _outcome(found[index]) for k, found in outcomes.items()}})
    block = {"period": cut.period, "rule": f"events emerging before {cut.period} tune, the rest "
             "check; tuning figures use only periods before the cut",
             "tuning_periods": [history.periods[0], history.periods[cut.index - 1]]
             if cut.index else [],
             "check_periods": [cut.period, history.periods[-1]],
             "tuning_events": sum(r["set"] == "tuning" for r in rows),
             "check_events": sum(r["set"] == "check" for r in rows)}
    return block, figures, tuple(rows)


def _side(event: Event, periods: Sequence[str], cut: Cut) -> str | None:
    if event.role == "negative_control":
        return "both"
    if not event.emergence_period or event.emergence_period not in periods:
        return None
    return cut.side_of(event.emergence_period, periods)


def _outcome(outcome: EventOutcome) -> dict[str, Any]:
    return {"first_flag_period": outcome.first_flag_period,
            "lead_periods": outcome.lead_periods, "item_id": outcome.item_id,
            "detected": outcome.detected}


def history_summary(history: History, ranked: RankedLists) -> dict[str, Any]:
    """Figures of the replay that do not depend on k."""
    topics = [sum(1 for i in history.items if i.period == p)
              for p in history.periods if history.period_docs.get(p, 0)]
    lists = [len(ranked.get(p, ())) for p in history.periods if history.period_docs.get(p, 0)]
    total = sum(history.period_docs.values())
    return {"topics_per_period_median": statistics.median(topics) if topics else 0,
            "ranked_per_period_median": statistics.median(lists) if lists else 0,
            "ranked_share_of_topics": _share(sum(lists), sum(topics)),
            "outlier_share": _share(history.n_outliers, total)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def run_backtest(corpus: Path, events_path: Path, granularity: str, db_path: Path | None,
                 encoder: Encoder, params: EngineParams, taxonomy: str = "v1", repeat: int = 1,
                 embeddings_cache: Path | None = None, progress: Progress | None = None,
                 budgets: Sequence[int] = BUDGETS, cut: str | None = None,
                 cache_read_only: bool = False, submit: Submitter | None = None,
                 seed_taxonomy: bool = False) -> BacktestResult:
    """Replay `corpus` `repeat` times (fresh stores after the first) and score the first run.

    `seed_taxonomy` lets the taxonomy's terms create candidate terms; off by default, since in
    a backtest no vocabulary from outside the corpus may (on only to report the difference).

    `cache_read_only`: vectors are read from `embeddings_cache` but never written back (a
    shared cache other processes read); what it lacks is embedded in the replay only.
    `submit` runs embedding and clustering on workers (`models.parallel`).
    """
    unit = check_granularity(granularity)
    budgets = parse_budget(budgets)
    params = replace(params, granularity=unit,
                     terms=replace(params.terms, seed_taxonomy=seed_taxonomy))
    version = code_version()  # the code the replay starts with, before others commit
    stopwatch = Stopwatch()
    with stopwatch.stage("load"):
        by_period = load_corpus(Path(corpus), unit)
        chosen = choose_cut(list(by_period), cut)  # a bad --cut fails before the replay
        sources = {d.source for docs in by_period.values() for d in docs}
        events, notes = load_events(Path(events_path), sources, unit, list(by_period))
    with tempfile.TemporaryDirectory(prefix="backtest-") as scratch:
        cache = embeddings_cache or Path(scratch) / "embeddings.duckdb"
        replays = [_one_run(by_period, db_path if run == 0 and db_path else
                            Path(scratch) / f"run{run}.duckdb", cache, encoder, params,
                            taxonomy, stopwatch if run == 0 else Stopwatch(), progress,
                            write_cache=not (cache_read_only and embeddings_cache),
                            submit=submit)
                   for run in range(max(repeat, 1))]
        with stopwatch.stage("evaluate"), session(db_path or Path(scratch) / "run0.duckdb",
                                              read_only=True) as con:
            term_lists, series = term_baselines(con, unit, params.terms, max(budgets))
    first = replays[0]
    history = replace(first.history, series={**first.history.series, **series})
    with stopwatch.stage("evaluate"):
        cut_block, figures, rows = score_replay(history, first.ranked, events, budgets,
                                                chosen.period, term_lists)
    summary = history_summary(first.history, first.ranked)
    summary["run_to_run_identical"] = (all(r.fingerprint() == first.fingerprint()
                                           for r in replays[1:]) if repeat > 1 else None)
    n_docs = sum(first.history.period_docs.values())
    dropped = sum(len(d) for d in by_period.values()) - n_docs
    notes += [f"{dropped} documents not stored: same id or canonical URL as an earlier one"] \
        if dropped else []
    return BacktestResult(
        corpus=Path(corpus).name, granularity=unit, system="ours", n_docs=n_docs,
        n_periods=len(by_period), params={"engine": asdict(params), "taxonomy": taxonomy},
        model=encoder.name, code_version=version, budget=tuple(budgets), cut=cut_block,
        headline=headline(figures), figures=figures, events=rows, summary=summary,
        timings={k: round(v, 3) for k, v in stopwatch.seconds.items()},
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        notes=tuple(notes), periods=period_rows(first.history, first.ranked),
    )


def _one_run(by_period: dict[str, list[Document]], db_path: Path, cache: Path,
             encoder: Encoder, params: EngineParams, taxonomy: str, stopwatch: Stopwatch,
             progress: Progress | None, write_cache: bool = True,
             submit: Submitter | None = None) -> Replay:
    hashes = [d.content_hash for docs in by_period.values() for d in docs]
    with stopwatch.stage("cache"):
        copy_cached_embeddings(db_path, cache, hashes, encoder.name)
    ctx = build_context(encoder, params, taxonomy, new_run_id("backtest"))
    result = replay(by_period, db_path, ctx, params, stopwatch, progress, submit)
    if write_cache:
        with stopwatch.stage("cache"):
            save_embeddings(db_path, cache, encoder.name)
    return result


def period_rows(history: History, ranked: RankedLists) -> tuple[dict[str, Any], ...]:
    """Per period: documents, topics, and the length of the product's ranked list."""
    topics = [i.period for i in history.items]
    return tuple({"period": p, "n_docs": history.period_docs.get(p, 0),
                  "n_topics": topics.count(p), "n_ranked": len(ranked.get(p, ()))}
                 for p in history.periods)


def write_result(result: BacktestResult, path: Path) -> None:
    """RESULT.json, UTF-8, keys in a stable order."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n",
                          encoding="utf-8")


def format_table(result: BacktestResult) -> Table:
    """Per k and side of the cut: the detector beside the baselines; then the events."""
    table = Table(title=f"{result.corpus} by {result.granularity} ({result.system}): "
                        f"{result.n_docs} documents, {result.n_periods} periods, cut "
                        f"{result.cut['period']}, {result.model}")
    names = ("k", "side", "system", "events", "within 1", "recall", "median lead",
             "controls flagged", "precision@k", "flags/period")
    for name in names:
        table.add_column(name)
    for k, sides in result.figures.items():
        for side, systems in sides.items():
            for system, f in systems.items():
                table.add_row(k, side, system, str(f["events_scored"]),
                              *(_cell(f[n]) for n in ("recall_within_1", "recall",
                                                      "median_lead_periods")),
                              f"{_cell(f['false_alarm_controls'])}/{f['controls']}",
                              _cell(f["precision_at_k"]), _cell(f["flags_per_period"]))
        table.add_section()
    k = str(result.headline["k"])
    for e in result.events:
        found = e["by_k"].get(k, {})
        lead = found.get("lead_periods")
        table.add_row(k, e["set"] or "-", e["term"], e["role"], e["emergence_period"] or "-",
                      found.get("first_flag_period") or "-",
                      "-" if lead is None else f"{lead:+d}", "", "", "")
    table.add_section()
    for key, value in [*result.summary.items(), ("peak_rss_mb", result.peak_rss_mb),
                       *((f"seconds {k}", v) for k, v in result.timings.items())]:
        table.add_row("", "", key, _cell(value), "", "", "", "", "", "")
    return table


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)

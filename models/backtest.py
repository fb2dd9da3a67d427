"""Replaying a corpus period by period through the engine and scoring what it flagged."""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rich.table import Table

from models.backtest_inputs import load_corpus, load_events
from models.embed import Encoder
from models.engine import EngineContext, EngineParams
from models.evaluate import (
    BUDGETS,
    Cut,
    Event,
    EventOutcome,
    History,
    RankedLists,
    choose_cut,
    headline,
    parse_budget,
    score_budgets,
)
from models.parallel import Submitter, process_periods
from models.process import pending_periods, process_period
from models.replay_history import Replay, read_replay
from models.runner import build_context
from models.stopwatch import Stopwatch
from models.term_baselines import term_baselines
from pipeline.db import held, session, transaction
from pipeline.embedding_cache import copy_cached_embeddings, save_embeddings
from pipeline.periods import check_granularity
from pipeline.provenance import code_version, new_run_id
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


def replay(
    corpus: dict[str, list[Document]],
    db_path: Path,
    ctx: EngineContext,
    params: EngineParams,
    stopwatch: Stopwatch,
    progress: Progress | None = None,
    submit: Submitter | None = None,
) -> Replay:
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


def _replay_backfill(
    corpus: dict[str, list[Document]],
    db_path: Path,
    ctx: EngineContext,
    params: EngineParams,
    stopwatch: Stopwatch,
    submit: Submitter,
    progress: Progress | None,
) -> Replay:
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


def score_replay(
    history: History,
    ranked: RankedLists,
    events: Sequence[Event],
    budgets: Sequence[int],
    cut_label: str,
    term_lists: Mapping[str, RankedLists] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], tuple[dict[str, Any], ...]]:
    """(cut block, figures per k, per-event outcomes per k) of a replay; shared with the peer."""
    cut = Cut(cut_label, history.periods.index(cut_label))
    figures, outcomes = score_budgets(history, ranked, events, budgets, cut, term_lists=term_lists)
    scorer_sides = {e.term: _side(e, history.periods, cut) for e in events}
    rows = []
    for index, event in enumerate(events):
        rows.append(
            {
                "term": event.term,
                "role": event.role,
                "series": event.series,
                "emergence_period": event.emergence_period,
                "set": scorer_sides[event.term],
                "by_k": {k: _outcome(found[index]) for k, found in outcomes.items()},
            }
        )
    block = {
        "period": cut.period,
        "rule": f"events emerging before {cut.period} tune, the rest "
        "check; tuning figures use only periods before the cut",
        "tuning_periods": [history.periods[0], history.periods[cut.index - 1]] if cut.index else [],
        "check_periods": [cut.period, history.periods[-1]],
        "tuning_events": sum(r["set"] == "tuning" for r in rows),
        "check_events": sum(r["set"] == "check" for r in rows),
    }
    return block, figures, tuple(rows)


def _side(event: Event, periods: Sequence[str], cut: Cut) -> str | None:
    if event.role == "negative_control":
        return "both"
    if not event.emergence_period or event.emergence_period not in periods:
        return None
    return cut.side_of(event.emergence_period, periods)


def _outcome(outcome: EventOutcome) -> dict[str, Any]:
    return {
        "first_flag_period": outcome.first_flag_period,
        "lead_periods": outcome.lead_periods,
        "item_id": outcome.item_id,
        "detected": outcome.detected,
    }


def history_summary(history: History, ranked: RankedLists) -> dict[str, Any]:
    """Figures of the replay that do not depend on k."""
    topics = [
        sum(1 for i in history.items if i.period == p)
        for p in history.periods
        if history.period_docs.get(p, 0)
    ]
    lists = [len(ranked.get(p, ())) for p in history.periods if history.period_docs.get(p, 0)]
    total = sum(history.period_docs.values())
    return {
        "topics_per_period_median": statistics.median(topics) if topics else 0,
        "ranked_per_period_median": statistics.median(lists) if lists else 0,
        "ranked_share_of_topics": _share(sum(lists), sum(topics)),
        "outlier_share": _share(history.n_outliers, total),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def run_backtest(
    corpus: Path,
    events_path: Path,
    granularity: str,
    db_path: Path | None,
    encoder: Encoder,
    params: EngineParams,
    taxonomy: str = "v1",
    repeat: int = 1,
    embeddings_cache: Path | None = None,
    progress: Progress | None = None,
    budgets: Sequence[int] = BUDGETS,
    cut: str | None = None,
    cache_read_only: bool = False,
    submit: Submitter | None = None,
    seed_taxonomy: bool = False,
) -> BacktestResult:
    """Replay `corpus` `repeat` times (fresh stores after the first) and score the first run.

    `seed_taxonomy` lets the taxonomy's terms create candidate terms; off by default, since in
    a backtest no vocabulary from outside the corpus may (on only to report the difference).

    `cache_read_only`: vectors are read from `embeddings_cache` but never written back (a
    shared cache other processes read); what it lacks is embedded in the replay only.
    `submit` runs embedding and clustering on workers (`models.parallel`).
    """
    unit = check_granularity(granularity)
    budgets = parse_budget(budgets)
    params = replace(
        params, granularity=unit, terms=replace(params.terms, seed_taxonomy=seed_taxonomy)
    )
    version = code_version()  # the code the replay starts with, before others commit
    stopwatch = Stopwatch()
    with stopwatch.stage("load"):
        by_period = load_corpus(Path(corpus), unit)
        chosen = choose_cut(list(by_period), cut)  # a bad --cut fails before the replay
        sources = {d.source for docs in by_period.values() for d in docs}
        events, notes = load_events(Path(events_path), sources, unit, list(by_period))
    with tempfile.TemporaryDirectory(prefix="backtest-") as scratch:
        cache = embeddings_cache or Path(scratch) / "embeddings.duckdb"
        replays = [
            _one_run(
                by_period,
                db_path if run == 0 and db_path else Path(scratch) / f"run{run}.duckdb",
                cache,
                encoder,
                params,
                taxonomy,
                stopwatch if run == 0 else Stopwatch(),
                progress,
                write_cache=not (cache_read_only and embeddings_cache),
                submit=submit,
            )
            for run in range(max(repeat, 1))
        ]
        with (
            stopwatch.stage("evaluate"),
            session(db_path or Path(scratch) / "run0.duckdb", read_only=True) as con,
        ):
            term_lists, series = term_baselines(con, unit, params.terms, max(budgets))
    first = replays[0]
    history = replace(first.history, series={**first.history.series, **series})
    with stopwatch.stage("evaluate"):
        cut_block, figures, rows = score_replay(
            history, first.ranked, events, budgets, chosen.period, term_lists
        )
    summary = history_summary(first.history, first.ranked)
    summary["run_to_run_identical"] = (
        all(r.fingerprint() == first.fingerprint() for r in replays[1:]) if repeat > 1 else None
    )
    n_docs = sum(first.history.period_docs.values())
    dropped = sum(len(d) for d in by_period.values()) - n_docs
    notes += (
        [f"{dropped} documents not stored: same id or canonical URL as an earlier one"]
        if dropped
        else []
    )
    return BacktestResult(
        corpus=Path(corpus).name,
        granularity=unit,
        system="ours",
        n_docs=n_docs,
        n_periods=len(by_period),
        params={"engine": asdict(params), "taxonomy": taxonomy},
        model=encoder.name,
        code_version=version,
        budget=tuple(budgets),
        cut=cut_block,
        headline=headline(figures),
        figures=figures,
        events=rows,
        summary=summary,
        timings={k: round(v, 3) for k, v in stopwatch.seconds.items()},
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        notes=tuple(notes),
        periods=period_rows(first.history, first.ranked),
    )


def _one_run(
    by_period: dict[str, list[Document]],
    db_path: Path,
    cache: Path,
    encoder: Encoder,
    params: EngineParams,
    taxonomy: str,
    stopwatch: Stopwatch,
    progress: Progress | None,
    write_cache: bool = True,
    submit: Submitter | None = None,
) -> Replay:
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
    return tuple(
        {
            "period": p,
            "n_docs": history.period_docs.get(p, 0),
            "n_topics": topics.count(p),
            "n_ranked": len(ranked.get(p, ())),
        }
        for p in history.periods
    )


def write_result(result: BacktestResult, path: Path) -> None:
    """RESULT.json, UTF-8, keys in a stable order."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def format_table(result: BacktestResult) -> Table:
    """Per k and side of the cut: the detector beside the baselines; then the events."""
    table = Table(
        title=f"{result.corpus} by {result.granularity} ({result.system}): "
        f"{result.n_docs} documents, {result.n_periods} periods, cut "
        f"{result.cut['period']}, {result.model}"
    )
    names = (
        "k",
        "side",
        "system",
        "events",
        "within 1",
        "recall",
        "median lead",
        "controls flagged",
        "precision@k",
        "flags/period",
    )
    for name in names:
        table.add_column(name)
    for k, sides in result.figures.items():
        for side, systems in sides.items():
            for system, f in systems.items():
                table.add_row(
                    k,
                    side,
                    system,
                    str(f["events_scored"]),
                    *(_cell(f[n]) for n in ("recall_within_1", "recall", "median_lead_periods")),
                    f"{_cell(f['false_alarm_controls'])}/{f['controls']}",
                    _cell(f["precision_at_k"]),
                    _cell(f["flags_per_period"]),
                )
        table.add_section()
    k = str(result.headline["k"])
    for e in result.events:
        found = e["by_k"].get(k, {})
        lead = found.get("lead_periods")
        table.add_row(
            k,
            e["set"] or "-",
            e["term"],
            e["role"],
            e["emergence_period"] or "-",
            found.get("first_flag_period") or "-",
            "-" if lead is None else f"{lead:+d}",
            "",
            "",
            "",
        )
    table.add_section()
    for key, value in [
        *result.summary.items(),
        ("peak_rss_mb", result.peak_rss_mb),
        *((f"seconds {k}", v) for k, v in result.timings.items()),
    ]:
        table.add_row("", "", key, _cell(value), "", "", "", "", "", "")
    return table


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)

"""A backtest's inputs: the corpus file by period, and the events usable against it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.evaluate import Event, parse_event, usable_granularities
from pipeline.errors import InputError
from pipeline.ingest import IngestReport, read_documents
from pipeline.periods import Granularity, Period
from pipeline.records import Document


def load_corpus(path: Path, granularity: Granularity) -> dict[str, list[Document]]:
    """The corpus's documents by period label, oldest period first (a bad line raises)."""
    by_period: dict[Period, list[Document]] = {}
    for doc in read_documents(path, skip_bad=False, report=IngestReport(path=str(path))):
        by_period.setdefault(Period.of(doc.published, granularity), []).append(doc)
    if not by_period:
        raise InputError(f"{path}: no dated documents")
    return {p.label: by_period.get(p, []) for p in min(by_period).until(max(by_period))}


def load_events(
    path: Path, sources: set[str], granularity: Granularity, periods: Sequence[str]
) -> tuple[list[Event], list[str]]:
    """Events of this corpus usable at this granularity, and notes on what was left out."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a JSON list of events")
    events = [
        parse_event(f"{path}: entry {i}", entry, granularity) for i, entry in enumerate(entries)
    ]
    ours = [(e, entry) for e, entry in zip(events, entries, strict=True) if e.corpus in sources]
    if not ours:
        raise InputError(f"{path}: no events for corpus {', '.join(sorted(sources))}")
    return select_events(ours, granularity, periods, path)


def select_events(
    ours: Sequence[tuple[Event, dict[str, Any]]],
    granularity: Granularity,
    periods: Sequence[str],
    path: Path,
) -> tuple[list[Event], list[str]]:
    """Keep the series in `granularity` (else the finest finer one, re-bucketed), in range."""
    usable = usable_granularities(granularity)
    present = {entry["period_granularity"] for _, entry in ours} & set(usable)
    if not present:
        raise InputError(f"{path}: no events at granularity {granularity} or finer for this corpus")
    chosen = granularity if granularity in present else max(present, key=usable.index)
    notes = (
        [] if chosen == granularity else [f"events given by {chosen}, re-bucketed to {granularity}"]
    )
    kept = [e for e, entry in ours if entry["period_granularity"] == chosen]
    series = _main_series(kept, chosen)
    notes += [
        f"series {s!r} skipped (a subset of the corpus)"
        for s in sorted({e.series for e in kept} - {series})
    ]
    kept = [e for e in kept if e.series == series]
    inside = [e for e in kept if e.emergence_period is None or e.emergence_period in periods]
    if not any(e.emergence_period for e in inside) and not any(
        e.role == "negative_control" for e in inside
    ):
        raise InputError(
            f"{path}: no event period falls inside the corpus's dates "
            f"({periods[0]} .. {periods[-1]})"
        )
    notes += [
        f"{e.term!r}: emergence {e.emergence_period} outside the corpus, skipped"
        for e in kept
        if e not in inside
    ]
    return inside, notes


def _main_series(events: Sequence[Event], granularity: str) -> str:
    names = sorted({e.series for e in events})
    for preferred in (granularity, f"{granularity}_all", ""):
        if preferred in names:
            return preferred
    return names[0]

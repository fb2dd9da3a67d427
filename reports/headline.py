"""The headline: what is emerging, each item said in one plain sentence with its evidence.

`ranked_items` is the one place that decides where the list comes from (the flagged items of
the product's ranked list, `pipeline.queries.ranked_signals`); everything else only words it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import duckdb

from pipeline.queries import RankedSignal, ranked_signals
from reports import queries
from reports.model import EvidenceDoc, HeadlineItem, SinceLast, TopicEntry, TrajectoryPoint
from reports.sections import text_lang

HEADLINE_ITEMS = 8
EVIDENCE = 5
# How far back "how fast" looks, in periods of each granularity: about a year, or a month of days.
LOOK_BACK = {"day": 28, "week": 13, "month": 12, "quarter": 4, "year": 1}
UNIT = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}
LANGUAGES = {"en": "English", "zh": "Chinese"}
# An item "grew" when its share rose by at least this factor since the last report.
GREW_BY = 1.2


@dataclass(frozen=True)
class Ranked:
    """One item of the period's ranked list, before it is worded."""

    item_id: str
    kind: str
    label: str
    direction: str
    track: str | None
    signal_class: str
    score: float
    n_docs: int
    share: float
    since: str
    n_sources: int | None
    langs: tuple[str, ...]
    trajectory: tuple[TrajectoryPoint, ...]
    evidence: tuple[EvidenceDoc, ...]
    anchor: str | None


def ranked_items(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    period: str,
    window: Sequence[str],
    entries: Mapping[str, TopicEntry],
    limit: int | None = None,
) -> list[Ranked]:
    """The period's emerging items, best first: the flagged items of the product's one ranked
    list (`v_signals`: topics, rising terms, fired watches)."""
    signals = [
        s
        for s in ranked_signals(con, granularity, period, flagged_only=True)
        if s.kind != "term" or is_phrase(_signal_label(s))
    ][:limit]
    others = [s.signal_id for s in signals if s.kind != "topic" or s.signal_id not in entries]
    history = queries.signal_history(con, granularity, others, window)
    wanted = [d for s in signals if s.signal_id in others for d in _doc_ids(con, s)]
    docs = queries.documents_by_id(con, wanted)
    items = []
    for signal in signals:
        entry = entries.get(signal.signal_id) if signal.kind == "topic" else None
        if entry is not None:
            items.append(
                replace(_from_topic(entry), score=signal.score, signal_class=signal.signal_class)
            )
        else:
            items.append(
                _from_signal(
                    signal,
                    history.get(signal.signal_id, {}),
                    window,
                    [docs[d] for d in _doc_ids(con, signal) if d in docs],
                    entries,
                )
            )
    return items


def _doc_ids(con: duckdb.DuckDBPyConnection, signal: RankedSignal) -> tuple[str, ...]:
    """The first evidence documents of a term or watch signal (its stored doc ids)."""
    rows = con.execute(
        "SELECT doc_ids FROM signal_periods WHERE granularity = ? AND period = ? AND signal_id = ?",
        [signal.granularity, signal.period, signal.signal_id],
    ).fetchall()
    return tuple(rows[0][0][:EVIDENCE]) if rows and rows[0][0] else ()


def _from_signal(
    signal: RankedSignal,
    seen: Mapping[str, tuple[float, int, str, str]],
    window: Sequence[str],
    evidence: Sequence[EvidenceDoc],
    entries: Mapping[str, TopicEntry],
) -> Ranked:
    now = seen.get(signal.period)
    metrics = json.loads(now[3]) if now else {}
    sources = metrics.get("sources")
    languages = metrics.get("languages") or sorted({d.lang for d in evidence})
    trajectory = tuple(
        TrajectoryPoint(p, seen[p][0], seen[p][1], seen[p][2])
        if p in seen
        else TrajectoryPoint(p, 0.0, 0, None)
        for p in window
    )
    holder = next((t for t in signal.topic_ids if t in entries), None)
    return Ranked(
        item_id=signal.signal_id,
        kind=signal.kind,
        label=_signal_label(signal),
        direction=signal.direction,
        track=signal.track,
        signal_class=signal.signal_class,
        score=signal.score,
        n_docs=signal.n_docs,
        share=signal.share,
        since=min([signal.born_period, *signal.first_seen.values()]),
        n_sources=sources if isinstance(sources, int) else None,
        langs=tuple(str(lang) for lang in languages),
        trajectory=trajectory,
        evidence=tuple(evidence),
        anchor=topic_anchor(holder) if holder else None,
    )


def _signal_label(signal: RankedSignal) -> str:
    """A term signal's longest term of the (up to three) it is labelled with, not the group
    joined with dots ("convolutional neural network · convolutional" -> the first)."""
    if signal.kind != "term":
        return signal.label
    return max(signal.label.split(" · "), key=lambda term: (len(term.split()), len(term)))


def is_phrase(label: str) -> bool:
    """Two or more words, or a Chinese compound of four or more characters: a label a reader
    can take in. A rising single common word ("cycle", "speed") is no headline."""
    return len(label.split()) >= 2 or (len(label) >= 4 and text_lang(label) == "zh-Hans")


def _from_topic(entry: TopicEntry) -> Ranked:
    return Ranked(
        item_id=entry.topic_id,
        kind="topic",
        label=entry.label,
        direction=entry.direction,
        track=entry.track,
        signal_class=entry.signal_class,
        score=entry.high_potential,
        n_docs=entry.n_docs,
        share=entry.share,
        since=entry.born_period,
        n_sources=entry.n_sources,
        langs=entry.langs,
        trajectory=entry.trajectory,
        evidence=entry.evidence,
        anchor=topic_anchor(entry.topic_id),
    )


def topic_anchor(topic_id: str) -> str:
    """The id of a topic's card in the page."""
    return "topic-" + topic_id.replace("/", "-")


def headline_items(
    items: Sequence[Ranked],
    granularity: str,
    period: str,
    direction_names: Mapping[str, str],
    track_names: Mapping[str, str],
) -> tuple[HeadlineItem, ...]:
    """Each ranked item with its sentence."""
    worded = []
    for item in items:
        direction = direction_names.get(item.direction, item.direction)
        track = track_names.get(item.track) if item.track else None
        worded.append(
            HeadlineItem(
                item_id=item.item_id,
                kind=item.kind,
                label=item.label,
                label_lang=text_lang(item.label),
                direction=item.direction,
                direction_name=direction,
                track_name=track,
                signal_class=item.signal_class,
                score=item.score,
                n_docs=item.n_docs,
                share=item.share,
                since=item.since,
                n_sources=item.n_sources,
                langs=item.langs,
                sentence=sentence(item, granularity, period, direction, track),
                trajectory=item.trajectory,
                evidence=item.evidence,
                anchor=item.anchor,
            )
        )
    return tuple(worded)


def sentence(item: Ranked, granularity: str, period: str, direction: str, track: str | None) -> str:
    """One plain sentence: where (direction and track), how fast, since when, how widely
    (the label, shown beside it, says what)."""
    where = f"{direction} ({track})" if track else direction
    unit = UNIT.get(granularity, granularity)
    parts = [
        f"A {item.signal_class} signal in {where}: {_docs(item.n_docs)} in {period}, "
        f"{_pct(item.share)} of the {unit}{_trend(item, granularity)}"
    ]
    parts.append(f"first seen in {item.since}" if item.since != period else "new this " + unit)
    reach = _reach(item.n_sources, item.langs)
    if reach:
        parts.append(reach)
    return "; ".join(parts) + "."


def _docs(n: int) -> str:
    return f"{n} document" + ("" if n == 1 else "s")


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _trend(item: Ranked, granularity: str) -> str:
    """ ", up from 2.1% in 2016-Q1 (×3.0)": against about a year back, or, when the item was
    not there yet, against the first period it was."""
    points = item.trajectory[:-1]
    if not points:
        return ""
    back = points[max(0, len(points) - LOOK_BACK.get(granularity, 4))]
    if back.share <= 0:
        present = [p for p in points if p.share > 0 and p.period >= back.period]
        if not present:
            return ""
        back = present[0]
    ratio = item.share / back.share
    if ratio >= GREW_BY:
        return f", up from {_pct(back.share)} in {back.period} (×{ratio:.1f})"
    if ratio <= 1 / GREW_BY:
        return f", down from {_pct(back.share)} in {back.period}"
    return f", about as in {back.period} ({_pct(back.share)})"


def _reach(n_sources: int | None, langs: Sequence[str]) -> str:
    names = [LANGUAGES.get(lang, lang) for lang in langs]
    languages = " and ".join(names)
    if n_sources is None:
        return f"in {languages}" if languages else ""
    sources = f"from {n_sources} source" + ("" if n_sources == 1 else "s")
    return f"{sources} in {languages}" if languages else sources


def since_last(
    previous_period: str | None, before: Sequence[Ranked], now: Sequence[Ranked]
) -> SinceLast:
    """Items of the ranked list flagged now and not in the previous period's (new), flagged in
    both with a share up by `GREW_BY` or more (grew), and flagged before but not now (faded),
    each in rank order, as labels."""
    if previous_period is None:
        return SinceLast(None, (), (), ())
    earlier = {item.item_id: item for item in before}
    later = {item.item_id for item in now}
    new = tuple(item.label for item in now if item.item_id not in earlier)
    grew = tuple(
        item.label
        for item in now
        if item.item_id in earlier and item.share >= earlier[item.item_id].share * GREW_BY
    )
    faded = tuple(item.label for item in before if item.item_id not in later)
    return SinceLast(previous_period, new, grew, faded)

"""The headline: what is emerging, each item said in one plain sentence with its evidence.

`ranked_items` is the one place that decides where the list comes from (today: the period's
flagged topics, best high-potential score first); everything else only words it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reports.model import EvidenceDoc, HeadlineItem, SinceLast, TopicEntry, TrajectoryPoint
from reports.queries import TopicRow
from reports.sections import FLAGGED, flagged, text_lang

HEADLINE_ITEMS = 8
# How far back "how fast" looks, in periods of each granularity: about a year, or a month of days.
LOOK_BACK = {"day": 28, "week": 13, "month": 12, "quarter": 4, "year": 1}
UNIT = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}
LANGUAGES = {"en": "English", "zh": "Chinese"}
# A flagged topic "grew" when its share rose by at least this factor since the last report.
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


def ranked_items(now: Sequence[TopicRow], entries: Mapping[str, TopicEntry],
                 limit: int = HEADLINE_ITEMS) -> list[Ranked]:
    """The period's emerging items, best first: its flagged topics by high-potential score."""
    return [_from_topic(entries[row.topic_id]) for row in flagged(now)[:limit]]


def _from_topic(entry: TopicEntry) -> Ranked:
    return Ranked(
        item_id=entry.topic_id, kind="topic", label=entry.label, direction=entry.direction,
        track=entry.track, signal_class=entry.signal_class, score=entry.high_potential,
        n_docs=entry.n_docs, share=entry.share, since=entry.born_period,
        n_sources=entry.n_sources, langs=entry.langs, trajectory=entry.trajectory,
        evidence=entry.evidence, anchor=topic_anchor(entry.topic_id))


def topic_anchor(topic_id: str) -> str:
    """The id of a topic's card in the page."""
    return "topic-" + topic_id.replace("/", "-")


def headline_items(items: Sequence[Ranked], granularity: str, period: str,
                   direction_names: Mapping[str, str],
                   track_names: Mapping[str, str]) -> tuple[HeadlineItem, ...]:
    """Each ranked item with its sentence."""
    worded = []
    for item in items:
        direction = direction_names.get(item.direction, item.direction)
        track = track_names.get(item.track) if item.track else None
        worded.append(HeadlineItem(
            item_id=item.item_id, kind=item.kind, label=item.label,
            label_lang=text_lang(item.label), direction=item.direction,
            direction_name=direction, track_name=track, signal_class=item.signal_class,
            score=item.score, n_docs=item.n_docs, share=item.share, since=item.since,
            n_sources=item.n_sources, langs=item.langs,
            sentence=sentence(item, granularity, period, direction, track),
            trajectory=item.trajectory, evidence=item.evidence, anchor=item.anchor))
    return tuple(worded)


def sentence(item: Ranked, granularity: str, period: str, direction: str,
             track: str | None) -> str:
    """One plain sentence: where (direction and track), how fast, since when, how widely
    (the label, shown beside it, says what)."""
    where = f"{direction} ({track})" if track else direction
    unit = UNIT.get(granularity, granularity)
    parts = [f"A {item.signal_class} signal in {where}: {_docs(item.n_docs)} in {period}, "
             f"{_pct(item.share)} of the {unit}{_trend(item, granularity)}"]
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
    """", up from 2.1% in 2016-Q1 (×3.0)": against about a year back, or, when the item was
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


def since_last(previous_period: str | None, before: Sequence[TopicRow],
               now: Sequence[TopicRow]) -> SinceLast:
    """Topics flagged now and not before (new), flagged in both with a larger share (grew), and
    flagged before but not now (faded), each best first, as labels."""
    if previous_period is None:
        return SinceLast(None, (), (), ())
    earlier = {row.topic_id: row for row in before}
    later = {row.topic_id for row in now if row.signal_class in FLAGGED}
    new, grew = [], []
    for row in flagged(now):
        old = earlier.get(row.topic_id)
        if old is None or old.signal_class not in FLAGGED:
            new.append(row.label)
        elif row.share >= old.share * GREW_BY:
            grew.append(row.label)
    faded = [row.label for row in flagged(before) if row.topic_id not in later]
    return SinceLast(previous_period, tuple(new), tuple(grew), tuple(faded))

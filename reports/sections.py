"""Pure functions from store rows to the report's sections; no I/O here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from models.directions import UNMAPPED
from models.taxonomy import DIRECTION_IDS
from reports.model import (
    ChangeKind,
    DirectionSection,
    EvidenceDoc,
    FadedTopic,
    FlagChange,
    HeatCell,
    PeriodDelta,
    TopicEntry,
    TrajectoryPoint,
)
from reports.queries import TopicRow

FLAGGED = ("weak", "strong")
SIGNAL_CLASSES = ("strong", "weak", "noise")
SECTION_ORDER = (*DIRECTION_IDS, UNMAPPED)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_RANK = {"noise": 0, "weak": 1, "strong": 2}


def text_lang(text: str) -> str:
    """BCP 47 tag for a label: Simplified Chinese when it holds any CJK ideograph."""
    return "zh-Hans" if _CJK.search(text) else "en"


def by_potential(rows: Sequence[TopicRow]) -> list[TopicRow]:
    """Highest high-potential score first; topic id breaks ties so order is stable."""
    return sorted(rows, key=lambda row: (-row.high_potential, row.topic_id))


def flagged(rows: Sequence[TopicRow]) -> list[TopicRow]:
    """Topics classed weak or strong, best first."""
    return by_potential([row for row in rows if row.signal_class in FLAGGED])


def born_in(rows: Sequence[TopicRow], period: str, limit: int) -> list[TopicRow]:
    """Topics first seen in `period`, largest first."""
    born = [row for row in rows if row.born_period == period]
    return sorted(born, key=lambda row: (-row.n_docs, row.topic_id))[:limit]


def trajectories(
    rows: Sequence[TopicRow], periods: Sequence[str]
) -> dict[str, tuple[TrajectoryPoint, ...]]:
    """Each topic's share over `periods`, with zero where it was absent."""
    seen = {(row.topic_id, row.period): row for row in rows}
    result = {}
    for topic_id in {row.topic_id for row in rows}:
        points = []
        for period in periods:
            row = seen.get((topic_id, period))
            points.append(
                TrajectoryPoint(period, row.share, row.n_docs, row.signal_class)
                if row
                else TrajectoryPoint(period, 0.0, 0, None)
            )
        result[topic_id] = tuple(points)
    return result


def _optional_float(metrics: Mapping[str, object], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) else None


def topic_entry(
    row: TopicRow, trajectory: tuple[TrajectoryPoint, ...], docs: Sequence[EvidenceDoc]
) -> TopicEntry:
    """A topic row dressed with its history and evidence."""
    sources = row.metrics.get("sources")
    langs = row.metrics.get("langs")
    return TopicEntry(
        topic_id=row.topic_id,
        label=row.label,
        label_lang=text_lang(row.label),
        keywords=row.keywords,
        direction=row.direction,
        track=row.track,
        signal_class=row.signal_class,
        high_potential=row.high_potential,
        growth=row.growth,
        popularity=row.popularity,
        n_docs=row.n_docs,
        share=row.share,
        born_period=row.born_period,
        reasons=row.reasons,
        novelty=_optional_float(row.metrics, "novelty"),
        cohesion=_optional_float(row.metrics, "cohesion"),
        n_sources=sources if isinstance(sources, int) else None,
        langs=tuple(str(lang) for lang in langs) if isinstance(langs, list) else (),
        trajectory=trajectory,
        evidence=tuple(docs),
    )


def direction_sections(
    rows: Sequence[TopicRow],
    entries: Mapping[str, TopicEntry],
    names: Mapping[str, tuple[str, str]],
    per_direction: int,
) -> tuple[DirectionSection, ...]:
    """One section per direction in taxonomy order, the unmapped bucket last."""
    sections = []
    for direction in SECTION_ORDER:
        mine = [row for row in rows if row.direction == direction]
        top = flagged(mine)[:per_direction]
        name_en, name_zh = names.get(direction, (direction, direction))
        sections.append(
            DirectionSection(
                direction=direction,
                name_en=name_en,
                name_zh=name_zh,
                n_topics=len(mine),
                n_weak=sum(row.signal_class == "weak" for row in mine),
                n_strong=sum(row.signal_class == "strong" for row in mine),
                n_docs=sum(row.n_docs for row in mine),
                topics=tuple(entries[row.topic_id] for row in top),
            )
        )
    return tuple(sections)


def faded(
    previous: Sequence[TopicRow],
    current: Sequence[TopicRow],
    paths: Mapping[str, tuple[TrajectoryPoint, ...]],
) -> tuple[FadedTopic, ...]:
    """Topics flagged last period that are noise or absent now."""
    now = {row.topic_id: row for row in current}
    gone = []
    for row in flagged(previous):
        later = now.get(row.topic_id)
        if later is None or later.signal_class not in FLAGGED:
            gone.append(
                FadedTopic(
                    topic_id=row.topic_id,
                    label=row.label,
                    label_lang=text_lang(row.label),
                    direction=row.direction,
                    previous_class=row.signal_class,
                    current_class=later.signal_class if later else None,
                    previous_high_potential=row.high_potential,
                    trajectory=paths[row.topic_id],
                )
            )
    return tuple(gone)


def _change(before: str | None, after: str | None) -> ChangeKind | None:
    was, now = _RANK.get(before or "noise", 0), _RANK.get(after or "noise", 0)
    if was == now:
        return None
    if was == 0:
        return "new_flag"
    if now == 0:
        return "dropped"
    return "upgraded" if now > was else "downgraded"


def flag_changes(
    previous: Sequence[TopicRow], current: Sequence[TopicRow]
) -> tuple[FlagChange, ...]:
    """Every topic whose signal class moved, new flags first, then by topic id."""
    before = {row.topic_id: row for row in previous}
    after = {row.topic_id: row for row in current}
    order: dict[ChangeKind, int] = {"new_flag": 0, "upgraded": 1, "downgraded": 2, "dropped": 3}
    changes = []
    for topic_id in sorted(before.keys() | after.keys()):
        old, new = before.get(topic_id), after.get(topic_id)
        kind = _change(old.signal_class if old else None, new.signal_class if new else None)
        if kind is None:
            continue
        shown = new or old
        assert shown is not None
        changes.append(
            FlagChange(
                topic_id=topic_id,
                label=shown.label,
                label_lang=text_lang(shown.label),
                direction=shown.direction,
                change=kind,
                previous_class=old.signal_class if old else None,
                current_class=new.signal_class if new else None,
            )
        )
    return tuple(sorted(changes, key=lambda c: (order[c.change], c.topic_id)))


def period_delta(
    previous_period: str | None,
    counts: tuple[int, int],
    previous_counts: tuple[int, int] | None,
    previous: Sequence[TopicRow],
    current: Sequence[TopicRow],
) -> PeriodDelta:
    """This period's documents, topics and flags beside the previous period's."""
    return PeriodDelta(
        previous_period=previous_period,
        n_docs=counts[0],
        previous_n_docs=previous_counts[0] if previous_counts else None,
        n_topics=counts[1],
        previous_n_topics=previous_counts[1] if previous_counts else None,
        n_flagged=len(flagged(current)),
        previous_n_flagged=len(flagged(previous)) if previous_period else None,
        changes=flag_changes(previous, current) if previous_period else (),
    )


def heatmap(rows: Sequence[TopicRow]) -> tuple[HeatCell, ...]:
    """Topic counts for every direction and signal class, zeros included."""
    return tuple(
        HeatCell(
            direction,
            signal,
            sum(row.direction == direction and row.signal_class == signal for row in rows),
        )
        for direction in SECTION_ORDER
        for signal in SIGNAL_CLASSES
    )

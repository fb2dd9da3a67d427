"""The typed records of a weekly report: everything a renderer shows, already computed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

SignalClass = Literal["noise", "weak", "strong"]
ChangeKind = Literal["new_flag", "upgraded", "downgraded", "dropped"]


@dataclass(frozen=True)
class TrajectoryPoint:
    """A topic's share of one period's documents (0 where the topic was not seen)."""

    period: str
    share: float
    n_docs: int
    signal_class: str | None


@dataclass(frozen=True)
class EvidenceDoc:
    """A document that shows what a topic is about, strongest membership first."""

    doc_id: str
    title: str
    source: str
    kind: str
    published: date
    url: str | None
    lang: str
    similarity: float


@dataclass(frozen=True)
class TopicEntry:
    """One topic as of the report's period, with its scores, history and evidence."""

    topic_id: str
    label: str
    label_lang: str
    keywords: tuple[str, ...]
    direction: str
    track: str | None
    signal_class: str
    high_potential: float
    growth: float
    popularity: float
    n_docs: int
    share: float
    born_period: str
    reasons: tuple[str, ...]
    novelty: float | None
    cohesion: float | None
    n_sources: int | None
    langs: tuple[str, ...]
    trajectory: tuple[TrajectoryPoint, ...]
    evidence: tuple[EvidenceDoc, ...]
    track_name: str | None = None


@dataclass(frozen=True)
class DirectionSection:
    """One future-industry direction (or the unmapped bucket) and its flagged topics."""

    direction: str
    name_en: str
    name_zh: str
    n_topics: int
    n_weak: int
    n_strong: int
    n_docs: int
    topics: tuple[TopicEntry, ...]
    items: tuple[HeadlineItem, ...] = ()  # the direction's flagged items of the ranked list


@dataclass(frozen=True)
class FadedTopic:
    """A topic flagged in the previous period that is now noise or gone."""

    topic_id: str
    label: str
    label_lang: str
    direction: str
    previous_class: str
    current_class: str | None
    previous_high_potential: float
    trajectory: tuple[TrajectoryPoint, ...]


@dataclass(frozen=True)
class FlagChange:
    """A topic whose signal class moved between the previous period and this one."""

    topic_id: str
    label: str
    label_lang: str
    direction: str
    change: ChangeKind
    previous_class: str | None
    current_class: str | None


@dataclass(frozen=True)
class PeriodDelta:
    """Headline counts of this period beside the previous one's."""

    previous_period: str | None
    n_docs: int
    previous_n_docs: int | None
    n_topics: int
    previous_n_topics: int | None
    n_flagged: int
    previous_n_flagged: int | None
    changes: tuple[FlagChange, ...]


@dataclass(frozen=True)
class HeatCell:
    """How many topics of one direction fall in one signal class this period."""

    direction: str
    signal_class: str
    n_topics: int


@dataclass(frozen=True)
class SourceCount:
    """How many of the period's documents came from one source."""

    source: str
    kind: str
    n_docs: int


@dataclass(frozen=True)
class RunRow:
    """One recent row of the `runs` table."""

    run_id: str
    kind: str
    status: str
    started: datetime
    finished: datetime | None
    model: str | None
    counts: str
    error: str | None


@dataclass(frozen=True)
class CrawlRow:
    """One source's line of the latest crawl runs."""

    run_id: str
    source_id: str
    started: datetime
    requests: int
    items_stored: int
    items_dropped: int
    errors: tuple[str, ...]


@dataclass(frozen=True)
class RunHealth:
    """Whether the pipeline that fed this report ran cleanly."""

    process_run_id: str
    model: str
    processed_at: datetime
    n_docs: int
    n_outliers: int
    documents_total: int
    sources_crawled: int
    documents_added: int
    n_errors: int
    runs: tuple[RunRow, ...]
    crawls: tuple[CrawlRow, ...]
    # Periods the processing run did again (late documents), e.g. "2024-W18: late documents,
    # 310 → 342 documents"; see models/plan.py.
    revisions: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchEntry:
    """An analyst's watch phrase in the period: its matches, scores and trajectory."""

    watch_id: str
    phrase: str
    n_docs: int
    share: float
    growth: float | None
    high_potential: float | None
    signal_class: str
    reasons: tuple[str, ...]
    trajectory: tuple[TrajectoryPoint, ...]


@dataclass(frozen=True)
class HeadlineItem:
    """One thing that is emerging, said in one plain sentence, with its evidence."""

    item_id: str
    kind: str  # "topic" (a cluster of documents) or "term" (a rising phrase)
    label: str
    label_lang: str
    direction: str
    direction_name: str
    track_name: str | None
    signal_class: str
    score: float
    n_docs: int
    share: float
    since: str
    n_sources: int | None
    langs: tuple[str, ...]
    sentence: str
    trajectory: tuple[TrajectoryPoint, ...]
    evidence: tuple[EvidenceDoc, ...]
    anchor: str | None  # the id of its card in the page, when it has one


@dataclass(frozen=True)
class SinceLast:
    """What moved since the previous report: flagged for the first time, grew, faded."""

    previous_period: str | None
    new: tuple[str, ...]
    grew: tuple[str, ...]
    faded: tuple[str, ...]


@dataclass(frozen=True)
class WeeklyReport:
    """The whole report for one period at one granularity."""

    title: str
    granularity: str
    period: str
    period_start: date
    history: tuple[str, ...]
    taxonomy_version: str | None
    headline: tuple[TopicEntry, ...]
    directions: tuple[DirectionSection, ...]
    new_topics: tuple[TopicEntry, ...]
    faded: tuple[FadedTopic, ...]
    delta: PeriodDelta
    heatmap: tuple[HeatCell, ...]
    source_mix: tuple[SourceCount, ...]
    health: RunHealth
    watches: tuple[WatchEntry, ...] = ()
    items: tuple[HeadlineItem, ...] = ()
    since_last: SinceLast = SinceLast(None, (), (), ())

"""Rich tables for `observatory topics` and `observatory topic ID`."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Group
from rich.table import Column, Table
from rich.text import Text

from observatory.output import cell_text
from pipeline.queries import TopicDetail, TopicSummary


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


_WRAPPED = frozenset({"label", "keywords", "reasons", "title", "url"})


def _table(title: str, *columns: str) -> Table:
    # Ids, periods and numbers stay on one line; only text columns give up width.
    return Table(
        *(
            Column(name, no_wrap=name not in _WRAPPED, min_width=16 if name in _WRAPPED else None)
            for name in columns
        ),
        title=title,
        title_justify="left",
    )


def _row(table: Table, *cells: object) -> None:
    table.add_row(*(Text(cell_text(cell)) for cell in cells))


def topics_table(rows: Sequence[TopicSummary], title: str) -> Table:
    """One line per topic: id, label (its top keywords), direction, class, score, size."""
    table = _table(title, "topic", "label", "direction", "class", "score", "docs", "share")
    for row in rows:
        # The track's name (EN and ZH) under its direction id, so no raw track id is shown.
        direction = (
            "\n".join([row.direction, *textwrap.wrap(row.track, 24)])
            if row.track
            else row.direction
        )
        _row(
            table,
            row.topic_id,
            row.label,
            direction,
            row.signal_class,
            _number(row.high_potential),
            row.n_docs,
            f"{row.share:.1%}",
        )
    return table


def _scores_table(detail: TopicDetail) -> Table:
    table = _table(
        "scores by period",
        "period",
        "class",
        "score",
        "growth",
        "popularity",
        "docs",
        "share",
        "reasons",
    )
    for score in detail.scores:
        _row(
            table,
            score.period,
            score.signal_class,
            _number(score.high_potential),
            _number(score.growth),
            _number(score.popularity, 1),
            score.n_docs,
            f"{score.share:.1%}",
            "\n".join(score.reasons),
        )
    return table


def _lineage_table(detail: TopicDetail) -> Table:
    table = _table("lineage", "period", "topic", "event", "parent", "similarity", "cluster")
    for event in detail.lineage:
        _row(
            table,
            event.period,
            event.topic_id,
            event.event,
            event.parent_topic_id or "-",
            _number(event.similarity),
            event.cluster,
        )
    return table


def _directions_table(detail: TopicDetail) -> Table:
    period = detail.directions[0].period if detail.directions else "-"
    table = _table(
        f"directions in {period}", "direction", "track", "weight", "similarity", "primary"
    )
    for weight in detail.directions:
        _row(
            table,
            weight.direction,
            weight.track or "-",
            _number(weight.weight),
            _number(weight.similarity),
            "yes" if weight.is_primary else "",
        )
    return table


def _evidence_table(detail: TopicDetail) -> Table:
    table = _table("evidence", "published", "source", "title", "similarity", "url")
    for doc in detail.evidence:
        _row(table, doc.published, doc.source, doc.title, _number(doc.similarity), doc.url or "-")
    return table


def topic_view(detail: TopicDetail) -> Group:
    """Header, scores with reasons, lineage, directions and evidence of one topic."""
    topic = detail.topic
    header = Text.assemble(
        (topic.topic_id, "bold"),
        f"  {topic.label}\n",
        f"born {topic.born_period}, last seen {topic.last_period} ({topic.granularity})\n",
        f"keywords: {', '.join(topic.keywords)}",
    )
    return Group(
        header,
        _scores_table(detail),
        _lineage_table(detail),
        _directions_table(detail),
        _evidence_table(detail),
    )

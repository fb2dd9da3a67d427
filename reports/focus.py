"""The focused report on one phrase: its volume by kind, the topics around it, the evidence."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from markupsafe import Markup
from matplotlib import rc_context
from matplotlib.figure import Figure

from models.watch import phrase_stems
from pipeline.db import session
from pipeline.periods import Granularity, period_of, period_range
from pipeline.watch_store import watch_id_of
from reports.charts import KIND_COLOURS, MUTED, figure_svg, font_families
from reports.render import environment, report_json

EVIDENCE_LIMIT = 40
TOPIC_LIMIT = 15
KIND_ORDER = ("paper", "patent", "news", "policy")


@dataclass(frozen=True)
class VolumeRow:
    """Matching documents in one period, one count per kind in `FocusReport.kinds` order."""

    period: str
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class WatchPoint:
    """The watch's scores in one processed period."""

    period: str
    n_docs: int
    share: float
    growth: float | None
    high_potential: float | None
    signal_class: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FocusTopic:
    """A topic holding matching documents, with its latest scores."""

    topic_id: str
    label: str
    keywords: tuple[str, ...]
    period: str
    n_matching: int
    n_docs: int
    signal_class: str
    high_potential: float | None
    growth: float | None
    popularity: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FocusEvidence:
    """A matching document, and whether the search API or the phrase itself matched it."""

    doc_id: str
    title: str
    url: str | None
    source: str
    kind: str
    lang: str
    published: date
    matched_by: str


@dataclass(frozen=True)
class FocusReport:
    """Everything the focused report shows; templates only lay it out."""

    phrase: str
    watch_id: str
    granularity: str
    since: date
    generated: datetime
    n_documents: int
    kinds: tuple[str, ...]
    kind_totals: tuple[int, ...]
    volume: tuple[VolumeRow, ...]
    watch: tuple[WatchPoint, ...]
    topics: tuple[FocusTopic, ...]
    evidence: tuple[FocusEvidence, ...]


@dataclass(frozen=True)
class FocusPaths:
    """Where the three renderings of a focused report were written."""

    markdown: Path
    html: Path
    json: Path


def _lexical_sql(stems: Sequence[str]) -> str:
    checks = ["strpos(lower(title || ' ' || text), ?) > 0" for _ in stems]
    return "(" + " AND ".join(checks) + ")" if checks else "FALSE"


def _matched_by(row: tuple[Any, ...], keys: Mapping[str, str]) -> str:
    source, query, feed, lexical = row[1], row[7], row[8], row[9]
    key = keys.get(source)
    searched = key is not None and (query == key or (feed is not None and key in feed))
    return ", ".join(name for name, hit in (("search", searched), ("phrase", lexical)) if hit)


def matching_documents(
    con: duckdb.DuckDBPyConnection, phrase: str, since: date, keys: Mapping[str, str]
) -> list[FocusEvidence]:
    """Documents since `since` that a scan source's query found or that contain the phrase."""
    stems = list(phrase_stems(phrase))
    lexical = _lexical_sql(stems)
    rows = con.execute(
        "SELECT doc_id, source, kind, title, url, lang, published, "
        "json_extract_string(meta, '$.query'), json_extract_string(meta, '$.feed'), "
        f"{lexical} FROM documents WHERE published >= ? AND (source IN (SELECT unnest(?)) "
        f"OR {lexical}) ORDER BY published DESC, doc_id",
        [*stems, since, list(keys), *stems],
    ).fetchall()
    found = [(row, _matched_by(row, keys)) for row in rows]
    return [
        FocusEvidence(row[0], row[3], row[4], row[1], row[2], row[5], row[6], how)
        for row, how in found
        if how
    ]


def _volume(
    docs: Sequence[FocusEvidence], granularity: Granularity, kinds: Sequence[str]
) -> list[VolumeRow]:
    if not docs:
        return []
    counts = Counter((period_of(d.published, granularity), d.kind) for d in docs)
    first, last = (period_of(d.published, granularity) for d in (docs[-1], docs[0]))
    rows = []
    for period in period_range(first, last):
        per_kind = tuple(counts.get((period, kind), 0) for kind in kinds)
        rows.append(VolumeRow(period, per_kind, sum(per_kind)))
    return rows


def _watch(
    con: duckdb.DuckDBPyConnection, watch_id: str, granularity: Granularity, since: date
) -> list[WatchPoint]:
    rows = con.execute(
        "SELECT period, n_docs, share, growth, high_potential, signal_class, reasons "
        "FROM watch_periods WHERE watch_id = ? AND granularity = ? AND period >= ? AND n_docs > 0 "
        "ORDER BY period",
        [watch_id, granularity, period_of(since, granularity)],
    ).fetchall()
    return [
        WatchPoint(p, int(n), float(s), g, h, c, tuple(r or ())) for p, n, s, g, h, c, r in rows
    ]


def _topics(
    con: duckdb.DuckDBPyConnection, doc_ids: Sequence[str], granularity: str
) -> list[FocusTopic]:
    rows = con.execute(
        "WITH hits AS (SELECT topic_id, count(*) AS n FROM doc_topics WHERE granularity = ? "
        "AND topic_id IS NOT NULL AND doc_id IN (SELECT unnest(?)) GROUP BY topic_id) "
        "SELECT tp.topic_id, tp.label, tp.keywords, tp.period, hits.n, tp.n_docs, "
        "tp.signal_class, tp.high_potential, tp.growth, tp.popularity, tp.reasons "
        "FROM topic_periods tp JOIN hits USING (topic_id) WHERE tp.granularity = ? "
        "QUALIFY row_number() OVER (PARTITION BY tp.topic_id ORDER BY tp.period DESC) = 1 "
        "ORDER BY hits.n DESC, tp.high_potential DESC NULLS LAST, tp.topic_id LIMIT ?",
        [granularity, list(doc_ids), granularity, TOPIC_LIMIT],
    ).fetchall()
    return [
        FocusTopic(t, label, tuple(kw or ()), p, int(n), int(total), c, h, g, pop, tuple(r or ()))
        for t, label, kw, p, n, total, c, h, g, pop, r in rows
    ]


def build_focus(
    con: duckdb.DuckDBPyConnection,
    phrase: str,
    granularity: Granularity,
    since: date,
    keys: Mapping[str, str],
) -> FocusReport:
    """The focused report from store rows; `keys` maps scan source ids to their query keys."""
    docs = matching_documents(con, phrase, since, keys)
    by_kind = Counter(d.kind for d in docs)
    kinds = tuple(k for k in KIND_ORDER if by_kind[k]) or ("paper", "patent", "news")
    watch_id = watch_id_of(phrase)
    return FocusReport(
        phrase=phrase,
        watch_id=watch_id,
        granularity=granularity,
        since=since,
        generated=datetime.now().replace(microsecond=0),
        n_documents=len(docs),
        kinds=kinds,
        kind_totals=tuple(by_kind[k] for k in kinds),
        volume=tuple(_volume(docs, granularity, kinds)),
        watch=tuple(_watch(con, watch_id, granularity, since)),
        topics=tuple(_topics(con, [d.doc_id for d in docs], granularity)),
        evidence=tuple(docs[:EVIDENCE_LIMIT]),
    )


def volume_svg(report: FocusReport) -> str:
    """Stacked bars of matching documents per period, coloured by kind, as inline SVG."""
    rc: Any = {
        "svg.hashsalt": "observatory-focus",
        "svg.fonttype": "none",
        "font.family": list(font_families()),
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with rc_context(rc):
        fig = Figure(figsize=(8.6, 2.8))
        ax = fig.add_subplot()
        periods = [row.period for row in report.volume]
        bottom = [0] * len(periods)
        for index, kind in enumerate(report.kinds):
            heights = [row.counts[index] for row in report.volume]
            ax.bar(
                periods,
                heights,
                bottom=bottom,
                label=kind,
                color=KIND_COLOURS.get(kind, MUTED),
                width=0.8,
            )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        if not periods:
            ax.axis("off")
            ax.text(
                0.5, 0.5, "No matching documents", ha="center", color=MUTED, transform=ax.transAxes
            )
        else:
            ax.set_ylabel("matching documents")
            ax.tick_params(axis="x", labelrotation=60, labelsize=7)
            ax.legend(loc="upper left", frameon=False, fontsize=8)
    return figure_svg(fig, "focus", "Volume by kind")


def render_focus_markdown(report: FocusReport) -> str:
    """The focused report as GitHub-flavoured Markdown."""
    return environment(False).get_template("focus.md.j2").render(report=report)


def render_focus_html(report: FocusReport) -> str:
    """One self-contained page: inline CSS and SVG, no scripts or remote assets."""
    return (
        environment(True)
        .get_template("focus.html.j2")
        .render(report=report, volume_chart=Markup(volume_svg(report)))
    )


def render_focus_json(report: FocusReport) -> str:
    """The report's records as JSON (dates in ISO 8601)."""
    return report_json(report)


def focus_stem(phrase: str, granularity: str) -> str:
    """`focus-solid-state-batteries-week`; phrases without ASCII words use the watch id."""
    slug = re.sub(r"[^a-z0-9]+", "-", phrase.lower()).strip("-")[:60]
    return f"focus-{slug or watch_id_of(phrase)}-{granularity}"


def write_focus(
    db_path: Path,
    out_dir: Path,
    phrase: str,
    granularity: Granularity,
    since: date,
    keys: Mapping[str, str],
) -> FocusPaths:
    """Build the focused report from a read-only connection, then write its three renderings."""
    with session(db_path, read_only=True) as con:
        report = build_focus(con, phrase, granularity, since, keys)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = focus_stem(phrase, granularity)
    paths = FocusPaths(out_dir / f"{stem}.md", out_dir / f"{stem}.html", out_dir / f"{stem}.json")
    paths.markdown.write_text(render_focus_markdown(report), encoding="utf-8")
    paths.html.write_text(render_focus_html(report), encoding="utf-8")
    paths.json.write_text(render_focus_json(report), encoding="utf-8")
    return paths

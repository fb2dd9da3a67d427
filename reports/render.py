"""Turning a built `WeeklyReport` into Markdown, JSON and a self-contained HTML page."""

from __future__ import annotations

import json
import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from pydantic_core import to_jsonable_python

from reports import charts
from reports.model import DirectionSection, WeeklyReport
from reports.sections import text_lang

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def md_escape(value: object) -> str:
    """Backslash-escape Markdown punctuation and flatten newlines, so text stays text."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def percent(value: float, digits: int = 1) -> str:
    """A share in [0, 1] written as a percentage."""
    return f"{value * 100:.{digits}f}%"


def score(value: float | None) -> str:
    """A score with two decimals, or a dash when unknown."""
    return "–" if value is None else f"{value:.2f}"


def signed(value: int | None, previous: int | None) -> str:
    """The change between two counts, with its sign, or empty when there is nothing before."""
    return "" if value is None or previous is None else f"{value - previous:+d}"


def bcp47(lang: str) -> str:
    """The page's language tag for a stored language code (Chinese is shown simplified)."""
    return "zh-Hans" if lang.lower() in ("zh", "zh-cn", "zh-hans") else lang


@cache
def environment(autoescape: bool) -> Environment:
    """The reports' Jinja environment (weekly and focused): templates, filters, strict."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, pct=percent, score=score, text_lang=text_lang, bcp47=bcp47)
    env.globals.update(signed=signed)
    return env


def render_markdown(report: WeeklyReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    return environment(False).get_template("report.md.j2").render(report=report)


def report_json(report: object) -> str:
    """A report's records as JSON (dates in ISO 8601, text kept as UTF-8)."""
    return json.dumps(to_jsonable_python(report), ensure_ascii=False, indent=2) + "\n"


def render_json(report: WeeklyReport) -> str:
    """The report's records as JSON (dates in ISO 8601, text kept as UTF-8)."""
    return report_json(report)


def _direction_names(sections: tuple[DirectionSection, ...]) -> dict[str, str]:
    return {s.direction: f"{s.name_en} {s.name_zh}" for s in sections}


def _charts(report: WeeklyReport) -> dict[str, Markup]:
    drawn = {
        "headline": charts.trajectory_svg(
            report.headline, "headline", "Trajectories of the headline topics"
        ),
        "heatmap": charts.heatmap_svg(report.heatmap, _direction_names(report.directions)),
        "sources": charts.source_mix_svg(report.source_mix),
    }
    for section in report.directions:
        if section.topics:
            drawn[f"direction-{section.direction}"] = charts.trajectory_svg(
                section.topics, section.direction, f"Trajectories: {section.name_en}", (7.0, 2.4)
            )
    return {key: Markup(svg) for key, svg in drawn.items()}


def render_html(report: WeeklyReport) -> str:
    """One self-contained page: inline CSS, inline SVG charts, no scripts or remote assets."""
    template = environment(True).get_template("report.html.j2")
    sparks = {
        topic.topic_id: Markup(charts.sparkline_svg(topic.trajectory))
        for topic in (
            *report.headline,
            *report.new_topics,
            *(t for s in report.directions for t in s.topics),
        )
    }
    sparks.update({f.topic_id: Markup(charts.sparkline_svg(f.trajectory)) for f in report.faded})
    sparks.update({w.watch_id: Markup(charts.sparkline_svg(w.trajectory)) for w in report.watches})
    sparks.update(
        {
            f"item:{i.item_id}": Markup(charts.sparkline_svg(i.trajectory))
            for i in (*report.items, *(i for s in report.directions for i in s.items))
        }
    )
    return template.render(
        report=report,
        charts=_charts(report),
        sparks=sparks,
        names=_direction_names(report.directions),
    )

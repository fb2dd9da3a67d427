"""Rendering: every section in every format, Chinese intact, user text escaped."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import asdict, replace
from datetime import date

from reports.model import EvidenceDoc, WeeklyReport
from reports.render import md_escape, render_html, render_json, render_markdown

EVIL = '<script>alert("x")</script> & [link](javascript:1) | *bold*'
SECTION_IDS = ("headline", "overview", "new-topics", "faded", "changes", "health")


def _evil(report: WeeklyReport) -> WeeklyReport:
    """The report with hostile text in a topic label, a document title, a source and a URL."""
    doc = EvidenceDoc(
        "evil:1",
        EVIL,
        "evil <src>",
        "news",
        date(2024, 5, 2),
        'https://example.org/?q="><script>x</script>',
        "en",
        0.9,
    )
    sections = tuple(
        replace(s, topics=tuple(replace(t, label=EVIL, evidence=(doc,)) for t in s.topics))
        for s in report.directions
    )
    return replace(
        report,
        directions=sections,
        headline=tuple(replace(t, label=EVIL) for t in report.headline),
        items=tuple(replace(i, label=EVIL, sentence=EVIL, evidence=(doc,)) for i in report.items),
    )


def test_html_has_every_section_and_chart(report: WeeklyReport) -> None:
    page = render_html(report)
    for section_id in SECTION_IDS:
        assert f'id="{section_id}"' in page
    for section in report.directions:
        assert f'id="direction-{section.direction}"' in page
    for chart in ("trajectories", "heatmap", "sources"):
        assert re.search(rf'data-chart="{chart}">\s*<svg', page)
    assert "<script" not in page and "http://" not in page.split("<body>")[0]


def test_html_keeps_chinese_and_tags_its_language(report: WeeklyReport) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert '<span class="zh" lang="zh-Hans">未来健康</span>' in page
    chinese = next(t for s in report.directions for t in s.topics if t.label_lang == "zh-Hans")
    assert f'<span lang="zh-Hans">{chinese.label}</span>' in page
    assert "Noto Sans CJK SC" in page


def test_html_escapes_user_text(report: WeeklyReport) -> None:
    page = render_html(_evil(report))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in page
    assert 'href="https://example.org/?q=&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in page
    assert "evil &lt;src&gt;" in page


def test_markdown_has_sections_and_chinese(report: WeeklyReport) -> None:
    text = render_markdown(report)
    for heading in (
        "## What is emerging in 2024-05",
        "### Since the last report (2024-04)",
        "## Directions",
        "## Newly born topics",
        "## Faded topics",
        "## What changed since 2024-04",
        "## Source mix",
        "## Run health",
    ):
        assert heading in text
    for section in report.directions:
        heading = f"{md_escape(section.name_en)} · {section.name_zh}"
        busy = section.topics or section.items
        assert (f"### {heading}" if busy else f"- **{heading}**: nothing") in text
    assert "未来健康" in text and "超时" in text


def test_markdown_escapes_user_text(report: WeeklyReport) -> None:
    text = render_markdown(_evil(report))
    assert "<script>" not in text and "[link](javascript" not in text
    assert r"\<script\>" in text and r"\| \*bold\*" in text


def test_json_round_trips(report: WeeklyReport) -> None:
    loaded = json.loads(render_json(report))
    expected = json.loads(json.dumps(asdict(report), default=str))
    assert loaded["period"] == "2024-05"
    assert loaded["headline"][0]["trajectory"][0]["period"] == "2024-01"
    assert json.dumps(loaded, sort_keys=True) == json.dumps(
        {
            **expected,
            "period_start": "2024-05-01",
            "health": {**expected["health"], **_iso_times(report)},
        },
        sort_keys=True,
    )
    assert "未来健康" in render_json(report)


def _iso_times(report: WeeklyReport) -> dict[str, object]:
    runs = [
        {
            **asdict(run),
            "started": run.started.isoformat(),
            "finished": run.finished.isoformat() if run.finished else None,
        }
        for run in report.health.runs
    ]
    crawls = [
        {**asdict(c), "started": c.started.isoformat(), "errors": list(c.errors)}
        for c in report.health.crawls
    ]
    return {"processed_at": report.health.processed_at.isoformat(), "runs": runs, "crawls": crawls}


def test_rendering_is_deterministic(report: WeeklyReport) -> None:
    page = render_html(report)
    assert page == render_html(report)
    assert "<dc:date>" not in page
    assert render_markdown(report) == render_markdown(report)


def test_headline_items_are_sentences_with_evidence_links(report: WeeklyReport) -> None:
    page = render_html(report)
    headline = page.split('id="headline"')[1].split("</section>")[0]
    assert headline.count('<li class="item">') == len(report.items) > 0
    for item in report.items:
        assert item.sentence in headline.replace("&#39;", "'")
        assert f'href="#{item.anchor}"' in headline
        assert f'id="{item.anchor}"' in page  # the card it points to
    assert 'href="https://example.org/' in headline
    assert "Since the last report (2024-04)" in headline


def test_a_direction_with_nothing_emerging_is_one_line(report: WeeklyReport) -> None:
    page = render_html(report)
    quiet = [s for s in report.directions if not s.topics and not s.items]
    assert quiet
    for section in quiet:
        block = page.split(f'id="direction-{section.direction}"')[1].split("</section>")[0]
        assert "<h2>" not in block and block.count("<p") == 1
        assert f"nothing emerging in {report.period}" in block


def test_rendering_chinese_charts_warns_about_no_missing_glyph(report: WeeklyReport) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        render_html(report)

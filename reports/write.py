"""Writing a period's report to disk as Markdown, HTML and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.db import session
from reports.build import build_report
from reports.render import render_html, render_json, render_markdown


@dataclass(frozen=True)
class ReportPaths:
    """Where the three renderings of one report were written."""

    markdown: Path
    html: Path
    json: Path


def write_report(db_path: Path, out_dir: Path, granularity: str,
                 period: str | None = None) -> ReportPaths:
    """Build the report from a read-only connection held only while reading, then render it."""
    with session(db_path, read_only=True) as con:
        report = build_report(con, granularity, period)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report-{report.granularity}-{report.period}"
    paths = ReportPaths(out_dir / f"{stem}.md", out_dir / f"{stem}.html", out_dir / f"{stem}.json")
    paths.markdown.write_text(render_markdown(report), encoding="utf-8")
    paths.html.write_text(render_html(report), encoding="utf-8")
    paths.json.write_text(render_json(report), encoding="utf-8")
    return paths

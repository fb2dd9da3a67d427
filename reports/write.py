"""Writing a period's report to disk as Markdown, HTML and JSON."""

from __future__ import annotations

import os
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


def write_report(
    db_path: Path, out_dir: Path, granularity: str, period: str | None = None
) -> ReportPaths:
    """Build the report from a read-only connection held only while reading, then render it."""
    with session(db_path, read_only=True) as con:
        report = build_report(con, granularity, period)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report-{report.granularity}-{report.period}"
    paths = ReportPaths(out_dir / f"{stem}.md", out_dir / f"{stem}.html", out_dir / f"{stem}.json")
    for leftover in out_dir.glob(f".{stem}.*.tmp"):  # from a writer killed half way
        leftover.unlink(missing_ok=True)
    write_atomic(paths.markdown, render_markdown(report))
    write_atomic(paths.html, render_html(report))
    write_atomic(paths.json, render_json(report))
    return paths


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename: readers see the old file or the whole new one."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)

"""The scheduled job: crawl the configured sources, process new periods, write the report.

Each step's expected failure (a source down, a bad file, a damaged database, nothing to report
yet) is caught and kept as one line in `WeeklyRun.problems`, so the run always ends with a
summary; the next step runs when it can do useful work without the failed one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from prefect import get_run_logger

from crawlers.run import CrawlSummary
from flows.tasks import RunSettings, crawl_task, ingest_task, process_task, report_task
from models.engine import EngineParams
from models.runner import ProcessRun
from pipeline.errors import ObservatoryError, SchemaError
from pipeline.ingest import IngestReport
from reports.write import ReportPaths

_T = TypeVar("_T")


@dataclass(frozen=True)
class WeeklyRun:
    """What the weekly job did, and one line per step that failed."""

    crawl: CrawlSummary | None
    ingested: tuple[IngestReport, ...]
    processed: ProcessRun | None
    report: ReportPaths | None
    problems: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """A step failed, or the crawl brought nothing because every source failed."""
        return bool(self.problems) or bool(self.crawl and self.crawl.all_failed)

    def summary_lines(self) -> list[str]:
        """The closing summary: crawl, files, periods, report, problems."""
        lines = [self.crawl.closing_line()] if self.crawl else []
        lines += [
            f"{r.path}: {r.read} read, {r.added} added, {r.already_stored} already "
            f"stored, {r.skipped} skipped"
            for r in self.ingested
        ]
        if self.processed is not None:
            lines.append(
                f"process {self.processed.run_id}: {len(self.processed.periods)} "
                f"periods processed ({self.processed.granularity})"
            )
        lines.append(f"report: {self.report.html}" if self.report else "report: none written")
        if self.crawl and self.crawl.all_failed:
            lines.append(
                "every source failed: " + ", ".join(s.source_id for s in self.crawl.failed)
            )
        lines += self.problems
        return lines


class _NoTracebackForExpected(logging.Filter):
    """Prefect logs a failed task with its traceback; for a user's error (an ObservatoryError)
    or Ctrl-C the one-line message is enough, and the weekly summary says it again."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ObservatoryError | KeyboardInterrupt):
            record.exc_info, record.exc_text = None, None
        return True


def quiet_expected_tracebacks() -> None:
    """Install the filter on Prefect's run loggers (idempotent; each run calls it)."""
    for name in (
        "prefect.task_runs",
        "prefect.flow_runs",
        "prefect.task_engine",
        "prefect.flow_engine",
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoTracebackForExpected) for f in logger.filters):
            logger.addFilter(_NoTracebackForExpected())


def _step(
    problems: list[str], name: str, call: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T | None:
    try:
        return call(*args, **kwargs)
    except SchemaError:
        raise  # a damaged or unusable database: no later step can work either
    except ObservatoryError as error:
        problems.append(f"{name}: {error}")
        return None


def run_weekly(
    settings: RunSettings,
    params: EngineParams,
    source_ids: list[str] | None = None,
    files: list[str] | None = None,
    crawl: bool = True,
    progress: bool = False,
) -> WeeklyRun:
    """Crawl, ingest any extra files, process pending periods, and report the latest one.

    Called inside the weekly flow (`observatory.weekly`), which composes the settings when the
    run starts. `progress` prints a line per source as the crawl goes (for the CLI).
    """
    quiet_expected_tracebacks()
    problems: list[str] = []
    crawled = (
        _step(
            problems,
            "crawl",
            crawl_task,
            settings.db,
            settings.crawl,
            source_ids,
            show_progress=progress,
        )
        if crawl
        else None
    )
    ingested = tuple(
        done
        for path in files or []
        if (done := _step(problems, f"ingest {path}", ingest_task, settings.db, Path(path), False))
        is not None
    )
    processed = _step(
        problems,
        "process",
        process_task,
        settings.db,
        params,
        settings.encoder,
        settings.encoder_threads,
        settings.taxonomy,
    )
    report = _step(
        problems, "report", report_task, settings.db, settings.reports_dir, params.granularity
    )
    run = WeeklyRun(crawled, ingested, processed, report, tuple(problems))
    if run.failed and not progress:
        # A scheduled run has no terminal: its problems go to the flow run's log (Prefect UI).
        logger = get_run_logger()
        for line in run.summary_lines():
            logger.warning(line)
    return run

"""Prefect tasks: I/O steps get retries, the engine runs as plain functions inside them.

Importing this imports Prefect: call `flows.prefect_env.configure()` first (the CLI does).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from prefect import task

from crawlers.params import CrawlParams
from crawlers.run import CrawlSummary, SourceCrawl, run_crawl
from models.embed import build_encoder
from models.engine import EngineParams
from models.runner import ProcessRun, process_pending
from pipeline.db import write_step
from pipeline.errors import ObservatoryError, SourceError
from pipeline.ingest import IngestReport, ingest_file
from reports.write import ReportPaths, write_report


class RunSettings(Protocol):
    """What a flow reads of the settings the command line composes (`observatory.settings`),
    named here so that flows never import the layer above them."""

    @property
    def db(self) -> Path: ...
    @property
    def reports_dir(self) -> Path: ...
    @property
    def encoder(self) -> str: ...
    @property
    def encoder_threads(self) -> int: ...
    @property
    def taxonomy(self) -> str: ...
    @property
    def crawl(self) -> CrawlParams: ...


@task(name="ingest-file")
def ingest_task(db_path: Path, path: Path, skip_bad: bool) -> IngestReport:
    with write_step(db_path) as con:
        return ingest_file(con, path, skip_bad=skip_bad)


def _retry_unless_users_error(task: Any, task_run: Any, state: Any) -> bool:
    # A bad argument or a damaged database stays bad: retrying only delays the message.
    try:
        state.result()
    except ObservatoryError as error:
        return isinstance(error, SourceError)
    except Exception:
        return True
    return False


def _print_source(source: SourceCrawl) -> None:
    print(source.line(), file=sys.stderr, flush=True)


@task(
    name="crawl", retries=1, retry_delay_seconds=[10], retry_condition_fn=_retry_unless_users_error
)
def crawl_task(
    db_path: Path,
    params: CrawlParams,
    source_ids: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    spider: str | None = None,
    url: str | None = None,
    show_progress: bool = False,
) -> CrawlSummary:
    """One crawl; `show_progress` prints each source's line on stderr as it ends."""
    summary = run_crawl(
        db_path,
        source_ids,
        since,
        until,
        spider=spider,
        url=url,
        params=params,
        on_source=_print_source if show_progress else None,
    )
    with write_step(db_path):  # the crawl's documents reach the read snapshot
        return summary


@task(name="process")
def process_task(
    db_path: Path, params: EngineParams, encoder_spec: str, threads: int, taxonomy: str
) -> ProcessRun:
    encoder = build_encoder(encoder_spec, threads=threads)
    return process_pending(db_path, params, encoder, taxonomy)


@task(name="report")
def report_task(
    db_path: Path, out_dir: Path, granularity: str, period: str | None = None
) -> ReportPaths:
    return write_report(db_path, out_dir, granularity, period)

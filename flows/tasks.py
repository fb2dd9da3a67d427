"""Prefect tasks: I/O steps get retries, the engine runs as plain functions inside them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.prefect_env import configure

configure()

from prefect import task  # noqa: E402

from crawlers.run import CrawlSummary, run_crawl  # noqa: E402
from models.embed import build_encoder  # noqa: E402
from models.engine import EngineParams  # noqa: E402
from models.runner import ProcessRun, process_pending  # noqa: E402
from observatory.settings import Settings  # noqa: E402
from pipeline.db import session  # noqa: E402
from pipeline.ingest import IngestReport, ingest_file  # noqa: E402
from reports.write import ReportPaths, write_report  # noqa: E402


@task(name="ingest-file")
def ingest_task(db_path: Path, path: Path, skip_bad: bool) -> IngestReport:
    with session(db_path) as con:
        return ingest_file(con, path, skip_bad=skip_bad)


@task(name="crawl", retries=1, retry_delay_seconds=[10])
def crawl_task(db_path: Path, settings: Settings, source_ids: list[str] | None = None,
               since: date | None = None, until: date | None = None,
               spider: str | None = None, url: str | None = None) -> CrawlSummary:
    return run_crawl(db_path, source_ids, since, until, spider=spider, url=url,
                     settings=settings)


@task(name="process")
def process_task(db_path: Path, params: EngineParams, encoder_spec: str, threads: int,
                 taxonomy: str) -> ProcessRun:
    encoder = build_encoder(encoder_spec, threads=threads)
    return process_pending(db_path, params, encoder, taxonomy)


@task(name="report")
def report_task(db_path: Path, out_dir: Path, granularity: str,
                period: str | None = None) -> ReportPaths:
    return write_report(db_path, out_dir, granularity, period)

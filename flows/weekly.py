"""The scheduled job: crawl the configured sources, process new periods, write the report."""

# No `from __future__ import annotations` here: Prefect validates a served flow's parameters
# from real annotations, and string annotations fail there ("not fully defined").
from dataclasses import dataclass
from pathlib import Path

from flows.prefect_env import configure

configure()

from prefect import flow  # noqa: E402

from crawlers.run import CrawlSummary  # noqa: E402
from flows.params import engine_params  # noqa: E402
from flows.tasks import crawl_task, ingest_task, process_task, report_task  # noqa: E402
from models.runner import ProcessRun  # noqa: E402
from observatory.settings import Settings  # noqa: E402
from pipeline.ingest import IngestReport  # noqa: E402
from reports.write import ReportPaths  # noqa: E402


@dataclass(frozen=True)
class WeeklyRun:
    """What the weekly job did."""

    crawl: CrawlSummary | None
    ingested: tuple[IngestReport, ...]
    processed: ProcessRun
    report: ReportPaths | None


@flow(name="weekly", log_prints=False)
def weekly_flow(db: str | None = None, source_ids: list[str] | None = None,
                files: list[str] | None = None, crawl: bool = True,
                overrides: dict[str, str] | None = None) -> WeeklyRun:
    """Crawl, ingest any extra files, process pending periods, and report the latest one.

    Parameters are plain values so a scheduled deployment can carry them; everything else
    comes from the `OBSERVATORY_*` environment when the run starts, or from `overrides`.
    """
    settings = Settings.model_validate({**(overrides or {}), **({"db": db} if db else {})})
    crawled = crawl_task(settings.db, settings, source_ids) if crawl else None
    ingested = tuple(ingest_task(settings.db, Path(path), False) for path in files or [])
    params = engine_params(settings)
    processed = process_task(settings.db, params, settings.encoder, settings.encoder_threads,
                             settings.taxonomy)
    report = report_task(settings.db, settings.reports_dir, params.granularity)
    return WeeklyRun(crawled, ingested, processed, report)

"""The offline demo: bundled sample corpus, recorded feeds on 127.0.0.1, process, report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.prefect_env import configure

configure()

from prefect import flow  # noqa: E402

from crawlers.replay import serve_folder  # noqa: E402
from crawlers.run import CrawlSummary, demo_feed_urls, demo_feeds_folder  # noqa: E402
from flows.params import engine_params  # noqa: E402
from flows.tasks import crawl_task, ingest_task, process_task, report_task  # noqa: E402
from models.runner import ProcessRun  # noqa: E402
from observatory.settings import Settings  # noqa: E402
from pipeline.ingest import IngestReport  # noqa: E402
from reports.write import ReportPaths  # noqa: E402

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "observatory" / "demo"
DEMO_GRANULARITY = "month"


@dataclass(frozen=True)
class DemoRun:
    """What the demo did, for the closing summary."""

    ingested: tuple[IngestReport, ...]
    crawls: tuple[CrawlSummary, ...]
    processed: ProcessRun
    report: ReportPaths


def demo_corpus_files() -> list[Path]:
    """The bundled sample corpus (see observatory/demo/NOTICE.md for provenance)."""
    return sorted(DEMO_CORPUS.glob("*.jsonl.gz"))


@flow(name="demo", log_prints=False)
def demo_flow(settings: Settings) -> DemoRun:
    """Backfill the sample, crawl the recorded feeds, process every month, write the report."""
    ingested = tuple(ingest_task(settings.db, path, False) for path in demo_corpus_files())
    with serve_folder(demo_feeds_folder()) as base_url:
        crawls = tuple(crawl_task(settings.db, settings, spider="rss", url=url)
                       for url in demo_feed_urls(base_url))
    params = engine_params(settings, DEMO_GRANULARITY)
    processed = process_task(settings.db, params, settings.encoder, settings.encoder_threads,
                             settings.taxonomy)
    report = report_task(settings.db, settings.reports_dir, params.granularity)
    return DemoRun(ingested, crawls, processed, report)

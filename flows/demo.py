"""The offline demo: bundled sample corpus, recorded feeds on 127.0.0.1, process, report."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import flow

from crawlers.params import CrawlParams
from crawlers.replay import serve_folder
from crawlers.run import CrawlSummary, demo_feed_urls, demo_feeds_folder
from flows.tasks import crawl_task, ingest_task, process_task, report_task
from models.engine import EngineParams
from models.runner import ProcessRun
from pipeline.db import session
from pipeline.errors import InputError
from pipeline.ingest import IngestReport
from pipeline.periods import Granularity, period_of
from reports.write import ReportPaths

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "observatory" / "demo"
# Quarters: ~2,400 documents over 17 quarters give clusters of a readable size per period and a
# trend of 12 points in the report; months would leave most technologies at 1-3 papers each.
DEMO_GRANULARITY: Granularity = "quarter"
# The source id `crawl --spider rss --url http://127.0.0.1:PORT/...` gives the recorded feeds.
FEED_SOURCE = "rss-127.0.0.1"
# The reducer the demo chooses unless the user set one (`engine.cluster.reducer`, applied by
# the command line): with ~90-250 documents a quarter, PCA to 5 dimensions lumps 23
# technologies into 3-9 broad clusters; seeded UMAP finds 7-20 (measured on this sample:
# 2017-Q1 gave 7 topics with PCA, 20 with UMAP, for ~15 s more CPU).
DEMO_REDUCER = "umap"


@dataclass(frozen=True)
class DemoRun:
    """What the demo did, for the closing summary."""

    ingested: tuple[IngestReport, ...]
    crawls: tuple[CrawlSummary, ...]
    processed: ProcessRun
    report: ReportPaths
    last_period: str
    as_of: date  # the sample's last day: the demo runs as if it were that day


def demo_corpus_files() -> list[Path]:
    """The bundled sample corpus (see observatory/demo/NOTICE.md for provenance)."""
    return sorted(DEMO_CORPUS.glob("*.jsonl.gz"))


def sample_ids_and_last_day(files: list[Path]) -> tuple[set[str], str]:
    """Every document id of the sample, and its last date (YYYY-MM-DD)."""
    ids: set[str] = set()
    last = ""
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                doc = json.loads(line)
                ids.add(doc["id"])
                last = max(last, doc["date"])
    return ids, last


def check_demo_database(db_path: Path, sample_ids: set[str]) -> None:
    """Refuse to mix the demo into a database that holds other documents (the demo writes
    into the default database, so the next commands find it without --db)."""
    if not db_path.exists():
        return
    with session(db_path, read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "documents" not in tables:
            return
        rows = con.execute("SELECT doc_id, source FROM documents").fetchall()
    foreign = [
        doc_id for doc_id, source in rows if doc_id not in sample_ids and source != FEED_SOURCE
    ]
    if foreign:
        raise InputError(
            f"{db_path}: holds {len(foreign)} documents that are not the demo's "
            f"(e.g. {foreign[0]}); run the demo into another file with "
            "`observatory demo --db demo.duckdb`"
        )


@flow(name="demo", log_prints=False)
def demo_flow(
    db: Path,
    reports_dir: Path,
    crawl: CrawlParams,
    params: EngineParams,
    encoder: str,
    encoder_threads: int,
    taxonomy: str,
) -> DemoRun:
    """Backfill the sample, crawl the recorded feeds, process every quarter of the sample
    (`params` at `DEMO_GRANULARITY`), write the report of its last quarter."""
    files = demo_corpus_files()
    sample_ids, last_day = sample_ids_and_last_day(files)
    check_demo_database(db, sample_ids)
    ingested = tuple(ingest_task(db, path, False) for path in files)
    # The demo runs as of the sample's last day: the recorded feeds (captured 2020-04) are
    # fetched and parsed by the real spider, and their items, all after that day, are dropped
    # as outside the window, so no quarter after the sample is left half-filled.
    until = date.fromisoformat(last_day)
    with serve_folder(demo_feeds_folder()) as base_url:
        crawls = tuple(
            crawl_task(db, crawl, until=until, spider="rss", url=url)
            for url in demo_feed_urls(base_url)
        )
    processed = process_task(db, params, encoder, encoder_threads, taxonomy)
    last_period = period_of(until, DEMO_GRANULARITY)
    report = report_task(db, reports_dir, params.granularity, last_period)
    return DemoRun(ingested, crawls, processed, report, last_period, until)

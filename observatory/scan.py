"""`observatory scan PHRASE`: query the search APIs for a phrase, watch it, write its report.

The scan builds one ad-hoc source per API that accepts a query, probes each host with a short
TCP connect (so an offline machine fails in seconds, one line per source), crawls the reachable
ones, adds the phrase to the watchlist, processes pending periods and writes the focused report.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from crawlers.probe import PROBE_TIMEOUT_S, probe
from crawlers.run import SourceCrawl, run_crawl
from crawlers.sources import SourceConfig
from crawlers.spiders.google_news import EDITIONS
from observatory.settings import Settings
from pipeline.errors import InputError, SourceError
from reports.focus import FocusPaths, write_focus

Notify = Callable[[str], None]
GDELT_REACH_DAYS = 90  # the DOC 2.0 API searches a rolling three months
DEFAULT_URLS = {
    "arxiv": "https://export.arxiv.org/api/query",
    "openalex": "https://api.openalex.org/works",
    "google_news": "https://news.google.com/rss/search",
    "patentsview": "https://search.patentsview.org/api/v1/patent/",
    "epo_ops": "https://ops.epo.org/3.2",
    "gdelt": "https://api.gdeltproject.org/api/v2/doc/doc",
}


@dataclass(frozen=True)
class ScanSource:
    """One ad-hoc source of a scan, and the `meta` key that marks the documents it found."""

    config: SourceConfig
    since: date
    match_key: str


@dataclass(frozen=True)
class ScanResult:
    """What a scan did: sources crawled, skipped and unreachable, periods processed, report."""

    phrase: str
    watch_id: str
    crawled: tuple[SourceCrawl, ...]
    skipped: tuple[str, ...]
    unreachable: tuple[str, ...]
    n_periods: int
    report: FocusPaths

    @property
    def items_stored(self) -> int:
        return sum(crawl.items_stored for crawl in self.crawled)


def parse_since(value: str, today: date) -> date:
    """`2y`, `6m`, `8w`, `30d` before today, or an ISO date."""
    text = value.strip().lower()
    units = {"y": 365, "m": 30, "w": 7, "d": 1}
    if text[:-1].isdigit() and text[-1:] in units:
        return today - timedelta(days=int(text[:-1]) * units[text[-1]])
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--since: expected 2y, 6m, 8w, 30d or YYYY-MM-DD, got {value!r}"
        ) from None


def parse_langs(value: str) -> list[str]:
    """`en,zh` as a list of language codes."""
    langs = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not langs:
        raise InputError("--lang: expected language codes such as en,zh")
    return langs


def _quoted(phrase: str) -> str:
    return f'"{phrase}"' if " " in phrase else phrase


def _edition(lang: str) -> dict[str, str]:
    hl, gl, ceid = EDITIONS.get(lang, (lang, lang.upper(), f"{lang.upper()}:{lang}"))
    return {"hl": hl, "gl": gl, "ceid": ceid}


def _source(
    source_id: str, spider: str, query: str, since: date, match_key: str, **fields: Any
) -> ScanSource:
    config = SourceConfig(
        id=source_id,
        spider=spider,
        name=f"scan: {spider}",
        queries=[query],
        cadence="daily",
        **fields,
    )
    return ScanSource(config, since, match_key)


def scan_sources(phrase: str, since: date, langs: Sequence[str], today: date) -> list[ScanSource]:
    """One source per API, the phrase written in that API's query syntax."""
    span_days = max((today - since).days + 1, 1)
    quoted = _quoted(phrase)
    patent = json.dumps(
        {
            "_or": [
                {"_text_phrase": {"patent_title": phrase}},
                {"_text_phrase": {"patent_abstract": phrase}},
            ]
        }
    )
    openalex = f"title_and_abstract.search:{quoted.replace(',', ' ')}"
    sources = [
        _source(
            "scan-arxiv",
            "arxiv",
            f"all:{quoted}",
            since,
            f"all:{quoted}",
            kind="paper",
            delay_s=3.0,
            params={"page_size": 200},
        ),
        _source(
            "scan-openalex",
            "openalex",
            openalex,
            since,
            openalex,
            kind="paper",
            delay_s=0.2,
            params={"per_page": 200},
        ),
        _source(
            "scan-patentsview",
            "patentsview",
            patent,
            since,
            patent,
            kind="patent",
            delay_s=1.4,
            params={"size": 1000},
        ),
        _source(
            "scan-epo",
            "epo_ops",
            f"ta={quoted}",
            since,
            f"ta={quoted}",
            kind="patent",
            delay_s=2.0,
            params={"window_days": span_days, "page_size": 100},
        ),
        _source(
            "scan-gdelt",
            "gdelt",
            quoted,
            max(since, today - timedelta(GDELT_REACH_DAYS)),
            quoted,
            delay_s=5.0,
            params={"slice_hours": 24 * 7, "maxrecords": 250},
        ),
    ]
    for lang in langs:
        edition = _edition(lang)
        feed_key = urlencode({"q": quoted, **edition})
        sources.append(
            _source(
                f"scan-gnews-{lang}",
                "google_news",
                quoted,
                since,
                feed_key,
                lang=lang,
                kind="news",
                delay_s=1.0,
                params=edition,
            )
        )
    return sources


def missing_secret(source: SourceConfig, settings: Settings) -> str | None:
    """Why a source cannot run without a secret that is not set, else None."""
    keys = settings.crawl
    if source.spider == "patentsview" and not keys.patentsview_api_key:
        return f"{source.id}: skipped, needs OBSERVATORY_PATENTSVIEW_API_KEY"
    if source.spider == "epo_ops" and not (keys.epo_ops_key and keys.epo_ops_secret):
        return f"{source.id}: skipped, needs OBSERVATORY_EPO_OPS_KEY and OBSERVATORY_EPO_OPS_SECRET"
    return None


def endpoint(source: SourceConfig, base_urls: Mapping[str, str]) -> str:
    """The URL a source's spider will call first (the override when one is given)."""
    return base_urls.get(source.id) or base_urls.get(source.spider) or DEFAULT_URLS[source.spider]


def unreachable_sources(
    sources: Sequence[ScanSource], base_urls: Mapping[str, str], timeout_s: float = PROBE_TIMEOUT_S
) -> dict[str, str]:
    """Source id -> one line saying why its host cannot be reached, probed in parallel."""
    urls = [endpoint(source.config, base_urls) for source in sources]
    with ThreadPoolExecutor(max_workers=max(len(urls), 1)) as pool:
        answers = list(pool.map(lambda url: probe(url, timeout_s), urls))
    return {
        source.config.id: f"{source.config.id}: {answer}"
        for source, answer in zip(sources, answers, strict=True)
        if answer
    }


@contextmanager
def sources_file(sources: Sequence[ScanSource]) -> Iterator[Path]:
    """The scan's sources written as a temporary `sources.toml`."""
    with tempfile.TemporaryDirectory(prefix="observatory-scan-") as folder:
        path = Path(folder) / "sources.toml"
        path.write_text("".join(_toml_entry(s.config) for s in sources), "utf-8")
        yield path


def _toml_entry(source: SourceConfig) -> str:
    lines = ["[[source]]"]
    for name, value in source.model_dump(exclude_none=True).items():
        if name == "params":
            inline = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"params = {{ {inline} }}")
        else:
            lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n\n"


def crawl_sources(
    sources: Sequence[ScanSource], settings: Settings, base_urls: Mapping[str, str], polite: bool
) -> list[SourceCrawl]:
    """One crawl per distinct start date (GDELT reaches back less far than the others)."""
    crawled: list[SourceCrawl] = []
    with sources_file(sources) as path:
        chosen = settings.crawl.model_copy(update={"sources_file": path})
        for since in sorted({source.since for source in sources}):
            ids = [s.config.id for s in sources if s.since == since]
            summary = run_crawl(
                settings.db, ids, since=since, params=chosen, base_urls=base_urls, polite=polite
            )
            crawled.extend(summary.sources)
    return crawled


def _usable(
    sources: Sequence[ScanSource], settings: Settings, base_urls: Mapping[str, str], notify: Notify
) -> tuple[list[ScanSource], list[str], list[str]]:
    skipped = [line for s in sources if (line := missing_secret(s.config, settings))]
    for line in skipped:
        notify(line)
    keyed = [s for s in sources if missing_secret(s.config, settings) is None]
    lost = unreachable_sources(keyed, base_urls)
    for line in lost.values():
        notify(line)
    if not [s for s in keyed if s.config.id not in lost]:
        raise SourceError(
            f"no scan source is reachable ({len(lost)} unreachable, "
            f"{len(skipped)} skipped); nothing was crawled"
        )
    return [s for s in keyed if s.config.id not in lost], skipped, list(lost.values())


def _watch(db_path: Path, phrase: str, threshold: float) -> str:
    from pipeline.db import session, transaction
    from pipeline.watch_store import add_watch

    with session(db_path) as con, transaction(con):
        return add_watch(con, phrase, threshold).watch_id


def _process(settings: Settings, granularity: str) -> int:
    from models.embed import build_encoder
    from models.runner import process_pending

    params = settings.engine_params(granularity)
    encoder = build_encoder(settings.encoder, settings.encoder_threads)
    return len(process_pending(settings.db, params, encoder, settings.taxonomy).periods)


def scan(
    phrase: str,
    settings: Settings,
    since: date,
    langs: Sequence[str],
    base_urls: Mapping[str, str] | None = None,
    granularity: str | None = None,
    threshold: float = 0.35,
    polite: bool = True,
    today: date | None = None,
    notify: Notify = lambda _line: None,
) -> ScanResult:
    """Crawl the phrase from every reachable search API, watch it, and write its report."""
    from pipeline.periods import check_granularity

    phrase = " ".join(phrase.split())
    if not phrase:
        raise InputError("scan: expected a non-empty phrase")
    chosen = check_granularity(granularity or settings.granularity or settings.engine.granularity)
    today = today or date.today()
    planned = scan_sources(phrase, since, langs, today)
    usable, skipped, lost = _usable(planned, settings, dict(base_urls or {}), notify)
    crawled = crawl_sources(usable, settings, dict(base_urls or {}), polite)
    for crawl in crawled:
        notify(crawl.line())
    watch_id = _watch(settings.db, phrase, threshold)
    n_periods = _process(settings, chosen)
    keys = {s.config.id: s.match_key for s in usable}
    paths = write_focus(settings.db, settings.reports_dir, phrase, chosen, since, keys)
    return ScanResult(
        phrase, watch_id, tuple(crawled), tuple(skipped), tuple(lost), n_periods, paths
    )

"""GDELT DOC 2.0 artlist: time slices of at most 250 articles, full slices split in halves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.gdelt_json import Article, day_start, gdelt_time, language_code, parse_artlist
from crawlers.items import Document, StateUpdate
from crawlers.spiders.base import SourceSpider, url_doc_id
from pipeline.normalise import canonical_url, guess_lang

MAX_RECORDS = 250
Window = tuple[str, str]  # ISO start and end, as carried in request meta


class GdeltSpider(SourceSpider):
    """Metadata and link of each article GDELT saw in the window (no body: the feed's terms)."""

    name = "gdelt"
    kind = "news"
    default_url = "https://api.gdeltproject.org/api/v2/doc/doc"
    default_delay_s = 5.0

    @property
    def max_records(self) -> int:
        return min(int(self.source.params.get("maxrecords", MAX_RECORDS)), MAX_RECORDS)

    def span(self, query: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: `since`..`until` whole days, else from the saved end to now."""
        now = self.fetched_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        end = day_start(self.until + timedelta(days=1)) if self.until else now
        saved = self.state.get(f"last_end:{query}")
        days = float(self.source.params.get("window_days", 1))
        if self.since:
            return day_start(self.since), end
        return (datetime.fromisoformat(saved) if saved else end - timedelta(days=days)), end

    def slices(self, query: str) -> list[Window]:
        start, end = self.span(query)
        step = timedelta(hours=float(self.source.params.get("slice_hours", 6)))
        windows: list[Window] = []
        while start < end:
            windows.append((start.isoformat(), min(start + step, end).isoformat()))
            start += step
        return windows

    def call(self, query: str, queue: list[Window]) -> Any:
        start, end = (datetime.fromisoformat(value) for value in queue[0])
        params = {
            "query": query,
            "mode": "artlist",
            "format": "json",
            "maxrecords": self.max_records,
            "sort": "dateasc",
            "startdatetime": gdelt_time(start),
            "enddatetime": gdelt_time(end),
        }
        return self.request(
            f"{self.base_url}?{urlencode(params)}",
            self.parse,
            meta={"query": query, "queue": queue},
        )

    async def start(self) -> AsyncIterator[Any]:
        for query in self.source.queries:
            if queue := self.slices(query):
                yield self.call(query, queue)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        query, queue = str(response.meta["query"]), list(response.meta["queue"])
        page = parse_artlist(response.body)
        if response.status != 200:
            yield self.problem(
                f"HTTP {response.status}: {page.error or 'GDELT error'}", response.url
            )
            return
        if page.error:
            yield self.problem(f"GDELT error: {page.error}", response.url)
            return
        yield from (self.document(article, query) for article in page.articles)
        yield from self.advance(query, queue, len(page.articles), response.url)

    def advance(self, query: str, queue: list[Window], found: int, url: str) -> Iterator[Any]:
        """Split a full window in halves (down to `min_slice_minutes`), then the next window."""
        start, end = (datetime.fromisoformat(value) for value in queue.pop(0))
        smallest = timedelta(minutes=float(self.source.params.get("min_slice_minutes", 15)))
        if found >= self.max_records and end - start > smallest:
            middle = start + (end - start) / 2
            queue[:0] = [
                (start.isoformat(), middle.isoformat()),
                (middle.isoformat(), end.isoformat()),
            ]
        elif found >= self.max_records:
            yield self.problem(
                f"GDELT window {gdelt_time(start)}-{gdelt_time(end)} still holds "
                f"{found} articles (the cap); some may be missing",
                url,
            )
        if queue:
            yield self.call(query, queue)
        else:
            yield StateUpdate(self.source_id, f"last_end:{query}", end.isoformat())

    def document(self, article: Article, query: str) -> Any:
        if not article.url or not article.title:
            return self.skip("no title", article.url or None)
        if article.seen is None:
            return self.skip("no publication date", article.url)
        lang = language_code(article.language) or guess_lang(article.title)
        return Document(
            doc_id=url_doc_id(self.source_id, article.url),
            source=self.source_id,
            kind=self.kind,
            title=article.title,
            text="",
            lang=lang,
            published=article.seen.date(),
            url=article.url,
            canonical_url=canonical_url(article.url),
            venue=article.domain or None,
            fetched_at=self.fetched_at,
            meta={
                "seendate_utc": article.seen.isoformat(),
                "language": article.language,
                "sourcecountry": article.country,
                "query": query,
            },
        )

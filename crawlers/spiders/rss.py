"""RSS/Atom/RDF feeds in any encoding, fetched with conditional GET."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from crawlers.feeds import Feed, FeedEntry, NotAFeed, parse_feed
from crawlers.items import Document, StateUpdate
from crawlers.spiders.base import SourceSpider, url_doc_id
from pipeline.normalise import canonical_url, guess_lang

SUMMARY_CHARS = 500


def _lang(declared: str | None, fallback: str | None, text: str) -> str:
    if fallback:
        return fallback
    if declared:
        return declared.split("-")[0].split("_")[0].lower()
    return guess_lang(text)


class RssSpider(SourceSpider):
    """Stores title, link, UTC date and a short summary of each entry (feed terms)."""

    name = "rss"
    kind = "news"

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.urls or [self.base_url]:
            yield self.request(
                url, self.parse, headers=self.conditional_headers(url), meta={"feed_url": url}
            )

    def conditional_headers(self, url: str) -> dict[str, str]:
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
            "text/xml;q=0.8, */*;q=0.5"
        }
        if etag := self.state.get(f"etag:{url}"):
            headers["If-None-Match"] = etag
        if modified := self.state.get(f"last_modified:{url}"):
            headers["If-Modified-Since"] = modified
        return headers

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if response.status == 304:
            return
        if problem := self.http_problem(response):
            yield problem
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        try:
            feed = parse_feed(response.body, content_type, response.url)
        except NotAFeed as error:
            yield self.problem(str(error), response.url)
            return
        yield from self.entries(feed, response.url)
        yield from self.validators(response, response.meta.get("feed_url", response.url))

    def entries(self, feed: Feed, feed_url: str) -> Iterator[Any]:
        for entry in feed.entries:
            yield self.document(entry, feed, feed_url)
        if feed.truncated:
            yield self.problem(
                f"feed cut off: {feed.complete_entries} complete entries read, "
                f"{len(feed.entries) - feed.complete_entries} cut off",
                feed_url,
            )

    def rejection(self, entry: FeedEntry) -> Any | None:
        """Why an entry cannot be stored (no title, no date, outside the window), or None."""
        if entry.partial:
            return self.skip("cut off", entry.link)
        if not entry.title:
            return self.skip("no title", entry.link)
        if entry.published is None:
            return self.skip("no publication date", entry.link)
        if not self.in_window(entry.published.date()):
            return self.skip("outside the date window", entry.link)
        return None

    def document(self, entry: FeedEntry, feed: Feed, feed_url: str) -> Any:
        if (rejected := self.rejection(entry)) is not None or entry.published is None:
            return rejected
        day = entry.published.date()
        summary = entry.summary[:SUMMARY_CHARS]
        key = entry.link or entry.guid or f"{entry.title}|{entry.published.isoformat()}"
        return Document(
            doc_id=url_doc_id(self.source_id, key),
            source=self.source_id,
            kind=self.kind,
            title=entry.title,
            text=summary,
            lang=_lang(feed.lang, self.source.lang, f"{entry.title} {summary}"),
            published=day,
            url=entry.link,
            canonical_url=canonical_url(entry.link),
            venue=self.source.name or feed.title or None,
            fetched_at=self.fetched_at,
            meta={
                "feed": feed_url,
                "guid": entry.guid,
                "encoding": feed.encoding,
                "published_utc": entry.published.isoformat(),
                "categories": list(entry.categories),
            },
        )

    def validators(self, response: Response, feed_url: str) -> Iterator[StateUpdate]:
        for header, key in ((b"ETag", "etag"), (b"Last-Modified", "last_modified")):
            value = response.headers.get(header)
            yield StateUpdate(
                self.source_id, f"{key}:{feed_url}", value.decode("latin-1") if value else None
            )

"""News sitemaps found through robots.txt: title, UTC date, language and link of each article."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response

from crawlers.feeds import decode_body
from crawlers.items import Document
from crawlers.sitemaps import NewsEntry, NotASitemap, parse_sitemap, robots_sitemaps
from crawlers.spiders.base import SourceSpider, url_doc_id
from pipeline.normalise import canonical_url, guess_lang

DEFAULT_FOLLOW = r"news"


class NewsSitemapSpider(SourceSpider):
    """Reads robots.txt `Sitemap:` lines (or sitemap URLs), follows news sitemap indexes."""

    name = "news_sitemap"
    kind = "news"

    def follows(self, url: str) -> bool:
        """Whether an index's child sitemap is read: `params.follow` searched in its path."""
        pattern = str(self.source.params.get("follow", DEFAULT_FOLLOW))
        return re.search(pattern, urlsplit(url).path) is not None

    async def start(self) -> AsyncIterator[Any]:
        for url in [self.mirror(u) for u in self.source.urls] or [self.base_url]:
            if urlsplit(url).path.endswith("/robots.txt"):
                yield self.request(
                    url,
                    self.parse_robots,
                    meta={"dont_obey_robotstxt": True, "handle_httpstatus_all": True},
                )
            else:
                yield self.request(url, self.parse)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            yield self.problem(
                f"robots.txt unavailable (HTTP {response.status}): not crawling this site",
                response.url,
            )
            return
        text, _ = decode_body(response.body, None)
        urls = robots_sitemaps(text)
        if not urls:
            yield self.problem("robots.txt lists no Sitemap: lines", response.url)
        for url in urls:
            yield self.request(self.mirror(url), self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if problem := self.http_problem(response):
            yield problem
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        try:
            page = parse_sitemap(response.body, content_type)
        except NotASitemap as error:
            yield self.problem(str(error), response.url)
            return
        for child in page.children:
            if self.follows(child):
                yield self.request(self.mirror(child), self.parse)
        for entry in page.entries:
            yield self.document(entry, response.url)

    def document(self, entry: NewsEntry, sitemap_url: str) -> Any:
        if entry.published is None:
            return self.skip(
                "no news:news entry" if not entry.raw_date else "no publication date",
                entry.loc or None,
            )
        if not entry.title or not entry.loc:
            return self.skip("no title", entry.loc or None)
        day = entry.published.date()
        if not self.in_window(day):
            return self.skip("outside the date window", entry.loc)
        lang = entry.language.split("-")[0] or self.source.lang or guess_lang(entry.title)
        return Document(
            doc_id=url_doc_id(self.source_id, entry.loc),
            source=self.source_id,
            kind=self.kind,
            title=entry.title,
            text="",
            lang=lang,
            published=day,
            url=entry.loc,
            canonical_url=canonical_url(entry.loc),
            venue=entry.publication or self.source.name or None,
            fetched_at=self.fetched_at,
            meta={
                "sitemap": sitemap_url,
                "language": entry.language,
                "publication_date": entry.raw_date,
                "published_utc": entry.published.isoformat(),
                "keywords": list(entry.keywords),
            },
        )

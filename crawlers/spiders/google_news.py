"""Google News RSS search feeds: title, outlet, UTC date and link only (the feed's terms)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.feeds import Feed, FeedEntry
from crawlers.items import Document
from crawlers.spiders.base import HANDLED_STATUSES, url_doc_id
from crawlers.spiders.rss import RssSpider
from pipeline.normalise import canonical_url, guess_lang

_CJK = re.compile(r"[\u3400-\u9fff]")
_UNUSUAL = re.compile(r"unusual traffic|/sorry/|not a robot", re.I)
# Google News editions: (hl, gl, ceid) for Chinese and for everything else.
EDITIONS = {"zh": ("zh-CN", "CN", "CN:zh-Hans"), "en": ("en-US", "US", "US:en")}


def split_outlet(title: str, outlet: str) -> str:
    """The headline without its " - Outlet" suffix (split on the last " - ")."""
    if outlet and title.endswith(f" - {outlet}"):
        return title[: -len(outlet) - 3].strip()
    head, sep, _ = title.rpartition(" - ")
    return head.strip() if sep and head.strip() else title


def article_token(link: str | None) -> str | None:
    """The opaque article token of a `news.google.com/rss/articles/<token>` link."""
    if not link or "/articles/" not in link:
        return None
    return link.split("/articles/", 1)[1].split("?", 1)[0] or None


class GoogleNewsSpider(RssSpider):
    """One search feed per query (or per configured URL); no paging, poll rarely."""

    name = "google_news"
    kind = "news"
    default_url = "https://news.google.com/rss/search"
    default_delay_s = 60.0

    def search_url(self, query: str) -> str:
        lang = "zh" if _CJK.search(query) else "en"
        hl, gl, ceid = EDITIONS[lang]
        params = self.source.params
        return f"{self.base_url}?" + urlencode(
            {
                "q": query,
                "hl": params.get("hl", hl),
                "gl": params.get("gl", gl),
                "ceid": params.get("ceid", ceid),
            }
        )

    def feed_urls(self) -> list[str]:
        urls = [self.search_url(query) for query in self.source.queries]
        return urls or list(self.source.urls) or [self.base_url]

    async def start(self) -> AsyncIterator[Any]:
        for url in self.feed_urls():
            yield self.request(
                url,
                self.parse,
                headers=self.conditional_headers(url),
                meta={
                    "feed_url": url,
                    "dont_redirect": True,
                    "handle_httpstatus_list": [*HANDLED_STATUSES, 301, 302, 303, 307],
                },
            )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if response.status in (301, 302, 303, 307):
            target = (response.headers.get(b"Location") or b"").decode("latin-1")
            reason = "a consent page" if "consent." in target else target or "nowhere"
            yield self.problem(
                f"blocked: HTTP {response.status} redirect to {reason}", response.url
            )
            return
        if _UNUSUAL.search(response.body[:4000].decode("utf-8", "replace")):
            yield self.problem(
                f"blocked: Google 'unusual traffic' page (HTTP {response.status})", response.url
            )
            return
        yield from super().parse(response, **kwargs)

    def document(self, entry: FeedEntry, feed: Feed, feed_url: str) -> Any:
        if (rejected := self.rejection(entry)) is not None or entry.published is None:
            return rejected
        day = entry.published.date()
        title = split_outlet(entry.title, entry.source)
        outlet = entry.source or entry.title[len(title) :].removeprefix(" - ").strip()
        lang = self.source.lang or (feed.lang or "").split("-")[0].lower() or guess_lang(title)
        return Document(
            doc_id=url_doc_id(self.source_id, article_token(entry.link) or entry.link or title),
            source=self.source_id,
            kind=self.kind,
            title=title,
            text="",
            lang=lang,
            published=day,
            url=entry.link,
            canonical_url=canonical_url(entry.link),
            venue=outlet or None,
            fetched_at=self.fetched_at,
            meta={
                "feed": feed_url,
                "outlet": outlet,
                "outlet_url": entry.source_url,
                "token": article_token(entry.link),
                "published_utc": entry.published.isoformat(),
                "query_title": feed.title,
            },
        )

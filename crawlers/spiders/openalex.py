"""OpenAlex `/works`: each filter in a publication-date window, cursor-paged to the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Self
from urllib.parse import urlencode

from scrapy.crawler import Crawler
from scrapy.http import Response

from crawlers.items import Document, StateUpdate
from crawlers.openalex_json import NotWorks, Work, parse_works
from crawlers.spiders.base import SourceSpider
from pipeline.normalise import canonical_url, guess_lang

MAX_PER_PAGE = 200


def work_doc_id(work: Work) -> str:
    """`doi:<doi lower>` when the work has a DOI, else `openalex:W...`."""
    return f"doi:{work.doi}" if work.doi else f"openalex:{work.openalex_id}"


class OpenAlexSpider(SourceSpider):
    """Metadata, rebuilt abstracts and topics (CC0) of works, through the polite pool."""

    name = "openalex"
    kind = "paper"
    api_name = "OpenAlex"
    default_window_days = 30
    default_url = "https://api.openalex.org/works"

    def __init__(self, *args: Any, mailto: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailto = mailto

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        kwargs.setdefault("mailto", crawler.settings.get("OPENALEX_MAILTO"))
        return super().from_crawler(crawler, *args, **kwargs)

    def page_url(self, query: str, cursor: str) -> str:
        since, until = self.window(query)
        params: dict[str, str | int] = {
            "filter": f"{query},from_publication_date:{since},to_publication_date:{until}",
            "per-page": min(int(self.source.params.get("per_page", MAX_PER_PAGE)), MAX_PER_PAGE),
            "cursor": cursor,
        }
        if select := self.source.params.get("select"):
            params["select"] = str(select)
        if self.mailto:
            params["mailto"] = self.mailto
        return f"{self.base_url}?{urlencode(params)}"

    async def start(self) -> AsyncIterator[Any]:
        for query in self.source.queries:
            yield self.request(self.page_url(query, "*"), self.parse, meta={"query": query})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        query = str(response.meta["query"])
        try:
            page = parse_works(response.body)
        except NotWorks as error:
            yield from self.unreadable(response, str(error))
            return
        if response.status != 200 or page.error:
            status = f"HTTP {response.status}: " if response.status != 200 else ""
            yield self.problem(
                f"{status}OpenAlex API error: {page.error or 'no message'}", response.url
            )
            return
        yield from (self.document(work, query) for work in page.works)
        if page.works and page.next_cursor:
            yield self.request(
                self.page_url(query, page.next_cursor), self.parse, meta={"query": query}
            )
        else:
            yield StateUpdate(
                self.source_id, f"last_date:{query}", self.window(query)[1].isoformat()
            )

    def document(self, work: Work, query: str) -> Any:
        if not work.title:
            return self.skip("no title", work.url)
        if work.published is None:
            return self.skip("no publication date", work.url)
        return Document(
            doc_id=work_doc_id(work),
            source=self.source_id,
            kind="paper",
            title=work.title,
            text=work.abstract,
            lang=work.lang or self.source.lang or guess_lang(work.title),
            published=work.published,
            url=work.url,
            canonical_url=canonical_url(work.url),
            venue=work.venue,
            fetched_at=self.fetched_at,
            meta={
                "openalex_id": work.openalex_id,
                "doi": work.doi,
                "type": work.work_type,
                "topics": list(work.topics),
                "concepts": list(work.concepts),
                "keywords": list(work.keywords),
                "cited_by_count": work.cited_by_count,
                "query": query,
            },
        )

"""arXiv API: each query in a submittedDate window, paged with start/max_results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from crawlers.arxiv_atom import ArxivEntry, NotAtom, parse_page
from crawlers.items import Document, StateUpdate
from crawlers.spiders.base import SourceSpider
from pipeline.normalise import canonical_url

MAX_PAGE = 2000


class ArxivSpider(SourceSpider):
    """Metadata and abstracts (CC0) of new submissions, one request every 3 s."""

    name = "arxiv"
    kind = "paper"
    default_url = "https://export.arxiv.org/api/query"

    def page_url(self, query: str, start: int) -> str:
        since, until = self.window(query)
        size = min(int(self.source.params.get("page_size", 200)), MAX_PAGE)
        search = f"({query}) AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
        params = {
            "search_query": search,
            "start": start,
            "max_results": size,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
        }
        return f"{self.base_url}?{urlencode(params)}"

    async def start(self) -> AsyncIterator[Any]:
        for query in self.source.queries or ["cat:cs.AI"]:
            yield self.request(self.page_url(query, 0), self.parse, meta={"query": query})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if problem := self.http_problem(response):
            yield problem
            return
        query = str(response.meta["query"])
        try:
            page = parse_page(response.body)
        except NotAtom as error:
            yield self.problem(str(error), response.url)
            return
        if page.error:
            yield self.problem(f"arXiv API error: {page.error}", response.url)
            return
        for _ in range(page.skipped):
            yield self.skip("entry without an arXiv id", response.url)
        yield from (self.document(entry, query) for entry in page.entries)
        following = page.start + len(page.entries)
        if page.entries and following < page.total:
            yield self.request(self.page_url(query, following), self.parse, meta={"query": query})
        else:
            last_day = self.window(query)[1].isoformat()
            yield StateUpdate(self.source_id, f"last_date:{query}", last_day)

    def document(self, entry: ArxivEntry, query: str) -> Document:
        return Document(
            doc_id=f"arxiv:{entry.arxiv_id}",
            source=self.source_id,
            kind="paper",
            title=entry.title,
            text=entry.summary,
            lang="en",
            published=entry.published.date(),
            url=entry.abs_url,
            canonical_url=canonical_url(entry.abs_url),
            venue="arXiv",
            fetched_at=self.fetched_at,
            meta={
                "arxiv_id": entry.arxiv_id,
                "version": entry.version,
                "authors": list(entry.authors),
                "categories": list(entry.categories),
                "primary_category": entry.primary_category,
                "pdf_url": entry.pdf_url,
                "doi": entry.doi,
                "comment": entry.comment,
                "query": query,
            },
        )

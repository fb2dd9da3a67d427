"""USPTO PatentsView PatentSearch: granted patents per CPC prefix, keyset-paged with `after`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any, Self
from urllib.parse import urlencode

from scrapy.crawler import Crawler
from scrapy.http import Response

from crawlers.items import Document, StateUpdate
from crawlers.patentsview_json import NotPatents, Patent, error_detail, parse_patents
from crawlers.spiders.base import SourceSpider
from pipeline.normalise import canonical_url

MAX_SIZE = 1000
FIELDS = [
    "patent_id",
    "patent_title",
    "patent_date",
    "patent_abstract",
    "patent_type",
    "wipo_kind",
    "cpc_current.cpc_group_id",
    "assignees.assignee_organization",
    "inventors.inventor_name_first",
    "inventors.inventor_name_last",
    "application.filing_date",
]


def patent_query(query: str, since: date, until: date) -> dict[str, Any]:
    """A CPC prefix (`H01M`, `G06N10`) or a raw JSON query, limited to grants in the window."""
    window: list[dict[str, Any]] = [
        {"_gte": {"patent_date": since.isoformat()}},
        {"_lte": {"patent_date": until.isoformat()}},
    ]
    if query.lstrip().startswith("{"):
        return {"_and": [*window, json.loads(query)]}
    return {"_and": [*window, {"_begins": {"cpc_current.cpc_group_id": query.strip()}}]}


class PatentsViewSpider(SourceSpider):
    """Titles, abstracts and CPC codes of US grants (CC BY 4.0), 45 requests a minute."""

    name = "patentsview"
    kind = "patent"
    api_name = "PatentsView"
    default_window_days = 14
    default_url = "https://search.patentsview.org/api/v1/patent/"

    def __init__(self, *args: Any, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._api_key = api_key

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        kwargs.setdefault("api_key", crawler.settings.get("PATENTSVIEW_API_KEY"))
        return super().from_crawler(crawler, *args, **kwargs)

    @property
    def size(self) -> int:
        return min(int(self.source.params.get("size", MAX_SIZE)), MAX_SIZE)

    def page_request(self, query: str, after: str | None) -> Any:
        options: dict[str, Any] = {"size": self.size}
        if after is not None:
            options["after"] = after
        params = {
            "q": json.dumps(patent_query(query, *self.window(query))),
            "f": json.dumps(FIELDS),
            "s": json.dumps([{"patent_id": "asc"}]),
            "o": json.dumps(options),
        }
        return self.request(
            f"{self.base_url}?{urlencode(params)}",
            self.parse,
            headers={"X-Api-Key": self._api_key or "", "Accept": "application/json"},
            meta={"query": query},
        )

    async def start(self) -> AsyncIterator[Any]:
        if not self._api_key:
            yield self.problem("no PatentsView API key: set OBSERVATORY_PATENTSVIEW_API_KEY")
            return
        for query in self.source.queries:
            yield self.page_request(query, None)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        query = str(response.meta["query"])
        if response.status != 200:
            yield self.http_error(response)
            return
        try:
            page = parse_patents(response.body)
        except NotPatents as error:
            # Only a body that is not JSON can be a cut-off one worth fetching again.
            yield from self.unreadable(
                response, str(error), retry=str(error).startswith("not JSON")
            )
            return
        if page.error:
            yield self.problem(f"PatentsView API error: {page.error}", response.url)
            return
        yield from (self.document(patent, query) for patent in page.patents)
        if len(page.patents) >= self.size:
            yield self.page_request(query, page.patents[-1].patent_id)
        else:
            yield StateUpdate(
                self.source_id, f"last_date:{query}", self.window(query)[1].isoformat()
            )

    def http_error(self, response: Response) -> Any:
        """The `X-Status-Reason` header first, then a JSON `detail`, then a body snippet."""
        problem = self.http_problem(response)
        detail = error_detail(response.body)
        if detail and problem and not response.headers.get(b"X-Status-Reason"):
            return self.problem(f"HTTP {response.status}: {detail}", response.url)
        return problem

    def document(self, patent: Patent, query: str) -> Any:
        url = f"https://patents.google.com/patent/US{patent.patent_id}"
        if not patent.patent_id or not patent.title:
            return self.skip("no patent number or title", url)
        if patent.published is None:
            return self.skip("no publication date", url)
        return Document(
            doc_id=f"patent:US{patent.patent_id}",
            source=self.source_id,
            kind="patent",
            title=patent.title,
            text=patent.abstract,
            lang="en",
            published=patent.published,
            url=url,
            canonical_url=canonical_url(url),
            venue="USPTO",
            fetched_at=self.fetched_at,
            meta={
                "patent_number": f"US{patent.patent_id}",
                "cpc": list(patent.cpc),
                "assignees": list(patent.assignees),
                "inventors": list(patent.inventors),
                "kind_code": patent.kind_code,
                "patent_type": patent.patent_type,
                "filing_date": patent.filing_date,
                "query": query,
            },
        )

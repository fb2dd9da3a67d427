"""MIIT (工信部) columns through the JPaaS `build/unit` endpoint, paged with `paramJson`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from scrapy.http import Response

from crawlers.cn_policy import ListRow, NotAList, parse_miit_unit
from crawlers.items import Document, StateUpdate
from crawlers.spiders.base import SourceSpider, url_doc_id
from pipeline.normalise import canonical_url

# MIIT site-wide JPaaS values quoted by public scrapers (verify once against the live site).
UNIT_PARAMS = {
    "parseType": "buildstatic",
    "webId": "8d828e408d90447786ddbe128d495e9e",
    "tplSetId": "209741b2109044b5b7695700b2bec37e",
    "pageType": "column",
    "tagId": "当前栏目_list",
    "editType": "null",
}
# The endpoint refuses bare requests (403): it wants a browser User-Agent and a Referer.
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


class MiitSpider(SourceSpider):
    """Each `queries` entry is a column `pageId`; pages until one has no `<li>` or is too old."""

    name = "miit"
    kind = "policy"
    default_window_days = 30
    default_url = "https://www.miit.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit"
    default_delay_s = 3.0

    def first_day(self, column: str) -> date:
        return self.days_from(f"last_day:{column}")[0]

    def page_request(self, column: str, page: int, newest: str | None) -> Any:
        size = int(self.source.params.get("page_size", 24))
        params = {
            **UNIT_PARAMS,
            "pageId": column,
            "paramJson": json.dumps({"pageNo": page, "pageSize": size}, separators=(",", ":")),
        }
        referer = str(self.source.params.get("referer", "https://www.miit.gov.cn/"))
        headers = {
            "User-Agent": str(self.source.params.get("user_agent", BROWSER_UA)),
            "Referer": referer,
            "Accept-Language": "zh-CN,zh;q=0.9",
            "Accept": "application/json, text/javascript, */*; q=0.01",
        }
        return self.request(
            f"{self.mirror(self.base_url)}?{urlencode(params)}",
            self.parse,
            headers=headers,
            meta={"column": column, "page": page, "newest": newest},
        )

    async def start(self) -> AsyncIterator[Any]:
        for column in self.source.queries:
            yield self.page_request(column, 1, None)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        column, page = str(response.meta["column"]), int(response.meta["page"])
        if problem := self.http_problem(response):
            yield problem
            return
        try:
            rows = parse_miit_unit(response.body, self.home(response.url))
        except NotAList as error:
            yield self.problem(str(error), response.url)
            return
        days = [row.day for row in rows if row.day]
        newest = response.meta["newest"] or (max(days).isoformat() if days else None)
        yield from (
            self.document(row, column)
            for row in rows
            if row.day is None or row.day >= self.first_day(column)
        )
        if rows and all(day >= self.first_day(column) for day in days):
            yield self.page_request(column, page + 1, newest)
        elif newest:
            yield StateUpdate(self.source_id, f"last_day:{column}", newest)

    def home(self, url: str) -> str:
        """Where relative links point: the real site, not the mirror serving the list."""
        return self.source.urls[0] if self.source.urls else self.default_url or url

    def document(self, row: ListRow, column: str) -> Any:
        if not row.title:
            return self.skip("no title", row.url)
        if row.day is None:
            return self.skip("no publication date", row.url)
        if urlsplit(row.url).hostname not in ("www.miit.gov.cn", "miit.gov.cn"):
            return self.skip("off-site link", row.url)
        if not self.in_window(row.day):
            return self.skip("outside the date window", row.url)
        return Document(
            doc_id=url_doc_id(self.source_id, row.url),
            source=self.source_id,
            kind="policy",
            title=row.title,
            text="",
            lang=self.source.lang or "zh",
            published=row.day,
            url=row.url,
            canonical_url=canonical_url(row.url),
            venue=self.source.name or "工业和信息化部",
            fetched_at=self.fetched_at,
            meta={"column": column, "list_day": row.day.isoformat()},
        )

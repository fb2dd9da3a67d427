"""gov.cn 最新政策: the ZUIXINZHENGCE.json list, then each policy's detail page, in turn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.cn_policy import (
    ListRow,
    NotAList,
    is_govcn_policy,
    parse_govcn_detail,
    parse_govcn_list,
)
from crawlers.items import Document, StateUpdate
from crawlers.spiders.base import SourceSpider, url_doc_id
from pipeline.normalise import canonical_url

Row = tuple[str, str, str, str]  # title, url, ISO list day, subtitle (request meta is plain data)


class GovCnSpider(SourceSpider):
    """Policies listed in the window; details fetched one after another (1 connection, 3 s)."""

    name = "govcn"
    kind = "policy"
    default_window_days = 30
    default_url = "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json"
    default_delay_s = 3.0

    def first_day(self) -> date:
        return self.days_from("last_day")[0]

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.mirror(self.base_url), self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if problem := self.http_problem(response):
            yield problem
            return
        try:
            rows = parse_govcn_list(response.body, response.url)
        except NotAList as error:
            yield self.problem(str(error), response.url)
            return
        queue = [row for row in (self.keep(row) for row in rows) if row is not None]
        yield from (self.skip(reason, row.url) for row, reason in self.rejected(rows))
        days = [row.day for row in rows if row.day]
        yield from self.next_detail(queue, max(days).isoformat() if days else None)

    def keep(self, row: ListRow) -> Row | None:
        if row.day is None or not row.title or not is_govcn_policy(row.url):
            return None
        if row.day < self.first_day() or not self.in_window(row.day):
            return None
        return (row.title, row.url, row.day.isoformat(), row.subtitle)

    def rejected(self, rows: list[ListRow]) -> Iterator[tuple[ListRow, str]]:
        for row in rows:
            if row.day is not None and (row.day < self.first_day() or not self.in_window(row.day)):
                continue
            if row.day is None:
                yield row, "no publication date"
            elif not is_govcn_policy(row.url):
                yield row, "not a policy page"

    def next_detail(self, queue: list[Row], last_day: str | None) -> Iterator[Any]:
        if not queue:
            if last_day:
                yield StateUpdate(self.source_id, "last_day", last_day)
            return
        meta = {"row": queue[0], "queue": queue[1:], "last_day": last_day}
        yield self.request(
            self.mirror(queue[0][1]), self.parse_detail, meta=meta, errback=self.detail_failed
        )

    def request(self, url: str, callback: Any, **kwargs: Any) -> Any:
        errback = kwargs.pop("errback", None)
        request = super().request(url, callback, **kwargs)
        return request.replace(errback=errback) if errback else request

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        yield from self.on_failure(failure)
        meta = failure.request.meta  # type: ignore[attr-defined]
        yield from self.next_detail(list(meta["queue"]), meta["last_day"])

    def parse_detail(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        if problem := self.http_problem(response):
            yield problem
        else:
            yield self.document(meta["row"], response)
        yield from self.next_detail(list(meta["queue"]), meta["last_day"])

    def document(self, row: Row, response: Response) -> Any:
        title, url, day, subtitle = row
        detail = parse_govcn_detail(response.text)
        published = detail.published.date() if detail.published else date.fromisoformat(day)
        return Document(
            doc_id=url_doc_id(self.source_id, url),
            source=self.source_id,
            kind="policy",
            title=title or detail.title,
            text=detail.text,
            lang=self.source.lang or "zh",
            published=published,
            url=url,
            canonical_url=canonical_url(url),
            venue=self.source.name or "中国政府网",
            fetched_at=self.fetched_at,
            meta={
                "firstpublishedtime": detail.raw_published,
                "list_day": day,
                "published_utc": detail.published.isoformat() if detail.published else None,
                "subtitle": subtitle,
                **detail.meta,
            },
        )

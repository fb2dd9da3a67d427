"""EPO OPS: CQL searches with bibliographic data, Range-paged, split by publication-date windows."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Self
from urllib.parse import urlencode

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawlers.items import Document, StateUpdate
from crawlers.ops_xml import NotOps, OpsDoc, parse_fault, parse_search, throttling
from crawlers.spiders.base import SourceSpider
from pipeline.normalise import canonical_url, guess_lang

PAGE_MAX = 100
RETRIEVABLE = 2000
_CPC = re.compile(r"^[A-HY]\d\d[A-Z]?(\d+(/\d+)?)?$")


@dataclass(frozen=True)
class Slice:
    """One query in one publication-date window, from result `begin`."""

    query: str
    first: date
    last: date
    begin: int = 1

    def cql(self) -> str:
        scope = f"cpc={self.query}" if _CPC.match(self.query) else f"({self.query})"
        return f'{scope} and pd within "{self.first:%Y%m%d} {self.last:%Y%m%d}"'

    def halves(self) -> tuple[Slice, Slice]:
        middle = self.first + (self.last - self.first) // 2
        return (
            Slice(self.query, self.first, middle),
            Slice(self.query, middle + timedelta(days=1), self.last),
        )


def windows(first: date, last: date, days: int) -> Iterator[tuple[date, date]]:
    """[first, last] cut into windows of at most `days` days."""
    while first <= last:
        end = min(first + timedelta(days=days - 1), last)
        yield first, end
        first = end + timedelta(days=1)


class EpoOpsSpider(SourceSpider):
    """Titles, abstracts and CPC codes of publications (OPS terms: metadata and a link)."""

    name = "epo_ops"
    kind = "patent"
    default_url = "https://ops.epo.org/3.2"

    def __init__(
        self, *args: Any, key: str | None = None, secret: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._credentials = (key, secret)
        self._token: str | None = None
        self._token_expires = 0.0
        self.stopped: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        kwargs.setdefault("key", crawler.settings.get("EPO_OPS_KEY"))
        kwargs.setdefault("secret", crawler.settings.get("EPO_OPS_SECRET"))
        return super().from_crawler(crawler, *args, **kwargs)

    @property
    def page_size(self) -> int:
        return min(int(self.source.params.get("page_size", PAGE_MAX)), PAGE_MAX)

    def slices(self) -> Iterator[Slice]:
        days = int(self.source.params.get("window_days", self.default_window_days))
        for query in self.source.queries:
            for first, last in windows(*self.window(query), days):
                yield Slice(query, first, last)

    async def start(self) -> AsyncIterator[Any]:
        key, secret = self._credentials
        if not key or not secret:
            yield self.problem(
                "no EPO OPS credentials: set OBSERVATORY_EPO_OPS_KEY and OBSERVATORY_EPO_OPS_SECRET"
            )
            return
        yield self.token_request(list(self.slices()))

    def token_request(self, pending: list[Slice]) -> scrapy.Request:
        """OAuth2 client credentials: Basic key:secret, answered with a Bearer token."""
        pair = base64.b64encode(":".join(map(str, self._credentials)).encode()).decode()
        return self.request(
            f"{self.base_url}/auth/accesstoken",
            self.parse_token,
            method="POST",
            body="grant_type=client_credentials",
            headers={
                "Authorization": f"Basic {pair}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            meta={"pending": pending},
            dont_filter=True,
        )

    def parse_token(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if response.status != 200:
            fault = parse_fault(response.body)
            detail = fault or (p.message if (p := self.http_problem(response)) else "")
            yield self.problem(
                f"EPO OPS token refused: HTTP {response.status}: {detail}", response.url
            )
            return
        try:
            answer = json.loads(response.body)
            self._token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 1199))
        except (ValueError, KeyError, TypeError):
            yield self.problem("EPO OPS token answer unreadable", response.url)
            return
        margin = float(self.source.params.get("token_margin_s", 60))
        self._token_expires = time.monotonic() + lifetime - margin
        yield from (self.search(piece, fresh=True) for piece in response.meta["pending"])

    def search(self, piece: Slice, fresh: bool = False) -> scrapy.Request:
        """The search for one slice, or a new token first when this one is about to expire."""
        if self._token is None or (not fresh and time.monotonic() >= self._token_expires):
            self._token = None
            return self.token_request([piece])
        last = piece.begin + self.page_size - 1
        params = {"q": piece.cql(), "Range": f"{piece.begin}-{last}"}
        url = f"{self.base_url}/rest-services/published-data/search/biblio?{urlencode(params)}"
        return self.request(
            url,
            self.parse,
            meta={"slice": piece},
            dont_filter=True,
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/xml"},
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        piece: Slice = response.meta["slice"]
        if self.stopped:
            return
        if response.status == 404:  # OPS answers "no results" with 404
            yield from self.finished(piece)
            return
        if response.status != 200:
            yield from self.refused(response)
            return
        try:
            page = parse_search(response.body)
        except NotOps as error:
            yield self.problem(f"unreadable OPS answer: {error}", response.url)
            return
        yield from self.page_items(page, piece, response)

    def page_items(self, page: Any, piece: Slice, response: Response) -> Iterator[Any]:
        if page.total > RETRIEVABLE and piece.begin == 1 and piece.first < piece.last:
            yield from (self.search(half) for half in piece.halves())
            return
        yield from (self.document(doc, piece.query) for doc in page.docs)
        for _ in range(page.references_only):
            yield self.skip("search reference without bibliographic data", response.url)
        following = max(page.end, piece.begin + self.page_size - 1) + 1
        if page.end and following <= min(page.total, RETRIEVABLE):
            yield self.search(Slice(piece.query, piece.first, piece.last, following))
            return
        if page.total > RETRIEVABLE:
            yield self.problem(
                f"{page.total} results for {piece.cql()}; OPS serves only the first {RETRIEVABLE}",
                response.url,
            )
        yield from self.finished(piece)

    def finished(self, piece: Slice) -> Iterator[StateUpdate]:
        saved = self.state.get(f"last_date:{piece.query}")
        if saved is None or piece.last.isoformat() > saved:
            self.state[f"last_date:{piece.query}"] = piece.last.isoformat()
            yield StateUpdate(self.source_id, f"last_date:{piece.query}", piece.last.isoformat())

    def refused(self, response: Response) -> Iterator[Any]:
        """403 (quota, `X-Rejection-Reason`), a black throttle, faults: recorded; black stops."""
        control = (response.headers.get(b"X-Throttling-Control") or b"").decode("latin-1")
        problem = self.http_problem(response)
        fault = parse_fault(response.body)
        message = problem.message if problem else f"HTTP {response.status}"
        if fault and not response.headers.get(b"X-Rejection-Reason"):
            message = f"HTTP {response.status}: {fault}"
        if throttling(control).get("search", ("", 0))[0] == "black" or response.status == 403:
            self.stopped = message
            message += "; stopped until the quota or throttle resets"
        yield self.problem(message, response.url)

    def document(self, doc: OpsDoc, query: str) -> Any:
        number = doc.docdb.replace(".", "")
        url = f"https://worldwide.espacenet.com/patent/search?q=pn%3D{number}"
        if not doc.title:
            return self.skip("no title", url)
        if doc.published is None:
            return self.skip("no publication date", url)
        lang = doc.title_lang if doc.title_lang not in (None, "ol") else guess_lang(doc.title)
        return Document(
            doc_id=f"epo:{doc.docdb}",
            source=self.source_id,
            kind="patent",
            title=doc.title,
            text=doc.abstract,
            lang=str(lang),
            published=doc.published,
            url=url,
            canonical_url=canonical_url(url),
            venue="EPO OPS",
            fetched_at=self.fetched_at,
            meta={
                "docdb": doc.docdb,
                "family_id": doc.family_id,
                "cpc": list(doc.cpc),
                "applicants": list(doc.applicants),
                "query": query,
            },
        )

"""What every observatory spider shares: its source, window, state, and error reporting."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.items import Skipped, SourceProblem
from crawlers.sources import SourceConfig
from pipeline.normalise import canonical_url, clean_text
from pipeline.records import DocKind

# Statuses handed to callbacks (so they become recorded source errors, not silent drops);
# redirects stay with Scrapy's RedirectMiddleware.
HANDLED_STATUSES = [304, 400, 401, 403, 404, 405, 406, 410, 415, 429, 451, 500, 502, 503, 504]
_REASON_HEADERS = (b"X-Status-Reason", b"X-Rejection-Reason", b"X-Error-Detail")
# A 200 whose body cannot be read is fetched once more: a body cut off in transit usually
# arrives whole the next time.
BODY_RETRIES = 1


def url_doc_id(source_id: str, url: str) -> str:
    """`<source_id>:<sha1 of the canonical URL, 16 hex>` for documents without a native id."""
    key = canonical_url(url) or url
    return f"{source_id}:{hashlib.sha1(key.encode('utf-8')).hexdigest()[:16]}"


class SourceSpider(scrapy.Spider):
    """A spider for one configured source; subclasses parse, this class handles errors."""

    kind: ClassVar[DocKind] = "news"
    default_url: ClassVar[str] = ""
    default_delay_s: ClassVar[float] = 1.0
    # How far back a first crawl reaches (`params.window_days` overrides it).
    default_window_days: ClassVar[int] = 7
    api_name: ClassVar[str] = ""  # how problems name the source's API

    def __init__(
        self,
        source: SourceConfig,
        since: date | None = None,
        until: date | None = None,
        state: Mapping[str, str | None] | None = None,
        base_url: str | None = None,
        fetched_at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.source_id = source.id
        self.since = since
        self.until = until
        self.state: dict[str, str | None] = dict(state or {})
        self.base_url = base_url or (source.urls[0] if source.urls else self.default_url)
        self.fetched_at = fetched_at or datetime.now()

    def request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request that hands error statuses to the callback and failures to `on_failure`."""
        meta = {"handle_httpstatus_list": HANDLED_STATUSES, **kwargs.pop("meta", {})}
        return scrapy.Request(url, callback=callback, errback=self.on_failure, meta=meta, **kwargs)

    def on_failure(self, failure: Failure) -> Iterator[SourceProblem]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else None
        yield SourceProblem(self.source_id, f"request failed: {failure.getErrorMessage()}", url)

    def http_problem(self, response: Response) -> SourceProblem | None:
        """A SourceProblem for any non-200 answer, with the server's stated reason."""
        if response.status == 200:
            return None
        reason = next(
            (response.headers.get(name) for name in _REASON_HEADERS if response.headers.get(name)),
            None,
        )
        detail = reason.decode("utf-8", "replace") if reason else _snippet(response.body)
        return SourceProblem(
            self.source_id, f"HTTP {response.status}: {detail}".strip(), response.url
        )

    def unreadable(self, response: Response, reason: str, retry: bool = True) -> Iterator[Any]:
        """A page that cannot be read: an error status is a source error; a 200 is fetched
        again (when `retry`, up to BODY_RETRIES times), then a problem naming the API."""
        if problem := self.http_problem(response):
            yield problem
            return
        attempt = int(response.meta.get("body_retries", 0))
        if retry and attempt < BODY_RETRIES:
            yield response.request.replace(  # type: ignore[union-attr]
                dont_filter=True, meta={**response.meta, "body_retries": attempt + 1}
            )
            return
        yield self.problem(f"unreadable {self.api_name} page: {reason}", response.url)

    def mirror(self, url: str) -> str:
        """`url` moved onto the overriding base URL's host when it is on the source's own host.

        Lets a test or a mirror serve links the source names absolutely (sitemap indexes,
        detail pages) from the base URL's host.
        """
        home = urlsplit(self.source.urls[0] if self.source.urls else self.default_url)
        base, parts = urlsplit(self.base_url), urlsplit(url)
        if not home.netloc or parts.netloc != home.netloc or base.netloc == home.netloc:
            return url
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def days_from(self, state_key: str) -> tuple[date, date]:
        """The days to crawl: `since` (else the day saved under `state_key`, where the last crawl
        stopped, else `window_days` before the end) to `until` (else today)."""
        until = self.until or self.fetched_at.date()
        saved = self.state.get(state_key)
        days = int(self.source.params.get("window_days", self.default_window_days))
        since = self.since or (date.fromisoformat(saved) if saved else until - timedelta(days))
        return since, until

    def window(self, query: str) -> tuple[date, date]:
        """The days to crawl for one query of a search API (its state: `last_date:<query>`)."""
        return self.days_from(f"last_date:{query}")

    def in_window(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def problem(self, message: str, url: str | None = None) -> SourceProblem:
        return SourceProblem(self.source_id, message, url)

    def skip(self, reason: str, url: str | None = None) -> Skipped:
        return Skipped(self.source_id, reason, url)


def _snippet(body: bytes) -> str:
    text = body[:2000].decode("utf-8", "replace")
    if "<" in text:
        text = clean_text(text)
    return " ".join(text.split())[:160]

"""Retry that honours `Retry-After` (seconds or an HTTP date), capped by a setting."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

from crawlers.ops_xml import throttling

# How much slower than the advertised rate each OPS colour asks us to go.
OPS_SLOWDOWN = {"green": 1.0, "yellow": 2.0, "red": 4.0}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retry, but waits as long as the server asks (429/503) before retrying."""

    def __init__(self, crawler: Crawler, max_wait_s: float, backoff_s: float) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.max_wait_s = max_wait_s
        self.backoff_s = backoff_s

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            crawler,
            crawler.settings.getfloat("RETRY_AFTER_MAX_S"),
            crawler.settings.getfloat("RETRY_BACKOFF_S"),
        )

    def wait_for(self, response: Response, attempt: int) -> float:
        header = response.headers.get(b"Retry-After")
        asked = retry_after_seconds(header.decode("latin-1") if header else None)
        wait = asked if asked is not None else self.backoff_s * (2**attempt)
        return min(wait, self.max_wait_s)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        attempt = int(request.meta.get("retry_times", 0))
        if attempt >= int(request.meta.get("max_retry_times", self.max_retry_times)):
            return self._retry(request, response_status_message(response.status)) or response
        wait = self.wait_for(response, attempt)
        if wait > 0:
            await sleep(wait)
        return self._retry(request, response_status_message(response.status)) or response


def ops_delay(header: str | None, service: str = "search") -> float | None:
    """Seconds between requests that an `X-Throttling-Control` header asks for, if any."""
    colour, per_minute = throttling(header).get(service, ("", 0))
    if colour not in OPS_SLOWDOWN or per_minute <= 0:
        return None
    return 60.0 / per_minute * OPS_SLOWDOWN[colour]


class OpsThrottleMiddleware:
    """Slows a download slot to the rate EPO OPS advertises (more on yellow and red)."""

    def __init__(self, crawler: Crawler, enabled: bool) -> None:
        self.crawler = crawler
        self.enabled = enabled

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.getbool("OBSERVATORY_POLITE", True))

    def process_response(self, request: Request, response: Response) -> Response:
        header = response.headers.get(b"X-Throttling-Control")
        delay = ops_delay(header.decode("latin-1") if header else None)
        engine = self.crawler.engine
        if delay is None or not self.enabled or engine is None:
            return response
        slot = engine.downloader.slots.get(engine.downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = max(slot.delay, delay)
        return response

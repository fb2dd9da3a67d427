"""A quick TCP probe of each source's host before a crawl, so an unreachable one costs seconds.

Without it an offline host costs a source its whole deadline (DNS and connect timeouts, then
retries); with it the crawl skips that source with one line saying why.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from crawlers.sources import SourceConfig
from crawlers.spiders import SPIDERS

PROBE_TIMEOUT_S = 3.0


def probe(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a TCP connection to the URL's host opens in time, else why not."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"cannot reach {url!r} (not a valid URL)"
    if not host:
        return f"cannot reach {url!r} (no host in the URL)"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except TimeoutError:
        return f"cannot reach {host}:{port} (no answer in {timeout_s:g} s)"
    except socket.gaierror:
        return f"cannot reach {host}:{port} (host name does not resolve; unknown host or offline)"
    except OSError as error:
        return f"cannot reach {host}:{port} ({error.strerror or error})"


def source_urls(source: SourceConfig, base_urls: Mapping[str, str]) -> list[str]:
    """The URLs whose hosts a source's spider will call: the override, its URLs, or the
    spider's default endpoint."""
    override = base_urls.get(source.id) or base_urls.get(source.spider)
    if override:
        return [override]
    spider = SPIDERS.get(source.spider)
    return list(source.urls) or ([spider.default_url] if spider and spider.default_url else [])


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def unreachable(
    sources: Sequence[SourceConfig],
    base_urls: Mapping[str, str],
    timeout_s: float = PROBE_TIMEOUT_S,
) -> dict[str, str]:
    """Source id -> why none of its hosts answers, every distinct host probed once, in parallel."""
    wanted = {source.id: source_urls(source, base_urls) for source in sources}
    hosts = sorted({_host(url) for urls in wanted.values() for url in urls})
    if not hosts:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(hosts), 16)) as pool:
        answers = dict(
            zip(hosts, pool.map(lambda host: probe(host, timeout_s), hosts), strict=True)
        )
    lost: dict[str, str] = {}
    for source_id, urls in wanted.items():
        reasons = [answers[_host(url)] for url in urls]
        if urls and all(reasons):
            lost[source_id] = str(reasons[0])
    return lost

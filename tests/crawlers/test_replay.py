"""The replay server: sidecar statuses and headers, routes in turn, ETag and 304."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from crawlers.middlewares import retry_after_seconds


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_sidecar_status_headers_and_etag(rss_server):
    status, headers, body = fetch(rss_server.url("oschina_gbk_bytes_but_http_header_utf8.xml"))
    assert (status, headers["Content-Type"]) == (200, "text/xml; charset=utf-8")
    assert len(body) == 32210
    status, _, body = fetch(
        rss_server.url("oschina_gbk_bytes_but_http_header_utf8.xml"),
        {"If-None-Match": headers["ETag"]},
    )
    assert (status, body) == (304, b"")


def test_routes_serve_files_in_turn_and_unknown_paths_404(rss_server):
    assert fetch(rss_server.url("throttled.xml"))[0] == 429
    assert fetch(rss_server.url("throttled.xml"))[0] == 200
    assert fetch(rss_server.url("nothing-here.xml"))[0] == 404
    assert [r.path for r in rss_server.requests] == ["/throttled.xml"] * 2 + ["/nothing-here.xml"]


@pytest.mark.parametrize(("value", "seconds"), [("3", 3.0), (None, None), ("soon", None)])
def test_retry_after_values(value, seconds):
    assert retry_after_seconds(value) == seconds

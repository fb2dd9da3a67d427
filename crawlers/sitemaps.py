"""News sitemaps (`news:` namespace), sitemap indexes and robots.txt `Sitemap:` lines.

Scrapy's `Sitemap` keeps only the direct children of each `<url>`, so `news:news` loses its
title, date, language and publication; this module reads them with lxml directly.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from scrapy.utils.gz import gunzip

from crawlers.feeds import decode_body, parse_date
from pipeline.normalise import clean_text

NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's limit, uncompressed
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.I | re.M)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


@dataclass(frozen=True)
class NewsEntry:
    """One `<url>` of a news sitemap; `published` is UTC, None without `news:news`."""

    loc: str
    title: str
    published: datetime | None
    language: str
    publication: str
    raw_date: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class SitemapPage:
    """A parsed sitemap: its entries (urlset) or child sitemaps (sitemapindex)."""

    entries: list[NewsEntry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


class NotASitemap(ValueError):
    """Raised for HTML (soft 404s), empty or unreadable bodies, and other XML."""


def robots_sitemaps(text: str) -> list[str]:
    """The URLs of a robots.txt's `Sitemap:` lines, in order, without repeats."""
    return list(dict.fromkeys(_SITEMAP_LINE.findall(text)))


def gunzip_body(body: bytes) -> bytes:
    """The body, gunzipped when it is gzip (`.xml.gz` served as application/x-gzip).

    Scrapy's `gunzip` keeps what a cut-off stream decompressed and stops past the limit.
    """
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        return gunzip(body, max_size=MAX_SITEMAP_BYTES)
    except ValueError:  # Scrapy's (private) "decompressed past max_size" error
        raise NotASitemap("not a sitemap: over 50 MB uncompressed") from None
    except (OSError, EOFError, struct.error, zlib.error) as error:
        raise NotASitemap(f"not a sitemap: broken gzip ({error})") from error


def _local(node: etree._Element) -> str:
    return etree.QName(node.tag).localname.lower() if isinstance(node.tag, str) else ""


def _find(node: etree._Element, path: str) -> str:
    found = node.find(path, {"n": NEWS_NS, "s": node.nsmap.get(None, "")})
    return clean_text("".join(found.itertext())) if found is not None else ""


def _news_entry(url: etree._Element) -> NewsEntry:
    loc = next((clean_text(c.text) for c in url if _local(c) == "loc"), "")
    news = url.find(f"{{{NEWS_NS}}}news")
    if news is None:
        return NewsEntry(loc, "", None, "", "")
    raw = _find(news, "n:publication_date")
    keywords = tuple(k.strip() for k in _find(news, "n:keywords").split(",") if k.strip())
    return NewsEntry(
        loc=loc,
        title=_find(news, "n:title"),
        published=parse_date(raw),
        language=_find(news, "n:publication/n:language").lower(),
        publication=_find(news, "n:publication/n:name"),
        raw_date=raw,
        keywords=keywords,
    )


def _html_problem(text: str) -> str:
    title = _HTML_TITLE.search(text)
    label = clean_text(title.group(1))[:80] if title else ""
    return "not a sitemap: an HTML page (soft 404?) was served at the sitemap URL" + (
        f" (title: {label})" if label else ""
    )


def parse_sitemap(body: bytes, content_type: str | None = None) -> SitemapPage:
    """A news sitemap or a sitemap index; raises NotASitemap for anything else."""
    text, _ = decode_body(gunzip_body(body), content_type)
    if re.match(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", text, re.I | re.S):
        raise NotASitemap(_html_problem(text))
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    stripped = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1).strip()
    root = etree.fromstring(stripped.encode("utf-8"), parser=parser) if stripped else None
    if root is None:
        raise NotASitemap("not a sitemap: the body is empty or not XML")
    kind = _local(root)
    if kind == "sitemapindex":
        locs = [
            clean_text(c.text)
            for s in root
            if _local(s) == "sitemap"
            for c in s
            if _local(c) == "loc"
        ]
        return SitemapPage(children=[loc for loc in locs if loc])
    if kind != "urlset":
        raise NotASitemap(f"not a sitemap: unexpected root element <{kind}>")
    return SitemapPage(entries=[_news_entry(url) for url in root if _local(url) == "url"])

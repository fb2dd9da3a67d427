"""arXiv API Atom responses, in the 2025-08 and the 2025-11 serialisations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from crawlers.feeds import parse_date
from pipeline.normalise import clean_text

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
    "x": "http://arxiv.org/schemas/atom",
}
_VERSION = re.compile(r"v\d+$")


@dataclass(frozen=True)
class ArxivEntry:
    """One paper: id without version, first-submission date in UTC, abstract and categories."""

    arxiv_id: str
    version: str
    title: str
    summary: str
    published: datetime
    abs_url: str
    pdf_url: str | None
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str | None
    doi: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class ArxivPage:
    """One API page: its entries, the OpenSearch counts, and any API error message."""

    total: int
    start: int
    entries: list[ArxivEntry] = field(default_factory=list)
    error: str | None = None
    skipped: int = 0


class NotAtom(ValueError):
    """Raised by `parse_page` when the body is not an Atom feed (HTML, text, truncated)."""


def _int(root: etree._Element, path: str) -> int:
    value = root.findtext(path, namespaces=NS)
    return int(value.strip()) if value and value.strip().isdigit() else 0


def _text(node: etree._Element, path: str) -> str:
    return clean_text(node.findtext(path, namespaces=NS))


def _links(entry: etree._Element) -> tuple[str | None, str | None]:
    abs_url = pdf_url = None
    for link in entry.findall("a:link", NS):
        href = str(link.get("href") or "")
        if "/abs/" in href:
            abs_url = href
        elif "/pdf/" in href or link.get("title") == "pdf":
            pdf_url = href
    return abs_url, pdf_url


def _entry(entry: etree._Element) -> ArxivEntry | None:
    raw_id = _text(entry, "a:id")
    published = parse_date(_text(entry, "a:published"))
    if "/abs/" not in raw_id or published is None:
        return None
    versioned = raw_id.split("/abs/", 1)[1]
    abs_url, pdf_url = _links(entry)
    primary = entry.find("x:primary_category", NS)
    return ArxivEntry(
        arxiv_id=_VERSION.sub("", versioned),
        version=versioned[len(_VERSION.sub("", versioned)) :],
        title=_text(entry, "a:title"),
        summary=_text(entry, "a:summary"),
        published=published,
        abs_url=abs_url or raw_id,
        pdf_url=pdf_url,
        authors=tuple(_text(a, "a:name") for a in entry.findall("a:author", NS)),
        categories=tuple(
            str(c.get("term")) for c in entry.findall("a:category", NS) if c.get("term")
        ),
        primary_category=str(primary.get("term")) if primary is not None else None,
        doi=_text(entry, "x:doi") or None,
        comment=_text(entry, "x:comment") or None,
    )


def parse_page(body: bytes) -> ArxivPage:
    """Entries without an `<id>` (old placeholders) are skipped; error entries become `error`."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None or root.tag != f"{{{NS['a']}}}feed":
        snippet = clean_text(body[:200].decode("utf-8", "replace"))
        raise NotAtom(f"not an arXiv Atom feed: {snippet}")
    page = ArxivPage(total=_int(root, "os:totalResults"), start=_int(root, "os:startIndex"))
    nodes = root.findall("a:entry", NS)
    for node in nodes:
        if "/api/errors" in _text(node, "a:id"):
            return ArxivPage(page.total, page.start, error=_text(node, "a:summary") or "API error")
    entries = [e for e in (_entry(node) for node in nodes) if e is not None]
    return ArxivPage(page.total, page.start, entries, skipped=len(nodes) - len(entries))

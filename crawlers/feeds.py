"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 parsing: encodings sniffed, broken XML recovered."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from charset_normalizer import from_bytes
from lxml import etree

from pipeline.normalise import clean_text

_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
            "cp936": "gb18030", "euc-cn": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs",
            "us-ascii": "utf-8", "ascii": "utf-8", "iso-8859-1": "cp1252", "latin-1": "cp1252"}
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.I | re.S)
_CHALLENGE = re.compile(r"security_verify|window\.location|yunsuo|cf-challenge|captcha", re.I)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_DATE_NAMES = ("pubdate", "published", "issued", "date", "created", "updated", "modified")
_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_ENTRY_END = re.compile(r"</\s*(?:[\w.-]+:)?(?:item|entry)\s*>", re.I)
# A complete feed ends with its root's end tag (CDNs sometimes append a comment after it).
_ROOT_END = re.compile(r"</\s*(?:[\w.-]+:)?(?:rss|feed|rdf|channel)\s*>(?:\s|<!--.*?-->)*$",
                       re.I | re.S)


@dataclass(frozen=True)
class FeedEntry:
    """One item or entry, with its date already in UTC."""

    title: str
    link: str | None
    guid: str | None
    published: datetime | None
    summary: str
    categories: tuple[str, ...] = ()
    source: str = ""
    source_url: str | None = None
    # True for an entry whose end tag never arrived (the download was cut off inside it):
    # what the recovering parser found of it may be a cut title or summary.
    partial: bool = False


@dataclass(frozen=True)
class Feed:
    """A parsed feed: channel metadata and its entries in document order."""

    title: str
    lang: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    encoding: str = "utf-8"
    truncated: bool = False

    @property
    def complete_entries(self) -> int:
        return sum(not entry.partial for entry in self.entries)


class NotAFeed(ValueError):
    """Raised by `parse_feed` when the body is HTML, a challenge page or unreadable."""


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    found = _CHARSET.search(content_type or "")
    return found.group(1) if found else None


def _try(body: bytes, encoding: str | None) -> str | None:
    """`body` in `encoding`, or None when it is not; a character cut off at the very end
    (a download stopped mid-character) is left out rather than failing the whole body."""
    if encoding is None:
        return None
    try:
        # final=False keeps an incomplete trailing sequence buffered instead of raising, so a
        # feed cut inside a multi-byte character still decodes in its real encoding.
        return codecs.getincrementaldecoder(encoding)().decode(body, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Text and codec: BOM, then HTTP charset, UTF-8, the XML declaration, then sniffing.

    gb2312 and gbk are read as gb18030 (real feeds use characters outside gb2312), and a
    charset that cannot decode the bytes (a header/body conflict) falls through to the next.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace"), encoding
    declared = _DECLARED.match(body)
    candidates = [_codec(header_charset(content_type)), "utf-8",
                  _codec(declared.group(1).decode("ascii")) if declared else None]
    guess = from_bytes(body[:65536]).best()
    candidates.append(_codec(guess.encoding) if guess else None)
    for candidate in candidates:
        text = _try(body, candidate)
        if text is not None and candidate is not None:
            return text, candidate
    return body.decode("gb18030", errors="replace"), "gb18030"


def _html_problem(text: str) -> str:
    if _CHALLENGE.search(text):
        return "blocked: an anti-bot/WAF JavaScript challenge was served instead of the feed"
    title = _HTML_TITLE.search(text)
    label = clean_text(title.group(1))[:80] if title else ""
    return "not a feed: an HTML page was served at the feed URL" + (
        f" (title: {label})" if label else "")


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _text(element: etree._Element, *names: str) -> str:
    for name in names:
        for child in _children(element, name):
            value = clean_text("".join(child.itertext()))
            if value:
                return value
    return ""


def parse_date(value: str) -> datetime | None:
    """RFC 822 or ISO 8601 date as an aware UTC datetime; naive values are taken as UTC."""
    value = value.strip()
    if not value:
        return None
    parsed: datetime | None = None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        iso = value.replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(iso)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _entry_date(entry: etree._Element) -> datetime | None:
    for name in _DATE_NAMES:
        for child in _children(entry, name):
            parsed = parse_date("".join(child.itertext()))
            if parsed is not None:
                return parsed
    return None


def _entry_link(entry: etree._Element, base_url: str) -> str | None:
    for link in _children(entry, "link"):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate":
            return urljoin(base_url, str(href).strip())
        if not href and (link.text or "").strip():
            return urljoin(base_url, str(link.text).strip())
    guid = _children(entry, "guid") + _children(entry, "id")
    for node in guid:
        value = (node.text or "").strip()
        if value.startswith(("http://", "https://")) and node.get("isPermaLink") != "false":
            return value
    about = entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    return urljoin(base_url, about) if about else None


def _entry(entry: etree._Element, base_url: str) -> FeedEntry:
    categories = tuple(c.get("term") or clean_text(c.text) for c in _children(entry, "category"))
    source = next(iter(_children(entry, "source")), None)
    return FeedEntry(
        title=_text(entry, "title"),
        link=_entry_link(entry, base_url),
        guid=_text(entry, "guid", "id") or None,
        published=_entry_date(entry),
        summary=_text(entry, "description", "summary", "encoded", "content"),
        categories=tuple(c for c in categories if c),
        source=clean_text(source.text) if source is not None else "",
        source_url=str(source.get("url")) if source is not None and source.get("url") else None,
    )


def _root(text: str) -> etree._Element:
    cleaned = _ILLEGAL.sub("", _XML_DECL.sub("", text, count=1)).lstrip()
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                             encoding="utf-8")
    try:
        root = etree.fromstring(cleaned.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise NotAFeed("not a feed: the body is empty or not XML")
    return root


def parse_feed(body: bytes, content_type: str | None, base_url: str) -> Feed:
    """Parse a feed body; raises NotAFeed for HTML, challenge pages and empty bodies."""
    text, encoding = decode_body(body, content_type)
    if _HTML_START.match(text):
        raise NotAFeed(_html_problem(text))
    root = _root(text)
    if _local(root) not in _FEED_ROOTS:
        if _local(root) == "html":
            raise NotAFeed(_html_problem(text))
        raise NotAFeed(f"not a feed: unexpected root element <{_local(root)}>")
    channel = next(iter(_children(root, "channel")), root)
    entries = [_entry(node, base_url) for node in root.iter()
               if _local(node) in ("item", "entry")]
    truncated = _ROOT_END.search(text) is None
    if truncated:
        # The recovering parser closes whatever was open at the cut; entries past the last
        # end tag that arrived are the cut-off ones.
        closed = len(_ENTRY_END.findall(text))
        entries = [replace(entry, partial=True) if index >= closed else entry
                   for index, entry in enumerate(entries)]
    lang = _text(channel, "language") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    return Feed(title=_text(channel, "title"), lang=lang or None, entries=entries,
                encoding=encoding, truncated=truncated)

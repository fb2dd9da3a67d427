"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 feeds: decoded with w3lib's encoding rules, read by
feedparser, with our own checks for HTML pages, challenge pages and bodies that are no feed."""

from __future__ import annotations

import codecs
import io
import re
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from pipeline.normalise import clean_text

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.I | re.S)
_CHALLENGE = re.compile(r"security_verify|window\.location|yunsuo|cf-challenge|captcha", re.I)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
# The root element's name, past comments, processing instructions and a DOCTYPE.
_ROOT_TAG = re.compile(
    r"^(?:\s|<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>)*<([A-Za-z_][\w.:-]*)", re.S | re.I
)
# An "&" that starts no entity: feeds write query strings unescaped (`?a=1&lang=zh`), which
# breaks the XML and makes a lenient parser read `&lang` as the entity 〈.
_BARE_AMPERSAND = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")
_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_ENTRY_END = re.compile(r"</\s*(?:[\w.-]+:)?(?:item|entry)\s*>", re.I)
# A complete feed ends with its root's end tag (CDNs sometimes append a comment after it).
_ROOT_END = re.compile(
    r"</\s*(?:[\w.-]+:)?(?:rss|feed|rdf|channel)\s*>(?:\s|<!--.*?-->)*$", re.I | re.S
)
# feedparser's names for the dates an entry may carry, in the order we trust them:
# pubDate/published/issued, then dc:date/updated/modified, then created.
_DATE_KEYS = ("published", "updated", "created")


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


def _codec(label: str | None) -> str | None:
    """A codec for a declared charset, by w3lib's table (gb2312 and gbk are read as gb18030,
    real feeds use characters outside gb2312); ASCII is read as UTF-8, its superset."""
    if not label:
        return None
    if label.strip().lower() in ("us-ascii", "ascii"):
        return "utf-8"
    return resolve_encoding(label)


def header_charset(content_type: str | None) -> str | None:
    """The codec named by a Content-Type header's charset parameter, if any."""
    return http_content_type_encoding(content_type) if content_type else None


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

    Unlike a browser (and w3lib's `html_to_unicode`), a charset that cannot decode the bytes
    (a header/body conflict) falls through to the next candidate instead of being forced.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return body[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding
    declared = html_body_declared_encoding(body)
    candidates = [_codec(header_charset(content_type)), "utf-8", _codec(declared)]
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
        f" (title: {label})" if label else ""
    )


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


def _entry_date(entry: Any) -> datetime | None:
    for key in _DATE_KEYS:
        stamp: time.struct_time | None = entry.get(f"{key}_parsed")
        parsed = datetime(*stamp[:6], tzinfo=UTC) if stamp else parse_date(entry.get(key, ""))
        if parsed is not None:
            return parsed
    return None


def _entry_link(entry: Any) -> str | None:
    """The alternate link; else a guid or id that is an http(s) permalink (RSS 1.0's
    rdf:about is the item's id)."""
    for link in entry.get("links", ()):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    guid = str(entry.get("id") or "")
    if guid.startswith(("http://", "https://")) and entry.get("guidislink", True) is not False:
        return guid
    return None


def _entry(entry: Any) -> FeedEntry:
    summary = entry.get("summary") or next(
        (part.get("value", "") for part in entry.get("content", ())), ""
    )
    source = entry.get("source") or {}
    categories = (clean_text(tag.get("term") or tag.get("label")) for tag in entry.get("tags", ()))
    return FeedEntry(
        title=clean_text(entry.get("title")),
        link=_entry_link(entry),
        guid=clean_text(entry.get("id")) or None,
        published=_entry_date(entry),
        summary=clean_text(summary),
        categories=tuple(c for c in categories if c),
        source=clean_text(source.get("title")),
        source_url=source.get("href") or None,
    )


def _check_root(text: str) -> str:
    """The body without its XML declaration and characters XML forbids; NotAFeed unless its
    root element is a feed's."""
    cleaned = _ILLEGAL.sub("", _XML_DECL.sub("", text, count=1)).lstrip()
    cleaned = _BARE_AMPERSAND.sub("&amp;", cleaned)
    root = _ROOT_TAG.match(cleaned)
    if root is None:
        raise NotAFeed("not a feed: the body is empty or not XML")
    name = root.group(1).rpartition(":")[2].lower()
    if name == "html":
        raise NotAFeed(_html_problem(text))
    if name not in _FEED_ROOTS:
        raise NotAFeed(f"not a feed: unexpected root element <{name}>")
    return cleaned


def parse_feed(body: bytes, content_type: str | None, base_url: str) -> Feed:
    """Parse a feed body; raises NotAFeed for HTML, challenge pages and empty bodies."""
    text, encoding = decode_body(body, content_type)
    if _HTML_START.match(text):
        raise NotAFeed(_html_problem(text))
    cleaned = _check_root(text)
    # Decoded here (our charset rules), handed over as UTF-8; a stream, so feedparser never
    # reads a string as a URL or a file name. Content-Location resolves relative links.
    parsed = feedparser.parse(
        io.BytesIO(cleaned.encode("utf-8")),
        sanitize_html=False,
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": base_url,
        },
    )
    entries = [_entry(entry) for entry in parsed.entries]
    truncated = _ROOT_END.search(text) is None
    if truncated:
        # Entries past the last end tag that arrived are the cut-off ones.
        closed = len(_ENTRY_END.findall(text))
        entries = [
            replace(entry, partial=True) if index >= closed else entry
            for index, entry in enumerate(entries)
        ]
    channel = parsed.feed
    return Feed(
        title=clean_text(channel.get("title")),
        lang=channel.get("language") or None,
        entries=entries,
        encoding=encoding,
        truncated=truncated,
    )

"""GDELT DOC 2.0 `mode=artlist` JSON: articles, `{}` for none, plain-text errors with HTTP 200."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pipeline.normalise import clean_text

_BAD_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt]|.?)", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# GDELT gives language names; the observatory keeps ISO 639-1 codes.
LANGUAGES = {
    "english": "en",
    "chinese": "zh",
    "german": "de",
    "french": "fr",
    "spanish": "es",
    "japanese": "ja",
    "korean": "ko",
    "russian": "ru",
    "italian": "it",
    "portuguese": "pt",
    "arabic": "ar",
    "dutch": "nl",
    "hindi": "hi",
}


@dataclass(frozen=True)
class Article:
    """One artlist record: metadata and link only (GDELT has no body)."""

    url: str
    title: str
    seen: datetime | None
    domain: str
    language: str
    country: str


@dataclass(frozen=True)
class ArtList:
    """The articles of one call, or the plain-text error GDELT sent instead."""

    articles: list[Article]
    error: str | None = None


def _escape(match: re.Match[str]) -> str:
    escape = match.group(1)
    if escape and (escape[0] in '"\\/bfnrt' or (escape[0] == "u" and len(escape) == 5)):
        return match.group(0)
    return "\\\\" + escape


def loads_lenient(text: str) -> Any:
    """JSON with raw control characters and invalid escapes (`\\x`) repaired."""
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        return json.loads(_BAD_ESCAPE.sub(_escape, _CONTROL.sub(" ", text)), strict=False)


def parse_seendate(value: str) -> datetime | None:
    """`YYYYMMDDTHHMMSSZ` (UTC) as an aware datetime."""
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def language_code(name: str) -> str:
    return LANGUAGES.get(name.strip().lower(), "")


def _article(row: dict[str, Any]) -> Article:
    return Article(
        url=str(row.get("url") or "").strip(),
        title=clean_text(row.get("title")),
        seen=parse_seendate(str(row.get("seendate") or "")),
        domain=str(row.get("domain") or ""),
        language=str(row.get("language") or ""),
        country=str(row.get("sourcecountry") or ""),
    )


def parse_artlist(body: bytes) -> ArtList:
    """Articles of an artlist answer; a non-JSON body is GDELT's error text."""
    text = body.decode("utf-8", "replace").strip()
    if not text.startswith("{"):
        return ArtList([], clean_text(text)[:200] or "empty answer")
    try:
        data = loads_lenient(text)
    except json.JSONDecodeError as error:
        return ArtList([], f"unreadable GDELT JSON: {error.msg}")
    rows = data.get("articles", []) if isinstance(data, dict) else []
    return ArtList([_article(row) for row in rows if isinstance(row, dict)])


def gdelt_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)

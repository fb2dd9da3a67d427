"""Canonical URLs, whitespace, days and language guesses shared by importers and crawlers."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|spm|from)$", re.I)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[A-Za-z]")
_TAG = re.compile(r"<[^>]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, no fragment, no tracking parameters, sorted query."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip()
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    )
    path = parts.path or "/"
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/")
    netloc = parts.netloc.lower().removeprefix("www.")
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def clean_text(value: str | None) -> str:
    """Plain text: tags stripped, entities decoded, control characters dropped, spaces folded."""
    if not value:
        return ""
    text = html.unescape(_TAG.sub(" ", value))
    return " ".join(_CONTROL.sub("", text).split())


def guess_lang(text: str, default: str = "en") -> str:
    """`zh` when CJK characters outnumber Latin letters a third as much, else the default."""
    cjk = len(_CJK.findall(text))
    latin = len(_LETTER.findall(text))
    if cjk and cjk * 3 >= latin:
        return "zh"
    return default if cjk == 0 else ("zh" if cjk > latin else default)


def iso_day(value: Any) -> date | None:
    """The day an API's ISO date or timestamp names (`2024-05-06`, `2024-05-06T10:00:00Z`), or
    None for an empty or malformed one."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None

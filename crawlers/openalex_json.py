"""OpenAlex `/works` list pages: works with rebuilt abstracts, the next cursor, API errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipeline.normalise import clean_text, iso_day

_CJK_EDGE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


class NotWorks(ValueError):
    """The body is not an OpenAlex list page (HTML, truncated JSON, another shape)."""


@dataclass(frozen=True)
class Work:
    """The fields of one work the observatory keeps."""

    openalex_id: str
    doi: str | None
    title: str
    published: date | None
    lang: str | None
    abstract: str
    url: str | None
    venue: str | None
    work_type: str | None
    topics: tuple[dict[str, Any], ...] = ()
    concepts: tuple[dict[str, Any], ...] = ()
    keywords: tuple[str, ...] = ()
    cited_by_count: int = 0


@dataclass(frozen=True)
class WorksPage:
    """One page: its works, the cursor of the next page (None at the end), or an API error."""

    works: list[Work] = field(default_factory=list)
    next_cursor: str | None = None
    total: int = 0
    error: str | None = None


def rebuild_abstract(index: dict[str, list[int]] | None) -> str:
    """The abstract text from `abstract_inverted_index` (word -> positions)."""
    if not index:
        return ""
    placed = sorted((pos, word) for word, positions in index.items() for pos in positions)
    text = ""
    for _, word in placed:
        joined = text and _CJK_EDGE.match(text[-1]) and _CJK_EDGE.match(word[:1])
        text += word if not text or joined else f" {word}"
    return clean_text(text)


def _short_id(value: str | None) -> str:
    return (value or "").rstrip("/").rsplit("/", 1)[-1]


def _doi(value: str | None) -> str | None:
    if not value:
        return None
    return re.sub(r"^https?://(dx\.)?doi\.org/", "", value.strip(), flags=re.I).lower() or None


def _location(record: dict[str, Any]) -> tuple[str | None, str | None]:
    location = record.get("primary_location") or record.get("host_venue") or {}
    source = location.get("source") or {}
    venue = source.get("display_name") or location.get("display_name")
    return location.get("landing_page_url") or location.get("url"), venue


def _topic(topic: dict[str, Any]) -> dict[str, Any]:
    kept = {
        "id": _short_id(topic.get("id")),
        "name": topic.get("display_name"),
        "score": topic.get("score"),
    }
    for level in ("subfield", "field", "domain"):
        if isinstance(topic.get(level), dict):
            kept[level] = topic[level].get("display_name")
    return kept


def _concept(concept: dict[str, Any]) -> dict[str, Any]:
    score = concept.get("score")
    return {
        "id": _short_id(concept.get("id")),
        "name": concept.get("display_name"),
        "level": concept.get("level"),
        "score": float(score) if score is not None else None,
    }


def parse_work(record: dict[str, Any]) -> Work:
    """One work record of either schema (2022 `host_venue` or 2024+ `primary_location`)."""
    url, venue = _location(record)
    doi = _doi(record.get("doi") or (record.get("ids") or {}).get("doi"))
    return Work(
        openalex_id=_short_id(record.get("id")),
        doi=doi,
        title=clean_text(record.get("title") or record.get("display_name")),
        published=iso_day(record.get("publication_date")),
        lang=record.get("language"),
        abstract=rebuild_abstract(record.get("abstract_inverted_index")),
        url=url or (f"https://doi.org/{doi}" if doi else record.get("id")),
        venue=venue,
        work_type=record.get("type"),
        topics=tuple(_topic(t) for t in record.get("topics") or []),
        concepts=tuple(_concept(c) for c in record.get("concepts") or []),
        keywords=tuple(str(k.get("display_name")) for k in record.get("keywords") or []),
        cited_by_count=int(record.get("cited_by_count") or 0),
    )


def parse_works(body: bytes) -> WorksPage:
    """A list page; an `error` key (sent with any status) becomes `WorksPage.error`."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotWorks(f"not JSON ({error.__class__.__name__}: {error})") from error
    if not isinstance(data, dict):
        raise NotWorks("not an OpenAlex list page (top level is not an object)")
    if data.get("error"):
        message = data.get("message") or ""
        return WorksPage(error=f"{data['error']} {message}".strip())
    if not isinstance(data.get("results"), list):
        raise NotWorks("not an OpenAlex list page (no results list)")
    meta = data.get("meta") or {}
    return WorksPage(
        works=[parse_work(r) for r in data["results"] if isinstance(r, dict)],
        next_cursor=meta.get("next_cursor"),
        total=int(meta.get("count") or 0),
    )

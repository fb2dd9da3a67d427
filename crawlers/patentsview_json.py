"""PatentsView PatentSearch `/patent/` pages: grants with CPC codes, or the API's error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipeline.normalise import clean_text, iso_day


class NotPatents(ValueError):
    """The body is not a PatentSearch page (HTML, truncated JSON, the retired legacy API)."""


@dataclass(frozen=True)
class Patent:
    """The fields of one granted patent the observatory keeps."""

    patent_id: str
    title: str
    published: date | None
    abstract: str
    cpc: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    inventors: tuple[str, ...] = ()
    kind_code: str | None = None
    patent_type: str | None = None
    filing_date: str | None = None


@dataclass(frozen=True)
class PatentsPage:
    """One page of patents with the API's total, or its error."""

    patents: list[Patent] = field(default_factory=list)
    total: int = 0
    error: str | None = None


def _cpc(record: dict[str, Any]) -> tuple[str, ...]:
    groups = [row.get("cpc_group_id") for row in record.get("cpc_current") or []]
    if not groups:
        groups = [row.get("cpc_group") for row in record.get("cpc_at_issue") or []]
    return tuple(dict.fromkeys(str(g) for g in groups if g))


def _assignee(row: dict[str, Any]) -> str:
    if row.get("assignee_organization"):
        return str(row["assignee_organization"])
    first, last = (
        row.get("assignee_individual_name_first"),
        row.get("assignee_individual_name_last"),
    )
    return " ".join(str(part) for part in (first, last) if part)


def _inventor(row: dict[str, Any]) -> str:
    parts = (row.get("inventor_name_first"), row.get("inventor_name_last"))
    return " ".join(str(part) for part in parts if part)


def parse_patent(record: dict[str, Any]) -> Patent:
    """One `patents[]` record; nested groups are optional."""
    applications = record.get("application") or [{}]
    return Patent(
        patent_id=str(record.get("patent_id") or "").strip(),
        title=clean_text(record.get("patent_title")),
        published=iso_day(record.get("patent_date")),
        abstract=clean_text(record.get("patent_abstract")),
        cpc=_cpc(record),
        assignees=tuple(a for a in map(_assignee, record.get("assignees") or []) if a),
        inventors=tuple(i for i in map(_inventor, record.get("inventors") or []) if i),
        kind_code=record.get("wipo_kind"),
        patent_type=record.get("patent_type"),
        filing_date=applications[0].get("filing_date"),
    )


def error_detail(body: bytes) -> str | None:
    """The message of a JSON error body (`detail`, `message` or `error`), if there is one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("detail", "message", "error"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    return None


def parse_patents(body: bytes) -> PatentsPage:
    """A PatentSearch page; `"error": true` (or a message) becomes `PatentsPage.error`."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotPatents(f"not JSON ({error.__class__.__name__}: {error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("patents"), list):
        raise NotPatents("not a PatentSearch page (no patents list)")
    if "total_patent_count" in data:
        raise NotPatents("legacy PatentsView API answer (total_patent_count); use PatentSearch")
    if data.get("error"):
        return PatentsPage(error=error_detail(body) or "error flag set")
    records = [r for r in data["patents"] if isinstance(r, dict)]
    return PatentsPage(
        patents=[parse_patent(r) for r in records], total=int(data.get("total_hits") or 0)
    )

"""Chinese policy pages: gov.cn 最新政策 JSON list and detail pages, MIIT JPaaS list fragments."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from pipeline.normalise import clean_text

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
_DATE_TIME = re.compile(
    r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})日?"
    r"(?:[-\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_GOVCN_POLICY = re.compile(r"^/zhengce/(?:[a-z]+/)*\d{6}/content_\d+\.htm$")
_BODY_SELECTORS = ("#UCAP-CONTENT", ".pages_content", "div.TRS_UEDITOR", "article")


class NotAList(ValueError):
    """Raised when a list endpoint answers with something other than its JSON list."""


@dataclass(frozen=True)
class ListRow:
    """One row of a policy list: title, absolute URL, list date (day precision)."""

    title: str
    url: str
    day: date | None
    subtitle: str = ""


@dataclass(frozen=True)
class Detail:
    """A detail page: publication time in UTC (from Beijing time), body text, metadata."""

    title: str
    published: datetime | None
    raw_published: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


def beijing_to_utc(value: str) -> datetime | None:
    """`2026-09-08-17:30:12`, `2026-09-08 17:30`, `2026年09月09日` (Beijing time) in UTC."""
    found = _DATE_TIME.search(value or "")
    if not found:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)
    except ValueError:
        return None
    return local.astimezone(UTC)


def list_day(value: str) -> date | None:
    """A list's `YYYY-MM-DD` day, as printed (already a Beijing calendar day)."""
    found = _DATE_TIME.search(value or "")
    if not found:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def _not_json(body: bytes) -> NotAList:
    text = body[:2000].decode("utf-8", "replace")
    if "<html" in text.lower() or "<!doctype" in text.lower():
        title = Selector(text=text).css("title::text").get(default="")
        return NotAList(f"not a JSON list: an HTML page was served (title: {clean_text(title)})")
    return NotAList("not a JSON list: the body is not JSON")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _not_json(body) from None


def parse_govcn_list(body: bytes, base_url: str) -> list[ListRow]:
    """ZUIXINZHENGCE.json: a top-level array of {TITLE, SUB_TITLE, URL, DOCRELPUBTIME}."""
    data = _json(body)
    if not isinstance(data, list):
        raise NotAList("not a JSON list: expected a top-level array of rows")
    return [
        ListRow(
            title=clean_text(str(row.get("TITLE", ""))),
            url=urljoin(base_url, str(row.get("URL", "")).strip()),
            day=list_day(str(row.get("DOCRELPUBTIME", ""))),
            subtitle=clean_text(str(row.get("SUB_TITLE", ""))),
        )
        for row in data
        if isinstance(row, dict)
    ]


def is_govcn_policy(url: str) -> bool:
    """Only gov.cn `/zhengce/…/YYYYMM/content_<id>.htm` pages (no topics, columns, off-site)."""
    parts = urlsplit(url)
    return parts.hostname in ("www.gov.cn", "gov.cn") and bool(_GOVCN_POLICY.match(parts.path))


def _meta(page: Selector, name: str) -> str:
    return clean_text(page.css(f'meta[name="{name}"]::attr(content)').get(default=""))


def _body(page: Selector, selectors: tuple[str, ...]) -> str:
    for selector in selectors:
        node = page.css(selector)
        if node:
            paragraphs = [clean_text(p) for p in node[0].css("p, td").xpath("string()").getall()]
            text = "\n".join(p for p in paragraphs if p)
            return text or clean_text(node[0].xpath("string()").get(default=""))
    return ""


def _table(page: Selector) -> dict[str, str]:
    """The zhengceku metadata table: 索引号, 主题分类, 发文机关, 成文日期, 发文字号, 发布日期."""
    cells = [clean_text(c.xpath("string()").get(default="")) for c in page.css("table td")]
    pairs = itertools.pairwise(cells)
    return {
        label.rstrip("：:").replace(" ", "").replace("\u3000", ""): value
        for label, value in pairs
        if label.endswith(("：", ":")) and value
    }


def parse_govcn_detail(html: str) -> Detail:
    """Title, `firstpublishedtime` (Beijing) as UTC, `#UCAP-CONTENT` text and metas."""
    page = Selector(text=html)
    raw = _meta(page, "firstpublishedtime")
    title = (
        clean_text(page.css("h1#ti").xpath("string()").get(default=""))
        or clean_text(page.css("title::text").get(default="")).split("_")[0]
    )
    keywords = [k.strip() for k in re.split(r"[;,；，]", _meta(page, "keywords")) if k.strip()]
    meta = {
        "author": _meta(page, "author"),
        "keywords": keywords,
        "lanmu": _meta(page, "lanmu"),
        "lastmodifiedtime": _meta(page, "lastmodifiedtime"),
        **_table(page),
    }
    return Detail(
        title,
        beijing_to_utc(raw),
        raw,
        _body(page, _BODY_SELECTORS),
        {k: v for k, v in meta.items() if v},
    )


def parse_miit_unit(body: bytes, base_url: str) -> list[ListRow]:
    """The JPaaS `build/unit` answer: `data.html`, an HTML fragment of `<li>` items."""
    data = _json(body)
    fragment = data.get("data", {}).get("html") if isinstance(data, dict) else None
    if not isinstance(fragment, str):
        message = data.get("message") if isinstance(data, dict) else None
        raise NotAList(f"not a JPaaS list: no data.html ({message or 'no message'})")
    rows = []
    for item in Selector(text=fragment).css("li"):
        link = item.css("a")
        title = link.attrib.get("title") or link.xpath("string()").get(default="")
        rows.append(
            ListRow(
                title=clean_text(title),
                url=urljoin(base_url, link.attrib.get("href", "").strip()),
                day=list_day(item.css("span.fr, span.time").xpath("string()").get(default="")),
            )
        )
    return rows

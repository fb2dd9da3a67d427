"""The source list (`sources.toml`): parsed and validated with pydantic."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import InputError

Cadence = Literal["hourly", "daily", "weekly", "monthly"]
Direction = Literal["manufacturing", "information", "materials", "energy", "space", "health"]


class SourceConfig(BaseModel):
    """One source: which spider reads it, where, in which language and how politely."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    spider: str
    name: str = ""
    urls: list[str] = Field(default_factory=list)
    queries: list[str] = Field(default_factory=list)
    lang: str | None = None
    kind: Literal["news", "paper", "patent", "policy"] | None = None
    cadence: Cadence = "daily"
    delay_s: float = Field(default=1.0, ge=0)
    concurrency: int = Field(default=1, ge=1, le=16)
    directions: list[Direction] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class SourceList(BaseModel):
    """The whole file: a list of `[[source]]` tables with unique ids."""

    model_config = ConfigDict(extra="forbid")

    source: list[SourceConfig]


def _describe(error: ValidationError, path: str, data: dict[str, Any]) -> str:
    first = error.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(part) for part in loc)
    if len(loc) >= 2 and loc[0] == "source" and isinstance(loc[1], int):
        entry = data.get("source", [])[loc[1]]
        ident = entry.get("id", "?") if isinstance(entry, dict) else "?"
        where = f"source {ident!r} field {'.'.join(str(p) for p in loc[2:]) or '(entry)'}"
    return f"{path}: {where}: {first['msg']}"


def parse_sources(text: str, origin: str = "sources.toml") -> list[SourceConfig]:
    """Validate a sources file's text; errors name the source and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{origin}: not valid TOML: {error}") from error
    try:
        sources = SourceList.model_validate(data).source
    except ValidationError as error:
        raise InputError(_describe(error, origin, data)) from error
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            raise InputError(f"{origin}: source {source.id!r} field id: duplicate id")
        seen.add(source.id)
    return sources


def load_sources(path: Path | None = None) -> list[SourceConfig]:
    """The given sources file, or the one shipped with the package."""
    if path is None:
        text = resources.files("crawlers").joinpath("sources.toml").read_text("utf-8")
        return parse_sources(text, "crawlers/sources.toml")
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read sources file: {error.strerror}") from error
    return parse_sources(text, str(path))


def adhoc_source(spider: str, url: str) -> SourceConfig:
    """A one-off source for `observatory crawl --spider NAME --url URL`."""
    host = (urlsplit(url).hostname or "local").lower().removeprefix("www.")
    return SourceConfig(id=f"{spider}-{host}", spider=spider, urls=[url], name=host)


def select_sources(sources: list[SourceConfig], ids: list[str]) -> list[SourceConfig]:
    """The named sources (all enabled ones when none are named); unknown ids are an error."""
    if not ids:
        return [source for source in sources if source.enabled]
    by_id = {source.id: source for source in sources}
    unknown = [source_id for source_id in ids if source_id not in by_id]
    if unknown:
        raise InputError(
            f"unknown source id(s): {', '.join(unknown)}; configured: {', '.join(sorted(by_id))}"
        )
    return [by_id[source_id] for source_id in ids]

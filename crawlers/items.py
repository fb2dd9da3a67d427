"""What spiders yield besides `Document`: state to save and problems to record."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.records import Document

__all__ = ["Document", "Skipped", "SourceProblem", "StateUpdate"]


@dataclass(frozen=True)
class StateUpdate:
    """Incremental state (cursor, ETag, last date), saved after the documents yielded before it."""

    source_id: str
    key: str
    value: str | None


@dataclass(frozen=True)
class SourceProblem:
    """A source answered with an error instead of documents; recorded, never raised."""

    source_id: str
    message: str
    url: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An entry the spider saw but could not turn into a document, with the reason."""

    source_id: str
    reason: str
    url: str | None = None

"""Plain, frozen data records passed between stages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

DocKind = Literal["news", "paper", "patent", "policy"]
DOC_KINDS: tuple[DocKind, ...] = ("news", "paper", "patent", "policy")
DatePrecision = Literal["day", "week", "month", "quarter", "year"]
DATE_PRECISIONS: tuple[DatePrecision, ...] = ("day", "week", "month", "quarter", "year")
SignalClass = Literal["noise", "weak", "strong"]
LineageEvent = Literal["born", "continued", "merged", "split"]


def content_hash(title: str, text: str) -> str:
    """Hash of what gets embedded, so one text is embedded once per model."""
    normalised = " ".join(f"{title}\n{text}".split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Document:
    """One news item, paper abstract, patent abstract or policy text."""

    doc_id: str
    source: str
    kind: DocKind
    title: str
    text: str
    lang: str
    published: date
    url: str | None = None
    canonical_url: str | None = None
    date_precision: DatePrecision = "day"
    venue: str | None = None
    fetched_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def content_hash(self) -> str:
        """Computed once per document (every stage asks for it; a frozen record cannot change).
        Kept out of the fields, so equality, `replace` and `asdict` are as before."""
        return content_hash(self.title, self.text)

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}".strip()


@dataclass(frozen=True)
class EmergenceScore:
    """Emergence measures of one topic in one period, with the reasons a flag fired."""

    topic_id: str
    period: str
    n_docs: int
    share: float
    growth: float
    popularity: float
    signal_class: SignalClass
    high_potential: float
    reasons: tuple[str, ...] = ()

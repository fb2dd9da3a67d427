"""Import of JSON Lines corpora (the `../shared/corpora` format), all or nothing per file."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import duckdb

from pipeline.db import transaction
from pipeline.errors import InputError
from pipeline.normalise import canonical_url, clean_text
from pipeline.records import DATE_PRECISIONS, DOC_KINDS, Document
from pipeline.store import insert_documents, iter_batches

REQUIRED_FIELDS = ("id", "source", "kind", "date", "title", "text", "lang")
BATCH_SIZE = 2000


@dataclass
class IngestReport:
    """What one file's import did."""

    path: str
    read: int = 0
    added: int = 0
    already_stored: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)


def open_lines(path: Path) -> TextIO:
    """Text handle on a `.jsonl` or `.jsonl.gz` file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _field_error(location: str, name: str, expected: str, got: Any) -> InputError:
    shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
    return InputError(f"{location}: field '{name}': expected {expected}, got {shown}")


def _parse_date(location: str, value: Any) -> date:
    if not isinstance(value, str):
        raise _field_error(location, "date", "YYYY-MM-DD", value)
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _field_error(location, "date", "YYYY-MM-DD", value) from None


def _optional_str(location: str, record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise _field_error(location, name, "a string or null", value)


def parse_record(location: str, record: Any) -> Document:
    """One corpus line as a Document; raises InputError naming the field."""
    if not isinstance(record, dict):
        raise InputError(f"{location}: expected a JSON object, got {type(record).__name__}")
    for name in REQUIRED_FIELDS:
        if name not in record:
            raise InputError(f"{location}: field '{name}': missing")
    for name in ("id", "source", "title", "text", "lang"):
        if not isinstance(record[name], str):
            raise _field_error(location, name, "a string", record[name])
    if not record["id"].strip():
        raise _field_error(location, "id", "a non-empty string", record["id"])
    if record["kind"] not in DOC_KINDS:
        raise _field_error(location, "kind", " | ".join(DOC_KINDS), record["kind"])
    precision = record.get("date_precision") or "day"
    if precision not in DATE_PRECISIONS:
        raise _field_error(location, "date_precision", " | ".join(DATE_PRECISIONS), precision)
    meta = record.get("meta") or {}
    if not isinstance(meta, dict):
        raise _field_error(location, "meta", "a JSON object", meta)
    title, text = clean_text(record["title"]), clean_text(record["text"])
    if not title and not text:
        raise _field_error(location, "title", "a title or a text", record["title"])
    url = _optional_str(location, record, "url")
    return Document(
        doc_id=record["id"].strip(), source=record["source"], kind=record["kind"],
        title=title, text=text, lang=record["lang"] or "und",
        published=_parse_date(location, record["date"]), url=url,
        canonical_url=canonical_url(url), date_precision=precision,
        venue=_optional_str(location, record, "venue"), meta=meta,
    )


def read_documents(path: Path, skip_bad: bool, report: IngestReport) -> Iterator[Document]:
    """Parse a file line by line; a bad line raises unless `skip_bad`."""
    with open_lines(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            report.read += 1
            location = f"{path}:{number}"
            try:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise InputError(f"{location}: not valid JSON ({error.msg})") from None
                yield parse_record(location, record)
            except InputError as error:
                if not skip_bad:
                    raise
                report.skipped += 1
                report.skip_reasons[str(error).split(": ", 1)[1]] += 1


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, skip_bad: bool = False) -> IngestReport:
    """Import one file in a single transaction, so a bad line stores nothing from it."""
    report = IngestReport(path=str(path))
    with transaction(con):
        batch: list[Document] = []
        for doc in read_documents(path, skip_bad, report):
            batch.append(doc)
            if len(batch) >= BATCH_SIZE:
                report.added += insert_documents(con, batch)
                batch = []
        for chunk in iter_batches(batch, BATCH_SIZE):
            report.added += insert_documents(con, list(chunk))
    report.already_stored = report.read - report.skipped - report.added
    return report

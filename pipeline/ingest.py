"""Import of JSON Lines corpora (the `../shared/corpora` format), all or nothing per file."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

import duckdb

from pipeline.db import transaction
from pipeline.errors import InputError
from pipeline.normalise import canonical_url, clean_text
from pipeline.records import DATE_PRECISIONS, DOC_KINDS, Document
from pipeline.store import insert_documents, iter_batches

REQUIRED_FIELDS = ("id", "source", "kind", "date", "title", "text", "lang")
BATCH_SIZE = 2000
# Abstracts and news summaries are a few kB; a megabyte of text is a dump, not a document,
# and would only be cut by the encoder anyway.
MAX_TEXT_CHARS = 1_000_000
# Publishers east of UTC date items a day ahead of UTC; more than that is a wrong date.
FUTURE_TOLERANCE_DAYS = 1


@dataclass
class IngestReport:
    """What one file's import did."""

    path: str
    read: int = 0
    added: int = 0
    already_stored: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)


def open_lines(path: Path) -> IO[bytes]:
    """Byte handle on a `.jsonl` or `.jsonl.gz` file; lines are decoded one by one."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a .jsonl or .jsonl.gz file")
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def future_limit(today: date | None = None) -> date:
    """The latest publication day accepted: today (UTC) plus the tolerance."""
    return (today or datetime.now(UTC).date()) + timedelta(days=FUTURE_TOLERANCE_DAYS)


def _decode(location: str, raw: bytes) -> str:
    """One line as UTF-8, or an error naming the first byte that is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        # No guess at the real encoding: on one line, detectors name the wrong one too often.
        raise InputError(
            f"{location}: not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
            "corpus files must be UTF-8: re-encode it, e.g. `iconv -f GBK -t UTF-8` "
            "or `iconv -f LATIN1 -t UTF-8`"
        ) from None


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


def parse_record(location: str, record: Any, latest: date | None = None) -> Document:
    """One corpus line as a Document; raises InputError naming the field.

    `latest` is the last publication day accepted (default: `future_limit()`).
    """
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
    if len(text) > MAX_TEXT_CHARS:
        raise _field_error(
            location, "text", f"at most {MAX_TEXT_CHARS:,} characters", f"{len(text):,} characters"
        )
    url = _optional_str(location, record, "url")
    published = _parse_date(location, record["date"])
    latest = latest or future_limit()
    if published > latest:
        raise InputError(
            f"{location}: field 'date': {record['date']} is in the future "
            f"(latest accepted: {latest.isoformat()}, today UTC plus "
            f"{FUTURE_TOLERANCE_DAYS} day)"
        )
    return Document(
        doc_id=record["id"].strip(),
        source=record["source"],
        kind=record["kind"],
        title=title,
        text=text,
        lang=record["lang"] or "und",
        published=published,
        url=url,
        canonical_url=canonical_url(url),
        date_precision=precision,
        venue=_optional_str(location, record, "venue"),
        meta=meta,
    )


def _lines(path: Path, handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines; a damaged gzip stream is an error naming the file and line."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):
            yield number, raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        if number == 0 and isinstance(error, gzip.BadGzipFile):
            raise InputError(
                f"{path}: not gzip-compressed, though its name ends in .gz; "
                "rename it to .jsonl or compress it"
            ) from None
        reason = "cut off" if isinstance(error, EOFError) else f"damaged ({error})"
        raise InputError(
            f"{path}: the gzip stream is {reason} after line {number}; "
            "nothing from this file was stored"
        ) from None


def read_documents(
    path: Path, skip_bad: bool, report: IngestReport, latest: date | None = None
) -> Iterator[Document]:
    """Parse a file line by line; a bad line raises unless `skip_bad`."""
    latest = latest or future_limit()
    with open_lines(path) as handle:
        for number, raw in _lines(path, handle):
            if not raw.strip():
                continue
            report.read += 1
            location = f"{path}:{number}"
            try:
                line = _decode(location, raw)
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise InputError(f"{location}: not valid JSON ({error.msg})") from None
                yield parse_record(location, record, latest)
            except InputError as error:
                if not skip_bad:
                    raise
                report.skipped += 1
                report.skip_reasons[_reason(str(error))] += 1


def _reason(message: str) -> str:
    """A skip reason without the location or the line's own values, so reasons group."""
    reason = message.split(": ", 1)[1]
    if reason.startswith("not UTF-8"):
        return "not UTF-8"
    if reason.startswith("field 'date'") and "in the future" in reason:
        return "field 'date': in the future"
    return reason


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    skip_bad: bool = False,
    on_batch: Callable[[int], object] | None = None,
) -> IngestReport:
    """Import one file in a single transaction, so a bad line stores nothing from it.

    `on_batch` hears how many documents each stored batch held (a progress bar's steps).
    """
    report = IngestReport(path=str(path))
    with transaction(con):
        batch: list[Document] = []
        for doc in read_documents(path, skip_bad, report):
            batch.append(doc)
            if len(batch) >= BATCH_SIZE:
                report.added += insert_documents(con, batch)
                if on_batch is not None:
                    on_batch(len(batch))
                batch = []
        for chunk in iter_batches(batch, BATCH_SIZE):
            report.added += insert_documents(con, list(chunk))
            if on_batch is not None:
                on_batch(len(chunk))
    report.already_stored = report.read - report.skipped - report.added
    return report

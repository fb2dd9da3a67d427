"""Rows to stdout: CSV and JSON lines for pipes, rich tables for people."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, TextIO
from uuid import UUID

from rich.table import Table
from rich.text import Text

OutputFormat = Literal["table", "csv", "json"]


def jsonable(value: Any) -> Any:
    """A value JSON can hold: dates as ISO text, decimals as floats, nested values walked."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def json_line(value: Any) -> str:
    """One compact JSON line, non-ASCII text kept readable."""
    return json.dumps(jsonable(value), ensure_ascii=False)


def cell_text(value: Any) -> str:
    """A value as one CSV or table cell: empty for null, JSON for nested values."""
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return json_line(value)
    converted = jsonable(value)
    return converted if isinstance(converted, str) else str(converted)


def write_csv(
    columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]], stream: TextIO
) -> int:
    """Header and rows as CSV; the number of rows written."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for batch in batches:
        writer.writerows([cell_text(value) for value in row] for row in batch)
        count += len(batch)
    return count


def write_json_lines(
    columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]], stream: TextIO
) -> int:
    """One JSON object per row; the number of rows written."""
    count = 0
    for batch in batches:
        for row in batch:
            stream.write(json_line(dict(zip(columns, row, strict=True))) + "\n")
        count += len(batch)
    return count


def rows_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> Table:
    """A rich table of rows, nested values as JSON, text never read as markup."""
    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*(Text(cell_text(value)) for value in row))
    return table


def write_rows(
    output_format: OutputFormat,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    stream: TextIO,
) -> None:
    """Rows as CSV or JSON lines (a command draws its own table for the table format)."""
    if output_format == "csv":
        write_csv(columns, [rows], stream)
    elif output_format == "json":
        write_json_lines(columns, [rows], stream)

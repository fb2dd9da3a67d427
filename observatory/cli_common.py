"""What every command shares: the stderr console, common options, settings, one-line errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from observatory.output import OutputFormat, json_line, write_csv
from observatory.settings import Settings, load_settings
from pipeline.errors import InputError, ObservatoryError

if TYPE_CHECKING:
    import duckdb
    from _typeshed import DataclassInstance
    from rich.table import Table

    from pipeline.periods import Granularity

    Row = TypeVar("Row", bound=DataclassInstance)

err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="OBSERVATORY_DB",
        help="DuckDB file (default ./observatory.duckdb).",
        show_default=False,
    ),
]
GranularityOption = Annotated[
    str | None,
    typer.Option(
        "--granularity",
        "-g",
        help="day, week, month, quarter or year (default: the one the "
        "database was processed with, else week).",
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=0,
        help="Start N local Dask workers for embedding and clustering "
        "(default 0: all in this process).",
        show_default=False,
    ),
]
DaskAddressOption = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        help="Use the running Dask cluster at tcp://HOST:8786 (or OBSERVATORY_DASK_ADDRESS).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="table for people; csv or json (one object a line) for pipes."
    ),
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Seconds to wait for a writer when no read snapshot exists yet."
    ),
]


def build_settings(db: Path | None, **overrides: Any) -> Settings:
    """The command's settings, built once: flags over the environment over the defaults."""
    values = {key: value for key, value in overrides.items() if value is not None}
    if db is not None:
        values["db"] = db
    try:
        return load_settings(**values)
    except ObservatoryError as error:
        raise fail(error) from None


def prefect_env() -> None:
    """Prefect's environment, set before a command first imports Prefect (through flows)."""
    from flows.prefect_env import configure

    configure()


def granularity_for(settings: Settings, wanted: str | None) -> Granularity:
    """The flag's granularity, else OBSERVATORY_GRANULARITY, else the one the database was last
    processed with, else the settings' default (week)."""
    from pipeline.db import session
    from pipeline.periods import check_granularity
    from pipeline.queries import processed_granularities

    if wanted:
        return check_granularity(wanted)
    if settings.granularity is None and Path(settings.db).exists():
        with session(settings.db, read_only=True) as con:
            processed = processed_granularities(con)
        if processed:
            return check_granularity(processed[0])
    return check_granularity(settings.granularity or settings.engine.granularity)


def fail(error: ObservatoryError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(error))}", markup=True, soft_wrap=True)
    return typer.Exit(error.exit_code)


def parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--{name}: expected YYYY-MM-DD, got {value!r}") from None


@contextmanager
def reading(
    db: Path, wait_seconds: float, files: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, saying on stderr when it reads a snapshot."""
    import duckdb

    from observatory.analyst import open_reader
    from pipeline.db import damaged

    with open_reader(db, wait_seconds, files) as reading:
        if reading.snapshot_at is not None:
            err.print(
                f"{db} is being written: answered from its read snapshot of "
                f"{reading.snapshot_at:%H:%M:%S}"
            )
        try:
            yield reading.con
        except duckdb.Error as error:
            problem = damaged(db, error)
            if problem is None:
                raise
            raise problem from error


def topic_granularity(
    con: duckdb.DuckDBPyConnection, wanted: str | None, period: str | None, default: str
) -> Granularity:
    """The granularity asked for, else the period's, else the default or the last processed."""
    from pipeline.periods import check_granularity, granularity_of
    from pipeline.queries import processed_granularities

    if wanted:
        return check_granularity(wanted)
    if period:
        return granularity_of(period.strip())
    processed = processed_granularities(con)
    if not processed:
        raise ObservatoryError("no processed periods yet; run `observatory process` first")
    return check_granularity(default if default in processed else processed[0])


def period_and_direction(
    con: Any, granularity: str | None, period: str | None, direction: str | None, default: str
) -> tuple[str, str]:
    """The granularity and period a listing reads (latest by default); checks --direction."""
    from pipeline.periods import normalise_period
    from pipeline.queries import known_directions, latest_period

    chosen = topic_granularity(con, granularity, period, default)
    label = normalise_period(period, chosen) if period else latest_period(con, chosen)
    if label is None:
        raise ObservatoryError(
            f"no {chosen} periods processed yet; run `observatory process -g {chosen}` first"
        )
    if direction is not None and direction not in known_directions(con):
        raise InputError(
            f"--direction: unknown direction {direction!r}; known: "
            f"{', '.join(sorted(known_directions(con)))}"
        )
    return chosen, label


def show_period_rows(
    query: Callable[[duckdb.DuckDBPyConnection, str, str], Sequence[Row]],
    row_type: type[Row],
    *,
    db: Path | None,
    wait: float,
    granularity: str | None,
    period: str | None,
    direction: str | None,
    output_format: OutputFormat,
    table: Callable[[Sequence[Row], str], Table],
    noun: str,
) -> None:
    """One period's listing (the latest by default) as a table, JSON lines or CSV.

    `query` gets the connection, the granularity and the period label; `table` gets the rows
    and "granularity label" for its title. The count goes to stderr, so pipes get rows only.
    """
    settings = build_settings(db)
    try:
        with reading(settings.db, wait) as con:
            chosen, label = period_and_direction(
                con,
                granularity,
                period,
                direction,
                settings.granularity or settings.engine.granularity,
            )
            rows = query(con, chosen, label)
    except ObservatoryError as error:
        raise fail(error) from None
    if output_format == "json":
        for row in rows:
            typer.echo(json_line(row))
    elif output_format == "csv":
        # Columns from the row type, so an empty listing still has its header.
        names = [f.name for f in fields(row_type)]
        write_csv(names, [[list(asdict(r).values()) for r in rows]], sys.stdout)
    else:
        Console().print(table(rows, f"{chosen} {label}"))
    err.print(f"{len(rows)} {noun} in {label} ({chosen})")

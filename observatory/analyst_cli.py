"""`observatory sql`, `topics`, `topic` and `export`: reading the database while it is written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from observatory.cli_common import (
    DbOption,
    FormatOption,
    GranularityOption,
    WaitOption,
    build_settings,
    err,
    fail,
    reading,
    show_period_rows,
)
from pipeline.errors import ObservatoryError


def sql(
    query: Annotated[
        str,
        typer.Argument(
            help="One read-only statement: SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN."
        ),
    ],
    output_format: FormatOption = "table",
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """Answer one read-only SQL query, even while another process writes; writes are refused."""
    from observatory.analyst import check_read_only, run_query
    from observatory.output import rows_table, write_csv, write_json_lines

    settings = build_settings(db)
    try:
        check_read_only(query)
        with reading(settings.db, wait) as con:
            result = run_query(con, query)
            if output_format == "csv":
                count = write_csv(result.columns, result.batches(), sys.stdout)
            elif output_format == "json":
                count = write_json_lines(result.columns, result.batches(), sys.stdout)
            else:
                rows = [row for batch in result.batches() for row in batch]
                Console().print(rows_table(result.columns, rows))
                count = len(rows)
    except ObservatoryError as error:
        raise fail(error) from None
    err.print(f"{count} rows")


def topics(
    direction: Annotated[str | None, typer.Option(help="Only this direction, or unmapped.")] = None,
    status: Annotated[
        Literal["emerging", "strong", "new"] | None,
        typer.Option(help="emerging (weak or strong signal), strong, or new (born in the period)."),
    ] = None,
    period: Annotated[str | None, typer.Option(help="Period label (default: the latest).")] = None,
    granularity: GranularityOption = None,
    limit: Annotated[int, typer.Option(min=1, help="How many topics.")] = 20,
    output_format: Annotated[
        Literal["table", "json"],
        typer.Option("--format", "-f", help="table, or json (one topic a line)."),
    ] = "table",
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """Topics of a period, highest high-potential score first, by direction and status."""
    from observatory.topic_view import topics_table
    from pipeline.queries import TopicSummary, topics_in_period

    show_period_rows(
        lambda con, chosen, label: topics_in_period(con, chosen, label, direction, status, limit),
        TopicSummary,
        db=db,
        wait=wait,
        granularity=granularity,
        period=period,
        direction=direction,
        output_format=output_format,
        table=topics_table,
        noun="topics",
    )


def topic(
    topic_id: Annotated[str, typer.Argument(help="Topic id, e.g. 2024-W19/03.")],
    evidence: Annotated[int, typer.Option(min=0, help="How many evidence documents.")] = 10,
    output_format: Annotated[
        Literal["table", "json"],
        typer.Option("--format", "-f", help="table, or json (one object)."),
    ] = "table",
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """One topic: label, keywords, lineage, scores with reasons, directions, evidence."""
    from observatory.output import json_line
    from observatory.topic_view import topic_view
    from pipeline.queries import topic_detail

    settings = build_settings(db)
    try:
        with reading(settings.db, wait) as con:
            detail = topic_detail(con, topic_id, evidence)
        if detail is None:
            raise ObservatoryError(f"no topic {topic_id!r}; `observatory topics` lists them")
    except ObservatoryError as error:
        raise fail(error) from None
    if output_format == "json":
        typer.echo(json_line(detail))
    else:
        Console().print(topic_view(detail))


def export(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    export_format: Annotated[
        Literal["parquet", "csv"], typer.Option("--format", "-f", help="parquet or csv.")
    ] = "parquet",
    tables: Annotated[
        list[str] | None,
        typer.Option("--table", help="Only these tables (repeatable; default: the main tables)."),
    ] = None,
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """Write the main tables to Parquet or CSV files, one per table; prints the paths."""
    from observatory.analyst import check_export_tables, export_tables

    settings = build_settings(db)
    try:
        with reading(settings.db, wait, files=True) as con:
            chosen = check_export_tables(con, tables or [])
            written = export_tables(con, out, export_format, chosen)
    except ObservatoryError as error:
        raise fail(error) from None
    for path in written:
        typer.echo(str(path))
    err.print(f"exported {len(written)} tables to {out} ({export_format})")

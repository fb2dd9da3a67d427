"""`observatory watch add|list|remove`: phrases followed like topics in every period."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from observatory.cli_common import DbOption, FormatOption, build_settings, fail
from observatory.output import write_rows
from pipeline.errors import ObservatoryError

watch_app = typer.Typer(help="Follow phrases like topics: add, list, remove.", no_args_is_help=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
DEFAULT_THRESHOLD = 0.35
COLUMNS = ["watch_id", "phrase", "threshold", "period", "n_docs", "signal_class", "high_potential"]


def _db(db: Path | None) -> Path:
    return build_settings(db).db


@watch_app.command("add")
def add(
    phrase: Annotated[str, typer.Argument(help="What to follow, in any language.")],
    threshold: Annotated[
        float, typer.Option(help="Cosine to the phrase that also counts as a match.")
    ] = DEFAULT_THRESHOLD,
    db: DbOption = None,
) -> None:
    """Add a watch phrase; it is scored from the next processed period on."""
    from pipeline.db import transaction, write_step
    from pipeline.watch_store import add_watch

    try:
        with write_step(_db(db)) as con, transaction(con):
            watch = add_watch(con, phrase, threshold)
    except ObservatoryError as error:
        err.print(f"error: {error}")
        raise typer.Exit(error.exit_code) from None
    typer.echo(watch.watch_id)
    err.print(f"watching {watch.phrase!r} as {watch.watch_id}")


@watch_app.command("list")
def list_(output_format: FormatOption = "table", db: DbOption = None) -> None:
    """Every watch with its latest period's figures."""
    from pipeline.db import session

    try:
        with session(_db(db), read_only=True) as con:
            rows = con.execute(
                "SELECT w.watch_id, w.phrase, w.threshold, p.period, p.n_docs, p.signal_class, "
                "p.high_potential FROM watchlist w LEFT JOIN (SELECT * FROM watch_periods "
                "QUALIFY row_number() OVER (PARTITION BY watch_id ORDER BY period DESC) = 1) p "
                "USING (watch_id) ORDER BY w.added_at"
            ).fetchall()
    except ObservatoryError as error:
        err.print(f"error: {error}")
        raise typer.Exit(error.exit_code) from None
    if output_format != "table":
        write_rows(output_format, COLUMNS, rows, sys.stdout)
        return
    table = Table("watch", "phrase", "threshold", "period", "docs", "signal", "potential")
    for row in rows:
        table.add_row(*["-" if value is None else str(value) for value in row])
    Console().print(table)


@watch_app.command("remove")
def remove(
    key: Annotated[str, typer.Argument(help="Watch id or the phrase.")], db: DbOption = None
) -> None:
    """Stop following a phrase (its rows are removed too)."""
    from pipeline.db import transaction, write_step
    from pipeline.watch_store import remove_watch

    try:
        with write_step(_db(db)) as con, transaction(con):
            removed = remove_watch(con, key)
    except ObservatoryError as error:  # a busy (locked) or damaged database: one line
        raise fail(error) from None
    if not removed:
        err.print(f"error: no watch {key!r}")
        raise typer.Exit(1)
    err.print(f"removed {key!r}")

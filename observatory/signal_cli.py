"""`observatory signals`: a period's one ranked list of term and topic signals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import typer
from rich.table import Table

from observatory.cli_common import DbOption, show_period_rows
from pipeline.queries import RankedSignal


def _lead_lag(first_seen: dict[str, str]) -> str:
    """ "papers since 2019, patents since 2021, zh since 2023", earliest first."""
    parts = sorted(first_seen.items(), key=lambda item: (item[1], item[0]))
    return ", ".join(f"{key.split(':', 1)[1]} since {period}" for key, period in parts)


def signals_table(rows: Sequence[RankedSignal], title: str) -> Table:
    """One line per signal: rank, kind, class, score, label, direction, size, lead-lag, why."""
    table = Table(title=title, show_lines=True)
    for name in ("#", "kind", "class", "score", "signal", "direction", "docs", "seen", "reasons"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.rank),
            row.kind,
            row.signal_class,
            f"{row.score:.2f}",
            f"{row.label}\n{row.signal_id}",
            row.direction,
            f"{row.n_docs} ({row.share:.1%})",
            _lead_lag(row.first_seen),
            "\n".join(row.reasons[:2]),
        )
    return table


def signals_command(
    period: Annotated[str | None, typer.Option(help="Period label (default: the latest).")] = None,
    direction: Annotated[str | None, typer.Option(help="Only this direction, or unmapped.")] = None,
    granularity: Annotated[
        str | None, typer.Option("--granularity", "-g", help="day, week, month, quarter or year.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many signals.")] = 20,
    flagged: Annotated[
        bool, typer.Option("--flagged", help="Only weak and strong signals.")
    ] = False,
    output_format: Annotated[
        Literal["table", "json", "csv"],
        typer.Option("--format", "-f", help="table, json (one signal a line) or csv."),
    ] = "table",
    wait: Annotated[
        float,
        typer.Option(
            "--wait", min=0, help="Seconds to wait for a writer before reading a snapshot."
        ),
    ] = 5.0,
    db: DbOption = None,
) -> None:
    """A period's ranked signals: emerging terms and topics in one list, flagged first."""
    from pipeline.queries import ranked_signals

    show_period_rows(
        lambda con, chosen, label: ranked_signals(con, chosen, label, direction, limit, flagged),
        RankedSignal,
        db=db,
        wait=wait,
        granularity=granularity,
        period=period,
        direction=direction,
        output_format=output_format,
        table=lambda rows, title: signals_table(rows, f"signals, {title}"),
        noun="signals",
    )

"""`observatory runs`, `weekly`, `demo` and `schedule`: whole jobs and their history."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from observatory.cli_common import (
    DbOption,
    FormatOption,
    build_settings,
    err,
    fail,
    granularity_for,
    prefect_env,
)
from observatory.output import write_rows
from pipeline.errors import ObservatoryError


def runs(
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
    output_format: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Past runs (processing and crawls) with status, counts and timings, newest first."""
    from crawlers.run import crawl_runs
    from pipeline.db import session
    from pipeline.store import list_runs

    settings = build_settings(db)
    try:
        with session(settings.db, read_only=True) as con:
            rows = sorted(
                list_runs(con, limit) + crawl_runs(con, limit),
                key=lambda row: row["started"],
                reverse=True,
            )[:limit]
    except ObservatoryError as error:
        raise fail(error) from None
    if output_format != "table":
        columns = [
            "run_id",
            "kind",
            "status",
            "started",
            "finished",
            "seconds",
            "model",
            "counts",
            "error",
        ]
        write_rows(
            output_format,
            columns,
            [
                [
                    *(row[name] for name in columns[:5]),
                    _seconds(row),
                    row["model"],
                    json.loads(row["counts"] or "{}"),
                    row["error"],
                ]
                for row in rows
            ],
            sys.stdout,
        )
        return
    table = Table("run", "kind", "status", "started", "seconds", "counts")
    for row in rows:
        seconds = _seconds(row)
        table.add_row(
            row["run_id"],
            row["kind"],
            row["status"],
            f"{row['started']:%Y-%m-%d %H:%M}",
            f"{seconds:.1f}" if seconds is not None else "-",
            ", ".join(f"{k}={v}" for k, v in json.loads(row["counts"] or "{}").items()),
        )
    Console().print(table)


def _seconds(run: dict[str, Any]) -> float | None:
    finished = run["finished"]
    return (finished - run["started"]).total_seconds() if finished else None


def weekly(
    source_ids: Annotated[
        list[str] | None, typer.Argument(help="Source ids (default: all).")
    ] = None,
    no_crawl: Annotated[bool, typer.Option("--no-crawl", help="Skip crawling.")] = False,
    db: DbOption = None,
) -> None:
    """Run the weekly flow now: crawl, process new periods, write the report.

    Prints a line per source as the crawl goes and always ends with a summary; exits 1 when a
    step failed or every source failed (naming them), 130 when stopped with Ctrl-C.
    """
    import signal

    settings = build_settings(db)
    prefect_env()
    from observatory.weekly import weekly_flow

    # Prefect's engine and its temporary server do not reliably pass Ctrl-C on as
    # KeyboardInterrupt (a run went on into processing with the server gone), so Ctrl-C ends
    # the process here. That is safe: every write is a transaction that a stop leaves undone,
    # and the crawl process (same process group, same signal) closes its spiders itself.
    previous = signal.signal(signal.SIGINT, _interrupted_weekly)
    try:
        # The database's granularity, like `process` and `report` (a demo database is by
        # quarter; a weekly job on it must not start a second, weekly series).
        chosen = granularity_for(settings, None)
        result = weekly_flow(
            str(settings.db),
            source_ids or None,
            crawl=not no_crawl,
            progress=True,
            overrides={"granularity": chosen},
        )
    except ObservatoryError as error:
        raise fail(error) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    for line in result.summary_lines():
        err.print(line, markup=False)
    if result.report:
        typer.echo(str(result.report.html))
    if result.failed:
        raise typer.Exit(1)


def _interrupted_weekly(signum: int, frame: Any) -> None:
    import os

    err.print(
        "weekly run interrupted (Ctrl-C): what was stored is kept (documents so far, "
        "each processed period whole); run it again to continue"
    )
    sys.stderr.flush()
    os._exit(130)


def demo(
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option(help="Report folder (default reports_out).")] = None,
) -> None:
    """Offline end-to-end run on the bundled sample and recorded feeds; prints the report path.

    It writes into the default database (./observatory.duckdb, or --db / OBSERVATORY_DB), so
    the commands it suggests next find it; it refuses a database holding other documents.
    """
    settings = build_settings(db, reports_dir=out)
    prefect_env()
    from flows.demo import DEMO_GRANULARITY, DEMO_REDUCER, demo_flow

    if not settings.given("engine.cluster.reducer"):
        engine = settings.engine
        settings = settings.model_copy(
            update={
                "engine": replace(engine, cluster=replace(engine.cluster, reducer=DEMO_REDUCER))
            }
        )
    try:
        # The demo crawls recorded feeds only: no API key goes into its flow's parameters.
        result = demo_flow(
            settings.db,
            settings.reports_dir,
            settings.crawl.without_secrets(),
            settings.engine_params(DEMO_GRANULARITY),
            settings.encoder,
            settings.encoder_threads,
            settings.taxonomy,
        )
    except ObservatoryError as error:
        raise fail(error) from None
    added = sum(r.added for r in result.ingested)
    stored = sum(r.added + r.already_stored for r in result.ingested)
    read = sum(s.items_stored + s.items_dropped for c in result.crawls for s in c.sources)
    kept = sum(c.items_stored for c in result.crawls)
    flagged = sum(p.n_flagged for p in result.processed.periods)
    err.print(
        f"demo: {stored} sample documents ({added} new), as of {result.as_of}; "
        f"{len(result.crawls)} recorded feeds crawled by the RSS spider: {read} items "
        f"read, {kept} kept (all from 2020-04, after that day); "
        f"{len(result.processed.periods)} quarters processed to {result.last_period}, "
        f"{flagged} topic-quarters flagged"
    )
    err.print(f"report: {result.report.html}")
    suffix = "" if db is None else f" --db {db}"
    err.print("next, try:")
    for command in (
        f"observatory topics --status emerging{suffix}",
        f"observatory topics --direction energy{suffix}",
        f'observatory sql "SELECT period, direction, label, signal_class '
        f'FROM v_emerging ORDER BY rank LIMIT 10"{suffix}',
        f"observatory report --period 2016-Q2{suffix}",
    ):
        err.print(f"  {command}")
    typer.echo(str(result.report.html))


def schedule(
    cron: Annotated[str, typer.Option(help="Cron expression, e.g. '0 6 * * MON'.")],
    timezone: Annotated[
        str | None,
        typer.Option(help="Time zone of the cron expression (default UTC), e.g. Europe/Berlin."),
    ] = None,
    name: Annotated[str, typer.Option(help="Prefect deployment name.")] = "observatory-weekly",
    no_crawl: Annotated[bool, typer.Option("--no-crawl", help="Skip crawling.")] = False,
    db: DbOption = None,
) -> None:
    """Serve the weekly flow on a cron schedule with Prefect until stopped."""
    from observatory.schedule import cron_schedule, serve_weekly

    settings = build_settings(db)
    try:
        chosen = cron_schedule(cron, timezone)
        err.print(
            f"serving the weekly flow as {name!r} on {cron!r} ({timezone or 'UTC'}); Ctrl-C stops"
        )
        serve_weekly(settings, chosen, name, crawl=not no_crawl)
    except ObservatoryError as error:
        raise fail(error) from None

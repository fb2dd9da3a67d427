"""`observatory ingest`, `crawl` and `sources`: documents in, and where they come from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import InputError, ObservatoryError

if TYPE_CHECKING:

    pass

from observatory.cli_common import (
    DbOption,
    build_settings,
    err,
    fail,
    parse_day,
)


def ingest(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines files (.jsonl or .jsonl.gz).")],
    skip_bad: Annotated[bool, typer.Option(help="Import good lines, report bad ones.")] = False,
    db: DbOption = None,
) -> None:
    """Import corpus files; a bad line stops only its file, with nothing from it stored (exit 2).

    The other files are still read; the closing lines give each file's outcome.
    """
    from pipeline.db import write_step
    from pipeline.ingest import ingest_file

    settings = build_settings(db)
    failed: list[tuple[Path, str]] = []
    try:
        for path in files:
            try:
                with write_step(settings.db) as con:
                    report = ingest_file(con, path, skip_bad=skip_bad)
            except InputError as error:
                # A bad file stops only itself; a damaged database (SchemaError) stops all.
                err.print(f"[red]error:[/red] {error}", markup=True, soft_wrap=True)
                failed.append((path, str(error)))
                continue
            err.print(f"{path}: {report.read} read, {report.added} added, "
                      f"{report.already_stored} already stored, {report.skipped} skipped")
            for reason, count in sorted(report.skip_reasons.items()):
                err.print(f"  skipped {count} x {reason}")
    except ObservatoryError as error:
        raise fail(error) from None
    if failed:
        if len(files) > 1:
            err.print(f"{len(files) - len(failed)} of {len(files)} files imported; "
                      f"not imported: {', '.join(str(path) for path, _ in failed)}")
        raise typer.Exit(InputError.exit_code)


def crawl(
    source_ids: Annotated[list[str] | None, typer.Argument(help="Source ids (default: all).")]
    = None,
    since: Annotated[str | None, typer.Option(help="Only items from this day (YYYY-MM-DD).")]
    = None,
    until: Annotated[str | None, typer.Option(help="Only items up to this day.")] = None,
    spider: Annotated[str | None, typer.Option(help="Spider for one ad-hoc URL.")] = None,
    url: Annotated[str | None, typer.Option(help="The ad-hoc URL for --spider.")] = None,
    db: DbOption = None,
) -> None:
    """Crawl configured sources, or one URL with one spider, into the database.

    Unreachable hosts are skipped after a quick probe; each source stops at its deadline.
    Exits 1 when every source failed, naming them.
    """
    from crawlers.run import run_crawl
    from pipeline.db import write_step

    settings = build_settings(db)
    try:
        summary = run_crawl(settings.db, source_ids or None, parse_day(since, "since"),
                            parse_day(until, "until"), spider=spider, url=url,
                            params=settings.crawl, on_source=lambda s: err.print(s.line()))
        with write_step(settings.db):  # the crawl's documents reach the read snapshot
            pass
    except ObservatoryError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        err.print("crawl interrupted: documents stored so far are kept; "
                  "`observatory sources` shows each source's last crawl")
        raise typer.Exit(130) from None
    err.print(summary.closing_line())
    if summary.all_failed:
        err.print("[red]error:[/red] every source failed: "
                  + ", ".join(s.source_id for s in summary.failed), markup=True, soft_wrap=True)
        raise typer.Exit(1)


def sources(db: DbOption = None) -> None:
    """Each configured source with its last crawl and health."""
    from crawlers.run import list_sources

    settings = build_settings(db)
    try:
        rows = list_sources(settings.db, settings.crawl.sources_file)
    except ObservatoryError as error:
        raise fail(error) from None
    table = Table("source", "spider", "lang", "cadence", "last crawl", "stored", "health")
    for row in rows:
        crawl_row = row.last_crawl
        table.add_row(row.source_id, row.spider, row.lang or "", row.cadence,
                      f"{row.last_started:%Y-%m-%d %H:%M}" if row.last_started else "-",
                      str(crawl_row.items_stored) if crawl_row else "-", row.health)
    Console().print(table)

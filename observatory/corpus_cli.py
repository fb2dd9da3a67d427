"""`observatory ingest`, `crawl` and `sources`: documents in, and where they come from."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from observatory.cli_common import (
    DbOption,
    FormatOption,
    build_settings,
    err,
    fail,
    parse_day,
)
from observatory.output import write_rows
from observatory.progress import progress_bar
from pipeline.errors import InputError, ObservatoryError

if TYPE_CHECKING:
    from crawlers.run import SourceCrawl, SourceHealth


def ingest(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines files (.jsonl or .jsonl.gz).")],
    skip_bad: Annotated[bool, typer.Option(help="Import good lines, report bad ones.")] = False,
    db: DbOption = None,
) -> None:
    """Import corpus files; a bad line stops only its file, with nothing from it stored (exit 2).

    The other files are still read; the closing lines give each file's outcome.
    """
    settings = build_settings(db)
    failed: list[tuple[Path, str]] = []
    try:
        with progress_bar(err) as bar:
            task = bar.add_task("ingesting (files)", total=len(files))
            documents = bar.add_task("documents read", total=None)
            for path in files:
                bar.update(task, description=f"ingesting {path.name}")
                _ingest_one(
                    settings.db, path, skip_bad, failed, lambda n: bar.advance(documents, n)
                )
                bar.advance(task)
    except ObservatoryError as error:
        raise fail(error) from None
    if failed:
        if len(files) > 1:
            err.print(
                f"{len(files) - len(failed)} of {len(files)} files imported; "
                f"not imported: {', '.join(str(path) for path, _ in failed)}"
            )
        raise typer.Exit(InputError.exit_code)


def _ingest_one(
    db: Path,
    path: Path,
    skip_bad: bool,
    failed: list[tuple[Path, str]],
    on_batch: Callable[[int], object],
) -> None:
    """One file, its outcome on stderr; a bad file is added to `failed` (and stops only
    itself), a damaged database (SchemaError) is raised and stops all."""
    from pipeline.db import write_step
    from pipeline.ingest import ingest_file

    try:
        with write_step(db) as con:
            report = ingest_file(con, path, skip_bad=skip_bad, on_batch=on_batch)
    except InputError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", markup=True, soft_wrap=True)
        failed.append((path, str(error)))
        return
    err.print(
        f"{path}: {report.read} read, {report.added} added, "
        f"{report.already_stored} already stored, {report.skipped} skipped"
    )
    for reason, count in sorted(report.skip_reasons.items()):
        err.print(f"  skipped {count} x {reason}")


def crawl(
    source_ids: Annotated[
        list[str] | None, typer.Argument(help="Source ids (default: all).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only items from this day (YYYY-MM-DD).")
    ] = None,
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
        with progress_bar(err) as bar:
            task = bar.add_task(
                "crawling (sources)",
                total=_planned(settings.crawl.sources_file, source_ids, spider),
            )

            def on_source(source: SourceCrawl) -> None:
                err.print(source.line())
                bar.advance(task)

            summary = run_crawl(
                settings.db,
                source_ids or None,
                parse_day(since, "since"),
                parse_day(until, "until"),
                spider=spider,
                url=url,
                params=settings.crawl,
                on_source=on_source,
            )
        with write_step(settings.db):  # the crawl's documents reach the read snapshot
            pass
    except ObservatoryError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        err.print(
            "crawl interrupted: documents stored so far are kept; "
            "`observatory sources` shows each source's last crawl"
        )
        raise typer.Exit(130) from None
    err.print(summary.closing_line())
    if summary.all_failed:
        err.print(
            "[red]error:[/red] every source failed: "
            + ", ".join(s.source_id for s in summary.failed),
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(1)


def _planned(
    sources_file: Path | None, source_ids: list[str] | None, spider: str | None
) -> int | None:
    """How many sources the crawl will run (for the bar); None when that is not known here."""
    from crawlers.sources import load_sources, select_sources

    if spider:
        return 1
    try:
        return len(select_sources(load_sources(sources_file), source_ids or []))
    except ObservatoryError:
        return None  # the crawl itself says what is wrong


def sources(output_format: FormatOption = "table", db: DbOption = None) -> None:
    """Each configured source with its last crawl and health."""
    from crawlers.run import list_sources

    settings = build_settings(db)
    try:
        rows = list_sources(settings.db, settings.crawl.sources_file)
    except ObservatoryError as error:
        raise fail(error) from None
    if output_format != "table":
        columns = [
            "source_id",
            "spider",
            "lang",
            "cadence",
            "directions",
            "last_crawl",
            "requests",
            "stored",
            "dropped",
            "errors",
            "health",
        ]
        write_rows(output_format, columns, [_source_row(row) for row in rows], sys.stdout)
        return
    table = Table("source", "spider", "lang", "cadence", "last crawl", "stored", "health")
    for row in rows:
        crawl_row = row.last_crawl
        table.add_row(
            row.source_id,
            row.spider,
            row.lang or "",
            row.cadence,
            f"{row.last_started:%Y-%m-%d %H:%M}" if row.last_started else "-",
            str(crawl_row.items_stored) if crawl_row else "-",
            row.health,
        )
    Console().print(table)


def _source_row(row: SourceHealth) -> list[Any]:
    crawl = row.last_crawl
    return [
        row.source_id,
        row.spider,
        row.lang,
        row.cadence,
        list(row.directions),
        row.last_started,
        crawl.requests if crawl else None,
        crawl.items_stored if crawl else None,
        crawl.items_dropped if crawl else None,
        list(crawl.errors) if crawl else [],
        row.health,
    ]

"""`observatory scan PHRASE`: registered in cli.py with `app.command("scan")(scan_command)`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from observatory.settings import Settings, load_settings
from pipeline.errors import InputError, ObservatoryError

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _base_urls(items: list[str]) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in items]
    if any(len(pair) != 2 or not all(pair) for pair in pairs):
        raise InputError("--base-url: expected SOURCE=URL, e.g. scan-arxiv=http://127.0.0.1:8000")
    return dict((name, url) for name, url in pairs)


def scan_database(weekly_db: Path) -> Path:
    """Where scans store by default: `observatory.duckdb` -> `observatory.scans.duckdb`."""
    return weekly_db.with_name(f"{weekly_db.stem}.scans{weekly_db.suffix or '.duckdb'}")


def _settings(db: Path | None, out: Path | None, encoder: str | None) -> Settings:
    base = load_settings()
    # A scan's documents are about one phrase: in the weekly database they would make that
    # phrase look like it is emerging. So a scan writes to its own database unless told.
    given: dict[str, object] = {
        "db": db or scan_database(base.db),
        "reports_dir": out,
        "encoder": encoder,
    }
    return base.model_copy(update={k: v for k, v in given.items() if v is not None})


def scan_command(
    phrase: Annotated[str, typer.Argument(help="The technology to scan for, in any language.")],
    since: Annotated[str, typer.Option(help="How far back: 2y, 6m, 8w, 30d or YYYY-MM-DD.")] = "2y",
    lang: Annotated[str, typer.Option("--lang", help="News languages, comma-separated.")] = "en,zh",
    granularity: Annotated[
        str | None,
        typer.Option(
            "--granularity", "-g", help="day, week, month, quarter or year (default: week)."
        ),
    ] = None,
    encoder: Annotated[str | None, typer.Option(help="Encoder name or path.")] = None,
    threshold: Annotated[
        float, typer.Option(help="Cosine to the phrase that also counts as a watch match.")
    ] = 0.35,
    out: Annotated[Path | None, typer.Option(help="Output folder for the report.")] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            "--base-url", help="SOURCE=URL: point a scan source (scan-arxiv, ...) at a mirror."
        ),
    ] = None,
    impolite: Annotated[
        bool,
        typer.Option(
            "--impolite", hidden=True, help="No crawl delays (local replay servers only)."
        ),
    ] = False,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="The scan's own DuckDB file (default: observatory.scans.duckdb beside "
            "the weekly database, which a scan never writes to).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Crawl a phrase from the search APIs, watch it, and write its focused report.

    Scans keep their documents in their own database, so the weekly scores never see them.
    """
    from observatory.scan import parse_langs, parse_since, scan

    try:
        settings = _settings(db, out, encoder)
        result = scan(
            phrase,
            settings,
            parse_since(since, date.today()),
            parse_langs(lang),
            _base_urls(base_url or []),
            granularity,
            threshold,
            polite=not impolite,
            notify=lambda line: err.print(escape(line)),
        )
    except ObservatoryError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(error.exit_code) from None
    typer.echo(str(result.report.html))
    err.print(f"scan database: {settings.db} (the weekly database is left as it was)")
    err.print(
        f"{result.items_stored} documents stored from {len(result.crawled)} sources, "
        f"{result.n_periods} periods processed; watch {result.watch_id}"
    )
    err.print(
        f"focused report: {result.report.html} (also {result.report.markdown.name}, "
        f"{result.report.json.name})"
    )

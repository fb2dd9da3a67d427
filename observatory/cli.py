"""The `observatory` command line: parse, call one flow or function, print a summary."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from observatory.settings import Settings
from pipeline.errors import InputError, ObservatoryError

app = typer.Typer(
    name="observatory",
    help="Find emerging technologies in news, papers and patents, by future-industry direction.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[Path | None, typer.Option(
    "--db", envvar="OBSERVATORY_DB", help="DuckDB file (default ./observatory.duckdb).",
    show_default=False)]
GranularityOption = Annotated[str | None, typer.Option(
    "--granularity", "-g", help="day, week, month, quarter or year (default: week).")]


def _settings(db: Path | None, **overrides: Any) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    if db is not None:
        values["db"] = db
    return Settings(**values)


def _fail(error: ObservatoryError) -> typer.Exit:
    err.print(f"[red]error:[/red] {error}", markup=True, soft_wrap=True)
    return typer.Exit(error.exit_code)


def _parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--{name}: expected YYYY-MM-DD, got {value!r}") from None


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines files (.jsonl or .jsonl.gz).")],
    skip_bad: Annotated[bool, typer.Option(help="Import good lines, report bad ones.")] = False,
    db: DbOption = None,
) -> None:
    """Import corpus files; a bad line stops that file with nothing stored (exit 2)."""
    from pipeline.db import session
    from pipeline.ingest import ingest_file

    settings = _settings(db)
    try:
        for path in files:
            with session(settings.db) as con:
                report = ingest_file(con, path, skip_bad=skip_bad)
            err.print(f"{path}: {report.read} read, {report.added} added, "
                      f"{report.already_stored} already stored, {report.skipped} skipped")
            for reason, count in sorted(report.skip_reasons.items()):
                err.print(f"  skipped {count} x {reason}")
    except ObservatoryError as error:
        raise _fail(error) from None


@app.command()
def process(
    granularity: GranularityOption = None,
    encoder: Annotated[str | None, typer.Option(help="Encoder name or path.")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy version or TOML file.")] = None,
    db: DbOption = None,
) -> None:
    """Process every period not processed yet, oldest first, never looking ahead."""
    from flows.params import engine_params
    from models.embed import build_encoder
    from models.runner import process_pending

    settings = _settings(db, encoder=encoder, taxonomy=taxonomy)
    try:
        params = engine_params(settings, granularity)
        built = build_encoder(settings.encoder, settings.encoder_threads)
        with err.status("processing") as status:
            run = process_pending(settings.db, params, built, settings.taxonomy,
                                  on_period=lambda p: status.update(
                                      f"processed {p.period}: {p.n_docs} documents, "
                                      f"{p.n_topics} topics"))
    except ObservatoryError as error:
        raise _fail(error) from None
    for period in run.periods:
        err.print(f"{period.period}: {period.n_docs} documents, {period.n_topics} topics "
                  f"({period.n_new_topics} new), {period.n_flagged} flagged, "
                  f"{period.n_outliers} outliers")
    err.print(f"run {run.run_id}: {len(run.periods)} periods processed ({params.granularity})")


@app.command()
def report(
    period: Annotated[str | None, typer.Option(help="Period label, e.g. 2024-W19.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    granularity: GranularityOption = None,
    db: DbOption = None,
) -> None:
    """Write the Markdown, HTML and JSON report of a period (default: the latest)."""
    from pipeline.periods import check_granularity, normalise_period
    from reports.write import write_report

    settings = _settings(db, reports_dir=out)
    try:
        chosen = check_granularity(granularity or settings.granularity)
        label = normalise_period(period, chosen) if period else None
        paths = write_report(settings.db, settings.reports_dir, chosen, label)
    except ObservatoryError as error:
        raise _fail(error) from None
    typer.echo(str(paths.html))
    err.print(f"report written: {paths.html} (also {paths.markdown.name}, {paths.json.name})")


@app.command()
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
    """Crawl configured sources, or one URL with one spider, into the database."""
    from crawlers.run import run_crawl

    settings = _settings(db)
    try:
        summary = run_crawl(settings.db, source_ids or None, _parse_day(since, "since"),
                            _parse_day(until, "until"), spider=spider, url=url,
                            settings=settings)
    except ObservatoryError as error:
        raise _fail(error) from None
    for source in summary.sources:
        err.print(source.line())
    err.print(f"crawl {summary.run_id}: {summary.items_stored} documents stored, "
              f"{len(summary.errors)} source errors")


@app.command()
def sources(db: DbOption = None) -> None:
    """Each configured source with its last crawl and health."""
    from crawlers.run import list_sources

    settings = _settings(db)
    try:
        rows = list_sources(settings.db, settings)
    except ObservatoryError as error:
        raise _fail(error) from None
    table = Table("source", "spider", "lang", "cadence", "last crawl", "stored", "health")
    for row in rows:
        crawl_row = row.last_crawl
        table.add_row(row.source_id, row.spider, row.lang or "", row.cadence,
                      f"{row.last_started:%Y-%m-%d %H:%M}" if row.last_started else "-",
                      str(crawl_row.items_stored) if crawl_row else "-", row.health)
    Console().print(table)


@app.command()
def runs(limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
         db: DbOption = None) -> None:
    """Past runs with status, counts and timings, newest first."""
    from pipeline.db import session
    from pipeline.store import list_runs

    settings = _settings(db)
    try:
        with session(settings.db, read_only=True) as con:
            rows = list_runs(con, limit)
    except ObservatoryError as error:
        raise _fail(error) from None
    table = Table("run", "kind", "status", "started", "seconds", "counts")
    for row in rows:
        seconds = (row["finished"] - row["started"]).total_seconds() if row["finished"] else None
        table.add_row(row["run_id"], row["kind"], row["status"], f"{row['started']:%Y-%m-%d %H:%M}",
                      f"{seconds:.1f}" if seconds is not None else "-",
                      ", ".join(f"{k}={v}" for k, v in json.loads(row["counts"] or "{}").items()))
    Console().print(table)


@app.command()
def weekly(
    source_ids: Annotated[list[str] | None, typer.Argument(help="Source ids (default: all).")]
    = None,
    no_crawl: Annotated[bool, typer.Option("--no-crawl", help="Skip crawling.")] = False,
    db: DbOption = None,
) -> None:
    """Run the weekly flow now: crawl, process new periods, write the report."""
    from flows.weekly import weekly_flow

    settings = _settings(db)
    try:
        result = weekly_flow(settings, source_ids or None, crawl=not no_crawl)
    except ObservatoryError as error:
        raise _fail(error) from None
    if result.report:
        typer.echo(str(result.report.html))
    err.print(f"weekly run: {len(result.processed.periods)} periods processed")


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", envvar="OBSERVATORY_DB", help="DuckDB file.")]
    = Path("demo.duckdb"),
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports_out"),
) -> None:
    """Offline end-to-end run on the bundled sample and recorded feeds; prints the report path."""
    from flows.demo import demo_flow

    settings = _settings(db, reports_dir=out)
    try:
        result = demo_flow(settings)
    except ObservatoryError as error:
        raise _fail(error) from None
    added = sum(r.added for r in result.ingested)
    crawled = sum(c.items_stored for c in result.crawls)
    flagged = sum(p.n_flagged for p in result.processed.periods)
    err.print(f"demo: {added} sample documents ingested, {crawled} feed items crawled, "
              f"{len(result.processed.periods)} months processed, {result.processed.n_topics} "
              f"topic-periods, {flagged} flagged")
    err.print(f"report: {result.report.html}")
    typer.echo(str(result.report.html))


def main() -> None:
    app()

"""The `observatory` command line: parse, call one flow or function, print a summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from observatory.scan_cli import scan_command
from observatory.settings import Settings, load_settings
from observatory.signal_cli import signals_command
from observatory.watch_cli import watch_app
from pipeline.errors import InputError, ObservatoryError

if TYPE_CHECKING:
    import duckdb

    from models.backtest import BacktestResult
    from models.parallel import Submitter
    from models.runner import ProcessRun
    from pipeline.periods import Granularity

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
    "--granularity", "-g", help="day, week, month, quarter or year (default: the one the "
    "database was processed with, else week).")]
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", min=0, help="Start N local Dask workers for embedding and clustering "
    "(default 0: all in this process).", show_default=False)]
DaskAddressOption = Annotated[str | None, typer.Option(
    "--dask-address", help="Use the running Dask cluster at tcp://HOST:8786 "
    "(or OBSERVATORY_DASK_ADDRESS).", show_default=False)]
WaitOption = Annotated[float, typer.Option(
    "--wait", min=0, help="Seconds to wait for a writer when no read snapshot exists yet.")]


def _settings(db: Path | None, **overrides: Any) -> Settings:
    """The command's settings, built once: flags over the environment over the defaults."""
    values = {key: value for key, value in overrides.items() if value is not None}
    if db is not None:
        values["db"] = db
    try:
        return load_settings(**values)
    except ObservatoryError as error:
        raise _fail(error) from None


def _prefect() -> None:
    """Prefect's environment, set before a command first imports Prefect (through flows)."""
    from flows.prefect_env import configure

    configure()


def _granularity(settings: Settings, wanted: str | None) -> Granularity:
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
    """Import corpus files; a bad line stops only its file, with nothing from it stored (exit 2).

    The other files are still read; the closing lines give each file's outcome.
    """
    from pipeline.db import write_step
    from pipeline.ingest import ingest_file

    settings = _settings(db)
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
        raise _fail(error) from None
    if failed:
        if len(files) > 1:
            err.print(f"{len(files) - len(failed)} of {len(files)} files imported; "
                      f"not imported: {', '.join(str(path) for path, _ in failed)}")
        raise typer.Exit(InputError.exit_code)


@app.command()
def process(
    granularity: GranularityOption = None,
    encoder: Annotated[str | None, typer.Option(help="Encoder name or path.")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy version or TOML file.")] = None,
    workers: WorkersOption = None,
    dask_address: DaskAddressOption = None,
    reprocess: Annotated[str | None, typer.Option(
        "--reprocess", metavar="FROM",
        help="Process this period and every later one again (e.g. 2024-W19).")] = None,
    rebuild: Annotated[bool, typer.Option(
        "--rebuild", help="Start this granularity's topics over (keeps documents and "
                          "embeddings), e.g. after changing the encoder.")] = False,
    db: DbOption = None,
) -> None:
    """Process every closed period not processed yet, and stale ones again, oldest first."""
    from models.embed import build_encoder
    from models.runner import process_pending

    settings = _settings(db, encoder=encoder, taxonomy=taxonomy, workers=workers,
                         dask_address=dask_address)
    try:
        params = settings.engine_params(_granularity(settings, granularity))
        if settings.workers or settings.dask_address:
            _prefect()
            from flows.scale import process_on_dask

            err.print(f"embedding and clustering on "
                      f"{settings.dask_address or f'{settings.workers} local Dask workers'}")
            run = process_on_dask(settings.db, params, settings.encoder,
                                  settings.encoder_threads, settings.taxonomy,
                                  settings.workers, settings.dask_address,
                                  reprocess_from=reprocess, rebuild=rebuild)
        else:
            built = build_encoder(settings.encoder, settings.encoder_threads)
            with err.status("processing") as status:
                run = process_pending(settings.db, params, built, settings.taxonomy,
                                      on_period=lambda p: status.update(
                                          f"processed {p.period}: {p.n_docs} documents, "
                                          f"{p.n_topics} topics"),
                                      reprocess_from=reprocess, rebuild=rebuild)
    except ObservatoryError as error:
        raise _fail(error) from None
    for line in process_lines(run, params.grace_days):
        err.print(line)


def process_lines(run: ProcessRun, grace_days: float) -> list[str]:
    """What a process run did, one line per period, then the stale and open periods."""
    from pipeline.periods import closes_at

    lines = []
    if run.rebuilt:
        lines.append(f"rebuild: {run.rebuilt} {run.granularity} periods of topics dropped")
    for label, (before, now) in sorted(run.stale.items()):
        why = f"{before} -> {now} documents" if before != now else "processed before it closed"
        lines.append(f"{label}: stale ({why})")
    again = set(run.reprocessed)
    for done in run.periods:
        lines.append(f"{done.period}: {done.n_docs} documents, {done.n_topics} topics "
                     f"({done.n_new_topics} new), {done.n_flagged} flagged, "
                     f"{done.n_outliers} outliers" + (" (reprocessed)" if done.period
                                                      in again else ""))
    grace = timedelta(days=grace_days)
    for label, n_docs in run.waiting.items():
        lines.append(f"{label}: open until {closes_at(label, grace):%Y-%m-%d %H:%M} UTC "
                     f"(period end + {grace_days:g} day grace); {n_docs} documents wait")
    lines.append(f"run {run.run_id}: {len(run.periods)} periods processed ({run.granularity})"
                 + (f", {len(run.reprocessed)} of them again" if run.reprocessed else "")
                 + (f"; {len(run.waiting)} still open" if run.waiting else ""))
    return lines


@app.command()
def report(
    period: Annotated[str | None, typer.Option(
        help="Period label, e.g. 2024-W19 or 2017-Q1.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    granularity: GranularityOption = None,
    db: DbOption = None,
) -> None:
    """Write the Markdown, HTML and JSON report of a period (default: the latest)."""
    from pipeline.periods import granularity_of, normalise_period
    from reports.write import write_report

    settings = _settings(db, reports_dir=out)
    try:
        chosen = _granularity(settings, granularity or (
            granularity_of(period.strip()) if period else None))
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
    """Crawl configured sources, or one URL with one spider, into the database.

    Unreachable hosts are skipped after a quick probe; each source stops at its deadline.
    Exits 1 when every source failed, naming them.
    """
    from crawlers.run import run_crawl
    from pipeline.db import write_step

    settings = _settings(db)
    try:
        summary = run_crawl(settings.db, source_ids or None, _parse_day(since, "since"),
                            _parse_day(until, "until"), spider=spider, url=url,
                            params=settings.crawl, on_source=lambda s: err.print(s.line()))
        with write_step(settings.db):  # the crawl's documents reach the read snapshot
            pass
    except ObservatoryError as error:
        raise _fail(error) from None
    except KeyboardInterrupt:
        err.print("crawl interrupted: documents stored so far are kept; "
                  "`observatory sources` shows each source's last crawl")
        raise typer.Exit(130) from None
    err.print(summary.closing_line())
    if summary.all_failed:
        err.print("[red]error:[/red] every source failed: "
                  + ", ".join(s.source_id for s in summary.failed), markup=True, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def sources(db: DbOption = None) -> None:
    """Each configured source with its last crawl and health."""
    from crawlers.run import list_sources

    settings = _settings(db)
    try:
        rows = list_sources(settings.db, settings.crawl.sources_file)
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
    """Past runs (processing and crawls) with status, counts and timings, newest first."""
    from crawlers.run import crawl_runs
    from pipeline.db import session
    from pipeline.store import list_runs

    settings = _settings(db)
    try:
        with session(settings.db, read_only=True) as con:
            rows = sorted(list_runs(con, limit) + crawl_runs(con, limit),
                          key=lambda row: row["started"], reverse=True)[:limit]
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
    """Run the weekly flow now: crawl, process new periods, write the report.

    Prints a line per source as the crawl goes and always ends with a summary; exits 1 when a
    step failed or every source failed (naming them), 130 when stopped with Ctrl-C.
    """
    import signal

    settings = _settings(db)
    _prefect()
    from observatory.weekly import weekly_flow

    # Prefect's engine and its temporary server do not reliably pass Ctrl-C on as
    # KeyboardInterrupt (a run went on into processing with the server gone), so Ctrl-C ends
    # the process here. That is safe: every write is a transaction that a stop leaves undone,
    # and the crawl process (same process group, same signal) closes its spiders itself.
    previous = signal.signal(signal.SIGINT, _interrupted_weekly)
    try:
        # The database's granularity, like `process` and `report` (a demo database is by
        # quarter; a weekly job on it must not start a second, weekly series).
        chosen = _granularity(settings, None)
        result = weekly_flow(str(settings.db), source_ids or None, crawl=not no_crawl,
                             progress=True, overrides={"granularity": chosen})
    except ObservatoryError as error:
        raise _fail(error) from None
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

    err.print("weekly run interrupted (Ctrl-C): what was stored is kept (documents so far, "
              "each processed period whole); run it again to continue")
    sys.stderr.flush()
    os._exit(130)


@app.command()
def demo(
    db: DbOption = None,
    out: Annotated[Path | None, typer.Option(help="Report folder (default reports_out).")]
    = None,
) -> None:
    """Offline end-to-end run on the bundled sample and recorded feeds; prints the report path.

    It writes into the default database (./observatory.duckdb, or --db / OBSERVATORY_DB), so
    the commands it suggests next find it; it refuses a database holding other documents.
    """
    settings = _settings(db, reports_dir=out)
    _prefect()
    from flows.demo import DEMO_GRANULARITY, DEMO_REDUCER, demo_flow

    if not settings.given("engine.cluster.reducer"):
        engine = settings.engine
        settings = settings.model_copy(update={"engine": replace(
            engine, cluster=replace(engine.cluster, reducer=DEMO_REDUCER))})
    try:
        # The demo crawls recorded feeds only: no API key goes into its flow's parameters.
        result = demo_flow(settings.db, settings.reports_dir, settings.crawl.without_secrets(),
                           settings.engine_params(DEMO_GRANULARITY), settings.encoder,
                           settings.encoder_threads, settings.taxonomy)
    except ObservatoryError as error:
        raise _fail(error) from None
    added = sum(r.added for r in result.ingested)
    stored = sum(r.added + r.already_stored for r in result.ingested)
    read = sum(s.items_stored + s.items_dropped for c in result.crawls for s in c.sources)
    kept = sum(c.items_stored for c in result.crawls)
    flagged = sum(p.n_flagged for p in result.processed.periods)
    err.print(f"demo: {stored} sample documents ({added} new), as of {result.as_of}; "
              f"{len(result.crawls)} recorded feeds crawled by the RSS spider: {read} items "
              f"read, {kept} kept (all from 2020-04, after that day); "
              f"{len(result.processed.periods)} quarters processed to {result.last_period}, "
              f"{flagged} topic-quarters flagged")
    err.print(f"report: {result.report.html}")
    suffix = "" if db is None else f" --db {db}"
    err.print("next, try:")
    for command in (f"observatory topics --status emerging{suffix}",
                    f"observatory topics --direction energy{suffix}",
                    f"observatory sql \"SELECT period, direction, label, signal_class "
                    f"FROM v_emerging ORDER BY rank LIMIT 10\"{suffix}",
                    f"observatory report --period 2016-Q2{suffix}"):
        err.print(f"  {command}")
    typer.echo(str(result.report.html))


@contextmanager
def _reading(db: Path, wait_seconds: float,
             files: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, saying on stderr when it reads a snapshot."""
    import duckdb

    from observatory.analyst import open_reader
    from pipeline.db import damaged

    with open_reader(db, wait_seconds, files) as reading:
        if reading.snapshot_at is not None:
            err.print(f"{db} is being written: answered from its read snapshot of "
                      f"{reading.snapshot_at:%H:%M:%S}")
        try:
            yield reading.con
        except duckdb.Error as error:
            problem = damaged(db, error)
            if problem is None:
                raise
            raise problem from error


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only statement: SELECT, WITH, FROM, "
                                              "DESCRIBE, SHOW, SUMMARIZE, EXPLAIN.")],
    output_format: Annotated[Literal["table", "csv", "json"], typer.Option(
        "--format", "-f", help="table for people; csv or json (one object a line) for pipes.")]
    = "table",
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """Answer one read-only SQL query, even while another process writes; writes are refused."""
    from observatory.analyst import check_read_only, run_query
    from observatory.output import rows_table, write_csv, write_json_lines

    settings = _settings(db)
    try:
        check_read_only(query)
        with _reading(settings.db, wait) as con:
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
        raise _fail(error) from None
    err.print(f"{count} rows")


def _topic_granularity(con: duckdb.DuckDBPyConnection, wanted: str | None,
                       period: str | None, default: str) -> Granularity:
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


@app.command()
def topics(
    direction: Annotated[str | None, typer.Option(help="Only this direction, or unmapped.")]
    = None,
    status: Annotated[Literal["emerging", "strong", "new"] | None, typer.Option(
        help="emerging (weak or strong signal), strong, or new (born in the period).")] = None,
    period: Annotated[str | None, typer.Option(help="Period label (default: the latest).")]
    = None,
    granularity: GranularityOption = None,
    limit: Annotated[int, typer.Option(min=1, help="How many topics.")] = 20,
    output_format: Annotated[Literal["table", "json"], typer.Option(
        "--format", "-f", help="table, or json (one topic a line).")] = "table",
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """Topics of a period, highest high-potential score first, by direction and status."""
    from observatory.output import json_line
    from observatory.topic_view import topics_table
    from pipeline.queries import topics_in_period

    settings = _settings(db)
    try:
        with _reading(settings.db, wait) as con:
            chosen, label = _period_and_direction(con, granularity, period, direction,
                                                  settings.granularity
                                                  or settings.engine.granularity)
            rows = topics_in_period(con, chosen, label, direction, status, limit)
    except ObservatoryError as error:
        raise _fail(error) from None
    if output_format == "json":
        for row in rows:
            typer.echo(json_line(row))
    else:
        Console().print(topics_table(rows, f"{chosen} {label}"))
    err.print(f"{len(rows)} topics in {label} ({chosen})")


@app.command()
def topic(
    topic_id: Annotated[str, typer.Argument(help="Topic id, e.g. 2024-W19/03.")],
    evidence: Annotated[int, typer.Option(min=0, help="How many evidence documents.")] = 10,
    output_format: Annotated[Literal["table", "json"], typer.Option(
        "--format", "-f", help="table, or json (one object).")] = "table",
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """One topic: label, keywords, lineage, scores with reasons, directions, evidence."""
    from observatory.output import json_line
    from observatory.topic_view import topic_view
    from pipeline.queries import topic_detail

    settings = _settings(db)
    try:
        with _reading(settings.db, wait) as con:
            detail = topic_detail(con, topic_id, evidence)
        if detail is None:
            raise ObservatoryError(f"no topic {topic_id!r}; `observatory topics` lists them")
    except ObservatoryError as error:
        raise _fail(error) from None
    if output_format == "json":
        typer.echo(json_line(detail))
    else:
        Console().print(topic_view(detail))


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    export_format: Annotated[Literal["parquet", "csv"], typer.Option(
        "--format", "-f", help="parquet or csv.")] = "parquet",
    tables: Annotated[list[str] | None, typer.Option(
        "--table", help="Only these tables (repeatable; default: the main tables).")] = None,
    wait: WaitOption = 5.0,
    db: DbOption = None,
) -> None:
    """Write the main tables to Parquet or CSV files, one per table; prints the paths."""
    from observatory.analyst import check_export_tables, export_tables

    settings = _settings(db)
    try:
        with _reading(settings.db, wait, files=True) as con:
            chosen = check_export_tables(con, tables or [])
            written = export_tables(con, out, export_format, chosen)
    except ObservatoryError as error:
        raise _fail(error) from None
    for path in written:
        typer.echo(str(path))
    err.print(f"exported {len(written)} tables to {out} ({export_format})")


@app.command()
def schedule(
    cron: Annotated[str, typer.Option(help="Cron expression, e.g. '0 6 * * MON'.")],
    timezone: Annotated[str | None, typer.Option(
        help="Time zone of the cron expression (default UTC), e.g. Europe/Berlin.")] = None,
    name: Annotated[str, typer.Option(help="Prefect deployment name.")] = "observatory-weekly",
    no_crawl: Annotated[bool, typer.Option("--no-crawl", help="Skip crawling.")] = False,
    db: DbOption = None,
) -> None:
    """Serve the weekly flow on a cron schedule with Prefect until stopped."""
    from observatory.schedule import cron_schedule, serve_weekly

    settings = _settings(db)
    try:
        chosen = cron_schedule(cron, timezone)
        err.print(f"serving the weekly flow as {name!r} on {cron!r} ({timezone or 'UTC'}); "
                  "Ctrl-C stops")
        serve_weekly(settings, chosen, name, crawl=not no_crawl)
    except ObservatoryError as error:
        raise _fail(error) from None


@app.command()
def backtest(
    corpus: Annotated[Path, typer.Argument(help="Corpus file (.jsonl or .jsonl.gz).")],
    events: Annotated[Path, typer.Option(help="Events JSON (ground_truth/events.json format).")],
    granularity: Annotated[str, typer.Option("--granularity", "-g",
                                             help="day, week, month, quarter or year.")],
    out: Annotated[Path, typer.Option(help="Where to write RESULT.json.")],
    db: Annotated[Path | None, typer.Option(
        "--db", help="Database to replay into (default: a fresh temporary one).")] = None,
    repeat: Annotated[int, typer.Option(help="Runs; 2 checks run-to-run identity.")] = 1,
    embeddings_cache: Annotated[Path | None, typer.Option(
        help="DuckDB file of vectors reused across backtests.")] = None,
    encoder: Annotated[str | None, typer.Option(help="Encoder name or path.")] = None,
    budget: Annotated[str, typer.Option(
        help="Flags per period read from the top of the ranked list, e.g. 3,5,10.")] = "3,5,10",
    cut: Annotated[str | None, typer.Option(
        help="Time cut: events emerging before it tune, the rest check (default: the period "
             "at 60% of the corpus's span).")] = None,
    workers: WorkersOption = None,
    dask_address: DaskAddressOption = None,
) -> None:
    """Replay a corpus period by period as the weekly job would and score the detector.

    Per k of the budget, the detector's top k beside biggest@k, random@k, newest@k and
    all-topics, on the tuning and the check side of the time cut (docs/backtest.md).
    """
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from models.backtest import format_table, run_backtest, write_result
    from models.embed import build_encoder
    from models.evaluate import parse_budget

    settings = _settings(None, encoder=encoder, workers=workers, dask_address=dask_address)
    started = time.perf_counter()
    try:
        budgets = parse_budget(budget)
        params = settings.engine_params(granularity)
        built = build_encoder(settings.encoder, settings.encoder_threads)
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
                "{task.completed}/{task.total}"), TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task("replaying", total=None)

            def progress(period: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=f"replaying {period}")

            def run(submit: Submitter | None = None) -> BacktestResult:
                return run_backtest(corpus, events, granularity, db, built, params,
                                    taxonomy=settings.taxonomy, repeat=repeat,
                                    embeddings_cache=embeddings_cache, progress=progress,
                                    budgets=budgets, cut=cut, submit=submit)

            if settings.workers or settings.dask_address:
                _prefect()
                from flows.scale import run_on_dask

                result = run_on_dask(run, settings.encoder, settings.encoder_threads,
                                     settings.workers, settings.dask_address)
            else:
                result = run()
    except ObservatoryError as error:
        raise _fail(error) from None
    write_result(result, out)
    Console(stderr=True).print(format_table(result))
    err.print(f"backtest written: {out} ({time.perf_counter() - started:.0f} s)")


app.add_typer(watch_app, name="watch")
app.command("signals")(signals_command)
app.command("scan")(scan_command)


def main() -> None:
    app()


def _period_and_direction(con: Any, granularity: str | None, period: str | None,
                          direction: str | None, default: str) -> tuple[str, str]:
    """The granularity and period a listing reads (latest by default); checks --direction."""
    from pipeline.periods import normalise_period
    from pipeline.queries import known_directions, latest_period

    chosen = _topic_granularity(con, granularity, period, default)
    label = normalise_period(period, chosen) if period else latest_period(con, chosen)
    if label is None:
        raise ObservatoryError(f"no {chosen} periods processed yet; run "
                               f"`observatory process -g {chosen}` first")
    if direction is not None and direction not in known_directions(con):
        raise InputError(f"--direction: unknown direction {direction!r}; known: "
                         f"{', '.join(sorted(known_directions(con)))}")
    return chosen, label

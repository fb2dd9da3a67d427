"""`observatory process`, `report` and `backtest`: periods into topics, reports and scores."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from observatory.cli_common import (
    DaskAddressOption,
    DbOption,
    GranularityOption,
    WorkersOption,
    build_settings,
    err,
    fail,
    granularity_for,
    prefect_env,
)
from observatory.progress import CountingEncoder, progress_bar
from pipeline.errors import ObservatoryError

if TYPE_CHECKING:
    from models.backtest import BacktestResult
    from models.parallel import Submitter
    from models.runner import ProcessRun


def process(
    granularity: GranularityOption = None,
    encoder: Annotated[str | None, typer.Option(help="Encoder name or path.")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy version or TOML file.")] = None,
    workers: WorkersOption = None,
    dask_address: DaskAddressOption = None,
    reprocess: Annotated[
        str | None,
        typer.Option(
            "--reprocess",
            metavar="FROM",
            help="Process this period and every later one again (e.g. 2024-W19).",
        ),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Start this granularity's topics over (keeps documents and "
            "embeddings), e.g. after changing the encoder.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Process every closed period not processed yet, and stale ones again, oldest first."""
    from models.embed import build_encoder
    from models.runner import process_pending

    settings = build_settings(
        db, encoder=encoder, taxonomy=taxonomy, workers=workers, dask_address=dask_address
    )
    try:
        params = settings.engine_params(granularity_for(settings, granularity))
        if settings.workers or settings.dask_address:
            prefect_env()
            from flows.scale import process_on_dask

            err.print(
                f"embedding and clustering on "
                f"{settings.dask_address or f'{settings.workers} local Dask workers'}"
            )
            run = process_on_dask(
                settings.db,
                params,
                settings.encoder,
                settings.encoder_threads,
                settings.taxonomy,
                settings.workers,
                settings.dask_address,
                reprocess_from=reprocess,
                rebuild=rebuild,
            )
        else:
            with progress_bar(err) as bar:
                embedding = bar.add_task("embedding (texts)", total=None)
                periods = bar.add_task("processing (periods)", total=None)
                built = CountingEncoder(
                    build_encoder(settings.encoder, settings.encoder_threads),
                    lambda n: bar.advance(embedding, n),
                )
                run = process_pending(
                    settings.db,
                    params,
                    built,
                    settings.taxonomy,
                    on_period=lambda p: bar.update(
                        periods,
                        advance=1,
                        description=f"processed "
                        f"{p.period}: {p.n_docs} documents, "
                        f"{p.n_topics} topics",
                    ),
                    reprocess_from=reprocess,
                    rebuild=rebuild,
                )
    except ObservatoryError as error:
        raise fail(error) from None
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
        lines.append(
            f"{done.period}: {done.n_docs} documents, {done.n_topics} topics "
            f"({done.n_new_topics} new), {done.n_flagged} flagged, "
            f"{done.n_outliers} outliers" + (" (reprocessed)" if done.period in again else "")
        )
    grace = timedelta(days=grace_days)
    for label, n_docs in run.waiting.items():
        lines.append(
            f"{label}: open until {closes_at(label, grace):%Y-%m-%d %H:%M} UTC "
            f"(period end + {grace_days:g} day grace); {n_docs} documents wait"
        )
    lines.append(
        f"run {run.run_id}: {len(run.periods)} periods processed ({run.granularity})"
        + (f", {len(run.reprocessed)} of them again" if run.reprocessed else "")
        + (f"; {len(run.waiting)} still open" if run.waiting else "")
    )
    return lines


def report(
    period: Annotated[
        str | None, typer.Option(help="Period label, e.g. 2024-W19 or 2017-Q1.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    granularity: GranularityOption = None,
    db: DbOption = None,
) -> None:
    """Write the Markdown, HTML and JSON report of a period (default: the latest)."""
    from pipeline.periods import granularity_of, normalise_period
    from reports.write import write_report

    settings = build_settings(db, reports_dir=out)
    try:
        chosen = granularity_for(
            settings, granularity or (granularity_of(period.strip()) if period else None)
        )
        label = normalise_period(period, chosen) if period else None
        paths = write_report(settings.db, settings.reports_dir, chosen, label)
    except ObservatoryError as error:
        raise fail(error) from None
    typer.echo(str(paths.html))
    err.print(f"report written: {paths.html} (also {paths.markdown.name}, {paths.json.name})")


def backtest(
    corpus: Annotated[Path, typer.Argument(help="Corpus file (.jsonl or .jsonl.gz).")],
    events: Annotated[Path, typer.Option(help="Events JSON (ground_truth/events.json format).")],
    granularity: Annotated[
        str, typer.Option("--granularity", "-g", help="day, week, month, quarter or year.")
    ],
    out: Annotated[Path, typer.Option(help="Where to write RESULT.json.")],
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Database to replay into (default: a fresh temporary one)."),
    ] = None,
    repeat: Annotated[int, typer.Option(help="Runs; 2 checks run-to-run identity.")] = 1,
    embeddings_cache: Annotated[
        Path | None, typer.Option(help="DuckDB file of vectors reused across backtests.")
    ] = None,
    encoder: Annotated[str | None, typer.Option(help="Encoder name or path.")] = None,
    budget: Annotated[
        str,
        typer.Option(help="Flags per period read from the top of the ranked list, e.g. 3,5,10."),
    ] = "3,5,10",
    cut: Annotated[
        str | None,
        typer.Option(
            help="Time cut: events emerging before it tune, the rest check (default: the period "
            "at 60% of the corpus's span)."
        ),
    ] = None,
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

    settings = build_settings(None, encoder=encoder, workers=workers, dask_address=dask_address)
    started = time.perf_counter()
    try:
        budgets = parse_budget(budget)
        params = settings.engine_params(granularity)
        built = build_encoder(settings.encoder, settings.encoder_threads)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("replaying", total=None)

            def progress(period: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=f"replaying {period}")

            def run(submit: Submitter | None = None) -> BacktestResult:
                return run_backtest(
                    corpus,
                    events,
                    granularity,
                    db,
                    built,
                    params,
                    taxonomy=settings.taxonomy,
                    repeat=repeat,
                    embeddings_cache=embeddings_cache,
                    progress=progress,
                    budgets=budgets,
                    cut=cut,
                    submit=submit,
                )

            if settings.workers or settings.dask_address:
                prefect_env()
                from flows.scale import run_on_dask

                result = run_on_dask(
                    run,
                    settings.encoder,
                    settings.encoder_threads,
                    settings.workers,
                    settings.dask_address,
                )
            else:
                result = run()
    except ObservatoryError as error:
        raise fail(error) from None
    write_result(result, out)
    Console(stderr=True).print(format_table(result))
    err.print(f"backtest written: {out} ({time.perf_counter() - started:.0f} s)")

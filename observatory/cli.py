"""The `observatory` command line: the app and its commands, one module per command group.

`observatory.cli:app` is the console script; each command parses, calls one flow or function,
and prints a summary (observatory/*_cli.py).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

import observatory
from observatory.analyst_cli import export, sql, topic, topics
from observatory.corpus_cli import crawl, ingest, sources
from observatory.jobs_cli import demo, runs, schedule, weekly
from observatory.process_cli import backtest, process, report
from observatory.scan_cli import scan_command
from observatory.signal_cli import signals_command
from observatory.watch_cli import watch_app
from pipeline.provenance import git_output

app = typer.Typer(
    name="observatory",
    help="Find emerging technologies in news, papers and patents, by future-industry direction.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def version_line() -> str:
    """The package's version, and `git describe` when run from a checkout with git."""
    try:
        package = version("future-industry-observatory")
    except PackageNotFoundError:
        package = observatory.__version__
    described = git_output("describe", "--tags", "--always", "--dirty")
    return f"observatory {package}" + (f" (git {described})" if described else "")


def _show_version(wanted: bool) -> None:
    if wanted:
        typer.echo(version_line())
        raise typer.Exit()


@app.callback()
def _options(
    version_flag: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version (and git describe in a checkout) and exit.",
        ),
    ] = False,
) -> None:
    # The app's own options; its help text is the Typer's `help` above.
    pass


# In the order `observatory --help` lists them.
for command in (
    ingest,
    process,
    report,
    crawl,
    sources,
    runs,
    weekly,
    demo,
    sql,
    topics,
    topic,
    export,
    schedule,
    backtest,
):
    app.command()(command)
app.add_typer(watch_app, name="watch")
app.command("signals")(signals_command)
app.command("scan")(scan_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

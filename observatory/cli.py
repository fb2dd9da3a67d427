"""The `observatory` command line: the app and its commands, one module per command group.

`observatory.cli:app` is the console script; each command parses, calls one flow or function,
and prints a summary (observatory/*_cli.py).
"""

from __future__ import annotations

import typer

from observatory.analyst_cli import export, sql, topic, topics
from observatory.corpus_cli import crawl, ingest, sources
from observatory.jobs_cli import demo, runs, schedule, weekly
from observatory.process_cli import backtest, process, report
from observatory.scan_cli import scan_command
from observatory.signal_cli import signals_command
from observatory.watch_cli import watch_app

app = typer.Typer(
    name="observatory",
    help="Find emerging technologies in news, papers and patents, by future-industry direction.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
)
# In the order `observatory --help` lists them.
for command in (ingest, process, report, crawl, sources, runs, weekly, demo, sql, topics, topic,
                export, schedule, backtest):
    app.command()(command)
app.add_typer(watch_app, name="watch")
app.command("signals")(signals_command)
app.command("scan")(scan_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""The weekly Prefect flow: composes the settings when a run starts, then `flows.weekly`.

Import it after `flows.prefect_env.configure()` (it imports Prefect). Its parameters are
plain values a scheduled deployment can carry; every other setting, the API keys included,
comes from the `OBSERVATORY_*` environment of the process the run starts in, so no secret is
ever a flow parameter.
"""

# No `from __future__ import annotations` here: Prefect validates a served flow's parameters
# from real annotations, and string annotations fail there ("not fully defined").
from typing import Any

from prefect import flow

from flows.weekly import WeeklyRun, run_weekly
from observatory.settings import load_settings


@flow(name="weekly", log_prints=False)
def weekly_flow(
    db: str | None = None,
    source_ids: list[str] | None = None,
    files: list[str] | None = None,
    crawl: bool = True,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> WeeklyRun:
    """Crawl, ingest any extra files, process pending periods, and report the latest one.

    `overrides` are settings over the environment's (nested, e.g. {"engine": {"cluster":
    {"reducer": "umap"}}}, or last release's flat names); `progress` prints a line per source
    as the crawl goes (for the CLI).
    """
    settings = load_settings(**{**(overrides or {}), **({"db": db} if db else {})})
    return run_weekly(settings, settings.engine_params(), source_ids, files, crawl, progress)

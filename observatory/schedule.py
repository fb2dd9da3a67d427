"""Serving the weekly flow on a cron schedule through a Prefect server."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from observatory.settings import Settings
from pipeline.errors import InputError, ObservatoryError

if TYPE_CHECKING:
    from prefect.schedules import Schedule

CRON_HELP = "five fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * MON'"


def cron_schedule(expression: str, timezone: str | None = None) -> Schedule:
    """Prefect's `Cron` schedule, or a one-line error for a bad expression or time zone."""
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"--timezone: unknown time zone {timezone!r}, e.g. 'Europe/Berlin' or 'UTC'"
            ) from None
    from flows.prefect_env import configure

    configure()
    from prefect.schedules import Cron

    try:
        return Cron(expression, timezone=timezone)
    except ValueError:
        raise InputError(f"--cron: {expression!r} is not a cron expression ({CRON_HELP})") from None


def prefect_api_url() -> str | None:
    """The Prefect server the schedule registers with, from Prefect's own settings."""
    from flows.prefect_env import configure

    configure()
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def serve_weekly(settings: Settings, schedule: Schedule, name: str, crawl: bool) -> None:
    """Register the weekly flow with its schedule and run the scheduled flows until stopped."""
    if not prefect_api_url():
        raise ObservatoryError(
            "schedule: a cron schedule needs a running Prefect server (the temporary one "
            "schedules nothing); run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from observatory.weekly import weekly_flow

    # Only the database path travels as a parameter: every other setting, secrets included,
    # is read from the serving process's OBSERVATORY_* environment when a run starts.
    parameters = {"db": str(settings.db.resolve()), "crawl": crawl}
    weekly_flow.serve(name=name, schedule=schedule, parameters=parameters)

"""Prefect's environment, set before Prefect is first imported: offline, quiet, patient."""

import os

_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The temporary server needs up to a minute to start on a busy 2-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
}


def configure() -> None:
    """Apply the defaults, leaving anything the user set alone."""
    for name, value in _DEFAULTS.items():
        os.environ.setdefault(name, value)

"""Code version and run ids recorded with every run."""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def git_output(*args: str) -> str:
    """What `git <args>` prints in this checkout, stripped; empty where there is no git or no
    checkout (an installed package), so callers fall back to the package version alone."""
    root = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    try:
        package = version("future-industry-observatory")
    except PackageNotFoundError:
        package = "0+unknown"
    commit = git_output("rev-parse", "--short", "HEAD")
    return f"{package}+g{commit}" if commit else package


def new_run_id(kind: str) -> str:
    """Sortable and unique: kind, UTC time, random suffix."""
    return f"{kind}-{datetime.utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"

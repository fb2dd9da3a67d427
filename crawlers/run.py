"""Running a crawl from a library call: a subprocess per crawl, a typed summary back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

import crawlers
from crawlers.params import CrawlParams
from crawlers.pipelines import EVENT_PREFIX
from crawlers.sources import load_sources
from pipeline.db import session
from pipeline.errors import InputError, SourceError

Health = Literal["ok", "degraded", "failing", "interrupted", "never crawled"]
_DEMO_FEEDS = Path(__file__).with_name("demo_feeds")


@dataclass(frozen=True)
class SourceCrawl:
    """What one crawl did for one source."""

    source_id: str
    spider: str
    requests: int
    items_stored: int
    items_dropped: int
    drop_reasons: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    finished: bool = True

    @property
    def health(self) -> Health:
        return _health(self)

    @property
    def failed(self) -> bool:
        """Nothing came back but errors (unreachable, blocked, every request failed)."""
        return _health(self) == "failing"

    def line(self) -> str:
        """One human-readable summary line, errors included."""
        if self.requests == 0 and self.errors and self.errors[0].startswith("skipped:"):
            return f"{self.source_id}: {self.errors[0]}"
        text = (
            f"{self.source_id}: {self.requests} requests, {self.items_stored} stored, "
            f"{self.items_dropped} dropped"
        )
        if self.drop_reasons:
            reasons = sorted(self.drop_reasons.items())
            text += " (" + ", ".join(f"{k}: {v}" for k, v in reasons) + ")"
        if self.errors:
            text += f"; {len(self.errors)} error(s): {self.errors[0]}"
        return text if self.finished else text + "; interrupted"


@dataclass(frozen=True)
class CrawlSummary:
    """A crawl's outcome per source, read back from the crawl log."""

    run_id: str
    sources: tuple[SourceCrawl, ...]

    @property
    def items_stored(self) -> int:
        return sum(source.items_stored for source in self.sources)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(f"{s.source_id}: {e}" for s in self.sources for e in s.errors)

    def source(self, source_id: str) -> SourceCrawl:
        return next(s for s in self.sources if s.source_id == source_id)

    @property
    def failed(self) -> tuple[SourceCrawl, ...]:
        return tuple(source for source in self.sources if source.failed)

    @property
    def all_failed(self) -> bool:
        """Every source failed: the crawl brought nothing, and its command exits non-zero."""
        return bool(self.sources) and len(self.failed) == len(self.sources)

    def closing_line(self) -> str:
        """The crawl's one-line summary."""
        counts = Counter(source.health for source in self.sources)
        shown = ", ".join(f"{n} {health}" for health, n in sorted(counts.items()))
        text = (
            f"crawl {self.run_id}: {len(self.sources)} sources ({shown or 'none'}), "
            f"{self.items_stored} documents stored"
        )
        if self.failed and not self.all_failed:
            text += "; failed: " + ", ".join(source.source_id for source in self.failed)
        return text


@dataclass(frozen=True)
class SourceHealth:
    """A configured source with its last crawl, for `observatory sources`."""

    source_id: str
    spider: str
    lang: str | None
    cadence: str
    directions: tuple[str, ...]
    last_started: datetime | None
    last_crawl: SourceCrawl | None
    health: Health


def _health(crawl: SourceCrawl) -> Health:
    if not crawl.finished:
        return "interrupted"
    if crawl.errors and crawl.items_stored == 0 and not crawl.items_dropped:
        return "failing"
    return "degraded" if crawl.errors else "ok"


def _loads(value: str | None, default: Any) -> Any:
    return json.loads(value) if value else default


def _crawl_row(row: tuple[Any, ...]) -> SourceCrawl:
    source_id, spider, finished, requests, stored, dropped, statuses, drops, errors = row
    return SourceCrawl(
        source_id,
        spider,
        int(requests),
        int(stored),
        int(dropped),
        _loads(drops, {}),
        _loads(statuses, {}),
        tuple(_loads(errors, [])),
        finished is not None,
    )


_ROW = (
    "source_id, spider, finished, requests, items_stored, items_dropped, statuses, "
    "drop_reasons, errors"
)


def read_summary(db_path: Path, run_id: str) -> CrawlSummary:
    """The crawl log of one run as a `CrawlSummary`."""
    with session(db_path) as con:
        rows = con.execute(
            f"SELECT {_ROW} FROM crawl_log WHERE run_id = ? ORDER BY source_id", [run_id]
        ).fetchall()
    return CrawlSummary(run_id, tuple(_crawl_row(row) for row in rows))


def _command(
    db_path: Path,
    run_id: str,
    source_ids: list[str] | None,
    since: date | None,
    until: date | None,
    spider: str | None,
    url: str | None,
    base_urls: Mapping[str, str],
    polite: bool,
) -> list[str]:
    command = [sys.executable, "-m", "crawlers", "--db", str(db_path), "--run-id", run_id]
    command += [arg for source_id in source_ids or [] for arg in ("--source", source_id)]
    command += ["--since", since.isoformat()] if since else []
    command += ["--until", until.isoformat()] if until else []
    command += ["--spider", spider, "--url", url] if spider and url else []
    command += [
        arg for name, value in base_urls.items() for arg in ("--base-url", f"{name}={value}")
    ]
    return command + ([] if polite else ["--impolite"])


OnSource = Callable[[SourceCrawl], None]
# After its own deadline the crawl process gets this long to close its spiders and write their
# logs before it is killed.
CLOSE_GRACE_S = 60.0
# After Ctrl-C, how long each of the gentle stops gets before the next, harder one.
INTERRUPT_GRACE_S = 10.0


def run_crawl(
    db_path: Path,
    source_ids: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    spider: str | None = None,
    url: str | None = None,
    params: CrawlParams | None = None,
    base_urls: Mapping[str, str] | None = None,
    polite: bool = True,
    log_path: Path | None = None,
    on_source: OnSource | None = None,
) -> CrawlSummary:
    """Crawl the given sources (or one `spider` at one `url`) into the database.

    The crawl runs in a fresh `python -m crawlers` process, because Twisted's reactor
    cannot be restarted; so this can be called many times, and from inside a Prefect flow.
    `on_source` hears of each source as it ends (skipped, finished, stopped at its deadline).
    Ctrl-C stops the crawl process too (same process group): its spiders close, their
    documents so far stay stored, and KeyboardInterrupt is raised here once it has ended.
    """
    if (spider is None) != (url is None):
        raise InputError("give --spider and --url together")
    params = params or CrawlParams()
    run_id = f"crawl-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    command = _command(
        Path(db_path).resolve(),
        run_id,
        source_ids,
        since,
        until,
        spider,
        url,
        base_urls or {},
        polite,
    )
    root = str(Path(crawlers.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            env=env,
        )
        backstop = _backstop(child, params)
        try:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(params.to_child_json())
            child.stdin.close()
            last = _read_events(child.stdout, on_source)
            returncode = child.wait()
        except KeyboardInterrupt:
            _wait_after_interrupt(child)
            raise
        finally:
            if backstop is not None:
                backstop.cancel()
        stderr.seek(0)
        log = stderr.read()
    if log_path is not None:
        log_path.write_text(log, "utf-8")
    return _result(db_path, run_id, subprocess.CompletedProcess(command, returncode, last, log))


def _backstop(child: subprocess.Popen[str], params: CrawlParams) -> threading.Timer | None:
    """Kill the crawl process if it outlives its own deadline by more than the grace."""
    if params.crawl_timeout_s <= 0:
        return None
    timer = threading.Timer(params.crawl_timeout_s + CLOSE_GRACE_S, child.kill)
    timer.daemon = True
    timer.start()
    return timer


def _read_events(stdout: Any, on_source: OnSource | None) -> str:
    """Hand each source event to `on_source`; returns the last other line (the reply)."""
    last = ""
    for line in stdout:
        if line.startswith(EVENT_PREFIX):
            if on_source is not None:
                event = json.loads(line[len(EVENT_PREFIX) :])
                on_source(
                    SourceCrawl(
                        event["source_id"],
                        event["spider"],
                        event["requests"],
                        event["items_stored"],
                        event["items_dropped"],
                        event["drop_reasons"],
                        event["statuses"],
                        tuple(event["errors"]),
                        event["finished"],
                    )
                )
        elif line.strip():
            last = line
    return last


def _wait_after_interrupt(child: subprocess.Popen[str]) -> None:
    """The child got the same SIGINT and closes its spiders, waiting for downloads in flight;
    after a short grace a second SIGINT makes Scrapy stop at once, and then a kill."""
    for harder in (None, signal.SIGINT, signal.SIGKILL):
        if harder is not None:
            child.send_signal(harder)
        try:
            child.wait(timeout=INTERRUPT_GRACE_S)
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            continue


def _result(db_path: Path, run_id: str, done: subprocess.CompletedProcess[str]) -> CrawlSummary:
    try:
        reply = json.loads(done.stdout.strip() or "{}")
    except json.JSONDecodeError:
        reply = {}
    if "error" in reply:
        raise InputError(str(reply["error"]))
    summary = read_summary(db_path, run_id)
    if done.returncode != 0 and not summary.sources:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise SourceError(f"crawl process failed (exit {done.returncode}): {tail}")
    return summary


def crawl_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict[str, Any]]:
    """Crawl runs, newest first, in the shape of `pipeline.store.list_runs` rows.

    A run with a source that never finished is "unfinished": still going, or stopped by a
    kill; `observatory sources` shows which source.
    """
    cursor = con.execute(
        "SELECT run_id, 'crawl' AS kind, min(started) AS started, "
        "CASE WHEN count(*) = count(finished) THEN max(finished) END AS finished, "
        "CASE WHEN count(*) > count(finished) THEN 'unfinished' "
        "WHEN count(*) FILTER (WHERE items_stored = 0 AND items_dropped = 0 "
        "AND json_array_length(errors) > 0) = count(*) THEN 'failed' ELSE 'done' END AS status, "
        "NULL AS model, json_object('sources', count(*), 'stored', sum(items_stored), "
        "'failed', count(*) FILTER (WHERE items_stored = 0 AND items_dropped = 0 "
        "AND json_array_length(errors) > 0))::VARCHAR AS counts, NULL AS error "
        "FROM crawl_log GROUP BY run_id ORDER BY started DESC LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def list_sources(db_path: Path, sources_file: Path | None = None) -> list[SourceHealth]:
    """Every configured source (of `sources_file`, else the bundled list) with its last crawl
    and health."""
    sources = load_sources(sources_file)
    last: dict[str, tuple[datetime, SourceCrawl]] = {}
    if Path(db_path).exists():
        with session(db_path) as con:
            rows = con.execute(
                f"SELECT started, {_ROW} FROM crawl_log QUALIFY row_number() OVER "
                "(PARTITION BY source_id ORDER BY started DESC) = 1"
            ).fetchall()
        last = {row[1]: (row[0], _crawl_row(row[1:])) for row in rows}
    return [
        _source_health(
            source.id,
            source.spider,
            source.lang,
            source.cadence,
            tuple(source.directions),
            last.get(source.id),
        )
        for source in sources
    ]


def _source_health(
    source_id: str,
    spider: str,
    lang: str | None,
    cadence: str,
    directions: tuple[str, ...],
    last: tuple[datetime, SourceCrawl] | None,
) -> SourceHealth:
    if last is None:
        return SourceHealth(
            source_id, spider, lang, cadence, directions, None, None, "never crawled"
        )
    started, crawl = last
    return SourceHealth(source_id, spider, lang, cadence, directions, started, crawl, crawl.health)


def demo_feed_urls(base_url: str) -> list[str]:
    """URLs of the recorded demo feeds when `crawlers/demo_feeds` is served at `base_url`."""
    names = sorted(p.name for p in _DEMO_FEEDS.iterdir() if p.suffix in (".xml", ".atom"))
    return [f"{base_url.rstrip('/')}/{name}" for name in names]


def demo_feeds_folder() -> Path:
    """The folder of recorded EN and ZH feeds used by the offline demo."""
    return _DEMO_FEEDS

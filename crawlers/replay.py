"""A local HTTP server that replays recorded responses, for tests and the offline demo.

A request for `/a/b.xml` is answered from `<root>/a/b.xml`. Its `.headers.json` sidecar
(`{"status": int, "headers": {...}, "delay_s": float}`) gives the status, headers and a delay
before answering (a slow host); without one the answer is 200 with a Content-Type from the
extension. A `ROUTES.json` in the root maps requests with query
strings to files: `[{"path": "/api", "query": {"start": "4"}, "files": ["p2.xml"]}]`; a route
with several files serves them in turn (the last one repeats), for retry sequences. Every 200
answer carries an ETag, and a matching `If-None-Match` gets 304.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".html": "text/html",
    ".txt": "text/plain",
    ".gz": "application/gzip",
    ".empty": "application/octet-stream",
}


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Route:
    """Requests to `path` whose query contains `query` get `files`, in turn."""

    path: str
    files: list[str]
    query: dict[str, str] = field(default_factory=dict)
    served: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path == self.path and all(query.get(k) == v for k, v in self.query.items())

    def next_file(self) -> str:
        name = self.files[min(self.served, len(self.files) - 1)]
        self.served += 1
        return name


def _load_routes(root: Path) -> list[Route]:
    spec = root / "ROUTES.json"
    if not spec.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(spec.read_text("utf-8"))
    return [
        Route(path=row["path"], files=list(row["files"]), query=dict(row.get("query", {})))
        for row in rows
    ]


def _sidecar(path: Path) -> tuple[int, dict[str, str], float]:
    side = path.with_name(path.name + ".headers.json")
    if side.exists():
        spec = json.loads(side.read_text("utf-8"))
        return (
            int(spec.get("status", 200)),
            {str(k): str(v) for k, v in spec.get("headers", {}).items()},
            float(spec.get("delay_s", 0)),
        )
    kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    return 200, {"Content-Type": kind}, 0.0


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler that gave up (a deadline, Ctrl-C, a kill in the fault-injection tests)
        # closes its connection mid-answer; that is expected here, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ReplayServer:
    """Serves one folder on 127.0.0.1 from a background thread."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.routes = _load_routes(self.root)
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        """Forget received requests and rewind every route."""
        with self._lock:
            self.requests.clear()
            for route in self.routes:
                route.served = 0

    def resolve(self, path: str, query: dict[str, str]) -> Path | None:
        with self._lock:
            for route in self.routes:
                if route.matches(path, query):
                    return self.root / route.next_file()
        target = (self.root / path.lstrip("/")).resolve()
        if self.root not in target.parents or not target.is_file():
            return None
        return target

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_ReplayHandler):
            replay = server

        return Handler


class _ReplayHandler(BaseHTTPRequestHandler):
    replay: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length))

    def _answer(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.replay.record(Recorded(self.command, parts.path, query, dict(self.headers), body))
        target = self.replay.resolve(parts.path, query)
        if target is None:
            self._send(404, {"Content-Type": "text/plain"}, b"not recorded")
            return
        status, headers, delay_s = _sidecar(target)
        if delay_s:
            time.sleep(delay_s)
        content = target.read_bytes()
        if status == 200:
            headers.setdefault("ETag", '"' + hashlib.sha1(content).hexdigest()[:16] + '"')
            if self.headers.get("If-None-Match") == headers["ETag"]:
                self._send(304, {"ETag": headers["ETag"]}, b"")
                return
        self._send(status, headers, content)

    def _send(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)


@contextmanager
def serve(root: Path) -> Iterator[ReplayServer]:
    """A running replay server for `root`, stopped on exit."""
    server = ReplayServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve_folder(path: Path) -> Iterator[str]:
    """Serve a folder of recorded files on 127.0.0.1; yields the base URL."""
    with serve(path) as server:
        yield server.base_url

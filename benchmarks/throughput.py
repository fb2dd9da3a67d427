"""Throughput per stage and peak memory of the weekly job on 10k-100k documents (not a test).

A synthetic corpus is replicated from a real one: its documents in a fixed order (sha256 of
the id, duplicate texts and URLs dropped), copy r of a document getting the id `<id>#r<r>`, a
`copy=r` URL parameter and a date in another month, so that the run has P consecutive monthly
periods (from 2001-01) of N/P documents each. Copies of one text are at least one period apart
(the base holds at least N/P texts), so no period holds the same vector twice. Copies keep their
text, so the embeddings cache serves them: a configuration measures ingest, clustering,
tracking, scoring and the report at scale, not the encoder, which is measured on its own.

Each configuration runs in its own subprocess (its peak RSS is its own): a fresh DuckDB store,
`observatory ingest` of the synthetic file, the vectors copied from the cache, `process_pending`
(what the weekly job runs, with the job's default settings) with the engine's stopwatch, then the
report of the last period built and rendered. One JSON per configuration goes to the output dir.

    python benchmarks/throughput.py grid                # (a) and (b), see --help for the flags
    python benchmarks/throughput.py embed               # encoder documents/s, 1 and 2 threads
    python benchmarks/throughput.py table               # Markdown tables of the results

Grid (a) grows the documents per period (N = 10k, 50k, 100k at P = 20); grid (b) grows the
number of periods (1,000 documents per period, P = 10, 50, 100).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/throughput.py` from anywhere
    sys.path.insert(0, str(ROOT))

from models.embed import DEFAULT_ENCODER  # noqa: E402
from pipeline.ingest import open_lines, parse_record  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "paperlists.jsonl.gz"
DEFAULT_CACHE = ROOT / "benchmarks" / "results" / "cache" / "paperlists.duckdb"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "throughput"
EMBED_CORPORA = (DEFAULT_CORPUS, ROOT.parent / "shared" / "corpora" / "ruanyf_weekly.jsonl.gz")
FIRST_MONTH = date(2001, 1, 1)
GRANULARITY = "month"
# The engine's stages (models/engine.py), then ours around them.
ENGINE_STAGES = (
    "read",
    "embed_new",
    "cluster",
    "track",
    "keywords",
    "terms",
    "score",
    "signals",
    "write",
)
STAGES = ("ingest", "vectors_in", *ENGINE_STAGES, "process_other", "process", "report", "total")


# ---------------------------------------------------------------------------------------------
# The synthetic corpus


@dataclass(frozen=True)
class BaseDoc:
    """One distinct document of the real corpus: its raw record and what de-duplicates it."""

    doc_id: str
    record: dict[str, Any]
    content_hash: str
    chars: int


def _order_key(doc_id: str) -> str:
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()


def load_base(path: Path) -> list[BaseDoc]:
    """The corpus's records ordered by sha256 of their id, one per text and per canonical URL.

    Raw records are kept (not the parsed Document) so the synthetic file parses to exactly the
    texts, hence the content hashes, that the embeddings cache was filled with.
    """
    parsed: list[tuple[str, BaseDoc, str | None]] = []
    with open_lines(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            parsed_doc = parse_record(f"{path}:{number}", record)
            parsed.append(
                (
                    _order_key(parsed_doc.doc_id),
                    BaseDoc(
                        parsed_doc.doc_id,
                        record,
                        parsed_doc.content_hash,
                        len(parsed_doc.full_text),
                    ),
                    parsed_doc.canonical_url,
                )
            )
    parsed.sort(key=lambda item: item[0])
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()
    seen_urls: set[str] = set()
    kept: list[BaseDoc] = []
    for _, doc, url in parsed:
        if doc.doc_id in seen_ids or doc.content_hash in seen_hashes or (url and url in seen_urls):
            continue
        seen_ids.add(doc.doc_id)
        seen_hashes.add(doc.content_hash)
        if url:
            seen_urls.add(url)
        kept.append(doc)
    return kept


def month_label(index: int) -> str:
    """`YYYY-MM` of the index-th month from FIRST_MONTH."""
    months = FIRST_MONTH.year * 12 + FIRST_MONTH.month - 1 + index
    return f"{months // 12}-{months % 12 + 1:02d}"


def copy_url(url: str | None, copy: int) -> str | None:
    """The URL with `copy=N` added to its query (kept by canonical_url, so copies stay distinct)."""
    if not url or copy == 0:
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("copy", str(copy))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def period_index(index: int, n_docs: int, n_periods: int) -> int:
    """Period of the index-th synthetic document: P consecutive blocks of N/P (±1) documents."""
    return index * n_periods // n_docs


def check_config(n_base: int, n_docs: int, n_periods: int) -> None:
    """Copies of a text sit n_base positions apart; that is a period or more when n_base >= N/P."""
    if n_docs < 1 or n_periods < 1 or n_periods > n_docs:
        raise ValueError(
            f"need 1 <= periods <= documents, got {n_docs} documents, {n_periods} periods"
        )
    if n_base < math.ceil(n_docs / n_periods):
        raise ValueError(
            f"{n_docs} documents in {n_periods} periods need at least "
            f"{math.ceil(n_docs / n_periods)} distinct base texts, the corpus has "
            f"{n_base}: a period would hold one text twice"
        )


def synthetic_records(
    base: Sequence[BaseDoc], n_docs: int, n_periods: int
) -> Iterator[dict[str, Any]]:
    """The N records of the configuration, oldest period first.

    Record i is copy i // B of base document i % B (B = len(base)) in period i * P // N. Copy 0
    keeps the original id and URL; copy r >= 1 gets `<id>#r<r>` and `copy=r` in its URL.
    """
    check_config(len(base), n_docs, n_periods)
    for index in range(n_docs):
        doc = base[index % len(base)]
        copy = index // len(base)
        start = date.fromisoformat(month_label(period_index(index, n_docs, n_periods)) + "-01")
        record = dict(doc.record)
        record["id"] = doc.doc_id if copy == 0 else f"{doc.doc_id}#r{copy}"
        record["url"] = copy_url(record.get("url"), copy)
        record["date"] = start.replace(day=1 + index % 28).isoformat()
        record["date_precision"] = "day"
        yield record


def write_synthetic(base: Sequence[BaseDoc], n_docs: int, n_periods: int, path: Path) -> Path:
    """Write the configuration's records as JSON Lines (gzipped when the name ends in .gz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in synthetic_records(base, n_docs, n_periods):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# One configuration (run in its own process)


def _rss_mb() -> float:
    """Peak resident memory of this process so far, MB.

    VmHWM, not ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss across
    fork+exec (measured: a bare `python -c` started by a process holding 400 MB reported an
    ru_maxrss of 411 MB and a VmHWM of 11 MB), and the grid's parent holds the base corpus.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _reset_peak() -> bool:
    """Start VmHWM again from the current RSS (Linux `clear_refs` 5); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        return True
    except OSError:
        return False


@dataclass
class Meter:
    """Seconds and peak RSS per stage; the peak is per stage where the kernel can reset it."""

    seconds: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)
    per_stage: bool = True

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.per_stage = _reset_peak() and self.per_stage
        clock = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - clock
            self.peak_mb[name] = _rss_mb()


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _modified_files() -> list[str]:
    """Tracked files that differ from the commit code_version() names (uncommitted work)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "diff", "--name-only", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in done.stdout.splitlines() if line.strip()]


def _machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def run_config(
    corpus: Path,
    db_path: Path,
    reports_dir: Path,
    encoder_spec: str,
    threads: int,
    cache: Path | None,
    n_periods_expected: int | None = None,
) -> dict[str, Any]:
    """Ingest `corpus` into a fresh store, bring vectors in, process every period, report.

    With `cache`, vectors come from the embeddings cache (every text must be there); without,
    the encoder computes them in the vectors-in stage (the test's hashing encoder).
    """
    from models.embed import build_encoder
    from models.engine import PeriodSummary
    from models.runner import build_context, process_pending
    from models.stopwatch import Stopwatch
    from observatory.settings import Settings
    from pipeline.db import session, transaction
    from pipeline.embedding_cache import copy_cached_embeddings
    from pipeline.ingest import ingest_file
    from pipeline.provenance import code_version
    from pipeline.store import insert_embeddings, iter_batches, missing_embeddings

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_start = _loadavg()
    version = code_version()
    meter = Meter(peak_mb={"imports": _rss_mb()})
    seconds = meter.seconds
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")  # CJK in charts
    params = Settings().engine_params(GRANULARITY)
    with meter.stage("encoder_load"):
        encoder = build_encoder(encoder_spec, threads=threads)
        encoder.encode(["warm-up"])  # USE loads its weights on the first call
    # Informational, not in the total: process_pending builds the same context once per run
    # (the taxonomy embedded), and that is part of its process_other below.
    with meter.stage("context_once"):
        build_context(encoder, params, "v1", "probe")

    with meter.stage("ingest"), session(db_path) as con:
        report = ingest_file(con, corpus)
        stored = int(con.execute("SELECT count(*) FROM documents").fetchall()[0][0])
        hashes = [
            row[0] for row in con.execute("SELECT DISTINCT content_hash FROM documents").fetchall()
        ]

    with meter.stage("vectors_in"):
        if cache is not None:
            copy_cached_embeddings(db_path, cache, hashes, encoder.name)
            with session(db_path) as con:
                missing = missing_embeddings(con, hashes, encoder.name)
            if missing:
                raise SystemExit(
                    f"{len(missing)} of {len(hashes)} texts have no "
                    f"{encoder.name} vector in {cache}: fill it with "
                    "benchmarks/embed_corpus.py"
                )
        else:
            with session(db_path) as con:
                todo = missing_embeddings(con, hashes, encoder.name)
                texts = {
                    h: f"{title}\n{text}".strip()
                    for h, title, text in con.execute(
                        "SELECT DISTINCT ON (content_hash) content_hash, title, text FROM documents"
                    ).fetchall()
                }
            for batch in iter_batches(todo, 256):
                vectors = encoder.encode([texts[h] for h in batch])
                with session(db_path) as con, transaction(con):
                    insert_embeddings(con, list(batch), encoder.name, vectors)

    stopwatch = Stopwatch()
    period_seconds: list[float] = []
    period_docs: list[int] = []
    mark = [time.perf_counter()]

    def on_period(summary: PeriodSummary) -> None:
        now = time.perf_counter()
        period_seconds.append(round(now - mark[0], 3))
        period_docs.append(summary.n_docs)
        mark[0] = now

    with meter.stage("process"):
        mark[0] = time.perf_counter()
        run = process_pending(db_path, params, encoder, on_period=on_period, stopwatch=stopwatch)
    for stage in ENGINE_STAGES:
        seconds[stage] = stopwatch.seconds.get(stage, 0.0)
    seconds["process_other"] = seconds["process"] - sum(seconds[s] for s in ENGINE_STAGES)

    from reports.write import write_report

    with meter.stage("report"):
        paths = write_report(db_path, reports_dir, GRANULARITY, None)
    seconds["total"] = sum(seconds[s] for s in ("ingest", "vectors_in", "process", "report"))

    n_periods = len(run.periods)
    if n_periods_expected is not None and n_periods != n_periods_expected:
        raise SystemExit(f"expected {n_periods_expected} periods, processed {n_periods}")
    return {
        "corpus": corpus.name,
        "cache": str(cache) if cache else None,
        "encoder": encoder.name,
        "encoder_threads": threads,
        "granularity": GRANULARITY,
        "n_docs": stored,
        "n_read": report.read,
        "n_texts": len(hashes),
        "n_periods": n_periods,
        "docs_per_period": round(stored / max(n_periods, 1), 1),
        "n_topics": run.n_topics,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "docs_per_s": {
            "ingest": round(stored / max(seconds["ingest"], 1e-9), 1),
            "pipeline": round(stored / max(seconds["total"], 1e-9), 1),
        },
        "period_seconds": period_seconds,
        "period_docs": period_docs,
        "report": paths.html.name,
        "peak_rss_mb": max(meter.peak_mb.values()),
        "peak_rss_mb_by_stage": meter.peak_mb,
        "peak_per_stage": meter.per_stage,
        "code_version": version,
        "modified_files": _modified_files(),
        "machine": _machine(),
        "load_avg_start": load_start,
        "load_avg_end": _loadavg(),
        "started_at": started_at,
        "engine_params": asdict(params),
    }


# ---------------------------------------------------------------------------------------------
# Encoder throughput (each measurement in its own process: thread counts are set at start)


def measure_encoder(
    corpus: Path, encoder_spec: str, threads: int, n_docs: int, batch_size: int
) -> dict[str, Any]:
    """Documents/s of the encoder on the first n_docs distinct documents of the corpus."""
    from models.embed import build_encoder

    load_start = _loadavg()
    texts = [parse_record(str(corpus), doc.record).full_text for doc in load_base(corpus)[:n_docs]]
    clock = time.perf_counter()
    encoder = build_encoder(encoder_spec, threads=threads)
    if encoder_spec == "minilm-offline":
        import torch

        torch.set_num_threads(threads)
    encoder.encode(texts[:8])  # warm-up: lazy weights, first-call allocations
    load = time.perf_counter() - clock
    clock = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        encoder.encode(texts[start : start + batch_size])
    elapsed = time.perf_counter() - clock
    return {
        "corpus": corpus.name,
        "encoder": encoder.name,
        "spec": encoder_spec,
        "threads": threads,
        "n_docs": len(texts),
        "batch_size": batch_size,
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "mean_chars_clipped_2000": round(sum(min(len(t), 2000) for t in texts) / len(texts), 1),
        "seconds": round(elapsed, 3),
        "docs_per_s": round(len(texts) / elapsed, 2),
        "load_seconds": round(load, 3),
        "peak_rss_mb": _rss_mb(),
        "code_version": _code_version(),
        "modified_files": _modified_files(),
        "machine": _machine(),
        "load_avg_start": load_start,
        "load_avg_end": _loadavg(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _code_version() -> str:
    from pipeline.provenance import code_version

    return code_version()


# ---------------------------------------------------------------------------------------------
# Orchestration


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def _child_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)
    return env


def _spawn(argv: list[str], threads: int, timeout: float) -> tuple[int, float]:
    """Run this script in a fresh process; returns (exit status, seconds). -9: timed out."""
    clock = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *argv],
            env=_child_env(threads),
            timeout=timeout,
            check=False,
        )
        return done.returncode, time.perf_counter() - clock
    except subprocess.TimeoutExpired:
        return -9, time.perf_counter() - clock


def configs(args: argparse.Namespace) -> list[tuple[str, int, int]]:
    """(grid, documents, periods) of every configuration asked for, in order."""
    wanted = [("docs_per_period", n, args.at_periods) for n in _ints(args.docs)]
    wanted += [("periods", args.per_period * p, p) for p in _ints(args.periods)]
    return wanted


def result_name(n_docs: int, n_periods: int) -> str:
    return f"n{n_docs}_p{n_periods}.json"


def cmd_grid(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"reading {args.corpus} ...", flush=True)
    base = load_base(args.corpus)
    print(f"{len(base)} distinct documents", flush=True)
    for grid, n_docs, n_periods in configs(args):
        target = out / result_name(n_docs, n_periods)
        if target.exists() and not args.force:
            print(f"{target.name}: exists, skipped (--force to measure again)", flush=True)
            continue
        with tempfile.TemporaryDirectory(prefix="throughput-", dir=args.scratch) as scratch:
            folder = Path(scratch)
            corpus = write_synthetic(base, n_docs, n_periods, folder / "synthetic.jsonl")
            argv = [
                "run",
                str(corpus),
                "--db",
                str(folder / "store.duckdb"),
                "--reports",
                str(folder / "reports"),
                "--result",
                str(target),
                "--encoder",
                args.encoder,
                "--threads",
                str(args.threads),
                "--expect-periods",
                str(n_periods),
                "--grid",
                grid,
            ]
            if args.cache:
                argv += ["--cache", str(args.cache)]
            print(f"{grid}: {n_docs} documents in {n_periods} periods ...", flush=True)
            status, elapsed = _spawn(argv, args.threads, args.timeout)
        if status != 0:
            reason = "timed out" if status == -9 else f"exit status {status}"
            target.with_suffix(".failed.json").write_text(
                json.dumps(
                    {
                        "grid": grid,
                        "n_docs": n_docs,
                        "n_periods": n_periods,
                        "reason": reason,
                        "seconds": round(elapsed, 1),
                        "timeout": args.timeout,
                        "load_avg_end": _loadavg(),
                    },
                    indent=2,
                )
                + "\n",
                encoding="utf-8",
            )
            print(f"  {reason} after {elapsed:.0f} s", flush=True)
            continue
        result = json.loads(target.read_text(encoding="utf-8"))
        s = result["seconds"]
        print(
            f"  total {s['total']:.1f} s (cluster {s['cluster']:.1f}, report {s['report']:.1f}),"
            f" peak {result['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    result = run_config(
        args.corpus,
        args.db,
        args.reports,
        args.encoder,
        args.threads,
        args.cache,
        args.expect_periods,
    )
    result["grid"] = args.grid
    args.result.parent.mkdir(parents=True, exist_ok=True)
    args.result.write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    out: Path = args.out / "embed"
    out.mkdir(parents=True, exist_ok=True)
    for corpus in args.embed_corpus:
        for spec in args.encoders.split(","):
            for threads in _ints(args.threads_list):
                name = f"{corpus.name.split('.')[0]}_{spec}_t{threads}.json"
                print(f"{name} ...", flush=True)
                status, elapsed = _spawn(
                    [
                        "embed-one",
                        str(corpus),
                        "--encoder",
                        spec,
                        "--threads",
                        str(threads),
                        "--docs",
                        str(args.docs),
                        "--batch-size",
                        str(args.batch_size),
                        "--result",
                        str(out / name),
                    ],
                    threads,
                    args.timeout,
                )
                if status != 0:
                    print(f"  failed (exit status {status}) after {elapsed:.0f} s", flush=True)
                    continue
                result = json.loads((out / name).read_text(encoding="utf-8"))
                print(f"  {result['docs_per_s']} docs/s", flush=True)
    return 0


def cmd_embed_one(args: argparse.Namespace) -> int:
    result = measure_encoder(args.corpus, args.encoder, args.threads, args.docs, args.batch_size)
    args.result.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def _fit_exponent(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) against log(x): cost grows as x ** slope."""
    usable = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(usable) < 2:
        return None
    mean_x = sum(x for x, _ in usable) / len(usable)
    mean_y = sum(y for _, y in usable) / len(usable)
    spread = sum((x - mean_x) ** 2 for x, _ in usable)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in usable) / spread


def _terms_share(seconds: dict[str, float]) -> str:
    """The issue's cost measure: candidate terms and signals as a share of processing ("-"
    for results recorded before the two stages were timed apart)."""
    if "terms" not in seconds or not seconds.get("process"):
        return "-"
    return f"{(seconds['terms'] + seconds.get('signals', 0.0)) / seconds['process']:.2f}"


def _peak(result: dict[str, Any]) -> str:
    by_stage: dict[str, float] = result["peak_rss_mb_by_stage"]
    stage = max(by_stage, key=lambda name: by_stage[name])
    return f"{by_stage[stage]:.0f} ({stage})"


def load_results(out: Path) -> list[dict[str, Any]]:
    """The configuration results in one folder (not its failures, not its subfolders)."""
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(out.glob("n*_p*.json"))
        if not p.name.endswith(".failed.json")
    ]


def min_over_runs(runs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One result per configuration: each stage's fewest seconds over the runs (the least
    disturbed on a shared machine; the total is the smallest total, not a sum of minima), the
    largest peak memory, the widest load range, and the count of runs in `runs`."""
    grouped: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for results in runs:
        for r in results:
            grouped.setdefault((r.get("grid", ""), r["n_docs"], r["n_periods"]), []).append(r)
    merged = []
    for group in grouped.values():
        best = dict(min(group, key=lambda r: r["seconds"]["total"]))
        best["seconds"] = {
            stage: min(r["seconds"][stage] for r in group) for stage in best["seconds"]
        }
        best["docs_per_s"] = {
            "ingest": best["n_docs"] / best["seconds"]["ingest"],
            "pipeline": best["n_docs"] / best["seconds"]["total"],
        }
        best["peak_rss_mb_by_stage"] = {
            stage: max(r["peak_rss_mb_by_stage"][stage] for r in group)
            for stage in best["peak_rss_mb_by_stage"]
        }
        best["load_avg_start"] = [min(r["load_avg_start"][0] for r in group)]
        best["load_avg_end"] = [max(r["load_avg_end"][0] for r in group)]
        best["runs"] = len(group)
        merged.append(best)
    return merged


def format_tables(out: Path, also: Sequence[Path] = ()) -> str:
    """Markdown tables of every result in `out` (what docs/benchmarks.md shows); with `also`,
    folders of repeated runs, each stage's minimum over all of them (see min_over_runs)."""
    results = load_results(out)
    if also:
        results = min_over_runs([results, *(load_results(folder) for folder in also)])
    lines: list[str] = []
    columns = tuple(stage for stage in STAGES if stage != "process")
    for grid, key, title in (
        ("docs_per_period", "docs_per_period", "documents per period"),
        ("periods", "n_periods", "number of periods"),
    ):
        rows = sorted(
            (r for r in results if r.get("grid") == grid),
            key=lambda r: (r["n_docs"], r["n_periods"]),
        )
        if not rows:
            continue
        lines += [
            f"Growth with the {title}:",
            "",
            "| docs | periods | docs/period | "
            + " | ".join(columns)
            + " | (terms + signals) / process | s/period (median) | docs/s | peak MB (in)"
            " | process peak MB | load avg |",
            "|" + "---|" * (len(columns) + 9),
        ]
        for r in rows:
            s = r["seconds"]
            lines.append(
                f"| {r['n_docs']} | {r['n_periods']} | {r['docs_per_period']:.0f} | "
                + " | ".join(f"{s.get(c, 0.0):.1f}" for c in columns)
                + f" | {_terms_share(s)}"
                + f" | {statistics.median(r['period_seconds']):.2f}"
                f" | {r['docs_per_s']['pipeline']:.0f} | {_peak(r)} | "
                f"{r['peak_rss_mb_by_stage']['process']:.0f} | "
                f"{r['load_avg_start'][0]:.1f}-{r['load_avg_end'][0]:.1f} |"
            )
        lines.append("")
        fits = []
        for stage in (
            "ingest",
            "vectors_in",
            "read",
            "cluster",
            "track",
            "keywords",
            "score",
            "write",
            "report",
            "total",
        ):
            slope = _fit_exponent(
                [(float(r[key]), float(r["seconds"].get(stage, 0.0))) for r in rows]
            )
            if slope is not None:
                fits.append(f"{stage} {slope:.2f}")
        if fits:
            lines += [f"Fitted exponent (seconds ~ {key} ** k): " + ", ".join(fits) + ".", ""]
    failed = sorted(out.glob("*.failed.json"))
    for path in failed:
        info = json.loads(path.read_text(encoding="utf-8"))
        lines.append(
            f"Not measured: {info['n_docs']} documents in {info['n_periods']} periods "
            f"({info['reason']} after {info['seconds']:.0f} s)."
        )
    embeds = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "embed").glob("*.json"))
    ]
    if embeds:
        lines += [
            "",
            "| corpus | encoder | threads | docs | mean chars | seconds | docs/s | "
            "peak MB | load avg |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for e in embeds:
            lines.append(
                f"| {e['corpus']} | {e['encoder']} | {e['threads']} | {e['n_docs']} | "
                f"{e['mean_chars']:.0f} | {e['seconds']:.1f} | {e['docs_per_s']:.1f} | "
                f"{e['peak_rss_mb']:.0f} | {e['load_avg_start'][0]:.1f}-"
                f"{e['load_avg_end'][0]:.1f} |"
            )
    return "\n".join(lines) + "\n"


def cmd_table(args: argparse.Namespace) -> int:
    print(format_tables(args.out, args.min_with), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    grid = commands.add_parser("grid", help="measure the two grids, one process per config")
    grid.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="real corpus to replicate (default: %(default)s)",
    )
    grid.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help="embeddings cache holding every text's vector (default: "
        "%(default)s); 'none' computes them with --encoder",
    )
    grid.add_argument(
        "--docs",
        default="10000,50000,100000",
        help="grid (a): total documents at --at-periods periods (default: "
        "%(default)s; empty to skip)",
    )
    grid.add_argument("--at-periods", type=int, default=20, help="grid (a)'s period count")
    grid.add_argument(
        "--periods",
        default="10,50,100",
        help="grid (b): period counts at --per-period documents each (default: "
        "%(default)s; empty to skip)",
    )
    grid.add_argument("--per-period", type=int, default=1000, help="grid (b)'s documents/period")
    grid.add_argument(
        "--encoder",
        default=DEFAULT_ENCODER,
        help="encoder (its vectors must be in the cache; it embeds the taxonomy)",
    )
    grid.add_argument("--threads", type=int, default=1, help="BLAS/encoder threads")
    grid.add_argument(
        "--timeout",
        type=float,
        default=1200.0,
        help="seconds before a configuration is stopped and noted as not measured",
    )
    grid.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="folder for the temporary stores (default: the system's temp)",
    )
    grid.add_argument("--out", type=Path, default=DEFAULT_OUT, help="result folder")
    grid.add_argument("--force", action="store_true", help="measure configs already measured")
    grid.set_defaults(func=cmd_grid)

    embed = commands.add_parser("embed", help="encoder documents/s, one process per measure")
    embed.add_argument("--embed-corpus", type=Path, nargs="+", default=list(EMBED_CORPORA))
    embed.add_argument("--encoders", default=f"{DEFAULT_ENCODER},minilm-offline")
    embed.add_argument("--threads-list", default="1,2")
    embed.add_argument("--docs", type=int, default=1000)
    embed.add_argument("--batch-size", type=int, default=64, help="the engine's batch size")
    embed.add_argument("--timeout", type=float, default=1200.0)
    embed.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results go to OUT/embed")
    embed.set_defaults(func=cmd_embed)

    table = commands.add_parser("table", help="Markdown tables of the results in --out")
    table.add_argument("--out", type=Path, default=DEFAULT_OUT)
    table.add_argument(
        "--min-with",
        type=Path,
        nargs="*",
        default=[],
        help="result folders of repeated runs: show each stage's minimum over --out and these",
    )
    table.set_defaults(func=cmd_table)

    run = commands.add_parser("run", help="(internal) one configuration from a synthetic file")
    run.add_argument("corpus", type=Path)
    run.add_argument("--db", type=Path, required=True)
    run.add_argument("--reports", type=Path, required=True)
    run.add_argument("--result", type=Path, required=True)
    run.add_argument("--cache", type=Path)
    run.add_argument("--encoder", default=DEFAULT_ENCODER)
    run.add_argument("--threads", type=int, default=1)
    run.add_argument("--expect-periods", type=int)
    run.add_argument("--grid", default="")
    run.set_defaults(func=cmd_run)

    one = commands.add_parser("embed-one", help="(internal) one encoder measurement")
    one.add_argument("corpus", type=Path)
    one.add_argument("--encoder", default=DEFAULT_ENCODER)
    one.add_argument("--threads", type=int, default=1)
    one.add_argument("--docs", type=int, default=1000)
    one.add_argument("--batch-size", type=int, default=64)
    one.add_argument("--result", type=Path, required=True)
    one.set_defaults(func=cmd_embed_one)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "cache", None) is not None and str(args.cache).lower() == "none":
        args.cache = None
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""A backfill in one process and on 1..W Dask workers: wall time, CPU, memory (not a test).

One configuration per process (`run`): the synthetic corpus of benchmarks/throughput.py
(paperlists abstracts in P monthly periods of N/P documents), a fresh store, `ingest_file`,
then every period processed either in this process (`--workers 0`, `process_pending`) or on a
LocalCluster of W one-thread worker processes started here (`process_on_dask` attached to its
address, so the workers can be asked for their CPU seconds and peak memory afterwards).
With `--cache`, vectors are copied in from an embeddings cache first (a clustering-bound run);
without, the encoder embeds every text (an embedding-bound run).

    python benchmarks/scale.py run --docs 2000 --periods 4 --workers 0
    python benchmarks/scale.py run --docs 2000 --periods 4 --workers 2
    python benchmarks/scale.py table

CPU seconds are the load-independent part on a shared machine: documents per worker
CPU-second is the per-core rate, whatever else runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.throughput import (  # noqa: E402
    DEFAULT_CORPUS,
    _loadavg,
    _machine,
    _rss_mb,
    load_base,
    write_synthetic,
)

OUT = ROOT / "benchmarks" / "results" / "scale"
GRANULARITY = "month"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker_stats() -> dict[str, float]:
    return {"cpu_s": round(_cpu_seconds(), 2), "peak_mb": _rss_mb()}


def _warm(encoder_spec: str, cache: bool) -> float:
    """Imports and (when it will embed) the encoder, before a worker's CPU is counted."""
    started = time.perf_counter()
    from flows.prefect_env import configure

    configure()
    import flows.scale  # noqa: F401
    import models.engine  # noqa: F401

    if not cache:
        from models.embed import shared_encoder

        shared_encoder(encoder_spec, 1).encode(["warm-up"])
    return round(time.perf_counter() - started, 2)


def _fingerprint(db_path: Path) -> dict[str, Any]:
    """Counts and a digest of what processing wrote: equal digests, identical results."""
    from pipeline.db import session

    digest = hashlib.sha256()
    counts = {}
    with session(db_path, read_only=True) as con:
        for table, order in (
            ("topic_periods", "topic_id, period"),
            ("doc_topics", "ALL"),
            ("topic_lineage", "ALL"),
            ("embeddings", "content_hash"),
            ("signal_periods", "signal_id, period"),
        ):
            rows = con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            counts[table] = len(rows)
            digest.update(repr(rows).encode())
    return {"counts": counts, "sha256": digest.hexdigest()[:16]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from models.embed import build_encoder
    from models.parallel import ParallelOptions
    from models.runner import process_pending
    from models.stopwatch import Stopwatch
    from observatory.settings import Settings
    from pipeline.db import session
    from pipeline.embedding_cache import copy_cached_embeddings
    from pipeline.ingest import ingest_file
    from pipeline.provenance import code_version

    result: dict[str, Any] = {
        "docs": args.docs,
        "periods": args.periods,
        "workers": args.workers,
        "encoder": args.encoder,
        "cache": str(args.cache) if args.cache else None,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "machine": _machine(),
        "load_start": _loadavg(),
    }
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="scale-") as scratch:
        corpus = write_synthetic(
            load_base(args.corpus), args.docs, args.periods, Path(scratch) / "corpus.jsonl"
        )
        db_path = Path(scratch) / "store.duckdb"
        clock, ingest_cpu = time.perf_counter(), _cpu_seconds()
        with session(db_path) as con:
            ingest_file(con, corpus)
            hashes = [
                r[0] for r in con.execute("SELECT DISTINCT content_hash FROM documents").fetchall()
            ]
        seconds["ingest"] = time.perf_counter() - clock
        result["ingest_cpu_s"] = round(_cpu_seconds() - ingest_cpu, 2)
        if args.cache:
            copy_cached_embeddings(db_path, args.cache, hashes, "use-multilingual-v3")
        params = Settings(engine={"embed_batch_size": 64}).engine_params(GRANULARITY)
        stopwatch = Stopwatch()
        cpu_before = _cpu_seconds()
        if args.workers == 0:
            clock = time.perf_counter()
            encoder = build_encoder(args.encoder, 1)
            processed = process_pending(db_path, params, encoder, stopwatch=stopwatch)
            seconds["process"] = time.perf_counter() - clock
            workers: list[dict[str, float]] = []
        else:
            from distributed import Client, LocalCluster

            from flows.prefect_env import configure

            configure()  # before flows.scale first imports Prefect
            from flows.scale import process_on_dask, shared_prefect_api

            clock = time.perf_counter()
            with (
                shared_prefect_api(),
                LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                ) as cluster,
                Client(cluster) as client,
            ):  # type: ignore[no-untyped-call]
                client.wait_for_workers(args.workers)
                seconds["prefect_api_and_cluster_start"] = time.perf_counter() - clock
                result["worker_warm_s"] = client.run(_warm, args.encoder, bool(args.cache))
                idle = client.run(_worker_stats)
                cpu_before = _cpu_seconds()
                clock = time.perf_counter()
                processed = process_on_dask(
                    db_path,
                    params,
                    args.encoder,
                    1,
                    "v1",
                    0,
                    cluster.scheduler_address,
                    ParallelOptions(
                        window_docs=args.window_docs, batches_per_task=args.batches_per_task
                    ),
                    stopwatch=stopwatch,
                )
                seconds["process"] = time.perf_counter() - clock
                after = client.run(_worker_stats)
            workers = [
                {
                    "address": address,
                    "cpu_s": round(stats["cpu_s"] - idle[address]["cpu_s"], 2),
                    "peak_mb": stats["peak_mb"],
                    "idle_mb": idle[address]["peak_mb"],
                }
                for address, stats in sorted(after.items())
            ]
        result["driver_cpu_s"] = round(_cpu_seconds() - cpu_before, 2)
        result["driver_peak_mb"] = _rss_mb()
        result["workers_detail"] = workers
        result["stages"] = {k: round(v, 2) for k, v in stopwatch.seconds.items()}
        result["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
        result["n_periods_processed"] = len(processed.periods)
        result["n_topics"] = processed.n_topics
        result["result"] = _fingerprint(db_path)
    result["load_end"] = _loadavg()
    docs = args.docs
    result["docs_per_s"] = round(docs / seconds["process"], 1)
    worker_cpu = sum(w["cpu_s"] for w in workers)
    result["docs_per_worker_cpu_s"] = round(docs / worker_cpu, 1) if worker_cpu else None
    result["docs_per_driver_cpu_s"] = round(docs / result["driver_cpu_s"], 1)
    return result


def table(out: Path) -> str:
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    lines = [
        "| docs | periods | vectors | workers | process s | docs/s | driver CPU s | "
        "worker CPU s (each) | docs per worker CPU-s | driver peak MB | worker peak MB "
        "(each) | result digest | load avg (start / end) |",
        "|" + "---|" * 13,
    ]
    rows.sort(key=lambda r: (r["cache"] is not None, r["docs"], r["workers"]))
    for r in rows:
        ws = r["workers_detail"]
        lines.append(
            f"| {r['docs']} | {r['periods']} | {'cache' if r['cache'] else r['encoder']} | "
            f"{r['workers']} | {r['seconds']['process']} | {r['docs_per_s']} | "
            f"{r['driver_cpu_s']} | {', '.join(str(w['cpu_s']) for w in ws) or '-'} | "
            f"{r['docs_per_worker_cpu_s'] or '-'} | {r['driver_peak_mb']} | "
            f"{', '.join(str(w['peak_mb']) for w in ws) or '-'} | {r['result']['sha256']} | "
            f"{r['load_start'][0]} / {r['load_end'][0]} |"
        )
    return "\n".join(lines)


def project(
    embed_run: Path,
    cluster_run: Path,
    sizes: list[int],
    workers: list[int],
    worker_ms: float | None = None,
) -> str:
    """Wall time of N documents on W workers from measured CPU seconds per document.

    Per document: `w` worker CPU-s (embedding + clustering + keywords, from the embedding-bound
    run on workers), `d` driver CPU-s while processing (reading, tracking, terms, scores,
    directions, the write, task bookkeeping; from the clustering-bound run on workers, which
    has no encoding to hide it), `i` ingest CPU-s (single writer, before processing). Workers
    and driver overlap (windows), ingest does not: wall ~ N*i + max(N*w/W, N*d). Assumes one
    idle core per worker and per driver, as many periods as workers or more, and rates as
    measured per CPU-second here (a busy machine's per-core rate: pessimistic).
    """
    er = json.loads(embed_run.read_text())
    cr = json.loads(cluster_run.read_text())
    w = (
        worker_ms / 1000
        if worker_ms is not None
        else sum(x["cpu_s"] for x in er["workers_detail"]) / er["docs"]
    )
    d = cr["driver_cpu_s"] / cr["docs"]
    i = cr["ingest_cpu_s"] / cr["docs"]
    lines = [
        f"Per document: workers {w * 1000:.2f} ms CPU ({1 / w:.1f} docs per worker "
        f"CPU-second), driver {d * 1000:.3f} ms, ingest {i * 1000:.3f} ms; the driver "
        f"keeps up with {w / d:.0f} workers.",
        "",
        "| documents | workers | workers' part (h) | driver's part (h) | ingest (h) | "
        "wall (h) | bound by | by |",
        "|" + "---|" * 8,
    ]
    for n in sizes:
        for count in workers:
            work, drive, ing = n * w / count, n * d, n * i
            bound = "workers" if work >= drive else "driver (finish step, single writer)"
            ratio = max(work, drive) / max(min(work, drive), 1e-9)
            lines.append(
                f"| {n:,} | {count} | {work / 3600:.2f} | {drive / 3600:.2f} | "
                f"{ing / 3600:.2f} | {(ing + max(work, drive)) / 3600:.2f} | {bound} | "
                f"{ratio:.1f}x |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run", help="one configuration")
    one.add_argument("--docs", type=int, default=2000)
    one.add_argument("--periods", type=int, default=4)
    one.add_argument("--workers", type=int, default=0)
    one.add_argument("--encoder", default="use-multilingual-v3")
    one.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="embeddings cache: copy vectors in instead of encoding",
    )
    one.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    one.add_argument("--window-docs", type=int, default=20_000)
    one.add_argument("--batches-per-task", type=int, default=16)
    one.add_argument("--out", type=Path, default=OUT)
    show = commands.add_parser("table", help="Markdown table of the results")
    show.add_argument("--out", type=Path, default=OUT)
    proj = commands.add_parser("project", help="projected wall times from two runs")
    proj.add_argument("--embed-run", type=Path, required=True)
    proj.add_argument("--cluster-run", type=Path, required=True)
    proj.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    proj.add_argument("--workers", type=int, nargs="+", default=[8, 32, 128])
    proj.add_argument(
        "--worker-ms",
        type=float,
        default=None,
        help="worker CPU ms per document instead of the embed run's",
    )
    args = parser.parse_args()
    if args.command == "project":
        print(project(args.embed_run, args.cluster_run, args.sizes, args.workers, args.worker_ms))
        return
    if args.command == "table":
        print(table(args.out))
        return
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    name = (
        f"{args.docs}_{args.periods}_{'cache' if args.cache else args.encoder}_w{args.workers}.json"
    )
    (args.out / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "seconds",
                    "docs_per_s",
                    "driver_cpu_s",
                    "workers_detail",
                    "result",
                    "load_start",
                    "load_end",
                )
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Embedding and clustering on a Dask cluster through Prefect's Dask task runner.

`--workers N` starts a local cluster of N one-thread worker processes; `--dask-address`
attaches to a running scheduler. The driver (this process) reads, finishes and writes; the
workers run the two pure steps of `models.parallel`. Workers get the encoder's name and build
it once per process (`models.embed.shared_encoder`), with BLAS limited by threadpoolctl.
Importing this imports Prefect: call `flows.prefect_env.configure()` first (the CLI does).
"""

from __future__ import annotations

import functools
import os
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.embed import build_encoder, limit_threads, shared_encoder
from models.engine import (
    EngineParams,
    PeriodClusters,
    cluster_period,
    embed_texts,
    extract_terms,
)
from models.parallel import (
    Batches,
    ParallelOptions,
    Pending,
    Submitter,
    process_pending_parallel,
)
from models.runner import ProcessRun
from models.stopwatch import Stopwatch
from models.terms import PeriodTerms
from pipeline.errors import ObservatoryError
from pipeline.records import Document

if TYPE_CHECKING:
    from prefect_dask.task_runners import DaskTaskRunner

# Test-only fault injection: the first clustering task to see this path (absent) creates it
# and kills its own worker process, as a crashed or pre-empted machine would.
KILL_ONCE_VARIABLE = "OBSERVATORY_FAULT_KILL_WORKER_ONCE"
CONNECT_SECONDS = 5.0
T = TypeVar("T")


@functools.cache
def _limit_once(threads: int) -> None:
    limit_threads(threads)


@task(name="embed-batches", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def embed_task(encoder_spec: str, threads: int, batches: Batches) -> list[NDArray[np.float32]]:
    """Encode each batch as one process would (same batches, same order)."""
    encoder = shared_encoder(encoder_spec, threads)
    return [embed_texts(batch, encoder) for batch in batches]


@task(name="cluster-period", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def cluster_task(
    doc_ids: list[str],
    texts: list[str],
    vectors: NDArray[np.float32],
    params: EngineParams,
    user_terms: tuple[str, ...],
    threads: int,
    context: NDArray[np.float32] | None = None,
) -> PeriodClusters:
    _limit_once(threads)
    _maybe_kill_this_worker()
    return cluster_period(doc_ids, texts, vectors, params, user_terms, context=context)


@task(name="period-terms", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def terms_task(
    docs: list[Document], params: EngineParams, user_terms: tuple[str, ...], threads: int
) -> PeriodTerms | None:
    """A period's candidate terms and counts (tokenising every text): no history needed."""
    _limit_once(threads)
    return extract_terms(docs, params, user_terms)


def _maybe_kill_this_worker() -> None:
    marker = os.environ.get(KILL_ONCE_VARIABLE)
    if not marker:
        return
    try:
        with open(marker, "x", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class PrefectSubmitter:
    """Submits the pure steps as Prefect tasks to the flow's task runner."""

    encoder_spec: str
    threads: int

    def embed(self, batches: Batches) -> Pending[list[NDArray[np.float32]]]:
        return embed_task.submit(self.encoder_spec, self.threads, batches)

    def cluster(
        self,
        doc_ids: list[str],
        texts: list[str],
        vectors: NDArray[np.float32],
        params: EngineParams,
        user_terms: tuple[str, ...],
        context: NDArray[np.float32] | None = None,
    ) -> Pending[PeriodClusters]:
        return cluster_task.submit(
            doc_ids, texts, vectors, params, user_terms, self.threads, context
        )

    def terms(
        self, docs: list[Document], params: EngineParams, user_terms: tuple[str, ...]
    ) -> Pending[PeriodTerms | None]:
        return terms_task.submit(docs, params, user_terms, self.threads)


@flow(name="process-parallel", log_prints=False, validate_parameters=False)
def process_parallel_flow(
    db_path: Path,
    params: EngineParams,
    encoder_spec: str,
    threads: int,
    taxonomy: str,
    options: ParallelOptions | None = None,
    stopwatch: Stopwatch | None = None,
    reprocess_from: str | None = None,
    rebuild: bool = False,
) -> ProcessRun:
    """Process pending periods: embedding and clustering on the task runner's workers."""
    encoder = build_encoder(encoder_spec, threads)
    return process_pending_parallel(
        db_path,
        params,
        encoder,
        PrefectSubmitter(encoder_spec, threads),
        taxonomy,
        options or ParallelOptions(),
        stopwatch=stopwatch,
        reprocess_from=reprocess_from,
        rebuild=rebuild,
    )


def dask_task_runner(workers: int, address: str | None) -> DaskTaskRunner:
    """A runner attached to `address`, else one that starts `workers` local worker processes."""
    from prefect_dask.task_runners import DaskTaskRunner

    if address:
        check_scheduler(address)
        return DaskTaskRunner(address=address, client_kwargs={"timeout": f"{CONNECT_SECONDS:.0f}s"})
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": ":0",
        }
    )


def check_scheduler(address: str) -> None:
    """Fail in seconds, naming the address, when nothing listens there (no hang)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ObservatoryError(
            f"--dask-address {address!r}: expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
        )
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            pass
    except OSError as error:
        raise ObservatoryError(
            f"--dask-address {address}: no Dask scheduler answers there "
            f"({error.strerror or error}); start one with `dask scheduler` or leave the option "
            "out to run in this process"
        ) from None


@contextmanager
def shared_prefect_api() -> Iterator[None]:
    """One Prefect API for the driver and every worker.

    With no `PREFECT_API_URL`, Prefect starts a temporary server in each process that needs
    one: each worker process then started its own (measured: 90 s before the first task on a
    busy machine, and task states scattered over three servers). Start the driver's here and
    hand its address to the workers (environment for spawned local workers; Prefect's task
    runner also ships it in each task's settings). Remote workers need a URL they can reach:
    run `prefect server start --host 0.0.0.0` and set `PREFECT_API_URL` (docs/scale.md).
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance ephemeral mode would use: started once
    server.start()
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


@contextmanager
def dask_errors(workers: int, address: str | None) -> Iterator[None]:
    """A scheduler that vanishes (or was never one) becomes one clear line."""
    try:
        yield
    except OSError as error:
        where = address or f"the local cluster of {workers} workers"
        raise ObservatoryError(f"Dask at {where}: {error}") from None


def process_on_dask(
    db_path: Path,
    params: EngineParams,
    encoder_spec: str,
    threads: int,
    taxonomy: str,
    workers: int,
    address: str | None,
    options: ParallelOptions | None = None,
    stopwatch: Stopwatch | None = None,
    reprocess_from: str | None = None,
    rebuild: bool = False,
) -> ProcessRun:
    """Run `process_parallel_flow` on a local cluster of `workers`, or the one at `address`.

    `stopwatch`, when given, receives the driver's seconds per stage (benchmarks read it).
    """
    runner: Any = dask_task_runner(workers, address)  # TaskRunner is invariant in its future
    configured: Any = process_parallel_flow.with_options(task_runner=runner)
    with dask_errors(workers, address), shared_prefect_api():
        result: ProcessRun = configured(
            db_path,
            params,
            encoder_spec,
            threads,
            taxonomy,
            options,
            stopwatch,
            reprocess_from,
            rebuild,
        )
    return result


@flow(name="backtest-parallel", log_prints=False, validate_parameters=False)
def backtest_parallel_flow(run: Callable[[Submitter], T], encoder_spec: str, threads: int) -> T:
    """Whatever `run` does, with embedding and clustering submitted to the task runner."""
    return run(PrefectSubmitter(encoder_spec, threads))


def run_on_dask(
    run: Callable[[Submitter], T],
    encoder_spec: str,
    threads: int,
    workers: int,
    address: str | None,
) -> T:
    """`run(submitter)` inside a flow whose task runner is the Dask cluster (backtests)."""
    runner: Any = dask_task_runner(workers, address)  # TaskRunner is invariant in its future
    configured: Any = backtest_parallel_flow.with_options(task_runner=runner)
    with dask_errors(workers, address), shared_prefect_api():
        result: T = configured(run, encoder_spec, threads)
    return result

"""Embedding and clustering on a real Dask LocalCluster (2 worker processes) through Prefect.

One process, an external cluster, a cluster with a worker killed mid-task, and a backtest on
workers all give the same documents, vectors, topics, ids, scores and lineage. The hashing
encoder and the 804-document fixture keep it fast; most of the time is the cluster's start.
"""

import json
import os
import shutil
import time

import pytest
from typer.testing import CliRunner

from flows.scale import KILL_ONCE_VARIABLE, process_on_dask, run_on_dask
from models.backtest import run_backtest
from models.embed import HashingEncoder
from models.engine import EngineParams
from models.parallel import Inline, ParallelOptions, process_pending_parallel
from models.runner import process_pending
from observatory.cli import app
from pipeline.db import session
from pipeline.ingest import ingest_file

pytestmark = pytest.mark.slow
PARAMS = EngineParams(granularity="month")
# Small windows and tasks, so that even this corpus spreads over both workers and windows.
OPTIONS = ParallelOptions(window_docs=300, batches_per_task=2)


@pytest.fixture(scope="module", autouse=True)
def prefect_harness(prefect_server):
    """The folder's shared temporary Prefect server (tests/flows/conftest.py)."""


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        Client(local) as client,
    ):
        yield local, client


@pytest.fixture(scope="module")
def stored(tmp_path_factory, small_corpus_path):
    path = tmp_path_factory.mktemp("scale") / "base.duckdb"
    with session(path) as con:
        ingest_file(con, small_corpus_path)
    return path


@pytest.fixture(scope="module")
def small_corpus_path():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "fixtures" / "huffpost_2020q1.jsonl"


@pytest.fixture(scope="module")
def mini_taxonomy_path():
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "fixtures" / "mini_taxonomy.toml")


@pytest.fixture(scope="module")
def one_process(stored, tmp_path_factory, mini_taxonomy_path):
    path = tmp_path_factory.mktemp("one") / "one.duckdb"
    shutil.copy(stored, path)
    process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy_path)
    return snapshot(path)


def copy_of(stored, tmp_path, name):
    path = tmp_path / f"{name}.duckdb"
    shutil.copy(stored, path)
    return path


def snapshot(path):
    with session(path, read_only=True) as con:
        return {
            query: con.execute(query).fetchall()
            for query in (
                "SELECT doc_id, content_hash FROM documents ORDER BY doc_id",
                "SELECT content_hash, model, vector FROM embeddings ORDER BY content_hash",
                "SELECT topic_id, born_period, label, keywords FROM topics ORDER BY topic_id",
                "SELECT * FROM topic_periods ORDER BY topic_id, period",
                "SELECT * FROM doc_topics ORDER BY ALL",
                "SELECT * FROM topic_lineage ORDER BY ALL",
                "SELECT * FROM topic_directions ORDER BY ALL",
                "SELECT period, n_docs, n_outliers FROM processed_periods ORDER BY ALL",
                "SELECT * FROM directions ORDER BY ALL",
                "SELECT * FROM term_periods ORDER BY ALL",
                "SELECT * FROM signals ORDER BY ALL",
                "SELECT * FROM signal_periods ORDER BY signal_id, period",
            )
        }


def test_inline_backfill_matches_one_process(stored, tmp_path, one_process, mini_taxonomy_path):
    path = copy_of(stored, tmp_path, "inline")
    process_pending_parallel(
        path, PARAMS, HashingEncoder(), Inline(HashingEncoder()), mini_taxonomy_path, OPTIONS
    )
    assert snapshot(path) == one_process


def test_an_external_cluster_gives_identical_results(
    stored, tmp_path, one_process, cluster, mini_taxonomy_path
):
    local, _ = cluster
    path = copy_of(stored, tmp_path, "dask")
    run = process_on_dask(
        path, PARAMS, "hashing-256", 1, mini_taxonomy_path, 0, local.scheduler_address, OPTIONS
    )
    assert [p.period for p in run.periods] == [
        "2019-11",
        "2019-12",
        "2020-01",
        "2020-02",
        "2020-03",
    ]
    result = snapshot(path)
    assert result == one_process
    assert (
        len(result["SELECT topic_id, born_period, label, keywords FROM topics ORDER BY topic_id"])
        > 0
    )


def _set_env(name, value):
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def test_a_worker_killed_mid_task_is_replaced_and_the_run_ends_identical(
    stored, tmp_path, one_process, cluster, mini_taxonomy_path
):
    local, client = cluster
    marker = tmp_path / "killed"
    client.run(_set_env, KILL_ONCE_VARIABLE, str(marker))  # in both worker processes
    try:
        path = copy_of(stored, tmp_path, "killed")
        process_on_dask(
            path, PARAMS, "hashing-256", 1, mini_taxonomy_path, 0, local.scheduler_address, OPTIONS
        )
    finally:
        client.run(_set_env, KILL_ONCE_VARIABLE, None)
    assert marker.exists()  # a clustering task did kill its worker process
    assert snapshot(path) == one_process
    client.wait_for_workers(2, timeout=120)  # the nanny restarted it


def test_a_backtest_on_workers_matches_one_process(
    tmp_path, cluster, small_corpus_path, mini_taxonomy_path
):
    local, _ = cluster
    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {
                    "corpus": "huffpost",
                    "series": "month",
                    "term": "coronavirus",
                    "regex": r"\bcoronavirus\b",
                    "period_granularity": "month",
                    "emergence_period": "2020-01",
                    "role": "event",
                }
            ]
        ),
        encoding="utf-8",
    )

    def run(submit=None):
        return run_backtest(
            small_corpus_path,
            events,
            "month",
            None,
            HashingEncoder(),
            PARAMS,
            taxonomy=mini_taxonomy_path,
            budgets=(3,),
            submit=submit,
        )

    here = run()
    there = run_on_dask(run, "hashing-256", 1, 0, local.scheduler_address)
    for field in ("n_docs", "n_periods", "figures", "events", "summary", "periods", "cut"):
        assert getattr(there, field) == getattr(here, field), field


def test_process_cli_with_two_local_workers_matches_one_process(
    stored, tmp_path, one_process, mini_taxonomy_path
):
    path = copy_of(stored, tmp_path, "cli")
    result = CliRunner().invoke(
        app,
        [
            "process",
            "-g",
            "month",
            "--encoder",
            "hashing-256",
            "--taxonomy",
            mini_taxonomy_path,
            "--workers",
            "2",
            "--db",
            str(path),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "2 local Dask workers" in result.stderr
    assert snapshot(path) == one_process


def test_an_unreachable_scheduler_fails_in_seconds_naming_it(tmp_path):
    started = time.monotonic()
    result = CliRunner().invoke(
        app,
        [
            "process",
            "--encoder",
            "hashing-256",
            "--dask-address",
            "tcp://127.0.0.1:9",
            "--db",
            str(tmp_path / "x.duckdb"),
        ],
    )
    assert result.exit_code == 1
    assert "tcp://127.0.0.1:9" in result.stderr and "no Dask scheduler" in result.stderr
    assert "Traceback" not in result.output
    assert time.monotonic() - started < 30

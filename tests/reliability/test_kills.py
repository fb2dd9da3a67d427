"""kill -9 at seeded random moments during ingest, process and report; rerun; compare.

Each kill starts from the same state, is rerun to the end with the same command, and must end
with the store an uninterrupted run leaves (documents, embeddings, topics and their ids,
scores, lineage, directions), nothing duplicated, the read snapshot whole, and each report
file either absent or whole. Most kills use the hashing encoder; one uses the real one.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest
from fault_injection import (
    Killer,
    differences,
    duplicated_documents,
    kill_at_least,
    store_fingerprint,
)

from observatory.cli import app
from pipeline.snapshot import snapshot_path

# Ten seeded moments a stage, one in each tenth of its run, so every phase is hit; twenty
# doubled the time of the suite's longest tests.
KILLS_PER_STAGE = 10
SEED = 20261202
PRELOAD = ["observatory.cli", "models.runner", "reports.write", "pipeline.ingest"]


def cli(*args: object) -> None:
    """Run one observatory command in this process, as the user would type it."""
    code = app([str(arg) for arg in args], standalone_mode=False)
    if code:  # click hands back typer.Exit's code instead of exiting
        raise SystemExit(code)


def process_args(db: Path, taxonomy: str, encoder: str = "hashing-256") -> list[object]:
    return ["process", "-g", "month", "--encoder", encoder, "--taxonomy", taxonomy, "--db", db]


@pytest.fixture(scope="module")
def killer() -> Killer:
    return Killer(PRELOAD)


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The fixture corpus as two files, so kills also land between files."""
    folder = tmp_path_factory.mktemp("corpus")
    lines = (
        (Path(__file__).parent.parent / "fixtures" / "huffpost_2020q1.jsonl")
        .read_text(encoding="utf-8")
        .splitlines(keepends=True)
    )
    paths = [folder / "a.jsonl", folder / "b.jsonl"]
    paths[0].write_text("".join(lines[::2]), encoding="utf-8")
    paths[1].write_text("".join(lines[1::2]), encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, halves: list[Path]) -> Path:
    """Half the corpus (402 documents, five months): enough to kill every phase."""
    db = tmp_path_factory.mktemp("ingested") / "observatory.duckdb"
    cli("ingest", halves[0], "--db", db)
    return db


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory, ingested: Path) -> Path:
    db = tmp_path_factory.mktemp("processed") / "observatory.duckdb"
    shutil.copy(ingested, db)
    cli(*process_args(db, _mini_taxonomy()))
    return db


def _mini_taxonomy() -> str:
    return str(Path(__file__).parent.parent / "fixtures" / "mini_taxonomy.toml")


def fresh_copy(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copy(source, target)
    return target


def snapshot_is_whole(db: Path) -> bool:
    """The read snapshot, when there is one, opens and answers."""
    path = snapshot_path(db)
    if not path.exists():
        return True
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM documents").fetchall()[0][0] >= 0


def kill_and_rerun(
    killer: Killer,
    args: list[object],
    db: Path,
    delay: float,
    want: dict[str, list[tuple[object, ...]]],
) -> bool:
    outcome = killer.run(cli, tuple(args), kill_after=delay)
    assert snapshot_is_whole(db), f"snapshot broken after a kill at {delay:.3f} s"
    cli(*args)
    assert differences(store_fingerprint(db), want) == [], f"kill at {delay:.3f} s"
    assert duplicated_documents(db) == 0
    return outcome.killed


def test_ingest_killed_at_random_moments(killer, tmp_path, halves):
    reference = tmp_path / "reference.duckdb"
    cli("ingest", *halves, "--db", reference)
    want = store_fingerprint(reference)
    span = killer.time(cli, ("ingest", *halves, "--db", tmp_path / "timing.duckdb"))
    tries = iter(range(10**6))

    def attempt(delay: float) -> bool:
        db = tmp_path / f"{next(tries)}.duckdb"
        return kill_and_rerun(killer, ["ingest", *halves, "--db", db], db, delay, want)

    assert kill_at_least(KILLS_PER_STAGE, SEED, span, attempt) >= KILLS_PER_STAGE


def test_process_killed_at_random_moments(killer, tmp_path, ingested, processed):
    want = store_fingerprint(processed)
    taxonomy = _mini_taxonomy()
    span = killer.time(cli, tuple(process_args(fresh_copy(ingested, tmp_path / "t"), taxonomy)))
    tries = iter(range(10**6))

    def attempt(delay: float) -> bool:
        db = fresh_copy(ingested, tmp_path / str(next(tries)))
        return kill_and_rerun(killer, process_args(db, taxonomy), db, delay, want)

    assert kill_at_least(KILLS_PER_STAGE, SEED + 1, span, attempt) >= KILLS_PER_STAGE


def report_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def test_report_killed_at_random_moments_is_whole_or_absent(killer, tmp_path, processed):
    args = ["report", "-g", "month", "--db", processed]
    cli(*args, "--out", tmp_path / "reference")
    want = report_files(tmp_path / "reference")
    assert len(want) == 3
    span = killer.time(cli, (*args, "--out", tmp_path / "timing"))
    tries = iter(range(10**6))

    def attempt(delay: float) -> bool:
        out = tmp_path / str(next(tries))
        outcome = killer.run(cli, (*args, "--out", out), kill_after=delay)
        left = report_files(out) if out.exists() else {}
        for name, content in left.items():  # hidden .tmp files are the writer's own
            assert name.startswith(".") or content == want[name], (
                f"{name} half written after a kill at {delay:.3f} s"
            )
        cli(*args, "--out", out)
        assert report_files(out) == want, f"rerun after a kill at {delay:.3f} s"
        return outcome.killed

    assert kill_at_least(KILLS_PER_STAGE, SEED + 2, span, attempt) >= KILLS_PER_STAGE


@pytest.mark.slow
def test_process_with_the_real_encoder_survives_a_kill(killer, tmp_path, ingested):
    """The real parts: the USE encoder embedding, HDBSCAN, DuckDB; killed once mid-run."""
    reference = fresh_copy(ingested, tmp_path / "reference")
    span = killer.time(cli, tuple(process_args(reference, "v1", "use-multilingual-v3")))
    want = store_fingerprint(reference)
    assert want["embeddings"] and want["topics"]
    delay = random.Random(SEED + 3).uniform(0.3, 0.9) * span
    db = fresh_copy(ingested, tmp_path / "killed")
    assert kill_and_rerun(killer, process_args(db, "v1", "use-multilingual-v3"), db, delay, want)

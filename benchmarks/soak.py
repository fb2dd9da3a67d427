"""Soak: 52 simulated weeks of the weekly job on a real corpus, with crashes and a reader.

Not a test: run it by hand, figures go to docs/reliability.md.

    python benchmarks/soak.py run --out benchmarks/results/soak            # 52 weeks, seed 7
    python benchmarks/soak.py run --weeks 12 --encoder hashing-256 --out /tmp/soak   # quick

Each simulated week is what a Tuesday-morning cron job sees, each step a fresh subprocess:

1. `ingest` of a JSON Lines file: the week's documents except ~10 % held back (published that
   week, arriving a week late), the previous week's held-back documents, and ~5 % of earlier
   documents sent again (duplicates the store must drop);
2. `process` with the clock at Tuesday 06:00 UTC after the week (so it has closed, with the
   one-day grace): it processes the week, finds last week stale (its late documents) and
   processes both again;
3. `report` of the latest week.

About every ten weeks (weeks 5, 15, 25, 35, 45) one step is killed with SIGKILL at a seeded
random moment of its expected duration, then run again. A reader process queries the read
snapshot (`observatory.analyst.open_reader`, what `sql`, `topics` and `topic` use) in a loop
throughout. At the end the store is compared with a single uninterrupted run over every
document: documents lost or duplicated, periods missing, tables that differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "reliability")]

STAGES = ("ingest", "process", "report")
CRASH_WEEKS = (5, 15, 25, 35, 45)
LATE_SHARE = 0.10
DUPLICATE_SHARE = 0.05
READ_PAUSE_S = 0.2


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def load_weeks(corpus: Path, start: str, n_weeks: int) -> list[tuple[str, list[str]]]:
    """The corpus lines of `n_weeks` consecutive ISO weeks from `start`, in order."""
    by_week: dict[str, list[str]] = defaultdict(list)
    with gzip.open(corpus, "rt", encoding="utf-8") as handle:
        for line in handle:
            by_week[week_label(date.fromisoformat(json.loads(line)["date"]))].append(line)
    labels = sorted(label for label in by_week if label >= start)[:n_weeks]
    return [(label, by_week[label]) for label in labels]


def plan_files(
    weeks: list[tuple[str, list[str]]], folder: Path, rng: random.Random
) -> tuple[list[Path], set[str]]:
    """One ingest file per week (late and duplicate documents mixed in); all ids sent."""
    files: list[Path] = []
    held: list[str] = []
    sent: list[str] = []
    for index, (label, lines) in enumerate(weeks):
        late = rng.sample(lines, round(len(lines) * LATE_SHARE))
        on_time = [line for line in lines if line not in set(late)]
        again = rng.sample(sent, min(len(sent), round(len(lines) * DUPLICATE_SHARE)))
        batch = on_time + held + again
        rng.shuffle(batch)
        path = folder / f"week-{index:02d}-{label}.jsonl"
        path.write_text("".join(batch), encoding="utf-8")
        files.append(path)
        sent += on_time + held
        held = late
    if held:  # the last week's late documents arrive with a final ingest-only file
        path = folder / f"week-{len(weeks):02d}-late.jsonl"
        path.write_text("".join(held), encoding="utf-8")
        files.append(path)
        sent += held
    return files, {json.loads(line)["id"] for line in sent}


def tuesday_after(label: str) -> datetime:
    """Tuesday 06:00 UTC after the week: closed, grace included."""
    from pipeline.periods import closes_at

    return closes_at(label, timedelta(days=1)) + timedelta(hours=6)


# ---- the steps, each run as `soak.py step ...` in its own process ----------------------------


def step_ingest(db: Path, path: Path) -> None:
    from pipeline.db import write_step
    from pipeline.ingest import ingest_file

    with write_step(db) as con:
        ingest_file(con, path)


def step_process(db: Path, now: datetime, encoder_name: str) -> dict[str, Any]:
    from models.embed import build_encoder
    from models.runner import process_pending
    from observatory.settings import Settings

    settings = Settings(granularity="week", encoder=encoder_name)
    run = process_pending(
        db, settings.engine_params(), build_encoder(encoder_name), settings.taxonomy, now=now
    )
    return {"periods": len(run.periods), "reprocessed": len(run.reprocessed)}


def step_report(db: Path, out: Path) -> None:
    from reports.write import write_report

    write_report(db, out, "week")


def run_step(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--now")
    parser.add_argument("--encoder", default="use-multilingual-v3")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.stage == "ingest":
        step_ingest(args.db, args.file)
    elif args.stage == "process":
        print(json.dumps(step_process(args.db, datetime.fromisoformat(args.now), args.encoder)))
    else:
        step_report(args.db, args.out)


# ---- the reader ----------------------------------------------------------------------------


def run_reader(argv: list[str]) -> None:
    """Query the read snapshot until the stop file appears; counts to --result."""
    import duckdb

    from observatory.analyst import open_reader
    from pipeline.errors import ObservatoryError
    from pipeline.snapshot import snapshot_path

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--stop", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    seconds: list[float] = []
    while not args.stop.exists():
        if not snapshot_path(args.db).exists():
            counts["before_first_snapshot"] += 1
            time.sleep(READ_PAUSE_S)
            continue
        started = time.perf_counter()
        try:
            with open_reader(args.db, wait_seconds=0) as reading:
                reading.con.execute("SELECT count(*) FROM documents").fetchall()
                reading.con.execute("SELECT * FROM v_emerging LIMIT 20").fetchall()
                reading.con.execute(
                    "SELECT period, count(*) FROM topic_periods "
                    "GROUP BY period ORDER BY period DESC LIMIT 5"
                ).fetchall()
            counts["served"] += 1
            seconds.append(time.perf_counter() - started)
        except (ObservatoryError, duckdb.Error, OSError) as error:
            counts["failed"] += 1
            errors[str(error).splitlines()[0][:200]] += 1
        time.sleep(READ_PAUSE_S)
    args.result.write_text(
        json.dumps(
            {
                "served": counts["served"],
                "failed": counts["failed"],
                "before_first_snapshot": counts["before_first_snapshot"],
                "errors": dict(errors),
                "median_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
                "max_ms": round(max(seconds) * 1000, 1) if seconds else None,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


# ---- the driver ----------------------------------------------------------------------------


def step_command(stage: str, db: Path, **options: str) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "step", stage, "--db", str(db)]
    for key, value in options.items():
        command += [f"--{key}", value]
    return command


def execute(command: list[str], kill_after: float | None = None) -> tuple[bool, float]:
    """Run a step; with `kill_after`, SIGKILL its process group then. (killed, seconds)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        _out, err = child.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return True, time.perf_counter() - started
    if child.returncode:
        raise RuntimeError(f"{' '.join(command[2:5])} failed:\n{err[-2000:]}")
    return False, time.perf_counter() - started


def run_week(
    index: int,
    label: str,
    file: Path,
    db: Path,
    out: Path,
    encoder: str,
    rng: random.Random,
    durations: dict[str, list[float]],
    kills: Counter[str],
) -> None:
    commands = {
        "ingest": step_command("ingest", db, file=str(file)),
        "process": step_command(
            "process", db, now=tuesday_after(label).isoformat(), encoder=encoder
        ),
        "report": step_command("report", db, out=str(out / "reports")),
    }
    victim = STAGES[CRASH_WEEKS.index(index) % 3] if index in CRASH_WEEKS else None
    for stage in STAGES:
        if stage == victim:
            typical = statistics.median(durations[stage]) if durations[stage] else 5.0
            delay = rng.uniform(0.1, typical)
            killed, _ = execute(commands[stage], kill_after=delay)
            kills[f"{stage}_attempted"] += 1
            kills[stage] += killed
            print(
                f"  {label}: {stage} killed after {delay:.2f} s"
                if killed
                else f"  {label}: {stage} finished before the kill at {delay:.2f} s",
                flush=True,
            )
        _, seconds = execute(commands[stage])
        durations[stage].append(seconds)


def check(db: Path, expected_ids: set[str], labels: list[str]) -> dict[str, Any]:
    import duckdb
    from fault_injection import duplicated_documents

    with duckdb.connect(str(db), read_only=True) as con:
        stored = {row[0] for row in con.execute("SELECT doc_id FROM documents").fetchall()}
        processed = {
            row[0]
            for row in con.execute(
                "SELECT period FROM processed_periods WHERE granularity = 'week'"
            ).fetchall()
        }
        untopiced = con.execute(
            "SELECT count(*) FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM doc_topics "
            "WHERE granularity = 'week')"
        ).fetchall()[0][0]
        reprocessed = con.execute("SELECT count(*) FROM period_revisions").fetchall()[0][0]
    return {
        "documents_expected": len(expected_ids),
        "documents_stored": len(stored),
        "documents_lost": len(expected_ids - stored),
        "documents_extra": len(stored - expected_ids),
        "documents_duplicated": duplicated_documents(db),
        "documents_without_topic_row": int(untopiced),
        "weeks_missing": sorted(set(labels) - processed),
        "period_revisions": int(reprocessed),
    }


def reference_run(files: list[Path], folder: Path, now: datetime, encoder: str) -> Path:
    """Every document ingested at once, processed once, never killed."""
    db = folder / "reference.duckdb"
    for file in files:
        execute(step_command("ingest", db, file=str(file)))
    execute(step_command("process", db, now=now.isoformat(), encoder=encoder))
    return db


def publish_seconds(db: Path) -> float:
    from pipeline.db import session
    from pipeline.snapshot import publish

    with session(db) as con:
        started = time.perf_counter()
        publish(con, db)
        return time.perf_counter() - started


def run_soak(args: argparse.Namespace) -> dict[str, Any]:
    from fault_injection import differences, store_fingerprint

    rng = random.Random(args.seed)
    work = args.out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    weeks = load_weeks(args.corpus, args.start, args.weeks)
    files, expected = plan_files(weeks, work, rng)
    db = work / "observatory.duckdb"
    stop, reads = work / "stop-reader", work / "reads.json"
    reader = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "reader",
            "--db",
            str(db),
            "--stop",
            str(stop),
            "--result",
            str(reads),
        ],
        cwd=ROOT,
    )
    durations: dict[str, list[float]] = defaultdict(list)
    kills: Counter[str] = Counter()
    started = time.perf_counter()
    try:
        for index, ((label, _), file) in enumerate(zip(weeks, files, strict=False)):
            print(f"week {index + 1}/{len(weeks)} {label}", flush=True)
            run_week(index, label, file, db, work, args.encoder, rng, durations, kills)
        if len(files) > len(weeks):  # the last week's late documents, a week later
            print("catch-up: the last week's late documents", flush=True)
            run_week(
                len(weeks), weeks[-1][0], files[-1], db, work, args.encoder, rng, durations, kills
            )
    finally:
        stop.touch()
        reader.wait(timeout=120)
    wall = time.perf_counter() - started
    labels = [label for label, _ in weeks]
    result: dict[str, Any] = {
        "corpus": args.corpus.name,
        "weeks": len(weeks),
        "first_week": labels[0],
        "last_week": labels[-1],
        "seed": args.seed,
        "encoder": args.encoder,
        "documents_sent": sum(1 for f in files for _ in f.open(encoding="utf-8")),
        "wall_seconds": round(wall, 1),
        "step_seconds_median": {s: round(statistics.median(v), 2) for s, v in durations.items()},
        "kills": dict(kills),
        "reads": json.loads(reads.read_text(encoding="utf-8")),
        "store": check(db, expected, labels),
        "publish_seconds": round(publish_seconds(db), 3),
        "database_bytes": db.stat().st_size,
    }
    if not args.skip_reference:
        (work / "reference").mkdir()
        reference = reference_run(
            files, work / "reference", tuesday_after(labels[-1]), args.encoder
        )
        result["tables_differing_from_one_clean_run"] = differences(
            store_fingerprint(db), store_fingerprint(reference)
        )
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "step":
        run_step(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "reader":
        run_reader(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run"])
    parser.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="a corpus file of the shared corpora, e.g. huffpost.jsonl.gz",
    )
    parser.add_argument("--start", default="2018-W22", help="first ISO week")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--encoder", default="use-multilingual-v3")
    parser.add_argument(
        "--skip-reference",
        action="store_true",
        help="skip the single clean run the store is compared with",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    result = run_soak(args)
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"soak_{args.corpus.name.split('.')[0]}_{args.weeks}w_{args.encoder}.json"
    (args.out / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

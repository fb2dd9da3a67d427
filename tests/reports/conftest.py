"""A small real database: a synthetic bilingual corpus run through the engine once per session."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from models.embed import HashingEncoder
from models.engine import EngineParams
from models.runner import process_pending
from pipeline.db import session
from pipeline.ingest import ingest_file
from reports.build import build_report
from reports.model import WeeklyReport

MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05")
# (source, kind, lang, vocabulary, documents per month)
TOPICS = (
    (
        "wire",
        "news",
        "en",
        "solid state battery lithium electrolyte cathode anode cell "
        "energy density charging gigafactory",
        (2, 3, 6, 14, 30),
    ),
    (
        "arxiv",
        "paper",
        "en",
        "humanoid robot actuator gait locomotion manipulation dexterous "
        "hand servo torque controller",
        (12, 12, 13, 12, 12),
    ),
    (
        "wire",
        "news",
        "en",
        "football league match goal striker season coach transfer stadium referee penalty fans",
        (18, 18, 16, 2, 1),
    ),
    (
        "ruanyf",
        "news",
        "zh",
        "脑机 接口 电极 神经 信号 解码 植入 芯片 康复 患者 大脑 脑电",
        (0, 1, 6, 14, 26),
    ),
    (
        "cnipa",
        "patent",
        "zh",
        "卫星 火箭 发射 轨道 星座 载荷 航天 推进 回收 遥感 通信 地面站",
        (10, 10, 10, 11, 10),
    ),
    # A one-month story: flagged when it appears (classes need emergence evidence, so the
    # large flat topics above never are), faded the month after.
    (
        "wire",
        "news",
        "en",
        "eclipse totality corona umbra shadow path viewers glasses moon solar astronomers sky",
        (0, 0, 14, 0, 0),
    ),
)
FILLER = (
    "today",
    "report",
    "new",
    "says",
    "year",
    "market",
    "people",
    "group",
    "plan",
    "week",
    "said",
    "more",
    "first",
)


def _documents() -> Iterator[dict[str, object]]:
    rng = random.Random(7)
    for t, (source, kind, lang, vocab, counts) in enumerate(TOPICS):
        words = vocab.split()
        for month, count in zip(MONTHS, counts, strict=True):
            for i in range(count):
                picked = rng.sample(words, 7) + rng.sample(FILLER, 2)
                joiner = "" if lang == "zh" else " "
                day = date.fromisoformat(f"{month}-{1 + (i % 27):02d}")
                yield {
                    "id": f"{source}:{t}-{month}-{i}",
                    "source": source,
                    "kind": kind,
                    "date": day.isoformat(),
                    "title": joiner.join(picked[:4]),
                    "text": joiner.join(picked),
                    "lang": lang,
                    "url": f"https://example.org/{source}/{t}/{month}/{i}?a=1&b=2",
                }


def build_database(path: Path) -> Path:
    """Ingest the synthetic corpus, process every month, and log one crawl with an error."""
    corpus = path.with_suffix(".jsonl")
    corpus.write_text(
        "".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in _documents()),
        encoding="utf-8",
    )
    with session(path) as con:
        ingest_file(con, corpus)
    process_pending(path, EngineParams(granularity="month"), HashingEncoder(256), "v1")
    with session(path) as con:
        con.execute(
            "INSERT INTO crawl_log (run_id, source_id, spider, started, finished, requests, "
            "items_stored, items_dropped, errors) VALUES "
            "('crawl-1', 'wire', 'rss', ?, ?, 4, 120, 2, '[]'), "
            "('crawl-1', 'ruanyf', 'rss', ?, ?, 3, 40, 0, ?)",
            [
                datetime(2024, 5, 30),
                datetime(2024, 5, 30, 0, 5),
                datetime(2024, 5, 30),
                datetime(2024, 5, 30, 0, 6),
                json.dumps(["HTTP 503 <timeout> 超时"], ensure_ascii=False),
            ],
        )
    return path


@pytest.fixture(scope="session")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_database(tmp_path_factory.mktemp("reports") / "observatory.duckdb")


@pytest.fixture(scope="session")
def report(report_db: Path) -> WeeklyReport:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        return build_report(con, "month")
    finally:
        con.close()

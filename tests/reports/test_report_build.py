"""Building the report from a small engine-processed database."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from models.taxonomy import DIRECTION_IDS
from pipeline.errors import ObservatoryError
from pipeline.schema import migrate
from reports.build import build_report
from reports.model import WeeklyReport


def test_latest_period_is_the_default(report: WeeklyReport) -> None:
    assert report.period == "2024-05"
    assert report.history == ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05")
    assert report.granularity == "month"


def test_headline_holds_flagged_topics_best_first(report: WeeklyReport) -> None:
    assert report.headline
    assert all(t.signal_class in ("weak", "strong") for t in report.headline)
    scores = [t.high_potential for t in report.headline]
    assert scores == sorted(scores, reverse=True)


def test_a_section_per_direction_and_unmapped(report: WeeklyReport) -> None:
    assert [s.direction for s in report.directions] == [*DIRECTION_IDS, "unmapped"]
    health = next(s for s in report.directions if s.direction == "health")
    assert health.name_zh == "未来健康"
    assert any("脑" in t.label or "神经" in t.label or "信号" in t.label for t in health.topics)


def test_topics_carry_trajectory_and_evidence(report: WeeklyReport) -> None:
    topic = report.headline[0]
    assert [p.period for p in topic.trajectory] == list(report.history)
    assert topic.trajectory[-1].share == pytest.approx(topic.share)
    assert 0 < len(topic.evidence) <= 5
    probabilities = [d.probability for d in topic.evidence]
    assert probabilities == sorted(probabilities, reverse=True)
    assert topic.keywords and topic.reasons


def test_chinese_topic_is_tagged_chinese(report: WeeklyReport) -> None:
    chinese = [t for s in report.directions for t in s.topics if t.langs == ("zh",)]
    assert chinese and all(t.label_lang == "zh-Hans" for t in chinese)
    assert all(d.lang == "zh" for t in chinese for d in t.evidence)


def test_faded_and_changes_compare_with_previous_period(report_db: Path) -> None:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        april = build_report(con, "month", "2024-04")
        first = build_report(con, "month", "2024-01")
    finally:
        con.close()
    assert april.delta.previous_period == "2024-03"
    faded_ids = {f.topic_id for f in april.faded}
    dropped = {c.topic_id for c in april.delta.changes if c.change == "dropped"}
    assert faded_ids and faded_ids == dropped
    assert all(f.current_class in (None, "noise") for f in april.faded)
    assert first.delta.previous_period is None and first.delta.changes == ()
    assert len(first.new_topics) == first.delta.n_topics
    assert all(t.born_period == "2024-01" for t in first.new_topics)


def test_history_limits_the_trajectory(report_db: Path) -> None:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        short = build_report(con, "month", "2024-05", history=2)
    finally:
        con.close()
    assert short.history == ("2024-04", "2024-05")
    assert all(len(t.trajectory) == 2 for t in short.headline)


def test_heatmap_and_source_mix_add_up(report: WeeklyReport) -> None:
    assert sum(c.n_topics for c in report.heatmap) == report.delta.n_topics
    assert sum(s.n_docs for s in report.source_mix) == report.delta.n_docs
    assert {s.source for s in report.source_mix} >= {"wire", "ruanyf", "cnipa"}


def test_run_health_reads_runs_and_crawl_log(report: WeeklyReport) -> None:
    health = report.health
    assert health.runs and health.runs[0].kind == "process"
    assert health.sources_crawled == 2 and health.documents_added == 160
    assert health.n_errors == 1
    assert health.documents_total > health.n_docs


def test_unknown_period_names_the_range(report_db: Path) -> None:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        with pytest.raises(ObservatoryError, match=r"'2023-07'.*2024-01 to 2024-05"):
            build_report(con, "month", "2023-07")
    finally:
        con.close()


def test_nothing_processed_is_a_clear_error() -> None:
    con = duckdb.connect(":memory:")
    migrate(con)
    with pytest.raises(ObservatoryError, match="no week period has been processed"):
        build_report(con, "week")


def test_bad_granularity_is_refused(report_db: Path) -> None:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        with pytest.raises(ObservatoryError, match="granularity"):
            build_report(con, "fortnight")
    finally:
        con.close()

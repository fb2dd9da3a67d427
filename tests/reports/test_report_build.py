"""Building the report from a small engine-processed database."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from models.taxonomy import DIRECTION_IDS
from pipeline.errors import ObservatoryError
from pipeline.queries import ranked_signals
from pipeline.schema import migrate
from reports.build import build_report
from reports.headline import ranked_items
from reports.model import SinceLast, WeeklyReport


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
    similarities = [d.similarity for d in topic.evidence]
    assert similarities == sorted(similarities, reverse=True)
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


def test_headline_items_say_where_how_fast_since_when_and_how_widely(
    report: WeeklyReport, report_db: Path
) -> None:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        ranked = [s.signal_id for s in ranked_signals(con, "month", "2024-05", flagged_only=True)]
    finally:
        con.close()
    shown = [i.item_id for i in report.items]
    # The product's ranked list in its order, less rising single words (no readable label).
    assert set(shown) <= set(ranked) and shown == sorted(shown, key=ranked.index)
    assert 0 < len(shown) <= 8
    assert {i.kind for i in report.items} >= {"topic", "term"}
    names = {s.direction: s.name_en for s in report.directions}
    for item in report.items:
        assert item.sentence.startswith(f"A {item.signal_class} signal in {names[item.direction]}")
        assert f"{item.n_docs} documents in 2024-05" in item.sentence
        assert "first seen in" in item.sentence or "new this month" in item.sentence
        assert " source" in item.sentence and (
            "English" in item.sentence or "Chinese" in item.sentence
        )
        assert item.evidence and " · " not in item.label
        if item.kind == "topic":
            assert item.anchor == "topic-" + item.item_id.replace("/", "-")
    rising = next(i for i in report.items if "up from" in i.sentence)
    assert "×" in rising.sentence
    for section in report.directions:
        assert all(i.direction == section.direction for i in section.items)


def test_since_last_says_what_is_new_grew_and_faded(report_db: Path) -> None:
    con = duckdb.connect(str(report_db), read_only=True)
    try:
        april = build_report(con, "month", "2024-04")
        first = build_report(con, "month", "2024-01")
        now = ranked_items(con, "month", "2024-04", (), {})
        before = ranked_items(con, "month", "2024-03", (), {})
    finally:
        con.close()
    assert april.since_last.previous_period == "2024-03"
    was = {i.item_id for i in before}
    assert set(april.since_last.new) == {i.label for i in now if i.item_id not in was}
    assert set(april.since_last.faded) == {
        i.label for i in before if i.item_id not in {j.item_id for j in now}
    }
    assert april.since_last.new or april.since_last.grew or april.since_last.faded
    assert first.since_last == SinceLast(None, (), (), ())


def test_run_health_shows_the_runs_that_fed_the_period_not_later_ones(
    report_db: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(report_db, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "INSERT INTO runs (run_id, kind, started, status) VALUES "
            "('process-later', 'process', TIMESTAMP '2099-01-01', 'completed')"
        )
        con.execute(
            "INSERT INTO crawl_log (run_id, source_id, spider, started, requests, "
            "items_stored, items_dropped, errors) VALUES "
            "('crawl-later', 'wire', 'rss', TIMESTAMP '2099-01-01', 1, 9, 0, '[]')"
        )
        report = build_report(con, "month", "2024-03")
    finally:
        con.close()
    assert "process-later" not in {r.run_id for r in report.health.runs}
    assert {c.run_id for c in report.health.crawls} == {"crawl-1"}
    assert report.health.process_run_id in {r.run_id for r in report.health.runs}

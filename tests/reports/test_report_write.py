"""Writing the three files, and the errors a user can meet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.db import session
from pipeline.errors import ObservatoryError
from reports.write import write_report


def test_writes_markdown_html_and_json(report_db: Path, tmp_path: Path) -> None:
    paths = write_report(report_db, tmp_path / "out", "month", "2024-04")
    assert paths.html.name == "report-month-2024-04.html"
    assert paths.markdown.read_text(encoding="utf-8").startswith("# Monthly")
    assert "</html>" in paths.html.read_text(encoding="utf-8")
    assert json.loads(paths.json.read_text(encoding="utf-8"))["period"] == "2024-04"


def test_the_database_is_free_afterwards(report_db: Path, tmp_path: Path) -> None:
    write_report(report_db, tmp_path, "month")
    with session(report_db) as con:  # a writer is refused while any other connection is open
        assert con.execute("SELECT count(*) FROM processed_periods").fetchone() == (5,)


def test_unknown_period(report_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ObservatoryError, match=r"2019-01.*2024-01 to 2024-05"):
        write_report(report_db, tmp_path, "month", "2019-01")
    assert not list(tmp_path.iterdir())


def test_unprocessed_database(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with session(db):
        pass
    with pytest.raises(ObservatoryError, match="no month period has been processed yet"):
        write_report(db, tmp_path / "out", "month")


def test_missing_database(tmp_path: Path) -> None:
    with pytest.raises(ObservatoryError, match="no such database"):
        write_report(tmp_path / "absent.duckdb", tmp_path / "out", "month")

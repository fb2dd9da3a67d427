"""Shared fixtures: every path setting points into tmp_path, fakes for the encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSERVATORY_DB", str(tmp_path / "observatory.duckdb"))
    monkeypatch.setenv("OBSERVATORY_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def small_corpus() -> Path:
    return FIXTURES / "huffpost_2020q1.jsonl"


@pytest.fixture
def mini_taxonomy() -> str:
    return str(FIXTURES / "mini_taxonomy.toml")

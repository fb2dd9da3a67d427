"""Settings: the stages' parameter models nested, nested and flat variables, secrets, layers."""

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawlers.params import CrawlParams
from crawlers.settings import crawl_settings
from models.engine import EngineParams
from observatory import legacy_names
from observatory.cli import app
from observatory.settings import Settings, load_settings
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(legacy_names, "_warned", set())


def test_defaults_are_the_stage_models_own():
    settings = Settings()
    assert settings.engine == EngineParams() and settings.crawl == CrawlParams()
    params = settings.engine_params()
    assert params.granularity == "week" and not params.score.porter
    quarterly = settings.engine_params("quarter")
    assert quarterly.score.porter and quarterly.term_score.porter
    assert quarterly.cluster == EngineParams().cluster


def test_nested_variables_reach_the_stages(monkeypatch, capsys):
    monkeypatch.setenv("OBSERVATORY_ENGINE__CLUSTER__REDUCER", "umap")
    monkeypatch.setenv("OBSERVATORY_ENGINE__SCORE__DECAY", "0.05")
    monkeypatch.setenv("OBSERVATORY_CRAWL__CRAWL_TIMEOUT_S", "60")
    settings = Settings()
    assert settings.engine.cluster.reducer == "umap" and settings.engine.score.decay == 0.05
    assert settings.engine.cluster.seed == 42  # the rest keeps the stage's defaults
    assert settings.crawl.crawl_timeout_s == 60
    assert settings.given("engine.cluster.reducer")
    assert not settings.given("engine.cluster.seed")
    assert capsys.readouterr().err == ""


def test_flat_names_still_work_with_one_deprecation_line(monkeypatch, capsys):
    monkeypatch.setenv("OBSERVATORY_MIN_CLUSTER_SIZE", "12")
    monkeypatch.setenv("OBSERVATORY_BURST_S", "3")
    monkeypatch.setenv("OBSERVATORY_CLUSTER_REDUCER", "umap")
    monkeypatch.setenv("OBSERVATORY_ENGINE__CLUSTER__REDUCER", "none")  # nested wins
    settings = Settings()
    Settings()
    assert settings.engine.cluster.min_cluster_size == 12
    assert settings.engine.score.burst_s == settings.engine.term_score.burst_s == 3
    assert settings.engine.cluster.reducer == "none"
    err = capsys.readouterr().err.splitlines()
    assert (
        "observatory: OBSERVATORY_MIN_CLUSTER_SIZE is deprecated and goes in the next "
        "release; use OBSERVATORY_ENGINE__CLUSTER__MIN_CLUSTER_SIZE"
    ) in err
    assert len(err) == 3  # once per name and process
    assert Settings(crawl_timeout_s=5).crawl.crawl_timeout_s == 5  # flat keyword too


def test_api_keys_are_secrets_outside_the_crawl_process(monkeypatch, capsys):
    monkeypatch.setenv("OBSERVATORY_PATENTSVIEW_API_KEY", "pv-key-123")  # kept flat name
    monkeypatch.setenv("OBSERVATORY_CRAWL__EPO_OPS_SECRET", "epo-secret-456")
    settings = Settings()
    shown = repr(settings) + settings.model_dump_json() + str(settings.model_dump())
    assert "pv-key-123" not in shown and "epo-secret-456" not in shown
    child = CrawlParams.model_validate_json(settings.crawl.to_child_json())
    assert child.patentsview_api_key is not None
    assert child.patentsview_api_key.get_secret_value() == "pv-key-123"
    scrapy = crawl_settings(child, Path("x.duckdb"), "run-1")
    assert scrapy["PATENTSVIEW_API_KEY"] == "pv-key-123"
    assert scrapy["EPO_OPS_SECRET"] == "epo-secret-456"
    assert settings.crawl.without_secrets().patentsview_api_key is None
    assert capsys.readouterr().err == ""  # the key's flat name is not deprecated


def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("OBSERVATORY_ENGINE__CLUSTER__SEED", "abc")
    with pytest.raises(InputError, match="OBSERVATORY_ENGINE__CLUSTER__SEED"):
        load_settings()
    result = CliRunner().invoke(app, ["runs"])
    assert result.exit_code == 2
    assert "OBSERVATORY_ENGINE__CLUSTER__SEED" in result.stderr
    assert "Traceback" not in result.output


def test_no_layer_below_the_command_line_imports_it():
    importers = []
    for package in ("crawlers", "pipeline", "models", "reports", "flows"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(name == "observatory" or name.startswith("observatory.") for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == []

"""Importing flows changes nothing: Prefect's environment is set by an explicit call."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows import prefect_env

ROOT = Path(__file__).resolve().parent.parent.parent
CHECK = """
import json, os
before = dict(os.environ)
import flows.demo, flows.scale, flows.tasks, flows.weekly
changed = {k: v for k, v in os.environ.items() if before.get(k) != v}
print(json.dumps(changed))
"""


def test_importing_flows_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in prefect_env._DEFAULTS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    changed = json.loads(done.stdout.strip().splitlines()[-1])
    assert not set(changed) & set(prefect_env._DEFAULTS), changed


def test_configure_sets_only_what_the_user_left_unset(monkeypatch):
    for name in prefect_env._DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    prefect_env.configure()
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "DEBUG"
    assert os.environ["DO_NOT_TRACK"] == "1"


@pytest.mark.parametrize(
    ("variable", "reducer"),
    [
        (None, "umap"),
        ("OBSERVATORY_ENGINE__CLUSTER__REDUCER", "pca"),
        ("OBSERVATORY_CLUSTER_REDUCER", "none"),
    ],
)
def test_the_demo_flow_gets_no_api_key(monkeypatch, tmp_path, variable, reducer):
    from typer.testing import CliRunner

    import flows.demo
    from observatory.cli import app
    from pipeline.errors import ObservatoryError

    seen = {}

    def fake_demo_flow(db, reports_dir, crawl, params, *rest):
        seen.update(crawl=crawl, params=params)
        raise ObservatoryError("stopped by the test")

    monkeypatch.setattr(flows.demo, "demo_flow", fake_demo_flow)
    monkeypatch.setenv("OBSERVATORY_PATENTSVIEW_API_KEY", "pv-key-123")
    if variable:  # the user's reducer wins over the demo's
        monkeypatch.setenv(variable, reducer)
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "d.duckdb")])
    assert result.exit_code == 1 and "stopped by the test" in result.stderr
    assert seen["crawl"].patentsview_api_key is None
    assert "pv-key-123" not in repr(seen)
    assert seen["params"].cluster.reducer == reducer
    assert seen["params"].granularity == flows.demo.DEMO_GRANULARITY

"""Importing flows changes nothing: Prefect's environment is set by an explicit call."""

import json
import os
import subprocess
import sys
from pathlib import Path

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
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    changed = json.loads(done.stdout.strip().splitlines()[-1])
    assert not set(changed) & set(prefect_env._DEFAULTS), changed


def test_configure_sets_only_what_the_user_left_unset(monkeypatch):
    for name in prefect_env._DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    prefect_env.configure()
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "DEBUG"
    assert os.environ["DO_NOT_TRACK"] == "1"

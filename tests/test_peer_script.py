"""benchmarks/peer_bertrend.py: BERTrend's output turned into ranked items and scored per k.

BERTrend itself lives in its own venv (benchmarks/make_peer_venv.sh); these tests feed the
conversion what BERTrend's objects hold (topic_sizes, signal rows), so they run without it.
"""

import importlib.util
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from models.backtest import score_replay
from models.evaluate import Event

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "peer_bertrend.py"
PERIODS = [f"2021-{m:02d}" for m in range(1, 11)]


@pytest.fixture(scope="module")
def peer():
    spec = importlib.util.spec_from_file_location("peer_bertrend_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def topic_sizes(peer):
    """BERTrend's record: topic -> {"Documents": [(timestamp, [texts])]}; topic 7 is new."""
    sizes = {
        1: {"Documents": [(peer.stamp_of(i), ["steady words"] * 20) for i in range(len(PERIODS))]},
        7: {
            "Documents": [
                (peer.stamp_of(i), ["a qubit chip"] * (2 * i)) for i in range(6, len(PERIODS))
            ]
        },
    }
    sizes[7]["Documents"].append((peer.stamp_of(9), ["a qubit chip", 3]))  # non-text dropped
    return sizes


def test_signals_are_ranked_by_popularity_with_their_documents(peer):
    texts = {3: ["a", "b"], 5: ["c"], 9: []}
    ranked = peer.ranked_signals(
        "2021-07", [("weak", 3, 0.5), ("strong", 5, 2.0), ("weak", 9, 0.5)], lambda t: texts[t]
    )
    assert [(i.item_id, i.n_docs, i.texts) for i in ranked] == [
        ("bt5", 1, ("c",)),
        ("bt3", 2, ("a", "b")),
        ("bt9", 0, ()),
    ]
    assert {i.period for i in ranked} == {"2021-07"} and ranked[0].rank_score == 2.0


def test_topic_sizes_become_every_topic_of_every_period(peer):
    history = peer.history_of(PERIODS, dict.fromkeys(PERIODS, 40), topic_sizes(peer), 5)
    assert history.periods == tuple(PERIODS) and history.n_outliers == 5
    new = [i for i in history.items if i.item_id == "bt7"]
    assert [i.period for i in new] == PERIODS[6:]
    assert {i.born_period for i in new} == {"2021-07"}
    assert new[-1].n_docs == 19  # 18 + the one text of the second 2021-10 entry
    assert peer.index_of(peer.stamp_of(4) + timedelta(hours=1)) == 4


def test_the_peer_is_scored_per_k_beside_baselines_of_its_own_topics(peer):
    history = peer.history_of(PERIODS, dict.fromkeys(PERIODS, 40), topic_sizes(peer), 0)
    texts = {(i.period, i.item_id): i.texts for i in history.items}
    ranked = {
        p: peer.ranked_signals(
            p, [("weak", 7, 1.0), ("strong", 1, 0.5)], lambda t, p=p: texts[(p, f"bt{t}")]
        )
        for p in PERIODS[6:]
    }
    events = [Event("c", "month", "qubit", r"\bqubit\b", "event", "2021-07", None, 3)]
    cut, figures, rows = score_replay(history, ranked, events, (1, 3), "2021-05")
    assert cut["period"] == "2021-05" and cut["check_events"] == 1
    assert figures["1"]["check"]["detector"]["recall_within_1"] == 1.0
    assert figures["1"]["check"]["biggest"]["recall"] == 0.0
    assert rows[0]["by_k"]["1"]["first_flag_period"] == "2021-07"


def test_a_bad_budget_stops_before_bertrend_is_needed(peer, tmp_path, capsys):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps(
            {
                "id": "x:1",
                "source": "x",
                "kind": "news",
                "date": "2021-01-02",
                "title": "t",
                "text": "x",
            }
        )
        + "\n"
    )
    code = peer.main(
        [
            str(corpus),
            "--events",
            str(tmp_path / "e.json"),
            "--granularity",
            "month",
            "--embeddings-cache",
            str(tmp_path / "c.duckdb"),
            "--out",
            str(tmp_path / "out.json"),
            "--budget",
            "3,x",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.strip().startswith("error: --budget: expected positive")


def test_real_bertrend_imports_when_installed(peer):
    pytest.importorskip(
        "bertrend", reason="BERTrend lives in its own venv (benchmarks/make_peer_venv.sh)"
    )
    assert callable(peer.make_bertrend)

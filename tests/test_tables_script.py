"""benchmarks/tables.py: docs/backtest.md's tables from RESULT files, ours beside the peer's."""

import importlib.util
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from models.backtest import BacktestResult, history_summary, score_replay, write_result
from models.evaluate import Event, History, RankedItem, headline

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "tables.py"
PERIODS = tuple(f"2021-{m:02d}" for m in range(1, 11))


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("tables_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def result(system, ranked_first):
    items = [
        RankedItem(p, f"s{t}", "topic", 0.0, 20 + t, ("plain",) * (20 + t), PERIODS[0])
        for p in PERIODS
        for t in range(12)
    ]
    items += [
        RankedItem(p, "new", "topic", 0.0, 5, ("a qubit",) * 5, "2021-07") for p in PERIODS[6:]
    ]
    history = History(PERIODS, dict.fromkeys(PERIODS, 100), tuple(items), 0)
    ranked = {
        p: [i for i in items if i.period == p and (i.item_id == "new") == ranked_first]
        for p in PERIODS
    }
    events = [Event("syn", "month", "qubit", r"qubit", "event", "2021-07", None, 3)]
    cut, figures, rows = score_replay(history, ranked, events, (3, 10), "2021-05")
    return BacktestResult(
        corpus="syn.jsonl.gz",
        granularity="month",
        system=system,
        n_docs=1000,
        n_periods=10,
        params={},
        model="bertrend x" if system == "BERTrend" else "hashing-256",
        code_version="abc",
        budget=(3, 10),
        cut=cut,
        headline=headline(figures),
        figures=figures,
        events=rows,
        summary={**history_summary(history, ranked), "run_to_run_identical": True},
        timings={"cluster": 1.0},
        peak_rss_mb=10.0,
    )


def test_the_page_gets_every_table_from_the_result_files(tmp_path, tables):
    ours, peer = tmp_path / "ours_syn_month.json", tmp_path / "peer_syn_month.json"
    write_result(result("ours", True), ours)
    write_result(replace(result("BERTrend", False)), peer)
    stale = tmp_path / "peer_old_month.json"
    stale.write_text(json.dumps({"corpus": "old", "model": "bertrend", "summary": {}}))
    page = tmp_path / "backtest.md"
    blocks = "".join(
        f"<!-- TABLE:{n} -->\nold\n<!-- /TABLE:{n} -->\n\ntext\n"
        for n in ("headline", "budget", "events", "runs")
    )
    page.write_text("# Backtest\n\n" + blocks)
    assert tables.main(["--write", str(page), str(ours), str(peer), str(stale)]) == 0
    text = page.read_text()
    assert "old\n" not in text and text.count("text\n") == 4
    headline_rows = [
        line
        for line in text.splitlines()
        if line.startswith("| syn / month |") and "| check |" in line
    ]
    # ours finds the planted topic in its top 10, BERTrend (ranking the steady ones) does not
    assert headline_rows[0].split(" | ")[4:7] == ["1", "0", "0"]
    # beats biggest@10; against every baseline "-": these results predate the term baselines
    assert headline_rows[0].endswith("| yes | - |")
    assert "| syn / month | qubit | event | check | 2021-07 | 2021-07 (+0) | - |" in text
    assert "Stale (written before the flag budget, not scored here): `peer_old_month.json`" in text


def test_a_page_without_a_block_is_refused(tmp_path, tables):
    ours = tmp_path / "ours.json"
    write_result(result("ours", True), ours)
    page = tmp_path / "p.md"
    page.write_text("<!-- TABLE:headline -->\n<!-- /TABLE:headline -->\n")
    with pytest.raises(SystemExit, match="no <!-- TABLE:budget -->"):
        tables.main(["--write", str(page), str(ours)])


def test_stages_of_our_runs(tmp_path, tables, capsys):
    ours = tmp_path / "ours.json"
    write_result(result("ours", True), ours)
    old = tmp_path / "ours_old.json"  # written before the flag budget: timings only
    old.write_text(
        json.dumps(
            {
                "corpus": "old.jsonl",
                "granularity": "year",
                "model": "use",
                "n_docs": 50,
                "n_periods": 5,
                "timings": {"embed": 10.0},
                "periods": [{"n_docs": 10}] * 5,
                "peak_rss_mb": 1.0,
            }
        )
    )
    assert tables.main(["--stages", str(ours), str(old)]) == 0
    out = capsys.readouterr().out
    assert "| syn / month | 1000 | 10 |" in out and "| old / year | 50 | 5 | 10 (10) |" in out


def test_sweep_compares_settings_on_the_tuning_side(tmp_path, tables, capsys):
    for name in ("reattach0.25", "reattach0.5"):
        write_result(result("ours", True), tmp_path / f"{name}__syn_month.json")
    assert tables.main(["--sweep", *map(str, sorted(tmp_path.glob("*.json")))]) == 0
    assert "vs biggest@10" in capsys.readouterr().out
    assert tables.main(["--sweep", "--k", "3", *map(str, sorted(tmp_path.glob("*.json")))]) == 0
    out = capsys.readouterr().out
    assert "| setting | syn / month | pooled within 1, ours vs biggest@3 |" in out
    assert out.count("| reattach0.") == 2

import numpy as np

from models.embed import HashingEncoder
from models.engine import EngineParams
from models.runner import process_pending
from models.watch import lexical_match, phrase_stems
from pipeline.db import session, transaction
from pipeline.ingest import ingest_file
from pipeline.watch_store import add_watch, list_watches, remove_watch, watch_id_of


def test_stems_match_inflections_and_chinese():
    assert lexical_match(phrase_stems("solid-state batteries"), "A solid state battery cell")
    assert not lexical_match(phrase_stems("solid-state batteries"), "A battery of tests")
    assert lexical_match(phrase_stems("脑机接口"), "非侵入式脑机接口取得进展")


def test_watch_ids_are_stable_and_adding_twice_is_one_watch(tmp_path):
    with session(tmp_path / "w.duckdb") as con, transaction(con):
        add_watch(con, "Solid-state  batteries", 0.4)
        add_watch(con, "solid-state batteries", 0.3)
        assert [w.watch_id for w in list_watches(con)] == [watch_id_of("solid-state batteries")]
        assert remove_watch(con, "solid-state batteries")
        assert list_watches(con) == []


def test_watches_are_scored_every_period(tmp_path, small_corpus, mini_taxonomy):
    path = tmp_path / "w.duckdb"
    with session(path) as con:
        ingest_file(con, small_corpus)
        add_watch(con, "coronavirus", 0.99)
    process_pending(path, EngineParams(granularity="month"), HashingEncoder(), mini_taxonomy)
    with session(path, read_only=True) as con:
        rows = con.execute(
            "SELECT period, n_docs, signal_class, growth FROM watch_periods ORDER BY period"
        ).fetchall()
        listed = con.execute(
            "SELECT period, signal_class FROM v_signals WHERE kind = 'watch' ORDER BY period"
        ).fetchall()
    fired = [
        (period, signal_class) for period, _, signal_class, _ in rows if signal_class != "noise"
    ]
    assert fired and listed == fired  # a watched phrase that fires is in the ranked list
    counts = dict((period, n) for period, n, _, _ in rows)
    assert len(rows) == 5 and counts["2019-11"] == 0 and counts["2020-03"] > 30
    growths = np.array([g for *_, g in rows])
    assert growths[-2:].min() > 0


def test_watches_appear_in_the_report(tmp_path, small_corpus, mini_taxonomy):
    from reports.write import write_report

    path = tmp_path / "w.duckdb"
    with session(path) as con:
        ingest_file(con, small_corpus)
        add_watch(con, "coronavirus", 0.99)
    process_pending(path, EngineParams(granularity="month"), HashingEncoder(), mini_taxonomy)
    paths = write_report(path, tmp_path / "out", "month")
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert "## Watchlist" in markdown and "| coronavirus |" in markdown
    html = paths.html.read_text(encoding="utf-8")
    assert 'data-section="watchlist"' in html and "Kleinberg burst" in html

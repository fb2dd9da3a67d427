"""Signals: terms grouped, ids kept across periods, one ranked list written with the period."""

from datetime import date

import numpy as np

from models.embed import HashingEncoder
from models.engine import EngineParams
from models.runner import process_pending
from models.signals import SignalParams, _continue_ids, _rank, group_terms
from models.terms import TermParams, period_terms
from pipeline.db import session
from pipeline.ingest import ingest_file
from pipeline.records import Document
from pipeline.signal_store import SignalRow, SignalState


def doc(i, text):
    return Document(
        doc_id=f"d{i}",
        source="s",
        kind="news",
        title="",
        text=text,
        lang="en",
        published=date(2020, 1, 1),
    )


def row(signal_id, terms, score=1.0, signal_class="weak", kind="term"):
    return SignalRow(
        signal_id=signal_id,
        kind=kind,
        rank=0,
        score=score,
        signal_class=signal_class,
        label="",
        terms=tuple(terms),
        keywords_en=(),
        keywords_zh=(),
        n_docs=3,
        share=0.1,
        growth=1.0,
        topic_ids=(),
        direction="unmapped",
        track=None,
        first_seen={},
        metrics={},
        reasons=(),
        doc_ids=(),
    )


def test_terms_that_share_documents_form_one_signal():
    texts = (
        ["solid state battery pack"] * 4
        + ["tariff dispute escalates"] * 3
        + ["other things entirely", "other things again"]
    )
    terms = period_terms([doc(i, t) for i, t in enumerate(texts)], TermParams())
    wanted = [
        terms.labels.index(x)
        for x in ("solid state battery", "state battery pack", "tariff dispute escalates")
    ]
    groups = group_terms(terms, np.asarray(wanted), None, SignalParams())
    assert [[terms.labels[i] for i in g] for g in groups] == [
        ["solid state battery", "state battery pack"],
        ["tariff dispute escalates"],
    ]


def test_signal_ids_continue_by_shared_terms_and_are_born_otherwise():
    states = [
        SignalState("2020-01/t00", "2020-01", "2020-01", ("batteri", "solid state")),
        SignalState("2020-01/t01", "2020-01", "2020-01", ("tariff",)),
    ]
    got = _continue_ids(
        "2020-02", [row("", ["solid state", "anod"]), row("", ["vaccin"])], states, SignalParams()
    )
    assert [(s.signal_id, s.event, s.born_period) for s in got] == [
        ("2020-01/t00", "continued", "2020-01"),
        ("2020-02/t00", "born", "2020-02"),
    ]


def test_nothing_unflagged_outranks_a_flag():
    ranked = _rank(
        [
            row("a", ["x"], 9.0, "noise", "topic"),
            row("b", ["y"], 0.5, "weak"),
            row("c", ["z"], 2.0, "strong"),
        ]
    )
    assert [(s.signal_id, s.rank) for s in ranked] == [("c", 1), ("b", 2), ("a", 3)]


def test_the_engine_writes_terms_and_one_ranked_list_per_period(
    tmp_path, small_corpus, mini_taxonomy
):
    path = tmp_path / "db.duckdb"
    with session(path) as con:
        ingest_file(con, small_corpus)
    process_pending(path, EngineParams(granularity="month"), HashingEncoder(), mini_taxonomy)
    with session(path, read_only=True) as con:
        periods = [
            p
            for (p,) in con.execute(
                "SELECT period FROM processed_periods ORDER BY period"
            ).fetchall()
        ]
        with_terms = {
            p for (p,) in con.execute("SELECT DISTINCT period FROM term_periods").fetchall()
        }
        assert with_terms == set(periods)
        assert (
            con.execute(
                "SELECT count(*) FROM term_periods WHERE documents < 2 OR label = '' OR share <= 0"
            ).fetchall()[0][0]
            == 0
        )
        for period in periods:
            ranks = con.execute(
                "SELECT rank, signal_class FROM v_signals WHERE period = ? ORDER BY rank", [period]
            ).fetchall()
            assert [r for r, _ in ranks] == list(range(1, len(ranks) + 1))
            flags = [c != "noise" for _, c in ranks]
            assert flags == sorted(flags, reverse=True)  # flags first
        kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM v_signals").fetchall()}
        assert "topic" in kinds
        terms = con.execute(
            "SELECT label, reasons, first_seen FROM v_signals WHERE kind = 'term' LIMIT 1"
        ).fetchall()
        if terms:
            assert terms[0][1] and "kind:news" in terms[0][2]


class SameMeaning:
    """A stub encoder: two phrases that mean one thing get one vector."""

    name, dim = "stub", 2

    def encode(self, texts):
        return np.asarray(
            [[1.0, 0.0] if ("perovskite" in t or "钙钛矿" in t) else [0.0, 1.0] for t in texts],
            np.float32,
        )


def test_an_english_and_a_chinese_term_that_mean_the_same_merge():
    texts = (
        ["perovskite solar cell record"] * 3
        + ["钙钛矿太阳能电池效率"] * 3
        + ["tariff dispute escalates"] * 3
        + [f"filler text {i}" for i in range(20)]
    )
    terms = period_terms([doc(i, t) for i, t in enumerate(texts)], TermParams())
    wanted = [terms.labels.index(x) for x in ("perovskite solar cell", "tariff dispute escalates")]
    wanted += [i for i, label in enumerate(terms.labels) if label.startswith("钙钛矿")][:1]
    groups = group_terms(terms, np.asarray(wanted), SameMeaning(), SignalParams())
    labels = [[terms.labels[i] for i in g] for g in groups]
    assert len(labels) == 2 and labels[0][0] == "perovskite solar cell"
    assert any(label.startswith("钙钛矿") for label in labels[0])  # merged across languages
    assert labels[1] == ["tariff dispute escalates"]  # same vector as nothing English-only

"""The word-count baselines: which terms they pick, and that the backtest scores them."""

from datetime import date

from models.term_baselines import ITEM_PREFIX, chosen_terms, term_baselines
from models.terms import TermAnalyzer, TermParams
from pipeline.db import session, transaction
from pipeline.records import Document
from pipeline.store import insert_documents

# The detector's key of "newcomer" (an English stem), so stored counts and documents agree.
NEW = next(iter(TermAnalyzer(TermParams())("newcomer")))
PERIODS = {"2021-01": 100, "2021-02": 100, "2021-03": 50}
# (period, term, documents)
COUNTS = [
    ("2021-01", "common", 40),
    ("2021-01", "steady", 10),
    ("2021-01", "fading", 20),
    ("2021-02", "common", 41),
    ("2021-02", "steady", 10),
    ("2021-02", "fading", 2),
    ("2021-02", NEW, 6),
    ("2021-02", "pair", 2),
    ("2021-03", "common", 20),
    ("2021-03", "steady", 10),
    ("2021-03", NEW, 9),
]


def stored(tmp_path):
    path = tmp_path / "t.duckdb"
    with session(path) as con, transaction(con):
        for index, (period, n) in enumerate(PERIODS.items()):
            con.execute(
                "INSERT INTO processed_periods (granularity, period, period_start, "
                "run_id, model, n_docs, n_topics, n_outliers) "
                "VALUES ('month', ?, ?, 'r', 'm', ?, 0, 0)",
                [period, date(2021, index + 1, 1), n],
            )
        for period, term, n in COUNTS:
            con.execute(
                "INSERT INTO term_periods VALUES (?, ?, 'month', ?, ?, ?, 1, 1, ['news'], ['en'])",
                [term, term, period, n, n / PERIODS[period]],
            )
    return path


def test_frequent_terms_rank_by_documents_and_rising_by_smoothed_share_growth(tmp_path):
    with session(stored(tmp_path), read_only=True) as con:
        chosen = chosen_terms(con, "month", depth=2)
    assert chosen["frequent_terms"] == {
        "2021-01": ["common", "fading"],
        "2021-02": ["common", "steady"],
        "2021-03": ["common", "steady"],
    }
    rising = chosen["rising_terms"]
    assert "2021-01" not in rising  # no previous period to grow from
    # newcomer: (6+1)/100 over (0+1)/100 = 7x; pair has 2 documents, below the minimum of 3;
    # fading fell; steady and common stayed flat.
    assert rising["2021-02"] == [NEW, "common"]
    # In March the period halved: steady's 10 of 50 doubled its share; newcomer's 9 of 50
    # (10/50 over 7/100 = 2.9x) is the larger rise.
    assert rising["2021-03"] == [NEW, "steady"]


def test_baseline_items_hold_the_documents_that_contain_the_term(tmp_path):
    path = stored(tmp_path)
    docs = [
        Document(
            doc_id=f"d{i}",
            source="s",
            kind="news",
            published=date(2021, 2, 3 + i),
            title=f"title {i}",
            text=text,
            lang="en",
            url=None,
        )
        for i, text in enumerate(["a newcomer arrives", "newcomers again", "nothing here"])
    ]
    with session(path) as con, transaction(con):
        insert_documents(con, docs)
    with session(path, read_only=True) as con:
        lists, series = term_baselines(con, "month", TermParams(), depth=1)
    item = lists["rising_terms"]["2021-02"][0]
    assert item.item_id == ITEM_PREFIX + NEW and item.kind == "term"
    # "newcomers" stems to the same key, so both documents hold it; the third does not
    assert item.n_docs == 2 and all("newcomer" in t for t in item.texts)
    assert series[("2021-03", ITEM_PREFIX + NEW)] == 9


def test_baseline_items_never_hold_a_document_of_the_next_period(tmp_path):
    path = stored(tmp_path)
    docs = [
        Document(
            doc_id=f"d{i}",
            source="s",
            kind="news",
            published=day,
            title=f"title {i}",
            text="a newcomer arrives",
            lang="en",
            url=None,
        )
        for i, day in enumerate([date(2021, 2, 28), date(2021, 3, 1)])
    ]
    with session(path) as con, transaction(con):
        insert_documents(con, docs)
    with session(path, read_only=True) as con:
        lists, _ = term_baselines(con, "month", TermParams(), depth=1)
    assert lists["rising_terms"]["2021-02"][0].n_docs == 1  # 1 March belongs to March

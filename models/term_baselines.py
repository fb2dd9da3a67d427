"""Term baselines for the backtest: what a reader gets from word counts alone.

A term item's documents all contain the term, so a term passes the detection rule (a share of
its documents match the event's pattern) more easily than a topic does. Topic baselines
(biggest@k, random@k) therefore flatter term signals. These two baselines rank the same
candidate terms the detector sees (the replay's `term_periods` rows) with no emergence model:

- `frequent_terms@k`: each period's k terms held by the most documents;
- `rising_terms@k`: each period's k terms whose document share rose most against the previous
  period, ((d_now + 1) / N_now) / ((d_before + 1) / N_before), with at least MIN_RISING_DOCS
  documents now: the first thing anyone counting words would try.

The signal list beats word counting only if it beats both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from models.evaluate import RankedItem, RankedLists
from models.terms import TermAnalyzer, TermParams
from pipeline.periods import Period
from pipeline.store import documents_between

TERM_BASELINES = ("frequent_terms", "rising_terms")
MIN_RISING_DOCS = 3
ITEM_PREFIX = "term-baseline:"


def _top_per_period(source: str, order: str) -> str:
    """SQL for each period's first $depth terms of `source` (what follows FROM) by `order`,
    as (period, term) rows by period then rank. Both are fixed text below, never user input."""
    return f"""
    SELECT period, term FROM (
        SELECT period, term, row_number() OVER (PARTITION BY period ORDER BY {order}) AS rank
        FROM {source})
    WHERE rank <= $depth ORDER BY period, rank
"""


_FREQUENT = _top_per_period("term_periods WHERE granularity = $g", order="documents DESC, term")

# A term below the candidate minimum in the previous period has no row there: 0 documents.
_RISING = """
    WITH p AS (
        SELECT period, n_docs, row_number() OVER (ORDER BY period_start) AS i
        FROM processed_periods WHERE granularity = $g
    ), t AS (
        SELECT tp.term, tp.period, tp.documents, p.i, p.n_docs
        FROM term_periods tp JOIN p USING (period) WHERE tp.granularity = $g
    ), now AS (
        SELECT t.*, prev.period AS before, prev.n_docs AS n_before
        FROM t JOIN p prev ON prev.i = t.i - 1
        WHERE t.documents >= $min_docs AND prev.n_docs > 0 AND t.n_docs > 0
    ), growth AS (
        SELECT now.period, now.term, now.documents,
               ((now.documents + 1.0) / now.n_docs)
                 / ((coalesce(b.documents, 0) + 1.0) / now.n_before) AS growth
        FROM now LEFT JOIN t b ON b.term = now.term AND b.period = now.before
    )
""" + _top_per_period("growth", order="growth DESC, documents DESC, term")


def chosen_terms(
    con: duckdb.DuckDBPyConnection, granularity: str, depth: int
) -> dict[str, dict[str, list[str]]]:
    """Baseline name -> period -> its first `depth` terms, best first."""
    chosen: dict[str, dict[str, list[str]]] = {}
    for name, sql in (("frequent_terms", _FREQUENT), ("rising_terms", _RISING)):
        picked: dict[str, list[str]] = {}
        values = {"g": granularity, "depth": depth}
        if name == "rising_terms":
            values["min_docs"] = MIN_RISING_DOCS
        for period, term in con.execute(sql, values).fetchall():
            picked.setdefault(str(period), []).append(str(term))
        chosen[name] = picked
    return chosen


def term_items(
    con: duckdb.DuckDBPyConnection, chosen: Mapping[str, Sequence[str]], params: TermParams
) -> dict[str, list[RankedItem]]:
    """The chosen terms as ranked items, each with the texts of its documents in the period.

    Documents are matched with the detector's own analyzer, so a baseline term holds exactly
    the documents the detector counted for it.
    """
    analyzer = TermAnalyzer(params)
    lists: dict[str, list[RankedItem]] = {}
    for period, terms in chosen.items():
        span = Period.parse(period)  # documents_between includes both days given
        docs = documents_between(con, span.start, span.last_day)
        keys = [{k.replace(TermAnalyzer.SEP, "") for k in analyzer(d.full_text)} for d in docs]
        items = []
        for rank, term in enumerate(terms):
            texts = tuple(
                f"{d.title}\n{d.text}" for d, held in zip(docs, keys, strict=True) if term in held
            )
            items.append(
                RankedItem(period, ITEM_PREFIX + term, "term", float(-rank), len(texts), texts)
            )
        lists[period] = items
    return lists


def term_series(
    con: duckdb.DuckDBPyConnection, granularity: str, terms: set[str]
) -> dict[tuple[str, str], int]:
    """(period, item id) -> documents of each chosen term in every period, for precision@k."""
    if not terms:
        return {}
    rows = con.execute(
        "SELECT period, term, documents FROM term_periods "
        "WHERE granularity = ? AND list_contains(?, term)",
        [granularity, sorted(terms)],
    ).fetchall()
    return {(str(p), ITEM_PREFIX + str(t)): int(n) for p, t, n in rows}


def term_baselines(
    con: duckdb.DuckDBPyConnection, granularity: str, params: TermParams, depth: int
) -> tuple[dict[str, RankedLists], dict[tuple[str, str], int]]:
    """Both baselines' ranked lists and the document series precision@k needs."""
    chosen = chosen_terms(con, granularity, depth)
    lists: dict[str, RankedLists] = {
        name: term_items(con, picked, params) for name, picked in chosen.items()
    }
    held = {t for picked in chosen.values() for terms in picked.values() for t in terms}
    return lists, term_series(con, granularity, held)

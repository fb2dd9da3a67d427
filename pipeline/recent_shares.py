"""Recent shares: what a tracked item (a topic or a watch) held in the last few periods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

import duckdb

from pipeline.periods import Period

PeriodTable = Literal["topic_periods", "watch_periods"]

# The item id column of each table a row per item and period is kept in; the SQL below names
# a table and a column only from here, never from anyone's text.
_ID_COLUMNS: dict[PeriodTable, str] = {"topic_periods": "topic_id", "watch_periods": "watch_id"}


class SharesHolder(Protocol):
    """A tracked item's state: its share and document count by earlier period."""

    shares: dict[Period, float]
    counts: dict[Period, int]


def load_recent_shares(
    con: duckdb.DuckDBPyConnection,
    table: PeriodTable,
    granularity: str,
    recent_periods: Sequence[Period],
    states: Mapping[str, SharesHolder],
) -> None:
    """Fill each state's shares and counts for the recent periods it has a row in.

    Rows of items not in `states` (a topic merged away, a watch removed) are passed over.
    """
    recent = {p.label: p for p in recent_periods}
    if not recent:
        return
    for item_id, label, share, n_docs in con.execute(
        f"SELECT {_ID_COLUMNS[table]}, period, share, n_docs FROM {table} "
        "WHERE granularity = ? AND period IN (SELECT unnest(?))",
        [granularity, list(recent)],
    ).fetchall():
        state = states.get(item_id)
        if state is not None:
            state.shares[recent[label]] = float(share)
            state.counts[recent[label]] = int(n_docs)

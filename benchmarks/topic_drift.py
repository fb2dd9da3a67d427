"""Share of topic continuations whose keywords share nothing with the topic's previous period.

    python benchmarks/topic_drift.py DB [DB ...] [-g GRANULARITY]

Reads a processed database (read-only) and prints, per database: continuations counted, those
with no keyword in common with the same topic's previous period, their share, and topics ended
for drift (a `born` lineage row naming an earlier topic as its parent). Not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

QUERY = """
WITH kw AS (
    SELECT topic_id, period, keywords,
           lag(keywords) OVER (PARTITION BY topic_id ORDER BY period) AS before
    FROM topic_periods WHERE granularity = $g
)
SELECT count(*) AS continuations,
       count(*) FILTER (WHERE len(list_intersect(kw.keywords, kw.before)) = 0) AS no_overlap
FROM topic_lineage l JOIN kw USING (topic_id, period)
WHERE l.granularity = $g AND l.event = 'continued' AND kw.before IS NOT NULL
"""


def drift_figures(path: Path, granularity: str) -> dict[str, object]:
    """Continuations, those sharing no keyword with the previous period, and drift endings."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        total, empty = con.execute(QUERY, {"g": granularity}).fetchall()[0]
        ended = con.execute(
            "SELECT count(*) FROM topic_lineage WHERE granularity = ? AND "
            "event = 'born' AND parent_topic_id IS NOT NULL",
            [granularity],
        ).fetchall()[0][0]
    finally:
        con.close()
    return {
        "db": path.name,
        "granularity": granularity,
        "continuations": total,
        "no_keyword_overlap": empty,
        "share": round(empty / total, 4) if total else None,
        "ended_for_drift": ended,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dbs", nargs="+", type=Path)
    parser.add_argument("-g", "--granularity", default="month")
    args = parser.parse_args(argv)
    for path in args.dbs:
        print(json.dumps(drift_figures(path, args.granularity)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

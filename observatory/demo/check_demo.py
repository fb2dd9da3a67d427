"""What the demo flagged, beside the keyword rules that picked its papers (never its input).

    python observatory/demo/check_demo.py observatory.duckdb tests/fixtures/demo_selection_hints.csv

Prints a Markdown table: each flagged topic of the last processed quarter with its direction,
and the direction and technology hints most of its arXiv papers carry.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("hints", type=Path)
    args = parser.parse_args()
    with args.hints.open(encoding="utf-8") as handle:
        hints = {row["id"]: row for row in csv.DictReader(handle)}
    con = duckdb.connect(str(args.db), read_only=True)
    rows = con.execute(
        "SELECT e.label, e.signal_class, e.direction, list(dt.doc_id) FROM v_emerging e "
        "JOIN doc_topics dt USING (granularity, topic_id, period) "
        "WHERE e.granularity = 'quarter' GROUP BY ALL ORDER BY min(e.rank)"
    ).fetchall()
    print("| flagged topic | class | mapped to | hints of its papers: direction | technology |")
    print("|---|---|---|---|---|")
    agree = 0
    for label, signal, direction, docs in rows:
        known = [hints[d] for d in docs if d in hints]
        directions = Counter(h["direction_hint"] for h in known).most_common(1)
        techs = Counter(h["technology_hint"] for h in known).most_common(1)
        top = directions[0][0] if directions else "–"
        agree += top == direction
        share = f" ({directions[0][1]}/{len(known)})" if directions else ""
        tech = f"{techs[0][0]} ({techs[0][1]})" if techs else "–"
        print(f"| {label} | {signal} | {direction} | {top}{share} | {tech} |")
    print(
        f"\n{agree} of {len(rows)} flagged topics are mapped to the direction most of their "
        "papers' selection rules name."
    )


if __name__ == "__main__":
    main()

"""Why an event was (not) detected: its matching documents per period, where they went.

Reads a replay kept with `observatory backtest ... --db REPLAY.duckdb` and, for each event of
the corpus around its emergence period, prints: documents matching the regex in the period,
how many stayed outliers, and the best topics by matching share (size, matches, class,
high-potential score, whether the detection rule's max(3, 20%) holds). It tells clustering
misses (no topic concentrates the matches) from flagging misses (a topic does, unflagged).

    python benchmarks/diagnose_events.py REPLAY.duckdb EVENTS.json --corpus paperlists -g year
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from models.backtest_inputs import load_events
from models.evaluate import MIN_MATCH_SHARE, MIN_MATCHES
from pipeline.db import session
from pipeline.periods import check_granularity, period_of


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("replay", type=Path)
    parser.add_argument("events", type=Path)
    parser.add_argument("--corpus", required=True, help="the documents' source field")
    parser.add_argument("-g", "--granularity", required=True)
    parser.add_argument("--around", type=int, default=1, help="periods either side")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()
    unit = check_granularity(args.granularity)
    with session(args.replay, read_only=True) as con:
        periods = [
            p
            for (p,) in con.execute(
                "SELECT period FROM processed_periods WHERE granularity = ? ORDER BY period_start",
                [unit],
            ).fetchall()
        ]
        rows = con.execute(
            "SELECT d.published, d.title || chr(10) || d.text, dt.topic_id, tp.n_docs, "
            "tp.signal_class, tp.high_potential FROM documents d "
            "JOIN doc_topics dt ON dt.doc_id = d.doc_id AND dt.granularity = ? "
            "LEFT JOIN topic_periods tp ON tp.topic_id = dt.topic_id AND tp.period = dt.period "
            "AND tp.granularity = ?",
            [unit, unit],
        ).fetchall()
    events, _ = load_events(args.events, {args.corpus}, unit, periods)
    by_period: dict[str, list[tuple[str, str | None, int, str, float]]] = {}
    for published, text, topic, size, signal, potential in rows:
        by_period.setdefault(period_of(published, unit), []).append(
            (text, topic, int(size or 0), signal or "-", float(potential or 0.0))
        )
    for event in events:
        if not event.emergence_period:
            continue
        pattern = re.compile(event.regex, re.IGNORECASE)
        index = periods.index(event.emergence_period) if event.emergence_period in periods else -1
        print(f"\n== {event.term} ({event.role}), emergence {event.emergence_period}")
        for period in periods[max(index - args.around, 0) : index + args.around + 1]:
            _report_period(period, by_period.get(period, []), pattern, args.top)


def _report_period(
    period: str,
    docs: list[tuple[str, str | None, int, str, float]],
    pattern: re.Pattern[str],
    top: int,
) -> None:
    matching = [d for d in docs if pattern.search(d[0])]
    outliers = sum(1 for d in matching if d[1] is None)
    per_topic: dict[str, list[int]] = {}
    info: dict[str, tuple[int, str, float]] = {}
    for _, topic, size, signal, potential in matching:
        if topic is not None:
            per_topic.setdefault(topic, []).append(1)
            info[topic] = (size, signal, potential)
    ranked = sorted(per_topic, key=lambda t: (-len(per_topic[t]) / info[t][0], t))[:top]
    print(f"  {period}: {len(matching)} of {len(docs)} docs match, {outliers} outliers")
    for topic in ranked:
        size, signal, potential = info[topic]
        hits = len(per_topic[topic])
        passes = hits >= max(MIN_MATCHES, MIN_MATCH_SHARE * size)
        print(
            f"    {topic:<22} size {size:>5} matches {hits:>4} ({hits / size:5.1%}) "
            f"class {signal:<6} hp {potential:6.2f} {'RULE OK' if passes else ''}"
        )


if __name__ == "__main__":
    main()

"""Markdown table of RESULT.json files side by side (ours and the peer's), for docs/backtest.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FIGURES = ("recall", "recall_within_1", "median_lead_periods", "false_alarm_controls",
           "precision_at_10", "flagged_per_period_median", "outlier_share",
           "run_to_run_identical")


def row(path: Path) -> list[str]:
    """One result as table cells: corpus, system, the summary figures, wall time and memory."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    summary, timings = data["summary"], data["timings"]
    system = "BERTrend" if data["model"].startswith("bertrend") else "ours"
    wall = timings.get("total") or sum(v for k, v in timings.items() if k != "total")
    compute = sum(v for k, v in timings.items() if k not in ("total", "load", "embed", "cache",
                                                             "evaluate"))
    cells = [f"{data['corpus'].split('.')[0]} / {data['granularity']}", system,
             f"{data['n_docs']} / {data['n_periods']}",
             f"{summary['events_scored']} (+{summary['controls']} ctl)"]
    cells += ["-" if summary.get(k) is None else str(summary[k]) for k in FIGURES]
    return [*cells, f"{wall:.0f}", f"{compute:.0f}", f"{data['peak_rss_mb']:.0f}"]


def main(paths: list[str]) -> None:
    """Print the table for the given RESULT.json files."""
    head = ["corpus", "system", "docs / periods", "events", *FIGURES, "wall s",
            "s excl. embed", "peak MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for path in paths:
        print("| " + " | ".join(row(Path(path))) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The signals issue's target table at k = 10 from backtest RESULT files (not a test).

    python benchmarks/signal_targets.py RESULT.json [RESULT.json ...] [--peer-dir DIR]

One row per corpus and side of the cut: events, recall within one period for ours, biggest@10,
random@10 and (when DIR holds `peer_<corpus>_<granularity>.json`) BERTrend@10, then our
precision@10, negative controls flagged, median lead, and whether each target is met.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

K = "10"
HEADER = (
    "| corpus | side | events | ours@10 | biggest@10 | random@10 | BERTrend@10 | "
    "ours - biggest | precision@10 | controls flagged | median lead | targets met |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def _targets(ours: dict[str, Any], big: dict[str, Any]) -> str:
    recall, base = ours.get("recall_within_1"), big.get("recall_within_1")
    checks = {
        "recall>=0.8": recall is not None and recall >= 0.8,
        "+0.3": recall is not None and base is not None and recall - base >= 0.3,
        "controls<=1": (ours.get("false_alarm_controls") or 0) <= 1,
        "precision>=0.5": (ours.get("precision_at_k") or 0) >= 0.5,
        "lead>=0": ours.get("median_lead_periods") is not None and ours["median_lead_periods"] >= 0,
    }
    if recall is None:
        checks = {k: v for k, v in checks.items() if k in ("controls<=1", "precision>=0.5")}
    return ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in checks.items())


def rows(path: Path, peer_dir: Path | None) -> list[str]:
    result = json.loads(path.read_text(encoding="utf-8"))
    peer = None
    if peer_dir is not None:
        candidate = peer_dir / f"peer_{path.stem.split('_', 1)[1]}.json"
        if candidate.exists():
            peer = json.loads(candidate.read_text(encoding="utf-8"))
    out = []
    for side in ("tuning", "check"):
        figures = result["figures"][K][side]
        ours, big, rnd = figures["detector"], figures["biggest"], figures["random"]
        theirs = (
            peer["figures"][K][side]["detector"].get("recall_within_1")
            if peer and K in peer.get("figures", {})
            else None
        )
        recall, base = ours.get("recall_within_1"), big.get("recall_within_1")
        gap = recall - base if recall is not None and base is not None else None
        out.append(
            f"| {result['corpus'].split('.')[0]} / {result['granularity']} | {side} | "
            f"{ours.get('events_scored', '-')} | {_fmt(recall)} | {_fmt(base)} | "
            f"{_fmt(rnd.get('recall_within_1'))} | {_fmt(theirs)} | {_fmt(gap)} | "
            f"{_fmt(ours.get('precision_at_k'))} | {_fmt(ours.get('false_alarm_controls'))} | "
            f"{_fmt(ours.get('median_lead_periods'))} | {_targets(ours, big)} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--peer-dir", type=Path)
    args = parser.parse_args(argv)
    print(HEADER)
    for path in args.results:
        print("\n".join(rows(path, args.peer_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

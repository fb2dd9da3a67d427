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
    wall = timings.get("total") or sum(timings.get(k, 0.0) for k in (
        "load", "cache", "ingest", "embed", "cluster", "process", "evaluate"))
    # Ours: ingest + cluster + the rest of processing ("process" already excludes "cluster";
    # the engine's finer stages, read/track/keywords/score/write, are inside it). BERTrend:
    # fitting + signal classification. Both exclude loading, embedding and evaluation.
    compute = sum(timings.get(k, 0.0) for k in ("ingest", "cluster", "process", "fit",
                                                "signals"))
    n_docs = sum(p["n_docs"] for p in data["periods"])
    cells = [f"{data['corpus'].split('.')[0]} / {data['granularity']}", system,
             f"{n_docs} / {data['n_periods']}",
             f"{summary['events_scored']} (+{summary['controls']} ctl)"]
    cells += ["-" if summary.get(k) is None else str(summary[k]) for k in FIGURES]
    return [*cells, f"{wall:.0f}", f"{compute:.0f}", f"{data['peak_rss_mb']:.0f}"]


def lead_cell(event: dict[str, Any] | None) -> str:
    """First flag and lead of one event, or '-' when not detected."""
    if not event or not event["detected"]:
        return "-"
    lead = event["lead_periods"]
    return f"{event['first_flag_period']} ({'?' if lead is None else f'{lead:+d}'})"


def events_table(paths: list[str]) -> None:
    """One row per event: ours and the peer's first flag and lead, per corpus/granularity."""
    runs: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        system = "BERTrend" if data["model"].startswith("bertrend") else "ours"
        key = (data["corpus"].split(".")[0], data["granularity"])
        runs.setdefault(key, {})[system] = {e["term"]: e for e in data["events"]}
    print("| corpus | term | role | emergence | ours: first flag (lead) | BERTrend |")
    print("|---|---|---|---|---|---|")
    for (corpus, unit), systems in sorted(runs.items()):
        ours, peer = systems.get("ours", {}), systems.get("BERTrend", {})
        for term, event in (ours or peer).items():
            print(f"| {corpus} / {unit} | {term} | {event['role']} | "
                  f"{event['emergence_period'] or '-'} | {lead_cell(ours.get(term))} | "
                  f"{lead_cell(peer.get(term))} |")


def stages_table(paths: list[str]) -> None:
    """Per-stage seconds and documents/s of our runs (the first replay of each)."""
    print("| corpus | docs | periods | docs/period (max) | ingest s | embed s (docs/s) | "
          "cluster s | process s | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data["model"].startswith("bertrend"):
            continue
        t, n = data["timings"], sum(p["n_docs"] for p in data["periods"])
        biggest = max((p["n_docs"] for p in data["periods"]), default=0)
        rate = f"{n / t['embed']:.0f}" if t.get("embed", 0) > 1 else "cached"
        print(f"| {data['corpus'].split('.')[0]} / {data['granularity']} | {n} | "
              f"{data['n_periods']} | {n / data['n_periods']:.0f} ({biggest}) | "
              f"{t.get('ingest', 0):.1f} | {t.get('embed', 0):.1f} ({rate}) | "
              f"{t.get('cluster', 0):.1f} | {t.get('process', 0):.1f} | "
              f"{data['peak_rss_mb']:.0f} |")


def main(paths: list[str]) -> None:
    """Print the table for the given RESULT.json files (`--events` for the per-event table)."""
    if paths and paths[0] == "--events":
        events_table(paths[1:])
        return
    if paths and paths[0] == "--stages":
        stages_table(paths[1:])
        return
    head = ["corpus", "system", "docs / periods", "events", *FIGURES, "wall s",
            "s excl. embed", "peak MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for cells in sorted(row(Path(path)) for path in paths):
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

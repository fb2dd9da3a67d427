"""docs/backtest.md's tables, built from committed RESULT.json files (ours and the peer's).

    python benchmarks/tables.py --write docs/backtest.md benchmarks/results/current/*.json

rewrites every block between `<!-- TABLE:name -->` and `<!-- /TABLE:name -->` in the page (the
headline, the per-k figures, the events, the runs); without `--write` it prints them. A file
without per-k figures (written before the flag budget) is listed as stale, never scored.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASELINES = ("biggest", "random", "newest", "all_topics")
# Word-count baselines over the detector's own candidate terms (models/term_baselines.py);
# results written before they existed show "-".
TERM_BASELINES = ("frequent_terms", "rising_terms")
SIDES = ("tuning", "check")


@dataclass(frozen=True)
class Run:
    """One RESULT.json: its file name, system (ours / BERTrend) and contents."""

    name: str
    system: str
    data: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.data["corpus"].split(".")[0], self.data["granularity"]

    @property
    def label(self) -> str:
        return f"{self.key[0]} / {self.key[1]}"


def load(paths: Sequence[str], scored: bool = True) -> tuple[list[Run], list[str]]:
    """The scored runs, and the names of files without per-k figures (stale).

    With `scored` False every file is a run (the stage table needs only timings)."""
    runs, stale = [], []
    for path in sorted(paths):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if scored and "figures" not in data:
            stale.append(Path(path).name)
            continue
        system = data.get("system") or (
            "BERTrend" if data["model"].startswith("bertrend") else "ours"
        )
        runs.append(Run(Path(path).name, system, data))
    return runs, stale


def _pairs(runs: Sequence[Run]) -> dict[tuple[str, str], dict[str, Run]]:
    paired: dict[tuple[str, str], dict[str, Run]] = {}
    for run in runs:
        paired.setdefault(run.key, {})[run.system] = run
    return dict(sorted(paired.items()))


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and 0 < abs(value) < 0.01:
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


def _k(run: Run, k: int) -> str:
    return str(k) if str(k) in run.data["figures"] else max(run.data["figures"], key=int)


def headline_table(runs: Sequence[Run], k: int = 10) -> str:
    """Recall within one period at k: ours, the peer, and ours's baselines, per side."""
    lines = [
        f"| corpus | cut | side | events | ours@{k} | BERTrend@{k} | biggest@{k} | "
        f"random@{k} | newest@{k} | all topics | frequent terms@{k} | rising terms@{k} | "
        f"ours beats biggest@{k} | ours beats every baseline@{k} |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for systems in _pairs(runs).values():
        ours, peer = systems.get("ours"), systems.get("BERTrend")
        base = ours or peer
        assert base is not None
        for side in SIDES:
            f = base.data["figures"][_k(base, k)][side]
            mine = ours.data["figures"][_k(ours, k)][side]["detector"] if ours else None
            theirs = peer.data["figures"][_k(peer, k)][side]["detector"] if peer else None
            terms = [_recall(f.get(b)) for b in TERM_BASELINES]
            every = [f[b]["recall_within_1"] for b in ("biggest", "random", "newest")]
            lines.append(
                "| "
                + " | ".join(
                    [
                        base.label,
                        base.data["cut"]["period"],
                        side,
                        _num(f["detector"]["events_scored"]),
                        _num(mine["recall_within_1"] if mine else None),
                        _num(theirs["recall_within_1"] if theirs else None),
                        *(_num(f[b]["recall_within_1"]) for b in BASELINES),
                        *map(_num, terms),
                        _beats(mine, [f["biggest"]["recall_within_1"]]),
                        _beats(mine, every + terms),
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


def _recall(figures: dict[str, Any] | None) -> Any:
    return figures["recall_within_1"] if figures else None


def _beats(mine: dict[str, Any] | None, others: Sequence[Any]) -> str:
    """yes / tie / no against the best of `others` (recall within one period); "-" if unknown."""
    if not mine or mine["recall_within_1"] is None or any(o is None for o in others):
        return "-"
    gap = mine["recall_within_1"] - max(others)
    return "yes" if gap > 0 else "tie" if gap == 0 else "no"


def _cell(f: dict[str, Any]) -> str:
    """within 1 / recall / median lead / controls flagged / precision@k."""
    return " / ".join(
        [
            _num(f["recall_within_1"]),
            _num(f["recall"]),
            _num(f["median_lead_periods"]),
            f"{_num(f['false_alarm_controls'])}c",
            _num(f["precision_at_k"]),
        ]
    )


def budget_table(runs: Sequence[Run]) -> str:
    """Every k and side: ours, its four baselines, and BERTrend, five figures per cell."""
    lines = [
        "| corpus | k | side | ours | biggest@k | random@k | newest@k | all topics | "
        "frequent terms@k | rising terms@k | BERTrend | BERTrend's biggest@k |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for systems in _pairs(runs).values():
        ours, peer = systems.get("ours"), systems.get("BERTrend")
        base = ours or peer
        assert base is not None
        for k in sorted(base.data["figures"], key=int):
            for side in SIDES:
                f = base.data["figures"][k][side]
                p = peer.data["figures"].get(k, {}).get(side) if peer else None
                lines.append(
                    "| "
                    + " | ".join(
                        [
                            base.label,
                            k,
                            side,
                            _cell(f["detector"]) if ours else "-",
                            *(_cell(f[b]) for b in BASELINES),
                            *(_cell(f[b]) if b in f else "-" for b in TERM_BASELINES),
                            _cell(p["detector"]) if p else "-",
                            _cell(p["biggest"]) if p else "-",
                        ]
                    )
                    + " |"
                )
    return "\n".join(lines)


def _lead(event: dict[str, Any] | None, k: str) -> str:
    found = (event or {}).get("by_k", {}).get(k)
    if not found or not found["detected"]:
        return "-"
    lead = found["lead_periods"]
    return f"{found['first_flag_period']} ({'?' if lead is None else f'{lead:+d}'})"


def events_table(runs: Sequence[Run], k: int = 10) -> str:
    """One row per event: its side of the cut, ours's and the peer's first flag at k."""
    lines = [
        f"| corpus | term | role | set | emergence | ours@{k}: first flag (lead) | BERTrend@{k} |",
        "|---|---|---|---|---|---|---|",
    ]
    for systems in _pairs(runs).values():
        ours, peer = systems.get("ours"), systems.get("BERTrend")
        base = ours or peer
        assert base is not None
        peer_events = {e["term"]: e for e in peer.data["events"]} if peer else {}
        for event in base.data["events"]:
            lines.append(
                "| "
                + " | ".join(
                    [
                        base.label,
                        event["term"],
                        event["role"],
                        event["set"] or "-",
                        event["emergence_period"] or "-",
                        _lead(event, _k(ours, k)) if ours else "-",
                        _lead(peer_events.get(event["term"]), _k(peer, k)) if peer else "-",
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


def runs_table(runs: Sequence[Run], stale: Sequence[str]) -> str:
    """Per run: size, cut, list length, outliers, identity, seconds, memory, code version."""
    lines = [
        "| file | system | docs / periods | cut | topics per period | ranked per period "
        "(median) | outlier share | run-to-run identical | s excl. embed | peak MB | "
        "code |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in sorted(runs, key=lambda r: (r.key, r.system)):
        d, s, t = run.data, run.data["summary"], run.data["timings"]
        compute = sum(t.get(k, 0.0) for k in ("ingest", "cluster", "process", "fit", "signals"))
        lines.append(
            "| "
            + " | ".join(
                [
                    run.name,
                    run.system,
                    f"{d['n_docs']} / {d['n_periods']}",
                    d["cut"]["period"],
                    _num(s.get("topics_per_period_median")),
                    _num(s.get("ranked_per_period_median")),
                    _num(s.get("outlier_share")),
                    _num(s.get("run_to_run_identical")),
                    f"{compute:.0f}",
                    f"{d['peak_rss_mb']:.0f}",
                    str(d["code_version"]),
                ]
            )
            + " |"
        )
    if stale:
        lines.append("")
        lines.append(
            "Stale (written before the flag budget, not scored here): "
            + ", ".join(f"`{name}`" for name in stale)
            + "."
        )
    return "\n".join(lines)


def stages_table(runs: Sequence[Run]) -> str:
    """Per-stage seconds and documents/s of our runs (the first replay of each)."""
    lines = [
        "| corpus | docs | periods | docs/period (max) | ingest s | embed s (docs/s) | "
        "cluster s | process s | peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in sorted((r for r in runs if r.system == "ours"), key=lambda r: r.key):
        t, n = run.data["timings"], run.data["n_docs"]
        biggest = max((p["n_docs"] for p in run.data["periods"]), default=0)
        rate = f"{n / t['embed']:.0f}" if t.get("embed", 0) > 1 else "cached"
        lines.append(
            f"| {run.label} | {n} | {run.data['n_periods']} | "
            f"{n / run.data['n_periods']:.0f} ({biggest}) | {t.get('ingest', 0):.1f} | "
            f"{t.get('embed', 0):.1f} ({rate}) | {t.get('cluster', 0):.1f} | "
            f"{t.get('process', 0):.1f} | {run.data['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def sweep_table(runs: Sequence[Run], k: int = 10) -> str:
    """Tuning side only: each setting's detector at k beside biggest@k, per corpus and pooled.

    Pooled = events found within one period over all tuning events of the corpora (the
    detector's own figure, which is what a default is chosen on: a gap to biggest@k alone would
    also reward a setting that makes the clustering, and so the baseline, worse).
    """
    corpora = sorted({r.label for r in runs})
    lines = [
        "| setting | " + " | ".join(corpora) + f" | pooled within 1, ours vs biggest@{k} |",
        "|---|" + "---|" * (len(corpora) + 1),
    ]
    variants: dict[str, dict[str, Run]] = {}
    for run in runs:
        variants.setdefault(run.name.split("__")[0], {})[run.label] = run
    for name, by_corpus in sorted(variants.items()):
        cells, found, big, events = [], 0.0, 0.0, 0
        for corpus in corpora:
            found_run = by_corpus.get(corpus)
            if found_run is None:
                cells.append("-")
                continue
            f = found_run.data["figures"][_k(found_run, k)]["tuning"]
            mine, base = f["detector"], f["biggest"]
            n = mine["events_scored"] or 0
            events += n
            found += (mine["recall_within_1"] or 0) * n
            big += (base["recall_within_1"] or 0) * n
            cells.append(
                f"{_num(mine['recall_within_1'])} vs {_num(base['recall_within_1'])}; "
                f"p {_num(mine['precision_at_k'])} vs {_num(base['precision_at_k'])}; "
                f"{mine['false_alarm_controls']}c"
            )
        pooled = f"{found:.0f}/{events} vs {big:.0f}/{events}" if events else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {pooled} |")
    return "\n".join(lines)


TABLES: dict[str, Callable[[Sequence[Run], Sequence[str]], str]] = {
    "headline": lambda runs, _: headline_table(runs),
    "budget": lambda runs, _: budget_table(runs),
    "events": lambda runs, _: events_table(runs),
    "runs": runs_table,
}


def replace_blocks(page: str, tables: dict[str, str]) -> str:
    """The page with each `<!-- TABLE:name -->` block's body replaced; a missing one is an error."""
    for name, body in tables.items():
        pattern = re.compile(rf"(<!-- TABLE:{name} -->\n).*?(<!-- /TABLE:{name} -->)", re.S)
        if not pattern.search(page):
            raise SystemExit(
                f"error: no <!-- TABLE:{name} --> ... <!-- /TABLE:{name} --> block in the page"
            )
        page = pattern.sub(functools.partial(_fill, body=body), page)
    return page


def _fill(match: re.Match[str], body: str) -> str:
    return match.group(1) + body + "\n" + match.group(2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", help="RESULT.json files (ours and the peer's)")
    parser.add_argument("--write", type=Path, help="page whose TABLE blocks are rewritten")
    parser.add_argument(
        "--stages", action="store_true", help="print only the per-stage seconds of our runs"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="print only the tuning-side comparison of settings (file names "
        "SETTING__CORPUS_G.json)",
    )
    parser.add_argument("--k", type=int, default=10, help="the budget --sweep compares at")
    args = parser.parse_args(argv)
    runs, stale = load(args.results, scored=not args.stages)
    if args.stages:
        print(stages_table(runs))
        return 0
    if args.sweep:
        print(sweep_table(runs, args.k))
        return 0
    tables = {name: build(runs, stale) for name, build in TABLES.items()}
    if args.write:
        page = args.write.read_text(encoding="utf-8")
        args.write.write_text(replace_blocks(page, tables), encoding="utf-8")
        print(
            f"{args.write}: {len(tables)} tables from {len(runs)} results ({len(stale)} stale)",
            file=sys.stderr,
        )
    else:
        for name, body in tables.items():
            print(f"<!-- TABLE:{name} -->\n{body}\n<!-- /TABLE:{name} -->\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

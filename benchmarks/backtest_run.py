"""Stand-in for `observatory backtest` until the CLI wires it: same flags, same output."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from models.backtest import format_table, run_backtest, write_result
from models.embed import build_encoder
from models.engine import EngineParams
from models.evaluate import parse_budget
from observatory.settings import Settings
from pipeline.errors import ObservatoryError

# Experiment flag (argparse dest) -> the ClusterParams / EngineParams field it overrides.
CLUSTER_FLAGS = {
    "reattach_threshold": "reattach_threshold",
    "min_cluster_size": "min_cluster_size",
    "reducer": "reducer",
    "algorithm": "algorithm",
}
ENGINE_FLAGS = {
    "outlier_min_size": "outlier_min_cluster_size",
    "outlier_min_cohesion": "outlier_min_cohesion",
    "outlier_dims": "outlier_reduce_dims",
    "split_share": "split_share",
    "split_min": "split_min",
    "match_threshold": "match_threshold",
}


def engine_params(args: argparse.Namespace) -> EngineParams:
    """Defaults, with the clustering knobs an experiment overrides."""
    # The same parameters `observatory backtest` uses (settings defaults and OBSERVATORY_*
    # variables), then the experiment's overrides.
    base = Settings().engine_params(args.granularity)
    cluster_overrides = {
        field: getattr(args, flag)
        for flag, field in CLUSTER_FLAGS.items()
        if getattr(args, flag) is not None
    }
    engine_overrides = {
        field: getattr(args, flag)
        for flag, field in ENGINE_FLAGS.items()
        if getattr(args, flag) is not None
    }
    params = replace(base, cluster=replace(base.cluster, **cluster_overrides), **engine_overrides)
    if args.window_periods is not None:
        params = replace(
            params,
            window=replace(
                params.window, periods=args.window_periods, below_docs=args.window_below
            ),
        )
    return params


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run the backtest, write RESULT.json and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--granularity", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--embeddings-cache", type=Path)
    parser.add_argument(
        "--cache-read-only",
        action="store_true",
        help="read vectors from the cache, never write to it (a shared cache)",
    )
    parser.add_argument("--encoder", default="use-multilingual-v3")
    parser.add_argument("--budget", default="3,5,10", help="flags per period, e.g. 3,5,10")
    parser.add_argument("--cut", help="time cut period (default: 60%% of the span)")
    parser.add_argument("--reattach-threshold", type=float, help="engine experiment")
    parser.add_argument("--min-cluster-size", type=int, help="engine experiment")
    parser.add_argument("--reducer", choices=("pca", "umap", "none"), help="engine experiment")
    parser.add_argument(
        "--algorithm", choices=("hdbscan", "fast_hdbscan"), help="engine experiment"
    )
    parser.add_argument("--match-threshold", type=float, help="engine experiment")
    parser.add_argument("--outlier-min-size", type=int, help="engine experiment")
    parser.add_argument("--outlier-min-cohesion", type=float, help="engine experiment")
    parser.add_argument("--outlier-dims", type=int, help="engine experiment")
    parser.add_argument("--split-share", type=float, help="engine experiment")
    parser.add_argument("--split-min", type=int, help="engine experiment")
    parser.add_argument(
        "--window-periods",
        type=int,
        help="engine experiment: cluster thin periods with the ones before",
    )
    parser.add_argument(
        "--window-below",
        type=int,
        default=300,
        help="with --window-periods: periods with fewer documents are thin",
    )
    parser.add_argument(
        "--seed-taxonomy",
        action="store_true",
        help="let the taxonomy's terms create candidate terms (off: the rule)",
    )
    args = parser.parse_args(argv)
    console = Console(stderr=True, width=140)
    start = time.perf_counter()

    def progress(period: str, done: int, total: int) -> None:
        console.print(f"[{time.perf_counter() - start:7.1f}s] {done}/{total} {period}")

    try:
        budgets = parse_budget(args.budget)
        result = run_backtest(
            args.corpus,
            args.events,
            args.granularity,
            args.db,
            build_encoder(args.encoder),
            engine_params(args),
            repeat=args.repeat,
            embeddings_cache=args.embeddings_cache,
            progress=progress,
            budgets=budgets,
            cut=args.cut,
            cache_read_only=args.cache_read_only,
            seed_taxonomy=args.seed_taxonomy,
        )
    except ObservatoryError as error:
        console.print(f"error: {error}")
        return error.exit_code
    write_result(result, args.out)
    console.print(format_table(result))
    console.print(f"wall {time.perf_counter() - start:.1f}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

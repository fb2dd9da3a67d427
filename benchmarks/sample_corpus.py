"""A stratified sample of a corpus: at most N documents per period, picked by a hash of the id."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from pathlib import Path

from pipeline.ingest import open_lines
from pipeline.periods import check_granularity, period_of, period_start


def main() -> None:
    """Write the sample as a date-sorted .jsonl.gz, the same format as the input."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-period", type=int, required=True)
    parser.add_argument("--granularity", default="year")
    args = parser.parse_args()
    unit = check_granularity(args.granularity)
    by_period: dict[str, list[tuple[str, str]]] = {}
    with open_lines(args.corpus) as handle:
        for line in handle:
            record = json.loads(line)
            label = period_of(period_start(record["date"]), unit)
            key = hashlib.sha256(record["id"].encode()).hexdigest()
            by_period.setdefault(label, []).append((key, line))
    kept = [line for group in by_period.values() for _, line in sorted(group)[: args.per_period]]
    kept.sort(key=lambda line: (json.loads(line)["date"], json.loads(line)["id"]))
    with gzip.open(args.out, "wt", encoding="utf-8") as out:
        out.writelines(kept)
    print(f"{len(kept)} of {sum(len(g) for g in by_period.values())} documents -> {args.out}")


if __name__ == "__main__":
    main()

"""CPU seconds of the text stages of one period: keywords, topic labels and candidate terms.

The three read every text of the period; on Chinese sources they cut each text's Chinese runs
with jieba's algorithm, which `models/segment.py` does once per process for all three (with
rjieba since this round), and keywords and labels share one tokenisation (`class_tokens`).
Prints one line per run; not a test (figures go to docs/benchmarks.md).

    python benchmarks/text_cost.py ../shared/corpora/ruanyf_weekly.jsonl.gz --docs 1500
"""

from __future__ import annotations

import argparse
import time
from itertools import islice
from pathlib import Path

from models.keywords import class_tfidf, class_tokens, topic_labels
from models.terms import TermParams, period_terms
from pipeline.ingest import IngestReport, read_documents


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--docs", type=int, default=1500, help="the corpus's first N documents")
    parser.add_argument("--groups", type=int, default=10, help="clusters the texts are dealt into")
    args = parser.parse_args()
    docs = list(
        islice(
            read_documents(args.corpus, skip_bad=False, report=IngestReport(str(args.corpus))),
            args.docs,
        )
    )
    texts = [d.full_text for d in docs]
    groups = [texts[i :: args.groups] for i in range(args.groups)]
    titles = [[text.split("\n", 1)[0] for text in group] for group in groups]
    started = time.process_time()
    tokens = class_tokens(groups, ())  # as the engine does: one tokenisation for both
    class_tfidf(groups, (), 10, tokens=tokens)
    topic_labels(groups, titles, (), tokens=tokens)
    period_terms(docs, TermParams())
    print(
        f"{len(docs)} documents of {args.corpus.name}: keywords + labels + terms "
        f"{time.process_time() - started:.2f} s CPU (the cutter's dictionary load included)"
    )


if __name__ == "__main__":
    main()

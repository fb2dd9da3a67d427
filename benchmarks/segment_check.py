"""Does the Rust cutter (rjieba) give the words the Python jieba gave, and how much faster?

Cuts every distinct Chinese run of a corpus with both, without and with the taxonomy's user
dictionary (the two dictionaries the engine uses), and prints how many runs differ and the CPU
seconds of each. Not a test: the reference `jieba` is no longer a dependency, install it
beside the project to run this (`pip install jieba==0.42.1`).

    python benchmarks/segment_check.py ../shared/corpora/ruanyf_weekly.jsonl.gz
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from pathlib import Path

from models.segment import USER_TERM_FREQUENCY, dictionary_terms
from models.taxonomy import load_taxonomy
from pipeline.ingest import IngestReport, read_documents

_RUN = re.compile(r"[\u3400-\u9fff]+")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    import jieba
    import rjieba

    jieba.setLogLevel(logging.WARNING)
    report = IngestReport(str(args.corpus))
    runs = sorted(
        {
            run
            for doc in read_documents(args.corpus, skip_bad=False, report=report)
            for run in _RUN.findall(doc.full_text.lower())
        }
    )
    taxonomy_terms = dictionary_terms(load_taxonomy().user_terms())
    for label, terms in (("no user dictionary", ()), ("taxonomy dictionary", taxonomy_terms)):
        reference = jieba.Tokenizer()
        reference.lcut("初始化")  # loads the dictionary outside the timing
        rust = rjieba.Jieba()
        for term in terms:
            reference.add_word(term, freq=USER_TERM_FREQUENCY)
            rust.add_word(term, USER_TERM_FREQUENCY, None)
        started = time.process_time()
        expected = [reference.lcut(run) for run in runs]
        middle = time.process_time()
        got = [rust.cut(run, True) for run in runs]
        ended = time.process_time()
        differ = [(run, a, b) for run, a, b in zip(runs, expected, got, strict=True) if a != b]
        print(
            f"{label} ({len(terms)} user terms): {len(runs)} distinct runs, {len(differ)} cut "
            f"differently; jieba {middle - started:.2f} s CPU, rjieba {ended - middle:.2f} s CPU"
        )
        for run, a, b in differ[:5]:
            print(f"  {run}: jieba {a} / rjieba {b}")


if __name__ == "__main__":
    main()

"""Fill an embeddings cache with a corpus's vectors, resumably, and report documents/s.

The backtest (`--embeddings-cache`) and the BERTrend peer read the same cache file. Embedding
the full paperlists corpus takes longer than one sitting on 2 cores, so this commits every batch:
a killed run loses at most one batch, and running it again embeds only what is missing.

    python benchmarks/embed_corpus.py CORPUS.jsonl.gz CACHE.duckdb [--encoder NAME]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from models.embed import DEFAULT_ENCODER, build_encoder
from models.process import embed_documents
from pipeline.ingest import IngestReport, read_documents


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    docs = list(
        {
            doc.content_hash: doc
            for doc in read_documents(
                args.corpus, skip_bad=False, report=IngestReport(str(args.corpus))
            )
        }.values()
    )
    encoder = build_encoder(args.encoder, threads=args.threads)
    print(f"{len(docs)} distinct texts, embedding the missing ones with {encoder.name}", flush=True)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / (time.perf_counter() - started)
        print(f"{done}/{total} embedded, {rate:.1f} docs/s", flush=True)

    embed_documents(args.cache, docs, encoder, args.batch_size, on_batch=progress)


if __name__ == "__main__":
    main()

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
from pipeline.db import session, transaction
from pipeline.ingest import IngestReport, read_documents
from pipeline.store import insert_embeddings, iter_batches, missing_embeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("cache", type=Path)
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    text_of = {doc.content_hash: doc.full_text for doc in
               read_documents(args.corpus, skip_bad=False, report=IngestReport(str(args.corpus)))}
    encoder = build_encoder(args.encoder, threads=args.threads)
    with session(args.cache) as con:
        todo = missing_embeddings(con, list(text_of), encoder.name)
    print(f"{len(text_of)} distinct texts, {len(todo)} to embed with {encoder.name}", flush=True)
    started, done = time.perf_counter(), 0
    for batch in iter_batches(todo, args.batch_size):
        vectors = encoder.encode([text_of[h] for h in batch])
        with session(args.cache) as con, transaction(con):
            insert_embeddings(con, list(batch), encoder.name, vectors)
        done += len(batch)
        rate = done / (time.perf_counter() - started)
        print(f"{done}/{len(todo)} embedded, {rate:.1f} docs/s", flush=True)


if __name__ == "__main__":
    main()

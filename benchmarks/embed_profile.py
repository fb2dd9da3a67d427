"""Where the default encoder's time goes, and documents/s per core with each speed-up (not a test).

USE (`use-multilingual-v3`, one BLAS thread) on the first N documents of a corpus (sha256-of-id
order), in the engine's batches of 64, three ways, interleaved A B C A B C so that a change
in the machine's load hits all of them alike:

- `as_given`: texts in document order, the package's pure-Python tokenizer (the engine before);
- `by_length`: each batch encoded shortest text first;
- `spm`: texts in document order with the C++ `sentencepiece` tokenizer in place of the
  package's pure-Python port (the engine now; token ids compared on every text).

Tokenisation alone is timed for both tokenizers. Vectors of all three are compared.

    python benchmarks/embed_profile.py --corpus ../shared/corpora/paperlists.jsonl.gz --n 1000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.embed import (  # noqa: E402
    Encoder,
    UniversalSentenceEncoder,
    limit_threads,
    sentencepiece_tokenizer,
)
from pipeline.ingest import parse_record  # noqa: E402
from pipeline.provenance import code_version  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "embed_profile"


def load_texts(path: Path, n: int) -> list[str]:
    """The first `n` distinct texts in sha256-of-id order (as benchmarks/throughput.py)."""
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                doc = parse_record(f"{path}:{number}", json.loads(line))
                docs.append((hashlib.sha256(doc.doc_id.encode()).hexdigest(), doc.full_text))
    docs.sort()
    texts = list(dict.fromkeys(text for _, text in docs))
    return texts[:n]


def encode_by_length(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """The batch encoded shortest text first, rows put back in the input order."""
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    encoded = encoder.encode([texts[i] for i in order])
    rows = np.empty_like(encoded)
    rows[order] = encoded
    return rows


def batches(texts: list[str], size: int) -> list[list[str]]:
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    limit_threads(1)
    texts = load_texts(args.corpus, args.n)
    clipped = [t[:2000] for t in texts]
    plain = UniversalSentenceEncoder(threads=1, tokenizer="pure")
    fast = UniversalSentenceEncoder(threads=1, tokenizer="sentencepiece")
    plain.encode(texts[:8])
    fast.encode(texts[:8])
    pure_tok = plain._model._tokenizer  # the package's own tokenizer
    spm = sentencepiece_tokenizer()
    timings: dict[str, list[float]] = {
        "as_given": [],
        "by_length": [],
        "spm": [],
        "tokenize_pure": [],
        "tokenize_spm": [],
    }
    loads: list[float] = []
    vectors: dict[str, Any] = {}
    for _ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for name, run in (
            ("as_given", lambda: [plain.encode(b) for b in batches(texts, args.batch)]),
            ("by_length", lambda: [encode_by_length(plain, b) for b in batches(texts, args.batch)]),
            ("spm", lambda: [fast.encode(b) for b in batches(texts, args.batch)]),
            (
                "tokenize_pure",
                lambda: [
                    pure_tok.encode(t, out_type=int, add_bos=True, add_eos=True) for t in clipped
                ],
            ),
            (
                "tokenize_spm",
                lambda: [spm.encode(t, out_type=int, add_bos=True, add_eos=True) for t in clipped],
            ),
        ):
            start = time.perf_counter()
            result = run()
            timings[name].append(time.perf_counter() - start)
            vectors[name] = result
    loads.append(os.getloadavg()[0])
    differ = [
        a != b for a, b in zip(vectors["tokenize_pure"], vectors["tokenize_spm"], strict=True)
    ]
    given = np.concatenate(vectors["as_given"])
    sorted_plain = np.concatenate(vectors["by_length"])
    spm_rows = np.concatenate(vectors["spm"])
    same_rows = (given == spm_rows).all(axis=1)
    best = {name: min(values) for name, values in timings.items()}
    result = {
        "corpus": args.corpus.name,
        "n_docs": len(texts),
        "batch": args.batch,
        "mean_chars": round(sum(map(len, clipped)) / len(clipped), 1),
        "rounds": args.rounds,
        "seconds": timings,
        "best_seconds": best,
        "docs_per_s_best": {name: round(len(texts) / s, 1) for name, s in best.items()},
        "tokenize_share_of_as_given": round(best["tokenize_pure"] / best["as_given"], 3),
        "texts_with_other_token_ids": sum(differ),
        "by_length_equals_as_given_bitwise": bool(np.array_equal(given, sorted_plain)),
        "by_length_max_abs_diff": float(np.abs(given - sorted_plain).max()),
        "spm_rows_bitwise_equal": int(same_rows.sum()),
        "spm_max_abs_diff_same_ids": float(np.abs(given - spm_rows)[~np.asarray(differ)].max())
        if not all(differ)
        else None,
        "spm_min_cosine": float((given * spm_rows).sum(axis=1).min()),
        "load_avg_1min": loads,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "code_version": code_version(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{args.corpus.name.split('.')[0]}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "seconds"}, indent=2))


if __name__ == "__main__":
    main()

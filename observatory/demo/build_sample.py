"""Rebuild the bundled demo sample from the project's shared candidate files.

    python observatory/demo/build_sample.py \
        --candidates ../shared/demo/demo_candidates.jsonl \
        --patents ../shared/corpora/patentsview_nn.jsonl.gz \
        --out observatory/demo/future_industries_2013_2017Q1.jsonl.gz

Deterministic (fixed seed, sorted output, gzip without a timestamp). The selection hints CSV
that sits beside the candidates is deliberately NOT read: it is kept for checking what the
demo finds, so it must not shape the sample. See NOTICE.md for provenance and licences.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import re
from pathlib import Path
from typing import Any

SEED = 20261202
FIRST, LAST = "2013-01-01", "2017-03-31"
N_ARXIV = 1950
N_PATENTS = 350
TEXT_CHARS = 480  # whole sentences up to this many characters; the demo must embed fast
# Joint Party-State announcements: whether Art. 5 covers CPC organs is untested (PROVENANCE.md),
# so they are left out for a sample with no licence ambiguity.
JOINT_PARTY_STATE = ("中共中央",)
PATENT_LICENCE = (
    "US patent grant (USPTO): patent texts are generally free of copyright "
    "restrictions; record via PatentsView (CC BY 4.0, attribution: PatentsView / "
    "USPTO)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[$\\])")


def trim(text: str, limit: int = TEXT_CHARS) -> str:
    """Whole leading sentences up to `limit` characters; a long first sentence is cut at a
    word boundary and ends in an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _trimmed(doc: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    short = trim(doc["text"])
    if short != doc["text"]:
        out["meta"] = {**doc["meta"], "trimmed_from_chars": len(doc["text"])}
    out["text"] = short
    return out


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build(candidates: Path, patents: Path) -> list[dict[str, Any]]:
    """The sample: a uniform random draw of arXiv papers and unique US patents in the window,
    and every Chinese state-organ document, texts trimmed, sorted by date then id."""
    rng = random.Random(SEED)
    docs = _read_jsonl(candidates)
    arxiv = sorted((d for d in docs if d["source"] == "arxiv"), key=lambda d: d["id"])
    chinese = [
        d
        for d in docs
        if d["lang"] == "zh" and not any(d["title"].startswith(p) for p in JOINT_PARTY_STATE)
    ]
    window = [
        p
        for p in _read_jsonl(patents)
        if FIRST <= p["date"] <= LAST and not p["meta"].get("duplicate_text_of")
    ]
    window.sort(key=lambda d: d["id"])
    chosen_patents = []
    for patent in rng.sample(window, min(N_PATENTS, len(window))):
        meta = {**patent["meta"], "licence": PATENT_LICENCE}
        chosen_patents.append({**patent, "meta": meta})
    sample = rng.sample(arxiv, min(N_ARXIV, len(arxiv))) + chosen_patents + chinese
    return sorted((_trimmed(d) for d in sample), key=lambda d: (d["date"], d["id"]))


def write(docs: list[dict[str, Any]], out: Path) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        for doc in docs:
            handle.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
    out.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=Path, required=True)
    parser.add_argument("--patents", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    docs = build(args.candidates, args.patents)
    write(docs, args.out)
    counts: dict[str, int] = {}
    for doc in docs:
        counts[doc["source"]] = counts.get(doc["source"], 0) + 1
    print(f"{args.out}: {len(docs)} documents {counts}")


if __name__ == "__main__":
    main()

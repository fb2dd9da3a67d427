"""The direction classifier: logistic regression on encoder vectors and zero-shot track similarity.

Seven classes, the six directions and "none" (learned from real off-topic documents). Features
are the document's unit vector and its cosine similarity to every taxonomy track, standardised.
Training uses the train split of `data/direction_train/labels.jsonl` plus each track's own EN and
ZH text (so a track without examples still pulls its direction); the regularisation and the bias
of the none class are chosen on the validation split only. The artefact is plain JSON (no pickle)
under `models/direction_classifier/`, with the hash of the labels file it was trained on.
`python -m models.direction_model` retrains it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from models.embed import DEFAULT_ENCODER, Encoder, build_encoder
from models.taxonomy import DIRECTION_IDS, Taxonomy, load_taxonomy
from pipeline.errors import InputError

NONE = "none"
CLASSES = (*DIRECTION_IDS, NONE)
ARTEFACT_DIR = Path(__file__).parent / "direction_classifier"
VECTOR_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "directions"
C_GRID = (0.01, 0.03, 0.1, 0.3)
NONE_BIAS_GRID = tuple(round(-1.0 + 0.25 * step, 2) for step in range(17))
OFFTOPIC_TARGET = 0.95


def artefact_path(encoder_name: str) -> Path:
    return ARTEFACT_DIR / f"{encoder_name}.json"


@dataclass(frozen=True)
class DirectionClassifier:
    """A fitted linear model over [vector, track similarities]; rows of `coef` follow CLASSES."""

    encoder: str
    taxonomy_version: str
    track_vectors: NDArray[np.float32]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]
    none_bias: float
    meta: dict[str, object]
    # Added to a direction's probability for a document naming one of its tracks' EN/ZH terms
    # (then renormalised); chosen on validation, 0 turns it off.
    term_bonus: float = 0.0

    def features(self, vectors: NDArray[np.float32]) -> NDArray[np.float64]:
        sims = vectors @ self.track_vectors.T
        return (np.hstack([vectors, sims]).astype(np.float64) - self.mean) / self.scale

    def probabilities(self, vectors: NDArray[np.float32],
                      mentions: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
        """One row of class probabilities (CLASSES order) per row of `vectors`; `mentions`
        (rows x six directions) marks documents naming a direction's terms."""
        logits = self.features(np.atleast_2d(vectors)) @ self.coef.T + self.intercept
        logits[:, CLASSES.index(NONE)] += self.none_bias
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        probs = weights / weights.sum(axis=1, keepdims=True)
        if mentions is not None and self.term_bonus:
            probs[:, : len(DIRECTION_IDS)] += self.term_bonus * mentions
            probs /= probs.sum(axis=1, keepdims=True)
        return np.asarray(probs)

    def to_json(self) -> str:
        def rounded(array: NDArray[np.floating]) -> list[object]:
            return np.round(array.astype(np.float64), 6).tolist()  # type: ignore[no-any-return]

        return json.dumps({
            "encoder": self.encoder, "taxonomy_version": self.taxonomy_version,
            "classes": list(CLASSES), "none_bias": self.none_bias,
            "term_bonus": self.term_bonus, "meta": self.meta,
            "mean": rounded(self.mean), "scale": rounded(self.scale),
            "intercept": rounded(self.intercept), "coef": rounded(self.coef),
        }, ensure_ascii=False, separators=(",", ":"))


def load_classifier(encoder_name: str, taxonomy: Taxonomy, track_vectors: NDArray[np.float32],
                    path: Path | None = None) -> DirectionClassifier | None:
    """The shipped classifier for this encoder and taxonomy, or None (zero-shot fallback)."""
    source = path or artefact_path(encoder_name)
    if not source.exists():
        return None
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: not valid JSON ({error})") from None
    if data.get("encoder") != encoder_name or data.get("taxonomy_version") != taxonomy.version:
        return None
    if tuple(data.get("classes", ())) != CLASSES:
        raise InputError(f"{source}: field 'classes': expected {list(CLASSES)}")
    coef = np.asarray(data["coef"], dtype=np.float64)
    if coef.shape != (len(CLASSES), track_vectors.shape[1] + len(track_vectors)):
        raise InputError(f"{source}: field 'coef': shape {coef.shape} does not fit "
                         f"{len(track_vectors)} tracks of dimension {track_vectors.shape[1]}")
    return DirectionClassifier(
        encoder=encoder_name, taxonomy_version=taxonomy.version, track_vectors=track_vectors,
        mean=np.asarray(data["mean"], np.float64), scale=np.asarray(data["scale"], np.float64),
        coef=coef, intercept=np.asarray(data["intercept"], np.float64),
        none_bias=float(data["none_bias"]), meta=dict(data.get("meta", {})),
        term_bonus=float(data.get("term_bonus", 0.0)))


def _from_corpus_caches(wanted: dict[str, str], model: str) -> dict[str, NDArray[np.float32]]:
    """Vectors already in the corpora's embedding caches (`../cache/<corpus>.duckdb`, opened
    read-only; files still being written are named tmp-* and skipped), by our text key."""
    import duckdb

    from pipeline.records import content_hash

    root = Path(__file__).resolve().parents[1]
    folders = [p for p in (root.parent / "cache", root.parent.parent / "cache") if p.is_dir()]
    by_hash = {content_hash(text, ""): key for key, text in wanted.items()}
    found: dict[str, NDArray[np.float32]] = {}
    for path in sorted(p for folder in folders[:1] for p in folder.glob("*.duckdb")
                       if not p.name.startswith("tmp-")):
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            continue
        try:
            rows = con.execute("SELECT content_hash, vector FROM embeddings WHERE model = ? AND "
                               "content_hash IN (SELECT unnest(?))",
                               [model, [h for h in by_hash if by_hash[h] not in found]]
                               ).fetchnumpy()
        except duckdb.Error:
            rows = {"content_hash": [], "vector": []}
        finally:
            con.close()
        for digest, vector in zip(rows["content_hash"], rows["vector"], strict=True):
            found[by_hash[str(digest)]] = np.asarray(vector, dtype=np.float32)
    return found


def _save(path: Path, cache: dict[str, NDArray[np.float32]]) -> None:
    partial = path.with_suffix(".tmp.npz")
    np.savez(partial, keys=np.asarray(list(cache)), vectors=np.stack(list(cache.values())))
    partial.replace(path)


def cached_vectors(texts: Sequence[str], encoder: Encoder) -> NDArray[np.float32]:
    """Vectors of `texts`, from a local cache keyed by text hash (embedding is the slow part),
    else from the corpora's embedding caches, else encoded now."""
    VECTOR_CACHE.mkdir(parents=True, exist_ok=True)
    path = VECTOR_CACHE / f"{encoder.name}.npz"
    cache: dict[str, NDArray[np.float32]] = {}
    if path.exists():
        with np.load(path) as stored:
            cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    keys = [hashlib.sha1(text.encode("utf-8")).hexdigest() for text in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
    before = len(cache)
    if len(missing) > 50:
        cache.update(_from_corpus_caches(dict(missing), encoder.name))
        missing = [(k, t) for k, t in missing if k not in cache]
    for start in range(0, len(missing), 256):
        batch = missing[start:start + 256]
        for (key, _), vector in zip(batch, encoder.encode([t for _, t in batch]), strict=True):
            cache[key] = vector
        if start % 2048 == 1792:  # keep what is done if a long run is stopped
            _save(path, cache)
    if len(cache) > before:
        _save(path, cache)
    if not keys:
        return np.zeros((0, encoder.dim), np.float32)
    return np.stack([cache[k] for k in keys]).astype(np.float32)


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    scores = []
    for label in CLASSES:
        hits = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        guessed = sum(p == label for p in predicted)
        actual = sum(g == label for g in gold)
        if actual == 0:
            continue
        precision = hits / guessed if guessed else 0.0
        recall = hits / actual
        scores.append(2 * precision * recall / (precision + recall) if hits else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def fit(features: NDArray[np.float32], labels: Sequence[str], c: float,
        track_vectors: NDArray[np.float32], encoder: str, taxonomy_version: str,
        meta: dict[str, object]) -> DirectionClassifier:
    """Standardise and fit a balanced multinomial logistic regression (fixed seed)."""
    from sklearn.linear_model import LogisticRegression

    raw = np.hstack([features, features @ track_vectors.T]).astype(np.float64)
    mean, scale = raw.mean(axis=0), raw.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=0)
    model.fit((raw - mean) / scale, [CLASSES.index(label) for label in labels])
    order = [list(model.classes_).index(i) for i in range(len(CLASSES))]
    return DirectionClassifier(encoder, taxonomy_version, track_vectors, mean, scale,
                               model.coef_[order], model.intercept_[order], 0.0, meta)


def predict_labels(classifier: DirectionClassifier, vectors: NDArray[np.float32],
                   mentions: NDArray[np.bool_] | None = None) -> list[str]:
    return [CLASSES[i] for i in classifier.probabilities(vectors, mentions).argmax(axis=1)]


TERM_BONUS_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def choose_term_bonus(classifier: DirectionClassifier, vectors: NDArray[np.float32],
                      mentions: NDArray[np.bool_], gold: Sequence[str]) -> float:
    """Best validation macro-F1 among bonuses that keep >= 95 % of off-topic documents
    unmapped; ties go to the smaller bonus."""
    results = []
    for bonus in TERM_BONUS_GRID:
        trial = DirectionClassifier(**{**classifier.__dict__, "term_bonus": bonus})
        predicted = predict_labels(trial, vectors, mentions)
        nones = [p for g, p in zip(gold, predicted, strict=True) if g == NONE]
        none_recall = sum(p == NONE for p in nones) / max(len(nones), 1)
        print(f"term bonus {bonus:g}: validation macro-F1 {macro_f1(gold, predicted):.3f}, "
              f"off-topic unmapped {none_recall:.1%}")
        results.append((none_recall >= OFFTOPIC_TARGET, round(macro_f1(gold, predicted), 4),
                        -bonus))
    return -max(results)[-1]


def choose_none_bias(classifier: DirectionClassifier, vectors: NDArray[np.float32],
                     gold: Sequence[str]) -> float:
    """Best validation macro-F1 among biases that keep >= 95 % of off-topic documents unmapped
    (the highest none recall when no bias reaches that)."""
    results = []
    for bias in NONE_BIAS_GRID:
        trial = DirectionClassifier(**{**classifier.__dict__, "none_bias": bias})
        predicted = predict_labels(trial, vectors)
        nones = [p for g, p in zip(gold, predicted, strict=True) if g == NONE]
        none_recall = sum(p == NONE for p in nones) / max(len(nones), 1)
        results.append((none_recall >= OFFTOPIC_TARGET, macro_f1(gold, predicted),
                        none_recall, -abs(bias), bias))
    return max(results)[-1]


def train(shared: str | None, encoder_spec: str = DEFAULT_ENCODER,
          taxonomy_name: str = "v1", refit: bool = False) -> DirectionClassifier:
    """Embed the labelled set, pick C and the none bias on validation, fit, return the model."""
    from models.direction_data import LABELS_FILE, find_shared, labels_hash, load_labelled
    from models.directions import direction_mentions, embed_taxonomy

    encoder = build_encoder(encoder_spec)
    taxonomy = load_taxonomy(taxonomy_name)
    tracks = embed_taxonomy(taxonomy, encoder, with_classifier=False)
    docs = load_labelled(find_shared(shared))
    vectors = cached_vectors([doc.text for doc in docs], encoder)
    split = np.asarray([doc.split for doc in docs])
    labels = np.asarray([doc.label for doc in docs])
    # Each track's own EN and ZH texts are training examples of its direction: the only
    # Chinese examples of some tracks, and the seeds' wording for tracks no source codes.
    # Each term and name alone is a short example too: corpus examples are abstracts and news
    # items, and without short ones a bare title drifted to whatever class had the shortest
    # texts (the lens_covid patent titles, health).
    track_texts, track_labels = [], []
    for track in taxonomy.tracks:
        texts = [*track.texts(), track.name_en, track.name_zh, *track.terms_en, *track.terms_zh]
        track_texts += texts
        track_labels += [track.direction] * len(texts)
    train_x = np.vstack([vectors[split == "train"], cached_vectors(track_texts, encoder)])
    train_y = [*labels[split == "train"].tolist(), *track_labels]
    val_x, val_y = vectors[split == "val"], labels[split == "val"].tolist()
    meta: dict[str, object] = {
        "labels_file": "data/direction_train/labels.jsonl",
        "labels_sha256": labels_hash(LABELS_FILE),
        "n_train": len(train_y), "n_val": len(val_y), "seed": 0,
        "features": "unit vector + cosine to each track, standardised",
    }
    best = None
    for c in C_GRID:
        model = fit(train_x, train_y, c, tracks.vectors, encoder.name, taxonomy.version, meta)
        score = macro_f1(val_y, predict_labels(model, val_x))
        print(f"C={c:g}: validation macro-F1 {score:.3f}")
        if best is None or score > best[0]:
            best = (score, c, model)
    assert best is not None
    _, c, model = best
    bias = choose_none_bias(model, val_x, val_y)
    model = DirectionClassifier(**{**model.__dict__, "none_bias": bias})
    val_mentions = direction_mentions([d.text for d in docs if d.split == "val"], taxonomy)
    bonus = choose_term_bonus(model, val_x, val_mentions, val_y)
    meta = {**meta, "C": c, "none_bias_rule": "best validation macro-F1 with >= 95 % of "
            "validation off-topic documents unmapped", "term_bonus_rule": "the same, after "
            "the none bias"}
    if refit:
        # C and the bias are settled on validation; the final model then also learns from
        # the validation documents (Chinese examples are few). The test split stays unseen.
        model = fit(np.vstack([train_x, val_x]), [*train_y, *val_y], c, tracks.vectors,
                    encoder.name, taxonomy.version, meta)
        meta = {**meta, "n_train": len(train_y) + len(val_y), "fitted_on": "train+val"}
    return DirectionClassifier(**{**model.__dict__, "none_bias": bias, "term_bonus": bonus,
                                  "meta": meta})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.direction_model",
                                     description="Train the direction classifier artefact.")
    parser.add_argument("--shared", default=None, help="the shared data folder (../shared)")
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--taxonomy", default="v1")
    parser.add_argument("--refit", action="store_true",
                        help="after choosing C and the bias, refit on train+validation (measured "
                             "no better; not the shipped artefact)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # a multi-threaded BLAS crawls on a busy shared machine
    model = train(args.shared, args.encoder, args.taxonomy, refit=args.refit)
    path = artefact_path(model.encoder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} (C={model.meta['C']}, none bias {model.none_bias:g}, "
          f"term bonus {model.term_bonus:g})")


if __name__ == "__main__":
    main()

"""The direction classifier: logistic regression on encoder vectors and zero-shot track similarity,
plus a lexical block over the document's words.

Seven classes, the six directions and "none" (learned from real off-topic documents). Features
are the document's unit vector, its cosine similarity to every taxonomy track and six flags
saying whether it names an EN or ZH term of each direction, standardised. With the document's
text, a TF-IDF model of its words and Chinese characters (models/direction_lexical.py) adds its
log-probabilities, times a weight, to the vector model's logits; without text (a bare vector)
the vector model decides alone. Training uses the
train split of `data/direction_train/labels.jsonl` plus each track's own EN and ZH text (so a
track without examples still pulls its direction); the regularisation of both models and the
lexical weight are chosen by cross-validation on the train split, the bias of the none class on
the validation split (models/direction_select.py). The artefact is plain JSON (no pickle)
under `models/direction_classifier/`, with the hash of the labels file it was trained on.
`python -m models.direction_model` retrains it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from models.direction_lexical import LexicalModel, fit_lexical
from models.direction_select import (
    BLEND_WEIGHT_GRID,
    C_GRID,
    LEXICAL_C_GRID,
    NONE_BIAS_GRID,
    TERM_BONUS_GRID,
    choose_c,
    choose_setting,
    choose_weight,
    cross_val_scores,
    sample_weights,
)
from models.direction_vectors import cached_vectors
from models.embed import DEFAULT_ENCODER, build_encoder
from models.taxonomy import DIRECTION_IDS, Taxonomy, load_taxonomy
from pipeline.errors import InputError

NONE = "none"
CLASSES = (*DIRECTION_IDS, NONE)
ARTEFACT_DIR = Path(__file__).parent / "direction_classifier"
Mentions = NDArray[np.bool_] | NDArray[np.float64]
Scores = NDArray[np.float64]


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
    # The six direction-mention flags are features too. Without texts they are unknown, not
    # "names nothing": they take the training mean (0 once standardised), so a bare vector is
    # judged by the vector alone.
    mention_features: bool = False
    # The lexical block (None: vectors only). Its log-probabilities, times its weight, are
    # added to the logits of rows that come with text.
    lexical: LexicalModel | None = None

    def lexical_scores(self, texts: Sequence[str] | None) -> NDArray[np.float64] | None:
        """The lexical block's class log-probabilities of `texts` (None without block or texts)."""
        if self.lexical is None or texts is None:
            return None
        return self.lexical.log_probabilities(texts)

    def features(
        self, vectors: NDArray[np.float32], mentions: Mentions | None = None
    ) -> NDArray[np.float64]:
        if self.mention_features and mentions is None:
            mentions = np.tile(self.mean[-len(DIRECTION_IDS) :], (len(vectors), 1))
        return (
            raw_features(vectors, self.track_vectors, mentions if self.mention_features else None)
            - self.mean
        ) / self.scale

    def probabilities(
        self,
        vectors: NDArray[np.float32],
        mentions: Mentions | None = None,
        lexical: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """One row of class probabilities (CLASSES order) per row of `vectors`; `mentions`
        (rows x six directions) marks documents naming a direction's terms; `lexical` holds
        the rows' lexical log-probabilities (`lexical_scores`)."""
        vectors = np.atleast_2d(vectors)
        logits = self.features(vectors, mentions) @ self.coef.T + self.intercept
        if lexical is not None and self.lexical is not None:
            logits = logits + self.lexical.weight * lexical
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

        return json.dumps(
            {
                "encoder": self.encoder,
                "taxonomy_version": self.taxonomy_version,
                "classes": list(CLASSES),
                "none_bias": self.none_bias,
                "term_bonus": self.term_bonus,
                "mention_features": self.mention_features,
                "meta": self.meta,
                "mean": rounded(self.mean),
                "scale": rounded(self.scale),
                "intercept": rounded(self.intercept),
                "coef": rounded(self.coef),
                **({"lexical": self.lexical.to_dict()} if self.lexical is not None else {}),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def load_classifier(
    encoder_name: str,
    taxonomy: Taxonomy,
    track_vectors: NDArray[np.float32],
    path: Path | None = None,
) -> DirectionClassifier | None:
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
    with_mentions = bool(data.get("mention_features", False))
    columns = track_vectors.shape[1] + len(track_vectors) + with_mentions * len(DIRECTION_IDS)
    if coef.shape != (len(CLASSES), columns):
        raise InputError(
            f"{source}: field 'coef': shape {coef.shape} does not fit "
            f"{len(track_vectors)} tracks of dimension {track_vectors.shape[1]}"
        )
    lexical = data.get("lexical")
    if lexical is not None and not isinstance(lexical, dict):
        raise InputError(f"{source}: field 'lexical': expected an object")
    return DirectionClassifier(
        encoder=encoder_name,
        taxonomy_version=taxonomy.version,
        track_vectors=track_vectors,
        mean=np.asarray(data["mean"], np.float64),
        scale=np.asarray(data["scale"], np.float64),
        coef=coef,
        intercept=np.asarray(data["intercept"], np.float64),
        none_bias=float(data["none_bias"]),
        meta=dict(data.get("meta", {})),
        term_bonus=float(data.get("term_bonus", 0.0)),
        mention_features=with_mentions,
        lexical=LexicalModel.from_dict(lexical, len(CLASSES)) if lexical is not None else None,
    )


def raw_features(
    vectors: NDArray[np.float32],
    track_vectors: NDArray[np.float32],
    mentions: Mentions | None = None,
) -> NDArray[np.float64]:
    """[vector, cosine to each track, mention flags when given], before standardising."""
    parts = [vectors, vectors @ track_vectors.T]
    if mentions is not None:
        parts.append(np.asarray(mentions, dtype=np.float32))
    return np.hstack(parts).astype(np.float64)


def fit(
    features: NDArray[np.float32],
    labels: Sequence[str],
    c: float,
    track_vectors: NDArray[np.float32],
    encoder: str,
    taxonomy_version: str,
    meta: dict[str, object],
    mentions: Mentions | None = None,
    weights: NDArray[np.float64] | None = None,
) -> DirectionClassifier:
    """Standardise and fit a multinomial logistic regression (fixed seed), class-balanced
    unless `weights` are given; with `mentions` the mention flags are features."""
    from sklearn.linear_model import LogisticRegression

    raw = raw_features(features, track_vectors, mentions)
    mean, scale = raw.mean(axis=0), raw.std(axis=0) + 1e-6
    model = LogisticRegression(
        C=c, class_weight=None if weights is not None else "balanced", max_iter=2000, random_state=0
    )
    model.fit(
        (raw - mean) / scale, [CLASSES.index(label) for label in labels], sample_weight=weights
    )
    order = [list(model.classes_).index(i) for i in range(len(CLASSES))]
    return DirectionClassifier(
        encoder,
        taxonomy_version,
        track_vectors,
        mean,
        scale,
        model.coef_[order],
        model.intercept_[order],
        0.0,
        meta,
        mention_features=mentions is not None,
    )


def predict_labels(
    classifier: DirectionClassifier,
    vectors: NDArray[np.float32],
    mentions: Mentions | None = None,
    texts: Sequence[str] | None = None,
    lexical: NDArray[np.float64] | None = None,
) -> list[str]:
    """The argmax class of each row; the lexical block reads `texts` (or takes `lexical`,
    its scores computed once)."""
    if lexical is None:
        lexical = classifier.lexical_scores(texts)
    return [CLASSES[i] for i in classifier.probabilities(vectors, mentions, lexical).argmax(axis=1)]


def choose_term_bonus(
    classifier: DirectionClassifier,
    vectors: NDArray[np.float32],
    mentions: Mentions,
    gold: Sequence[str],
    langs: Sequence[str] | None = None,
    lexical: NDArray[np.float64] | None = None,
) -> float:
    """The term bonus by validation (models.direction_select.choose_setting)."""

    def predict(bonus: float) -> list[str]:
        trial = DirectionClassifier(**{**classifier.__dict__, "term_bonus": bonus})
        return predict_labels(trial, vectors, mentions, lexical=lexical)

    return choose_setting(predict, gold, langs or ["en"] * len(gold), TERM_BONUS_GRID, "term bonus")


def choose_none_bias(
    classifier: DirectionClassifier,
    vectors: NDArray[np.float32],
    gold: Sequence[str],
    langs: Sequence[str] | None = None,
    mentions: Mentions | None = None,
    lexical: NDArray[np.float64] | None = None,
) -> float:
    """The none bias by validation (models.direction_select.choose_setting)."""

    def predict(bias: float) -> list[str]:
        trial = DirectionClassifier(**{**classifier.__dict__, "none_bias": bias})
        return predict_labels(trial, vectors, mentions, lexical=lexical)

    return choose_setting(predict, gold, langs or ["en"] * len(gold), NONE_BIAS_GRID, "none bias")


def _track_examples(taxonomy: Taxonomy) -> tuple[list[str], list[str]]:
    """Each track's own EN and ZH texts, names and terms as short examples of its direction:
    the only Chinese examples of some tracks, and the seeds' wording for tracks no source
    codes. Without short ones a bare title drifted to whatever class had the shortest texts
    (the lens_covid patent titles, health)."""
    texts, labels = [], []
    for track in taxonomy.tracks:
        own = [*track.texts(), track.name_en, track.name_zh, *track.terms_en, *track.terms_zh]
        texts += own
        labels += [track.direction] * len(own)
    return texts, labels


def train(
    shared: str | None, encoder_spec: str = DEFAULT_ENCODER, taxonomy_name: str = "v1"
) -> DirectionClassifier:
    """Embed the labelled set; C by cross-validation on the train split, the none bias and
    the term bonus on validation; fit on the train split (and the tracks' own texts)."""
    from models.direction_data import LABELS_FILE, find_shared, labels_hash, load_labelled
    from models.directions import direction_mentions, embed_taxonomy

    encoder = build_encoder(encoder_spec)
    taxonomy = load_taxonomy(taxonomy_name)
    tracks = embed_taxonomy(taxonomy, encoder, with_classifier=False)
    docs = load_labelled(find_shared(shared))
    track_texts, track_labels = _track_examples(taxonomy)
    train_docs = [d for d in docs if d.split == "train"]
    val_docs = [d for d in docs if d.split == "val"]
    x = np.vstack(
        [
            cached_vectors([d.text for d in train_docs], encoder),
            cached_vectors(track_texts, encoder),
        ]
    )
    texts = [*(d.text for d in train_docs), *track_texts]
    mentions = direction_mentions(texts, taxonomy)
    y = [*(d.label for d in train_docs), *track_labels]
    langs = [*(d.lang for d in train_docs), *["track"] * len(track_labels)]
    meta: dict[str, object] = {
        "labels_file": "data/direction_train/labels.jsonl",
        "labels_sha256": labels_hash(LABELS_FILE),
        "n_train": len(y),
        "n_val": len(val_docs),
        "seed": 0,
        "features": "unit vector + cosine to each track + direction-mention flags, standardised",
        "weights": "class-balanced, languages within a class balanced by sqrt",
    }
    model = fit_selected(
        x,
        texts,
        mentions,
        y,
        langs,
        len(train_docs),
        tracks.vectors,
        encoder.name,
        taxonomy.version,
        meta,
    )
    val_texts = [d.text for d in val_docs]
    val_x = cached_vectors(val_texts, encoder)
    val_y, val_langs = [d.label for d in val_docs], [d.lang for d in val_docs]
    val_mentions = direction_mentions(val_texts, taxonomy)
    val_lexical = model.lexical_scores(val_texts)
    bias = choose_none_bias(model, val_x, val_y, val_langs, val_mentions, val_lexical)
    model = DirectionClassifier(**{**model.__dict__, "none_bias": bias})
    bonus = choose_term_bonus(model, val_x, val_mentions, val_y, val_langs, val_lexical)
    meta = {
        **model.meta,
        "none_bias_rule": "best validation bilingual macro-F1 with >= 95 % of validation "
        "off-topic documents unmapped",
        "term_bonus_rule": "the same, after the none bias",
    }
    return DirectionClassifier(
        **{**model.__dict__, "none_bias": bias, "term_bonus": bonus, "meta": meta}
    )


def fit_selected(
    x: NDArray[np.float32],
    texts: Sequence[str],
    mentions: Mentions,
    y: Sequence[str],
    langs: Sequence[str],
    n_docs: int,
    track_vectors: NDArray[np.float32],
    encoder: str,
    taxonomy_version: str,
    meta: dict[str, object],
    c_grid: Sequence[float] = C_GRID,
    lexical_c_grid: Sequence[float] = LEXICAL_C_GRID,
    weight_grid: Sequence[float] = BLEND_WEIGHT_GRID,
) -> DirectionClassifier:
    """Both models fitted on all rows, their settings chosen by cross-validation over the
    first `n_docs` rows (the rest, the tracks' own examples, are in every fold's training part
    and never scored): the vector model's C, the lexical model's C, then the weight of the
    lexical log-probabilities in the sum, each by the bilingual macro-F1 of the out-of-fold
    predictions. An empty `lexical_c_grid` gives the vector model alone."""
    n_rows = len(y)
    codes = [CLASSES.index(label) for label in y]

    def weights_of(rows: NDArray[np.int64]) -> NDArray[np.float64]:
        return sample_weights([y[i] for i in rows], [langs[i] for i in rows])

    def with_tracks(rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.concatenate([rows, np.arange(n_docs, n_rows)])

    def vector_model(c: float, rows: NDArray[np.int64]) -> DirectionClassifier:
        return fit(
            x[rows],
            [y[i] for i in rows],
            c,
            track_vectors,
            encoder,
            taxonomy_version,
            meta,
            mentions[rows],
            weights_of(rows),
        )

    def lexical_model(c: float, rows: NDArray[np.int64]) -> LexicalModel:
        return fit_lexical(
            [texts[i] for i in rows], [codes[i] for i in rows], len(CLASSES), c, weights_of(rows)
        )

    def vector_scores(c: float, rows: NDArray[np.int64], held: NDArray[np.int64]) -> Scores:
        model = vector_model(c, with_tracks(rows))
        return np.log(model.probabilities(x[held], mentions[held]) + 1e-12)

    def lexical_scores(c: float, rows: NDArray[np.int64], held: NDArray[np.int64]) -> Scores:
        return lexical_model(c, with_tracks(rows)).log_probabilities([texts[i] for i in held])

    gold, gold_langs = y[:n_docs], langs[:n_docs]
    c = choose_c(vector_scores, gold, gold_langs, c_grid, CLASSES, "vector")
    model = vector_model(c, np.arange(n_rows))
    chosen: dict[str, object] = {
        "C": c,
        "C_rule": "best 5-fold bilingual macro-F1 on the train split",
    }
    if lexical_c_grid:
        lexical_c = choose_c(lexical_scores, gold, gold_langs, lexical_c_grid, CLASSES, "lexical")
        weight = choose_weight(
            cross_val_scores(lambda r, h: vector_scores(c, r, h), gold, gold_langs),
            cross_val_scores(lambda r, h: lexical_scores(lexical_c, r, h), gold, gold_langs),
            gold,
            gold_langs,
            CLASSES,
            weight_grid,
        )
        if weight:
            lexical = lexical_model(lexical_c, np.arange(n_rows))
            model = DirectionClassifier(
                **{
                    **model.__dict__,
                    "lexical": LexicalModel(**{**lexical.__dict__, "weight": weight}),
                }
            )
        chosen |= {
            "lexical_C": lexical_c,
            "lexical_weight": weight,
            "lexical_rule": "lexical C, then its weight, by 5-fold bilingual macro-F1 on the "
            "train split (weight 0: no lexical block)",
            "lexical_features": "TF-IDF of English words and word bigrams, Chinese characters and "
            "character bigrams",
        }
    return DirectionClassifier(**{**model.__dict__, "meta": {**meta, **chosen}})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.direction_model",
        description="Train the direction classifier artefact.",
    )
    parser.add_argument("--shared", default=None, help="the shared data folder (../shared)")
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--taxonomy", default="v1")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # a multi-threaded BLAS crawls on a busy shared machine
    model = train(args.shared, args.encoder, args.taxonomy)
    path = artefact_path(model.encoder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(
        f"wrote {path} (C={model.meta['C']}, none bias {model.none_bias:g}, "
        f"term bonus {model.term_bonus:g})"
    )


if __name__ == "__main__":
    main()
